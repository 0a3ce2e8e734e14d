"""Ensembles of layer-wise convex networks: selection, fitted attributes, persistence, export, resume."""

import json
import pickle
import warnings
import zipfile
from unittest import mock

import numpy as np
import pytest
import torch
from conftest import ENSEMBLE, assert_same_fit, interrupt_training
from sklearn.base import clone

from sklearn_autonet import AutoNetLCNClassifier, load, save
from sklearn_autonet import search as search_module
from sklearn_autonet.architecture import EnsembleArchitecture
from sklearn_autonet.bound import network_holds
from sklearn_autonet.ensemble import greedy_selection
from sklearn_autonet.modules import EnsembleNetwork
from sklearn_autonet.persistence import MAX_MEMBERS, read_metadata, save_model

@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return AutoNetLCNClassifier(**ENSEMBLE).fit(X, y)


# ------------------------------------------------------------ selection
def test_greedy_selection_adds_a_complementary_candidate():
    y = np.array([0, 0, 1, 1])
    a = np.array([[.6, .4], [.45, .55], [.4, .6], [.4, .6]])   # wrong on row 1
    b = np.array([[.9, .1], [.9, .1], [.2, .8], [.55, .45]])   # wrong on row 3
    weights, scores = greedy_selection([a, b], y, None, "accuracy", 2)
    assert weights.tolist() == [0.5, 0.5] and scores == [0.75, 1.0]
    weights, scores = greedy_selection([a, b], y, None, "accuracy", 5)
    assert np.all(weights > 0) and scores[0] == 0.75 and max(scores) == 1.0


def test_greedy_selection_is_never_worse_than_the_best_and_size_one_is_the_best():
    rng = np.random.RandomState(0)
    y = rng.randint(0, 3, 40)
    probas = [rng.dirichlet(np.ones(3), 40) for _ in range(6)]
    weights, scores = greedy_selection(probas, y, None, "balanced_accuracy", 1)
    assert weights.tolist() == [1, 0, 0, 0, 0, 0] and len(scores) == 1
    weights, scores = greedy_selection(probas, y, None, "balanced_accuracy", 8)
    assert weights[0] > 0 and np.isclose(weights.sum(), 1)
    assert np.all(np.round(weights * 8) == weights * 8)  # picks out of at most 8
    mean = sum(w * p for w, p in zip(weights, probas))
    from sklearn_autonet.ensemble import proba_score

    assert proba_score("balanced_accuracy", mean, y) >= scores[0]


def test_greedy_selection_counts_sample_weights():
    y = np.array([0, 1, 1])
    a = np.array([[.9, .1], [.2, .8], [.6, .4]])  # wrong on the heavy row 2
    b = np.array([[.9, .1], [.6, .4], [.2, .8]])  # wrong on the light row 1
    w = np.array([1.0, 1.0, 10.0])
    _, scores = greedy_selection([a, b], y, w, "accuracy", 1)
    assert scores == [pytest.approx(2 / 12)]  # unweighted it would be 2 / 3
    weights, _ = greedy_selection([a, b], y, w, "accuracy", 3)
    assert weights[1] > 0  # b, right on the heavy row, joins


# ------------------------------------------------------------ the fitted ensemble
def test_an_ensemble_describes_every_member(fitted, data):
    X, y = data
    module = fitted.net_.module_
    assert isinstance(module, EnsembleNetwork) and len(module.members) >= 2
    weights = fitted.ensemble_weights_
    assert np.isclose(weights.sum(), 1) and np.all(weights > 0)
    arch = fitted.architecture_
    assert isinstance(arch, EnsembleArchitecture) and len(arch.members) == len(weights)
    assert fitted.n_parameters_ == arch.n_parameters == sum(a.n_parameters for a in arch.members)
    assert fitted.n_parameters_ == sum(p.numel() for p in module.parameters())
    # every member obeys the bound, and the report lists every member's layers
    for spec in arch.specs:
        assert network_holds(spec, fitted.n_fit_, fitted.rho, fitted.counting)
    assert fitted.convexity_report_.holds
    assert len(fitted.convexity_report_) == sum(len(s.layers) for s in arch.specs)
    assert all(row.layer.startswith("member") for row in fitted.convexity_report_)
    # search_history_ says which candidates are in and with what weight
    history = fitted.search_history_
    in_ensemble = {i: w for i, w in zip(history["candidate"], history["ensemble_weight"]) if w > 0}
    assert sorted(in_ensemble.values()) == sorted(weights.tolist())
    assert in_ensemble[fitted.best_index_] > 0 and history["selected"][fitted.best_index_]
    assert {history["spec"][i] for i in in_ensemble} == set(arch.specs)
    assert "ensemble of" in str(arch)


