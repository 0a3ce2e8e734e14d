"""Signal preprocessing transformers for ECG: filters, resampling, standardisation.

Each transformer takes a batch of signals, ``(n_samples, n_leads, length)`` or
single-lead ``(n_samples, length)``, or a list of records of different lengths,
NumPy arrays ``(n_leads, length_i)`` (aeon's convention), and returns the same
layout (``Resampler`` changes the lengths), works sample by sample (nothing is
learnt in ``fit``) and never modifies its input.  They go in a :class:`~sklearn.pipeline.Pipeline`
before :class:`~sklearn_autonet.AutoNetLCNClassifier`.  ``set_output`` is not
offered: the outputs are signals, not named feature columns.
"""

from __future__ import annotations

from fractions import Fraction
from numbers import Integral, Real

import numpy as np
from scipy import ndimage, signal
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions

from ..input_checks import check_not_ragged


#: Largest up- or down-sampling factor :func:`resample_ratio` accepts (the
#: ratio is approximated by a fraction with a denominator up to this).
MAX_RESAMPLE_FACTOR = 1000
#: Largest relative difference between the asked and the achieved output rate.
RATE_TOLERANCE = 1e-4


def _owner(estimator):
    """``"BandpassFilter: "`` for an estimator (instance or name), ``""`` for None."""
    if estimator is None:
        return ""
    return f"{estimator if isinstance(estimator, str) else type(estimator).__name__}: "


def check_signals(X, name="X", estimator=None):
    """Validate a batch of signals: finite floats, 2-D ``(n, T)`` or 3-D ``(n, leads, T)``.

    Parameters
    ----------
    X : array-like
        The signals.
    name : str, default="X"
        Name of the input in the messages.
    estimator : estimator instance or str, default=None
        Named at the start of every message (e.g. ``"BandpassFilter: ..."``).

    Returns
    -------
    X : ndarray
        A float64 or float32 array (float32 kept, anything else as float64),
        possibly the caller's own array: callers must not write into it.

    Raises
    ------
    ValueError
        For NaN or infinite values (with their count and the first position),
        empty input, no leads, signals of length 0, and other dimensions.
    """
    check_not_ragged(X, name)
    who = _owner(estimator)
    X = check_array(
        X,
        allow_nd=True,
        ensure_2d=False,
        dtype=(np.float64, np.float32),
        ensure_all_finite=False,
        input_name=name,
        estimator=None if estimator is None else who[:-2],
    )
    if X.ndim not in (2, 3):
        raise ValueError(
            f"{who}{name} must be 2-D (n_samples, length) for one lead or 3-D "
            f"(n_samples, n_leads, length); got an array with {X.ndim} dimension(s), shape {X.shape}."
        )
    if X.ndim == 3 and X.shape[1] < 1:
        raise ValueError(f"{who}{name} has signals with 0 leads; shape {X.shape}.")
    if X.shape[-1] < 1:
        raise ValueError(f"{who}{name} has signals of length 0; shape {X.shape}.")
    _check_finite(X, ("sample", "lead", "index") if X.ndim == 3 else ("sample", "index"), name, who)
    return X


def _check_finite(X, axes, name, who):
    """Raise a ``ValueError`` with the count and first position (named by ``axes``) of non-finite values."""
    finite = np.isfinite(X)
    if finite.all():
        return
    bad = ~finite
    where = ", ".join(f"{axis} {int(i)}" for axis, i in zip(axes, np.argwhere(bad)[0]))
    kind = "NaN" if np.isnan(X).any() else "infinity"
    raise ValueError(
        f"{who}Input {name} contains {kind}: {int(bad.sum())} non-finite value(s), the first at "
        f"{where}; the signals must be finite (cut out or interpolate the gaps first)."
    )


def is_signal_list(X):
    """Whether ``X`` is a list of records: a list or tuple of NumPy arrays, one at least 2-D.

    Such a list is a collection of records of (possibly) different lengths,
    each ``(n_leads, length_i)``; other lists (of numbers, of 1-D arrays, nested
    Python lists) are read as one array.

    Parameters
    ----------
    X : object
        The caller's input.

    Returns
    -------
    bool
    """
    return (
        isinstance(X, (list, tuple))
        and len(X) > 0
        and all(isinstance(x, np.ndarray) for x in X)
        and any(x.ndim >= 2 for x in X)
    )


