"""ONNX export: the graph run by onnxruntime matches predict_proba."""

import builtins
import json
import warnings

import numpy as np
import pytest
import torch
from conftest import make_signals, on_module_device

from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet.export import OPSET, export_onnx, supported_opsets

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

SMALL = dict(max_candidates=1, max_epochs=5, random_state=0)


@pytest.fixture(scope="module")
def tabular():
    rng = np.random.RandomState(0)
    X = rng.randn(120, 5).astype(np.float32)
    y = np.where(X[:, 0] + X[:, 1] > 0, "high", "low")
    return AutoNetLCNClassifier(**SMALL).fit(X, y), X


@pytest.fixture(scope="module")
def signal():
    X, y = make_signals()
    return AutoNetLCNClassifier(**SMALL).fit(X, y), X


@pytest.fixture(scope="module")
def side():
    X, y = make_signals()
    X2 = np.hstack([X.reshape(len(X), -1), np.random.RandomState(1).randn(len(y), 3).astype(np.float32)])
    return AutoNetLCNClassifier(signal_shape=(2, 32), **SMALL).fit(X2, y), X2


def run(path, X, output="probabilities"):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run([output], {"input": X})[0]


@pytest.mark.parametrize("model", ["tabular", "signal", "side"])
def test_onnx_matches_predict_proba(model, request, tmp_path):
    clf, X = request.getfixturevalue(model)
    path = export_onnx(clf, tmp_path / "model.onnx")
    proba = run(path, X)
    assert proba.shape == (len(X), len(clf.classes_))
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=1e-4, atol=1e-5)
    # dynamic batch axis: one sample and an odd batch size
    np.testing.assert_allclose(run(path, X[:1]), clf.predict_proba(X[:1]), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(run(path, X[:7]), clf.predict_proba(X[:7]), rtol=1e-4, atol=1e-5)


def test_graph_layout_and_metadata(signal, tmp_path):
    clf, _ = signal
    model = onnx.load(export_onnx(clf, tmp_path / "model.onnx"))
    (graph_input,) = model.graph.input
    dims = graph_input.type.tensor_type.shape.dim
    assert graph_input.name == "input"
    assert dims[0].dim_param == "batch"
    assert [d.dim_value for d in dims[1:]] == list(clf.input_shape_)
    assert [o.name for o in model.graph.output] == ["probabilities"]
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["classes"]) == clf.classes_.tolist()
    assert meta["input_kind"] == "signal" and json.loads(meta["input_shape"]) == [2, 32]


def test_side_feature_graph_reads_2d_rows(side, tmp_path):
    clf, X = side
    model = onnx.load(export_onnx(clf, tmp_path / "side.onnx"))
    (graph_input,) = model.graph.input
    assert [d.dim_value for d in graph_input.type.tensor_type.shape.dim[1:]] == [2 * 32 + 3]
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["n_side_features"] == "3" and json.loads(meta["input_shape"]) == [2, 32]


def test_logits_output(tabular, tmp_path):
    clf, X = tabular
    logits = run(export_onnx(clf, tmp_path / "logits.onnx", output="logits"), X, "logits")
    softmax = np.exp(logits - logits.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    np.testing.assert_allclose(softmax, clf.predict_proba(X), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="output must be one of"):
        export_onnx(clf, tmp_path / "x.onnx", output="labels")


def test_export_does_not_change_the_estimator(tabular, tmp_path):
    clf, X = tabular
    before, device = clf.predict_proba(X), str(clf.net_.device)
    export_onnx(clf, tmp_path / "model.onnx")
    assert str(clf.net_.device) == device
    assert {p.device.type for p in clf.net_.module_.parameters()} == {torch.device(device).type}
    np.testing.assert_array_equal(clf.predict_proba(X), before)


@pytest.mark.real_data
def test_onnx_parity_real_ecg200(ecg200, tmp_path):
    X_train, y_train, X_test, _ = ecg200
    clf = AutoNetLCNClassifier(**SMALL).fit(X_train, y_train)
    proba = run(export_onnx(clf, tmp_path / "ecg200.onnx"), X_test)
    np.testing.assert_allclose(proba, clf.predict_proba(X_test), rtol=1e-4, atol=1e-5)


def test_missing_onnx_names_the_extra(tabular, tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_onnx(name, *args, **kwargs):
        if name == "onnx" or name.startswith("onnx."):
            raise ImportError("No module named 'onnx'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    with pytest.raises(ImportError, match=r"sklearn-autonet\[onnx\]"):
        export_onnx(tabular[0], tmp_path / "model.onnx")


@pytest.mark.parametrize("opset", [3, 7, 8, 21, 10000, 17.0, True, "17", None])
def test_unsupported_opset_is_refused_up_front(tabular, tmp_path, opset):
    low, high = supported_opsets()
    assert (low, high) == (9, 20) or low <= OPSET <= high  # 9..20 with torch 2.13
    with pytest.raises(ValueError, match=rf"opset must be an integer from {low} to {high} .*got {opset!r}"):
        export_onnx(tabular[0], tmp_path / "m.onnx", opset=opset)
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("model", ["signal", "side"])
def test_lowest_and_highest_opsets_match_predict_proba(model, request, tmp_path):
    clf, X = request.getfixturevalue(model)
    for opset in supported_opsets():
        path = export_onnx(clf, tmp_path / f"m{opset}.onnx", opset=opset)
        graph = onnx.load(path)
        assert graph.opset_import[0].version == opset
        assert [i.name for i in graph.graph.input] == ["input"]  # the weights are not inputs
        np.testing.assert_allclose(run(path, X), clf.predict_proba(X), rtol=1e-4, atol=1e-5)


def test_bfloat16_model_exports_a_float32_graph_with_a_warning(tmp_path):
    """predict_proba rounds in bfloat16; the graph is the same network in float32 (documented)."""
    X, y = make_signals(n=60)
    clf = AutoNetLCNClassifier(precision="bfloat16", max_candidates=1, max_epochs=2, random_state=0).fit(X, y)
    with pytest.warns(UserWarning, match=r"predicts in bfloat16 .* the ONNX graph computes in float32"):
        path = export_onnx(clf, tmp_path / "bf16.onnx")
    proba = run(path, X)
    with torch.no_grad():  # the same network without autocast
        module = clf.net_.module_.eval()
        reference = torch.softmax(module(on_module_device(module, X)), dim=1).cpu().numpy()
    np.testing.assert_allclose(proba, reference, rtol=1e-4, atol=1e-5)
    difference = np.abs(proba - clf.predict_proba(X)).max()
    assert 0 < difference < 5e-2  # bfloat16 rounding, nothing else
    meta = {p.key: p.value for p in onnx.load(path).metadata_props}
    assert meta["precision"] == "float32" and meta["model_precision"] == "bfloat16"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a float32 model exports without the warning
        export_onnx(AutoNetLCNClassifier(max_candidates=1, max_epochs=2, random_state=0).fit(X, y), tmp_path / "f32.onnx")
