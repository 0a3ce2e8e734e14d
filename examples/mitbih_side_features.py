"""MIT-BIH DS1 -> DS2 (inter-patient): what RR side features add to the beat waveform.

Two arms, the same search and seed: the beat alone as a (n, 1, 256) signal, and
the beat plus four RR side features (the intervals over the record's mean RR) in one 2-D array read with
``signal_shape=(1, 256)``.  Classes N, S, V, F; the validation split of the
search is grouped by record.  Reads ../shared/data/mitbih_beats (exits 0 with a
message when it is missing).

    python examples/mitbih_side_features.py                      # full default search
    python examples/mitbih_side_features.py --max-candidates 2   # a shorter search
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score

from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet.datasets import mitbih_mean_rr
from sklearn_autonet.ecg import normalize_rr

DEFAULT_FILE = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mitbih_beats" / "mitbih_beats_ds1_ds2.npz"
CLASSES = ["N", "S", "V", "F"]


def load(path, subset):
    """Beats (mV, per-beat mean removed), normalised RR intervals, labels N,S,V,F and records of one subset."""
    d = np.load(path)
    keep = d[f"y_{subset}"] < 4
    X = d[f"X_{subset}"][keep].astype(np.float32) / np.float32(d["adu_per_mV"])
    X -= X.mean(axis=1, keepdims=True)
    records = d[f"record_{subset}"][keep]
    side = normalize_rr(d[f"rr_{subset}"][keep], mitbih_mean_rr(records)).astype(np.float32)
    return X[:, None, :], side, d[f"y_{subset}"][keep].astype(int), d[f"record_{subset}"][keep]


def scores(y_true, y_pred):
    recall = recall_score(y_true, y_pred, labels=range(4), average=None, zero_division=0)
    return {
        "balanced_accuracy": balanced_accuracy_score(y_true, y_pred),
        "macro_f1": f1_score(y_true, y_pred, labels=range(4), average="macro", zero_division=0),
        **{f"recall_{c}": r for c, r in zip(CLASSES, recall)},
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_FILE))
    parser.add_argument("--max-candidates", type=int, default=10)
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument("--arms", default="signal,signal+rr")
    args = parser.parse_args(argv)
    if not Path(args.data).is_file():
        print(f"MIT-BIH beats not found at {args.data}; see shared/data/README.md. Nothing to do.")
        return 0
    X_tr, F_tr, y_tr, g_tr = load(args.data, "train")
    X_te, F_te, y_te, _ = load(args.data, "test")
    print(f"train (DS1) {np.bincount(y_tr)}  test (DS2) {np.bincount(y_te)}  (N, S, V, F)")
    for arm in args.arms.split(","):
        if arm == "signal":
            train, test, extra = X_tr, X_te, {}
        else:
            train = np.hstack([X_tr.reshape(len(X_tr), -1), F_tr])
            test = np.hstack([X_te.reshape(len(X_te), -1), F_te])
            extra = {"signal_shape": X_tr.shape[1:]}
        clf = AutoNetLCNClassifier(
            sampling_rate=360, class_weight="balanced", random_state=0,
            max_candidates=args.max_candidates, max_epochs=args.max_epochs, **extra,
        )
        start = time.perf_counter()
        clf.fit(train, y_tr, groups=g_tr)
        seconds = time.perf_counter() - start
        result = scores(y_te, clf.predict(test))
        print(f"\n[{arm}] {clf.architecture_.spec.describe()}  stop={clf.stop_reason_}  "
              f"candidates={len(clf.search_history_['candidate'])}  fit {seconds:.0f} s")
        print("  " + "  ".join(f"{k} {v:.3f}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
