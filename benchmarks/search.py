"""The search policies side by side: the old line ("deepen") against the default ("explore" + halving).

On UCR ECG200, UCR ECGFiveDays (official splits) and MIT-BIH DS1 -> DS2 (beat + normalised
RR intervals, class weights, validation split by record), three seeds each, every
arm in the same run: test score (accuracy for UCR, balanced accuracy for
MIT-BIH), candidates, total epochs, wall seconds, parameters; and the fixed 1-D
ResNet of ``benchmarks/torch_contenders.py`` trained once per data set in the
same run, for its training time.

    python benchmarks/search.py                                  # all (about 40 min on 2 cores)
    python benchmarks/search.py --datasets ECG200 ECGFiveDays    # the UCR part only

Writes ``benchmarks/results/search.json`` (``search_partial.json`` for a partial run)
and prints a table of mean ± sd over the seeds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score

from data import RESULTS, mitbih_beats, ucr
from suite import environment
from torch_contenders import ResNet1DClassifier

from sklearn_autonet import AutoNetLCNClassifier

ARMS = {
    "deepen (old line)": dict(growth="deepen", halving=False),
    "explore + halving (default)": dict(),
}
DATASETS = ("ECG200", "ECGFiveDays", "MIT-BIH")


def load(name):
    """``(train, test, fit_kwargs, estimator_kwargs, score)`` of one data set."""
    if name == "MIT-BIH":
        data = mitbih_beats(rr=True)
        (X_tr, y_tr, g_tr, rr_tr), (X_te, y_te, _, rr_te) = data["train"], data["test"]
        train = (np.hstack([X_tr.reshape(len(X_tr), -1), rr_tr]), y_tr)
        test = (np.hstack([X_te.reshape(len(X_te), -1), rr_te]), y_te)
        kwargs = dict(signal_shape=X_tr.shape[1:], sampling_rate=360, class_weight="balanced")
        return train, test, {"groups": g_tr}, kwargs, balanced_accuracy_score
    X_tr, y_tr, X_te, y_te = ucr(name)
    return (X_tr, y_tr), (X_te, y_te), {}, {}, accuracy_score


def run_arm(arm, params, seed, train, test, fit_kwargs, kwargs, score):
    start = time.monotonic()
    clf = AutoNetLCNClassifier(random_state=seed, **kwargs, **params).fit(*train, **fit_kwargs)
    seconds = time.monotonic() - start
    history = clf.search_history_
    return {
        "arm": arm,
        "seed": seed,
        "test_score": float(score(test[1], clf.predict(test[0]))),
        "candidates": len(history["candidate"]),
        "rounds": max(history["round"]),
        "total_epochs": int(sum(history["epochs"])),
        "seconds": seconds,
        "n_parameters": int(clf.n_parameters_),
        "architecture": clf.architecture_.spec.describe(),
        "stop_reason": clf.stop_reason_,
        "validation_scores": [float(v) for v in history["validation_score"]],
    }


def summary(rows):
    out = {}
    for arm in ARMS:
        mine = [r for r in rows if r["arm"] == arm]
        if not mine:
            continue
        out[arm] = {
            key: (float(np.mean([r[key] for r in mine])), float(np.std([r[key] for r in mine])))
            for key in ("test_score", "candidates", "total_epochs", "seconds", "n_parameters")
        }
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--resnet-max-time", type=float, default=900.0)
    parser.add_argument("--no-resnet", action="store_true")
    args = parser.parse_args(argv)
    blocks = {}
    for name in args.datasets:
        train, test, fit_kwargs, kwargs, score = load(name)
        rows = []
        for seed in args.seeds:
            for arm, params in ARMS.items():
                row = run_arm(arm, params, seed, train, test, fit_kwargs, kwargs, score)
                rows.append(row)
                print(f"{name} seed {seed} {arm}: score {row['test_score']:.3f}, {row['candidates']} candidates, "
                      f"{row['total_epochs']} epochs, {row['seconds']:.1f} s, {row['architecture']}", flush=True)
        block = {"rows": rows, "summary": summary(rows)}
        if not args.no_resnet:
            resnet = ResNet1DClassifier(signal_shape=kwargs.get("signal_shape"), class_weight=kwargs.get("class_weight"),
                                        max_time=args.resnet_max_time, random_state=0)
            start = time.monotonic()
            resnet.fit(*train, **fit_kwargs)
            block["resnet"] = {"seconds": time.monotonic() - start, "epochs": resnet.epochs_,
                               "test_score": float(score(test[1], resnet.predict(test[0]))),
                               "n_parameters": int(resnet.n_parameters_)}
            print(f"{name} ResNet1D: {block['resnet']}", flush=True)
        blocks[name] = block
        for arm, stats in block["summary"].items():
            cells = ", ".join(f"{k} {m:.3f} ± {s:.3f}" for k, (m, s) in stats.items())
            print(f"{name} | {arm} | {cells}", flush=True)
    partial = args.datasets != list(DATASETS) or args.seeds != [0, 1, 2] or args.no_resnet
    path = RESULTS / ("search_partial.json" if partial else "search.json")
    command = "python benchmarks/search.py " + " ".join(sys.argv[1:] if argv is None else argv)
    table = []
    for name, block in blocks.items():
        for arm, stats in block["summary"].items():
            row = {"dataset": name, "arm": arm}
            row.update({k: f"{m:.3f} ± {s:.3f}" if k == "test_score" else f"{m:.1f} ± {s:.1f}"
                        for k, (m, s) in stats.items()})
            table.append(row)
        if "resnet" in block:
            table.append({"dataset": name, "arm": "ResNet1D (one fit, seed 0)",
                          "test_score": f"{block['resnet']['test_score']:.3f}",
                          "total_epochs": block["resnet"]["epochs"], "seconds": f"{block['resnet']['seconds']:.1f}",
                          "n_parameters": block["resnet"]["n_parameters"]})
    payload = {"command": command.strip(), "environment": environment(), "table": table, "datasets": blocks}
    path.write_text(json.dumps(payload, indent=2, default=float))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
