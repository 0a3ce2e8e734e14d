"""Training schedules side by side: end_to_end vs layerwise, with and without warm growth.

For each dataset and configuration the whole default search runs (only the
schedule / warm-growth parameters change) and the script reports the test
score, the search time, the epochs summed over all candidates, the number of
candidates and the selected architecture.

* UCR ECG200, official split: accuracy, over ``--seeds`` random states.
* MIT-BIH DS1 -> DS2 (classes N, S, V, F, ``groups`` = record,
  ``class_weight="balanced"``, ``sampling_rate=360``): balanced accuracy.  DS1 is
  subsampled to ``--mitbih-train-size`` beats and the search capped at
  ``--mitbih-max-candidates`` candidates so that all four configurations fit in
  one run on a 2-core CPU; the defaults say so in the JSON.

Run: ``python benchmarks/schedules.py [--datasets ecg200 mitbih] [--seeds 0 1 2]``
Prints a table and writes ``benchmarks/results/schedules.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
from sklearn.metrics import balanced_accuracy_score

from data import RESULTS, ecg200, mitbih_beats
from sklearn_autonet import AutoNetLCNClassifier

CONFIGS = {
    "end_to_end": dict(schedule="end_to_end", warm_growth=False),
    "end_to_end+warm": dict(schedule="end_to_end", warm_growth=True),
    "layerwise": dict(schedule="layerwise", warm_growth=False),
    "layerwise+warm": dict(schedule="layerwise", warm_growth=True),
}


def run(clf, X_train, y_train, X_test, y_test, metric, groups=None):
    start = time.perf_counter()
    clf.fit(X_train, y_train, groups=groups)
    seconds = time.perf_counter() - start
    history = clf.search_history_
    return {
        "score": float(metric(y_test, clf.predict(X_test))),
        "seconds": seconds,
        "epochs": int(sum(history["epochs"])),
        "candidates": len(history["candidate"]),
        "architecture": clf.architecture_.spec.describe(),
        "n_parameters": clf.n_parameters_,
        "stop_reason": clf.stop_reason_,
        "warm_layers": [list(w) for w in history["warm_layers"]],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["ecg200", "mitbih"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--mitbih-train-size", type=int, default=5000)
    parser.add_argument("--mitbih-max-candidates", type=int, default=3)
    args = parser.parse_args(argv)

    results = {"settings": vars(args), "runs": []}
    accuracy = lambda a, b: float(np.mean(a == b))  # noqa: E731
    for dataset in args.datasets:
        for name, config in CONFIGS.items():
            if dataset == "ecg200":
                X_train, y_train, X_test, y_test = ecg200()
                for seed in args.seeds:
                    clf = AutoNetLCNClassifier(random_state=seed, **config)
                    row = run(clf, X_train, y_train, X_test, y_test, accuracy)
                    results["runs"].append({"dataset": dataset, "config": name, "seed": seed, **row})
                    print(dataset, name, seed, f"{row['score']:.3f}", f"{row['seconds']:.1f}s", row["epochs"], flush=True)
            else:
                data = mitbih_beats(train_size=args.mitbih_train_size)
                X_train, y_train, g_train = data["train"]
                X_test, y_test, _ = data["test"]
                clf = AutoNetLCNClassifier(
                    sampling_rate=360,
                    class_weight="balanced",
                    max_candidates=args.mitbih_max_candidates,
                    random_state=0,
                    **config,
                )
                row = run(clf, X_train, y_train, X_test, y_test, balanced_accuracy_score, groups=g_train)
                results["runs"].append({"dataset": dataset, "config": name, "seed": 0, **row})
                print(dataset, name, 0, f"{row['score']:.3f}", f"{row['seconds']:.1f}s", row["epochs"], flush=True)
    print()
    print(f"{'dataset':8} {'config':16} {'score':>13} {'seconds':>8} {'epochs':>7} {'cands':>6}")
    for dataset in args.datasets:
        for name in CONFIGS:
            runs = [r for r in results["runs"] if r["dataset"] == dataset and r["config"] == name]
            scores = [r["score"] for r in runs]
            spread = f"±{statistics.pstdev(scores):.3f}" if len(scores) > 1 else ""
            print(
                f"{dataset:8} {name:16} {statistics.mean(scores):7.3f}{spread:>6} "
                f"{statistics.mean(r['seconds'] for r in runs):8.1f} "
                f"{statistics.mean(r['epochs'] for r in runs):7.1f} "
                f"{statistics.mean(r['candidates'] for r in runs):6.1f}"
            )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "schedules.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
