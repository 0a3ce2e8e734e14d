"""The training recipe: signal augmentation and the learning-rate schedule, three seeds, ECG tasks.

For each data set, each variant and ``random_state`` 0, 1, 2 one default
search runs (every other parameter at its default, ``device="cpu"``) and is
scored on the test split.  Variants:

* ``none``: no augmentation, constant learning rate (the defaults);
* ``augment``: ``augmentation="default"`` (shift 0.1, scale 0.1, noise 0.05;
  baseline wander only where the sampling rate is known: MIT-BIH);
* ``mixup``: ``augmentation={"mixup": 0.2}``;
* ``cosine``, ``onecycle``: ``lr_schedule``;
* ``augment+cosine``: both.

Data sets:

* ECG200 and ECGFiveDays: the official UCR splits (``shared/data``); their
  sampling rates are not given, so the ``augment`` preset has no wander there.
* MIT-BIH: the embedded subsample (``sklearn_autonet.datasets.load_mitbih_beats``,
  2400 DS1 beats to train, 2388 DS2 beats to test, N/S/V/F, RR features as side
  features, ``groups`` = record, 360 Hz), when asked for (slow: a search is about
  a minute), with the variants given by ``--mitbih-variants``.

Columns: test balanced accuracy and accuracy (mean +- sd over the seeds),
candidates trained, epochs of the selected candidate, parameters, fit seconds.

    python benchmarks/recipe.py [--datasets ECG200 ECGFiveDays MIT-BIH] [--seeds 0 1 2]
                                [--variants none augment ...] [--max-candidates N] [--out recipe]

Writes ``benchmarks/results/recipe.json`` and ``recipe.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

from sklearn.metrics import accuracy_score, balanced_accuracy_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import RESULTS, search_task  # noqa: E402
from suite import mean_and_sd  # noqa: E402

from sklearn_autonet import AutoNetLCNClassifier  # noqa: E402

#: name -> the estimator parameters of the variant
VARIANTS = {
    "none": {},
    "augment": {"augmentation": "default"},
    "mixup": {"augmentation": {"mixup": 0.2}},
    "cosine": {"lr_schedule": "cosine"},
    "onecycle": {"lr_schedule": "onecycle"},
    "augment+cosine": {"augmentation": "default", "lr_schedule": "cosine"},
}


def run(datasets, seeds, variants, mitbih_variants, max_candidates=None, table=None):
    """One default search per data set, variant and seed; ``table`` maps variant names to parameters."""
    table = VARIANTS if table is None else table
    rows = []
    for name in datasets:
        X_train, y_train, X_test, y_test, fit_kwargs, params = search_task(name)
        budget = {} if max_candidates is None else {"max_candidates": max_candidates}
        for variant in (mitbih_variants if name == "MIT-BIH" else variants):
            runs = []
            for seed in seeds:
                started = time.monotonic()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    clf = AutoNetLCNClassifier(**params, **budget, **table[variant], random_state=seed,
                                               device="cpu").fit(X_train, y_train, **fit_kwargs)
                seconds = time.monotonic() - started
                pred = clf.predict(X_test)
                history = clf.search_history_
                runs.append({
                    "seed": seed,
                    "balanced_accuracy": float(balanced_accuracy_score(y_test, pred)),
                    "accuracy": float(accuracy_score(y_test, pred)),
                    "n_parameters": int(clf.n_parameters_),
                    "candidates": len(history["candidate"]),
                    "best_epoch": int(history["best_epoch"][clf.best_index_]),
                    "fit_seconds": seconds,
                })
                print(name, variant, runs[-1], flush=True)
            summary = {"dataset": name, "variant": variant, "parameters": table[variant], "runs": runs}
            summary.update(mean_and_sd(runs, ("balanced_accuracy", "accuracy", "n_parameters", "candidates",
                                              "best_epoch", "fit_seconds")))
            rows.append(summary)
    return rows


def markdown(rows):
    lines = ["| data | variant | balanced acc. | accuracy | candidates | best epoch | parameters | fit s |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['variant']} | "
            f"{r['balanced_accuracy_mean']:.3f} ± {r['balanced_accuracy_sd']:.3f} | "
            f"{r['accuracy_mean']:.3f} ± {r['accuracy_sd']:.3f} | {r['candidates_mean']:.1f} | "
            f"{r['best_epoch_mean']:.1f} | {r['n_parameters_mean']:.0f} | {r['fit_seconds_mean']:.1f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["ECG200", "ECGFiveDays"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--mitbih-variants", nargs="+", default=["none", "augment", "cosine"],
                        choices=list(VARIANTS))
    parser.add_argument("--max-candidates", type=int, default=None, help="default: the estimator's")
    parser.add_argument("--out", default="recipe")
    args = parser.parse_args(argv)
    rows = run(args.datasets, args.seeds, args.variants, args.mitbih_variants, args.max_candidates)
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"command": ("python benchmarks/recipe.py " + " ".join(argv or sys.argv[1:])).strip(), "results": rows}
    (RESULTS / f"{args.out}.json").write_text(json.dumps(payload, indent=1))
    (RESULTS / f"{args.out}.md").write_text(f"# recipe\n\nReproduce: `{payload['command']}`\n\n{markdown(rows)}\n")
    print(markdown(rows))


if __name__ == "__main__":
    main()
