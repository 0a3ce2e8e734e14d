"""The model file (save / load), pickle and joblib, and loading a GPU-fitted model on a CPU."""

import hashlib
import io
import json
import pickle
import warnings
import zipfile
from unittest import mock

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import make_signals
from sklearn.metrics import make_scorer, recall_score

from sklearn_autonet import AutoNetLCNClassifier, NetworkSpec, load, save
from sklearn_autonet import persistence
from sklearn_autonet.persistence import FORMAT_VERSION, load_model, read_metadata, save_model

SMALL = dict(max_candidates=1, max_epochs=5, random_state=0)


@pytest.fixture(scope="module")
def tabular():
    """A model fitted on a DataFrame (feature names) with string labels."""
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.randn(120, 5).astype(np.float32), columns=[f"f{i}" for i in range(5)])
    y = np.where(X["f0"] + X["f1"] > 0, "high", "low")
    return AutoNetLCNClassifier(**SMALL).fit(X, y), X


@pytest.fixture(scope="module")
def signal():
    """A model fitted on 3-D signals (n, 2 leads, 32), three integer classes."""
    X, y = make_signals()
    return AutoNetLCNClassifier(**SMALL).fit(X, y), X


@pytest.fixture(scope="module")
def side():
    """A model fitted with signal_shape=(2, 32): 64 signal columns then 3 side features."""
    X, y = make_signals()
    side = np.random.RandomState(1).randn(len(y), 3).astype(np.float32) * 50 + 200
    X2 = np.hstack([X.reshape(len(X), -1), side])
    return AutoNetLCNClassifier(signal_shape=(2, 32), **SMALL).fit(X2, y), X2


@pytest.fixture(params=[FORMAT_VERSION, 1], ids=["format2", "format1"])
def saved(tabular, tmp_path, request):
    """The tabular model's file, in the current format and in format 1 (weights.pt), which still loads."""
    return save_model(tabular[0], tmp_path / "model.autonet", format_version=request.param)


def assert_same_model(loaded, original, X):
    np.testing.assert_array_equal(loaded.predict_proba(X), original.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), original.predict(X))
    np.testing.assert_array_equal(loaded.classes_, original.classes_)
    assert loaded.classes_.dtype == original.classes_.dtype
    for name in ("input_kind_", "input_shape_", "n_features_in_", "n_fit_", "n_parameters_",
                 "stop_reason_", "best_index_", "fit_time_"):
        assert getattr(loaded, name) == getattr(original, name), name
    assert str(loaded.architecture_) == str(original.architecture_)
    assert tuple(loaded.convexity_report_) == tuple(original.convexity_report_)
    assert loaded.get_params() == original.get_params()
    history = pd.DataFrame(loaded.search_history_)
    pd.testing.assert_frame_equal(history, pd.DataFrame(original.search_history_))


def weights_name(path):
    """The weights entry of a model file: weights.safetensors (format 2) or weights.pt (format 1)."""
    with zipfile.ZipFile(path) as archive:
        (name,) = [n for n in archive.namelist() if n != "metadata.json"]
    return name


def rewrite(src, dst, metadata=None, weights=None):
    """Copy a model file, replacing its metadata (a function of the dict) or its weights bytes."""
    name = weights_name(src)
    with zipfile.ZipFile(src) as archive:
        meta = json.loads(archive.read("metadata.json"))
        blob = archive.read(name)
    if metadata is not None:
        meta = metadata(meta) or meta
    if weights is not None:
        blob = weights
        meta["weights_sha256"] = hashlib.sha256(blob).hexdigest()
    with zipfile.ZipFile(dst, "w") as archive:
        archive.writestr("metadata.json", json.dumps(meta))
        archive.writestr(name, blob)
    return dst


def state_dict_of(path):
    name = weights_name(path)
    with zipfile.ZipFile(path) as archive:
        blob = archive.read(name)
        meta = json.loads(archive.read("metadata.json"))
    if name == "weights.pt":
        return torch.load(io.BytesIO(blob), weights_only=True)
    return persistence._read_safetensors(blob, meta["tensors"], str(path))


def weights_bytes(state, like):
    """``state`` encoded as the weights entry of the model file ``like``."""
    if weights_name(like) == "weights.pt":
        return torch_bytes(state)
    return persistence._safetensors_bytes(state)


