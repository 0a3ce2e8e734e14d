"""The layer-wise bound: counting rules, widths, and agreement with the torch modules."""

import pytest

from sklearn_autonet.bound import (
    convexity_report,
    layer_holds,
    layer_parameter_count,
    min_samples_for,
    network_holds,
)
from sklearn_autonet.hyperparameters import (
    DataProperties,
    depth_limit,
    first_kernel_size,
    network_spec,
    widest_spec,
)
from sklearn_autonet.modules import LCNNetwork, layer_parameter_counts

SIGNAL = DataProperties(n_fit=500, input_kind="signal", input_shape=(2, 64), n_classes=3, sampling_rate=250)
TABLE = DataProperties(n_fit=300, input_kind="tabular", input_shape=(20,), n_classes=4)
SIDE = DataProperties(n_fit=500, input_kind="signal", input_shape=(1, 64), n_classes=3, n_side=5)


@pytest.mark.parametrize("props", [SIGNAL, TABLE, SIDE], ids=["signal", "tabular", "side-features"])
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_counted_parameters_match_the_torch_module(props, depth):
    spec = network_spec(props, depth, width=7)
    counted = [layer_parameter_count(layer) for layer in spec.layers]
    module = LCNNetwork(spec)
    assert counted == layer_parameter_counts(module)
    # nothing trainable outside the counted layers (the side features' norm has no parameters)
    assert sum(counted) == sum(p.numel() for p in module.parameters())


def test_an_unknown_counting_rule_is_never_read_as_another():
    layer = network_spec(SIGNAL, 1, width=7).layers[0]
    for call in (lambda: min_samples_for(layer, counting="output"), lambda: layer_holds(layer, 100, counting="")):
        with pytest.raises(ValueError, match="counting must be one of"):
            call()


def test_conv_count_by_hand():
    spec = network_spec(SIGNAL, 2, width=5)
    conv1, conv2, head = spec.layers
    k = first_kernel_size(250)
    assert layer_parameter_count(conv1) == 2 * k * 5 + 2 * 5  # weights + BN affine
    assert layer_parameter_count(conv2) == 5 * 5 * 5 + 2 * 5
    assert layer_parameter_count(head) == 5 * 3 + 3  # weights + bias


@pytest.mark.parametrize("props", [SIGNAL, TABLE], ids=["signal", "tabular"])
@pytest.mark.parametrize("counting", ["samples", "outputs"])
def test_widest_spec_is_the_widest_that_holds(props, counting):
    for depth in range(1, 4):
        spec = widest_spec(props, depth, counting=counting, max_width=10_000)
        width = spec.hidden[0].width
        assert network_holds(spec, props.n_fit, counting=counting)
        wider = network_spec(props, depth, width + 1)
        assert not network_holds(wider, props.n_fit, counting=counting)


def test_outputs_rule_is_weaker_than_samples_rule():
    samples = widest_spec(SIGNAL, 2, counting="samples", max_width=512)
    outputs = widest_spec(SIGNAL, 2, counting="outputs", max_width=512)
    assert outputs.hidden[0].width > samples.hidden[0].width


def test_lower_rho_gives_narrower_networks():
    widths = [widest_spec(SIGNAL, 2, rho=rho, max_width=512).hidden[0].width for rho in (1.0, 0.5, 0.25)]
    assert widths[0] > widths[1] > widths[2] >= 1


def test_max_width_caps_the_width():
    assert widest_spec(SIGNAL, 1, max_width=4).hidden[0].width == 4


def test_no_room_when_samples_are_too_few():
    tiny = DataProperties(n_fit=10, input_kind="tabular", input_shape=(50,), n_classes=2)
    assert widest_spec(tiny, 1) is None
    layer = network_spec(tiny, 1, 1).hidden[0]
    assert min_samples_for(layer) == 50 + 2
    assert layer_holds(layer, 52) and not layer_holds(layer, 51)


def test_depth_limit_pools_the_signal_away():
    assert depth_limit(SIGNAL) == 6  # 64 -> 1 after six poolings by 2
    assert widest_spec(SIGNAL, 7) is None
    assert widest_spec(SIGNAL, 6).hidden[-1].out_length == 1


def test_first_kernel_follows_the_sampling_rate():
    assert first_kernel_size(360) == 37  # 0.1 s at 360 Hz, odd
    assert first_kernel_size(100) == 11
    assert first_kernel_size(None) == 7


def test_convexity_report_rows():
    spec = widest_spec(TABLE, 2)
    report = convexity_report(spec, TABLE.n_fit)
    assert [row.layer for row in report] == ["dense1", "dense2", "head"]
    assert report.holds
    for row in report:
        assert row.ratio == pytest.approx(row.P_l / TABLE.n_fit)
    assert not convexity_report(spec, 50).holds
    assert "P_l" in str(report)


def test_relu_is_reported_as_breaking_the_premise():
    spec = network_spec(TABLE, 1, 3, activation="relu")
    report = convexity_report(spec, TABLE.n_fit)
    assert not report[0].invertible_activation
    assert report[-1].invertible_activation  # the head is linear