def test_predict_proba_is_the_weighted_mean_of_the_members(fitted, data):
    X, _ = data
    module = fitted.net_.module_.eval()
    with torch.no_grad():
        inputs = torch.as_tensor(X, dtype=torch.float64)
        members = [torch.softmax(m.double()(inputs), dim=1).numpy() for m in module.members]
        module.float()
    mean = sum(w * p for w, p in zip(fitted.ensemble_weights_, members))
    np.testing.assert_allclose(fitted.predict_proba(X), mean, atol=1e-6)


def test_ensemble_size_one_is_a_single_network(data):
    X, y = data
    clf = AutoNetLCNClassifier(**dict(ENSEMBLE, ensemble_size=1)).fit(X, y)
    assert not isinstance(clf.net_.module_, EnsembleNetwork)
    assert clf.ensemble_weights_.tolist() == [1.0]
    assert clf.search_history_["ensemble_weight"][clf.best_index_] == 1.0
    assert sum(clf.search_history_["ensemble_weight"]) == 1.0


@pytest.mark.parametrize("bad", [0, -1, 1.5, "3"])
def test_bad_ensemble_size_says_what_to_change(data, bad):
    X, y = data
    with pytest.raises(ValueError, match="'ensemble_size' parameter of AutoNetLCNClassifier must be an int in the range \\[1, inf\\)"):
        AutoNetLCNClassifier(ensemble_size=bad).fit(X, y)


# ------------------------------------------------------------ persistence and export
def test_ensemble_round_trips_through_save_load_pickle_and_onnx(fitted, data, tmp_path):
    X, _ = data
    expected = fitted.predict_proba(X)
    path = save(fitted, tmp_path / "ensemble.autonet")
    meta = read_metadata(path)
    assert meta["format_version"] == 3
    assert meta["ensemble"]["weights"] == fitted.ensemble_weights_.tolist()
    assert len(meta["ensemble"]["specs"]) == len(fitted.ensemble_weights_) - 1
    loaded = load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    assert loaded.n_parameters_ == fitted.n_parameters_
    assert str(loaded.architecture_) == str(fitted.architecture_)
    assert tuple(loaded.convexity_report_) == tuple(fitted.convexity_report_)
    np.testing.assert_array_equal(loaded.ensemble_weights_, fitted.ensemble_weights_)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).predict_proba(X), expected)
    np.testing.assert_array_equal(clone(fitted).get_params()["ensemble_size"], 5)

    ort = pytest.importorskip("onnxruntime")
    from sklearn_autonet.export import export_onnx

    onnx_path = export_onnx(fitted, tmp_path / "ensemble.onnx")
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    proba = session.run(["probabilities"], {"input": X})[0]
    np.testing.assert_allclose(proba, expected, atol=2e-6)
    props = session.get_modelmeta().custom_metadata_map
    assert int(props["members"]) == len(fitted.ensemble_weights_)
    assert json.loads(props["member_weights"]) == fitted.ensemble_weights_.tolist()
    logits_path = export_onnx(fitted, tmp_path / "logits.onnx", output="logits")
    session = ort.InferenceSession(str(logits_path), providers=["CPUExecutionProvider"])
    logits = session.run(["logits"], {"input": X})[0]
    np.testing.assert_allclose(np.exp(logits) / np.exp(logits).sum(1, keepdims=True), expected, atol=2e-6)


def test_an_ensemble_needs_format_3(fitted, tmp_path):
    for version in (1, 2):
        with pytest.raises(ValueError, match=f"ensemble of 2 networks, which format_version={version} cannot"):
            save_model(fitted, tmp_path / "old.autonet", format_version=version)


def _rewrite(src, dst, edit):
    with zipfile.ZipFile(src) as archive:
        meta = json.loads(archive.read("metadata.json"))
        blob = archive.read("weights.safetensors")
    edit(meta)
    with zipfile.ZipFile(dst, "w") as archive:
        archive.writestr("metadata.json", json.dumps(meta))
        archive.writestr("weights.safetensors", blob)
    return dst


@pytest.mark.parametrize("edit, message", [
    (lambda m: m["ensemble"].update(weights=[0.5, 0.6]), "'ensemble.weights' must sum to 1"),
    (lambda m: m["ensemble"].update(weights=[1.0, 0.0]), r"'ensemble.weights\[1\]' must be a number in \(0, 1\]"),
    (lambda m: m["ensemble"].update(weights=[0.5, True]), r"'ensemble.weights\[1\]' must be a number"),
    (lambda m: m["ensemble"].update(specs=[]), "'ensemble.specs' must list the 1 member"),
    (lambda m: m["ensemble"].update(weights=[1 / 1025] * 1025), "'ensemble.weights' must be a list of 1 to MAX_MEMBERS=1024"),
    (lambda m: m.pop("ensemble"), r"lacks the key|'ensemble' must be an object"),
    (lambda m: m["ensemble"]["specs"][0].update(input_shape=[2, 64]), r"'ensemble.specs\[0\].input_shape' must be the first"),
    (lambda m: m["ensemble"]["specs"][0]["layers"][0].update(width=m["ensemble"]["specs"][0]["layers"][0]["width"] + 1),
     "has shape .* the architecture needs|must be .* what the layer before writes|features the head reads"),
    (lambda m: m["ensemble"]["specs"][0]["layers"][0].update(width=10**7, in_channels=10**7),
     "more than the cap MAX_PARAMETERS"),
])
def test_tampered_ensemble_files_are_refused(fitted, tmp_path, edit, message):
    assert MAX_MEMBERS == 1024
    path = save(fitted, tmp_path / "good.autonet")
    bad = _rewrite(path, tmp_path / "bad.autonet", edit)
    with pytest.raises(ValueError, match=message):
        load(bad)


