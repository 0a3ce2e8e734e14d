"""The model file (save / load), pickle and joblib, and loading a GPU-fitted model on a CPU."""

import errno
import hashlib
import io
import json
import os
import pickle
import stat
import struct
import subprocess
import sys
import warnings
import zipfile
from unittest import mock

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import make_signals
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import make_scorer, recall_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

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


@pytest.fixture(params=[FORMAT_VERSION, 2, 1], ids=["format3", "format2", "format1"])
def saved(tabular, tmp_path, request):
    """The tabular model's file, in the current format and in formats 2 and 1 (weights.pt), which still load."""
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
    assert loaded.scoring is None  # back to the default (balanced accuracy for this target)
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
    assert meta["format_version"] in ((FORMAT_VERSION, 2) if weights_name(saved) == "weights.safetensors" else (1,))
    assert ("ensemble" in meta) == (meta["format_version"] >= 3)
    assert meta["versions"]["torch"] == torch.__version__
    assert meta["fitted"]["classes"] == {"dtype": tabular[0].classes_.dtype.str, "values": ["high", "low"]}
    assert meta["fitted"]["layout"] == {"kind": "tabular", "shape": [tabular[0].n_features_in_], "n_side": 0,
                                        "flat": False}
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


# ------------------------------------------------- untrusted files: checks before reading
def write_model(dst, metadata_bytes, weights_name="weights.safetensors", weights=b"", compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(dst, "w", compression) as archive:
        archive.writestr("metadata.json", metadata_bytes)
        archive.writestr(weights_name, weights)
    return dst


def set_in(meta, dotted, value):
    """meta with ``value`` at the dotted key ``a.b.c`` (list indices as integers)."""
    *parents, last = dotted.split(".")
    node = meta
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[int(last) if isinstance(node, list) else last] = value


def test_refuses_what_is_not_a_regular_file(tmp_path):
    with pytest.raises(ValueError, match="is a folder, not a regular file"):
        load(tmp_path)
    fifo = tmp_path / "pipe.autonet"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="is a FIFO, not a regular file"):  # without waiting for a writer
        load(fifo)
    if os.path.exists("/dev/zero"):
        with pytest.raises(ValueError, match="/dev/zero is a character device, not a regular file"):
            load("/dev/zero")
        with pytest.raises(ValueError, match="is a character device"):
            read_metadata("/dev/zero")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.autonet")


def test_inflated_entry_refused_before_reading(tabular, tmp_path):
    """Entries' declared sizes are checked before a byte is inflated; lying sizes hit a bounded read."""
    path = save(tabular[0], tmp_path / "m.autonet")
    meta = read_metadata(path)
    bomb = tmp_path / "bomb.autonet"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", json.dumps(meta))
        with archive.open("weights.safetensors", "w") as entry:
            for _ in range(64):
                entry.write(bytes(2**20))
    assert bomb.stat().st_size < 2**20
    opened = []
    real_open = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    with mock.patch.object(zipfile.ZipFile, "open", spy), pytest.raises(
        ValueError, match=r"entry 'weights.safetensors' declares 67,108,864 bytes uncompressed, outside "
                          r"the [\d,]+ to [\d,]+ bytes the file's metadata allows"
    ):
        load(bomb)
    assert opened == ["metadata.json"]

    # the same entry, its headers declaring the real weights' size: read at most that much
    data = bytearray(bomb.read_bytes())
    with zipfile.ZipFile(path) as archive:
        size = archive.getinfo("weights.safetensors").file_size
    with zipfile.ZipFile(bomb) as archive:
        info = archive.getinfo("weights.safetensors")
    struct.pack_into("<L", data, info.header_offset + 22, size)
    struct.pack_into("<L", data, data.rfind(b"PK\x01\x02") + 24, size)
    lying = tmp_path / "lying.autonet"
    lying.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="truncated or corrupt: BadZipFile: Bad CRC-32 for file 'weights.safetensors'"):
        load(lying)


