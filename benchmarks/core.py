"""The default estimator on real ECG: found architecture, test score and fit time.

* UCR ECG200, official split: ``AutoNetLCNClassifier(random_state=0)``; accuracy.
* MIT-BIH DS1 -> DS2, classes N, S, V, F (beats in mV, mean removed):
  ``AutoNetLCNClassifier(sampling_rate=360, class_weight="balanced",
  random_state=0)`` fitted with ``groups`` = record; balanced accuracy,
  per-class recall and macro-F1 on DS2.

Run: ``python benchmarks/core.py [--datasets ecg200 mitbih]``
Prints the results and writes ``benchmarks/results/core.json``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score

from data import RESULTS, ecg200, mitbih_beats
from sklearn_autonet import AutoNetLCNClassifier


def report(name, clf, seconds, y_test, y_pred):
    row = {
        "dataset": name,
        "architecture": clf.architecture_.spec.describe(),
        "n_parameters": clf.n_parameters_,
        "fit_seconds": seconds,
        "stop_reason": clf.stop_reason_,
        "candidates": len(clf.search_history_["candidate"]),
        "accuracy": float(np.mean(y_test == y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_test, y_pred)),
        "macro_f1": float(f1_score(y_test, y_pred, average="macro")),
        "recall_per_class": [float(r) for r in recall_score(y_test, y_pred, average=None)],
    }
    print(f"== {name}: {row['architecture']} ({row['n_parameters']} parameters)")
    print(clf.architecture_)
    for key in ("fit_seconds", "stop_reason", "candidates", "accuracy", "balanced_accuracy", "macro_f1", "recall_per_class"):
        print(f"   {key}: {row[key]}")
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["ecg200", "mitbih"])
    args = parser.parse_args(argv)
    rows = []
    if "ecg200" in args.datasets:
        X_train, y_train, X_test, y_test = ecg200()
        start = time.perf_counter()
        clf = AutoNetLCNClassifier(random_state=0).fit(X_train, y_train)
        rows.append(report("ecg200", clf, time.perf_counter() - start, y_test, clf.predict(X_test)))
    if "mitbih" in args.datasets:
        data = mitbih_beats()
        X_train, y_train, g_train = data["train"]
        X_test, y_test, _ = data["test"]
        clf = AutoNetLCNClassifier(sampling_rate=360, class_weight="balanced", random_state=0, verbose=1)
        start = time.perf_counter()
        clf.fit(X_train, y_train, groups=g_train)
        rows.append(report("mitbih_ds1_ds2", clf, time.perf_counter() - start, y_test, clf.predict(X_test)))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "results": rows}
    (RESULTS / "core.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
