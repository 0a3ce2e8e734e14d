"""Real ECG for the benchmarks, read from the project's shared/data folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sklearn_autonet.datasets import mitbih_mean_rr
from sklearn_autonet.ecg import normalize_rr

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("AUTONET_SHARED_DATA", ROOT / ".." / "shared" / "data")).resolve()
RESULTS = ROOT / "benchmarks" / "results"


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
