"""MIT-BIH inter-patient suite: every contender on DS1 -> DS2, classes N, S, V, F, in one run.

Data: the 30k-beat set of ``shared/data/mitbih_beats`` (DS1 train, DS2 test,
de Chazal et al. 2004), beats of 256 samples at 360 Hz in mV with the beat mean
removed, plus four RR side features (the intervals over the record's mean RR,
``sklearn_autonet.ecg.normalize_rr``).  Every
contender reads the same rows (beat, then normalised RR intervals), uses class weights
("balanced") where it has them and, where it makes a validation split, splits by
record.  Every contender runs once per seed of ``--seeds`` (``random_state``;
default 0 1 2) on the same DS1 / DS2 rows; the results give each score as mean ±
sd over the seeds, the per-seed values, and the parameters and fit time as
means (``suite.aggregate``).  AutoNet runs first; RandomCNN then trains, for each
seed, as many candidates as AutoNet did with that seed.  The ResNet gets
AutoNet's per-candidate epoch budget (100 epochs, early stopping after 10) and at
most ``--resnet-max-time`` seconds per seed.

    python benchmarks/mitbih.py                      # all contenders, seeds 0 1 2 (about 2 h on 2 cores, the ResNet and MiniRocket most of it)
    python benchmarks/mitbih.py --seeds 0            # one seed (a partial run)
    python benchmarks/mitbih.py --contenders AutoNet HistGB
    python benchmarks/mitbih.py --contenders AutoNet --no-groups   # validation beats from training patients
    python benchmarks/mitbih.py --source raw2        # both leads, read from the raw records, seeds 0 1 2
    python benchmarks/mitbih.py --contenders AutoNet --autonet validation_fraction=0.4 --name mitbih_vf04
                                                     # a variant of AutoNet's defaults, into its own files

``--source raw2`` reads the beats from the 44 non-paced raw records of
``shared/data/mitdb`` instead (``data.mitbih_raw_beats``): the same DS1 / DS2,
window, classes and N cap, but **both leads** as a 2-lead signal (de Chazal's
0.83 used both) and the RR side features computed from the whole records by
``sklearn_autonet.ecg.rr_features``; it writes ``mitbih_raw2.*``.

``--combine A.json B.json ...`` joins partial runs of the same source (e.g. the
networks over three seeds and the slow MiniRocket and ResNet over one, or a
contender's seed 0 from one run and seeds 1 and 2 from another: each seed of a
contender once) into one result, each contender aggregated again over all its
seeds and the targets recomputed, and writes it as the full ``mitbih[_raw2].*``.

``--train-size`` subsamples DS1 with seed 0 whatever ``--seeds`` says, so
every seed reads the same rows.  A partial run (some contenders, other seeds
than 0 1 2, or a quick option) writes ``mitbih_partial.*`` instead.  A full run writes
``benchmarks/results/mitbih.json``, ``mitbih.md`` and ``mitbih_ds1_ds2.png``
(``--source raw2``: ``mitbih_raw2[_partial].*`` and ``mitbih_raw2_ds1_ds2.png``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from contenders import Task, contenders
from data import mitbih_beats, mitbih_raw_beats
from suite import aggregate, autonet_params, run_holdout_seeds, write

CLASSES = ["N", "S", "V", "F"]
TARGET = 0.83


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contenders", nargs="+", default=None)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2],
                        help="random_state of every contender, one run each (default: 0 1 2)")
    parser.add_argument("--resnet-max-time", type=float, default=900.0, help="the ResNet's cap in seconds per fit")
    parser.add_argument("--train-size", type=int, default=None, help="subsample DS1 (quick checks only)")
    parser.add_argument("--source", choices=("beats", "raw2"), default="beats",
                        help="beats: the shared one-lead beat set; raw2: both leads read from the raw records")
    parser.add_argument("--class-cap", type=int, default=None,
                        help="raw2: at most this many beats per class and split (quick checks only)")
    parser.add_argument("--no-groups", action="store_true",
                        help="validation splits ignore the records (to see what the split by record changes)")
    parser.add_argument("--autonet", nargs="+", default=[], metavar="KEY=VALUE",
                        help="AutoNet parameters other than the defaults (a variant; values read as Python literals)")
    parser.add_argument("--name", default=None,
                        help="name of the result files (default: mitbih[_raw2][_partial])")
    parser.add_argument("--combine", nargs="+", default=None, metavar="JSON",
                        help="join these partial result files (one source, each contender once) into the full result")
    args = parser.parse_args(argv)
    command = "python benchmarks/mitbih.py " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.combine:
        combine(args.combine, command.strip())
        return
    if args.source == "raw2":
        data = mitbih_raw_beats(class_cap=args.class_cap)
        if args.train_size is not None and args.train_size < len(data["train"][1]):
            pick = np.sort(np.random.RandomState(0).choice(len(data["train"][1]), args.train_size, replace=False))
            data["train"] = tuple(a[pick] for a in data["train"])
    else:
        data = mitbih_beats(train_size=args.train_size, rr=True)
    task, train, test, g_tr = suite_rows(data)
    (_, y_tr), (_, y_te) = train, test
    names = list(contenders(task, args.contenders))
    print(f"MIT-BIH ({args.source}, signal {task.signal_shape}) DS1 {np.bincount(y_tr)} -> DS2 {np.bincount(y_te)} "
          f"(N, S, V, F); contenders: {names}; seeds {args.seeds}")
    variant = autonet_params(args.autonet)
    rows = run_holdout_seeds(task, names, args.seeds, train, test, groups=None if args.no_groups else g_tr,
                             class_names=CLASSES, factory_kwargs={"ResNet1D": {"max_time": args.resnet_max_time},
                                                                  "AutoNet": variant})
    block = {"train": "DS1", "test": "DS2", "source": args.source, "signal_shape": list(task.signal_shape),
             "n_train": len(y_tr), "n_test": len(y_te), "seeds": args.seeds, "score": "balanced_accuracy",
             "target": TARGET, "autonet_params": variant, "results": rows}
    add_targets(block)
    # a partial run (some contenders, data sets or options) never replaces the full results
    partial = (args.contenders or args.no_groups or args.train_size or args.class_cap or variant
               or args.resnet_max_time != 900.0 or args.seeds != [0, 1, 2])
    suite = args.name or "mitbih" + ("_raw2" if args.source == "raw2" else "") + ("_partial" if partial else "")
    write(suite, {"ds1_ds2": block}, command.strip())


def suite_rows(data):
    """``(task, train, test, groups)`` of the suite from ``data`` (``data.mitbih_beats(rr=True)`` or
    ``data.mitbih_raw_beats()``): each row the beat, flattened, then its RR side features."""
    (X_tr, y_tr, g_tr, rr_tr), (X_te, y_te, _, rr_te) = data["train"], data["test"]
    train = (np.hstack([X_tr.reshape(len(X_tr), -1), rr_tr]), y_tr)
    test = (np.hstack([X_te.reshape(len(X_te), -1), rr_te]), y_te)
    task = Task(signal_shape=X_tr.shape[1:], n_side=rr_tr.shape[1], sampling_rate=360, balanced=True)
    return task, train, test, g_tr


def add_targets(block):
    """Add the targets (on the means over the seeds) and AutoNet's parameter ratio to a result block."""
    rows = block["results"]
    resnet = [r for r in rows if r["contender"] == "ResNet1D"]
    autonet = [r for r in rows if r["contender"] == "AutoNet"]
    block.pop("targets", None)
    block.pop("parameter_ratio_to_resnet", None)
    if autonet:
        others = [r["balanced_accuracy"] for r in rows if r["contender"] != "AutoNet"]
        a = autonet[0]
        # on the means over the seeds
        block["targets"] = {
            "balanced_accuracy >= 0.83": a["balanced_accuracy"] >= TARGET,
            "best of all contenders": all(a["balanced_accuracy"] > o for o in others) if others else None,
            "search under 15 min": a["fit_seconds"] < 900,
        }
        if resnet:
            block["parameter_ratio_to_resnet"] = a["n_parameters"] / resnet[0]["n_parameters"]
            block["targets"]["under 5% of the ResNet's parameters"] = block["parameter_ratio_to_resnet"] < 0.05
            block["targets"]["search no longer than one ResNet training"] = a["fit_seconds"] <= resnet[0]["fit_seconds"]
        print("targets:", block["targets"])


