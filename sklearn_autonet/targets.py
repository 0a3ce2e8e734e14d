"""What the target implies: one label per sample, or a 0/1 label indicator matrix (multi-label).

A 1-D ``y`` (or a column vector) holds one class label per sample: the network
has one output per class, a softmax and the cross-entropy loss, and
``predict`` returns the most probable class.  A 2-D ``Y`` of shape
``(n_samples, n_labels)`` holding 0 and 1 (scikit-learn's
``"multilabel-indicator"``, as :class:`~sklearn.neural_network.MLPClassifier`
accepts) says for each sample which labels apply, any number of them: the
network has one output per label, a sigmoid each, and the binary
cross-entropy averaged over the labels; ``predict`` thresholds each label's
probability on its own.

This module holds what differs between the two: the checks of a label
indicator matrix (:func:`check_label_matrix`), the loss (:class:`MultilabelLoss`),
the output activation (:func:`output_probabilities`), per-label class weights
(:func:`label_weights`), the default scorer (:func:`default_scoring`), what a
scorer sees (:class:`MultilabelView`), the key the validation split stratifies
on (:func:`stratification_key`) and the per-label thresholds tuned on the
validation split (:func:`tune_thresholds`).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import precision_recall_curve
from sklearn.utils.multiclass import type_of_target

#: scikit-learn's name of a 0/1 label indicator matrix (``type_of_target``).
MULTILABEL = "multilabel-indicator"
#: The default scorer (``scoring=None``) of each kind of target.
DEFAULT_SCORING = {"single-label": "balanced_accuracy", MULTILABEL: "f1_macro"}
#: ``predict``'s threshold on each label's probability unless ``threshold`` says otherwise.
DEFAULT_THRESHOLD = 0.5

__all__ = [
    "DEFAULT_SCORING",
    "MULTILABEL",
    "MultilabelLoss",
    "MultilabelView",
    "check_label_matrix",
    "check_training_labels",
    "default_scoring",
    "is_label_matrix",
    "label_weights",
    "log_loss",
    "output_probabilities",
    "stratification_key",
    "trainable",
    "tune_thresholds",
]


def is_label_matrix(y):
    """Whether the caller's ``y`` is 2-D with more than one column (a multi-label target, or a bad one).

    A column vector ``(n, 1)`` is not: as everywhere in scikit-learn, it is
    read as one label per sample (with a ``DataConversionWarning``).
    """
    if y is None:
        return False
    shape = y.shape if hasattr(y, "shape") else np.shape(np.asarray(y, dtype=object))
    return len(shape) == 2 and shape[1] > 1


def check_label_matrix(Y):
    """The label indicator matrix ``Y`` as int64 0/1, or a ``ValueError`` saying what is wrong.

    Parameters
    ----------
    Y : array-like or sparse matrix of shape (n_samples, n_labels)
        0/1 (or boolean) values, ``n_labels >= 2``.

    Returns
    -------
    Y : ndarray of shape (n_samples, n_labels), dtype int64

    Raises
    ------
    ValueError
        When ``Y`` holds other values than 0 and 1 (e.g. several classes per
        output: multi-output multiclass is not supported), when it has fewer
        than 2 columns, or when a column is all 0 or all 1 (a label that never,
        or always, applies cannot be learnt; the message names the column).

    Examples
    --------
    >>> check_label_matrix([[1, 0], [0, 1], [1, 1]]).tolist()
    [[1, 0], [0, 1], [1, 1]]
    """
    if sparse.issparse(Y):
        Y = Y.toarray()
    Y = np.asarray(Y)
    if Y.ndim != 2 or Y.shape[1] < 2:
        raise ValueError(
            f"A multi-label target must be a 2-D 0/1 matrix (n_samples, n_labels) with at least 2 "
            f"label columns; got shape {Y.shape}. For one label per sample pass a 1-D y."
        )
    kind = "unknown"
    if Y.dtype.kind in "biuf" and np.isfinite(Y.astype(np.float64, copy=False)).all():
        kind = type_of_target(Y)
    if kind != MULTILABEL:
        values = np.unique(Y[~np.isin(Y, [0, 1])].astype(object).astype(str))[:5] if Y.dtype.kind in "biuf" else []
        found = f" (found {', '.join(values)})" if len(values) else f" (type {kind!r}, dtype {Y.dtype})"
        raise ValueError(
            f"A 2-D y must be a label indicator matrix of 0 and 1 (multi-label){found}. Multi-output "
            "multiclass targets (several classes per column) are not supported: fit one estimator per "
            "column, or encode each column's classes as 0/1 label columns (sklearn's MultiLabelBinarizer)."
        )
    Y = Y.astype(np.int64)
    for value, name in ((0, "0"), (1, "1")):
        constant = np.flatnonzero((Y == value).all(axis=0))
        if len(constant):
            raise ValueError(
                f"Label column(s) {constant.tolist()} of y are {name} for every sample; every label needs "
                "samples with 0 and samples with 1 to be learnt. Drop those columns."
            )
    return Y


def check_training_labels(Y, weights, n_train):
    """Raise when a label has no positive (or no negative) weighted sample on the training side.

    Parameters
    ----------
    Y : ndarray of shape (n_train, n_labels)
        The training side of the validation split.
    weights : ndarray of shape (n_train,)
    n_train : int
        Rows on the training side (for the message).
    """
    used = Y[weights > 0]
    for value, name in ((1, "positive"), (0, "negative")):
        missing = np.flatnonzero(~(used == value).any(axis=0))
        if len(missing):
            raise ValueError(
                f"After the validation split, label column(s) {missing.tolist()} have no {name} sample with "
                f"a positive sample_weight among the {n_train} training rows; every label needs both in "
                "training. Give more samples of those labels (or a positive weight), or a smaller "
                "validation_fraction."
            )


def trainable(y, weights):
    """Whether rows of positive weight hold 2 classes (1-D ``y``), or both values of every label (2-D)."""
    used = np.asarray(y)[np.asarray(weights) > 0]
    if used.ndim == 2:
        return bool(len(used) and (used.min(axis=0) == 0).all() and (used.max(axis=0) == 1).all())
    return len(np.unique(used)) >= 2


def default_scoring(multilabel):
    """The scorer name used when ``scoring`` is None: balanced accuracy, or macro-F1 over labels."""
    return DEFAULT_SCORING[MULTILABEL if multilabel else "single-label"]


def stratification_key(Y):
    """One stratum per sample for the validation split: its rarest positive label (``n_labels`` for none).

    Stratifying on it keeps each label's rare positives on both sides as far
    as their numbers allow, which a split on the full label combinations
    (one stratum per combination, mostly singletons) cannot.

    Examples
    --------
    >>> stratification_key(np.array([[1, 0, 1], [1, 0, 0], [0, 0, 0], [1, 1, 0]])).tolist()
    [2, 0, 3, 1]
    """
    Y = np.asarray(Y)
    counts = Y.sum(axis=0)
    rank = np.where(Y > 0, counts[None, :], np.inf)
    key = np.argmin(rank, axis=1)
    key[~(Y > 0).any(axis=1)] = Y.shape[1]
    return key


def label_weights(Y, sample_weight, class_weight):
    """Per-label weights ``((w_negative, w_positive), ...)`` of the binary cross-entropy.

    ``class_weight=None``: every weight 1.  ``"balanced"``: for each label,
    positives and negatives weigh equally in the loss, as ``"balanced"`` does
    for a binary target: ``w_pos = n / (2 n_pos)`` and ``w_neg = n / (2 n_neg)``
    (counted with the sample weights), so their ratio is ``n_neg / n_pos``, the
    ``pos_weight`` of :class:`torch.nn.BCEWithLogitsLoss`.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_labels)
        The training labels.
    sample_weight : ndarray of shape (n_samples,)
    class_weight : "balanced" or None

    Returns
    -------
    tuple of (float, float)
        One pair per label (a tuple, so that training settings stay frozen and hashable).

    Raises
    ------
    ValueError
        For a dict: a class weight per class does not say which label's
        positives it weighs.

    Examples
    --------
    >>> label_weights(np.array([[1, 0], [0, 1], [0, 1], [0, 1]]), np.ones(4), "balanced")
    ((0.6666666666666666, 2.0), (2.0, 0.6666666666666666))
    """
    if isinstance(class_weight, dict):
        raise ValueError(
            "class_weight as a dict is for one label per sample; with a multi-label y (a 0/1 indicator "
            "matrix) use class_weight='balanced' (each label's positives and negatives weigh equally) "
            "or sample_weight."
        )
    n_labels = Y.shape[1]
    if class_weight is None:
        return ((1.0, 1.0),) * n_labels
    w = np.asarray(sample_weight, dtype=np.float64)[:, None]
    positive = (w * (Y > 0)).sum(axis=0)
    negative = (w * (Y == 0)).sum(axis=0)
    total = positive + negative
    return tuple(
        (float(t / (2 * neg)), float(t / (2 * pos))) for t, neg, pos in zip(total, negative, positive)
    )


class MultilabelLoss(torch.nn.Module):
    """Binary cross-entropy of each label's logit, weighted per label and class, averaged over labels.

    Returns one loss per sample (the skorch net multiplies it by the sample
    weights and averages).

    Parameters
    ----------
    label_weights : sequence of (float, float)
        ``(w_negative, w_positive)`` per label (:func:`label_weights`).
    reduction : {"none"}, default="none"
        Kept for skorch's ``criterion__reduction``; only per-sample losses are returned.
    """

    def __init__(self, label_weights, reduction="none"):
        super().__init__()
        if reduction != "none":
            raise ValueError(f"MultilabelLoss returns per-sample losses; reduction={reduction!r} is not supported.")
        self.register_buffer("weights", torch.tensor(label_weights, dtype=torch.float32).T, persistent=False)

    def forward(self, logits, target):
        target = target.to(logits.dtype)
        losses = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
        negative, positive = self.weights.to(logits.device, logits.dtype)
        return (losses * torch.where(target > 0.5, positive, negative)).mean(dim=1)


def output_probabilities(logits, multilabel):
    """Probabilities from a network's outputs: a softmax over classes, or a sigmoid per label."""
    return torch.sigmoid(logits) if multilabel else torch.softmax(logits, dim=1)


