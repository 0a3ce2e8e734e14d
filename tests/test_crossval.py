"""k-fold scoring of the search's best candidates on small data (cv, cv_max_samples)."""

import numpy as np
import pytest
from conftest import ENSEMBLE, interrupt_training

from sklearn_autonet import AutoNetLCNClassifier, load, save
from sklearn_autonet import crossval
from sklearn_autonet.bound import network_holds

#: small and fast; every variant below runs k-fold (cv_max_samples above the 90 samples)
#: refit=False: the final model is the bagged fold models (refit=True retrains the members instead)
KFOLD = dict(ENSEMBLE, cv=3, cv_max_samples=1000, refit=False)


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return AutoNetLCNClassifier(**KFOLD).fit(X, y)


def test_kfold_scores_the_best_candidates_and_bags_their_fold_models(fitted, data):
    X, y = data
    history = fitted.search_history_
    scored = [i for i, s in enumerate(history["cv_score"]) if np.isfinite(s)]
    assert len(scored) >= 2 and all(history["status"][i] == "ok" for i in scored)
    weights = np.array(history["ensemble_weight"])
    assert np.isclose(weights.sum(), 1) and set(np.flatnonzero(weights)) <= set(scored)
    # the selected candidate is the best by its out-of-fold score
    assert history["selected"][fitted.best_index_] and fitted.best_index_ in np.flatnonzero(weights)
    assert history["cv_score"][fitted.best_index_] == max(history["cv_score"][i] for i in scored)
    # every member's fold models: k networks per member, each weight / k
    n_members = int((weights > 0).sum())
    assert len(fitted.ensemble_weights_) == 3 * n_members
    assert np.isclose(fitted.ensemble_weights_.sum(), 1)
    # each fold model trained on two thirds of all the data, within the bound
    assert fitted.n_fit_ == 60
    assert all(network_holds(spec, fitted.n_fit_, fitted.rho, fitted.counting) for spec in fitted.architecture_.specs)
    assert fitted.convexity_report_.holds
    assert fitted.predict(X).shape == (len(y),)


@pytest.mark.parametrize("cv_candidates", [None, 2])
def test_cv_candidates_sets_which_candidates_get_out_of_fold_scores(data, cv_candidates):
    X, y = data
    # max_width=32: every candidate's head (33 inputs) stays within the bound on 60 samples
    clf = AutoNetLCNClassifier(**dict(KFOLD, cv_candidates=cv_candidates, max_width=32)).fit(X, y)
    history = clf.search_history_
    finished = [i for i, s in enumerate(history["status"]) if s == "ok"]
    by_holdout = sorted(finished, key=lambda i: (-history["validation_score"][i], i))
    pool = by_holdout if cv_candidates is None else by_holdout[:cv_candidates]
    # a candidate too wide for a fold's training part (60 of the 90 samples) is left out
    fits = [i for i in pool if network_holds(history["spec"][i], 60, clf.rho, clf.counting)]
    scored = [i for i, s in enumerate(history["cv_score"]) if np.isfinite(s)]
    assert len(finished) == 6 and scored == sorted(fits)
    if cv_candidates is None:  # every finished candidate
        assert fits == pool
    assert set(np.flatnonzero(history["ensemble_weight"])) <= set(scored)


def test_kfold_model_round_trips_through_save_load(fitted, data, tmp_path):
    X, _ = data
    loaded = load(save(fitted, tmp_path / "kfold.autonet"))
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    assert loaded.search_history_["cv_score"][fitted.best_index_] == fitted.search_history_["cv_score"][fitted.best_index_]


def test_kfold_by_groups_keeps_every_group_on_one_side_of_every_fold(data, monkeypatch):
    X, y = data
    groups = np.repeat(np.arange(15), 6)  # 15 records of 6 beats
    seen = []
    real = crossval.kfold_splits

    def spy(y_, groups_, k, seed):
        folds = real(y_, groups_, k, seed)
        seen.append((np.asarray(groups_), folds))
        return folds

    monkeypatch.setattr(crossval, "kfold_splits", spy)
    clf = AutoNetLCNClassifier(**KFOLD).fit(X, y, groups=groups)
    assert np.isfinite(clf.search_history_["cv_score"][clf.best_index_])
    (used_groups, folds), = seen
    np.testing.assert_array_equal(used_groups, groups)
    assert len(folds) == 3
    covered = np.concatenate([valid for _, valid in folds])
    assert sorted(covered.tolist()) == list(range(len(y)))  # every sample is out-of-fold exactly once
    for train, valid in folds:
        assert not set(groups[train]) & set(groups[valid])


