"""k-fold scoring of the search's best candidates on small data, and their fold models.

On small data one 20 % hold-out is a handful of series, and which network it
picks is noise.  When the training data hold at most ``cv_max_samples``
samples, the estimator re-scores the candidates the search kept for the
ensemble (:func:`sklearn_autonet.search._ensemble_pool`) by k-fold
cross-validation on *all* the training data: each candidate's architecture is
trained ``k`` times (stratified folds; by group when ``groups`` is passed, so
that no group is on both sides of any fold), each fold model stopped early on
its held-out fold, and the candidate's out-of-fold probabilities (one per
training sample) are kept.  Greedy ensemble selection then runs on the
out-of-fold probabilities of all the samples instead of the hold-out's fifth,
and the final model is the selected candidates' fold models, bagged (each
fold model of a candidate of weight ``w`` gets ``w / k``), so every training
sample trains the final model.

A candidate whose architecture would break the layer-wise bound on a fold's
training part (a fold larger than the search's hold-out) is left out.
"""

from __future__ import annotations

import math
import time
import warnings

import joblib
import numpy as np
from sklearn.model_selection import StratifiedKFold

from .bound import network_holds
from .ensemble import greedy_selection, proba_score
from .targets import stratification_key, trainable
from .tasks import parallel_pool, rebuild_net, task_devices, train_task, worker_threads
from .validation_split import group_folds

__all__ = ["check_folds", "cross_validate_pool", "kfold_splits"]


def check_folds(y, groups, k):
    """Raise ``ValueError`` saying what to change when ``k`` folds cannot be made.

    Parameters
    ----------
    y : ndarray of int
        Encoded labels, or a multi-label indicator matrix (its folds are
        stratified on :func:`~sklearn_autonet.targets.stratification_key`,
        and a fold whose training part lacks a label's positives makes the
        search keep its hold-out, as for a class).
    groups : array-like or None
    k : int
    """
    smallest = k
    if np.ndim(y) == 1:
        counts = np.bincount(y)
        smallest = int(counts[counts > 0].min())
    if groups is None and k > smallest:
        raise ValueError(
            f"cv={k} folds, but the smallest class has only {smallest} sample(s); stratified k-fold "
            f"needs at least k samples of every class. Use cv <= {smallest}, or cv_max_samples=0 to "
            "score the candidates on a single hold-out."
        )
    if groups is not None:
        n_groups = len(np.unique(np.asarray(groups)))
        if k > n_groups:
            raise ValueError(
                f"cv={k} folds, but groups holds only {n_groups} distinct group(s); k-fold by group "
                f"needs at least k groups. Use cv <= {n_groups}, or cv_max_samples=0 to score the "
                "candidates on a single hold-out."
            )


def kfold_splits(y, groups, k, seed):
    """``[(train_idx, valid_idx), ...]``: stratified k-fold, by group when ``groups`` is given.

    A multi-label ``y`` is stratified on each row's rarest positive label.
    """
    if np.ndim(y) == 2:
        y = stratification_key(y)
    if groups is not None:
        return group_folds(y, np.asarray(groups), k, seed)  # the search's group-wise folds, k of them
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class in y", category=UserWarning)
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        return list(splitter.split(np.zeros(len(y)), y))


def cross_validate_pool(pool, X, y, weights, groups, *, k, seed, settings, scoring, bound,
                        ensemble_size, n_jobs=1, device_request="auto", time_left=None):
    """Out-of-fold probabilities of the pool's candidates, greedy selection on them, and the fold models.

    Parameters
    ----------
    pool : list of dict
        The candidates (``index``, ``spec``, ``seed``), best by hold-out score first.
    X, y, weights : ndarray
        All the training data (encoded labels, sample weights).
    groups : ndarray or None
    k, seed : int
    settings : TrainingSettings
    scoring : str or callable
    bound : BoundSettings
        The layer-wise bound each fold model must obey.
    ensemble_size : int
    n_jobs : int or None
    device_request : str
    time_left : float or None
        Seconds left of the search's budget; None for no budget.

    Returns
    -------
    dict or None
        ``members`` ``[(pool position, weight), ...]``, ``scores`` (each pool
        candidate's out-of-fold score, NaN when left out), ``folds`` (the
        splits), ``states`` ``{(pool position, fold): state_dict}``,
        ``n_fit`` (the smallest fold's training size).  None when no
        candidate could be cross-validated, or a fold model ran out of time.
    """
    folds = kfold_splits(y, groups, k, seed)
    n_fit = min(len(train) for train, _ in folds)
    usable = [p for p, c in enumerate(pool)
              if all(network_holds(c["spec"], len(train), bound.rho, bound.counting) for train, _ in folds)]
    for train, _ in folds:
        if not trainable(y[train], weights[train]):
            return None
    if not usable:
        return None
    jobs = [(p, j) for p in usable for j in range(len(folds))]
    n_workers, threads = worker_threads(n_jobs)
    devices = task_devices(device_request, settings.device, len(jobs), n_workers)
    deadline = None if time_left is None else time.monotonic() + time_left

    def tasks():
        for (p, j), device in zip(jobs, devices):
            train, valid = folds[j]
            w_train = weights[train] / weights[train].mean()
            w_valid = weights[valid] / weights[train].mean()
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            yield joblib.delayed(train_task)(
                pool[p]["spec"], int(pool[p]["seed"]), device, threads, left, None, settings, scoring,
                X[train], y[train], w_train, X[valid], y[valid], w_valid,
            )

    n_classes = pool[0]["spec"].head.width
    oof = {p: np.zeros((len(y), n_classes)) for p in usable}
    states = {}
    with parallel_pool(n_jobs) as parallel:
        for (p, j), result in zip(jobs, parallel(tasks())):
            if result.info.get("deadline_reached"):
                return None
            if result.error:
                usable = [q for q in usable if q != p]
                continue
            train, valid = folds[j]
            net = rebuild_net(pool[p]["spec"], result.state, pool[p]["seed"], len(train), settings)
            oof[p][valid] = net.predict_proba(X[valid])
            states[(p, j)] = result.state
    usable = [p for p in usable if all((p, j) in states for j in range(len(folds)))]
    if not usable:
        return None
    scores = [math.nan] * len(pool)
    for p in usable:
        scores[p] = proba_score(scoring, oof[p], y, weights)
    ranked = sorted(usable, key=lambda p: (-scores[p], p))
    picked, _ = greedy_selection([oof[p] for p in ranked], y, weights, scoring, ensemble_size)
    members = [(p, float(w)) for p, w in zip(ranked, picked) if w > 0]
    return {"members": members, "scores": scores, "folds": folds, "states": states, "n_fit": n_fit,
            "oof": {p: oof[p].astype(np.float32) for p in usable}}
