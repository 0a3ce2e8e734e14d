"""The strided stem: a first conv block that steps by ``stem_stride`` on long records."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from sklearn_autonet import AutoNetLCNClassifier, NetworkSpec
from sklearn_autonet.architecture import LayerSpec
from sklearn_autonet.bound import convexity_report, layer_parameter_count, n_equations
from sklearn_autonet.growth import BoundSettings, Explore
from sklearn_autonet.hyperparameters import DataProperties, depth_limit, network_spec, stem_stride
from sklearn_autonet.modules import ConvBlock, LCNNetwork
from sklearn_autonet.persistence import load_model, read_metadata, save_model
from conftest import shared_folder

LONG = DataProperties(400, "signal", (1, 10800), 2, sampling_rate=360)  # 30 s at 360 Hz
BEATS = DataProperties(2000, "signal", (1, 256), 4, sampling_rate=360)  # single beats, 0.71 s


# ------------------------------------------------------------------ the arithmetic, against torch


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("length, kernel, stride", [
    (10800, 37, 3), (10800, 19, 3), (1000, 11, 5), (97, 7, 4), (64, 4, 2), (65, 6, 3), (50, 5, 1), (50, 4, 1),
])
def test_lengths_agree_with_the_torch_module(length, kernel, stride):
    layer = LayerSpec("conv1", "conv", 2, 3, kernel_size=kernel, in_length=length, stride=stride)
    block = ConvBlock(layer, "leaky_relu").eval()
    x = torch.randn(2, 2, length)
    with torch.no_grad():
        conv = block.conv(x)
        out = block(x)
    assert conv.shape[-1] == layer.conv_length
    assert out.shape[-1] == layer.out_length == layer.conv_length // 2
    assert layer.outputs_per_sample == 3 * layer.conv_length
    if kernel % 2:  # an odd kernel: ceil(T / s) samples, "same" at stride 1
        assert layer.conv_length == math.ceil(length / stride)


def test_a_strided_conv_is_the_full_rate_conv_sampled_every_stride():
    """The stem computes exactly the full-rate convolution's values at every stride-th sample."""
    torch.manual_seed(0)
    strided = ConvBlock(LayerSpec("conv1", "conv", 1, 4, kernel_size=37, in_length=1000, stride=3), "elu")
    full = ConvBlock(LayerSpec("conv1", "conv", 1, 4, kernel_size=37, in_length=1000), "elu")
    full.load_state_dict(strided.state_dict())
    x = torch.randn(3, 1, 1000)
    with torch.no_grad():
        np.testing.assert_allclose(strided.conv(x).numpy(), full.conv(x)[..., ::3].numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("kernel", [7, 4])
def test_stride_one_is_exactly_the_unstrided_block(kernel):
    """Stride 1 builds today's Conv1d(padding='same') block: same tensors, bit-identical output."""
    layer = LayerSpec("conv1", "conv", 2, 5, kernel_size=kernel, in_length=40)
    assert layer == LayerSpec("conv1", "conv", 2, 5, kernel_size=kernel, in_length=40, stride=1)
    block = ConvBlock(layer, "leaky_relu")
    assert block.conv.padding == "same" and block.conv.stride == (1,)
    torch.manual_seed(1)
    today = nn.Sequential(nn.Conv1d(2, 5, kernel, padding="same", bias=False), nn.BatchNorm1d(5),
                          nn.LeakyReLU(0.01), nn.MaxPool1d(2))
    block.load_state_dict({"conv.weight": today[0].weight, **{f"norm.{k}": v for k, v in today[1].state_dict().items()}})
    x = torch.randn(4, 2, 40)
    with torch.no_grad():
        assert torch.equal(block(x), today(x))
    assert network_spec(BEATS, 1, 8).to_dict()["layers"][0].keys() == {
        "name", "kind", "in_channels", "width", "kernel_size", "in_length", "norm"}  # files as before


# ------------------------------------------------------------------ the bound counts the stride


def test_bound_counts_the_strided_layer_under_both_rules():
    plain = LayerSpec("conv1", "conv", 1, 16, kernel_size=37, in_length=10800)
    stem = LayerSpec("conv1", "conv", 1, 16, kernel_size=37, in_length=10800, stride=3)
    # the stride changes no parameter ...
    assert layer_parameter_count(stem) == layer_parameter_count(plain) == 37 * 16 + 2 * 16
    # ... nor the samples rule; the outputs rule counts the 3,600 positions the stem writes
    assert n_equations(stem, 100, "samples") == n_equations(plain, 100, "samples") == 100
    assert n_equations(stem, 100, "outputs") == 100 * 16 * 3600
    assert n_equations(plain, 100, "outputs") == 100 * 16 * 10800
    spec = network_spec(LONG, 2, 16, stem=3)
    assert spec.hidden[1].in_length == 1800  # the second block reads the stem's pooled output
    report = convexity_report(spec, 50, counting="outputs")
    assert [row.N_eq for row in report] == [50 * 16 * 3600, 50 * 16 * 1800, 50 * 2]
    samples = convexity_report(spec, 50)
    assert [row.P_l for row in samples] == [624, 16 * 5 * 16 + 32, 34]
    assert convexity_report(spec, 1312).holds and not convexity_report(spec, 1311).holds


# ------------------------------------------------------------------ which stride the data get


@pytest.mark.parametrize("shape, rate, setting, expected", [
    ((1, 10800), 360, "auto", 3),   # 30 s at 360 Hz: 120 Hz
    ((1, 15000), 500, "auto", 5),   # 30 s at 500 Hz: 100 Hz
    ((1, 7500), 250, "auto", 2),    # 30 s at 250 Hz: 125 Hz
    ((1, 3000), 100, "auto", 1),    # already at 100 Hz
    ((1, 256), 360, "auto", 1),     # one beat: no stem
    ((1, 719), 360, "auto", 1),     # just under 2 s
    ((1, 720), 360, "auto", 3),     # 2 s
    ((1, 10800), None, "auto", 1),  # no sampling rate: no QRS scale
    ((1, 256), 360, 2, 2),          # an int is used as given
])
def test_stem_stride_follows_the_sampling_rate(shape, rate, setting, expected):
    assert stem_stride(DataProperties(100, "signal", shape, 2, sampling_rate=rate), setting) == expected


def test_tabular_input_never_gets_a_stride():
    assert stem_stride(DataProperties(100, "tabular", (5000,), 2, sampling_rate=360), 4) == 1


def test_the_stride_is_capped_at_the_first_kernel():
    spec = network_spec(LONG, 2, 4, kernel_size=3, stem=5)
    assert [layer.stride for layer in spec.hidden] == [3, 1]
    assert network_spec(LONG, 1, 4, stem=3).describe() == "signal(1x10800) leaky_relu: conv k37 s3 w4 -> head 2"


def test_short_beats_get_exactly_the_proposals_of_before():
    explore = Explore()
    auto = [p.spec for p in explore.propose(1, BEATS, BoundSettings(), ())]
    none = [p.spec for p in explore.propose(1, BEATS, BoundSettings(stem_stride=1), ())]
    assert auto == none and all(layer.stride == 1 for spec in auto for layer in spec.layers)


def test_long_records_get_a_stem_in_every_first_round_proposal():
    specs = [p.spec for p in Explore().propose(1, LONG, BoundSettings(), ())]
    assert [spec.hidden[0].kernel_size for spec in specs] == [37, 37, 37, 19, 73, 37]
    assert all(spec.hidden[0].stride == 3 for spec in specs)
    assert all(layer.stride == 1 for spec in specs for layer in spec.layers[1:])


@pytest.mark.parametrize("length, stem, kernel", [(10800, 3, None), (97, 4, 4), (64, 2, 6), (33, 3, 3)])
def test_the_deepest_strided_network_runs(length, stem, kernel):
    """depth_limit with a stem leaves at least one sample after the last block, for odd and even kernels."""
    props = DataProperties(100, "signal", (1, length), 2, sampling_rate=360)
    depth = depth_limit(props, stem=stem)
    spec = network_spec(props, depth, 2, kernel_size=kernel, stem=stem)
    assert spec.hidden[-1].out_length >= 1
    with torch.no_grad():
        assert LCNNetwork(spec).eval()(torch.zeros(2, 1, length)).shape == (2, 2)
    assert network_spec(props, depth + 1, 2, kernel_size=kernel, stem=stem).hidden[-1].out_length == 0


# ------------------------------------------------------------------ the estimator


@pytest.mark.parametrize("value", [0, -3, 2.5, "fast", None])
def test_bad_stem_stride_is_refused_by_name(value):
    X = np.random.RandomState(0).randn(40, 1, 64).astype(np.float32)
    with pytest.raises(ValueError, match=r"The 'stem_stride' parameter of AutoNetLCNClassifier must be "
                                          r"a str among \{'auto'\} or an int in the range \[1, inf\)"):
        AutoNetLCNClassifier(stem_stride=value).fit(X, np.arange(40) % 2)


@pytest.fixture(scope="module")
def windows(shared_data):
    """60 windows of 30 s at 360 Hz from three MIT-BIH records (10 min each): AFIB or other."""
    from sklearn_autonet.ecg import load_windows

    w = load_windows(shared_folder(shared_data, "mitdb"), ["201", "203", "100"], length=30, leads=0, sampto=360 * 600)
    return w.X, np.where(w.y == "AFIB", "AFIB", "other")


@pytest.fixture(scope="module")
def strided(windows):
    X, y = windows
    clf = AutoNetLCNClassifier(sampling_rate=360, counting="outputs", max_width=8, max_candidates=1, max_epochs=2,
                               min_steps_per_epoch=1, random_state=0)
    return clf.fit(X, y)


def test_a_fit_on_long_records_uses_and_reports_the_stem(windows, strided):
    X, _ = windows
    assert X.shape[1:] == (1, 10800)
    first = strided.architecture_.spec.hidden[0]
    assert (first.kernel_size, first.stride, first.width) == (37, 3, 8)
    assert "conv k37 s3 w8" in strided.architecture_.spec.describe()
    assert strided.architecture_.rows[0]["stride"] == 3 and "stride" in str(strided.architecture_)
    assert "s3" in strided.search_history_["architecture"][0]
    report = strided.convexity_report_
    assert report.holds and report[0].N_eq == strided.n_fit_ * 8 * 3600
    # the first block's activations are T / stride long, then pooled
    module = strided.net_.module_
    with torch.no_grad():
        block = module.blocks[0]
        activations = block.conv(torch.as_tensor(X[:2]))
        assert activations.shape == (2, 8, 3600)
        assert block(torch.as_tensor(X[:2])).shape == (2, 8, 1800)
    proba = strided.predict_proba(X[:10])
    assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1)


