"""Signal plus tabular side features in one 2-D array (``signal_shape``)."""

import numpy as np
import pytest
from conftest import make_signals
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet.bound import convexity_report, layer_parameter_count
from sklearn_autonet.hyperparameters import DataProperties, network_spec, widest_spec

SMALL = dict(max_candidates=1, max_epochs=15, random_state=0)


def side_task(n=200, seed=0):
    """Class set by a side feature (on a scale of hundreds); the signal is pure noise."""
    rng = np.random.RandomState(seed)
    signal = rng.randn(n, 1, 32).astype(np.float32)
    side = np.column_stack([rng.randn(n) * 50 + 300, rng.randn(n)]).astype(np.float32)
    y = (side[:, 0] > 300).astype(int)
    return signal, side, y


def test_head_counts_side_features():
    props = DataProperties(1000, "signal", (1, 256), 4, sampling_rate=360, n_side=4)
    spec = network_spec(props, 2, 10)
    assert spec.n_side == 4 and spec.head.in_channels == 10 + 4
    assert layer_parameter_count(spec.head) == (10 + 4) * 4 + 4
    report = convexity_report(spec, 1000)
    assert report[-1].P_l == 60
    assert "+4 side" in spec.describe()
    # where the head's bound binds, side features narrow the network:
    # (w + 4) * 10 + 10 <= 100 gives w = 5, w * 10 + 10 <= 100 gives w = 9
    with_side = widest_spec(DataProperties(100, "signal", (1, 16), 10, n_side=4), 1, kernel_size=1)
    without = widest_spec(DataProperties(100, "signal", (1, 16), 10), 1, kernel_size=1)
    assert (with_side.hidden[0].width, without.hidden[0].width) == (5, 9)
    assert layer_parameter_count(with_side.head) == 100


def test_side_features_reach_the_head():
    signal, side, y = side_task()
    flat = np.hstack([signal.reshape(len(y), -1), side])
    tr, te = slice(0, 130), slice(130, None)
    # 60 epochs: the head needs them to fit the threshold (0.87 after 15, 1.0 after 60)
    trained = {**SMALL, "max_epochs": 60}
    with_side = AutoNetLCNClassifier(signal_shape=(1, 32), **trained).fit(flat[tr], y[tr])
    without = AutoNetLCNClassifier(**trained).fit(signal[tr], y[tr])
    assert with_side.n_side_features_ == 2 and with_side.n_features_in_ == 34
    assert with_side.input_kind_ == "signal" and with_side.input_shape_ == (1, 32)
    assert with_side.score(flat[te], y[te]) >= 0.9
    assert without.score(signal[te], y[te]) <= 0.75
    # standardised inside the network: its running mean is the side features' mean
    running = with_side.net_.module_.side_norm.running_mean.cpu().numpy()
    np.testing.assert_allclose(running, side[tr][: with_side.n_fit_].mean(0), atol=15)


def test_no_side_features_is_the_3d_model():
    X, y = make_signals(n=90, leads=2, length=32)
    a = AutoNetLCNClassifier(max_candidates=1, max_epochs=4, random_state=0).fit(X, y)
    b = AutoNetLCNClassifier(signal_shape=(2, 32), max_candidates=1, max_epochs=4, random_state=0)
    b.fit(X.reshape(90, -1), y)
    assert b.n_side_features_ == 0
    np.testing.assert_allclose(b.predict_proba(X.reshape(90, -1)), a.predict_proba(X), atol=1e-5)


def test_pipeline_and_cross_val_score():
    signal, side, y = side_task(n=160)
    flat = np.hstack([signal.reshape(len(y), -1), side])
    pipe = make_pipeline(
        FunctionTransformer(np.asarray),
        AutoNetLCNClassifier(signal_shape=(1, 32), **SMALL),
    )
    groups = np.arange(len(y)) % 8
    scores = cross_val_score(pipe, flat, y, groups=groups, cv=GroupKFold(2))
    assert scores.shape == (2,) and scores.min() >= 0.75  # chance is 0.5; the signal is noise
    assert clone(pipe)[-1].signal_shape == (1, 32)


def test_errors():
    signal, side, y = side_task(n=60)
    flat = np.hstack([signal.reshape(len(y), -1), side])
    clf = AutoNetLCNClassifier(signal_shape=(1, 32), max_candidates=1, max_epochs=1, random_state=0)
    with pytest.raises(ValueError, match="at least 32 columns"):
        clone(clf).fit(flat[:, :20], y)
    with pytest.raises(ValueError, match="must be 2-D"):
        clone(clf).fit(signal, y)
    with pytest.raises(ValueError, match="positive ints"):
        clone(clf).set_params(signal_shape=(32,)).fit(flat, y)
    with pytest.raises(ValueError, match="not 'tabular'"):
        clone(clf).set_params(input_kind="tabular").fit(flat, y)
    clf.fit(flat, y)
    with pytest.raises(ValueError, match="X has 35 columns, but .* fitted on 34: 32 signal columns"):
        clf.predict(np.hstack([flat, side[:, :1]]))
    with pytest.raises(ValueError):
        clf.predict(signal)
