"""UCR ECG suite: every contender on ECG200 and ECGFiveDays, official splits, in one run.

The series are the archive's z-normalised ones, as (n, 1, T) signals without a
sampling rate.  No class weights (the published accuracies use none).
Every contender runs once per seed of ``--seeds`` (``random_state``; default
0 1 2) on the official split; the results give the accuracy as mean ± sd over
the seeds, the per-seed values, and the parameters and fit time as means
(``suite.aggregate``).  AutoNet runs first on each data set; RandomCNN trains,
for each seed, as many candidates as AutoNet did with that seed.

    python benchmarks/ucr.py                          # both data sets, all contenders, seeds 0 1 2
    python benchmarks/ucr.py --datasets ECG200 --contenders AutoNet MiniRocket+Ridge --seeds 0
    python benchmarks/ucr.py --contenders AutoNet --autonet max_candidates=1 halving=False ensemble_size=1 \
        --name ucr_first                              # a variant of AutoNet's defaults, into its own files

A partial run (some data sets or contenders, other seeds than 0 1 2, an ``--autonet``
variant) writes ``ucr_partial.*`` (or ``--name``) instead.  A full run writes ``benchmarks/results/ucr.json``, ``ucr.md`` and one ``ucr_<dataset>.png`` each.
"""

from __future__ import annotations

import argparse
import sys

from contenders import Task, contenders
from data import ucr
from suite import autonet_params, run_holdout_seeds, write

#: Accuracy targets (published ROCKET / InceptionTime: ECG200 0.906 / 0.930, ECGFiveDays 1.000 / 1.000).
TARGETS = {"ECG200": 0.93, "ECGFiveDays": 0.99}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(TARGETS))
    parser.add_argument("--contenders", nargs="+", default=None)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2],
                        help="random_state of every contender, one run each (default: 0 1 2)")
    parser.add_argument("--autonet", nargs="+", default=[], metavar="KEY=VALUE",
                        help="AutoNet parameters other than the defaults, e.g. ensemble_size=1")
    parser.add_argument("--name", default=None, help="name of the result files (default: ucr[_partial])")
    args = parser.parse_args(argv)
    variant = autonet_params(args.autonet)
    blocks = {}
    for dataset in args.datasets:
        X_tr, y_tr, X_te, y_te = ucr(dataset)
        task = Task(signal_shape=X_tr.shape[1:])
        train, test = (X_tr.reshape(len(X_tr), -1), y_tr), (X_te.reshape(len(X_te), -1), y_te)
        print(f"{dataset}: train {len(y_tr)}, test {len(y_te)}, length {X_tr.shape[-1]}")
        rows = run_holdout_seeds(task, list(contenders(task, args.contenders)), args.seeds, train, test,
                                 factory_kwargs={"AutoNet": variant})
        block = {"n_train": len(y_tr), "n_test": len(y_te), "seeds": args.seeds, "score": "accuracy",
                 "target": TARGETS.get(dataset), "autonet_params": variant,
                 "results": rows}
        autonet = [r for r in rows if r["contender"] == "AutoNet"]
        if autonet and dataset in TARGETS:
            # on the mean over the seeds
            block["targets"] = {f"accuracy >= {TARGETS[dataset]}": autonet[0]["accuracy"] >= TARGETS[dataset]}
            print("targets:", block["targets"])
        blocks[dataset] = block
    command = "python benchmarks/ucr.py " + " ".join(sys.argv[1:] if argv is None else argv)
    # a partial run (some contenders, data sets or options) never replaces the full results
    partial = args.contenders or args.datasets != list(TARGETS) or args.seeds != [0, 1, 2] or variant
    suite = args.name or ("ucr_partial" if partial else "ucr")
    write(suite, blocks, command.strip())


if __name__ == "__main__":
    main()