def test_kfold_splits_are_stratified():
    y = np.array([0] * 20 + [1] * 10)
    for _, valid in crossval.kfold_splits(y, None, 5, 0):
        assert np.bincount(y[valid]).tolist() == [4, 2]


def test_refit_after_kfold_trains_the_selected_members_on_all_the_data(data):
    X, y = data
    clf = AutoNetLCNClassifier(**dict(KFOLD, refit=True)).fit(X, y)
    weights = np.array(clf.search_history_["ensemble_weight"])
    assert clf.n_fit_ == len(y) and len(clf.ensemble_weights_) == int((weights > 0).sum())


def test_large_data_keep_the_hold_out(data):
    X, y = data
    clf = AutoNetLCNClassifier(**dict(KFOLD, cv_max_samples=len(y) - 1)).fit(X, y)
    assert np.all(np.isnan(clf.search_history_["cv_score"]))
    assert clf.n_fit_ == clf.search_history_["n_fit"][0]


@pytest.mark.parametrize("cv, groups, message", [
    (31, None, r"cv=31 folds, but the smallest class has only 30 sample\(s\).*Use cv <= 30, or cv_max_samples=0"),
    (8, np.arange(90) % 7, r"cv=8 folds, but groups holds only 7 distinct group\(s\).*Use cv <= 7, or cv_max_samples=0"),
])
def test_too_many_folds_say_what_to_change(data, cv, groups, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        AutoNetLCNClassifier(**dict(KFOLD, cv=cv)).fit(X, y, groups=groups)


@pytest.mark.parametrize("params, name", [({"cv": 1}, "cv"), ({"cv_max_samples": -1}, "cv_max_samples"),
                                          ({"cv_candidates": 0}, "cv_candidates")])
def test_bad_cv_parameters(data, params, name):
    X, y = data
    with pytest.raises(ValueError, match=f"'{name}' parameter of AutoNetLCNClassifier must be an int"):
        AutoNetLCNClassifier(**params).fit(X, y)


def test_ctrl_c_during_kfold_keeps_the_hold_out_ensemble(data, monkeypatch):
    X, y = data
    interrupt_training(monkeypatch, crossval, on_call=2)
    with pytest.warns(RuntimeWarning, match="k-fold scoring interrupted; keeping the ensemble selected on the hold-out"):
        clf = AutoNetLCNClassifier(**KFOLD).fit(X, y)
    assert clf.stop_reason_ == "interrupted"
    assert np.all(np.isnan(clf.search_history_["cv_score"]))
    assert clf.predict(X).shape == (len(y),)


def test_kfold_is_the_same_for_any_n_jobs_and_after_a_resume(fitted, data, tmp_path):
    X, y = data
    parallel = AutoNetLCNClassifier(**KFOLD, n_jobs=2).fit(X, y)
    np.testing.assert_allclose(parallel.predict_proba(X), fitted.predict_proba(X), atol=1e-6)
    AutoNetLCNClassifier(**KFOLD, checkpoint_dir=tmp_path).fit(X, y)
    resumed = AutoNetLCNClassifier(**KFOLD, checkpoint_dir=tmp_path).fit(X, y)
    assert all(resumed.search_history_["from_checkpoint"])
    np.testing.assert_array_equal(resumed.predict_proba(X), fitted.predict_proba(X))


def test_kfold_stops_with_a_usable_model_when_max_time_is_spent(data):
    X, y = data
    clf = AutoNetLCNClassifier(**KFOLD, max_time=1e-3).fit(X, y)
    assert clf.stop_reason_ == "max_time" and np.all(np.isnan(clf.search_history_["cv_score"]))
    assert clf.predict(X).shape == (len(y),)
