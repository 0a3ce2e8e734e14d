"""The search's validation split: stratified, or by group (patient, record)."""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedShuffleSplit
from sklearn.utils import check_random_state

#: Seeds tried by the group-wise split before it gives up on keeping every class in training.
GROUP_SPLIT_DRAWS = 5


def validation_split(y, groups=None, *, validation_fraction=0.2, random_state=None):
    """Indices ``(train, valid)`` for the search's validation split.

    Without ``groups``: a stratified shuffle split, so every class keeps its
    share on both sides.  With ``groups``: no group appears on both sides (beats
    of one patient never sit in train and validation), stratified as far as the
    groups allow (:class:`~sklearn.model_selection.StratifiedGroupKFold` with
    about ``1 / validation_fraction`` folds, fewer when there are fewer groups;
    ``random_state`` picks which of its folds is the validation set).
    scikit-learn builds those folds from the groups' class counts (most
    unevenly mixed groups first), and its shuffle only orders groups of the
    same class mix, so the folds themselves hardly change with the seed; the
    seed's choice among them is what makes fits with other seeds validate on
    other groups.

    Every class keeps at least one sample on the training side.  A class with
    a single member cannot be on both sides: its sample always goes to the
    training side, and the other classes are stratified as usual.  With
    ``groups``, when the chosen fold would hold every sample of a class
    (all of them in groups of that fold), the next fold is taken as the
    validation set (after the last, the first), then other seeds; when no draw keeps every class in
    training, it is an error.  A validation fold that holds a single class
    (which cannot tell candidates apart) is also passed over for the next
    fold or seed, and kept only when no draw does better.

    Warns
    -----
    UserWarning
        When whole groups make the validation set more than 1.5 times
        ``validation_fraction`` (2 groups: about half the data), with the share
        held out and why (too few groups, or groups of very different sizes).

    Raises
    ------
    ValueError
        When there are fewer than 2 groups, ``groups`` does not match ``y`` or
        has missing values (None, NaN), or no group-wise split keeps every
        class in training.
    """
    y = np.asarray(y)
    if groups is None:
        return _stratified_split(y, validation_fraction, random_state)
    groups = np.asarray(groups)
    if groups.shape != y.shape:
        raise ValueError(f"groups has shape {groups.shape}; it needs one entry per sample, {y.shape}.")
    missing = _missing(groups)
    if missing.any():
        raise ValueError(
            f"groups has {int(missing.sum())} missing value(s) (None or NaN) of {len(groups)}, the first "
            f"at sample {int(np.argmax(missing))}; every sample needs its group (patient, record), or "
            "drop the samples without one."
        )
    _, group_ids = np.unique(groups.astype(str) if groups.dtype == object else groups, return_inverse=True)
    n_groups = int(group_ids.max()) + 1
    if n_groups < 2:
        raise ValueError(
            f"groups has {n_groups} distinct value(s); the group-wise validation split needs at least 2."
        )
    wanted = max(2, round(1 / validation_fraction))
    n_splits = int(min(n_groups, wanted))
    first = check_random_state(random_state).randint(n_splits)  # the seed's fold
    draws, fallback = [], None
    for draw in range(GROUP_SPLIT_DRAWS):
        folds = group_folds(y, group_ids, n_splits, _draw_seed(random_state, draw))
        for train, valid in folds[first:] + folds[:first]:
            lost = np.setdiff1d(np.unique(y), y[train])
            if len(lost):
                draws.append(lost)
            elif len(np.unique(y[valid])) > 1:
                _warn_large_share(groups, group_ids, valid, validation_fraction, wanted)
                return train, valid
            elif fallback is None:  # one class to validate on: a score that cannot rank candidates
                fallback = (train, valid)
    if fallback is not None:
        _warn_large_share(groups, group_ids, fallback[1], validation_fraction, wanted)
        return fallback
    lost = min(draws, key=len)
    where = {c: sorted({_plain(g) for g in groups[y == c]}, key=str) for c in lost[:3]}
    raise ValueError(
        f"The group-wise validation split cannot keep every class in training: in each of "
        f"{len(draws)} draws ({GROUP_SPLIT_DRAWS} seeds x {n_splits} folds) a class had all its "
        f"samples in the validation groups, e.g. class(es) {[_plain(c) for c in lost]} "
        f"(in group(s) {'; '.join(f'{_plain(c)!r}: {g[:5]}' for c, g in where.items())}). With "
        f"{n_groups} groups, use other or finer groups (or more samples of those classes), or fit "
        "without groups."
    )


