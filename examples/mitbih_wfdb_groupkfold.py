"""MIT-BIH beats read from wfdb records, evaluated by record with StratifiedGroupKFold.

Reads the five raw MIT-BIH records in ../shared/data/mitdb_wfdb with
``sklearn_autonet.ecg.load_beats`` (MLII lead, 0.25 s before and 0.45 s after
each R peak, AAMI labels), keeps the normalised RR features as side features,
and cross-validates with folds that never split a record.  Exits 0 with a
message when the records are missing.

    python examples/mitbih_wfdb_groupkfold.py
"""

import sys
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, cross_validate

from sklearn_autonet import AutoNetLCNClassifier

RECORDS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mitdb_wfdb"


def main(argv=None):
    if not RECORDS.is_dir():
        print(f"wfdb records not found at {RECORDS}; see shared/data/README.md. Nothing to do.")
        return 0
    from sklearn_autonet.ecg import load_beats  # needs the ecg extra (wfdb)

    beats = load_beats(RECORDS, leads="MLII", before=0.25, after=0.45)
    keep = np.isin(beats.y, ["N", "V"])  # the classes every one of these records has enough of
    rng = np.random.RandomState(0)
    n_beats = np.flatnonzero(keep & (beats.y == "N"))
    keep[rng.permutation(n_beats)[300 * len(set(beats.groups)):]] = False  # cap N for a short run
    X, y, groups = beats.X[keep], beats.y[keep], beats.groups[keep]
    norm = [i for i, name in enumerate(beats.rr_feature_names) if name.endswith("_norm")]
    side = beats.rr[keep][:, norm].astype(np.float32)
    data = np.hstack([(X - X.mean(axis=2, keepdims=True)).reshape(len(X), -1), side])
    print(f"{len(y)} beats from records {sorted(set(groups))}: "
          f"{dict(zip(*np.unique(y, return_counts=True)))}; side features "
          f"{[beats.rr_feature_names[i] for i in norm]}")

    clf = AutoNetLCNClassifier(signal_shape=X.shape[1:], sampling_rate=360, class_weight="balanced",
                               max_candidates=2, max_epochs=20, random_state=0)
    cv = StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=0)
    # groups= splits the folds by record; params={"groups": ...} also makes the search's
    # own validation split (inside each fold's fit) keep every record on one side
    result = cross_validate(clf, data, y, groups=groups, cv=cv, params={"groups": groups},
                            scoring=["balanced_accuracy", "f1_macro"], return_indices=True)
    for i, test_idx in enumerate(result["indices"]["test"]):
        print(f"fold {i}: test records {sorted(set(groups[test_idx]))}  balanced accuracy "
              f"{result['test_balanced_accuracy'][i]:.3f}  macro-F1 {result['test_f1_macro'][i]:.3f}")
    print(f"mean balanced accuracy {result['test_balanced_accuracy'].mean():.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
