"""RR-interval features of the beats of one record: the package's one definition.

The four intervals are de Chazal et al. (2004)'s: the previous and the next RR
interval, a local and an average RR interval.  The normalised features divide
each by the record's mean RR interval, the per-record normalisation of the
inter-patient literature (Mondéjar-Guerra et al. 2019 divide each RR feature by
its average over the patient's record; Lin & Yang 2014 normalise the RR
intervals by the record's mean), so that a premature beat stands out whatever
the patient's heart rate.  :func:`rr_features` computes both from R peaks;
:func:`normalize_rr` is the normalisation alone, for intervals already measured
(the beat sets of :mod:`sklearn_autonet.datasets` store them in seconds).

References
----------
de Chazal P, O'Dwyer M, Reilly RB. Automatic classification of heartbeats using
ECG morphology and heartbeat interval features. IEEE Trans Biomed Eng
51(7):1196-1206, 2004.

Mondéjar-Guerra V, Novo J, Rouco J, Penedo MG, Ortega M. Heartbeat
classification fusing temporal and morphological information of ECGs via
ensemble of classifiers. Biomed Signal Process Control 47:41-48, 2019.

Lin C-C, Yang C-M. Heartbeat classification using normalized RR intervals and
morphological features. Math Probl Eng 2014:712474, 2014.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from .preprocessing import check_rate

#: The four RR intervals of :func:`rr_features`, in seconds, in order.
RR_INTERVAL_NAMES = ("rr_pre", "rr_post", "rr_local", "rr_average")

#: The normalised features of :func:`normalize_rr`, in order.
RR_NORM_NAMES = tuple(f"{name}_norm" for name in RR_INTERVAL_NAMES)

#: Names of the columns returned by :func:`rr_features`, in order.
RR_FEATURE_NAMES = RR_INTERVAL_NAMES + RR_NORM_NAMES


def normalize_rr(intervals, record_mean_rr):
    """RR intervals divided by their record's mean RR interval.

    The per-record normalisation of the RR features (see the module's
    references).  It needs the **whole record**: at predict time too, the mean
    RR comes from all the record's beats, not from the beats classified so far.

    Parameters
    ----------
    intervals : array-like of shape (n_beats, n_intervals)
        RR intervals in seconds, e.g. the four :data:`RR_INTERVAL_NAMES` columns
        of :func:`rr_features` or the ``rr`` array of
        :func:`~sklearn_autonet.datasets.load_mitbih_beats`.  NaN (an interval
        a beat at the record's end does not have) stays NaN.
    record_mean_rr : float or array-like of shape (n_beats,)
        The mean RR interval, in seconds, of the record of each beat (one
        number when all beats come from one record).

    Returns
    -------
    normalized : ndarray of shape (n_beats, n_intervals), float64
        Dimensionless: 1 is the record's mean rhythm, 0.6 a beat that came 40 %
        early.

    Raises
    ------
    ValueError
        When ``intervals`` is not 2-D, the means do not match its rows, or a
        mean is not a positive, finite number of seconds.

    Examples
    --------
    >>> from sklearn_autonet.ecg import normalize_rr
    >>> normalize_rr([[0.5, 1.0, 0.8, 0.8]], 0.8).tolist()
    [[0.625, 1.25, 1.0, 1.0]]
    """
    intervals = np.asarray(intervals, dtype=np.float64)
    if intervals.ndim != 2:
        raise ValueError(f"normalize_rr: intervals must be 2-D (n_beats, n_intervals); got shape {intervals.shape}.")
    mean = np.asarray(record_mean_rr, dtype=np.float64)
    if mean.ndim == 0:
        mean = np.full(len(intervals), float(mean))
    if mean.shape != (len(intervals),):
        raise ValueError(
            f"normalize_rr: record_mean_rr must be one number or one per beat ({len(intervals)}); "
            f"got shape {mean.shape}."
        )
    bad = ~(np.isfinite(mean) & (mean > 0))
    if bad.any():
        raise ValueError(
            f"normalize_rr: the record mean RR must be a positive, finite number of seconds; got "
            f"{float(mean[bad][0])!r} (beat {int(np.flatnonzero(bad)[0])})."
        )
    return intervals / mean[:, np.newaxis]


def rr_features(r_peaks, fs, local=10, average=150.0):
    """RR-interval features of every beat of one record.

    Parameters
    ----------
    r_peaks : array-like of int, shape (n_beats,)
        Sample indices of the R peaks of one record, increasing.  Use every beat
        of the **whole record** (not only those kept in a data set): each RR
        interval runs from one beat to the next, and the normalisation divides
        by the record's mean RR interval, also at predict time.
    fs : float
        Sampling rate in Hz.
    local : int, default=10
        Number of preceding RR intervals averaged into ``rr_local`` (fewer at
        the start of the record).
    average : float, default=150.0
        Half-width in seconds of the span averaged into ``rr_average``: the
        mean of the intervals that end within ``average`` seconds of the beat
        (de Chazal's 5-minute average RR interval).

    Returns
    -------
    features : ndarray of shape (n_beats, 8)
        Columns :data:`RR_FEATURE_NAMES`: the previous RR interval, the next
        one, the mean of the ``local`` intervals up to and including the
        previous one, the mean of the intervals ending within ``average``
        seconds (all in seconds), then the same four divided by the record's
        mean RR interval (:func:`normalize_rr`).  ``rr_pre`` and ``rr_local``
        are NaN for the first beat, ``rr_post`` for the last.
    names : tuple of str
        :data:`RR_FEATURE_NAMES`.

    Examples
    --------
    >>> from sklearn_autonet.ecg import rr_features
    >>> features, names = rr_features([0, 360, 720, 900, 1440], fs=360, local=2)
    >>> features[2, :3].tolist()           # rr_pre, rr_post, rr_local of beat 2
    [1.0, 0.5, 1.0]
    >>> float(features[3, names.index("rr_pre_norm")])   # 0.5 s over the mean 1.0 s
    0.5
    """
    peaks = np.asarray(r_peaks, dtype=np.float64)
    if peaks.ndim != 1:
        raise ValueError(f"r_peaks must be 1-D; got shape {peaks.shape}.")
    if not np.isfinite(peaks).all():
        raise ValueError("rr_features: r_peaks must be finite sample indices.")
    fs = check_rate(fs, "fs", "rr_features")
    if isinstance(local, (bool, np.bool_)) or not isinstance(local, Integral) or local < 1:
        raise ValueError(f"rr_features: local must be an integer of at least 1; got {local!r}.")
    if isinstance(average, (bool, np.bool_)) or not isinstance(average, Real) or not 0 < average < np.inf:
        raise ValueError(f"rr_features: average must be a positive, finite number of seconds; got {average!r}.")
    rr = np.diff(peaks) / fs
    if np.any(rr <= 0):
        at = int(np.flatnonzero(rr <= 0)[0])
        raise ValueError(
            f"r_peaks must be strictly increasing; beat {at + 1} (sample {peaks[at + 1]:g}) does not come "
            f"after beat {at} (sample {peaks[at]:g})."
        )
    n = len(peaks)
    pre = np.full(n, np.nan)
    post = np.full(n, np.nan)
    pre[1:] = rr
    post[:-1] = rr
    # interval j (peak j -> j+1) ends at beat j+1; a running sum over rr gives the means
    csum = np.concatenate([[0.0], np.cumsum(rr)])
    end = np.arange(n)  # beat i sees rr[:i]
    start = np.maximum(end - int(local), 0)
    local_mean = _span_mean(csum, start, end)
    # intervals ending at the beats k with |peak k - peak i| <= average: rr[k - 1] for k >= 1
    first = np.maximum(np.searchsorted(peaks, peaks - average * fs, side="left"), 1) - 1
    last = np.searchsorted(peaks, peaks + average * fs, side="right") - 1
    average_mean = _span_mean(csum, first, np.maximum(last, first))
    intervals = np.column_stack([pre, post, local_mean, average_mean])
    normalized = normalize_rr(intervals, rr.mean()) if len(rr) else np.full_like(intervals, np.nan)
    return np.hstack([intervals, normalized]), RR_FEATURE_NAMES


def _span_mean(csum, start, stop):
    """Mean of ``rr[start:stop]`` from its running sum ``csum``; NaN where the span is empty."""
    count = stop - start
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, (csum[stop] - csum[start]) / np.maximum(count, 1), np.nan)
