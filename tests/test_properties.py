"""Property tests: fit/predict round trips over shapes, dtypes and label types."""

import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sklearn_autonet import AutoNetLCNClassifier  # noqa: E402

LABELS = {
    "int": lambda codes: codes.astype(np.int64) * 3 - 1,
    "str": lambda codes: np.array(["normal", "supra", "ventricular"])[codes],
    "object": lambda codes: np.array(["N", "S", "V"], dtype=object)[codes],
    "bool": lambda codes: codes % 2 == 1,
    "float": lambda codes: codes.astype(np.float64) * 2.0,  # integral floats (0.5 would be "continuous")
}
DTYPES = {
    "float32": np.float32,
    "float64": np.float64,
    "int32": np.int32,
    "bool": np.bool_,
}


@st.composite
def problems(draw):
    n = draw(st.integers(16, 48))
    shape = draw(
        st.one_of(
            st.tuples(st.integers(1, 6)),  # tabular (d,)
            st.tuples(st.integers(1, 3), st.integers(2, 24)),  # signal (leads, length)
        )
    )
    label = draw(st.sampled_from(sorted(LABELS)))
    n_classes = 2 if label == "bool" else draw(st.integers(2, 3))
    dtype = draw(st.sampled_from(sorted(DTYPES)))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.RandomState(seed)
    codes = rng.permutation(np.arange(n) % n_classes)
    X = rng.randn(n, *shape) * 3 + codes.reshape((-1,) + (1,) * len(shape))
    X = (X > 0) if DTYPES[dtype] is np.bool_ else X.astype(DTYPES[dtype])
    return X, LABELS[label](codes)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_fit_predict_round_trip(problem):
    X, y = problem
    X_copy, y_copy = X.copy(), y.copy()
    clf = AutoNetLCNClassifier(max_candidates=1, max_epochs=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            clf.fit(X, y)
        except ValueError as exc:  # the documented too-little-data error, nothing else
            assert "needs at least" in str(exc)
            return
        proba = clf.predict_proba(X)
        predicted = clf.predict(X)
    assert proba.shape == (len(y), len(np.unique(y)))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert predicted.shape == y.shape and predicted.dtype == y.dtype
    assert set(predicted.tolist()) <= set(y.tolist())
    assert clf.input_shape_ == (X.shape[1:] if X.ndim == 3 else (X.shape[1],))
    assert clf.search_history_["status"] == ["ok"]
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scale=st.sampled_from([1e-30, 1e-3, 1.0, 1e6, 1e20, 1e38, 1e39, 1e300]),
    at_predict=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_any_value_range_gives_finite_probabilities_or_a_clear_error(scale, at_predict, seed):
    """Over value ranges float32 holds and does not: finite probabilities, or a ValueError that says why."""
    rng = np.random.RandomState(seed)
    X = rng.randn(40, 4)
    y = (X[:, 0] > 0).astype(int)
    Xf = X * (1.0 if at_predict else scale)
    try:
        clf = AutoNetLCNClassifier(max_candidates=1, max_epochs=2, random_state=0).fit(Xf, y)
        proba = clf.predict_proba(X * scale if at_predict else Xf)
    except ValueError as exc:
        message = str(exc)
        assert "float32" in message or "candidate failed" in message, message
        return
    assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1.0)
