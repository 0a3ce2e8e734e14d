"""skorch iterators for variable-length signals: random crops to train on, whole records to validate on.

A variable-length model (:class:`~sklearn_autonet.ragged.RaggedSignals` input)
trains on one fixed-length crop per record and mini-batch: :class:`CropLoader`
orders the records as :class:`~sklearn_autonet.batches.WholeBatchLoader`
does (seeded shuffle, passes, dropped last batch) and draws each crop's
offset from the same seeded generator, so a fit under an int
``random_state`` is deterministic.  Crops are augmentation: the search still
counts each record once (``N_fit`` is the number of training records).

:class:`RecordLoader` (skorch's ``iterator_valid``: the validation loss and
every ``predict_proba`` of the skorch net) keeps the given order and passes
whole records, zero-padded to the longest of each batch, with their lengths;
the network masks the padding (:meth:`~sklearn_autonet.modules.LCNNetwork.features`).
"""

from __future__ import annotations

import numpy as np
import torch

from .ragged import RaggedSignals
from .batches import WholeBatchLoader

__all__ = ["CropLoader", "RecordLoader"]


def _split(dataset):
    """``(records, other inputs)`` of a skorch dataset whose X is records or ``{"X": records, ...}``."""
    X = dataset.X
    if isinstance(X, dict):
        return X["X"], {k: v for k, v in X.items() if k != "X"}
    return X, {}


def _take(values, index):
    if values is None:
        return None
    return values[torch.as_tensor(index, device=values.device)] if torch.is_tensor(values) else values[index]


def _records(dataset):
    records, _ = _split(dataset)
    if not isinstance(records, RaggedSignals):
        raise TypeError(
            f"a variable-length network reads RaggedSignals, got {type(records).__name__}; "
            "read the input with the estimator's layout_."
        )
    return records


class CropLoader:
    """Mini-batches of one random ``crop_length`` crop per record (skorch's ``iterator_train``).

    Parameters
    ----------
    dataset : skorch Dataset
        Its X is a :class:`RaggedSignals` or ``{"X": RaggedSignals, "sample_weight": ...}``.
    batch_size, shuffle, generator, drop_last, passes
        As for :class:`~sklearn_autonet.batches.WholeBatchLoader`.
    crop_length : int
        Samples per crop; at most the shortest training record.
    transform : callable or None, default=None
        Applied to each batch of crops, as in ``WholeBatchLoader`` (the
        signal augmentation of :mod:`sklearn_autonet.augmentation`).
    """

    def __init__(self, dataset, batch_size=128, shuffle=False, generator=None, drop_last=False, passes=1,
                 crop_length=None, transform=None):
        self.order = WholeBatchLoader(dataset, batch_size, shuffle, generator, drop_last, passes)
        self.dataset = dataset
        self.generator = generator
        self.crop_length = crop_length
        self.transform = transform

    def __len__(self):
        return len(self.order)

    def __iter__(self):
        records = _records(self.dataset)
        _, others = _split(self.dataset)
        length = records.min_length if self.crop_length is None else int(self.crop_length)
        for index in self.order.index_batches():
            X = {"X": records.crops(index, length, self.generator)}
            X.update({k: _take(v, index) for k, v in others.items()})
            batch = self.dataset.transform(X, _take(self.dataset.y, index))
            yield batch if self.transform is None else self.transform(batch)


class RecordLoader:
    """Batches of whole records in the given order, zero-padded, with their lengths (skorch's ``iterator_valid``).

    Parameters
    ----------
    dataset : skorch Dataset
        As for :class:`CropLoader`.
    batch_size : int
    **kwargs
        Ignored (skorch passes the ``iterator_valid__`` options).
    """

    def __init__(self, dataset, batch_size=128, **kwargs):  # noqa: ARG002 - see the docstring
        self.dataset = dataset
        self.batch_size = batch_size

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self):
        records = _records(self.dataset)
        _, others = _split(self.dataset)
        for start in range(0, len(records), self.batch_size):
            index = np.arange(start, min(start + self.batch_size, len(records)))
            batch, lengths = records.padded(index)
            X = {"X": batch, "lengths": lengths}
            X.update({k: _take(v, index) for k, v in others.items()})
            yield self.dataset.transform(X, _take(self.dataset.y, index))
