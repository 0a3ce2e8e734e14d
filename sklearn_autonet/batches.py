"""The training and validation iterator: mini-batches cut from the whole dataset by index.

:mod:`sklearn_autonet.training` gives it to skorch as ``iterator_train`` and
``iterator_valid``; :mod:`sklearn_autonet.crops` orders variable-length records
with it.
"""

from __future__ import annotations

import torch

__all__ = ["WholeBatchLoader"]


class WholeBatchLoader:
    """Mini-batches cut from the whole dataset by index, without per-sample collation.

    A drop-in for skorch's ``iterator_train`` / ``iterator_valid``: it indexes
    the skorch ``Dataset`` with one index array per batch, so arrays (or
    tensors already on the device) are sliced once per batch.  With
    ``passes > 1`` one epoch goes over the data that many times (each pass in
    a fresh order): on tiny data an epoch of one or two mini-batches is then
    still enough optimizer steps to be worth a validation pass and skorch's
    per-epoch bookkeeping.  ``transform`` (a callable on one batch
    ``(Xi, yi)``, e.g. :class:`~sklearn_autonet.augmentation.BatchAugmenter`)
    changes every batch it yields; only the training iterator is given one.
    """

    def __init__(self, dataset, batch_size=128, shuffle=False, generator=None, drop_last=False, passes=1,
                 transform=None):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.drop_last = drop_last
        self.passes = passes
        self.transform = transform

    def _batches_per_pass(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __len__(self):
        return self._batches_per_pass() * self.passes

    def index_batches(self):
        """The index array of each mini-batch, in order (what :meth:`__iter__` slices)."""
        n = len(self.dataset)
        for _ in range(self.passes):
            order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
            order = order.numpy()
            for start in range(0, self._batches_per_pass() * self.batch_size, self.batch_size):
                yield order[start : start + self.batch_size]

    def __iter__(self):
        for index in self.index_batches():
            batch = self.dataset[index]
            yield batch if self.transform is None else self.transform(batch)
