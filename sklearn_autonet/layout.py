"""How ``X`` is read into the network's input: tabular, signal, or signal plus side features.

One :class:`InputLayout` is fixed at ``fit`` from the estimator's ``input_kind``
and ``signal_shape`` and the training array, and is then the only place that
knows the layout: it reads ``X`` at fit and predict time (with the checks and
messages of each layout), tells the hyperparameters what the network's input
is, gives the ONNX exporter the shape of one input row, and is saved with the
model.  Four layouts exist:

* ``"tabular"``: 2-D ``(n, n_features)``, dense blocks;
* ``"signal"``: 3-D ``(n, leads, length)`` (2-D input read as one lead under
  ``input_kind="signal"``), conv blocks;
* ``"signal"`` with ``flat=True``: 2-D rows of ``leads * length`` signal values
  followed by ``n_side >= 0`` side features (``signal_shape``); the network
  splits the row itself.

* ``"signal"`` with ``variable=True``: a list (or 1-D object array) of
  ``(leads, length_i)`` records of different lengths (aeon's convention),
  read into a :class:`~sklearn_autonet.ragged.RaggedSignals`; ``shape`` is
  ``(leads, crop length)``, the length of the random crops the network
  trains on (:mod:`sklearn_autonet.crops`), while validation and prediction
  read whole records.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import warnings

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import validate_data

from .input_checks import as_float32, check_not_ragged
from .modules import network_members
from .ragged import is_record_list, read_records, receptive_field, records_from_array

#: The input kinds a layout (and a network spec) can have.
TABULAR, SIGNAL = "tabular", "signal"
INPUT_KINDS = (TABULAR, SIGNAL)
#: 2-D input of this many columns or more, read as a table under ``input_kind="auto"``,
#: gets a warning that it may be a signal.
SIGNAL_LIKE_COLUMNS = 100
#: What the estimator's ``input_kind`` parameter accepts.
INPUT_KIND_OPTIONS = ("auto", TABULAR, SIGNAL)
_FLOATS = (np.float32, np.float64)
#: Shortest training crop of variable-length records.
MIN_CROP = 4


@dataclass(frozen=True)
class InputLayout:
    """The layout of the input the estimator was fitted on.

    Parameters
    ----------
    kind : {"tabular", "signal"}
        What the network reads.
    shape : tuple of int
        ``(n_features,)`` for tabular input, ``(leads, length)`` for signals.
    n_side : int, default=0
        Side features after the signal values of each flat row.
    flat : bool, default=False
        Signals come as flat 2-D rows (``signal_shape`` was given).
    variable : bool, default=False
        Signals come as records of different lengths; ``shape[1]`` is then
        the crop length the network trains on.

    Attributes
    ----------
    is_signal : bool
        The network has conv blocks.
    n_signal_values : int
        ``leads * length`` for signals, ``n_features`` for tables.
    row_shape : tuple of int
        Shape of one sample as the network receives it (for export).

    Examples
    --------
    >>> import numpy as np
    >>> layout, X = InputLayout.fit(np.zeros((5, 2, 8)), input_kind="auto")
    >>> layout, X.dtype
    (InputLayout(kind='signal', shape=(2, 8), n_side=0, flat=False, variable=False), dtype('float32'))
    >>> InputLayout.fit(np.zeros((5, 19)), signal_shape=(1, 16))[0].describe()
    'signal 1x16 + 3 side features, as flat rows'
    """

    kind: str
    shape: tuple
    n_side: int = 0
    flat: bool = False
    variable: bool = False

    # ------------------------------------------------------------ building
    @classmethod
    def fit(cls, X, input_kind="auto", signal_shape=None):
        """The layout of a validated training array, and the array as the network reads it.

        Parameters
        ----------
        X : ndarray
            The training input after ``validate_data`` (2-D or 3-D).
        input_kind : {"auto", "tabular", "signal"}, default="auto"
        signal_shape : tuple (leads, length) or None, default=None

        Returns
        -------
        layout : InputLayout
        X : ndarray of float32, C-contiguous

        Raises
        ------
        ValueError
            When ``X`` cannot be read with the requested layout.
        """
        if signal_shape is not None:
            shape = _check_signal_shape(signal_shape, input_kind)
            n_signal = shape[0] * shape[1]
            if X.ndim != 2:
                raise ValueError(
                    f"With signal_shape={shape}, X must be 2-D: {n_signal} signal columns "
                    f"followed by the side features; got an array of shape {X.shape}."
                )
            if X.shape[1] < n_signal:
                raise ValueError(
                    f"signal_shape={shape} needs at least {n_signal} columns "
                    f"(leads * length), but X has {X.shape[1]}."
                )
            layout = cls(SIGNAL, shape, X.shape[1] - n_signal, flat=True)
            return layout, as_float32(X)
        if X.ndim not in (2, 3):
            raise ValueError(
                f"X must be 2-D (n_samples, n_features) or 3-D (n_samples, n_leads, length); "
                f"got an array with {X.ndim} dimensions, shape {X.shape}."
            )
        kind = input_kind
        if kind == "auto":
            kind = SIGNAL if X.ndim == 3 else TABULAR
            if kind == TABULAR and X.shape[1] >= SIGNAL_LIKE_COLUMNS:
                warnings.warn(
                    f"X was read as a table of {X.shape[1]} columns (input_kind='auto' reads 2-D X as "
                    "tabular: dense blocks, each column a feature). If the columns are samples of a "
                    "signal, pass X as (n_samples, n_leads, length), or set input_kind='signal' (one "
                    "lead) or signal_shape=(leads, length); set input_kind='tabular' to keep the table "
                    "and silence this warning.",
                    UserWarning,
                    stacklevel=4,
                )
        if kind == TABULAR and X.ndim == 3:
            raise ValueError(
                f"input_kind='tabular' needs 2-D X (n_samples, n_features); got shape {X.shape}. "
                "Use input_kind='signal' or 'auto' for (n_samples, n_leads, length) signals."
            )
        if kind == SIGNAL and X.ndim == 2:
            X = X[:, np.newaxis, :]
        return cls(kind, tuple(int(s) for s in X.shape[1:])), as_float32(X)

    @classmethod
    def fit_records(cls, X, input_kind="auto", signal_shape=None, crop_length=None, sampling_rate=None):
        """The layout of a training collection of variable-length records, and the records as stored.

        Parameters
        ----------
        X : list, tuple or 1-D object ndarray of (leads, length_i) arrays
        input_kind : {"auto", "signal"}, default="auto"
        signal_shape : None
            Flat rows cannot hold records of different lengths.
        crop_length : float or None, default=None
            Seconds per training crop (needs ``sampling_rate``); None: the
            shortest record, so that every record gives a crop unpadded.
        sampling_rate : float or None, default=None

        Returns
        -------
        layout : InputLayout
        X : RaggedSignals

        Raises
        ------
        ValueError
            Bad records (:func:`~sklearn_autonet.ragged.read_records`), an input
            kind or ``signal_shape`` that cannot read records, or a crop length
            that does not fit every record.
        """
        if input_kind == TABULAR or signal_shape is not None:
            raise ValueError(
                "X is a list of signal records of different lengths, which needs input_kind='auto' or "
                f"'signal' and signal_shape=None; got input_kind={input_kind!r}, signal_shape={signal_shape!r}."
            )
        records = read_records(X)
        shortest = int(np.argmin(records.lengths))
        crop = records.min_length
        if crop_length is not None:
            if sampling_rate is None:
                raise ValueError(
                    f"crop_length={crop_length!r} is in seconds and needs sampling_rate (Hz); pass "
                    "sampling_rate, or crop_length=None to crop to the shortest record."
                )
            crop = int(round(float(crop_length) * float(sampling_rate)))
            if crop > records.min_length:
                raise ValueError(
                    f"crop_length={crop_length} s is {crop} samples at {sampling_rate} Hz, but record "
                    f"{shortest} has only {records.min_length}; use crop_length <= "
                    f"{records.min_length / float(sampling_rate):.4g} s, or drop the shorter records."
                )
        if crop < MIN_CROP:
            where = f"crop_length={crop_length} s gives" if crop_length is not None else f"record {shortest} has"
            raise ValueError(
                f"{where} {crop} sample(s); training crops need at least {MIN_CROP}. Drop the shorter "
                "records or choose a longer crop_length."
            )
        return cls(SIGNAL, (records.n_leads, crop), variable=True), records

    @classmethod
    def from_dict(cls, data):
        """Rebuild a layout from :meth:`to_dict` output.

        Raises
        ------
        ValueError
            When a field is missing or has the wrong type or value.
        """
        if not isinstance(data, dict) or not {"kind", "shape"} <= set(data):
            raise ValueError("an input layout needs the keys 'kind' and 'shape'.")
        kind, shape = data["kind"], data["shape"]
        n_side, flat = data.get("n_side", 0), data.get("flat", False)
        variable = data.get("variable", False)
        if kind not in INPUT_KINDS:
            raise ValueError(f"unknown input kind {kind!r}; expected one of {INPUT_KINDS}.")
        if not isinstance(shape, (list, tuple)) or not all(_positive_int(s) for s in shape):
            raise ValueError(f"input shape must be a list of positive ints, got {shape!r}.")
        if len(shape) != (2 if kind == SIGNAL else 1):
            raise ValueError(f"a {kind} input has {2 if kind == SIGNAL else 1} dimension(s); got shape {shape!r}.")
        if not (_positive_int(n_side) or n_side == 0) or isinstance(n_side, bool):
            raise ValueError(f"n_side must be a non-negative int, got {n_side!r}.")
        if not isinstance(flat, bool) or (n_side and not flat):
            raise ValueError(f"flat must be a bool (true when there are side features), got {flat!r}.")
        if not isinstance(variable, bool) or (variable and (flat or kind != SIGNAL)):
            raise ValueError(f"variable must be a bool (true only for signals not in flat rows), got {variable!r}.")
        return cls(kind, tuple(shape), int(n_side), flat, variable)

    def to_dict(self):
        """The layout as JSON values."""
        data = {"kind": self.kind, "shape": list(self.shape), "n_side": self.n_side, "flat": self.flat}
        if self.variable:  # written only when true, so files of fixed-length models stay as they were
            data["variable"] = True
        return data

    # --------------------------------------------------------------- facts
    @property
    def is_signal(self):
        """Whether the network reads a signal through conv blocks."""
        return self.kind == SIGNAL

    @property
    def n_signal_values(self):
        """Values of one sample's signal (or features)."""
        return int(np.prod(self.shape))

    @property
    def n_features_in(self):
        """What scikit-learn's ``n_features_in_`` is for this layout."""
        if self.flat:
            return self.n_signal_values + self.n_side
        return self.shape[0]

    @property
    def row_shape(self):
        """Shape of one sample as the network receives it."""
        return (self.n_features_in,) if self.flat else tuple(self.shape)

    def describe(self):
        """One line, e.g. ``signal 1x256 + 4 side features, as flat rows``."""
        text = f"{self.kind} " + "x".join(str(s) for s in self.shape)
        if self.flat:
            text += f" + {self.n_side} side features, as flat rows"
        if self.variable:
            text = f"{self.kind} {self.shape[0]} lead(s) x variable length, trained on crops of {self.shape[1]}"
        return text

    @property
    def crop_samples(self):
        """Length of the training crops of a variable-length layout; None otherwise."""
        return int(self.shape[1]) if self.variable else None

    def batch_order(self, X, index):
        """``index`` sorted by record length for a variable-length layout (less padding per batch); else as is."""
        if not self.variable:
            return index
        return index[np.argsort(X.lengths[index], kind="stable")]

    # ------------------------------------------------------------- reading
    def read(self, estimator, X):
        """``X`` checked against this layout and converted for the network (predict time).

        Parameters
        ----------
        estimator : AutoNetLCNClassifier
            The fitted estimator (scikit-learn checks ``n_features_in_`` and
            feature names against it).
        X : array-like

        Returns
        -------
        ndarray of float32, C-contiguous

        Raises
        ------
        ValueError
            When ``X`` does not have the layout seen in ``fit``; the message
            says what was expected.
        """
        name = type(estimator).__name__
        if self.variable:
            return self._read_records(estimator, X, name)
        if is_record_list(X):
            raise ValueError(
                f"X is a list of records of different lengths, but this {name} was fitted on fixed-length "
                f"input {('n_samples',) + self.shape}. Cut or pad every record to {self.shape} and pass one "
                "array, or refit on a list of records (which gives a variable-length model)."
            )
        check_not_ragged(X)
        if self.flat:
            if hasattr(X, "shape"):  # arrays and frames: our message before scikit-learn's
                self._check_flat(X, name)
            X = validate_data(estimator, X, reset=False, dtype=_FLOATS)
            self._check_flat(X, name)
            return as_float32(X)
        shape = getattr(X, "shape", None)
        if self.is_signal and shape is not None and len(shape) == 3 and tuple(shape[1:]) != self.shape:
            raise ValueError(
                f"X has {shape[1]} lead(s) of length {shape[2]}, but this {name} was fitted on "
                f"{self.shape[0]} lead(s) of length {self.shape[-1]}."
            )
        if not self.is_signal and shape is not None and len(shape) > 2:
            raise ValueError(
                f"X must have the layout seen in fit, {('n_samples',) + self.shape}; got shape {tuple(shape)}."
            )
        X = validate_data(estimator, X, reset=False, allow_nd=True, dtype=_FLOATS)
        if X.ndim not in (2, 3) or (X.ndim == 3 and not self.is_signal):
            raise ValueError(
                f"X must have the layout seen in fit, {('n_samples',) + self.shape}; got shape {X.shape}."
            )
        if self.is_signal and X.ndim == 2:
            if self.shape[0] != 1:
                raise ValueError(
                    f"2-D X is read as a single lead, but this estimator was fitted on "
                    f"{self.shape[0]} leads; pass (n_samples, n_leads, length)."
                )
            X = X[:, np.newaxis, :]
        if X.shape[1:] != self.shape:
            raise ValueError(
                f"X has shape {X.shape[1:]} per sample, but this estimator was fitted on {self.shape}."
            )
        return as_float32(X)

    def _read_records(self, estimator, X, name):
        """Records (a list, or an array of equal-length signals) for a variable-length model."""
        if is_record_list(X) or (isinstance(X, (list, tuple)) and len(X) == 0):
            records = read_records(X)
        else:
            check_not_ragged(X)
            X = _check_signal_array(X, name, self.shape[0])
            records = records_from_array(X)
        if records.n_leads != self.shape[0]:
            raise ValueError(
                f"X has {records.n_leads} lead(s) per record, but this {name} was fitted on {self.shape[0]}."
            )
        needed = self.min_record_length(estimator)
        short = np.flatnonzero(records.lengths < needed)
        if len(short):
            raise ValueError(
                f"{len(short)} record(s) of X are shorter than {needed} samples, the least this network reads "
                f"(the shorter of its receptive field and its training crops), e.g. record {int(short[0])} "
                f"of {int(records.lengths[short[0]])}; drop them, or pad them yourself if that suits the data."
            )
        return records

    def min_record_length(self, estimator):
        """The shortest record a fitted variable-length network reads: min(receptive field, crop length)."""
        field = max(receptive_field(member.spec) for member, _ in network_members(estimator.net_.module_))
        return min(field, self.shape[1])

    def _check_flat(self, X, name):
        n_signal = self.n_signal_values
        if X.ndim != 2:
            raise ValueError(
                f"With signal_shape={self.shape}, X must be 2-D: {n_signal} signal columns "
                f"followed by the side features; got an array of shape {X.shape}."
            )
        if X.shape[1] != n_signal + self.n_side:
            raise ValueError(
                f"X has {X.shape[1]} columns, but this {name} was fitted on "
                f"{n_signal + self.n_side}: {n_signal} signal columns (signal_shape="
                f"{self.shape}) followed by {self.n_side} side feature(s)."
            )


def _check_signal_array(X, name, leads):
    """Equal-length signals for a variable-length model: ``(n, leads, length)``, or ``(n, length)`` for one lead."""
    X = check_array(X, allow_nd=True, dtype=_FLOATS)
    if X.ndim == 2 and leads == 1:
        X = X[:, np.newaxis, :]
    if X.ndim != 3:
        raise ValueError(
            f"This {name} was fitted on a list of {leads}-lead records of different lengths; pass such a "
            f"list, or a 3-D array (n_samples, {leads}, length); got an array of shape {X.shape}."
        )
    return as_float32(X)


def _positive_int(value):
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= 1


def _check_signal_shape(signal_shape, input_kind):
    shape = tuple(signal_shape)
    if len(shape) != 2 or not all(_positive_int(s) for s in shape):
        raise ValueError(f"signal_shape must be a tuple (leads, length) of positive ints; got {signal_shape!r}.")
    if input_kind == TABULAR:
        raise ValueError("signal_shape needs input_kind='auto' or 'signal', not 'tabular'.")
    return tuple(int(s) for s in shape)
