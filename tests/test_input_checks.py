"""Label checks: labels of mixed types or missing labels are refused with a message that says so.

``check_labels`` is tested on the caller's own ``y`` (lists, object arrays) and
through ``AutoNetLCNClassifier.fit``, which calls it.
"""

import warnings

import numpy as np
import pytest

from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet.input_checks import check_labels

RNG = np.random.RandomState(0)
X = RNG.randn(40, 4)


def fit(y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return AutoNetLCNClassifier(max_candidates=1, max_epochs=1, random_state=0).fit(X, y)


MIXED = {
    "list-int-str": ([1, "a", 2, "b"] * 10, r"y mixes label types \(number, str\), e\.g\. 1 and 'a'"),
    "object-int-str": (np.array([1, "a", 2, "b"] * 10, dtype=object), r"\(number, str\)"),
    "object-numpy-int-str": (np.array([np.int64(3), "a"] * 20, dtype=object), r"\(number, str\), e\.g\. 3 and"),
    "list-bool-str": ([True, "a", False, "b"] * 10, r"\(bool, str\)"),
    "object-bool-str": (np.array([True, "a", False, "b"] * 10, dtype=object), r"\(bool, str\)"),
    "object-numpy-bool-str": (np.array([np.True_, "a"] * 20, dtype=object), r"\(bool, str\)"),
    # True == 1: mixing booleans with numbers would merge two classes without a word
    "object-bool-int": (np.array([True, 2, False, 3] * 10, dtype=object), r"\(bool, number\)"),
    "tuple-float-str": (tuple([0.5, "x"] * 20), r"\(number, str\)"),
    "list-bytes-str": ([b"a", "a"] * 20, r"\(bytes, str\)"),
}

ACCEPTED = {
    "ints": np.arange(40) % 2,
    "int-list": [0, 1] * 20,
    "strings": np.array(["N", "V"] * 20),
    "object-strings": np.array(["N", "V"] * 20, dtype=object),
    "string-list": ["N", "V"] * 20,
    "floats": np.array([0.0, 2.0] * 20),
    "object-ints-and-floats": np.array([1, 2.0] * 20, dtype=object),
    "booleans": np.array([True, False] * 20),
    "object-booleans": np.array([True, False] * 20, dtype=object),
}


@pytest.mark.parametrize("y, match", MIXED.values(), ids=MIXED.keys())
def test_check_labels_refuses_mixed_types(y, match):
    with pytest.raises(ValueError, match=match):
        check_labels(y)


@pytest.mark.parametrize("y", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_check_labels_accepts_one_type(y):
    assert check_labels(y) is None


@pytest.mark.parametrize(
    "y",
    [["a", None, "b"], np.array([1.0, np.nan], dtype=object), [np.float32("nan"), 1.0]],
    ids=["none", "object-nan", "float32-nan"],
)
def test_check_labels_refuses_missing_labels(y):
    with pytest.raises(ValueError, match=r"y has 1 missing label\(s\) \(None or NaN\)"):
        check_labels(y)


def test_check_labels_names_the_input():
    with pytest.raises(ValueError, match="label_map values mixes label types"):
        check_labels([0, "V"], name="label_map values")


def test_check_labels_leaves_the_input_alone():
    y = [1, "a", 2, "b"]
    with pytest.raises(ValueError):
        check_labels(y)
    assert y == [1, "a", 2, "b"]


def test_check_labels_leaves_ragged_and_nested_y_to_scikit_learn():
    assert check_labels([[0, 1], [1]]) is None  # scikit-learn reports the shape
    assert check_labels([[0, 1], [1, 0]]) is None


@pytest.mark.parametrize(
    "name", ["object-int-str", "object-numpy-int-str", "object-bool-str", "object-bool-int"]
)
def test_fit_refuses_object_labels_of_mixed_types(name):
    y, match = MIXED[name]
    with pytest.raises(ValueError, match=match):
        fit(y)


@pytest.mark.parametrize("name", ["list-int-str", "list-bool-str"])
def test_fit_refuses_a_list_of_mixed_types(name):
    y, match = MIXED[name]
    with pytest.raises(ValueError, match=match):
        fit(y)


@pytest.mark.parametrize("name", ["ints", "strings", "object-strings", "floats"])
def test_fit_accepts_labels_of_one_type(name):
    y = ACCEPTED[name]
    model = fit(y)
    assert set(model.predict(X[:5]).tolist()) <= set(np.asarray(y).tolist())