def check_signal_list(X, name="X", estimator=None):
    """Validate a list of records ``(n_leads, length_i)``: each as :func:`check_signals` checks a batch.

    Parameters
    ----------
    X : list of ndarray
        The records, see :func:`is_signal_list`.
    name : str, default="X"
        Name of the input in the messages.
    estimator : estimator instance or str, default=None
        Named at the start of every message.

    Returns
    -------
    records : list of ndarray
        Each record as a float32 (kept) or float64 array, possibly the caller's own.

    Raises
    ------
    ValueError
        When a record is not 2-D (a list mixing 2-D and 3-D arrays), the
        records have different numbers of leads, or a record is empty or not
        finite; the message names the record's index.
    """
    who = _owner(estimator)
    first = X[0]
    for i, x in enumerate(X):
        if x.ndim != 2:
            raise ValueError(
                f"{who}{name} is a list of records, each a 2-D (n_leads, length) array, but {name}[{i}] has "
                f"shape {x.shape} ({x.ndim}-D) while {name}[0] has shape {first.shape}; pass one list of 2-D "
                "records (x[np.newaxis] for a single-lead record), or one 3-D array (n_samples, n_leads, length)."
            )
        if x.shape[0] != first.shape[0]:
            raise ValueError(
                f"{who}{name} is a list of records with different numbers of leads: {name}[0] has "
                f"{first.shape[0]}, {name}[{i}] has {x.shape[0]} (shape {x.shape}); every record needs the "
                "same leads, in the same order."
            )
    records = []
    for i, x in enumerate(X):
        if x.shape[0] < 1 or x.shape[1] < 1:
            raise ValueError(f"{who}{name}[{i}] is empty: shape {x.shape} (n_leads, length).")
        x = check_array(
            x, dtype=(np.float64, np.float32), ensure_all_finite=False, input_name=f"{name}[{i}]",
            estimator=None if estimator is None else who[:-2],
        )
        _check_finite(x, ("lead", "index"), f"{name}[{i}]", who)
        records.append(x)
    return records