def test_compression_ratio_and_directory_caps(saved, tmp_path):
    meta = read_metadata(saved)
    padded = (json.dumps(meta) + " " * (4 * 2**20)).encode()  # valid JSON, inflates 4 MiB from a few kB
    with pytest.raises(ValueError, match=r"entry 'metadata.json' would inflate [\d,]+ bytes to [\d,]+ \(more than 100 times\)"):
        load(write_model(tmp_path / "ratio.autonet", padded))
    crowded = tmp_path / "crowded.autonet"
    with zipfile.ZipFile(crowded, "w") as archive:
        for i in range(40):
            archive.writestr(f"entry{i}", b"")
    with pytest.raises(ValueError, match=r"the file declares 40 zip entries .* \(at most 16 entries"):
        load(crowded)


def test_spec_beyond_the_cap_is_never_built(saved, tmp_path):
    """A 3 kB file whose spec declares a 30000 x 30000 layer: refused before any allocation."""
    n = 30000

    def huge(meta):
        meta["spec"]["input_shape"] = [n]
        meta["spec"]["layers"][0].update(in_channels=n, width=n)
        meta["spec"]["layers"][-1]["in_channels"] = n
        tensors = meta["tensors"]
        tensors["blocks.0.linear.weight"]["shape"] = [n, n]
        for key in ("weight", "bias", "running_mean", "running_var"):
            tensors[f"blocks.0.norm.{key}"]["shape"] = [n]
        tensors["head.weight"]["shape"][1] = n

    bad = rewrite(saved, tmp_path / "huge.autonet", metadata=huge)
    with mock.patch.object(persistence, "make_net", side_effect=AssertionError("built")), pytest.raises(
        ValueError, match=r"declares 900,180,011 parameters and statistics, more than the cap MAX_PARAMETERS=50,000,000"
    ):
        load(bad)

    def wide(meta):  # within the cap, consistent with its tensors, but not with the weights entry
        huge(meta)
        w = 1000
        meta["spec"]["input_shape"] = [5]
        meta["spec"]["layers"][0].update(in_channels=5, width=w)
        meta["spec"]["layers"][-1]["in_channels"] = w
        meta["tensors"]["blocks.0.linear.weight"]["shape"] = [w, 5]
        for key in ("weight", "bias", "running_mean", "running_var"):
            meta["tensors"][f"blocks.0.norm.{key}"]["shape"] = [w]
        meta["tensors"]["head.weight"]["shape"][1] = w
        meta["fitted"]["n_parameters"] = 5 * w + 2 * w + 2 * w + 2

    with mock.patch.object(persistence, "make_net", side_effect=AssertionError("built")), pytest.raises(
        ValueError, match=r"entry 'weights\.(pt|safetensors)' declares [\d,]+ bytes uncompressed, outside the"
    ):
        load(rewrite(saved, tmp_path / "wide.autonet", metadata=wide))


