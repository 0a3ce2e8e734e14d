"""Same results before and after a refactoring: dump default fits in each checkout, then compare.

Fits ``AutoNetLCNClassifier`` with the checkout's defaults (plus any ``--param name=value``)
on UCR ECG200 (``random_state`` 0 and 1) and scikit-learn's breast cancer (StandardScaler,
``random_state`` 0), and saves ``search_history_`` (architectures, epochs, validation
scores, seeds, rounds) and ``predict_proba`` on the test rows.

    git worktree add /tmp/before <old commit>
    (cd /tmp/before && python /path/to/benchmarks/equivalence.py dump /tmp/before.pkl)
    python benchmarks/equivalence.py dump /tmp/after.pkl
    python benchmarks/equivalence.py compare /tmp/before.pkl /tmp/after.pkl

Run the dumps with the same torch thread count (e.g. ``OMP_NUM_THREADS=1``).
"""

from __future__ import annotations

import argparse
import ast
import pickle
import sys
from pathlib import Path

import numpy as np

COLUMNS = ("candidate", "architecture", "epochs", "best_epoch", "validation_score", "seed", "round", "selected",
           "n_parameters", "max_epochs", "epoch_patience")


def dump(path, params):
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.path.insert(0, str(Path.cwd()))  # the package of the checkout this runs in, before anything imports it
    from data import ucr

    import sklearn_autonet
    from sklearn_autonet import AutoNetLCNClassifier

    print("package:", Path(sklearn_autonet.__file__).parent)

    out = {}
    X_tr, y_tr, X_te, _ = ucr("ECG200")
    for seed in (0, 1):
        clf = AutoNetLCNClassifier(random_state=seed, **params).fit(X_tr, y_tr)
        out[f"ecg200_{seed}"] = ({k: clf.search_history_[k] for k in COLUMNS}, clf.predict_proba(X_te),
                                 clf.stop_reason_)
    X, y = load_breast_cancer(return_X_y=True)
    X_tr, X_te, y_tr, _ = train_test_split(X, y, random_state=0, stratify=y)
    scaler = StandardScaler().fit(X_tr)
    clf = AutoNetLCNClassifier(random_state=0, **params).fit(scaler.transform(X_tr), y_tr)
    out["cancer_0"] = ({k: clf.search_history_[k] for k in COLUMNS}, clf.predict_proba(scaler.transform(X_te)),
                       clf.stop_reason_)
    Path(path).write_bytes(pickle.dumps(out))
    for key, (history, _, stop) in out.items():
        print(key, stop, history["architecture"], history["epochs"])


def compare(before, after):
    a, b = pickle.loads(Path(before).read_bytes()), pickle.loads(Path(after).read_bytes())
    same = True
    for key in a:
        (ha, pa, sa), (hb, pb, sb) = a[key], b[key]
        history = all(ha[c] == hb[c] for c in COLUMNS)
        proba = np.array_equal(pa, pb)
        print(f"{key}: search_history_ identical {history}, predict_proba identical {proba} "
              f"(max |diff| {np.abs(pa - pb).max():.3g}), stop_reason {sa} / {sb}")
        same &= history and proba and sa == sb
    print("ALL IDENTICAL" if same else "DIFFERENT")
    return same


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("path")
    d.add_argument("--param", action="append", default=[], help="name=value (a Python literal)")
    c = sub.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    args = parser.parse_args(argv)
    if args.command == "dump":
        params = {k: ast.literal_eval(v) for k, v in (p.split("=", 1) for p in args.param)}
        dump(args.path, params)
    else:
        sys.exit(0 if compare(args.before, args.after) else 1)


if __name__ == "__main__":
    main()
