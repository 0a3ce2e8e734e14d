"""The selection rule: the best candidate by validation score, or the one-standard-error rule."""

import math

import numpy as np
import pytest
from conftest import ENSEMBLE

from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet import search as search_module
from sklearn_autonet.selection_rules import band_members, bootstrap_standard_error, select


def _right_on(correct, y, n_classes=2):
    """Confident probabilities, right where ``correct`` holds and wrong elsewhere."""
    predicted = np.where(correct, y, (y + 1) % n_classes)
    return np.eye(n_classes)[predicted]


# ------------------------------------------------------------ the standard error
def test_sample_bootstrap_matches_the_binomial_standard_error():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    proba = _right_on(rng.random(400) < 0.8, y)
    se = bootstrap_standard_error("accuracy", proba, y, random_state=1)
    accuracy = float(np.mean(proba.argmax(1) == y))
    assert se == pytest.approx(math.sqrt(accuracy * (1 - accuracy) / 400), rel=0.2)


def test_group_bootstrap_counts_groups_not_samples():
    # ten records of 50 beats each, every record all right or all wrong: the hold-out is ten draws
    y = np.tile([0, 1], 250)
    groups = np.repeat(np.arange(10), 50)
    proba = _right_on(groups < 7, y)
    by_sample = bootstrap_standard_error("accuracy", proba, y, random_state=0)
    by_group = bootstrap_standard_error("accuracy", proba, y, groups=groups, random_state=0)
    assert by_sample < 0.03
    assert by_group == pytest.approx(math.sqrt(0.7 * 0.3 / 10), rel=0.25)  # 0.145
    assert by_group > 4 * by_sample


def test_standard_error_is_deterministic_counts_weights_and_is_zero_without_spread():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 120)
    proba = rng.dirichlet(np.ones(3), 120)
    first = bootstrap_standard_error("balanced_accuracy", proba, y, random_state=3)
    assert first == bootstrap_standard_error("balanced_accuracy", proba, y, random_state=3)
    assert first > 0
    # one group: nothing to resample
    assert bootstrap_standard_error("accuracy", proba, y, groups=np.zeros(120)) == 0.0
    # all right: every resample scores 1
    assert bootstrap_standard_error("accuracy", np.eye(3)[y], y) == 0.0
    # weights: a heavy row decides the weighted accuracy, so its resamples spread more
    w = np.ones(120)
    w[0] = 1000.0
    weighted = bootstrap_standard_error("accuracy", proba, y, sample_weight=w, random_state=3)
    assert weighted != pytest.approx(bootstrap_standard_error("accuracy", proba, y, random_state=3), rel=0.05)


def test_resamples_the_scorer_cannot_score_are_skipped():
    # ROC AUC of a resample holding one class raises inside scikit-learn; two groups, one class each
    y = np.repeat([0, 1], 20)
    proba = np.column_stack([1 - np.linspace(0, 1, 40), np.linspace(0, 1, 40)])
    se = bootstrap_standard_error("roc_auc", proba, y, groups=np.repeat([0, 1], 20), random_state=0)
    assert se == 0.0  # the resamples that scored all hold both records: AUC 1.0 every time


# ------------------------------------------------------------ the rule
def _rows(scores, sizes, status=None):
    status = status or ["ok"] * len(scores)
    return [dict(candidate=i, status=s, validation_score=v, n_parameters=n)
            for i, (v, n, s) in enumerate(zip(scores, sizes, status))]


def test_one_se_picks_the_smallest_candidate_within_the_band():
    rows = _rows([0.70, 0.78, 0.80, 0.79, 0.60], [500, 100, 900, 100, 50])
    assert select(rows, 2, "best") == (2, 0.80)
    chosen, threshold = select(rows, 2, "one_se", 0.03)
    assert threshold == pytest.approx(0.77)
    assert chosen == 3  # 100 parameters like candidate 1, and the higher score of the two
    assert select(rows, 2, "one_se", 0.0)[0] == 2  # no error: the best
    assert select(rows, 2, "one_se", 0.5)[0] == 4  # everything within: the smallest
    assert band_members(rows, 0.77) == [2, 3, 1]