def test_gpu_fitted_ensemble_loads_on_cpu(fitted, data, tmp_path):
    X, _ = data
    expected = fitted.predict_proba(X)
    gpu_like = pickle.loads(pickle.dumps(fitted))
    gpu_like.net_.device = "cuda"
    with mock.patch("torch.serialization.location_tag", lambda storage: "cuda:0"), \
            mock.patch("torch.cuda.is_available", lambda: False):
        blob = pickle.dumps(gpu_like)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = pickle.loads(blob)
    assert all(p.device.type == "cpu" for p in loaded.net_.module_.parameters())
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    np.testing.assert_array_equal(load(save(loaded, tmp_path / "m.autonet")).predict_proba(X), expected)


def test_convexity_probe_of_a_member(fitted, data):
    from sklearn_autonet.convexity_probe import probe_convexity

    X, y = data
    probe = probe_convexity(fitted, X, y, layer="head", n_segments=5, random_state=0, member=1)
    assert probe.n_violations == 0
    with pytest.raises(ValueError, match="member must be an integer from 0 to 1"):
        probe_convexity(fitted, X, y, member=2)


# ------------------------------------------------------------ the search's machinery
def test_checkpoint_resume_gives_the_same_ensemble(data, tmp_path):
    X, y = data
    first = AutoNetLCNClassifier(**ENSEMBLE, checkpoint_dir=tmp_path).fit(X, y)
    again = AutoNetLCNClassifier(**ENSEMBLE, checkpoint_dir=tmp_path).fit(X, y)
    assert all(again.search_history_["from_checkpoint"])
    assert again.search_history_["ensemble_weight"] == first.search_history_["ensemble_weight"]
    assert_same_fit(again.predict_proba(X), first.predict_proba(X))
    # the ensemble size is not part of the search's fingerprint: another size reuses the candidates
    single = AutoNetLCNClassifier(**dict(ENSEMBLE, ensemble_size=1), checkpoint_dir=tmp_path).fit(X, y)
    assert all(single.search_history_["from_checkpoint"])


def test_n_jobs_gives_the_same_ensemble(fitted, data):
    X, y = data
    parallel = AutoNetLCNClassifier(**ENSEMBLE, n_jobs=2).fit(X, y)
    assert parallel.search_history_["ensemble_weight"] == fitted.search_history_["ensemble_weight"]
    np.testing.assert_allclose(parallel.predict_proba(X), fitted.predict_proba(X), atol=1e-6)


def test_ctrl_c_keeps_the_best_ensemble_so_far(data, monkeypatch):
    X, y = data
    interrupt_training(monkeypatch, search_module, on_call=5)
    with pytest.warns(RuntimeWarning, match="interrupted; keeping the best of the 4 finished"):
        clf = AutoNetLCNClassifier(**ENSEMBLE).fit(X, y)
    assert clf.stop_reason_ == "interrupted"
    history = clf.search_history_
    assert len(history["candidate"]) == 4 and np.isclose(sum(history["ensemble_weight"]), 1)
    assert clf.predict_proba(X).shape == (len(y), 3)


def test_max_time_stops_with_a_usable_ensemble(data):
    X, y = data
    clf = AutoNetLCNClassifier(**ENSEMBLE, max_time=1e-3).fit(X, y)  # the first candidate, cut at its deadline
    assert clf.stop_reason_ == "max_time"
    assert np.isclose(sum(clf.search_history_["ensemble_weight"]), 1)
    assert np.isclose(clf.ensemble_weights_.sum(), 1)
    assert clf.predict(X).shape == (len(y),)


def test_only_the_pool_keeps_its_weights(data, monkeypatch):
    """The search keeps the weights of the best 2 * ensemble_size candidates, not of all."""
    X, y = data
    sizes = []
    real = search_module._ensemble_pool

    def spy(rows, ensemble_size):
        pool = real(rows, ensemble_size)
        if ensemble_size == 2:  # the pool of kept weights (k-fold scoring asks for its own list of specs)
            sizes.append(len(pool))
        return pool

    monkeypatch.setattr(search_module, "_ensemble_pool", spy)
    AutoNetLCNClassifier(**dict(ENSEMBLE, ensemble_size=2)).fit(X, y)
    assert max(sizes) == 4
