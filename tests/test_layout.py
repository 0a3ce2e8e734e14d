"""The input layout: how X is read at fit and at predict time, for each layout, and saved."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator

from sklearn_autonet.layout import InputLayout


class Holder(BaseEstimator):
    """The smallest estimator scikit-learn's validate_data can check n_features_in_ against."""


def fitted(X, **kwargs):
    from sklearn.utils.validation import validate_data

    holder = Holder()
    X = validate_data(holder, X, allow_nd=True, dtype=(np.float32, np.float64))
    layout, X32 = InputLayout.fit(X, **kwargs)
    return holder, layout, X32


def test_tabular():
    X = np.arange(12.0).reshape(4, 3)
    holder, layout, X32 = fitted(X)
    assert layout == InputLayout("tabular", (3,)) and not layout.is_signal
    assert X32.dtype == np.float32 and X32.flags.c_contiguous and X32.shape == (4, 3)
    assert layout.row_shape == (3,)
    np.testing.assert_array_equal(layout.read(holder, X), X32)
    with pytest.raises(ValueError, match="3 features"):
        layout.read(holder, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="layout seen in fit"):
        layout.read(holder, np.zeros((2, 3, 5)))


def test_three_d_signal():
    X = np.zeros((5, 2, 16))
    holder, layout, X32 = fitted(X)
    assert layout == InputLayout("signal", (2, 16)) and layout.is_signal and layout.row_shape == (2, 16)
    with pytest.raises(ValueError, match="2 lead\\(s\\) of length 16"):
        layout.read(holder, np.zeros((5, 2, 15)))


def test_two_d_input_read_as_one_lead():
    X = np.random.RandomState(0).randn(5, 16)
    holder, layout, X32 = fitted(X, input_kind="signal")
    assert layout == InputLayout("signal", (1, 16)) and X32.shape == (5, 1, 16)
    np.testing.assert_array_equal(layout.read(holder, X), X32)  # 2-D at predict: one lead too


def test_flat_rows_with_side_features():
    X = np.random.RandomState(0).randn(6, 2 * 8 + 3)
    holder, layout, X32 = fitted(X, signal_shape=(2, 8))
    assert layout == InputLayout("signal", (2, 8), n_side=3, flat=True)
    assert layout.n_signal_values == 16 and layout.row_shape == (19,) and X32.shape == (6, 19)
    assert layout.describe() == "signal 2x8 + 3 side features, as flat rows"
    with pytest.raises(ValueError, match="16 signal columns \\(signal_shape=\\(2, 8\\)\\) followed by 3 side"):
        layout.read(holder, np.zeros((2, 18)))
    with pytest.raises(ValueError, match="must be 2-D"):
        layout.read(holder, np.zeros((2, 2, 8)))


@pytest.mark.parametrize(
    "X, kwargs, message",
    [
        (np.zeros((4, 2, 8)), dict(input_kind="tabular"), "input_kind='tabular' needs 2-D X"),
        (np.zeros((4, 10)), dict(signal_shape=(2, 8)), "needs at least 16 columns"),
        (np.zeros((4, 10)), dict(signal_shape=(0, 8)), "tuple \\(leads, length\\) of positive ints"),
        (np.zeros((4, 20)), dict(signal_shape=(2, 8), input_kind="tabular"), "needs input_kind='auto' or 'signal'"),
        (np.zeros((4, 2, 8)), dict(signal_shape=(2, 8)), "X must be 2-D"),
        (np.zeros((4, 2, 8, 1)), {}, "2-D \\(n_samples, n_features\\) or 3-D"),
    ],
)
def test_layouts_that_cannot_be_read(X, kwargs, message):
    with pytest.raises(ValueError, match=message):
        InputLayout.fit(X, **kwargs)


@pytest.mark.parametrize(
    "layout",
    [InputLayout("tabular", (7,)), InputLayout("signal", (3, 64)), InputLayout("signal", (1, 32), 4, True),
     InputLayout("signal", (1, 32), 0, True)],
)
def test_to_dict_round_trip(layout):
    assert InputLayout.from_dict(layout.to_dict()) == layout


@pytest.mark.parametrize(
    "data, message",
    [
        ({"kind": "image", "shape": [3]}, "unknown input kind"),
        ({"kind": "signal", "shape": [64]}, "a signal input has 2 dimension"),
        ({"kind": "tabular", "shape": [0]}, "positive ints"),
        ({"kind": "signal", "shape": [1, 8], "n_side": -1, "flat": True}, "non-negative int"),
        ({"kind": "signal", "shape": [1, 8], "n_side": 2, "flat": False}, "flat must be a bool"),
        ({"shape": [3]}, "needs the keys"),
    ],
)
def test_from_dict_refuses_bad_values(data, message):
    with pytest.raises(ValueError, match=message):
        InputLayout.from_dict(data)


FLOAT32_OVERFLOW = r"X has 2 value\(s\) too large for float32.*largest magnitude is 1e\+39.*float32 holds up to 3\.403e\+38.*Rescale or standardise"


@pytest.mark.parametrize(
    "shape, kwargs",
    [((6, 4), {}), ((6, 2, 4), {}), ((6, 8), {"input_kind": "signal"}), ((6, 10), {"signal_shape": (2, 4)})],
)
def test_values_beyond_float32_are_refused_at_fit_and_read(shape, kwargs):
    """Finite in float64, infinite in float32: named, never passed on as inf (NaN in the network)."""
    X = np.zeros(shape)
    X.flat[3], X.flat[5] = 1e39, -2.0e38  # -2e38 fits float32; 1e39 does not
    X.flat[7] = -1e39
    with pytest.raises(ValueError, match=FLOAT32_OVERFLOW):
        fitted(X, **kwargs)
    holder, layout, _ = fitted(np.zeros(shape), **kwargs)
    with pytest.raises(ValueError, match=FLOAT32_OVERFLOW):
        layout.read(holder, X)
    X.flat[3] = X.flat[7] = 3.0e38  # the largest values float32 holds still work
    assert np.isfinite(layout.read(holder, X)).all()


def test_wide_two_d_input_read_as_a_table_gets_a_warning_that_names_the_fix():
    X = np.zeros((4, 256))
    with pytest.warns(UserWarning, match="read as a table of 256 columns.*input_kind='signal'"):
        InputLayout.fit(X)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        InputLayout.fit(X, input_kind="tabular")  # said explicitly: no warning
        InputLayout.fit(np.zeros((4, 30)))  # a usual table: no warning


def test_no_room_for_a_wide_table_says_it_was_read_as_a_table():
    from sklearn_autonet import AutoNetLCNClassifier

    X = np.random.RandomState(0).randn(40, 256)
    y = np.arange(40) % 2
    with pytest.raises(ValueError, match="read as a table of 256 columns"):
        AutoNetLCNClassifier(input_kind="tabular", max_epochs=1).fit(X, y)
