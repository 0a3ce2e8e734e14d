"""``groups`` reaches the search's validation split through Pipelines, cross_validate and GridSearchCV."""

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet import estimator as estimator_module

FAST = dict(max_candidates=1, max_epochs=1, random_state=0)
X = np.random.RandomState(0).randn(90, 5)
Y = np.arange(90) % 3
GROUPS = np.arange(90) // 6  # 15 groups of 6, every class in each


@pytest.fixture
def seen_groups(monkeypatch):
    """The ``groups`` each fit handed to the search's validation split (None: no groups)."""
    seen = []
    split = estimator_module.validation_split

    def spy(y, groups=None, **kwargs):
        seen.append(None if groups is None else np.asarray(groups).copy())
        return split(y, groups, **kwargs)

    monkeypatch.setattr(estimator_module, "validation_split", spy)
    return seen


def test_fit_request_is_generated_from_the_fit_signature():
    with sklearn.config_context(enable_metadata_routing=True):
        request = AutoNetLCNClassifier().set_fit_request(groups=True, sample_weight=False).get_metadata_routing()
    assert request.fit.requests == {"groups": True, "sample_weight": False}


def test_cross_validate_routes_groups_through_a_pipeline(seen_groups):
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(StandardScaler(), AutoNetLCNClassifier(**FAST).set_fit_request(groups=True))
        result = cross_validate(pipe, X, Y, cv=GroupKFold(3), params={"groups": GROUPS}, return_indices=True)
    assert len(seen_groups) == 3
    for groups, train in zip(seen_groups, result["indices"]["train"]):
        np.testing.assert_array_equal(groups, GROUPS[train])  # the fold's own groups, sliced per fold


def test_grid_search_routes_groups_to_every_fit_and_the_refit(seen_groups):
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(StandardScaler(), AutoNetLCNClassifier(**FAST).set_fit_request(groups=True))
        search = GridSearchCV(pipe, {"autonetlcnclassifier__rho": [0.5, 1.0]}, cv=GroupKFold(2)).fit(X, Y, groups=GROUPS)
    assert len(seen_groups) == 5  # 2 candidates x 2 folds + the refit
    assert all(groups is not None for groups in seen_groups)
    np.testing.assert_array_equal(seen_groups[-1], GROUPS)
    assert search.best_estimator_[-1].search_history_["n_fit"][0] < 90  # the search split by group


def test_without_routing_a_pipeline_takes_the_step_prefixed_name(seen_groups):
    pipe = make_pipeline(StandardScaler(), AutoNetLCNClassifier(**FAST))
    pipe.fit(X, Y, autonetlcnclassifier__groups=GROUPS)
    cross_validate(pipe, X, Y, groups=GROUPS, cv=GroupKFold(2), params={"autonetlcnclassifier__groups": GROUPS})
    assert len(seen_groups) == 3 and all(groups is not None for groups in seen_groups)
    assert len(seen_groups[0]) == 90 and len(seen_groups[1]) + len(seen_groups[2]) == 90


def test_groups_never_reach_the_search_unasked(seen_groups):
    """Routing on, no set_fit_request: scikit-learn refuses instead of dropping them silently."""
    from sklearn.exceptions import UnsetMetadataPassedError

    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(StandardScaler(), AutoNetLCNClassifier(**FAST))
        with pytest.raises(UnsetMetadataPassedError, match=r"\[groups\] are passed but are not explicitly set as requested"):
            cross_validate(pipe, X, Y, cv=GroupKFold(3), params={"groups": GROUPS}, error_score="raise")
    assert seen_groups == []
