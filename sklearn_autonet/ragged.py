"""Collections of signals of different lengths: reading them, storing them, cutting batches from them.

A user passes variable-length signals as aeon does: a list (or a 1-D object
array) of ``(leads, length_i)`` arrays.  :func:`read_records` checks such a
collection and stores it as one :class:`RaggedSignals`: every record's
samples end to end in one ``(leads, total_length)`` float32 array plus the
records' lengths, so memory is that of the data, never that of the
collection padded to its longest record.

From it the training draws fixed-length crops (:meth:`RaggedSignals.crops`,
one per record of a mini-batch, at random offsets), and validation and
prediction read whole records, zero-padded to the longest record of a batch
of similar lengths (:meth:`RaggedSignals.padded`, :func:`length_sorted_batches`);
the network masks the padding (:mod:`sklearn_autonet.modules`), so it never
changes a prediction.
"""

from __future__ import annotations

import numpy as np
import torch

from .input_checks import as_float32

__all__ = [
    "RaggedSignals", "inference_batches", "is_record_list", "length_sorted_batches", "read_records",
    "receptive_field", "records_from_array",
]


def is_record_list(X):
    """Whether ``X`` is meant as a collection of signal records of different lengths.

    True for a list, tuple or 1-D object array holding at least one NumPy
    array of two or more dimensions whose shapes are not all the same
    (a list of same-shape arrays is an ordinary 3-D array).  An empty list or
    object array is also a (bad) collection, so that it gets its own error.
    """
    if isinstance(X, np.ndarray):
        if X.dtype != object or X.ndim != 1:
            return False
    elif not isinstance(X, (list, tuple)):
        return False
    if len(X) == 0:
        return isinstance(X, np.ndarray)
    arrays = [r for r in X if isinstance(r, np.ndarray)]
    if not any(r.ndim >= 2 for r in arrays):
        return False
    return isinstance(X, np.ndarray) or len({np.shape(r) for r in X if hasattr(r, "__len__")}) > 1


def read_records(X, name="X"):
    """Check a collection of ``(leads, length_i)`` records and store it as :class:`RaggedSignals`.

    Parameters
    ----------
    X : list, tuple or 1-D object ndarray of ndarray
        One 2-D array ``(leads, length_i)`` per record, all with the same
        number of leads.
    name : str, default="X"
        Name used in the messages.

    Returns
    -------
    RaggedSignals

    Raises
    ------
    ValueError
        An empty collection, a record that is not a 2-D numeric array (a 3-D
        array in the list, a scalar), records with different numbers of
        leads, a record of length 0, or non-finite values; the message names
        the first offending record and says what to pass instead.
    """
    if len(X) == 0:
        raise ValueError(f"{name} is an empty collection of records; pass one (leads, length) array per record.")
    records = []
    for i, record in enumerate(X):
        array = np.asarray(record) if not isinstance(record, np.ndarray) else record
        if array.ndim != 2:
            ndims = sorted({np.ndim(r) for r in X})
            raise ValueError(
                f"{name} is a list of records, so each must be a 2-D array (leads, length); record {i} has "
                f"shape {array.shape} (the records have {' and '.join(map(str, ndims))} dimensions). Pass "
                "single records as (leads, length), e.g. record[np.newaxis, :] for one lead, or a 3-D array "
                "(n_samples, leads, length) of equal-length signals."
            )
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool) or np.iscomplexobj(array):
            raise ValueError(f"record {i} of {name} has dtype {array.dtype}; records must hold real numbers.")
        records.append(array)
    leads = [r.shape[0] for r in records]
    if len(set(leads)) > 1:
        first = leads[0]
        odd = next(i for i, n in enumerate(leads) if n != first)
        raise ValueError(
            f"The records of {name} have different numbers of leads: record 0 has {first}, record {odd} has "
            f"{leads[odd]} (counts found: {sorted(set(leads))}). Every record needs the same leads, in the "
            "same order; select them, e.g. [r[:n] for r in X]."
        )
    lengths = np.array([r.shape[1] for r in records], dtype=np.int64)
    if (lengths == 0).any():
        raise ValueError(f"record {int(np.argmax(lengths == 0))} of {name} has length 0; drop empty records.")
    for i, r in enumerate(records):
        bad = ~np.isfinite(r.astype(np.float64, copy=False))
        if bad.any():
            raise ValueError(
                f"record {i} of {name} holds {int(bad.sum())} non-finite value(s) (NaN or infinity); "
                "fill or drop them (e.g. interpolate over the gap) before fitting or predicting."
            )
    values = np.concatenate([as_float32(r, f"record {i} of {name}") for i, r in enumerate(records)], axis=1)
    return RaggedSignals(np.ascontiguousarray(values), lengths)


