"""Rhythm episodes: variable-length MIT-BIH records, AutoNet against MiniRocket and a fixed ResNet.

Data: the rhythm episodes of the MIT-BIH Arrhythmia Database
(``shared/data/mitdb``, :func:`sklearn_autonet.ecg.load_episodes`), MLII lead,
band-passed (0.5-40 Hz) and resampled to 100 Hz as ``docs/ecg.md`` recommends.

* **Classes** (``aux_note`` codes): ``N`` (normal sinus, ``(N``), ``AF``
  (``(AFIB`` and ``(AFL``), ``B`` (ventricular bigeminy) and ``T``
  (ventricular trigeminy): the rhythms that occur on both sides of the split.
  Other rhythms are left out.
* **Lengths**: episodes of at least 5 s; longer than 60 s are cut into equal
  pieces of at most 60 s (``max_length``), so a record of 30 min of sinus
  rhythm does not count as one example.  Lengths run from 5 to 60 s.
* **Split**: by record, de Chazal et al. (2004)'s DS1 (train) / DS2 (test),
  paced records left out: no patient on both sides.

Contenders, each fitted in its own fresh process on the same episodes:

* ``AutoNet``: ``SignalStandardizer`` + ``AutoNetLCNClassifier(sampling_rate=100,
  class_weight="balanced", max_time=--max-time)`` on the **list of episodes as
  they are** (random crops in training, whole episodes at prediction), its
  validation split by record.
* ``MiniRocket+Ridge``: aeon's MiniRocket does not take unequal lengths, so each
  episode is cut into non-overlapping 5 s windows (the shortest episode), the
  MiniRocket features of its windows are **averaged** into one row per episode
  (they are proportions of positive values, so the mean over windows is the
  proportion over the episode), then a class-balanced ridge.
* ``ResNet1D``: the fixed ResNet-18-style 1-D CNN of the side-by-side suites
  (``benchmarks/torch_contenders.py``), trained on the 5 s windows with the
  episode's label; an episode's probabilities are the mean over its windows.
  Same wall-clock budget as AutoNet.

Reported: per-class F1, macro-F1, balanced accuracy, fit time, parameters.

    python benchmarks/rhythm.py                 # max_time 600 s for AutoNet and the ResNet
    python benchmarks/rhythm.py --quick         # 4 records a side, max_time 20 s: a check

MiniRocket needs aeon (the ``bench`` extra).  Writes
``benchmarks/results/rhythm[_partial].json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np

from data import DATA
from long_records import DS1, DS2, class_scores, markdown_table, parse_options, pick, write_results
from suite import isolated

from sklearn_autonet.ecg import BandpassFilter, load_episodes

CLASSES = ["N", "AF", "B", "T"]
RHYTHMS = {"N": "N", "AFIB": "AF", "AFL": "AF", "B": "B", "T": "T"}
FS = 100.0
MIN_SECONDS, MAX_SECONDS = 5.0, 60.0
CONTENDERS = ("AutoNet", "MiniRocket+Ridge", "ResNet1D")


def load(records):
    """Episodes (a list of ``(1, length_i)`` arrays at :data:`FS`), labels and record ids."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # records without these rhythms are skipped and counted
        data = load_episodes(DATA / "mitdb", records, rhythms=RHYTHMS, min_length=MIN_SECONDS,
                             max_length=MAX_SECONDS, fs=FS, leads="MLII",
                             preprocess=BandpassFilter(0.5, 40, sampling_rate=360))
    return list(data.X), np.asarray(data.y), np.asarray(data.groups)


def windows(X, length):
    """Non-overlapping windows of ``length`` samples of every record, and the record each comes from."""
    parts, owner = [], []
    for i, record in enumerate(X):
        n = record.shape[-1] // length
        parts.append(record[:, : n * length].reshape(record.shape[0], n, length).transpose(1, 0, 2))
        owner.extend([i] * n)
    return np.concatenate(parts).astype(np.float32), np.asarray(owner)


def per_record_mean(values, owner, n_records):
    """Mean of the rows of ``values`` that belong to each record."""
    sums = np.zeros((n_records, values.shape[1]))
    np.add.at(sums, owner, values)
    return sums / np.bincount(owner, minlength=n_records)[:, None]


