"""How much AutoNet's MIT-BIH result depends on which DS1 records its search validates on.

With ``groups`` the search holds out whole records (``validation_split``):
one fold of scikit-learn's ``StratifiedGroupKFold`` over the DS1 records that
keeps every class in training, the fold ``random_state`` picks.  The folds
themselves depend on the records' class counts only (the shuffle only breaks
ties between records of equally spread class counts): on DS1 every seed makes
the same five.  This script fits AutoNet (the suite's settings: defaults,
``class_weight="balanced"``, the beat and its RR features) once per fold,
each time validating on that fold's records, and scores each on DS2; the
table marks the fold the search itself takes with that seed.

    python benchmarks/validation_folds.py                 # folds 0-4, seed 0 (about 15-45 min on 2 cores)
    python benchmarks/validation_folds.py --folds 2 3 --seeds 0 1
    python benchmarks/validation_folds.py --train-size 3000 --autonet max_candidates=2 max_epochs=3   # a quick check
    python benchmarks/validation_folds.py --autonet max_candidates=1 halving=False ensemble_size=1 \
        --name validation_folds_first     # the search's first network alone, on each fold
    python benchmarks/validation_folds.py --selection best one_se --name validation_folds_rules
                                          # one search per fold, selected by each rule (checkpoints)

With ``--selection`` each fold's search runs once into a checkpoint folder and
every rule selects from the same candidates (``selection`` is not part of the
search's fingerprint); ``fit`` is the search's time, the same for every rule.

The fold is imposed by replacing the estimator's ``validation_split`` for the
fit (this script only: the estimator has no parameter that names the
validation records).  A fold whose training part lacks a class is reported
and skipped.  Writes ``benchmarks/results/validation_folds.{json,md}``
(``validation_folds_partial.*`` for other folds, seeds or options than the
defaults).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
from sklearn.metrics import balanced_accuracy_score, recall_score

import sklearn_autonet.estimator as estimator_module
from sklearn_autonet.validation_split import fit_seed, group_folds, validation_split
from contenders import contenders
from data import RESULTS, mitbih_beats
from mitbih import CLASSES, suite_rows
from suite import autonet_params, environment

N_FOLDS = 5  # the search's default validation_fraction=0.2 makes five folds


def record_folds(y, groups, seed=0):
    """The folds over the records of the search's first draw with ``random_state=seed``
    (``validation_split.group_folds``)."""
    _, group_ids = np.unique(groups, return_inverse=True)
    return group_folds(y, group_ids, N_FOLDS, fit_seed(seed))


def searchs_fold(y, groups, seed, folds):
    """Which of ``folds`` the search validates on with ``random_state=seed`` (None: another split)."""
    _, valid = validation_split(y, groups, random_state=fit_seed(seed))
    return next((k for k, (_, v) in enumerate(folds) if np.array_equal(v, valid)), None)


def fit_on_fold(task, params, seed, train, test, groups, fold):
    """Fit AutoNet validating on ``fold``'s records; its DS2 scores and what it validated on."""
    X_tr, y_tr = train
    model = contenders(task, ["AutoNet"])["AutoNet"](random_state=seed, **params)
    with mock.patch.object(estimator_module, "validation_split", lambda *a, **k: fold):
        start = time.perf_counter()
        model.fit(X_tr, y_tr, groups=groups)
        seconds = time.perf_counter() - start
    y_pred = model.predict(test[0])
    recalls = recall_score(test[1], y_pred, labels=range(len(CLASSES)), average=None, zero_division=0)
    return {
        "balanced_accuracy": float(balanced_accuracy_score(test[1], y_pred)),
        **{f"recall_{c}": float(r) for c, r in zip(CLASSES, recalls)},
        "validation_score": float(model.search_history_["validation_score"][model.best_index_]),
        "n_parameters": int(model.n_parameters_),
        "n_fit": int(model.n_fit_),
        "candidates": len(model.search_history_["candidate"]),
        "fit_seconds": seconds,
    }


