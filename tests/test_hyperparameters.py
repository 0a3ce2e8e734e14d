"""Step 1 of AutoNet: hyperparameters from the data (kernel sizes, depth range, widest width)."""

import pytest

from sklearn_autonet.bound import layer_parameter_count, network_holds
from sklearn_autonet.hyperparameters import (
    DataProperties,
    depth_limit,
    first_kernel_size,
    kernel_sizes,
    network_spec,
    widest_spec,
)

SIGNAL = DataProperties(n_fit=400, input_kind="signal", input_shape=(1, 256), n_classes=4, sampling_rate=360)
TABLE = DataProperties(n_fit=300, input_kind="tabular", input_shape=(20,), n_classes=4)


@pytest.mark.parametrize("rate, expected", [(360, 37), (250, 25), (100, 11), (500, 51), (10, 3), (None, 7)])
def test_first_kernel_spans_a_qrs_complex(rate, expected):
    k = first_kernel_size(rate)
    assert k == expected and k % 2 == 1
    if rate is not None and rate >= 30:
        assert abs(k / rate - 0.1) <= 1.0 / rate  # about 0.1 s


def test_kernel_sizes_first_from_the_rate_then_five():
    assert kernel_sizes(SIGNAL, 3) == [37, 5, 5]
    assert kernel_sizes(SIGNAL, 2, kernel_size=9) == [9, 9]


@pytest.mark.parametrize("length, expected", [(256, 8), (96, 6), (2, 1), (1, 0)])
def test_depth_limit_pools_the_signal_to_one_sample(length, expected):
    props = DataProperties(100, "signal", (1, length), 2)
    assert depth_limit(props) == expected
    assert depth_limit(props, max_depth=3) == min(expected, 3)
    if expected:
        assert network_spec(props, expected, 1).hidden[-1].out_length == 1


def test_tabular_depth_limit_and_dense_blocks():
    assert depth_limit(TABLE) == 6
    spec = network_spec(TABLE, 2, 8)
    assert [layer.kind for layer in spec.layers] == ["dense", "dense", "head"]
    assert spec.layers[0].in_channels == 20 and spec.head.in_channels == 8


@pytest.mark.parametrize("props", [SIGNAL, TABLE], ids=["signal", "tabular"])
@pytest.mark.parametrize("counting", ["samples", "outputs"])
def test_widest_spec_is_maximal_within_the_bound(props, counting):
    for depth in (1, 2, 3):
        spec = widest_spec(props, depth, counting=counting, max_width=64)
        width = spec.hidden[0].width
        assert network_holds(spec, props.n_fit, 1.0, counting)
        if width < 64:
            assert not network_holds(network_spec(props, depth, width + 1), props.n_fit, 1.0, counting)


def test_no_room_to_grow_gives_none():
    assert widest_spec(DataProperties(3, "tabular", (20,), 2), 1) is None
    assert widest_spec(SIGNAL, depth_limit(SIGNAL) + 1) is None
    assert widest_spec(SIGNAL, 0) is None


def test_side_features_widen_the_head_input():
    props = DataProperties(400, "signal", (1, 64), 3, n_side=4)
    spec = network_spec(props, 2, 6)
    assert spec.head.in_channels == 6 + 4 and spec.n_side == 4
    assert layer_parameter_count(spec.head) == (6 + 4) * 3 + 3
