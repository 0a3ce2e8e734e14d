"""The final model on all the training data: the selected members retrained without a hold-out.

After the search (and k-fold scoring, when it runs) the estimator's ``refit``
trains every member of the selected ensemble again on all the training data,
the validation split included, for the epochs its candidate needed (its best
epoch count, the learning-rate schedule's first epochs).  The members are
independent tasks: they run through the same joblib task as the search's
candidates (:func:`~sklearn_autonet.tasks.train_task`, without a validation
split), so they share its out-of-memory retries, its torch thread caps and
devices under ``n_jobs``, and the result does not depend on ``n_jobs``.

The refit either finishes for every member or is not used: when the time left
of ``max_time`` runs out or a member fails, :func:`refit_members` says why and
the estimator keeps the models the search trained.
"""

from __future__ import annotations

import time

import joblib
from skorch.history import History

from .tasks import parallel_pool, rebuild_ensemble, rebuild_net, task_devices, train_task, worker_threads

__all__ = ["refit_members"]


def _member_settings(settings, member):
    """The candidate's first ``best_epoch`` epochs, at the batch size its out-of-memory retries left."""
    part = settings.part(0, max(1, int(member["best_epoch"])))
    batch = int(member.get("batch_size") or 0)
    if 0 < batch < int(part.batch_size):
        part = part.replace(batch_size=batch)
    return part


def refit_members(members, everything, settings, seed, *, n_jobs=1, device_request="auto", time_left=None):
    """Every member trained again on all the data; ``(net, None)``, or ``(None, why)`` when it could not finish.

    Parameters
    ----------
    members : list of dict
        The selected candidates' recipes (``spec``, ``seed``, ``best_epoch``,
        ``batch_size``, ``weight``), as the search hands them back.  A member
        whose candidate ran out of memory starts at the batch size it was left
        with (not at the estimator's, to run out again).
    everything : tuple
        ``(X, y, sample_weight)``: all the training data.
    settings : TrainingSettings
        How the candidates were trained.
    seed : int
        The fit's seed: a single network is retrained with it, the members of
        an ensemble with their own candidates' seeds, so that two members of
        one architecture stay two networks.
    n_jobs : int or None
        Workers for the members, as for the search's candidates.
    device_request : str
        The estimator's ``device``.
    time_left : float or None
        Seconds left of ``max_time``; None for no budget.

    Returns
    -------
    net : skorch net or None
        One network, or the weighted ensemble of the members; its ``history_``
        is the first member's.
    why : str or None
        Why the refit was not used: the time ran out, or a member failed.
    """
    X, y, weights = everything
    n_workers, threads = worker_threads(n_jobs)
    devices = task_devices(device_request, settings.device, len(members), n_workers)
    deadline = None if time_left is None else time.monotonic() + time_left
    plans = [
        # the candidate's first best_epoch epochs, its learning-rate schedule included
        (_member_settings(settings, m), seed if len(members) == 1 else int(m["seed"]))
        for m in members
    ]

    def tasks():
        for member, (part, member_seed), device in zip(members, plans, devices):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            yield joblib.delayed(train_task)(
                member["spec"], member_seed, device, threads, left, None, part, None, X, y, weights, None, None, None,
            )

    with parallel_pool(n_jobs) as parallel:
        results = list(parallel(tasks()))
    for member, result in zip(members, results):
        if result.info.get("deadline_reached"):
            return None, "max_time ran out during the refit"
        if result.error:
            return None, f"retraining {member['spec'].describe()} failed: {result.error}"
    if len(members) == 1:
        (part, member_seed), = plans
        net = rebuild_net(members[0]["spec"], results[0].state, member_seed, len(y), part)
    else:
        net = rebuild_ensemble([m["spec"] for m in members], [r.state for r in results],
                               [m["weight"] for m in members], seed, len(y), settings)
    net.history_ = History(results[0].history)
    return net, None