def _over_folds(rows):
    """Mean, sd, min and max of the rows' DS2 balanced accuracy ({} without a scored row)."""
    scored = [r["balanced_accuracy"] for r in rows if "balanced_accuracy" in r]
    if not scored:
        return {}
    return {"mean": float(np.mean(scored)), "sd": float(np.std(scored, ddof=1)) if len(scored) > 1 else None,
            "min": float(np.min(scored)), "max": float(np.max(scored))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", nargs="+", type=int, default=list(range(N_FOLDS)))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--train-size", type=int, default=None, help="subsample DS1 (quick checks only)")
    parser.add_argument("--autonet", nargs="+", default=[], metavar="KEY=VALUE",
                        help="AutoNet parameters other than the defaults")
    parser.add_argument("--out", default=str(RESULTS), help="folder of the result files")
    parser.add_argument("--name", default=None, help="name of the result files (default: validation_folds[_partial])")
    parser.add_argument("--selection", nargs="+", default=None, choices=["best", "one_se", "auto"],
                        help="selection rules, each selecting from the same search (default: the estimator's)")
    args = parser.parse_args(argv)
    task, train, test, g_tr = suite_rows(mitbih_beats(train_size=args.train_size, rr=True))
    y_tr = train[1]
    params = autonet_params(args.autonet)
    folds = record_folds(y_tr, g_tr)
    own = {seed: searchs_fold(y_tr, g_tr, seed, folds) for seed in args.seeds}  # the fold each seed's search takes
    rows = []
    for k in args.folds:
        fold_train, fold_valid = folds[k]
        records = sorted(int(r) for r in np.unique(g_tr[fold_valid]))
        counts = np.bincount(y_tr[fold_valid], minlength=len(CLASSES)).tolist()
        row = {"fold": k, "validation_records": records, "validation_counts": dict(zip(CLASSES, counts))}
        if len(np.unique(y_tr[fold_train])) < len(CLASSES):
            print(f"fold {k}: records {records} hold every beat of a class; skipped")
            rows.append({**row, "skipped": "a class has no training beat"})
            continue
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as folder:
                search_seconds = None
                for rule in args.selection or [None]:
                    extra = {} if rule is None else {"selection": rule, "checkpoint_dir": folder}
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", UserWarning)
                        result = fit_on_fold(task, {**params, **extra}, seed, train, test, g_tr,
                                             (fold_train, fold_valid))
                    search_seconds = search_seconds or result["fit_seconds"]
                    result["fit_seconds"] = search_seconds
                    rows.append({**row, "seed": seed, "searchs_own": own[seed] == k,
                                 **({} if rule is None else {"selection": rule}), **result})
                    print(f"fold {k} seed {seed}{'' if rule is None else ' ' + rule}: validation records {records} "
                          f"{counts} -> DS2 balanced accuracy {result['balanced_accuracy']:.3f} (F recall "
                          f"{result['recall_F']:.3f}), validation {result['validation_score']:.3f}, "
                          f"{result['n_parameters']:,} parameters, {result['fit_seconds']:.0f} s", flush=True)
    summary = {rule or "all": _over_folds([r for r in rows if r.get("selection") == rule])
               for rule in args.selection or [None]}
    summary = summary.get("all", summary)
    partial = args.folds != list(range(N_FOLDS)) or args.seeds != [0] or args.train_size or params or args.selection
    name = args.name or "validation_folds" + ("_partial" if partial else "")
    command = "python benchmarks/validation_folds.py " + " ".join(sys.argv[1:] if argv is None else argv)
    out = {"command": command.strip(), "environment": environment(), "autonet_params": params,
           "n_train": len(y_tr), "n_test": len(test[1]), "rows": rows, "balanced_accuracy_over_folds": summary}
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(out, indent=1))
    lines = [f"# {name}", "", f"Reproduce: `{out['command']}`", "",
             "| fold | validation records | validation N / S / V / F | seed | DS2 balanced accuracy | recall N / S / V / F "
             "| validation score | parameters | fit |", "|---|---|---|---|---|---|---|---|---|"]
    if args.selection:
        lines[-2] = lines[-2].replace("| seed |", "| seed | selection |")
        lines[-1] += "---|"
    for r in rows:
        counts = " / ".join(str(v) for v in r["validation_counts"].values())
        if "skipped" in r:
            lines.append(f"| {r['fold']} | {r['validation_records']} | {counts} | | skipped: {r['skipped']} | | | | |")
            continue
        recalls = " / ".join(f"{r[f'recall_{c}']:.3f}" for c in CLASSES)
        own = " (the search's own)" if r.get("searchs_own") else ""
        rule = f" {r['selection']} |" if "selection" in r else ""
        lines.append(f"| {r['fold']} | {r['validation_records']}{own} | {counts} | {r['seed']} |{rule} {r['balanced_accuracy']:.3f} "
                     f"| {recalls} | {r['validation_score']:.3f} | {r['n_parameters']:,} | {r['fit_seconds']:.0f} s |")
    for rule, over in (summary.items() if args.selection else [(None, summary)]):
        if over:
            sd = "" if over["sd"] is None else f" ± {over['sd']:.3f}"
            lines += ["", f"DS2 balanced accuracy over the folds{'' if rule is None else f' ({rule})'}: "
                      f"{over['mean']:.3f}{sd} (min {over['min']:.3f}, max {over['max']:.3f})."]
    (folder / f"{name}.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {folder / name}.json and .md")
    return out


if __name__ == "__main__":
    main()
