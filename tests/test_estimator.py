"""The estimator's fitted state: set in one place for fit and load, and never half set."""

import numpy as np
import torch
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


@pytest.fixture(scope="module")
def beat_sized():
    """A conv net on two-lead signals of 256 samples (the size of an ECG beat at 360 Hz)."""
    from conftest import make_signals

    X, y = make_signals(n=300, leads=2, length=256, seed=1)
    return AutoNetLCNClassifier(**FAST).fit(X, y), X


def test_predict_proba_does_not_depend_on_the_other_rows(beat_sized):
    """Each row alone, in any batch, in any order: the same probabilities, bit for bit."""
    clf, X = beat_sized
    assert clf.architecture_.rows[0]["kind"] == "conv"
    whole = clf.predict_proba(X)
    alone = np.vstack([clf.predict_proba(X[i : i + 1]) for i in range(len(X))])
    np.testing.assert_array_equal(alone, whole)
    perm = np.random.RandomState(0).permutation(len(X))
    np.testing.assert_array_equal(clf.predict_proba(X[perm]), whole[perm])
    np.testing.assert_array_equal(clf.predict_proba(X[7:20]), whole[7:20])
    mixed = np.concatenate([X[:5], np.random.RandomState(1).randn(40, *X.shape[1:]) * 50, X[5:9]])
    np.testing.assert_array_equal(clf.predict_proba(mixed)[np.r_[:5, 45:49]], whole[:9])
    # float64 inside, rounded to float32 precision: float32 values, close to the float32 network's
    assert whole.dtype == np.float64 and np.array_equal(whole.astype(np.float32), whole)
    np.testing.assert_allclose(whole, clf.net_.predict_proba(X), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(whole.sum(axis=1), 1, rtol=1e-6)


def test_predict_proba_leaves_the_model_and_its_pickle_as_they_were(beat_sized, tmp_path):
    import pickle

    clf, X = beat_sized
    before = {k: v.clone() for k, v in clf.net_.module_.state_dict().items()}
    mode = clf.net_.module_.training
    proba = clf.predict_proba(X[:10])
    assert clf.net_.module_.training == mode
    after = clf.net_.module_.state_dict()
    assert all(after[k].dtype == v.dtype and torch.equal(after[k], v) for k, v in before.items())
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X[:10]), proba)
    np.testing.assert_array_equal(load(save(clf, tmp_path / "m.autonet")).predict_proba(X[:10]), proba)


def test_a_non_finite_probability_is_an_error_not_an_answer(beat_sized):
    import copy

    clf, X = beat_sized
    damaged = copy.deepcopy(clf)
    with torch.no_grad():
        damaged.net_.module_.head.bias[1] = float("nan")
    with pytest.raises(ValueError, match=r"non-finite \(NaN or infinite\) probabilities for 300 of 300 sample\(s\), "
                       r"the first at row 0; its weights hold 1 non-finite value\(s\)"):
        damaged.predict_proba(X)
    with pytest.raises(ValueError, match="non-finite"):
        damaged.predict(X)  # not silently the first class
    np.testing.assert_array_equal(clf.predict_proba(X[:3]), clf.predict_proba(X)[:3])  # the original is intact
