"""Input checks that scikit-learn's validation leaves with unclear messages.

Raised before :func:`~sklearn.utils.validation.validate_data` /
:func:`~sklearn.utils.check_array` see the input, so that a user's mistake is
reported in words that name it (a ragged list, labels of mixed types, missing
labels) rather than as a NumPy or label-type error.  Nothing here modifies its
input.
"""

from __future__ import annotations

from numbers import Number

import numpy as np


def check_not_ragged(X, name="X"):
    """Raise a ``ValueError`` when ``X`` is a nested sequence whose rows differ in shape.

    Parameters
    ----------
    X : object
        The caller's input; only lists and tuples are inspected (arrays,
        DataFrames and other containers are left to scikit-learn).
    name : str, default="X"
        Name used in the message.

    Raises
    ------
    ValueError
        When ``np.asarray(X)`` would fail on an inhomogeneous shape.
    """
    if not isinstance(X, (list, tuple)):
        return
    try:
        np.asarray(X)
    except ValueError as exc:
        if "inhomogeneous" not in str(exc) and "sequence" not in str(exc):
            raise
        shapes = sorted({np.shape(row) for row in X if _has_shape(row)}, key=str)
        raise ValueError(
            f"{name} is a ragged sequence: its {len(X)} samples do not all have the same shape "
            f"(found {', '.join(str(s) for s in shapes[:5])}{' ...' if len(shapes) > 5 else ''}); "
            "pad or cut them to one length and pass a 2-D or 3-D array (signals of different lengths: "
            "a list of 2-D (leads, length) NumPy arrays, one per record)."
        ) from None


def _has_shape(row):
    try:
        np.shape(row)
    except ValueError:
        return False
    return True


def check_labels(y, name="y"):
    """Raise a ``ValueError`` for labels that are missing (None, NaN) or of mixed types.

    Call it on the caller's own ``y`` (a list, tuple, array or pandas Series),
    before :func:`~sklearn.utils.validation.validate_data`: NumPy turns a list
    that mixes numbers and strings (``[1, "a", 2, "b"]``) into the strings
    ``['1', 'a', '2', 'b']``, after which the mix cannot be seen any more.
    Called on an array that validation already converted, it still catches the
    object arrays (``np.array([1, "a"], dtype=object)``).

    The label kinds are: ``str``, ``bytes``, ``bool`` and ``number`` (ints and
    floats of Python or NumPy, which compare equal when equal in value); any
    other object is its own kind.  Booleans are not numbers here, because
    ``True == 1`` would silently merge two classes.  A ``y`` of one kind passes:
    pure ints, pure floats, pure strings, pure booleans.

    Parameters
    ----------
    y : array-like
        Class labels (1-D; other shapes are left to scikit-learn's checks).
    name : str, default="y"
        Name used in the message.

    Raises
    ------
    ValueError
        When ``y`` holds ``None`` or NaN entries, or labels of more than one kind.

    Examples
    --------
    >>> from sklearn_autonet.input_checks import check_labels
    >>> check_labels(["N", "V", "N"])
    >>> check_labels([1, "a", 2, "b"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: y mixes label types (number, str), e.g. 1 and 'a'; use one type for all class labels, ...
    """
    values = _label_values(y)
    if not values:
        return
    missing = sum(v is None or (isinstance(v, (float, np.floating)) and v != v) for v in values)
    if missing:
        raise ValueError(
            f"{name} has {missing} missing label(s) (None or NaN); every sample needs a class label."
        )
    first = {}
    for v in values:
        first.setdefault(_label_kind(v), v)
    if len(first) > 1:
        kinds = sorted(first)
        examples = " and ".join(repr(_plain(first[kind])) for kind in kinds[:3])
        raise ValueError(
            f"{name} mixes label types ({', '.join(kinds)}), e.g. {examples}; use one type for all "
            "class labels, e.g. y.astype(str)."
        )


def _label_values(y):
    """The labels as a flat list of Python/NumPy objects; [] when there is nothing to check.

    Only object data can mix kinds: a list or tuple is read element by element
    (as an object array, so that NumPy converts nothing), an array or Series
    only when its dtype is object.
    """
    if isinstance(y, (list, tuple)):
        try:
            y = np.asarray(y, dtype=object)
        except ValueError:  # ragged nesting: scikit-learn reports the shape
            return []
    else:
        try:
            y = np.asarray(y)
        except (TypeError, ValueError):
            return []
    if y.dtype != object:
        return []
    return y.ravel().tolist()


def _label_kind(value):
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (bytes, np.bytes_)):
        return "bytes"
    if isinstance(value, Number):
        return "number"
    return type(value).__name__


def _plain(value):
    """NumPy scalars as Python ones, so that the message shows ``1``, not ``np.int64(1)``."""
    return value.item() if isinstance(value, np.generic) else value


def as_float32(X, name="X"):
    """``X`` as a C-contiguous float32 array (the network's input), refusing values float32 cannot hold.

    A value finite in float64 but beyond float32's range (about 3.4e38) would
    become infinity in the cast and NaN inside the network: the candidates'
    losses at ``fit``, the probabilities at ``predict``.

    ``X`` holds no NaN or infinity (refused before).  ``name`` names it in
    the message (``"X"``, or one record of a collection).

    Raises
    ------
    ValueError
        When a value of ``X`` overflows float32; the message gives their count,
        the largest magnitude and what to do.
    """
    with np.errstate(over="ignore"):
        out = np.ascontiguousarray(X, dtype=np.float32)
    if X.dtype != np.float32 and not np.isfinite(out).all():
        # NaN and infinity were refused before (validate_data, read_records): these overflowed in the cast
        overflow = ~np.isfinite(out) & np.isfinite(X)
        raise ValueError(
            f"{name} has {int(overflow.sum())} value(s) too large for float32, the precision of the "
            f"network's input: the largest magnitude is {float(np.abs(X[overflow]).max()):.4g}, float32 "
            f"holds up to {float(np.finfo(np.float32).max):.4g}. Rescale or standardise {name} (e.g. "
            "StandardScaler, or other units) so that its values are of order 1."
        )
    return out
