"""Small real data sets shipped with the package.

:func:`load_mitbih_beats` reads a subsample of the MIT-BIH Arrhythmia
Database beats (inter-patient split of de Chazal et al., 2004) that is
embedded in the package, so the demo and the documentation run without
downloads.  Licence (ODC-By 1.0) and citations: ``data/README.md`` next to
the file.
"""

from __future__ import annotations

import csv
import io
import warnings
from functools import lru_cache
from importlib import resources

import numpy as np
from sklearn.utils import Bunch

from ..ecg.rr import RR_INTERVAL_NAMES, RR_NORM_NAMES, normalize_rr

__all__ = ["load_mitbih_beats", "mitbih_mean_rr", "rr_ratio_features"]

_MITBIH_FILE = "mitbih_beats_small.npz"
_MEAN_RR_FILE = "mitbih_mean_rr.csv"
_SUBSETS = {"train": "DS1", "test": "DS2"}
# the columns of the deprecated rr_ratio_features
_RR_RATIO_NAMES = ("rr_pre/rr_5min", "rr_post/rr_5min", "rr_local10/rr_5min", "rr_pre/rr_post")
_DEPRECATED = (
    "{name} is deprecated and will be removed in a later release: the RR side features are now the "
    "intervals divided by their record's mean RR, "
    "sklearn_autonet.ecg.normalize_rr(rr, sklearn_autonet.datasets.mitbih_mean_rr(records)) "
    "(names sklearn_autonet.ecg.RR_NORM_NAMES), as load_mitbih_beats gives them."
)


def __getattr__(name):
    if name == "RR_RATIO_NAMES":
        warnings.warn(_DEPRECATED.format(name="RR_RATIO_NAMES"), FutureWarning, stacklevel=2)
        return _RR_RATIO_NAMES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

_DESCR = """\
MIT-BIH Arrhythmia beats, inter-patient subsample (embedded in sklearn-autonet)
------------------------------------------------------------------------------

Single-lead (MLII) beats of the MIT-BIH Arrhythmia Database, 256 samples at
360 Hz around each annotated R peak (90 samples before, 166 after), in mV with
the mean of each beat removed, labelled with the AAMI EC57 classes N, S, V, F
(Q beats are left out).  Inter-patient split of de Chazal et al. (2004):
subset "train" holds records of DS1 only, subset "test" records of DS2 only,
so no patient is on both sides.  The beats are a class-capped random
subsample (seed 0) of the project's mitbih_beats_ds1_ds2.npz: at most
{caps} beats per class and subset, so the prevalences differ from the
full database (report per-class recall, balanced accuracy or macro-F1).

RR features (seconds, sklearn_autonet.ecg.rr_features): rr_pre, rr_post (the
next interval: it looks one beat ahead, as is usual in this literature),
rr_local (mean of the 10 preceding intervals), rr_average (mean of the
intervals ending within +-150 s).  The side features are the same four divided
by the mean RR interval of the beat's whole record (the per-record
normalisation of the inter-patient literature, sklearn_autonet.ecg.normalize_rr;
the means of all 48 records, measured on every beat, are shipped with the data:
mitbih_mean_rr), so they do not depend on the patient's heart rate.  Computing
them for a new patient needs the whole record.

Licence: Open Data Commons Attribution License v1.0 (ODC-By 1.0).  Cite
Moody GB, Mark RG, The impact of the MIT-BIH Arrhythmia Database, IEEE Eng Med
Biol 20(3):45-50, 2001; Goldberger AL et al., PhysioBank, PhysioToolkit, and
PhysioNet, Circulation 101(23):e215-e220, 2000; and de Chazal P et al., IEEE
TBME 51(7):1196-1206, 2004, for the split.
"""


@lru_cache(maxsize=1)
def _mean_rr_table():
    text = resources.files(__name__).joinpath("data", _MEAN_RR_FILE).read_text()
    return {row["record"]: float(row["mean_rr_s"]) for row in csv.DictReader(io.StringIO(text))}


def mitbih_mean_rr(records):
    """The mean RR interval of whole MIT-BIH Arrhythmia records, in seconds.

    Measured once on every beat annotation of each record (all 48; the
    embedded and the shared beat sets keep only some of the beats), by
    ``scripts/make_mitbih_mean_rr.py``.  It is what
    :func:`sklearn_autonet.ecg.normalize_rr` divides by.

    Parameters
    ----------
    records : int, str or array-like of them
        MIT-BIH record numbers (``100`` or ``"100"``), e.g. a beat set's
        ``groups``.

    Returns
    -------
    mean_rr : ndarray of float64, the shape of ``records``
        The mean RR interval of each record, in seconds.

    Raises
    ------
    ValueError
        When a record is not one of the 48 MIT-BIH Arrhythmia records.

    Examples
    --------
    >>> from sklearn_autonet.datasets import mitbih_mean_rr
    >>> mitbih_mean_rr([100, 232]).round(3).tolist()
    [0.795, 1.013]
    """
    table = _mean_rr_table()
    names = np.asarray(records).astype(str)
    unknown = sorted(set(names.ravel().tolist()) - set(table))
    if unknown:
        raise ValueError(
            f"mitbih_mean_rr: {unknown[:5]} are not MIT-BIH Arrhythmia records; the records are "
            f"{min(table)}-{max(table)} ({len(table)} of them)."
        )
    return np.vectorize(table.__getitem__, otypes=[np.float64])(names)


