"""The refit on all the training data (refit="auto", the default: without groups) and when it cannot finish."""

import dataclasses

import numpy as np
import pytest
from conftest import ENSEMBLE, interrupt_training

from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet import refit as refit_module


@pytest.fixture(scope="module")
def search_only(data):
    """The same search without the refit: what a refit that cannot finish falls back to."""
    X, y = data
    return AutoNetLCNClassifier(**ENSEMBLE, refit=False).fit(X, y)


def test_refit_is_the_default_and_trains_every_member_on_all_the_data(data, search_only):
    X, y = data
    clf = AutoNetLCNClassifier(**ENSEMBLE).fit(X, y)
    assert clf.refit == "auto"  # without groups: the refit runs
    assert clf.search_history_["n_fit"][0] == search_only.n_fit_ < len(y) == clf.n_fit_
    assert len(clf.ensemble_weights_) == len(search_only.ensemble_weights_) >= 2
    np.testing.assert_array_equal(clf.ensemble_weights_, search_only.ensemble_weights_)
    assert clf.convexity_report_.holds and {row.N_fit for row in clf.convexity_report_} == {len(y)}
    # other weights than the search's networks: the refit trained them again
    assert np.abs(clf.predict_proba(X) - search_only.predict_proba(X)).max() > 1e-3
    assert clf.predict(X).shape == (len(y),)
    # each member for the epochs its candidate needed: the first member's history is kept
    first = int(np.flatnonzero(clf.search_history_["ensemble_weight"])[0])
    assert len(clf.net_.history_) == max(1, clf.search_history_["best_epoch"][first])


def _fallback(clf, search_only, X):
    assert clf.n_fit_ == search_only.n_fit_
    np.testing.assert_array_equal(clf.predict_proba(X), search_only.predict_proba(X))


def test_ctrl_c_during_the_refit_keeps_the_search_networks(data, search_only, monkeypatch):
    X, y = data
    interrupt_training(monkeypatch, refit_module, on_call=1)
    with pytest.warns(RuntimeWarning, match=r"refit on all the data not used \(interrupted\); keeping the networks"):
        clf = AutoNetLCNClassifier(**ENSEMBLE).fit(X, y)
    assert clf.stop_reason_ == "interrupted"
    _fallback(clf, search_only, X)


@pytest.mark.parametrize("change, message", [
    (lambda r: dataclasses.replace(r, info=dict(r.info, deadline_reached=True)), "max_time ran out during the refit"),
    (lambda r: dataclasses.replace(r, state=None, error="the train loss became nan at epoch 2"),
     r"retraining signal\(2x32\) .* failed: the train loss became nan at epoch 2"),
])
def test_a_refit_that_cannot_finish_keeps_the_search_networks(data, search_only, monkeypatch, change, message):
    X, y = data
    real = refit_module.train_task
    monkeypatch.setattr(refit_module, "train_task", lambda *a, **k: change(real(*a, **k)))
    with pytest.warns(RuntimeWarning, match=message):
        clf = AutoNetLCNClassifier(**ENSEMBLE).fit(X, y)
    assert clf.stop_reason_ != "interrupted"
    _fallback(clf, search_only, X)


def test_no_refit_after_a_search_stopped_by_max_time(data, monkeypatch):
    X, y = data
    monkeypatch.setattr(refit_module, "train_task", lambda *a, **k: pytest.fail("the refit trained"))
    clf = AutoNetLCNClassifier(max_time=1e-3, max_epochs=2, random_state=0).fit(X, y)
    assert clf.stop_reason_ == "max_time" and clf.n_fit_ == clf.search_history_["n_fit"][0] < len(y)


def test_auto_keeps_the_search_networks_with_groups_and_true_refits_them(data, monkeypatch):
    X, y = data
    groups = np.arange(len(y)) // 6
    calls = []
    real = refit_module.train_task
    monkeypatch.setattr(refit_module, "train_task", lambda *a, **k: calls.append(1) or real(*a, **k))
    auto = AutoNetLCNClassifier(**ENSEMBLE).fit(X, y, groups=groups)
    assert calls == [] and auto.n_fit_ == auto.search_history_["n_fit"][0] < len(y)
    forced = AutoNetLCNClassifier(**ENSEMBLE, refit=True).fit(X, y, groups=groups)
    assert len(calls) == len(forced.ensemble_weights_) and forced.n_fit_ == len(y)


def test_refit_takes_a_bool_or_auto(data):
    X, y = data
    with pytest.raises(ValueError, match="'refit' parameter of AutoNetLCNClassifier must be"):
        AutoNetLCNClassifier(refit="always").fit(X, y)
