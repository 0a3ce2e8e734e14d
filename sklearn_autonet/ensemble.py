"""Ensembles of layer-wise convex networks: greedy ensemble selection over the search's candidates.

The search trains many candidates and scores each on the validation split.
:func:`greedy_selection` is the ensemble selection of Caruana et al. (ICML
2004), as Auto-sklearn and AutoGluon use it: start from the best single
candidate, then repeatedly add (with replacement) the candidate whose
addition gives the best validation score of the mean of probabilities, for
``size`` picks in all; the ensemble kept is the prefix of picks with the best
score, so it is never worse on the validation split than the best single
network, and it is that network when no addition helps.  Scores are compared
first by the search's ``scoring`` and, on a tie, by the validation log loss
(lower is better): on small validation splits a metric such as balanced
accuracy moves in coarse steps and ties often, and the log loss then says
whether averaging made the probabilities better.
A candidate picked ``k`` times out of ``n`` gets weight ``k / n``.

Scoring uses the search's scorer on the ensemble's probabilities, counting the
sample weights as :func:`~sklearn_autonet.tasks.validation_score` does.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from .targets import log_loss
from .tasks import validation_score

__all__ = ["greedy_selection", "proba_score"]


class _FixedProba(ClassifierMixin, BaseEstimator):
    """A stand-in classifier for a scorer: returns the given probabilities, whatever ``X``."""

    def __init__(self, proba=None):
        self.proba = proba
        self.classes_ = None if proba is None else np.arange(proba.shape[1])

    def __sklearn_is_fitted__(self):
        return True

    def predict_proba(self, X):
        return self.proba

    def predict(self, X):
        return np.argmax(self.proba, axis=1)


def proba_score(scoring, proba, y, sample_weight=None):
    """The scorer ``scoring`` of probabilities ``proba`` against encoded labels ``y``.

    Sample weights count as in :func:`sklearn_autonet.tasks.validation_score`:
    passed when they are not all equal and the scorer takes them.

    Examples
    --------
    >>> import numpy as np
    >>> proba_score("accuracy", np.array([[0.9, 0.1], [0.2, 0.8]]), np.array([0, 0]))
    0.5
    """
    stand_in = _FixedProba(np.asarray(proba, dtype=np.float64))
    return validation_score(scoring, stand_in, np.zeros((len(y), 1)), y, sample_weight)


def greedy_selection(probas, y, sample_weight, scoring, size):
    """Greedy ensemble selection with replacement (Caruana et al., 2004).

    Parameters
    ----------
    probas : sequence of ndarray of shape (n_valid, n_classes)
        Each candidate's validation probabilities, best candidate first (ties
        in the greedy steps go to the earlier candidate).
    y : ndarray of shape (n_valid,) or (n_valid, n_labels)
        Encoded validation labels, or the validation label indicator matrix
        (multi-label: probabilities of shape ``(n_valid, n_labels)``, the log
        loss is the binary one averaged over labels).
    sample_weight : ndarray or None
    scoring : str or callable
    size : int
        Most picks (1: the first candidate alone).

    Returns
    -------
    weights : ndarray of shape (n_candidates,)
        Each candidate's weight (picks / picks in all); the first is positive.
    scores : list of float
        Validation score of the ensemble after each pick (the trajectory).
        Picks and the kept prefix are compared by ``(score, -log loss)``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 1])
    >>> a = np.array([[.6, .4], [.45, .55], [.4, .6], [.4, .6]])   # wrong on the second row
    >>> b = np.array([[.9, .1], [.9, .1], [.2, .8], [.55, .45]])   # wrong on the last row
    >>> weights, scores = greedy_selection([a, b], y, None, "accuracy", 3)
    >>> weights.tolist(), scores
    ([0.5, 0.5], [0.75, 1.0, 1.0])
    """
    probas = [np.asarray(p, dtype=np.float64) for p in probas]
    y = np.asarray(y, dtype=np.int64)

    def key(proba):
        score = proba_score(scoring, proba, y, sample_weight)
        return (score if math.isfinite(score) else -math.inf, -log_loss(proba, y, sample_weight))

    counts = np.zeros(len(probas), dtype=np.int64)
    counts[0] = 1
    total = probas[0].copy()
    best_key = key(total)
    scores, best_counts = [best_key[0]], counts.copy()
    for step in range(2, int(size) + 1):
        trial = [key((total + p) / step) for p in probas]
        pick = max(range(len(trial)), key=lambda i: (trial[i], -i))  # the first of the best
        counts[pick] += 1
        total += probas[pick]
        scores.append(trial[pick][0])
        if trial[pick] > best_key:
            best_key, best_counts = trial[pick], counts.copy()
    return best_counts / best_counts.sum(), scores