def fit_seed(random_state):
    """The int seed a fit derives from its ``random_state`` for its validation split (and search).

    The estimator draws it first thing in ``fit``; the benchmarks' torch
    contenders draw theirs with it too, so that with the same
    ``random_state`` they validate on the same records as AutoNet.
    """
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


def group_folds(y, group_ids, n_splits, seed):
    """The ``(train, valid)`` folds of one draw of the group-wise split, in the order they are tried.

    scikit-learn's :class:`~sklearn.model_selection.StratifiedGroupKFold`
    (shuffled with ``seed``); ``group_ids`` are the samples' groups (codes or labels).
    :func:`~sklearn_autonet.crossval.kfold_splits` makes its k folds by group
    with it too.
    """
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        # scikit-learn's "least populated class has only 1 members, less than n_splits=5":
        # about a parameter the user never set; classes missing from training are checked by the caller
        warnings.filterwarnings("ignore", message="The least populated class in y", category=UserWarning)
        return list(splitter.split(np.zeros(len(y)), y, group_ids))


def _stratified_split(y, validation_fraction, random_state):
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
    train, valid = rest[train], rest[valid]
    # a large validation_fraction can round a small class's training share to 0: keep one
    lost = np.setdiff1d(y[rest], y[train])
    if len(lost):
        moved = np.array([valid[y[valid] == c][0] for c in lost])
        train, valid = np.concatenate([train, moved]), np.setdiff1d(valid, moved)
    return np.sort(np.concatenate([train, np.flatnonzero(single)])), valid


def _missing(groups):
    if groups.dtype.kind == "f":
        return np.isnan(groups)
    if groups.dtype == object:
        return np.array([g is None or (isinstance(g, (float, np.floating)) and g != g) for g in groups], dtype=bool)
    return np.zeros(len(groups), dtype=bool)


def _draw_seed(random_state, draw):
    """The seed of the ``draw``-th group split: ``random_state`` itself first, then others from it."""
    if draw == 0 or random_state is None or not isinstance(random_state, Integral):
        return random_state  # None and RandomState instances draw anew on each use
    return int(np.random.RandomState(int(random_state) % 2**32).randint(0, 2**31 - 1, size=draw)[-1])


def _warn_large_share(groups, group_ids, valid, validation_fraction, wanted):
    """Warn when whole groups make the validation set much larger than ``validation_fraction``."""
    share = len(valid) / len(groups)
    if share <= 1.5 * validation_fraction:
        return
    n_groups = int(group_ids.max()) + 1
    if n_groups < wanted:
        why = (f"there are only {n_groups} groups and the validation set is at least one whole "
               f"group ({len(np.unique(group_ids[valid]))} of {n_groups})")
    else:
        largest = np.bincount(group_ids).max() / len(groups)
        why = f"the groups differ in size (the largest holds {largest:.0%} of the samples)"
    warnings.warn(
        f"The group-wise validation split holds out {share:.0%} of the samples ({len(valid)} of "
        f"{len(groups)}), not validation_fraction={validation_fraction:g}: {why}; the search trains "
        "on the rest. Pass more, finer groups (e.g. records rather than patients) for a smaller "
        "validation share.",
        UserWarning,
        stacklevel=3,
    )


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value
