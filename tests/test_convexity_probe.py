"""The convexity probe on a network fitted to real ECG (UCR ECG200)."""

import pytest

from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet.convexity_probe import probe_convexity


@pytest.fixture(scope="module")
def fitted(ecg200):
    X_train, y_train, _, _ = ecg200
    # "samples" keeps the conv layers a few filters wide, so probing them takes seconds, not a minute
    clf = AutoNetLCNClassifier(max_depth=2, max_candidates=2, patience=2, counting="samples",
                               random_state=0).fit(X_train, y_train)
    return clf, X_train, y_train


def test_head_is_convex(fitted):
    clf, X, y = fitted
    probe = probe_convexity(clf, X, y, layer="head", n_segments=50, radius=2.0, random_state=0)
    # softmax cross-entropy is convex in the last linear layer: no violation, PSD Hessian
    assert probe.layer == "head"
    assert probe.n_violations == 0
    assert probe.min_eigenvalue >= -1e-8
    assert probe.max_eigenvalue > 0


def test_hidden_layer_probe_reports_what_it_finds(fitted):
    clf, X, y = fitted
    probe = probe_convexity(clf, X, y, layer=0, n_segments=60, radius=2.0, random_state=0)
    assert probe.layer == "conv1"
    assert probe.n_parameters == clf.convexity_report_[0].P_l
    # the conv block (BatchNorm, LeakyReLU, max-pool) is not exactly convex far from
    # the trained point: on ECG200 the probe finds violations at radius 2
    assert 0 < probe.violation_fraction < 0.5
    assert probe.min_eigenvalue is not None
    assert "violation_fraction" in str(probe)


def test_bad_layer_is_named(fitted):
    clf, X, y = fitted
    with pytest.raises(ValueError, match="'conv9' is not one of"):
        probe_convexity(clf, X, y, layer="conv9")
    with pytest.raises(ValueError, match="out of range"):
        probe_convexity(clf, X, y, layer=7)
