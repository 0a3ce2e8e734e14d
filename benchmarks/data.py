"""Real ECG for the benchmarks, read from the project's shared/data folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sklearn_autonet.datasets import mitbih_mean_rr
from sklearn_autonet.ecg import AAMI_MAP, RR_NORM_NAMES, load_beats, normalize_rr, read_record

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("AUTONET_SHARED_DATA", ROOT / ".." / "shared" / "data")).resolve()
RESULTS = ROOT / "benchmarks" / "results"
#: de Chazal et al. (2004)'s inter-patient split; the paced records 102, 104, 107, 217 are in neither.
DS1 = ("101", "106", "108", "109", "112", "114", "115", "116", "118", "119", "122", "124", "201", "203",
       "205", "207", "208", "209", "215", "220", "223", "230")
DS2 = ("100", "103", "105", "111", "113", "117", "121", "123", "200", "202", "210", "212", "213", "214",
       "219", "221", "222", "228", "231", "232", "233", "234")
#: The shared beat set's window around the R peak, in samples at 360 Hz, and its cap on N beats per split.
BEAT_WINDOW = (90, 166)
N_CAP = 10_000


def mitbih_beats(train_size=None, seed=0, rr=False):
    """MIT-BIH DS1 (train) / DS2 (test) beats, classes N, S, V, F, in mV with the beat mean removed.

    Returns ``{"train": (X, y, records), "test": (X, y, records)}`` with X of
    shape (n, 1, 256) at 360 Hz.  ``train_size`` subsamples DS1 uniformly.
    ``rr=True`` appends a fourth array to each tuple: the four RR intervals
    divided by their record's mean RR (:func:`sklearn_autonet.ecg.normalize_rr`),
    the embedded set's side features.
    """
    d = np.load(DATA / "mitbih_beats" / "mitbih_beats_ds1_ds2.npz")
    out = {}
    for split in ("train", "test"):
        keep = d[f"y_{split}"] < 4
        X = d[f"X_{split}"][keep].astype(np.float32) / float(d["adu_per_mV"])
        X -= X.mean(axis=1, keepdims=True)
        out[split] = (X[:, None, :], d[f"y_{split}"][keep].astype(int), d[f"record_{split}"][keep])
        if rr:
            records = d[f"record_{split}"][keep]
            out[split] += (normalize_rr(d[f"rr_{split}"][keep], mitbih_mean_rr(records)).astype(np.float32),)
    if train_size is not None and train_size < len(out["train"][1]):
        pick = np.sort(np.random.RandomState(seed).choice(len(out["train"][1]), train_size, replace=False))
        out["train"] = tuple(a[pick] for a in out["train"])
    return out


def mitbih_raw_beats(class_cap=None, seed=0):
    """MIT-BIH DS1 (train) / DS2 (test) beats read from the raw records, both leads, N, S, V, F.

    Every record of ``shared/data/mitdb`` in de Chazal's DS1 / DS2 is read with
    :func:`sklearn_autonet.ecg.load_beats` (reference R peaks, AAMI labels, Q
    beats left out as in :func:`mitbih_beats`), with its two leads, MLII first
    (record 114 stores it second), as a 2-lead signal: the window of the shared
    beat set (90 samples before the R peak, 166 after, at 360 Hz), in mV, each
    lead's mean removed.  The side features are the normalised RR intervals of
    :func:`sklearn_autonet.ecg.rr_features` (the four ``RR_NORM_NAMES``, each
    interval over the record's mean RR), measured on the whole records.

    As in the shared beat set, every S, V and F beat is kept and N beats are
    randomly capped at 10,000 per split (``seed``); ``class_cap`` caps every
    class (quick checks).  Returns ``{"train": (X, y, records, rr), "test": ...}``
    with X of shape (n, 2, 256) and y in 0..3 (N, S, V, F).
    """
    folder = DATA / "mitdb"
    rng = np.random.RandomState(seed)
    label_map = {symbol: "NSVF".index(c) for symbol, c in AAMI_MAP.items() if c != "Q"}
    out = {}
    for split, records in (("train", DS1), ("test", DS2)):
        parts = []
        for name in records:
            leads = read_record(folder / name, sampto=1).lead_names
            order = ["MLII"] + [lead for lead in leads if lead != "MLII"]
            beats = load_beats(folder, [name], leads=order, before=BEAT_WINDOW[0] / 360,
                               after=BEAT_WINDOW[1] / 360, label_map=label_map)
            rr = beats.rr[:, [beats.rr_feature_names.index(n) for n in RR_NORM_NAMES]]
            parts.append((beats.X, beats.y.astype(int), beats.groups.astype(int), rr.astype(np.float32)))
        X, y, groups, rr = (np.concatenate(column) for column in zip(*parts))
        caps = [N_CAP, None, None, None] if class_cap is None else [min(N_CAP, class_cap)] + [class_cap] * 3
        keep = np.sort(np.concatenate([
            rng.permutation(np.flatnonzero(y == c))[:cap] for c, cap in enumerate(caps)
        ]))
        X = X[keep] - X[keep].mean(axis=2, keepdims=True)
        out[split] = (X, y[keep], groups[keep], rr[keep])
    return out


def ecg200():
    """UCR ECG200, official split, as (n, 1, 96) signals."""
    return ucr("ECG200")


def ucr(name):
    """A UCR data set of ``shared/data/ucr_<name>``, official split, as (n, 1, T) signals.

    Returns ``X_train, y_train, X_test, y_test``.
    """
    folder = DATA / f"ucr_{name}"
    train = np.loadtxt(folder / f"{name}_TRAIN.tsv.gz")
    test = np.loadtxt(folder / f"{name}_TEST.tsv.gz")
    return (
        train[:, None, 1:].astype(np.float32),
        train[:, 0].astype(int),
        test[:, None, 1:].astype(np.float32),
        test[:, 0].astype(int),
    )


def search_task(name):
    """One of the sets the search benchmarks share: ``"MIT-BIH"`` (the embedded beats) or a UCR name.

    Returns ``(X_train, y_train, X_test, y_test, fit_kwargs, estimator_kwargs)``:
    for MIT-BIH the 2400 DS1 beats to train and the 2388 DS2 beats to test,
    with ``groups`` (records) to fit and the ``signal_shape`` / ``sampling_rate``
    the estimator needs; for a UCR set the official split and nothing else.
    """
    if name == "MIT-BIH":
        from sklearn_autonet.datasets import load_mitbih_beats

        train, test = load_mitbih_beats("train"), load_mitbih_beats("test")
        return (train.data, train.target, test.data, test.target, {"groups": train.groups},
                {"signal_shape": train.signal_shape, "sampling_rate": train.sampling_rate})
    X_train, y_train, X_test, y_test = ucr(name)
    return X_train, y_train, X_test, y_test, {}, {}