def probabilities_to_outputs(proba, multilabel):
    """The inverse of :func:`output_probabilities` (up to a constant per row for the softmax).

    An ensemble's mean probability becomes outputs that the same activation
    maps back to it: ``log(p)`` for a softmax, ``log(p) - log(1 - p)`` for a sigmoid.
    """
    if multilabel:
        return torch.log(proba) - torch.log1p(-proba)
    return torch.log(proba)


def log_loss(proba, y, sample_weight=None):
    """Mean log loss of probabilities: of the true class (1-D ``y``), or binary per label (2-D ``y``)."""
    eps = 1e-15
    proba = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y)
    if y.ndim == 2:
        p = np.clip(proba, eps, 1 - eps)
        per_sample = -(y * np.log(p) + (1 - y) * np.log1p(-p)).mean(axis=1)
    else:
        per_sample = -np.log(np.clip(proba[np.arange(len(y)), y], eps, 1.0))
    return float(np.average(per_sample, weights=sample_weight))


class MultilabelView(ClassifierMixin, BaseEstimator):
    """What a scorer sees of a multi-label model: its probabilities and their indicator matrix at 0.5.

    Wraps anything with ``predict_proba`` returning ``(n, n_labels)`` (a
    skorch net, a stand-in), so that scikit-learn's scorers (``f1_macro``,
    ``roc_auc``, ``average_precision``, ...) score it as a multi-label
    classifier.
    """

    def __init__(self, model=None, n_labels=2):
        self.model = model
        self.n_labels = n_labels
        self.classes_ = np.arange(n_labels)

    def __sklearn_is_fitted__(self):
        return True

    def predict_proba(self, X):
        return np.asarray(self.model.predict_proba(X), dtype=np.float64)

    def predict(self, X):
        return (self.predict_proba(X) >= DEFAULT_THRESHOLD).astype(np.int64)


