"""The search loop's stopping rules, the validation split, weights and input errors."""

import numpy as np
import pytest

from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet.training import passes_per_epoch

FAST = dict(max_epochs=3, random_state=0)
LINE = dict(FAST, growth="deepen")  # one candidate per round: the loop's rules one at a time


def test_stops_on_max_candidates(signals):
    X, y = signals
    clf = AutoNetLCNClassifier(max_candidates=1, **FAST).fit(X, y)
    assert clf.stop_reason_ == "max_candidates"
    assert len(clf.search_history_["candidate"]) == 1


def test_stops_on_max_time(signals):
    X, y = signals
    clf = AutoNetLCNClassifier(max_time=1e-3, max_candidates=5, **FAST).fit(X, y)
    assert clf.stop_reason_ == "max_time"
    assert len(clf.search_history_["candidate"]) == 1
    assert clf.search_history_["epochs"][0] == 1  # stopped after the first epoch


def test_stops_when_the_network_cannot_grow(signals):
    X, y = signals
    clf = AutoNetLCNClassifier(max_depth=2, max_candidates=5, patience=5, **LINE).fit(X, y)
    assert clf.stop_reason_ == "no_room_to_grow"
    assert clf.search_history_["depth"] == [1, 2]
    wide = AutoNetLCNClassifier(max_depth=1, max_candidates=20, patience=5, **FAST).fit(X, y)
    assert wide.stop_reason_ == "no_room_to_grow" and set(wide.search_history_["depth"]) == {1}


def test_stops_on_patience(signals):
    X, y = signals
    clf = AutoNetLCNClassifier(patience=1, max_candidates=10, **LINE).fit(X, y)
    scores = clf.search_history_["validation_score"]
    assert clf.stop_reason_ == "patience"
    assert scores[-1] <= max(scores[:-1])
    assert np.all(np.diff(scores[:-1]) > 0)  # every earlier round improved


def test_fit_with_groups(signals):
    X, y = signals
    groups = np.arange(len(y)) // 6
    clf = AutoNetLCNClassifier(max_candidates=1, **FAST).fit(X, y, groups=groups)
    # a split by group; refit="auto" keeps the networks selected on the held-out groups
    assert clf.n_fit_ == clf.search_history_["n_fit"][0] < len(y)
    with pytest.raises(ValueError, match="groups has 1 distinct value"):
        AutoNetLCNClassifier(**FAST).fit(X, y, groups=np.zeros(len(y)))


def test_class_weight_shifts_the_predictions(signals):
    X, y = signals
    X = X + np.random.RandomState(1).randn(*X.shape).astype(np.float32) * 2.0  # make it hard
    plain = AutoNetLCNClassifier(max_candidates=1, max_epochs=10, random_state=0).fit(X, y)
    heavy = AutoNetLCNClassifier(
        max_candidates=1, max_epochs=10, class_weight={0: 50.0, 1: 1.0, 2: 1.0}, random_state=0
    ).fit(X, y)
    assert (heavy.predict(X) == 0).mean() > (plain.predict(X) == 0).mean()
    assert (heavy.predict(X) == 0).mean() > 0.5


def test_sample_weight_zero_on_a_class_is_rejected_clearly(signals):
    X, y = signals
    with pytest.raises(ValueError, match="at least 2 classes with positive sample_weight"):
        AutoNetLCNClassifier(**FAST).fit(X, y, sample_weight=(y == 1).astype(float))
    with pytest.raises(ValueError, match="(?i)negative"):
        AutoNetLCNClassifier(**FAST).fit(X, y, sample_weight=-np.ones(len(y)))


def test_too_few_samples_for_the_bound_says_how_many_are_needed():
    rng = np.random.RandomState(0)
    X, y = rng.randn(30, 60), np.arange(30) % 2
    with pytest.raises(ValueError, match=r"needs at least 62 training samples"):
        AutoNetLCNClassifier(**FAST).fit(X, y)


def test_one_class_is_rejected():
    with pytest.raises(ValueError, match="at least 2 classes"):
        AutoNetLCNClassifier(**FAST).fit(np.zeros((10, 3)), np.ones(10))


def test_invalid_parameters_are_named():
    X, y = np.zeros((10, 3)), np.arange(10) % 2
    with pytest.raises(ValueError, match="'rho' parameter"):
        AutoNetLCNClassifier(rho=-1).fit(X, y)
    with pytest.raises(ValueError, match="'counting' parameter"):
        AutoNetLCNClassifier(counting="weights").fit(X, y)


def test_pandas_input_keeps_feature_names():
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.randn(120, 4), columns=["rr_pre", "rr_post", "qrs", "amp"])
    y = (X["rr_pre"] + X["qrs"] > 0).map({True: "S", False: "N"})
    clf = AutoNetLCNClassifier(max_candidates=1, max_epochs=20, random_state=0).fit(X, y)
    assert list(clf.feature_names_in_) == ["rr_pre", "rr_post", "qrs", "amp"]
    assert clf.score(X, y) > 0.8