def check_rate(value, name, where=None):
    """Return ``value`` as a float when it is a positive, finite rate in Hz; else a ``ValueError``.

    Parameters
    ----------
    value : object
        The rate.
    name : str
        The parameter's name, for the message.
    where : estimator instance or str, default=None
        The function or transformer named at the start of the message.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{_owner(where)}{name} must be a positive, finite rate in Hz; got {value!r}.")
    return float(value)


def resample_ratio(sampling_rate, target_rate, where=None):
    """``(up, down)`` for :func:`scipy.signal.resample_poly` from one rate to another.

    The ratio ``target_rate / sampling_rate`` is approximated by a fraction
    whose numerator and denominator are at most :data:`MAX_RESAMPLE_FACTOR`.

    Raises
    ------
    ValueError
        When a rate is not positive and finite, when the ratio rounds to 0
        (a target rate too low), needs a factor above :data:`MAX_RESAMPLE_FACTOR`,
        or cannot be approximated within :data:`RATE_TOLERANCE` (relative).
    """
    source = check_rate(sampling_rate, "sampling_rate", where)
    target = check_rate(target_rate, "target_rate", where)
    ratio = target / source
    who = _owner(where)
    if not ratio <= MAX_RESAMPLE_FACTOR:  # also an overflow to inf
        raise ValueError(
            f"{who}resampling from {source:g} Hz to {target:g} Hz is an up-sampling by {ratio:.3g}, "
            f"above {MAX_RESAMPLE_FACTOR}; choose a target rate closer to the input's."
        )
    fraction = Fraction(ratio).limit_denominator(MAX_RESAMPLE_FACTOR)
    up, down = fraction.numerator, fraction.denominator
    if up == 0:
        raise ValueError(
            f"{who}resampling from {source:g} Hz to {target:g} Hz: the ratio {ratio:.3g} rounds to 0 "
            f"(the output would have no samples); the lowest target rate is about "
            f"{source / MAX_RESAMPLE_FACTOR:g} Hz."
        )
    if up > MAX_RESAMPLE_FACTOR:
        raise ValueError(
            f"{who}resampling from {source:g} Hz to {target:g} Hz needs an up-sampling factor of {up} "
            f"(ratio {up}/{down}), above {MAX_RESAMPLE_FACTOR}; choose a target rate closer to the "
            "input's, or resample in two steps."
        )
    achieved = source * up / down
    if abs(achieved - target) > RATE_TOLERANCE * target:
        raise ValueError(
            f"{who}resampling from {source:g} Hz to {target:g} Hz: the nearest ratio {up}/{down} with "
            f"factors up to {MAX_RESAMPLE_FACTOR} gives {achieved:g} Hz, off by more than "
            f"{RATE_TOLERANCE:.2%}; choose a target rate with a simpler ratio to the input's."
        )
    return up, down


def resample_signal(x, sampling_rate, target_rate, axis=-1, where=None):
    """Resample ``x`` along ``axis`` with a polyphase filter (zero-phase FIR).

    The rates are checked by :func:`resample_ratio`; ``where`` is named in its messages.
    """
    up, down = resample_ratio(sampling_rate, target_rate, where)
    if up == down:
        return np.array(x, copy=True)
    return signal.resample_poly(x, up, down, axis=axis)


def zero_phase_filter(X, sos, what):
    """Forward-backward ``sos`` filter along the last axis, with a clear error on short input."""
    try:
        return signal.sosfiltfilt(sos, X, axis=-1)
    except ValueError as exc:
        if "padlen" not in str(exc):
            raise
        raise ValueError(
            f"signals of length {X.shape[-1]} are too short for the zero-phase {what} "
            f"(scipy.signal.sosfiltfilt: {exc}); use longer windows or a lower order."
        ) from exc


class _SignalTransformer(TransformerMixin, BaseEstimator):
    """Shared fit/transform plumbing: stateless, per-sample, layout-preserving."""

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the parameters and ``X``; nothing is learnt.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_leads, length) or (n_samples, length), or list of ndarray
            Signals, or a list of records ``(n_leads, length_i)``.
        y : None
            Ignored.

        Returns
        -------
        self : object
            This transformer.
        """
        self._check_settings()
        if is_signal_list(X):
            check_signal_list(X, estimator=self)
        else:
            check_signals(X, estimator=self)
        return self

    def transform(self, X):
        """Transform each signal.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_leads, length) or (n_samples, length), or list of ndarray
            Signals, or a list of records ``(n_leads, length_i)`` of different
            lengths (see :func:`is_signal_list`); not modified.

        Returns
        -------
        X_out : ndarray of the same layout, or list of ndarray
            Transformed signals, float32 for float32 input, else float64; for
            a list, a list with each record transformed alone, as it would be
            in a batch.
        """
        self._validate_params()
        self._check_settings()
        if is_signal_list(X):
            out = []
            for i, x in enumerate(check_signal_list(X, estimator=self)):
                try:
                    out.append(np.asarray(self._transform(x[np.newaxis]), dtype=x.dtype)[0])
                except ValueError as exc:
                    raise ValueError(f"{_owner(self)}X[{i}], shape {x.shape}: {exc}") from exc
            return out
        X = check_signals(X, estimator=self)
        out = self._transform(X)
        return np.asarray(out, dtype=X.dtype)

    def _check_settings(self):
        """Checks that involve more than one parameter."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.three_d_array = True
        return tags


class BandpassFilter(_SignalTransformer):
    """Zero-phase Butterworth band-pass (or low-/high-pass) filter.

    A Butterworth filter from :func:`scipy.signal.butter` in second-order
    sections, run forwards and backwards with :func:`scipy.signal.sosfiltfilt`,
    so that waves are not shifted in time (the effective order is doubled).

    Parameters
    ----------
    low : float or None, default=0.5
        Lower cut-off in Hz (removes baseline wander).  None: a low-pass filter.
    high : float or None, default=40.0
        Upper cut-off in Hz (removes mains hum and muscle noise); below
        ``sampling_rate / 2``.  None: a high-pass filter.
    sampling_rate : float, default=360.0
        Sampling rate of the signals in Hz.
    order : int, default=4
        Order of the Butterworth design (per cut-off).

    Attributes
    ----------
    sos : ndarray of shape (n_sections, 6)
        The filter's second-order sections, computed from the parameters
        (``fit`` learns nothing from the data).

    See Also
    --------
    BaselineRemover : baseline-wander removal alone.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_autonet.ecg import BandpassFilter
    >>> t = np.arange(3600) / 360
    >>> X = np.sin(2 * np.pi * 10 * t) + np.sin(2 * np.pi * 60 * t)  # 10 Hz kept, 60 Hz hum
    >>> out = BandpassFilter(low=0.5, high=40, sampling_rate=360).fit_transform(X[None, None, :])
    >>> out.shape
    (1, 1, 3600)
    >>> residual = out[0, 0] - np.sin(2 * np.pi * 10 * t)          # what is left of the hum
    >>> bool(np.abs(residual[1000:2600]).max() < 0.1)
    True
    """

    _parameter_constraints: dict = {
        "low": [Interval(Real, 0, None, closed="neither"), None],
        "high": [Interval(Real, 0, None, closed="neither"), None],
        "sampling_rate": [Interval(Real, 0, None, closed="neither")],
        "order": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, low=0.5, high=40.0, sampling_rate=360.0, order=4):
        self.low = low
        self.high = high
        self.sampling_rate = sampling_rate
        self.order = order

    def _check_settings(self):
        nyquist = self.sampling_rate / 2
        if self.low is None and self.high is None:
            raise ValueError("BandpassFilter needs low, high or both; both are None.")
        for name in ("low", "high"):
            value = getattr(self, name)
            if value is not None and value >= nyquist:
                raise ValueError(
                    f"{name}={value} Hz must be below the Nyquist frequency "
                    f"sampling_rate / 2 = {nyquist} Hz."
                )
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise ValueError(f"low={self.low} Hz must be below high={self.high} Hz.")

    def sos(self):
        """The filter's second-order sections (``scipy.signal.butter(..., output="sos")``)."""
        self._validate_params()
        self._check_settings()
        if self.low is None:
            band, kind = self.high, "lowpass"
        elif self.high is None:
            band, kind = self.low, "highpass"
        else:
            band, kind = [self.low, self.high], "bandpass"
        return signal.butter(self.order, band, btype=kind, fs=self.sampling_rate, output="sos")

    def _transform(self, X):
        return zero_phase_filter(X, self.sos(), "band-pass filter")