@pytest.mark.parametrize("key, value, match", [
    ("fitted.n_fit", -1, r"key 'fitted.n_fit' must be an integer in \[1, "),
    ("fitted.fit_time", float("nan"), r"key 'fitted.fit_time' must be a finite, non-negative number, got nan"),
    ("fitted.best_index", 5, r"key 'fitted.best_index' must be an integer in \[0, 0\], got 5"),
    ("fitted.n_parameters", 3, r"key 'fitted.n_parameters' must be [\d,]+, the parameters of the architecture"),
    ("fitted.input_shape", [6], r"key 'fitted.input_shape' must be the architecture's \[5\]"),
    ("fitted.n_features_in", True, r"key 'fitted.n_features_in' must be an integer"),
    ("fitted.feature_names_in", ["a"], r"key 'fitted.feature_names_in' must be null or a list of 5 strings"),
    ("fitted.classes.dtype", "<U100000000", r"key 'fitted.classes.dtype' makes the labels larger than the metadata"),
    ("fitted.classes.values", ["high", "high"], r"key 'fitted.classes.values' must not repeat a label"),
    ("fitted.classes.values", [["high"], "low"], r"key 'fitted.classes.values' must hold numbers or strings only"),
    ("fitted.search_history.extra", [1, 2, 3], r"key 'fitted.search_history' must hold at most 256 columns of one length"),
    ("fitted.convexity_report", [], r"key 'fitted.convexity_report' must be a JSON object"),
    ("fitted.layout", [], r"key 'fitted.layout' must be a JSON object"),
    ("net.batch_size", "64", r"key 'net.batch_size' must be an integer in \[1, "),
    ("net.precision", "float16", r"key 'net.precision' must be one of \['float32', 'bfloat16'\]"),
    ("versions", ["x"], r"key 'versions' must be a JSON object"),
    ("weights_sha256", 12, r"key 'weights_sha256' must be 64 lowercase hex digits, got 12"),
    ("tensors.head.bias", {"shape": [2]}, r"key \"tensors\['head.bias'\]\" must be an object with exactly 'shape' and 'dtype'"),
    ("spec.layers.0.kind", "conv", r"key 'spec.layers\[0\].kind' must be 'dense'"),
    ("spec.layers.0.kernel_size", 0, r"key 'spec.layers\[0\].kernel_size' must be an integer in \[1, "),
    ("spec.layers.0.stride", 0, r"invalid architecture: network spec: layer 0 field 'stride' must be at least 1"),
    ("spec.layers.1.stride", 2, r"key 'spec.layers\[1\]' must have kernel_size 1, in_length 1 and stride 1"),
    ("spec.activation", "softplus", r"invalid architecture: unknown activation 'softplus'"),
    ("spec.n_side", 2, r"key 'spec.n_side' must be an integer in \[0, 0\]"),
    ("params.max_width", 0, r"key 'params' holds an invalid parameter: The 'max_width' parameter of AutoNetLCNClassifier must be"),
    ("params.rho", "big", r"key 'params' holds an invalid parameter: The 'rho' parameter"),
    ("params.signal_shape", {"__tuple__": [1, 5]}, r"key 'params.signal_shape' must be null or the network's input shape"),
    ("params.class_weight", {"__dict_items__": [[["a"], 1]]}, r"key 'params.class_weight' must list \[label, number\] pairs"),
    ("params.input_kind", "signal", r"key 'params.input_kind' must be 'auto' or 'tabular'"),
    ("params.device", 3, r"key 'params.device' must be a string"),
])
def test_every_field_is_checked(saved, tmp_path, key, value, match):
    def mutate(meta):
        if key.startswith("tensors."):
            meta["tensors"][key.removeprefix("tensors.")] = value
        else:
            set_in(meta, key, value)

    with pytest.raises(ValueError, match=match):
        load(rewrite(saved, tmp_path / "bad.autonet", metadata=mutate))


def test_tensor_dtype_and_shape_declarations(saved, tmp_path):
    def complex_dtype(meta):
        meta["tensors"]["head.bias"]["dtype"] = "complex64"

    with pytest.raises(ValueError, match=r"key \"tensors\['head.bias'\].dtype\" must be one of \['float16'"):
        load(rewrite(saved, tmp_path / "a.autonet", metadata=complex_dtype))

    def negative(meta):
        meta["tensors"]["head.bias"]["shape"] = [-2]

    with pytest.raises(ValueError, match=r"key \"tensors\['head.bias'\].shape\" must be an integer in \[0, "):
        load(rewrite(saved, tmp_path / "b.autonet", metadata=negative))


def test_layer_chain_is_checked(saved, tmp_path):
    """A spec whose tensors match it but whose head cannot read the layer before."""
    def chain(meta):
        meta["spec"]["layers"][-1]["in_channels"] += 1
        meta["tensors"]["head.weight"]["shape"][1] += 1
        meta["fitted"]["n_parameters"] += meta["spec"]["layers"][-1]["width"]

    with pytest.raises(ValueError, match=r"key 'spec.layers\[1\].in_channels' must be \d+ \(the features the head reads\)"):
        load(rewrite(saved, tmp_path / "a.autonet", metadata=chain))


