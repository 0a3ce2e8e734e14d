"""Selection and the final model: the selection rule, ensemble_size and refit, three seeds, three ECG tasks.

For each data set and ``random_state`` 0, 1, 2 one default search runs once
(into a fresh checkpoint folder); the variants then reuse its candidates from
the checkpoints, since the search itself does not depend on ``selection``,
``ensemble_size`` or ``refit`` (none is part of the search's fingerprint).
Each variant is scored on the test split.

* ECG200 and ECGFiveDays: the official UCR splits (``shared/data``).
* MIT-BIH: the embedded subsample (``sklearn_autonet.datasets.load_mitbih_beats``,
  2400 DS1 beats to train, 2388 DS2 beats to test, N/S/V/F, RR features,
  ``groups`` = record), not the whole DS1 -> DS2, which is too slow for this
  machine.

Columns: test balanced accuracy and accuracy (mean +- sd over the seeds),
networks in the final model (members; with k-fold, fold models), its parameters, ``search_seconds`` (the search, shared by the
variants) and ``extra_seconds`` (what the variant adds: ensemble selection,
refit; measured as the fit from the checkpoints).

k-fold variants (``cv=5``, ``cv_max_samples`` above the data size) re-train the
search's best candidates on 5 folds of all the training data; on MIT-BIH only
the default ``ensemble_size`` is run with k-fold (each costs 5 trainings of
every kept candidate on 1900 beats).

    python benchmarks/selection.py [--datasets ECG200 ECGFiveDays MIT-BIH] [--seeds 0 1 2]
                                   [--scoring holdout kfold] [--selection best one_se]
                                   [--defaults-only] [--out selection]
    python benchmarks/selection.py --paired results/a.json results/b.json   # variants against the
                                   # hold-out ensemble, paired by seed, over the runs of both files

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
from data import RESULTS, search_task  # noqa: E402
from suite import mean_and_sd  # noqa: E402

from sklearn_autonet import AutoNetLCNClassifier  # noqa: E402

#: (scoring, ensemble_size, refit); "kfold": 5-fold scoring of the search's best candidates (cv=5,
#: cv_max_samples above the data size), "holdout": the search's 20 % hold-out (cv_max_samples=0)
VARIANTS = [
    ("holdout", 1, False), ("holdout", 3, False), ("holdout", 5, False), ("holdout", 10, False),
    ("holdout", 1, True), ("holdout", 10, True),
    ("kfold", 1, False), ("kfold", 10, False), ("kfold", 10, True),
]
#: k-fold retrains every kept candidate 5 times: on the 2400 MIT-BIH beats only the default ensemble
SLOW = {"MIT-BIH": [("kfold", 10, False)]}
#: the estimator's defaults: hold-out, ensemble_size=10, refit="auto" (refit without groups)
DEFAULT_VARIANT = ("holdout", 10, "auto")


def run(datasets, seeds, variants, rules=("best",)):
    rows = []
    for name in datasets:
        X_train, y_train, X_test, y_test, fit_kwargs, params = search_task(name)
        variants_here = [(*v, rule) for v in variants if v[0] == "holdout" or name not in SLOW or v in SLOW[name]
                         for rule in rules]
        per_variant = {v: [] for v in variants_here}
        for seed in seeds:
            with tempfile.TemporaryDirectory() as folder:
                base = dict(params, random_state=seed, checkpoint_dir=folder, device="cpu")
                started = time.monotonic()
                AutoNetLCNClassifier(**base).fit(X_train, y_train, **fit_kwargs)
                search_seconds = time.monotonic() - started
                for scoring, size, refit, rule in variants_here:
                    started = time.monotonic()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        clf = AutoNetLCNClassifier(
                            **base, ensemble_size=size, refit=refit, cv=5, selection=rule,
                            cv_max_samples=10**9 if scoring == "kfold" else 0,
                        ).fit(X_train, y_train, **fit_kwargs)
                    extra = time.monotonic() - started
                    pred = clf.predict(X_test)
                    per_variant[(scoring, size, refit, rule)].append({
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
                    print(name, seed, scoring, size, refit, rule, per_variant[(scoring, size, refit, rule)][-1],
                          flush=True)
        for (scoring, size, refit, rule), runs in per_variant.items():
            summary = {"dataset": name, "scoring": scoring, "ensemble_size": size, "refit": refit,
                       "selection": rule, "runs": runs}
            summary.update(mean_and_sd(runs, ("balanced_accuracy", "accuracy", "n_parameters", "members",
                                              "search_seconds", "extra_seconds")))
            rows.append(summary)
    return rows


def markdown(rows):
    lines = ["| data | scoring | selection | ensemble_size | refit | balanced acc. | accuracy | networks | "
             "parameters | search s | extra s |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r.get('scoring', 'holdout')} | {r.get('selection', 'best')} | "
            f"{r['ensemble_size']} | {_refit_name(r['refit'])} | "
            f"{r['balanced_accuracy_mean']:.3f} ± {r['balanced_accuracy_sd']:.3f} | "
            f"{r['accuracy_mean']:.3f} ± {r['accuracy_sd']:.3f} | {r['members_mean']:.1f} | "
            f"{r['n_parameters_mean']:.0f} | {r['search_seconds_mean']:.1f} | {r['extra_seconds_mean']:.1f} |"
        )
    return "\n".join(lines)


def _refit_name(refit):
    return refit if isinstance(refit, str) else ("on" if refit else "off")


def paired(rows, baseline=("holdout", 10, False, "best")):
    """Markdown lines: every variant against ``baseline`` on the seeds both ran, paired seed by seed.

    ``rows`` are result rows of one or several runs (``--paired`` joins their
    files, e.g. seeds 0-2 and 3-9); a seed's runs are matched by data set and
    seed.  Columns: seeds, the two means, the mean difference with its
    standard error, and how many seeds were better and worse.
    """
    runs = {}
    for row in rows:
        key = (row["dataset"], row["scoring"], row["ensemble_size"], row["refit"], row.get("selection", "best"))
        for run_ in row["runs"]:
            runs.setdefault(key, {})[run_["seed"]] = run_
    lines = ["| data | variant | seeds | metric | baseline | variant mean | difference ± s.e. | better / worse |",
             "|---|---|---|---|---|---|---|---|"]
    for (dataset, *variant), by_seed in runs.items():
        base = runs.get((dataset, *baseline), {})
        seeds = sorted(set(base) & set(by_seed))
        if tuple(variant) == tuple(baseline) or len(seeds) < 2:
            continue
        for metric in ("balanced_accuracy", "accuracy"):
            b = np.array([base[s][metric] for s in seeds])
            d = np.array([by_seed[s][metric] for s in seeds]) - b
            name = f"{variant[0]}, ensemble_size={variant[1]}, refit={_refit_name(variant[2])}, selection={variant[3]}"
            lines.append(f"| {dataset} | {name} | {len(seeds)} | {metric} | {b.mean():.3f} | {(b + d).mean():.3f} | "
                         f"{d.mean():+.3f} ± {d.std(ddof=1) / np.sqrt(len(d)):.3f} | {(d > 0).sum()} / {(d < 0).sum()} |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["ECG200", "ECGFiveDays", "MIT-BIH"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", default="selection")
    parser.add_argument("--scoring", nargs="+", default=["holdout", "kfold"], choices=["holdout", "kfold"])
    parser.add_argument("--selection", nargs="+", default=["best"], choices=["best", "one_se", "auto"],
                        help="selection rules, each run on every variant (default: best)")
    parser.add_argument("--defaults-only", action="store_true",
                        help="only the estimator's defaults (hold-out, ensemble_size=10, refit='auto'), "
                             "under each --selection rule; paired against the 'best' rule")
    parser.add_argument("--paired", nargs="+", default=None, metavar="JSON",
                        help="print every variant against the hold-out ensemble (ensemble_size=10, refit off), "
                             "paired by seed, over the runs of these result files; runs nothing")
    args = parser.parse_args(argv)
    baseline = (*DEFAULT_VARIANT, "best") if args.defaults_only else ("holdout", 10, False, "best")
    if args.paired:
        rows = [r for p in args.paired for r in json.loads(Path(p).read_text())["results"]]
        print("\n".join(paired(rows, baseline)))
        return
    variants = [DEFAULT_VARIANT] if args.defaults_only else [v for v in VARIANTS if v[0] in args.scoring]
    rows = run(args.datasets, args.seeds, variants, args.selection)
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"command": ("python benchmarks/selection.py " + " ".join(argv or sys.argv[1:])).strip(), "results": rows}
    (RESULTS / f"{args.out}.json").write_text(json.dumps(payload, indent=1))
    table = markdown(rows) + "\n\nPaired by seed against " + ", ".join(map(str, baseline)) + ":\n\n" + \
        "\n".join(paired(rows, baseline))
    (RESULTS / f"{args.out}.md").write_text(f"# selection\n\nReproduce: `{payload['command']}`\n\n{table}\n")
    print(table)


if __name__ == "__main__":
    main()