class BaselineRemover(_SignalTransformer):
    """Remove baseline wander: subtract a median-filter baseline, or high-pass filter.

    ``method="median"`` estimates the baseline with two median filters in a row
    (by default 0.2 s, which removes the QRS complexes and P waves, then 0.6 s,
    which removes the T waves), as in de Chazal et al. 2004, and subtracts it;
    it keeps the shape of the waves.  ``method="highpass"`` applies a
    zero-phase Butterworth high-pass filter at ``cutoff``.

    Parameters
    ----------
    method : {"median", "highpass"}, default="median"
        How the baseline is removed.
    sampling_rate : float, default=360.0
        Sampling rate of the signals in Hz.
    windows : tuple of float, default=(0.2, 0.6)
        ``method="median"``: the median filters' lengths in seconds, applied in
        order (each rounded to an odd number of samples).
    cutoff : float, default=0.5
        ``method="highpass"``: the cut-off in Hz.
    order : int, default=2
        ``method="highpass"``: the Butterworth order.

    Attributes
    ----------
    None
        Stateless: ``fit`` only checks the parameters and ``X``; each signal
        is transformed on its own.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_autonet.ecg import BaselineRemover
    >>> t = np.arange(3600) / 360
    >>> beats = (np.mod(t, 1.0) < 0.03).astype(float)            # a spike every second
    >>> X = (beats + 0.5 * np.sin(2 * np.pi * 0.2 * t))[None, :]  # plus 0.2 Hz drift
    >>> out = BaselineRemover(sampling_rate=360).fit_transform(X)
    >>> float(np.abs(X - beats).max()), bool(np.abs(out - beats).max() < 0.1)
    (0.5, True)
    """

    _parameter_constraints: dict = {
        "method": [StrOptions({"median", "highpass"})],
        "sampling_rate": [Interval(Real, 0, None, closed="neither")],
        "windows": [tuple, list],
        "cutoff": [Interval(Real, 0, None, closed="neither")],
        "order": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, method="median", sampling_rate=360.0, windows=(0.2, 0.6), cutoff=0.5, order=2):
        self.method = method
        self.sampling_rate = sampling_rate
        self.windows = windows
        self.cutoff = cutoff
        self.order = order

    def _check_settings(self):
        if self.method == "median":
            if len(self.windows) == 0 or not all(
                isinstance(w, Real) and not isinstance(w, bool) and np.isfinite(w) and w > 0 for w in self.windows
            ):
                raise ValueError(
                    f"BaselineRemover: windows must be positive, finite lengths in seconds; got {self.windows!r}."
                )
        elif self.cutoff >= self.sampling_rate / 2:
            raise ValueError(
                f"cutoff={self.cutoff} Hz must be below sampling_rate / 2 = {self.sampling_rate / 2} Hz."
            )

    def _transform(self, X):
        if self.method == "highpass":
            sos = signal.butter(self.order, self.cutoff, btype="highpass", fs=self.sampling_rate, output="sos")
            return zero_phase_filter(X, sos, "high-pass filter")
        baseline = X
        for seconds in self.windows:
            width = int(round(seconds * self.sampling_rate)) // 2 * 2 + 1
            size = (1,) * (X.ndim - 1) + (width,)
            baseline = ndimage.median_filter(baseline, size=size, mode="reflect")
        return X - baseline


