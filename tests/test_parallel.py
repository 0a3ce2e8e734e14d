"""Parallel rounds: n_jobs, seeds_per_round, Dask, devices and torch threads per worker."""

import joblib
import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV

from sklearn_autonet import AutoNetLCNClassifier, tasks
from conftest import assert_same_fit

ROUNDS = dict(seeds_per_round=2, max_candidates=4, patience=5, max_epochs=3, random_state=0, growth="deepen",
              halving=False, counting="samples")  # narrow networks: these tests compare searches, not widths
#: The default search (several networks per round, successive halving), small.
EXPLORE = dict(max_candidates=8, patience=2, max_epochs=20, random_state=0)


@pytest.fixture(scope="module")
def sequential(data):
    """The sequential search, with as many torch threads as a task of 2 workers gets.

    CPU kernels may sum in another order with another thread count, so only the
    same thread count gives bit-identical weights (see docs/parallel.md).
    """
    X, y = data
    before = torch.get_num_threads()
    torch.set_num_threads(tasks.threads_per_task(2))
    try:
        return AutoNetLCNClassifier(n_jobs=1, **ROUNDS).fit(X, y)
    finally:
        torch.set_num_threads(before)


def assert_same_search(a, b, X):
    assert a.search_history_["validation_score"] == b.search_history_["validation_score"]
    assert a.search_history_["seed"] == b.search_history_["seed"]
    assert a.best_index_ == b.best_index_ and a.stop_reason_ == b.stop_reason_
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_two_workers_give_the_sequential_result(data, sequential):
    X, y = data
    parallel = AutoNetLCNClassifier(n_jobs=2, **ROUNDS).fit(X, y)
    assert sequential.search_history_["round"] == [1, 1, 2, 2]
    assert_same_search(sequential, parallel, X)
    assert len(parallel.net_.history) == parallel.search_history_["epochs"][parallel.best_index_]
    # each of the 2 workers gets its share of the cores
    assert set(parallel.search_history_["torch_threads"]) == {tasks.threads_per_task(2)}


def test_two_workers_give_the_sequential_result_with_halving():
    from conftest import make_signals

    X, y = make_signals(n=240, length=64)
    before = torch.get_num_threads()
    torch.set_num_threads(tasks.threads_per_task(2))
    try:
        one = AutoNetLCNClassifier(n_jobs=1, **EXPLORE).fit(X, y)
    finally:
        torch.set_num_threads(before)
    two = AutoNetLCNClassifier(n_jobs=2, **EXPLORE).fit(X, y)
    assert len(set(one.search_history_["round"])) >= 2 and any(one.search_history_["promoted"])
    for key in ("validation_score", "rung_score", "promoted", "epochs", "architecture"):
        assert one.search_history_[key] == two.search_history_[key], key
    assert one.best_index_ == two.best_index_
    assert_same_fit(one.predict_proba(X), two.predict_proba(X))


def test_default_threads_change_only_the_rounding(data, sequential):
    X, y = data
    clf = AutoNetLCNClassifier(n_jobs=1, **ROUNDS).fit(X, y)  # all of this process's torch threads
    assert clf.search_history_["validation_score"] == sequential.search_history_["validation_score"]
    np.testing.assert_allclose(clf.predict_proba(X), sequential.predict_proba(X), rtol=0, atol=1e-5)


def test_seeds_are_keyed_by_the_candidate_index(data, sequential):
    """Candidate i gets the i-th seed whatever the rounds look like, so the first candidates agree."""
    X, y = data
    single = AutoNetLCNClassifier(**dict(ROUNDS, seeds_per_round=1, max_candidates=2)).fit(X, y)
    wide = sequential.search_history_
    assert single.search_history_["seed"] == wide["seed"][:2]
    assert len(set(wide["seed"])) == 4
    assert single.search_history_["depth"] == [1, 2] and wide["depth"] == [1, 1, 2, 2]
    # the same spec from the same seed: the same candidate
    assert single.search_history_["validation_score"][0] == wide["validation_score"][0]


def test_patience_counts_rounds_and_a_round_improves_through_its_best(data, monkeypatch):
    X, y = data
    scores = iter([0.5, 0.6, 0.55, 0.7, 0.65, 0.69, 0.1, 0.1])
    monkeypatch.setattr(tasks, "get_scorer", lambda scoring: lambda net, X, y: next(scores))
    clf = AutoNetLCNClassifier(**dict(ROUNDS, max_candidates=10, patience=1, max_epochs=1)).fit(X, y)
    assert clf.search_history_["validation_score"] == [0.5, 0.6, 0.55, 0.7, 0.65, 0.69]
    assert clf.stop_reason_ == "patience" and clf.best_index_ == 3
    assert clf.search_history_["selected"] == [False, False, False, True, False, False]


def test_in_process_tasks_restore_the_torch_threads(data):
    X, y = data
    before = torch.get_num_threads()
    AutoNetLCNClassifier(max_candidates=1, max_epochs=1, random_state=0).fit(X, y)
    assert torch.get_num_threads() == before


def test_grid_search_with_two_jobs_does_not_oversubscribe(data):
    X, y = data

    def max_threads(estimator, X, y):  # the torch threads each candidate trained with, as a "score"
        return max(estimator.search_history_["torch_threads"])

    grid = GridSearchCV(
        AutoNetLCNClassifier(max_candidates=1, max_epochs=1, random_state=0),
        {"max_width": [2, 4]}, cv=2, n_jobs=2, scoring=max_threads, refit=False,
    ).fit(X, y)
    limit = max(1, joblib.cpu_count() // 2)
    assert np.all(grid.cv_results_["mean_test_score"] >= 1)
    assert np.all(grid.cv_results_["mean_test_score"] <= limit)


def test_search_on_a_dask_local_cluster(data, sequential):
    distributed = pytest.importorskip("distributed")
    X, y = data
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
    ) as cluster, distributed.Client(cluster) as client:
        with joblib.parallel_backend("dask"):
            clf = AutoNetLCNClassifier(n_jobs=-1, **ROUNDS).fit(X, y)
        workers = client.run(lambda: torch.get_num_threads())
    assert len(workers) == 2
    assert_same_search(sequential, clf, X)
    assert set(clf.search_history_["device"]) == {"cpu"}


def test_search_on_ray(data, sequential):
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    X, y = data
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        register_ray()
        with joblib.parallel_backend("ray"):
            clf = AutoNetLCNClassifier(n_jobs=-1, **ROUNDS).fit(X, y)
    finally:
        ray.shutdown()
    assert_same_search(sequential, clf, X)