@pytest.mark.parametrize("text, match", [
    (b"[" * 100_000 + b"]" * 100_000, "metadata.json is not valid JSON .*RecursionError"),
    (b'{"format": ' + b"9" * 5000 + b"}", "metadata.json is not valid JSON .*ValueError"),
    (b"\xff\xfe", "metadata.json is not valid JSON .*UnicodeDecodeError"),
    (b"[1, 2]", "metadata.json must hold a JSON object"),
])
def test_metadata_that_is_not_json(tmp_path, text, match):
    with pytest.raises(ValueError, match=match):
        load(write_model(tmp_path / "a.autonet", text))


def test_format1_inner_archive_must_be_stored(tabular, tmp_path):
    """torch.load allocates a record at its declared size: compressed inner records are refused."""
    old = save_model(tabular[0], tmp_path / "old.autonet", format_version=1)
    with zipfile.ZipFile(old) as archive:
        blob = archive.read("weights.pt")
    inner_bytes = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as inner, zipfile.ZipFile(inner_bytes, "w", zipfile.ZIP_DEFLATED) as out:
        for info in inner.infolist():
            out.writestr(info.filename, inner.read(info))
        out.writestr("filler", np.random.RandomState(0).bytes(len(blob)), compress_type=zipfile.ZIP_STORED)
    with pytest.raises(ValueError, match="refusing to load weights.pt: its records are compressed"):
        load(rewrite(old, tmp_path / "deflated.autonet", weights=inner_bytes.getvalue()))


def test_safetensors_header_is_checked(saved, tmp_path):
    if weights_name(saved) != "weights.safetensors":
        pytest.skip("a format-1 file stores weights.pt (torch.save), not the safetensors layout")
    state = state_dict_of(saved)
    blob = persistence._safetensors_bytes(state)
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8 : 8 + n])

    def with_header(change):
        h = json.loads(json.dumps(header))
        change(h)
        text = json.dumps(h).encode()
        return struct.pack("<Q", len(text)) + text + blob[8 + n :]

    cases = [
        (lambda h: h["head.bias"].update(dtype="F16"), r"weights.safetensors: tensor 'head.bias' has dtype 'F16'"),
        (lambda h: h["head.bias"].update(data_offsets=[0, 4]), r"weights.safetensors: tensor 'head.bias' spans 4 bytes"),
        (lambda h: h.pop("head.bias"), r"weights.safetensors: its tensors differ from metadata.json's: missing \['head.bias'\]"),
        (lambda h: h["head.bias"].update(shape=[1, 2]), r"tensor 'head.bias' has shape \[1, 2\] in weights.safetensors"),
    ]
    for change, match in cases:
        with pytest.raises(ValueError, match=match):
            load(rewrite(saved, tmp_path / "bad.autonet", weights=with_header(change)))
    huge_header = struct.pack("<Q", 2**62) + blob[8:]
    with pytest.raises(ValueError, match=r"weights.safetensors: its header length 4,611,686,018,427,387,904 is larger"):
        load(rewrite(saved, tmp_path / "bad.autonet", weights=huge_header))


def test_safetensors_package_reads_the_weights(saved):
    """The entry is in the safetensors layout: the package (when installed) reads it."""
    safetensors_torch = pytest.importorskip("safetensors.torch")
    if weights_name(saved) != "weights.safetensors":
        pytest.skip("a format-1 file stores weights.pt (torch.save), not the safetensors layout")
    with zipfile.ZipFile(saved) as archive:
        state = safetensors_torch.load(archive.read("weights.safetensors"))
    for key, value in state_dict_of(saved).items():
        assert torch.equal(state[key], value)


# ---------------------------------------------------------------- saving
def test_save_format_version_argument(tabular, tmp_path):
    with pytest.raises(ValueError, match=r"format_version must be one of \[1, 2, 3, 4\], got 5"):
        save_model(tabular[0], tmp_path / "m.autonet", format_version=5)


