"""The estimator's fitted state: set in one place for fit and load, and never half set."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from sklearn_autonet import AutoNetLCNClassifier, load, save, tasks
from sklearn_autonet.estimator import FITTED_ATTRIBUTES

FAST = dict(max_candidates=1, max_epochs=2, random_state=0)


@pytest.fixture(scope="module")
def fitted():
    from conftest import make_signals

    X, y = make_signals()
    return AutoNetLCNClassifier(**FAST).fit(X, y), X, y


def test_fit_and_load_set_the_same_fitted_state(fitted, tmp_path):
    clf, X, y = fitted
    loaded = load(save(clf, tmp_path / "m.autonet"))
    for name in FITTED_ATTRIBUTES:
        assert hasattr(clf, name) and hasattr(loaded, name), name
    assert loaded.layout_ == clf.layout_
    assert (loaded.input_kind_, loaded.input_shape_, loaded.n_side_features_) == (
        clf.layout_.kind, clf.layout_.shape, clf.layout_.n_side)
    assert loaded.convexity_report_.as_dicts() == clf.convexity_report_.as_dicts()
    assert loaded.architecture_.rows == clf.architecture_.rows
    assert loaded.n_parameters_ == clf.n_parameters_ == sum(p.numel() for p in clf.net_.module_.parameters())
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_a_failed_first_fit_is_not_fitted(monkeypatch):
    from conftest import make_signals

    X, y = make_signals()
    monkeypatch.setattr(tasks, "train_candidate", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    clf = AutoNetLCNClassifier(**FAST)
    with pytest.raises(ValueError, match="Every AutoNet candidate failed"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_a_failed_refit_keeps_no_half_of_the_old_model(monkeypatch):
    from conftest import make_signals

    X, y = make_signals()
    clf = AutoNetLCNClassifier(**FAST).fit(X, y)
    monkeypatch.setattr(tasks, "train_candidate", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(ValueError, match="Every AutoNet candidate failed"):
        clf.fit(X, np.array(["a", "b", "c"])[y])  # new classes: the old network never learned them
    assert not any(hasattr(clf, name) for name in (*FITTED_ATTRIBUTES, "n_features_in_"))
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_fit_leaves_the_callers_torch_random_stream_alone():
    from conftest import make_signals

    import torch

    X, y = make_signals()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = AutoNetLCNClassifier(**FAST).fit(X, y)
    assert torch.equal(torch.rand(3), expected)
    second = AutoNetLCNClassifier(**FAST).fit(X, y)  # and the fit itself is still seeded
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