def test_tiny_data_make_several_passes_per_epoch(signals):
    X, y = signals  # 90 signals: 72 fit after the split, batches of 16 -> 4 steps per pass
    clf = AutoNetLCNClassifier(max_candidates=1, max_epochs=3, epoch_patience=2, random_state=0).fit(X, y)
    history = clf.search_history_
    # ceil(10 / 4) = 3 passes per epoch; the epoch budgets stay as asked
    assert history["passes_per_epoch"] == [3] and history["max_epochs"] == [3]
    assert history["epochs"][0] <= 3
    plain = AutoNetLCNClassifier(
        max_candidates=1, max_epochs=3, epoch_patience=2, min_steps_per_epoch=1, random_state=0
    ).fit(X, y)
    assert plain.search_history_["passes_per_epoch"] == [1]
    # three passes per epoch train the same network further than one
    assert clf.net_.history[-1, "train_loss"] != plain.net_.history[-1, "train_loss"]


def test_passes_per_epoch_count_optimizer_steps():
    assert passes_per_epoch(18, 16) == 10  # one step per pass
    assert passes_per_epoch(80, 16) == 2  # 5 steps per pass
    assert passes_per_epoch(160, 16) == 1
    assert passes_per_epoch(18, 16, min_steps_per_epoch=1) == 1


def test_whole_batch_loader_makes_its_passes_in_fresh_orders():
    import torch

    from sklearn_autonet.training import WholeBatchLoader

    loader = WholeBatchLoader(np.arange(10), batch_size=4, shuffle=True, drop_last=True,
                              generator=torch.Generator().manual_seed(0), passes=3)
    batches = list(loader)
    assert len(loader) == len(batches) == 6  # 2 full batches per pass
    passes = [np.concatenate(batches[i : i + 2]) for i in (0, 2, 4)]
    assert all(len(set(p)) == 8 for p in passes)
    assert not all(np.array_equal(passes[0], p) for p in passes[1:])


def test_should_stop_checks_in_order():
    from sklearn_autonet.search import SearchConfig, should_stop

    config = SearchConfig(max_candidates=4, patience=2, max_time=10.0)
    assert should_stop(config, 0, 0, False, now=99.0, deadline=10.0) is None  # the first round always runs
    assert should_stop(config, 1, 0, False, now=99.0, deadline=10.0) == "max_time"
    assert should_stop(config, 1, 0, True, now=0.0, deadline=10.0) == "max_time"  # hit inside a candidate
    assert should_stop(config, 4, 2, False, now=0.0, deadline=10.0) == "patience"  # patience before budget
    assert should_stop(config, 4, 1, False, now=0.0, deadline=10.0) == "max_candidates"
    assert should_stop(config, 3, 1, False, now=0.0, deadline=None) is None


def test_halving_promotes_the_better_third_and_prunes_the_rest(signals, monkeypatch):
    """Scores made to rank the candidates by width: the widest third goes on to the full budget."""
    from sklearn_autonet import tasks

    X, y = signals
    monkeypatch.setattr(
        tasks, "get_scorer", lambda scoring: lambda net, X, y, **kw: net.module_.spec.hidden[0].width / 100
    )
    clf = AutoNetLCNClassifier(max_epochs=40, epoch_patience=40, max_candidates=6, max_depth=1,
                               random_state=0).fit(X, y)
    h = clf.search_history_
    first = [i for i, r in enumerate(h["round"]) if r == 1]
    widths = [h["widths"][i][0] for i in first]
    assert len(first) >= 3
    rung = h["rung_epochs"][0]
    assert rung == 2 and all(h["rung_epochs"][i] == rung for i in first)  # 40 * 0.05
    n_keep = -(-len(first) // 3)
    best = sorted(first, key=lambda i: (-widths[i], i))[:n_keep]
    assert [i for i in first if h["promoted"][i]] == sorted(best)
    for i in first:
        if i in best:
            assert h["status"][i] == "ok" and h["epochs"][i] > rung  # continued to the full budget
        else:
            assert h["status"][i] == "pruned" and h["epochs"][i] == rung
    assert h["status"][clf.best_index_] == "ok"


def test_the_default_search_is_deterministic(signals):
    X, y = signals
    a = AutoNetLCNClassifier(max_epochs=10, random_state=3).fit(X, y)
    b = AutoNetLCNClassifier(max_epochs=10, random_state=3).fit(X, y)
    for key in ("architecture", "validation_score", "rung_score", "promoted", "status", "epochs", "seed"):
        assert a.search_history_[key] == b.search_history_[key], key
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_no_candidate_takes_the_whole_time_budget(signals):
    """Under max_time each candidate gets a share of what is left, so the search reaches several candidates."""
    import time

    X, y = signals
    start = time.monotonic()
    clf = AutoNetLCNClassifier(max_time=6, max_epochs=100000, epoch_patience=100000, random_state=0).fit(X, y)
    elapsed = time.monotonic() - start
    h = clf.search_history_
    assert len(h["candidate"]) >= 3
    assert max(h["seconds"]) < 6 / 2  # a share, not the budget
    assert elapsed < 6 + 5  # the budget holds (within an epoch and the final steps)
    # a candidate stopped by its share does not end the search: it goes on to later rounds,
    # and stops for time only once the budget itself is spent
    assert max(h["round"]) >= 2
    assert clf.stop_reason_ in ("max_time", "patience", "no_room_to_grow")
    assert clf.stop_reason_ != "max_time" or elapsed >= 6
