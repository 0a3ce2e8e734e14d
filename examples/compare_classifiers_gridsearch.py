"""GridSearchCV choosing between AutoNetLCN and other scikit-learn classifiers on one split.

The embedded MIT-BIH beats (beat + normalised RR intervals per row): every candidate model
sees the same rows and the same folds, grouped by record (GroupKFold), and the
winner is tested on the DS2 records (other patients).  Here ``groups`` splits the
folds only: in a grid over different classifiers, metadata routing would hand them to
every candidate, and the others take no ``groups``, so AutoNet's own validation split
is stratified by beat.  To search AutoNet's parameters with ``groups`` reaching its
split, see the Pipeline section of docs/evaluation.md.

    python examples/compare_classifiers_gridsearch.py
"""

import sys

import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet.datasets import load_mitbih_beats


def main(argv=None):
    train, test = load_mitbih_beats("train"), load_mitbih_beats("test")
    candidates = [
        AutoNetLCNClassifier(signal_shape=train.signal_shape, sampling_rate=360, class_weight="balanced",
                             max_candidates=2, max_epochs=25, random_state=0),
        make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=2000)),
        HistGradientBoostingClassifier(class_weight="balanced", random_state=0),
        RandomForestClassifier(n_estimators=200, class_weight="balanced", random_state=0, n_jobs=2),
    ]
    search = GridSearchCV(Pipeline([("clf", candidates[0])]), {"clf": candidates},
                          scoring="balanced_accuracy", cv=GroupKFold(3))
    search.fit(train.data, train.target, groups=train.groups)
    table = pd.DataFrame(search.cv_results_)[["param_clf", "mean_test_score", "std_test_score", "mean_fit_time"]]
    table["param_clf"] = [type(c[-1] if isinstance(c, Pipeline) else c).__name__ for c in table["param_clf"]]
    print(table.round(3).to_string(index=False))
    print(f"\nselected: {table['param_clf'][search.best_index_]}; "
          f"DS2 (other patients) balanced accuracy {search.score(test.data, test.target):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
