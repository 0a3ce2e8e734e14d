"""UCR ECG200 (myocardial infarction vs normal beats): cross_val_score, then the official test split.

Reads ../shared/data/ucr_ECG200 (exits 0 with a message when it is missing).

    python examples/ucr_ecg200_cross_val.py
"""

import sys
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_score

from sklearn_autonet import AutoNetLCNClassifier

FOLDER = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "ucr_ECG200"


def main(argv=None):
    if not FOLDER.is_dir():
        print(f"UCR ECG200 not found at {FOLDER}; see shared/data/README.md. Nothing to do.")
        return 0
    train = np.loadtxt(FOLDER / "ECG200_TRAIN.tsv.gz")
    test = np.loadtxt(FOLDER / "ECG200_TEST.tsv.gz")
    X, y = train[:, None, 1:].astype(np.float32), train[:, 0].astype(int)
    clf = AutoNetLCNClassifier(max_candidates=3, max_epochs=60, random_state=0)
    scores = cross_val_score(clf, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0),
                             scoring="balanced_accuracy")
    print(f"5-fold CV on the 100 training series: balanced accuracy {scores.round(3)} "
          f"mean {scores.mean():.3f}")
    clf.fit(X, y)
    X_test, y_test = test[:, None, 1:].astype(np.float32), test[:, 0].astype(int)
    print(clf.architecture_)
    print(f"official test split (100 series): accuracy {clf.score(X_test, y_test):.3f} "
          "(1-NN Euclidean: 0.880)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