def records_from_array(X):
    """A 3-D array ``(n, leads, length)`` as a :class:`RaggedSignals` of equal-length records."""
    n, leads, length = X.shape
    values = np.ascontiguousarray(np.asarray(X, dtype=np.float32).transpose(1, 0, 2).reshape(leads, n * length))
    return RaggedSignals(values, np.full(n, length, dtype=np.int64))


class RaggedSignals:
    """Signal records of one lead count and different lengths, stored end to end.

    Parameters
    ----------
    values : ndarray or tensor of shape (leads, total_length)
        The records' samples, record after record.
    lengths : array-like of int
        Each record's length; they sum to ``total_length``.

    Attributes
    ----------
    n_leads : int
    lengths : ndarray of int64
    offsets : ndarray of int64
        Where each record starts in ``values``.

    Examples
    --------
    >>> import numpy as np
    >>> X = read_records([np.ones((2, 5)), np.zeros((2, 3))])
    >>> len(X), X.n_leads, X.lengths.tolist()
    (2, 2, [5, 3])
    >>> batch, lengths = X.padded(np.array([1, 0]))
    >>> tuple(batch.shape), lengths.tolist()
    ((2, 2, 5), [3, 5])
    """

    def __init__(self, values, lengths):
        self.values = values
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)

    def __len__(self):
        return len(self.lengths)

    def __repr__(self):
        return f"RaggedSignals({len(self)} records, {self.n_leads} lead(s), lengths {self.min_length}-{self.max_length})"

    @property
    def n_leads(self):
        """Leads of every record."""
        return int(self.values.shape[0])

    @property
    def min_length(self):
        """The shortest record's length."""
        return int(self.lengths.min()) if len(self) else 0

    @property
    def max_length(self):
        """The longest record's length."""
        return int(self.lengths.max()) if len(self) else 0

    @property
    def nbytes(self):
        """Bytes of the stored samples."""
        return int(self.values.element_size() * self.values.nelement()) if torch.is_tensor(self.values) \
            else int(self.values.nbytes)

    def parts(self):
        """``{"values": ..., "lengths": ...}`` as NumPy arrays (e.g. to fingerprint the data)."""
        values = self.values.cpu().numpy() if torch.is_tensor(self.values) else self.values
        return {"values": values, "lengths": self.lengths}

    def __getitem__(self, index):
        """The records at ``index`` (an integer array, boolean mask or slice), copied into a new collection."""
        index = np.arange(len(self))[index]
        if index.ndim != 1:
            raise IndexError("RaggedSignals takes a 1-D index array or a slice.")
        positions = _record_positions(self.offsets[index], self.lengths[index])
        values = self.values[:, torch.as_tensor(positions)] if torch.is_tensor(self.values) else self.values[:, positions]
        return RaggedSignals(values, self.lengths[index])

    def to(self, device):
        """The collection with its samples as a tensor on ``device``."""
        return RaggedSignals(torch.as_tensor(self.values).to(device), self.lengths)

    def crops(self, index, length, generator=None):
        """One crop of ``length`` samples from each record at ``index``, at a random offset.

        Parameters
        ----------
        index : ndarray of int
        length : int
            Crop length; at most the shortest of these records.
        generator : torch.Generator or None
            Draws the offsets (uniform over each record's possible starts).

        Returns
        -------
        tensor of shape (len(index), leads, length)
            On the device of ``values``.
        """
        index = np.asarray(index, dtype=np.int64)
        room = self.lengths[index] - int(length) + 1
        if (room < 1).any():
            raise ValueError(f"a crop of {length} samples does not fit a record of {self.lengths[index].min()}.")
        starts = (torch.rand(len(index), generator=generator, dtype=torch.float64).numpy() * room).astype(np.int64)
        positions = (self.offsets[index] + starts)[:, None] + np.arange(int(length))
        values = torch.as_tensor(self.values)
        return values[:, torch.as_tensor(positions, device=values.device)].permute(1, 0, 2).contiguous()

    def padded(self, index):
        """The whole records at ``index``, zero-padded to the longest of them, and their lengths.

        Returns
        -------
        batch : tensor of shape (len(index), leads, max length)
        lengths : tensor of int64 of shape (len(index),)
        """
        index = np.asarray(index, dtype=np.int64)
        lengths = self.lengths[index]
        steps = np.arange(int(lengths.max()))
        positions = self.offsets[index][:, None] + np.minimum(steps, lengths[:, None] - 1)
        values = torch.as_tensor(self.values)
        device = values.device
        batch = values[:, torch.as_tensor(positions, device=device)].permute(1, 0, 2)
        inside = torch.as_tensor(steps[None, :] < lengths[:, None], device=device)
        batch = batch * inside[:, None, :].to(batch.dtype)
        return batch.contiguous(), torch.as_tensor(lengths, device=device)


