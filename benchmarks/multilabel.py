"""MIT-BIH 10 s windows, multi-label: which of the S, V, F beat classes a window contains.

Inter-patient: the windows of some DS1 records train, those of some DS2 records test
(de Chazal's lists; no patient on both sides).  One lead at 90 Hz, windows side by
side.  A window's targets are the AAMI classes of the beats annotated inside it; N
is left out (nearly every window holds a normal beat).  For ``class_weight`` None and
"balanced", one AutoNet fit each; its test probabilities are scored per label with
the threshold 0.5 and with the thresholds tuned on the search's validation split
(``threshold="tuned"``, read from the same fit's ``thresholds_``).

    python benchmarks/multilabel.py                       # about a minute per fit on 2 cores
    python benchmarks/multilabel.py --max-candidates 2 --max-epochs 5

Writes ``benchmarks/results/multilabel.json``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from sklearn.metrics import average_precision_score, f1_score

from data import DATA, RESULTS
from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet.ecg import AAMI_MAP, load_windows

LABELS = ("S", "V", "F")
#: DS1 records with S, V or F beats (fit) and DS2 records with them (test).
FIT_RECORDS = ("106", "119", "201", "203", "208", "209", "220", "223")
TEST_RECORDS = ("105", "200", "210", "213", "221", "222", "232", "233")


def window_labels(annotation, start, stop):
    """0/1 per label of :data:`LABELS`: whether a beat of that class lies in ``[start, stop)``."""
    inside = (annotation.sample >= start) & (annotation.sample < stop)
    present = {AAMI_MAP.get(symbol) for symbol, keep in zip(annotation.symbol, inside) if keep}
    return [int(label in present) for label in LABELS]


def scores(Y, proba, thresholds):
    pred = (proba >= thresholds).astype(int)
    return {
        "macro_f1": float(f1_score(Y, pred, average="macro", zero_division=0)),
        **{f"f1_{c}": float(f) for c, f in zip(LABELS, f1_score(Y, pred, average=None, zero_division=0))},
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-candidates", type=int, default=4)
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    common = dict(length=10, fs=90, leads=[0], label=window_labels)
    fit = load_windows(DATA / "mitdb", FIT_RECORDS, **common)
    test = load_windows(DATA / "mitdb", TEST_RECORDS, **common)
    print(f"fit {fit.X.shape} positives {dict(zip(LABELS, fit.y.sum(0).tolist()))}; "
          f"test {test.X.shape} positives {dict(zip(LABELS, test.y.sum(0).tolist()))}", flush=True)
    rows = []
    for class_weight in (None, "balanced"):
        clf = AutoNetLCNClassifier(
            sampling_rate=90, threshold="tuned", class_weight=class_weight, max_candidates=args.max_candidates,
            max_epochs=args.max_epochs, random_state=args.seed, device="cpu",
        )
        start = time.monotonic()
        clf.fit(fit.X, fit.y, groups=fit.groups)
        seconds = time.monotonic() - start
        proba = clf.predict_proba(test.X)
        precision = average_precision_score(test.y, proba, average=None)
        for name, thresholds in (("0.5", np.full(len(LABELS), 0.5)), ("tuned", clf.thresholds_)):
            row = {
                "class_weight": str(class_weight), "threshold": name, "fit_seconds": round(seconds, 1),
                "n_parameters": int(clf.n_parameters_), "architecture": str(clf.architecture_.spec.describe()),
                **scores(test.y, proba, thresholds),
                **{f"average_precision_{c}": float(p) for c, p in zip(LABELS, precision)},
                "thresholds": [float(t) for t in thresholds],
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    result = {
        "fit_records": FIT_RECORDS, "test_records": TEST_RECORDS, "labels": LABELS,
        "test_prevalence": dict(zip(LABELS, test.y.mean(0).round(3).tolist())),
        "max_candidates": args.max_candidates, "max_epochs": args.max_epochs, "seed": args.seed, "rows": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "multilabel.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    tmp.replace(path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