def test_one_se_never_picks_a_failed_or_pruned_candidate():
    rows = _rows([0.80, 0.79, math.nan, 0.78], [900, 10, 5, 100], ["ok", "pruned", "failed", "ok"])
    assert select(rows, 0, "one_se", 0.05)[0] == 3
    with pytest.raises(ValueError, match="the rule must be 'best' or 'one_se'"):
        select(rows, 0, "auto")


# ------------------------------------------------------------ the estimator
@pytest.fixture(scope="module")
def both(data, tmp_path_factory):
    """The same search (one checkpoint folder) selected by each rule."""
    X, y = data
    folder = tmp_path_factory.mktemp("checkpoints")
    fits = {}
    for rule in ("best", "one_se"):
        fits[rule] = AutoNetLCNClassifier(**dict(ENSEMBLE, selection=rule, checkpoint_dir=folder)).fit(X, y)
    return fits


def test_one_se_selects_from_the_same_search_by_its_rule(both):
    best, one_se = both["best"].search_history_, both["one_se"].search_history_
    assert best["validation_score"] == one_se["validation_score"]  # the rule does not change the search
    scores = np.array(one_se["validation_score"], dtype=float)
    finished = np.array([s == "ok" for s in one_se["status"]]) & np.isfinite(scores)
    assert best["selection_threshold"][0] == pytest.approx(np.nanmax(scores[finished]))
    threshold = one_se["selection_threshold"][0]
    assert threshold <= np.nanmax(scores[finished])
    assert len(set(one_se["selection_threshold"])) == 1
    band = finished & (scores >= threshold)
    sizes = np.array(one_se["n_parameters"])
    chosen = both["one_se"].best_index_
    assert band[chosen] and sizes[chosen] == sizes[band].min()
    assert one_se["selected"][chosen]
    members = [i for i, w in enumerate(one_se["ensemble_weight"]) if w > 0]
    assert chosen in members
    assert all(band[i] and sizes[i] <= sizes[chosen] for i in members)
    assert both["one_se"].n_parameters_ <= both["best"].n_parameters_ or len(members) > 1


def test_one_se_with_groups_bootstraps_the_held_out_groups(data, monkeypatch):
    X, y = data
    groups = np.arange(len(y)) % 10
    seen = []

    def recording(scoring, proba, y_valid, w_valid, valid_groups, **kwargs):
        seen.append((len(y_valid), valid_groups))
        return 0.0

    monkeypatch.setattr(search_module, "bootstrap_standard_error", recording)
    clf = AutoNetLCNClassifier(**dict(ENSEMBLE, max_candidates=2, selection="one_se")).fit(X, y, groups=groups)
    (n_valid, valid_groups), = seen
    assert len(valid_groups) == n_valid and 0 < len(set(valid_groups)) < 10
    scores, sizes = np.array(clf.search_history_["validation_score"]), np.array(clf.search_history_["n_parameters"])
    top = scores == np.nanmax(scores)  # se 0: the band is the best score; the smallest of its ties
    assert top[clf.best_index_] and sizes[clf.best_index_] == sizes[top].min()


@pytest.mark.parametrize("selection, with_groups, bootstraps", [
    ("auto", True, True), ("auto", False, False), ("best", True, False), ("one_se", False, True),
])
def test_auto_is_the_one_se_rule_with_groups_and_the_best_without(data, monkeypatch, selection, with_groups,
                                                                    bootstraps):
    X, y = data
    calls = []
    monkeypatch.setattr(search_module, "bootstrap_standard_error", lambda *a, **k: calls.append(a[4]) or 0.0)
    groups = np.arange(len(y)) % 10 if with_groups else None
    AutoNetLCNClassifier(**dict(ENSEMBLE, max_candidates=1, selection=selection)).fit(X, y, groups=groups)
    assert len(calls) == int(bootstraps)
    if bootstraps:
        assert (calls[0] is not None) == with_groups


@pytest.mark.parametrize("bad", ["smallest", 1, None])
def test_bad_selection_says_what_to_change(data, bad):
    X, y = data
    with pytest.raises(ValueError, match="'selection' parameter of AutoNetLCNClassifier must be a str among"):
        AutoNetLCNClassifier(selection=bad).fit(X, y)