def torch_bytes(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


# ------------------------------------------------------------- round trips
def test_round_trip_tabular_string_labels_and_feature_names(tabular, saved):
    clf, X = tabular
    loaded = load(saved)
    assert_same_model(loaded, clf, X)
    assert loaded.classes_.dtype.kind == "U"
    np.testing.assert_array_equal(loaded.feature_names_in_, clf.feature_names_in_)
    assert all(isinstance(s, NetworkSpec) for s in loaded.search_history_["spec"])
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(X[X.columns[::-1]])


def test_round_trip_signal_3d(signal, tmp_path):
    clf, X = signal
    loaded = load_model(save(clf, tmp_path / "signal.autonet"))
    assert_same_model(loaded, clf, X)
    assert loaded.input_shape_ == (2, 32)
    assert loaded.classes_.dtype == clf.classes_.dtype and loaded.classes_.dtype.kind == "i"
    assert not hasattr(loaded, "feature_names_in_")


def test_round_trip_signal_with_side_features(side, tmp_path):
    clf, X = side
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # signal_shape (a tuple) is saved, not dropped with a warning
        loaded = load_model(save(clf, tmp_path / "side.autonet"))
    assert_same_model(loaded, clf, X)
    assert loaded.signal_shape == (2, 32) and loaded.n_side_features_ == 3
    assert loaded.architecture_.spec.n_side == 3 and loaded.architecture_.spec.head.in_channels == 3 + clf.architecture_.spec.hidden[-1].width
    assert read_metadata(tmp_path / "side.autonet")["spec"]["n_side"] == 3
    state = state_dict_of(tmp_path / "side.autonet")
    np.testing.assert_allclose(state["side_norm.running_mean"].numpy(), 200, atol=25)  # standardisation saved
    with pytest.raises(ValueError, match="67: 64 signal columns"):
        loaded.predict(X[:, :-1])


def test_spec_without_n_side_reads_as_zero(saved):
    """Files of models without side features hold no n_side key (as before it existed)."""
    spec = read_metadata(saved)["spec"]
    assert "n_side" not in spec
    assert NetworkSpec.from_dict(spec).n_side == 0


def test_round_trip_object_labels_and_params(tmp_path):
    """Object-dtype labels, a dict class_weight with int keys, and an unsaveable scorer."""
    X, y = make_signals(n=60, leads=1, length=16)
    labels = np.array(["N", "S", "V"], dtype=object)[y]
    clf = AutoNetLCNClassifier(class_weight="balanced", **SMALL).fit(X[:, 0], labels)
    assert clf.classes_.dtype == object
    loaded = load(save(clf, tmp_path / "m.autonet"))
    assert_same_model(loaded, clf, X[:, 0])
    assert loaded.classes_.dtype == object

    clf.set_params(class_weight={0: 1.0, 1: 2.5}, scoring=make_scorer(recall_score, average="macro"))
    with pytest.warns(UserWarning, match="scoring=make_scorer"):
        loaded = load(save(clf, tmp_path / "m2.autonet"))
    assert loaded.class_weight == {0: 1.0, 1: 2.5}
    assert loaded.scoring == "balanced_accuracy"  # back to the default
    np.testing.assert_array_equal(loaded.predict_proba(X[:, 0]), clf.predict_proba(X[:, 0]))


@pytest.mark.real_data
def test_round_trip_real_ecg200(ecg200, tmp_path):
    X_train, y_train, X_test, y_test = ecg200
    clf = AutoNetLCNClassifier(sampling_rate=None, **SMALL).fit(X_train, y_train)
    loaded = load(save(clf, tmp_path / "ecg200.autonet"))
    assert_same_model(loaded, clf, X_test)
    assert loaded.score(X_test, y_test) == clf.score(X_test, y_test)


def test_file_is_small_and_holds_weights_only(tabular, signal, tmp_path):
    for clf, _ in (tabular, signal):
        path = save(clf, tmp_path / "m.autonet")
        with zipfile.ZipFile(path) as archive:
            assert sorted(archive.namelist()) == ["metadata.json", "weights.safetensors"]
            blob = archive.read("weights.safetensors")
        state = state_dict_of(path)
        n_values = sum(t.numel() for t in state.values())
        # parameters + BatchNorm running statistics, no optimizer moments
        assert n_values < 2 * clf.n_parameters_
        # safetensors: 8 bytes, a short JSON header, then exactly the tensors' bytes
        header = int.from_bytes(blob[:8], "little")
        assert len(blob) == 8 + header + sum(t.numel() * t.element_size() for t in state.values())
        assert header < 200 * len(state)
        assert (tmp_path / "m.autonet").stat().st_size < len(pickle.dumps(clf))

        old = save_model(clf, tmp_path / "old.autonet", format_version=1)
        with zipfile.ZipFile(old) as archive:
            assert sorted(archive.namelist()) == ["metadata.json", "weights.pt"]
            weights_size = archive.getinfo("weights.pt").file_size
        # float32 values (at most 8 bytes for the int64 batch counters) plus torch's framing,
        # measured on the same state dict with empty tensors, and 64-byte alignment
        framing = len(torch_bytes({k: torch.empty(0, dtype=v.dtype) for k, v in state.items()}))
        assert weights_size <= framing + 8 * n_values + 64 * len(state)


def test_read_metadata(saved, tabular):
    meta = read_metadata(saved)
    assert meta["format_version"] == (FORMAT_VERSION if weights_name(saved) == "weights.safetensors" else 1)
    assert meta["versions"]["torch"] == torch.__version__
    assert meta["fitted"]["classes"] == {"dtype": tabular[0].classes_.dtype.str, "values": ["high", "low"]}
    assert meta["fitted"]["convexity_report"]["rows"][0]["P_l"] == tabular[0].convexity_report_[0].P_l
    assert NetworkSpec.from_dict(meta["spec"]) == tabular[0].architecture_.spec


def test_load_leaves_global_random_state_alone(saved):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    load(saved)
    assert torch.equal(torch.rand(3), expected)


# ------------------------------------------------------------------ safety
class _Payload:
    """Unpickling this creates ``marker`` (as a hostile file would run code)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_payload_is_live(tmp_path):
    """The payload used below does run when unpickled the ordinary way."""
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(_Payload(marker))).close()
    assert marker.exists()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("wrap", ["pickle", "torch.save", "inside state dict"])
def test_loader_refuses_pickle_payload(saved, tmp_path, wrap):
    marker = tmp_path / "pwned"
    payload = _Payload(marker)
    if wrap == "pickle":
        blob = pickle.dumps(payload)
    elif wrap == "torch.save":
        blob = torch_bytes(payload)
    else:
        state = state_dict_of(saved)
        state["head.bias"] = payload
        blob = torch_bytes(state)
    bad = rewrite(saved, tmp_path / "bad.autonet", weights=blob)
    # refused by the entry's size (smaller than the tensors need), by the safetensors
    # parser (format 2), or by torch's weights_only unpickler (format 1): never run
    with pytest.raises(ValueError, match=r"entry 'weights\.(pt|safetensors)' declares|"
                       r"weights\.safetensors: |refusing to load weights\.pt"):
        load(bad)
    assert not marker.exists()


def test_not_a_model_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ValueError, match="not a sklearn-autonet model file"):
        load(path)
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("readme.txt", "hi")
    with pytest.raises(ValueError, match=r"lacks \['metadata.json'\]"):
        load(tmp_path / "other.zip")


# -------------------------------------------------- version, truncation, shapes
def test_newer_format_version(saved, tmp_path):
    def newer(meta):
        meta["format_version"] = FORMAT_VERSION + 1

    with pytest.raises(ValueError, match=f"format version {FORMAT_VERSION + 1}, newer"):
        load(rewrite(saved, tmp_path / "new.autonet", metadata=newer))


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_truncated_file(saved, tmp_path, keep):
    data = open(saved, "rb").read()
    path = tmp_path / "cut.autonet"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load(path)


def test_corrupt_weights_bytes(saved, tmp_path):
    """A flipped byte inside the stored weights fails the zip CRC check."""
    with zipfile.ZipFile(saved) as archive:
        info = archive.getinfo(weights_name(saved))
    data = bytearray(open(saved, "rb").read())
    data[info.header_offset + 30 + len(info.filename) + 10] ^= 0xFF
    path = tmp_path / "flipped.autonet"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load(path)


def test_weights_checksum(saved, tmp_path):
    state = state_dict_of(saved)
    state["head.bias"] = state["head.bias"] + 1
    bad = rewrite(saved, tmp_path / "bad.autonet", weights=weights_bytes(state, saved))

    def old_checksum(meta):
        meta["weights_sha256"] = read_metadata(saved)["weights_sha256"]

    bad = rewrite(bad, tmp_path / "bad2.autonet", metadata=old_checksum)
    with pytest.raises(ValueError, match="checksum"):
        load(bad)


def test_tampered_tensor_shape(saved, tmp_path):
    state = state_dict_of(saved)
    key = "blocks.0.linear.weight"
    state[key] = torch.zeros(state[key].shape[0] + 1, state[key].shape[1])
    bad = rewrite(saved, tmp_path / "a.autonet", weights=weights_bytes(state, saved))
    with pytest.raises(ValueError, match=f"tensor '{key}' has shape .* but metadata.json declares"):
        load(bad)

    def declare(meta):
        meta["tensors"][key]["shape"] = list(state[key].shape)

    bad = rewrite(bad, tmp_path / "b.autonet", metadata=declare)
    with pytest.raises(ValueError, match=f"tensor '{key}' has shape .* the architecture needs"):
        load(bad)


def test_tampered_architecture(saved, tmp_path):
    def wider(meta):
        meta["spec"]["layers"][0]["width"] += 1

    with pytest.raises(ValueError, match="has shape .* the architecture needs"):
        load(rewrite(saved, tmp_path / "a.autonet", metadata=wider))

    def fewer_classes(meta):
        meta["fitted"]["classes"]["values"] = meta["fitted"]["classes"]["values"][:1]

    with pytest.raises(ValueError, match="1 classes, but the network has 2 outputs"):
        load(rewrite(saved, tmp_path / "b.autonet", metadata=fewer_classes))


def test_missing_and_extra_tensors(saved, tmp_path):
    state = state_dict_of(saved)
    del state["head.bias"]
    state["extra.weight"] = torch.zeros(2)

    def declare(meta):
        del meta["tensors"]["head.bias"]
        meta["tensors"]["extra.weight"] = {"shape": [2], "dtype": "float32"}

    bad = rewrite(saved, tmp_path / "a.autonet", metadata=declare, weights=weights_bytes(state, saved))
    with pytest.raises(ValueError, match=r"missing tensor\(s\) \['head.bias'\], unexpected tensor\(s\) \['extra.weight'\]"):
        load(bad)


@pytest.mark.parametrize("where, key", [(None, "spec"), (None, "format_version"), ("fitted", "classes")])
def test_missing_keys(saved, tmp_path, where, key):
    def drop(meta):
        del (meta if where is None else meta[where])[key]

    with pytest.raises(ValueError, match=key):
        load(rewrite(saved, tmp_path / "a.autonet", metadata=drop))


def test_spec_from_dict_rejects_bad_fields():
    good = {"input_kind": "tabular", "input_shape": [3], "activation": "tanh",
            "layers": [{"name": "head", "kind": "head", "in_channels": 3, "width": 2,
                        "kernel_size": 1, "in_length": 1, "norm": False}]}
    assert NetworkSpec.from_dict(good).input_shape == (3,)
    bad = json.loads(json.dumps(good))
    bad["layers"][0]["width"] = "2"
    with pytest.raises(ValueError, match="'width' must be int"):
        NetworkSpec.from_dict(bad)
    with pytest.raises(ValueError, match="missing key"):
        NetworkSpec.from_dict({"input_kind": "tabular"})


# ------------------------------------------------------- pickle, joblib, GPU
@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_pickle_and_joblib(signal, tmp_path, dump):
    clf, X = signal
    path = tmp_path / "model.bin"
    if dump == "pickle":
        path.write_bytes(pickle.dumps(clf))
        loaded = pickle.loads(path.read_bytes())
    else:
        joblib.dump(clf, path)
        loaded = joblib.load(path)
    assert_same_model(loaded, clf, X)


def test_cuda_fitted_model_loads_on_cpu(tabular, tmp_path):
    """A model whose tensors claim a CUDA device unpickles on a CPU-only machine.

    Without a GPU, the pickle is made the way a CUDA-fitted model's would be:
    the net's device is "cuda" and torch records every storage at "cuda:0".
    """
    clf, X = tabular
    expected = clf.predict_proba(X)
    gpu_like = pickle.loads(pickle.dumps(clf))
    gpu_like.set_params(device="cuda")
    gpu_like.net_.device = "cuda"
    with mock.patch("torch.serialization.location_tag", lambda storage: "cuda:0"), \
            mock.patch("torch.cuda.is_available", lambda: False):
        blob = pickle.dumps(gpu_like)
        tensor_blob = pickle.dumps(torch.ones(2))
        # the blob really claims CUDA: a plain tensor pickled this way does not load on a CPU
        with pytest.raises(RuntimeError, match="CUDA"):
            pickle.loads(tensor_blob)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loaded = pickle.loads(blob)
    assert any("not available" in str(w.message) for w in caught)
    assert str(loaded.net_.device) == "cpu"
    assert all(p.device.type == "cpu" for p in loaded.net_.module_.parameters())
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    # and the model file of such a model holds CPU tensors that load anywhere
    path = save(loaded, tmp_path / "gpu.autonet")
    assert read_metadata(path)["net"]["saved_from_device"] == "cpu"
    np.testing.assert_array_equal(load(path, device="cpu").predict_proba(X), expected)
