"""Which finished candidate the search selects: the best by validation score, or the one-standard-error rule.

``"best"`` selects the candidate with the highest validation score (ties: the
earlier).  ``"one_se"`` is the one-standard-error rule of Breiman et al.
(*Classification and Regression Trees*, 1984; Hastie, Tibshirani and Friedman,
*The Elements of Statistical Learning*, section 7.10): a hold-out score is an
estimate with a standard error, so a larger network is preferred to a smaller
one only when it wins by more than that error.  The rule selects the candidate
with the fewest parameters among those scoring at least ``best - se`` (ties:
the higher score, then the earlier), where ``se`` is the bootstrap standard
error of the best candidate's validation score.

With ``groups`` the validation split holds whole groups (patients, records),
and the bootstrap resamples groups, not samples (a cluster bootstrap): a
hold-out of four patients is four draws of a patient, however many beats they
hold, and its standard error says so.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .ensemble import proba_score

__all__ = ["SELECTION_RULES", "bootstrap_standard_error", "resolve", "select"]

#: The values of the estimator's ``selection`` ("auto": :func:`resolve`).
SELECTION_RULES = ("auto", "best", "one_se")

#: Bootstrap resamples behind the standard error.
N_RESAMPLES = 200


def resolve(selection, has_groups):
    """The rule ``selection`` names: ``"auto"`` is ``"one_se"`` with groups and ``"best"`` without.

    Examples
    --------
    >>> resolve("auto", True), resolve("auto", False), resolve("best", True)
    ('one_se', 'best', 'best')
    """
    if selection not in SELECTION_RULES:
        raise ValueError(f"selection must be one of {SELECTION_RULES}; got {selection!r}.")
    if selection == "auto":
        return "one_se" if has_groups else "best"
    return selection


def bootstrap_standard_error(scoring, proba, y, sample_weight=None, groups=None, *, n_resamples=N_RESAMPLES,
                             random_state=0):
    """Bootstrap standard error of the score ``scoring`` of ``proba`` against the encoded labels ``y``.

    Parameters
    ----------
    scoring : str or callable
        The search's scorer.
    proba : ndarray of shape (n_valid, n_classes)
        Validation probabilities.
    y : ndarray of shape (n_valid,) or (n_valid, n_labels)
    sample_weight : ndarray of shape (n_valid,) or None
    groups : array-like of shape (n_valid,) or None
        The validation samples' groups: resample whole groups.  None:
        resample samples.
    n_resamples : int
    random_state : int

    Returns
    -------
    float
        The standard deviation of the score over the resamples on which it is
        finite (a resample that misses a class the scorer needs is skipped);
        0.0 when fewer than two resamples scored, or with a single group.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 1] * 50)
    >>> proba = np.eye(2)[np.where(np.arange(100) < 80, y, 1 - y)]  # 80 of 100 right
    >>> round(bootstrap_standard_error("accuracy", proba, y), 2)  # sqrt(0.8 * 0.2 / 100) = 0.04
    0.04
    """
    y = np.asarray(y)
    rng = np.random.default_rng(random_state)
    units = None  # resample samples; with groups, the samples of each group
    if groups is not None and len(y):
        _, codes = np.unique(np.asarray(groups), return_inverse=True)
        units = [np.flatnonzero(codes == g) for g in range(codes.max() + 1)]
    n_units = len(y) if groups is None else len(units or ())
    if n_units < 2:
        return 0.0
    scores = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # resamples without some class: sklearn warns, the score stays defined
        for _ in range(int(n_resamples)):
            picked = rng.integers(0, n_units, size=n_units)
            index = picked if units is None else np.concatenate([units[u] for u in picked])
            weight = None if sample_weight is None else np.asarray(sample_weight)[index]
            try:
                score = proba_score(scoring, proba[index], y[index], weight)
            except (ValueError, ZeroDivisionError, IndexError):  # e.g. ROC AUC of a resample with one class
                continue
            if math.isfinite(score):
                scores.append(score)
    return float(np.std(scores, ddof=1)) if len(scores) >= 2 else 0.0


def select(rows, best, rule, standard_error=0.0):
    """The selected candidate and the selection threshold.

    Parameters
    ----------
    rows : list of dict
        The search's rows (``candidate``, ``status``, ``validation_score``,
        ``n_parameters``); row ``i`` is candidate ``i``.
    best : int
        The candidate with the highest validation score.
    rule : {"best", "one_se"}
    standard_error : float
        The standard error of the best candidate's score (``"one_se"``).

    Returns
    -------
    chosen : int
    threshold : float
        The lowest score the rule accepts: the best score for ``"best"``,
        ``best - standard_error`` for ``"one_se"``.

    Examples
    --------
    >>> rows = [dict(candidate=0, status="ok", validation_score=0.80, n_parameters=100),
    ...         dict(candidate=1, status="ok", validation_score=0.83, n_parameters=900)]
    >>> select(rows, 1, "best")
    (1, 0.83)
    >>> select(rows, 1, "one_se", 0.05)[0]
    0
    >>> select(rows, 1, "one_se", 0.01)[0]
    1
    """
    top = rows[best]["validation_score"]
    if rule == "best":
        return best, top
    if rule != "one_se":
        raise ValueError(f"the rule must be 'best' or 'one_se'; got {rule!r}.")
    threshold = top - float(standard_error)
    band = band_members(rows, threshold)
    chosen = min(band, key=lambda i: (rows[i]["n_parameters"], -rows[i]["validation_score"], i))
    return chosen, threshold


def band_members(rows, threshold=-math.inf):
    """The finished candidates scoring at least ``threshold``, best score first (ties: the earlier).

    With the default threshold: every finished candidate with a finite score.
    """
    band = [
        row for row in rows
        if row["status"] == "ok" and math.isfinite(row["validation_score"]) and row["validation_score"] >= threshold
    ]
    band.sort(key=lambda row: (-row["validation_score"], row["candidate"]))
    return [row["candidate"] for row in band]