def tune_thresholds(proba, Y, sample_weight=None):
    """Per label, the threshold on its validation probabilities that maximises its F1.

    A label is predicted when its probability is at least its threshold.  Of
    the thresholds with the best F1 the one closest to 0.5 is taken; a label
    without a positive validation sample keeps 0.5.

    Parameters
    ----------
    proba : ndarray of shape (n_valid, n_labels)
    Y : ndarray of shape (n_valid, n_labels)
    sample_weight : ndarray of shape (n_valid,) or None

    Returns
    -------
    thresholds : ndarray of shape (n_labels,), in (0, 1]

    Examples
    --------
    >>> tune_thresholds(np.array([[.3, .9], [.2, .6], [.1, .7]]), np.array([[1, 1], [0, 0], [0, 1]])).tolist()
    [0.3, 0.7]
    """
    proba = np.asarray(proba, dtype=np.float64)
    thresholds = np.full(proba.shape[1], DEFAULT_THRESHOLD)
    for label in range(proba.shape[1]):
        y = np.asarray(Y)[:, label]
        if not (y > 0).any():
            continue
        precision, recall, cuts = precision_recall_curve(y, proba[:, label], sample_weight=sample_weight)
        precision, recall = precision[:-1], recall[:-1]
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
        best = np.flatnonzero(f1 >= f1.max() - 1e-12)
        thresholds[label] = float(cuts[best[np.argmin(np.abs(cuts[best] - DEFAULT_THRESHOLD))]])
    return thresholds