def _fit_and_predict(name, options, train, test):
    """Child process: fit ``name`` on the training episodes, predict the test episodes."""
    from sklearn.pipeline import make_pipeline

    from sklearn_autonet.ecg import SignalStandardizer

    length = int(MIN_SECONDS * FS)
    start = time.perf_counter()
    if name == "AutoNet":
        from sklearn_autonet import AutoNetLCNClassifier

        model = make_pipeline(SignalStandardizer(), AutoNetLCNClassifier(
            sampling_rate=FS, class_weight="balanced", max_time=options["max_time"], random_state=0))
        model.fit(train["X"], train["y"], autonetlcnclassifier__groups=train["groups"])
        fit_seconds = time.perf_counter() - start
        clf = model[-1]
        extra = {"n_parameters": int(clf.n_parameters_), "architecture": str(clf.architecture_.spec.describe())
                 if hasattr(clf.architecture_, "spec") else repr(clf.architecture_),
                 "candidates": len(clf.search_history_["candidate"]), "stop_reason": clf.stop_reason_}
        return {"y_pred": model.predict(test["X"]).tolist(), "fit_seconds": fit_seconds, **extra}
    standardise = SignalStandardizer()
    W_train, owner_train = windows(standardise.fit_transform(train["X"]), length)
    W_test, owner_test = windows(standardise.transform(test["X"]), length)
    if name == "MiniRocket+Ridge":
        from aeon.transformations.collection.convolution_based import MiniRocket
        from sklearn.linear_model import RidgeClassifierCV
        from sklearn.preprocessing import StandardScaler

        rocket = MiniRocket(random_state=0).fit(W_train.astype(np.float64))
        features = [per_record_mean(rocket.transform(W.astype(np.float64)), owner, len(X))
                    for W, owner, X in ((W_train, owner_train, train["X"]), (W_test, owner_test, test["X"]))]
        ridge = make_pipeline(StandardScaler(), RidgeClassifierCV(alphas=np.logspace(-3, 3, 10),
                                                                  class_weight="balanced"))
        ridge.fit(features[0], train["y"])
        fit_seconds = time.perf_counter() - start
        coef = ridge[-1].coef_
        n_parameters = int(coef.size + ridge[-1].intercept_.size + features[0].shape[1])
        return {"y_pred": ridge.predict(features[1]).tolist(), "fit_seconds": fit_seconds,
                "n_parameters": n_parameters}
    from torch_contenders import ResNet1DClassifier

    net = ResNet1DClassifier(class_weight="balanced", max_time=options["max_time"], random_state=0)
    net.fit(W_train, np.asarray(train["y"])[owner_train], groups=np.asarray(train["groups"])[owner_train])
    fit_seconds = time.perf_counter() - start
    proba = per_record_mean(net.predict_proba(W_test), owner_test, len(test["X"]))
    return {"y_pred": net.classes_[np.argmax(proba, axis=1)].tolist(), "fit_seconds": fit_seconds,
            "n_parameters": int(net.n_parameters_), "epochs": int(net.epochs_)}


def table(rows):
    return markdown_table(rows, ["contender", "macro_f1", *(f"f1_{c}" for c in CLASSES), "balanced_accuracy",
                                 "fit_seconds", "n_parameters", "candidates", "stop_reason"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args = parse_options(parser, argv, CONTENDERS, 600.0)  # max_time for AutoNet and the ResNet
    train_records, test_records = pick(DS1, args.records), pick(DS2, args.records)
    t0 = time.perf_counter()
    X_tr, y_tr, g_tr = load(train_records)
    X_te, y_te, g_te = load(test_records)
    counts = {side: {c: int(np.sum(y == c)) for c in CLASSES} for side, y in (("train", y_tr), ("test", y_te))}
    seconds = np.array([x.shape[-1] for x in X_tr + X_te]) / FS
    print(f"{len(train_records)} DS1 records -> {len(test_records)} DS2 records; episodes of "
          f"{seconds.min():.1f}-{seconds.max():.1f} s (median {np.median(seconds):.1f}) at {FS:g} Hz, read in "
          f"{time.perf_counter() - t0:.0f} s; train {counts['train']}, test {counts['test']}", flush=True)
    train, test = {"X": X_tr, "y": y_tr, "groups": g_tr}, {"X": X_te}
    rows = []
    for name in args.contenders:
        row = class_scores(name, isolated(_fit_and_predict, name, {"max_time": args.max_time}, train, test), y_te,
                           CLASSES)
        rows.append(row)
        print(f"  {name:17s} macro-F1 {row['macro_f1']:.3f}  fit {row['fit_seconds']:.0f} s  "
              f"{row['n_parameters']} parameters", flush=True)
    command = "python benchmarks/rhythm.py " + " ".join(sys.argv[1:] if argv is None else argv)
    partial = args.quick or args.records or args.max_time != 600.0 or len(args.contenders) < len(CONTENDERS)
    suite = "rhythm" + ("_partial" if partial else "")
    block = {"train": "DS1", "test": "DS2", "train_records": train_records, "test_records": test_records,
             "fs": FS, "counts": counts, "max_time": args.max_time, "score": "macro_f1", "results": rows}
    write_results(suite, "mitdb_rhythm_episodes", block, command.strip(),
                  f"Train (DS1) {counts['train']}, test (DS2) {counts['test']} episodes of "
                  f"{MIN_SECONDS:g}-{MAX_SECONDS:g} s at {FS:g} Hz.", table(rows))


if __name__ == "__main__":
    main()
