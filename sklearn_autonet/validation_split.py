"""The search's validation split: stratified, or by group (patient, record)."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedShuffleSplit


def validation_split(y, groups=None, *, validation_fraction=0.2, random_state=None):
    """Indices ``(train, valid)`` for the search's validation split.

    Without ``groups``: a stratified shuffle split, so every class keeps its
    share on both sides.  With ``groups``: no group appears on both sides (beats
    of one patient never sit in train and validation), stratified as far as the
    groups allow (:class:`~sklearn.model_selection.StratifiedGroupKFold` with
    about ``1 / validation_fraction`` folds; its first fold is the validation set).

    A class with a single member cannot be on both sides: its sample always
    goes to the training side, and the other classes are stratified as usual.

    Raises
    ------
    ValueError
        When there are fewer than 2 groups, or ``groups`` does not match ``y``.
    """
    y = np.asarray(y)
    if groups is None:
        classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
        single = counts[inverse] < 2
        rest = np.flatnonzero(~single)
        n_classes = int((counts >= 2).sum())
        n_valid = max(int(round(validation_fraction * len(rest))), n_classes)
        n_valid = min(n_valid, len(rest) - n_classes)
        if n_classes == 0 or n_valid < 1:
            raise ValueError(
                f"Too few samples ({len(y)}) for a validation split: every class needs at "
                "least 2 samples, one for training and one for validation."
            )
        splitter = StratifiedShuffleSplit(n_splits=1, test_size=n_valid, random_state=random_state)
        train, valid = next(splitter.split(np.zeros(len(rest)), y[rest]))
        return np.sort(np.concatenate([rest[train], np.flatnonzero(single)])), rest[valid]
    groups = np.asarray(groups)
    if groups.shape != y.shape:
        raise ValueError(f"groups has shape {groups.shape}; it needs one entry per sample, {y.shape}.")
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        raise ValueError(
            f"groups has {n_groups} distinct value(s); the group-wise validation split needs at least 2."
        )
    n_splits = int(min(n_groups, max(2, round(1 / validation_fraction))))
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    train, valid = next(splitter.split(np.zeros(len(y)), y, groups))
    return train, valid
