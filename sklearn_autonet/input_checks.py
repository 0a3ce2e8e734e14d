"""Input checks that scikit-learn's validation leaves with unclear messages.

Raised before :func:`~sklearn.utils.validation.validate_data` /
:func:`~sklearn.utils.check_array` see the input, so that a user's mistake is
reported in words that name it (a ragged list, labels of mixed types, missing
labels) rather than as a NumPy or label-type error.  Nothing here modifies its
input.
"""

from __future__ import annotations

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
            "pad or cut them to one length and pass a 2-D or 3-D array."
        ) from None


def _has_shape(row):
    try:
        np.shape(row)
    except ValueError:
        return False
    return True


def check_labels(y):
    """Raise a ``ValueError`` for object labels that are missing (None) or of mixed types.

    Parameters
    ----------
    y : ndarray
        Labels after validation (1-D).

    Raises
    ------
    ValueError
        When ``y`` holds ``None`` or NaN entries, or mixes strings with numbers.
    """
    y = np.asarray(y)
    if y.dtype != object:
        return
    values = y.ravel().tolist()
    missing = sum(v is None or (isinstance(v, float) and v != v) for v in values)
    if missing:
        raise ValueError(f"y has {missing} missing label(s) (None or NaN); every sample needs a class label.")
    kinds = {"str" if isinstance(v, str) else "number" if isinstance(v, (int, float, np.number)) else
             type(v).__name__ for v in values}
    if len(kinds) > 1:
        raise ValueError(
            f"y mixes label types ({', '.join(sorted(kinds))}); use one type for all class labels, "
            "e.g. y.astype(str)."
        )
