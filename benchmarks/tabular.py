"""Tabular suite: AutoNet, MLPClassifier and HistGradientBoosting on scikit-learn's digits and breast cancer.

5-fold stratified ``cross_validate`` (shuffled, seed 0) of each contender,
accuracy per fold.  AutoNet and the MLP sit behind a ``StandardScaler``.

    python benchmarks/tabular.py

A partial run writes ``tabular_partial.*`` instead.  A full run writes ``benchmarks/results/tabular.json``, ``tabular.md`` and one ``tabular_<dataset>.png`` each.
"""

from __future__ import annotations

import argparse
import sys

from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import StratifiedKFold

from contenders import Task, contenders
from suite import run_cv, write

DATASETS = {"digits": load_digits, "breast_cancer": load_breast_cancer}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--contenders", nargs="+", default=None)
    args = parser.parse_args(argv)
    task = Task(signal_shape=None)
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    blocks = {}
    for dataset in args.datasets:
        X, y = DATASETS[dataset](return_X_y=True)
        print(f"{dataset}: {X.shape[0]} samples, {X.shape[1]} features, {len(set(y))} classes")
        rows = [run_cv(task, name, X, y, cv) for name in contenders(task, args.contenders)]
        blocks[dataset] = {"n_samples": X.shape[0], "cv": "StratifiedKFold(5, shuffle, seed 0)", "results": rows}
    command = "python benchmarks/tabular.py " + " ".join(sys.argv[1:] if argv is None else argv)
    # a partial run (some contenders, data sets or options) never replaces the full results
    suite = "tabular_partial" if args.contenders or args.datasets != list(DATASETS) else "tabular"
    write(suite, blocks, command.strip())


if __name__ == "__main__":
    main()