@pytest.mark.parametrize("failure", ["writestr", "fsync"])
def test_failed_save_keeps_the_old_file(tabular, signal, tmp_path, failure):
    """A full disk while saving leaves the previous model in place and no temporary file."""
    path = tmp_path / "model.autonet"
    save(tabular[0], path)
    os.chmod(path, 0o640)
    before = path.read_bytes()
    full = OSError(errno.ENOSPC, "No space left on device")
    target = (zipfile.ZipFile, "writestr") if failure == "writestr" else (os, "fsync")
    with mock.patch.object(*target, side_effect=full), pytest.raises(OSError, match="No space left on device"):
        save(signal[0], path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.autonet"]
    np.testing.assert_array_equal(load(path).predict_proba(tabular[1]), tabular[0].predict_proba(tabular[1]))
    save(signal[0], path)  # a successful save replaces it, keeping its permission bits
    assert load(path).input_kind_ == "signal"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.autonet"]


def test_new_file_permissions_follow_the_umask(tabular, tmp_path):
    mask = os.umask(0o027)
    try:
        save(tabular[0], tmp_path / "m.autonet")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "m.autonet").stat().st_mode) == 0o640


def test_save_refuses_pipelines_and_other_objects(tabular, tmp_path):
    clf, X = tabular
    pipe = make_pipeline(StandardScaler(), clone(clf)).fit(X, clf.predict(X))
    with pytest.raises(TypeError, match=r"not a Pipeline \(its last step is AutoNetLCNClassifier\)\. "
                                        r"Save the last step with save\(pipeline\[-1\], path\)"):
        save(pipe, tmp_path / "pipe.autonet")
    assert not (tmp_path / "pipe.autonet").exists()
    # the documented way: the network in our file, the preprocessing with joblib (or skops)
    save(pipe[-1], tmp_path / "net.autonet")
    joblib.dump(pipe[:-1], tmp_path / "pre.joblib")
    rebuilt = make_pipeline(*joblib.load(tmp_path / "pre.joblib"), load(tmp_path / "net.autonet"))
    np.testing.assert_array_equal(rebuilt.predict_proba(X), pipe.predict_proba(X))

    with pytest.raises(TypeError, match="save\\(\\) writes a fitted AutoNetLCNClassifier; got LogisticRegression"):
        save(LogisticRegression().fit(X, clf.predict(X)), tmp_path / "lr.autonet")
    with pytest.raises(TypeError, match="got dict"):
        save({"net_": None}, tmp_path / "d.autonet")
    with pytest.raises(NotFittedError, match="This AutoNetLCNClassifier instance is not fitted yet"):
        save(AutoNetLCNClassifier(), tmp_path / "u.autonet")


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


_LOAD_WITHOUT_CUDA = """
import pickle, sys
import numpy as np, torch
from sklearn_autonet import load
assert not torch.cuda.is_available()
model, blob, X, out = sys.argv[1:5]
with open(blob, "rb") as f:
    unpickled = pickle.load(f)
np.savez(out, loaded=load(model).predict_proba(np.load(X)), unpickled=unpickled.predict_proba(np.load(X)))
"""


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_a_fitted_model_predicts_the_same_in_a_process_without_cuda(precision, tmp_path):
    """Fitted where ``device="auto"`` puts it (the GPU on a machine with one), loaded where no GPU is visible.

    A fresh process with ``CUDA_VISIBLE_DEVICES=""`` loads the model file and
    the pickle and gives the same probabilities bit for bit (on an H200 too:
    benchmarks/gpu.py, docs/gpu.md).  On a CPU-only machine this checks the
    load in a fresh process.
    """
    X, y = make_signals(n=60)
    clf = AutoNetLCNClassifier(precision=precision, max_candidates=1, max_epochs=3, random_state=0).fit(X, y)
    expected = clf.predict_proba(X)
    save(clf, tmp_path / "model.autonet")
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    child = subprocess.run([sys.executable, "-c", _LOAD_WITHOUT_CUDA, str(tmp_path / "model.autonet"),
                            str(tmp_path / "model.pkl"), str(tmp_path / "X.npy"), str(tmp_path / "out.npz")],
                           env=env, capture_output=True, text=True)
    assert child.returncode == 0, child.stderr[-3000:]
    out = np.load(tmp_path / "out.npz")
    np.testing.assert_array_equal(out["loaded"], expected)
    np.testing.assert_array_equal(out["unpickled"], expected)


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