def test_stem_stride_one_keeps_the_full_rate(windows):
    X, y = windows
    clf = AutoNetLCNClassifier(sampling_rate=360, stem_stride=1, max_candidates=1, max_epochs=1,
                               min_steps_per_epoch=1, random_state=0).fit(X, y)
    assert clf.architecture_.spec.hidden[0].stride == 1 and " s" not in clf.architecture_.spec.describe()
    assert "stride" not in clf.architecture_.rows[0]


def test_save_and_load_keep_the_stride(windows, strided, tmp_path):
    X, _ = windows
    path = save_model(strided, tmp_path / "stem.autonet")
    layers = read_metadata(path)["spec"]["layers"]
    assert layers[0]["stride"] == 3 and "stride" not in layers[1]
    loaded = load_model(path)
    assert loaded.architecture_.spec == strided.architecture_.spec
    np.testing.assert_array_equal(loaded.predict_proba(X[:8]), strided.predict_proba(X[:8]))
    assert NetworkSpec.from_dict(strided.architecture_.spec.to_dict()) == strided.architecture_.spec


def test_onnx_export_of_a_strided_model(windows, strided, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from sklearn_autonet.export import export_onnx

    X, _ = windows
    path = export_onnx(strided, tmp_path / "stem.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    proba = session.run(["probabilities"], {"input": X[:7]})[0]
    np.testing.assert_allclose(proba, strided.predict_proba(X[:7]), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("layer, match", [
    ({"stride": 0}, r"layer 0 field 'stride' must be at least 1, got 0"),
    ({"stride": True}, r"layer 0 field 'stride' must be int, got True"),
    ({"stride": 2, "extra": 1}, r"layer 0 must be a dict with keys \[.*\] \(and optionally 'stride'\)"),
])
def test_spec_from_dict_checks_the_stride(layer, match):
    data = network_spec(LONG, 1, 4, stem=3).to_dict()
    data["layers"][0].update(layer)
    with pytest.raises(ValueError, match=match):
        NetworkSpec.from_dict(data)


def test_a_file_whose_stride_leaves_nothing_to_pool_is_refused(strided, tmp_path):
    """A tampered stride that would fail inside torch at predict time is refused on loading."""
    import json
    import zipfile

    good = save_model(strided, tmp_path / "good.autonet")
    bad = tmp_path / "bad.autonet"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "metadata.json":
                meta = json.loads(data)
                meta["spec"]["layers"][0]["stride"] = 20000
                data = json.dumps(meta)
            dst.writestr(item, data)
    with pytest.raises(ValueError, match=r"key 'spec.layers\[0\].stride' leaves fewer than 2 samples of 10800 to pool"):
        load_model(bad)


def test_the_convexity_probe_reads_the_strided_block(windows, strided):
    from sklearn_autonet.convexity_probe import probe_convexity

    X, y = windows
    probe = probe_convexity(strided, X, y, layer="conv1", n_segments=4, max_samples=16,
                            hessian_max_parameters=0, random_state=0)
    assert probe.n_parameters == 37 * 8 + 2 * 8 and probe.n_segments == 4
