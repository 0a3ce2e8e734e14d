"""Learning-rate schedules of one candidate, as skorch's ``LRScheduler`` callback.

Not to be confused with :mod:`sklearn_autonet.schedules`, which decides *which
layers* train (end to end or layer-wise); this module decides *how fast* they
train, epoch after epoch.

Every schedule is a multiplier of the base learning rate as a function of the
fraction of the candidate's epoch budget already spent, ``epoch / horizon``
(``horizon``: the estimator's ``max_epochs``).  The callback is skorch's
:class:`~skorch.callbacks.LRScheduler` over torch's
:class:`~torch.optim.lr_scheduler.LambdaLR`, stepped once per epoch; the
learning rate used in each epoch is recorded in the net's history as
``"event_lr"``.

A candidate may train in parts: successive halving trains it for a short rung,
then a promoted candidate continues from its weights with a new net.  The
continuation starts at ``epoch_offset`` (the rung's epochs) of the same
``horizon``, so the parts follow one schedule over ``max_epochs`` instead of
annealing twice.  Early stopping may end a candidate before the schedule's
end; its best epoch's weights are kept, as without a schedule.
"""

from __future__ import annotations

import functools
import math

from skorch.callbacks import LRScheduler
from torch.optim.lr_scheduler import LambdaLR

#: One-cycle: share of the budget spent warming up, and the start and end multipliers.
ONECYCLE_WARMUP, ONECYCLE_START, ONECYCLE_END = 0.3, 1 / 25, 1e-4


def _cosine_between(start, end, progress):
    """From ``start`` (progress 0) to ``end`` (progress 1) along half a cosine."""
    return end + (start - end) * 0.5 * (1.0 + math.cos(math.pi * progress))


def constant(progress):  # noqa: ARG001 - one signature for every schedule
    """The base learning rate throughout."""
    return 1.0


def cosine(progress):
    """Cosine annealing from the base learning rate towards 0 at the end of the budget."""
    return _cosine_between(1.0, 0.0, progress)


def onecycle(progress):
    """One cycle (Smith, 2018): warm up from 1/25 of the base rate to it over the first
    30 % of the budget, then anneal (cosine) to 1e-4 of it."""
    if progress < ONECYCLE_WARMUP:
        return _cosine_between(ONECYCLE_START, 1.0, progress / ONECYCLE_WARMUP)
    return _cosine_between(1.0, ONECYCLE_END, (progress - ONECYCLE_WARMUP) / (1.0 - ONECYCLE_WARMUP))


#: Learning-rate schedules, name -> ``multiplier(progress)`` with ``progress`` in [0, 1).
#: Both the list of valid names (the estimator's ``lr_schedule``) and the lookup.
LR_SCHEDULES = {"constant": constant, "cosine": cosine, "onecycle": onecycle}


def _multiplier(epoch, *, name, offset, horizon):
    """The multiplier of the ``epoch``-th epoch of this part (0-based), ``offset`` epochs in."""
    return LR_SCHEDULES[name](min(1.0, (epoch + offset) / horizon))


def lr_schedule_callbacks(name, horizon, offset=0):
    """The skorch callbacks for the learning-rate schedule ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`LR_SCHEDULES`.
    horizon : int
        Epochs the schedule spans (the candidate's whole budget).
    offset : int, default=0
        Epochs of this candidate already trained (a promoted candidate's rung).

    Returns
    -------
    callbacks : list of (str, Callback)
        Empty for ``"constant"``; else one skorch ``LRScheduler`` named ``"lr_schedule"``.

    Examples
    --------
    The multipliers of a cosine over 4 epochs, and of its last 2 epochs as a
    part that starts 2 epochs in (a promoted candidate after its rung):

    >>> (_, whole), = lr_schedule_callbacks("cosine", horizon=4)
    >>> whole.simulate(4, initial_lr=1.0).round(3).tolist()
    [1.0, 0.854, 0.5, 0.146]
    >>> (_, rest), = lr_schedule_callbacks("cosine", horizon=4, offset=2)
    >>> rest.simulate(2, initial_lr=1.0).round(3).tolist()
    [0.5, 0.146]
    >>> lr_schedule_callbacks("constant", 100)
    []
    """
    if name not in LR_SCHEDULES:
        raise ValueError(f"unknown learning-rate schedule {name!r}; expected one of {sorted(LR_SCHEDULES)}.")
    if name == "constant":
        return []
    multiplier = functools.partial(_multiplier, name=name, offset=int(offset), horizon=max(1, int(horizon)))
    return [("lr_schedule", LRScheduler(policy=LambdaLR, lr_lambda=multiplier, step_every="epoch"))]