def combine(paths, command, results_dir=None):
    """Join partial results of one source into the full result file (see the module docstring)."""
    files = [json.loads(Path(p).read_text()) for p in paths]
    blocks = [f["datasets"]["ds1_ds2"] for f in files]
    sources = {b.get("source", "beats") for b in blocks}
    if len(sources) != 1:
        raise SystemExit(f"--combine: the files hold different sources {sorted(sources)}")
    runs = {}  # contender -> its per-seed rows, from every file, in the files' order
    for b in blocks:
        for row in b["results"]:
            runs.setdefault(row["contender"], []).extend(row["runs"])
    rows = []
    for name, seeds_runs in runs.items():
        seeds = [r["seed"] for r in seeds_runs]
        if len(set(seeds)) != len(seeds):
            raise SystemExit(f"--combine: {name} has seed(s) {sorted({x for x in seeds if seeds.count(x) > 1})} "
                             "in several files; give each seed of a contender once")
        rows.append(aggregate(sorted(seeds_runs, key=lambda r: r["seed"])))
    block = dict(blocks[0], results=rows, seeds=sorted({s for r in rows for s in r["seeds"]}))
    # a joined file read again keeps the commands it was joined from
    block["commands"] = [c for f, b in zip(files, blocks) for c in b.get("commands", [f["command"]])]
    add_targets(block)
    suite = "mitbih" + ("_raw2" if sources == {"raw2"} else "")
    return write(suite, {"ds1_ds2": block}, command, **({} if results_dir is None else {"results_dir": results_dir}))


if __name__ == "__main__":
    main()
