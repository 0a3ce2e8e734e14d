"""The 3-D signal path through scikit-learn's tools, and the fitted reports."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet.modules import LCNNetwork

SMALL = dict(max_candidates=2, max_epochs=25, random_state=0)


def standardize_per_lead(X):
    X = np.asarray(X, dtype=np.float32)
    return (X - X.mean(axis=-1, keepdims=True)) / (X.std(axis=-1, keepdims=True) + 1e-6)


def test_fit_predict_signal(signals):
    X, y = signals
    clf = AutoNetLCNClassifier(**SMALL).fit(X, y)
    assert clf.input_kind_ == "signal" and clf.input_shape_ == (2, 32)
    assert clf.n_features_in_ == 2
    assert clf.architecture_.spec.hidden[0].kind == "conv"
    proba = clf.predict_proba(X)
    assert proba.shape == (90, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert clf.score(X, y) > 0.8


def test_string_labels(signals):
    X, y = signals
    labels = np.array(["N", "S", "V"])[y]
    clf = AutoNetLCNClassifier(**SMALL).fit(X, labels)
    assert_array_equal(clf.classes_, ["N", "S", "V"])
    assert set(clf.predict(X)) <= {"N", "S", "V"}


def test_pipeline_cross_val_score_and_grid_search(signals):
    X, y = signals
    pipe = make_pipeline(FunctionTransformer(standardize_per_lead), AutoNetLCNClassifier(**SMALL))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.mean() > 0.6  # chance is 1/3
    grid = GridSearchCV(AutoNetLCNClassifier(**SMALL), {"rho": [0.5, 1.0]}, cv=2).fit(X, y)
    assert grid.best_params_["rho"] in (0.5, 1.0)
    assert len(grid.cv_results_["mean_test_score"]) == 2


def test_clone_and_pickle_round_trip(signals):
    X, y = signals
    clf = AutoNetLCNClassifier(**SMALL)
    assert clone(clf).get_params() == clf.get_params()
    clf.fit(X, y)
    assert not hasattr(clone(clf), "net_")
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert_array_equal(restored.predict(X), clf.predict(X))


def test_fit_is_deterministic_with_a_random_state(signals):
    X, y = signals
    a = AutoNetLCNClassifier(**SMALL).fit(X, y)
    b = AutoNetLCNClassifier(**SMALL).fit(X, y)
    assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.search_history_["validation_score"] == b.search_history_["validation_score"]
    c = AutoNetLCNClassifier(**{**SMALL, "random_state": 1}).fit(X, y)
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_wrong_layout_at_predict(signals):
    X, y = signals
    clf = AutoNetLCNClassifier(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match=r"3 lead\(s\) of length 32.*fitted on 2 lead\(s\)"):
        clf.predict(np.zeros((4, 3, 32), dtype=np.float32))
    with pytest.raises(ValueError, match=r"length 40"):
        clf.predict_proba(np.zeros((4, 2, 40), dtype=np.float32))
    with pytest.raises(ValueError, match="2-D X is read as a single lead.*fitted on 2 leads"):
        clf.predict(np.zeros((4, 2)))  # 2-D where 3-D was fitted
    with pytest.raises(ValueError, match="4 dimensions"):
        AutoNetLCNClassifier(**SMALL).fit(X[..., None], y)


def test_two_d_input_declared_as_a_signal(signals):
    X, y = signals
    single = X[:, 0, :]
    clf = AutoNetLCNClassifier(input_kind="signal", **SMALL).fit(single, y)
    assert clf.input_shape_ == (1, 32)
    assert clf.architecture_.spec.hidden[0].kind == "conv"
    assert clf.predict(single).shape == (90,)
    tab = AutoNetLCNClassifier(**SMALL).fit(single, y)
    assert tab.architecture_.spec.hidden[0].kind == "dense"
    with pytest.raises(ValueError, match="input_kind='tabular' needs 2-D X"):
        AutoNetLCNClassifier(input_kind="tabular", **SMALL).fit(X, y)


def test_verbose_zero_prints_nothing(signals, capsys):
    X, y = signals
    AutoNetLCNClassifier(**SMALL).fit(X, y).predict(X)
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_verbose_one_shows_progress_and_architecture(signals, capsys):
    X, y = signals
    AutoNetLCNClassifier(verbose=1, **SMALL).fit(X, y)
    out, err = capsys.readouterr()
    assert "AutoNet search" in err  # tqdm writes to stderr
    assert "head" in out and "parameters" in out


def test_every_candidate_keeps_the_bound(signals):
    X, y = signals
    clf = AutoNetLCNClassifier(max_candidates=4, patience=4, max_epochs=5, random_state=0).fit(X, y)
    history = clf.search_history_
    assert len(history["candidate"]) == 4
    assert all(history["bound_holds"])
    for spec, n_fit in zip(history["spec"], history["n_fit"]):
        # parameters counted on the torch module, not with the function that made the report;
        # equations under the default rule ("outputs": N_fit times the layer's outputs per sample)
        for module, layer in zip(LCNNetwork(spec).layer_modules(), spec.layers, strict=True):
            assert clf.counting == "outputs"
            assert sum(p.numel() for p in module.parameters()) <= n_fit * layer.outputs_per_sample
    assert sum(history["selected"]) == 1
    assert history["selected"][clf.best_index_]
    best = max(history["validation_score"])
    assert history["validation_score"][clf.best_index_] == best
    assert clf.convexity_report_.holds


def test_lower_rho_gives_narrower_networks(signals):
    X, y = signals
    line = dict(max_candidates=2, patience=2, max_epochs=2, random_state=0, growth="deepen")
    wide = AutoNetLCNClassifier(**line).fit(X, y)
    narrow = AutoNetLCNClassifier(rho=0.3, **line).fit(X, y)
    assert narrow.search_history_["depth"] == wide.search_history_["depth"] == [1, 2]
    for w_wide, w_narrow in zip(wide.search_history_["widths"], narrow.search_history_["widths"]):
        assert w_narrow[0] < w_wide[0]
    for p_wide, p_narrow in zip(wide.search_history_["n_parameters"], narrow.search_history_["n_parameters"]):
        assert p_narrow < p_wide
