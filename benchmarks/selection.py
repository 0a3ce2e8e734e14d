"""Selection and the final model: ensemble_size and refit, three seeds, three ECG tasks.

For each data set and ``random_state`` 0, 1, 2 one default search runs once
(into a fresh checkpoint folder); the variants then reuse its candidates from
the checkpoints, since the search itself does not depend on ``ensemble_size``
or ``refit`` (neither is part of the search's fingerprint).  Each variant is
scored on the test split.

* ECG200 and ECGFiveDays: the official UCR splits (``shared/data``).
* MIT-BIH: the embedded subsample (``sklearn_autonet.datasets.load_mitbih_beats``,
  2400 DS1 beats to train, 2388 DS2 beats to test, N/S/V/F, RR features,
  ``groups`` = record), not the whole DS1 -> DS2, which is too slow for this
  machine.

Columns: test balanced accuracy and accuracy (mean +- sd over the seeds),
parameters of the final model, ``search_seconds`` (the search, shared by the
variants) and ``extra_seconds`` (what the variant adds: ensemble selection,
refit; measured as the fit from the checkpoints).

Not measured here (not implemented): k-fold scoring of the candidates.

    python benchmarks/selection.py [--quick] [--datasets ECG200 ECGFiveDays MIT-BIH]

Writes ``benchmarks/results/selection.json`` and ``selection.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import RESULTS, ucr  # noqa: E402

from sklearn_autonet import AutoNetLCNClassifier  # noqa: E402
from sklearn_autonet.datasets import load_mitbih_beats  # noqa: E402

VARIANTS = [  # (ensemble_size, refit)
    (1, False), (3, False), (5, False), (10, False),
    (1, True), (5, True),
]


def task(name):
    """``(X_train, y_train, X_test, y_test, fit_kwargs, estimator_kwargs)``."""
    if name == "MIT-BIH":
        train, test = load_mitbih_beats("train"), load_mitbih_beats("test")
        return (train.data, train.target, test.data, test.target, {"groups": train.groups},
                {"signal_shape": train.signal_shape, "sampling_rate": train.sampling_rate})
    X_train, y_train, X_test, y_test = ucr(name)
    return X_train, y_train, X_test, y_test, {}, {}


def run(datasets, seeds, variants):
    rows = []
    for name in datasets:
        X_train, y_train, X_test, y_test, fit_kwargs, params = task(name)
        per_variant = {v: [] for v in variants}
        for seed in seeds:
            with tempfile.TemporaryDirectory() as folder:
                base = dict(params, random_state=seed, checkpoint_dir=folder, device="cpu")
                started = time.monotonic()
                AutoNetLCNClassifier(**base).fit(X_train, y_train, **fit_kwargs)
                search_seconds = time.monotonic() - started
                for size, refit in variants:
                    started = time.monotonic()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        clf = AutoNetLCNClassifier(**base, ensemble_size=size, refit=refit).fit(
                            X_train, y_train, **fit_kwargs)
                    extra = time.monotonic() - started
                    pred = clf.predict(X_test)
                    per_variant[(size, refit)].append({
                        "seed": seed,
                        "balanced_accuracy": float(balanced_accuracy_score(y_test, pred)),
                        "accuracy": float(accuracy_score(y_test, pred)),
                        "n_parameters": int(clf.n_parameters_),
                        "members": int(len(clf.ensemble_weights_)),
                        "search_seconds": search_seconds,
                        "extra_seconds": extra,
                        "candidates": len(clf.search_history_["candidate"]),
                        "ok_candidates": int(sum(s == "ok" for s in clf.search_history_["status"])),
                    })
                    print(name, seed, size, refit, per_variant[(size, refit)][-1], flush=True)
        for (size, refit), runs in per_variant.items():
            summary = {"dataset": name, "ensemble_size": size, "refit": refit, "runs": runs}
            for key in ("balanced_accuracy", "accuracy", "n_parameters", "members", "search_seconds",
                        "extra_seconds"):
                values = np.array([r[key] for r in runs], dtype=float)
                summary[f"{key}_mean"] = float(values.mean())
                summary[f"{key}_sd"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            rows.append(summary)
    return rows


def markdown(rows):
    lines = ["| data | ensemble_size | refit | balanced acc. | accuracy | members | parameters | "
             "search s | extra s |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['ensemble_size']} | {'on' if r['refit'] else 'off'} | "
            f"{r['balanced_accuracy_mean']:.3f} ± {r['balanced_accuracy_sd']:.3f} | "
            f"{r['accuracy_mean']:.3f} ± {r['accuracy_sd']:.3f} | {r['members_mean']:.1f} | "
            f"{r['n_parameters_mean']:.0f} | {r['search_seconds_mean']:.1f} | {r['extra_seconds_mean']:.1f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["ECG200", "ECGFiveDays", "MIT-BIH"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", default="selection")
    args = parser.parse_args(argv)
    rows = run(args.datasets, args.seeds, VARIANTS)
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"command": "python benchmarks/selection.py " + " ".join(argv or sys.argv[1:]), "results": rows}
    (RESULTS / f"{args.out}.json").write_text(json.dumps(payload, indent=1))
    (RESULTS / f"{args.out}.md").write_text(f"# selection\n\nReproduce: `{payload['command']}`\n\n{markdown(rows)}\n")
    print(markdown(rows))


if __name__ == "__main__":
    main()
