"""RR-interval features of a sequence of R peaks."""

from __future__ import annotations

from numbers import Integral

import numpy as np

from .preprocessing import check_rate

#: Names of the columns returned by :func:`rr_features`, in order.
RR_FEATURE_NAMES = (
    "rr_pre",
    "rr_post",
    "rr_local",
    "rr_pre_norm",
    "rr_post_norm",
    "rr_local_norm",
)


def rr_features(r_peaks, fs, local=10):
    """RR-interval features of every beat of one record.

    Parameters
    ----------
    r_peaks : array-like of int, shape (n_beats,)
        Sample indices of the R peaks of one record, increasing.  Use every beat
        (not only those kept in a data set), since each RR interval runs from
        one beat to the next.
    fs : float
        Sampling rate in Hz.
    local : int, default=10
        Number of preceding RR intervals averaged into ``rr_local`` (fewer at
        the start of the record).

    Returns
    -------
    features : ndarray of shape (n_beats, 6)
        Columns :data:`RR_FEATURE_NAMES`: the previous RR interval, the next
        one, the mean of the ``local`` intervals up to and including the
        previous one (all in seconds), and the same three divided by the
        record's mean RR interval (dimensionless, so that a slow and a fast
        heart compare).  ``rr_pre`` and ``rr_local`` are NaN for the first
        beat, ``rr_post`` for the last.
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
    # mean of the `local` intervals ending at beat i: a running sum over rr
    csum = np.concatenate([[0.0], np.cumsum(rr)])
    end = np.arange(n)  # interval j (peak j -> j+1) ends at beat j+1; beat i sees rr[:i]
    start = np.maximum(end - int(local), 0)
    count = end - start
    with np.errstate(invalid="ignore", divide="ignore"):
        local_mean = np.where(count > 0, (csum[end] - csum[start]) / np.maximum(count, 1), np.nan)
    mean_rr = rr.mean() if len(rr) else np.nan
    features = np.column_stack([pre, post, local_mean, pre / mean_rr, post / mean_rr, local_mean / mean_rr])
    return features, RR_FEATURE_NAMES
