"""Tabular suite: AutoNet, MLPClassifier and HistGradientBoosting on scikit-learn's digits and breast cancer.

5-fold stratified ``cross_validate`` of each contender, accuracy per fold.
AutoNet and the MLP sit behind a ``StandardScaler``.  Every contender runs once
per seed of ``--seeds`` (default 0 1 2), passed as the estimators'
``random_state``; the **folds stay the same** (shuffled with seed 0) for every
seed and contender, so the spread over the seeds is the estimators' own, as in
the hold-out suites, whose splits are fixed.  Per seed the score is the mean
accuracy over the folds; the results give its mean ± sd over the seeds, the
per-seed values, and the parameters and fit time per fold as means
(``suite.aggregate``).

    python benchmarks/tabular.py                      # both data sets, all contenders, seeds 0 1 2
    python benchmarks/tabular.py --datasets digits --contenders HistGB MLP --seeds 0

A partial run (some data sets or contenders, other seeds than 0 1 2) writes ``tabular_partial.*`` instead.  A full run writes ``benchmarks/results/tabular.json``, ``tabular.md`` and one ``tabular_<dataset>.png`` each.
"""

from __future__ import annotations

import argparse
import sys

from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import StratifiedKFold

from contenders import Task, contenders
from suite import run_cv_seeds, write

DATASETS = {"digits": load_digits, "breast_cancer": load_breast_cancer}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--contenders", nargs="+", default=None)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2],
                        help="random_state of every contender, one run each (default: 0 1 2); the folds stay seed 0")
    args = parser.parse_args(argv)
    task = Task(signal_shape=None)
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    blocks = {}
    for dataset in args.datasets:
        X, y = DATASETS[dataset](return_X_y=True)
        print(f"{dataset}: {X.shape[0]} samples, {X.shape[1]} features, {len(set(y))} classes")
        rows = run_cv_seeds(task, list(contenders(task, args.contenders)), X, y, cv, args.seeds)
        blocks[dataset] = {"n_samples": X.shape[0], "cv": "StratifiedKFold(5, shuffle, seed 0)", "seeds": args.seeds,
                           "score": "accuracy", "results": rows}
    command = "python benchmarks/tabular.py " + " ".join(sys.argv[1:] if argv is None else argv)
    # a partial run (some contenders, data sets or options) never replaces the full results
    partial = args.contenders or args.datasets != list(DATASETS) or args.seeds != [0, 1, 2]
    suite = "tabular_partial" if partial else "tabular"
    write(suite, blocks, command.strip())


if __name__ == "__main__":
    main()