def rr_ratio_features(rr):
    """RR-interval ratios to the 5-minute average (deprecated).

    .. deprecated:: 0.1.0
        The RR side features are now the intervals divided by their record's
        mean RR: ``sklearn_autonet.ecg.normalize_rr(rr, mitbih_mean_rr(records))``,
        as :func:`load_mitbih_beats` gives them.  This function warns
        (``FutureWarning``) and will be removed.

    Parameters
    ----------
    rr : array-like of shape (n_beats, 4)
        ``rr_pre``, ``rr_post``, ``rr_local10`` and ``rr_5min`` in seconds
        (the order of the MIT-BIH beat files).

    Returns
    -------
    ratios : ndarray of shape (n_beats, 4), float32
        ``rr_pre / rr_5min``, ``rr_post / rr_5min``, ``rr_local10 / rr_5min``
        and ``rr_pre / rr_post``.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FutureWarning)
    ...     rr_ratio_features([[0.5, 1.0, 0.8, 0.8]]).round(3).tolist()
    [[0.625, 1.25, 1.0, 0.5]]
    """
    warnings.warn(_DEPRECATED.format(name="rr_ratio_features"), FutureWarning, stacklevel=2)
    rr = np.asarray(rr, dtype=np.float64)
    if rr.ndim != 2 or rr.shape[1] != 4:
        raise ValueError(f"rr must have shape (n_beats, 4), got {rr.shape}.")
    if not np.all(np.isfinite(rr)) or np.any(rr <= 0):
        raise ValueError("rr must hold positive, finite intervals.")
    pre, post, local, five_min = rr.T
    return np.column_stack([pre / five_min, post / five_min, local / five_min, pre / post]).astype(np.float32)


def load_mitbih_beats(subset="train", *, side_features=True, return_X_y=False):
    """Load the embedded inter-patient MIT-BIH beat subsample.

    Parameters
    ----------
    subset : {"train", "test"}, default="train"
        "train": beats of the DS1 records; "test": beats of the DS2 records
        (other patients).
    side_features : bool, default=True
        Whether ``data`` ends with the four normalised RR columns
        (:data:`sklearn_autonet.ecg.RR_NORM_NAMES`: each interval divided by
        the record's mean RR, :func:`~sklearn_autonet.ecg.normalize_rr`)
        after the 256 signal columns.  With them, pass
        ``signal_shape=bunch.signal_shape`` to
        :class:`~sklearn_autonet.AutoNetLCNClassifier`.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of the Bunch.

    Returns
    -------
    bunch : sklearn.utils.Bunch
        ``data`` (n, 256 [+ 4]) float32: the beat in mV, mean removed, then
        the side features; ``signals`` (n, 1, 256) float32; ``side_features``
        (n, 4) and ``side_feature_names``; ``rr`` (n, 4) seconds and
        ``rr_feature_names`` (:data:`sklearn_autonet.ecg.RR_INTERVAL_NAMES`); ``target`` (n,) int in 0..3 and
        ``target_names`` ``["N", "S", "V", "F"]``; ``groups`` (n,) the
        MIT-BIH record of each beat (pass as ``groups=``); ``r_peaks`` (n,)
        the sample of each R peak in its record; ``signal_shape`` ``(1, 256)``;
        ``sampling_rate`` 360; ``r_peak_index`` 90; ``subset``; ``DESCR``.
    (data, target) : tuple of ndarray
        When ``return_X_y`` is True.

    Examples
    --------
    >>> from sklearn_autonet.datasets import load_mitbih_beats
    >>> train = load_mitbih_beats("train")
    >>> train.data.shape[1], train.signal_shape, list(train.target_names)
    (260, (1, 256), ['N', 'S', 'V', 'F'])
    >>> test = load_mitbih_beats("test")
    >>> set(train.groups) & set(test.groups)      # inter-patient: no record on both sides
    set()
    """
    if subset not in _SUBSETS:
        raise ValueError(f"subset must be one of {sorted(_SUBSETS)}, got {subset!r}.")
    with resources.files(__name__).joinpath("data", _MITBIH_FILE).open("rb") as handle:
        with np.load(handle, allow_pickle=False) as archive:
            d = {key: archive[key] for key in archive.files}
    signals = d[f"X_{subset}"].astype(np.float32) / np.float32(d["adu_per_mV"])
    signals -= signals.mean(axis=1, keepdims=True)
    signals = signals[:, np.newaxis, :]
    rr = d[f"rr_{subset}"].astype(np.float32)
    groups = d[f"record_{subset}"].astype(np.int64)
    side = normalize_rr(rr, mitbih_mean_rr(groups)).astype(np.float32)
    flat = signals.reshape(len(signals), -1)
    data = np.hstack([flat, side]) if side_features else flat.copy()
    target = d[f"y_{subset}"].astype(np.int64)
    if return_X_y:
        return data, target
    caps = ", ".join(f"{name} {int(c)}" for name, c in zip(d["class_names"], d["caps"]))
    return Bunch(
        data=data,
        signals=signals,
        side_features=side,
        side_feature_names=list(RR_NORM_NAMES),
        rr=rr,
        rr_feature_names=list(RR_INTERVAL_NAMES),
        target=target,
        target_names=[str(name) for name in d["class_names"]],
        groups=groups,
        r_peaks=d[f"rpeak_{subset}"].astype(np.int64),
        signal_shape=(1, signals.shape[-1]),
        sampling_rate=float(d["fs"]),
        r_peak_index=int(d["window_pre_post"][0]),
        subset=subset,
        DESCR=_DESCR.format(caps=caps),
    )