def _record_positions(offsets, lengths):
    """The positions in the end-to-end storage of the records starting at ``offsets``."""
    if len(lengths) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(offsets - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(int(lengths.sum()), dtype=np.int64) + starts


def length_sorted_batches(lengths, batch_size):
    """Indices of the records in batches of similar length (sorted by length, stable).

    Padding each batch to its longest record then costs little; the caller
    puts each batch's results back at its indices.
    """
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def receptive_field(spec):
    """Samples of input that one position after the last conv block depends on.

    Each block is a conv of kernel ``k`` (stride ``s``, 1 when the spec has
    none) and a max-pool by 2; the receptive field grows by ``(k - 1)`` then
    by 1 input step of that depth, and the step doubles (times ``s``).

    Examples
    --------
    >>> from sklearn_autonet.hyperparameters import DataProperties, network_spec
    >>> spec = network_spec(DataProperties(100, "signal", (1, 256), 2, sampling_rate=360), 2, 4)
    >>> [layer.kernel_size for layer in spec.hidden], receptive_field(spec)
    ([37, 5], 48)
    """
    field, step = 1, 1
    for layer in spec.hidden:
        stride = int(getattr(layer, "stride", 1) or 1)
        field += (layer.kernel_size - 1) * step
        step *= stride
        field += step
        step *= 2
    return field


def inference_batches(X, batch_size):
    """``(rows, inputs)`` for each batch of a forward pass over ``X`` (predict time).

    For an array, consecutive slices, ``inputs = {"X": tensor}``.  For
    :class:`RaggedSignals`, batches of similar length
    (:func:`length_sorted_batches`), ``inputs = {"X": zero-padded tensor,
    "lengths": tensor}``; ``rows`` says where each batch's results go.
    """
    if isinstance(X, RaggedSignals):
        for index in length_sorted_batches(X.lengths, batch_size):
            batch, lengths = X.padded(index)
            yield index, {"X": batch, "lengths": lengths}
        return
    for start in range(0, len(X), batch_size):
        yield slice(start, start + batch_size), {"X": torch.as_tensor(X[start : start + batch_size])}
