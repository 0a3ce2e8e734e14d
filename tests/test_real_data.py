"""Accuracy on real data with the default settings (thresholds set from measured runs).

Measured on this project's 2-core machine with ``random_state`` 0, 1, 2:
ECG200 0.78 / 0.78 / 0.79; breast cancer 0.958 / 0.958 / 0.944; digits 0.951 / 0.962.
The thresholds leave a margin below those runs and well above chance.
"""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_autonet import AutoNetLCNClassifier


def test_ucr_ecg200_official_split(ecg200):
    X_train, y_train, X_test, y_test = ecg200
    clf = AutoNetLCNClassifier(random_state=0).fit(X_train, y_train)
    majority = DummyClassifier().fit(X_train[:, 0], y_train).score(X_test[:, 0], y_test)
    accuracy = clf.score(X_test, y_test)
    assert majority == pytest.approx(0.64)
    assert accuracy >= 0.74, accuracy
    assert clf.convexity_report_.holds
    assert clf.architecture_.spec.hidden[0].kind == "conv"


@pytest.mark.parametrize(
    "load, threshold",
    [(load_breast_cancer, 0.93), (load_digits, 0.93)],
    ids=["breast_cancer", "digits"],
)
def test_sklearn_tabular(load, threshold):
    X, y = load(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    pipe = make_pipeline(StandardScaler(), AutoNetLCNClassifier(random_state=0)).fit(X_train, y_train)
    clf = pipe[-1]
    assert pipe.score(X_test, y_test) >= threshold
    assert clf.input_kind_ == "tabular"
    assert clf.convexity_report_.holds
    history = clf.search_history_
    members = [i for i, w in enumerate(history["ensemble_weight"]) if w > 0]  # the ensemble (default ensemble_size)
    assert clf.best_index_ in members
    assert clf.n_parameters_ == sum(history["n_parameters"][i] for i in members)
    assert len(set(history["n_fit"])) == 1 and clf.n_fit_ == len(y_train)  # the refit trained on all the data