class Resampler(_SignalTransformer):
    """Resample signals to another rate with a polyphase filter.

    Uses :func:`scipy.signal.resample_poly` along the last axis with the ratio
    ``target_rate / sampling_rate`` as a fraction (numerator and denominator at
    most 1000); the output length is ``ceil(length * up / down)``.  A ratio
    that rounds to 0 (a target rate below about ``sampling_rate / 1000``),
    needs a factor above 1000, or misses the target rate by more than 0.01 % is
    refused with a ``ValueError`` that gives the rates.

    Parameters
    ----------
    sampling_rate : float, default=360.0
        Sampling rate of the input in Hz.
    target_rate : float, default=250.0
        Sampling rate of the output in Hz.

    Attributes
    ----------
    None
        Stateless: ``fit`` only checks the parameters and ``X``; each signal
        is transformed on its own.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_autonet.ecg import Resampler
    >>> X = np.zeros((4, 2, 360))                                  # 1 s at 360 Hz, 2 leads
    >>> Resampler(sampling_rate=360, target_rate=250).fit_transform(X).shape
    (4, 2, 250)
    """

    _parameter_constraints: dict = {
        "sampling_rate": [Interval(Real, 0, None, closed="neither")],
        "target_rate": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, sampling_rate=360.0, target_rate=250.0):
        self.sampling_rate = sampling_rate
        self.target_rate = target_rate

    def _check_settings(self):
        resample_ratio(self.sampling_rate, self.target_rate, self)

    def _transform(self, X):
        return resample_signal(X, self.sampling_rate, self.target_rate, axis=-1, where=self)


class SignalStandardizer(_SignalTransformer):
    """Standardise each signal to zero mean and unit variance, per lead or per sample.

    Unlike :class:`~sklearn.preprocessing.StandardScaler`, which learns one mean
    per column over the training set, this scales every signal by its own
    statistics, so that electrode gain and offset differences between
    recordings disappear.

    Parameters
    ----------
    per : {"lead", "sample"}, default="lead"
        ``"lead"``: each lead of each signal separately.  ``"sample"``: all
        leads of a signal together (keeps the leads' relative amplitude).
    eps : float, default=1e-8
        Signals whose standard deviation is below ``eps`` are only centred.

    Attributes
    ----------
    None
        Stateless: ``fit`` only checks the parameters and ``X``; each signal
        is transformed on its own.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_autonet.ecg import SignalStandardizer
    >>> X = np.array([[[1.0, 2.0, 3.0], [10.0, 10.0, 10.0]]])
    >>> SignalStandardizer(per="lead").fit_transform(X).round(3).tolist()
    [[[-1.225, 0.0, 1.225], [0.0, 0.0, 0.0]]]
    """

    _parameter_constraints: dict = {
        "per": [StrOptions({"lead", "sample"})],
        "eps": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, per="lead", eps=1e-8):
        self.per = per
        self.eps = eps

    def _transform(self, X):
        axis = -1 if (self.per == "lead" or X.ndim == 2) else (1, 2)
        mean = X.mean(axis=axis, keepdims=True)
        std = X.std(axis=axis, keepdims=True)
        return (X - mean) / np.where(std < self.eps, 1.0, std)
