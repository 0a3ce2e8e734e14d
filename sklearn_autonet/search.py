"""Steps 2-5 of AutoNet: the loop that trains what the growth policy proposes, scores, stops, selects.

Each round the growth policy (:mod:`sklearn_autonet.growth`; by default
:class:`~sklearn_autonet.growth.DeepenWidest`, one block deeper, as wide as the
layer-wise bound allows) proposes the round's networks; each is trained
``seeds_per_round`` times (candidates), scored on the validation split and
recorded.  The search stops (:func:`should_stop`) when the validation score has
not improved for ``patience`` rounds, when the policy has no room to grow, when
the budget (candidates, wall-clock time) is spent, or when the user interrupts
it (Ctrl-C).  The best candidate by validation score is selected (ties go to
the earlier, smaller one), or with ``selection="one_se"`` the smallest within
one standard error of it (:mod:`sklearn_autonet.selection_rules`).

Reliability:

* a candidate whose training raises, or whose loss becomes NaN or infinite,
  is recorded with ``status="failed"`` and its ``error``, and the search goes
  on; only when every candidate failed does the search raise;
* CUDA out-of-memory during a candidate halves its batch size and retries
  (:mod:`sklearn_autonet.tasks`);
* Ctrl-C (SIGINT) stops the search after the candidate in progress is
  abandoned, keeping the best finished candidate (``"interrupted"``);
* with a checkpoint folder every finished candidate is saved, and a search
  started again with the same data and arguments reuses them
  (:mod:`sklearn_autonet.checkpoint`).

Seeds and checkpoints are keyed by the candidate's index in the search (and
checkpoints by its spec too).  The candidates of a round are independent
tasks (:func:`~sklearn_autonet.tasks.train_task`) run through
:class:`joblib.Parallel` with ``n_jobs`` workers; the search is the same for
any ``n_jobs``.  A round improves when its best candidate beats the best score
so far.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
import warnings
from dataclasses import dataclass, field

import joblib
import numpy as np
from skorch.history import History

from .bound import convexity_report, layer_parameter_count, min_samples_for, network_holds
from .checkpoint import CheckpointStore, search_fingerprint
from .growth import BoundSettings, DeepenWidest, Trained
from .hyperparameters import network_spec
from .ensemble import greedy_selection
from .selection_rules import band_members, bootstrap_standard_error, select
from .progress import SearchProgress
from .tasks import (
    TaskResult, parallel_pool, rebuild_ensemble, rebuild_net, task_devices, train_task, worker_threads,
)
from .training import TrainingSettings


@dataclass(frozen=True)
class SearchConfig:
    """Everything the loop needs besides the data and the policy (see the estimator for meanings).

    Parameters
    ----------
    bound : BoundSettings
        What the growth policy may propose.
    training : TrainingSettings
        How each candidate is trained (budgets already scaled to the data).
    max_candidates, patience, max_time, scoring, warm_growth, seeds_per_round, n_jobs
        The estimator's parameters of the same names.
    device_request : str
        The user's ``device`` parameter as given (``"auto"`` spreads parallel
        tasks over the visible GPUs).
    halving : bool
        Successive halving inside rounds of several candidates.
    rung_fraction, keep_fraction : float
        Halving's short budget (a fraction of ``max_epochs``) and the share of
        a round promoted to the full budget.
    """

    bound: BoundSettings = field(default_factory=BoundSettings)
    training: TrainingSettings = field(default_factory=TrainingSettings)
    max_candidates: int = 10
    patience: int = 2
    max_time: float | None = None
    scoring: object = "balanced_accuracy"
    warm_growth: bool = False
    seeds_per_round: int = 1
    n_jobs: int | None = 1
    device_request: str = "auto"
    halving: bool = False
    rung_fraction: float = 0.05
    keep_fraction: float = 1 / 3


@dataclass
class SearchResult:
    """What the search hands back to the estimator."""

    net: object
    spec: object
    info: dict
    history: dict
    stop_reason: str
    best_index: int
    members: list = field(default_factory=list)
    #: every finished candidate's retraining recipe, best by hold-out score first (k-fold scoring's pool)
    pool: list = field(default_factory=list)


def candidate_seeds(random_state, n):
    """One seed per candidate index, fixed by ``random_state`` (an int)."""
    return np.random.RandomState(random_state).randint(0, 2**31 - 1, size=n)


def should_stop(config, n_candidates, since_best, deadline_hit, now, deadline):
    """Why the search stops before its next round, or None to go on.

    Checked in this order: a candidate of the last round ran into the
    deadline (``"max_time"``); ``patience`` rounds without a better
    validation score (``"patience"``); the candidate budget is spent
    (``"max_candidates"``); the wall-clock budget is spent (``"max_time"``).
    The first round always runs (a fitted estimator needs a network), so the
    time budget is only checked once a candidate exists.  When none of these
    holds the policy is asked for the next round, and an empty proposal ends
    the search with ``"no_room_to_grow"``.

    Parameters
    ----------
    config : SearchConfig
    n_candidates : int
        Candidates trained so far.
    since_best : int
        Rounds since the best validation score last improved.
    deadline_hit : bool
        Whether a candidate of the last round stopped at the deadline.
    now, deadline : float or None
        ``time.monotonic()`` values; ``deadline`` None for no time budget.

    Returns
    -------
    str or None

    Examples
    --------
    >>> should_stop(SearchConfig(patience=2), 3, 2, False, 0.0, None)
    'patience'
    >>> should_stop(SearchConfig(), 0, 0, False, 5.0, 1.0) is None   # the first round always runs
    True
    """
    if deadline_hit:
        return "max_time"
    if since_best >= config.patience:
        return "patience"
    if n_candidates >= config.max_candidates:
        return "max_candidates"
    if n_candidates and deadline is not None and now >= deadline:
        return "max_time"
    return None


class UserInterrupt:
    """Tell a user's Ctrl-C apart from the ``KeyboardInterrupt`` skorch uses to stop training.

    skorch stops a net's fit loop by catching ``KeyboardInterrupt`` (its early
    stopping and our deadline callback raise it), so a Ctrl-C during a
    candidate's epochs only ends that candidate.  While this context is
    active (in the main thread only), a SIGINT handler records the interrupt in
    :attr:`requested` before raising ``KeyboardInterrupt``; the search checks
    the flag after every candidate.  The previous handler is restored on exit.
    A SIGINT that was being ignored (``SIG_IGN``) stays ignored.
    """

    def __enter__(self):
        self.requested = False
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous is not None and previous is not signal.SIG_IGN:
                self._previous = previous
                signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        self.requested = True
        raise KeyboardInterrupt

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def run_interruptible(call):
    """``(call(), False)``, or ``(None, True)`` when the user pressed Ctrl-C during it.

    skorch ends a net's training quietly on ``KeyboardInterrupt``, so a Ctrl-C
    inside a training is seen through :class:`UserInterrupt`, one between
    trainings as the exception.
    """
    value = None
    with UserInterrupt() as interrupt:
        try:
            value = call()
        except KeyboardInterrupt:
            interrupt.requested = True
    return (None, True) if interrupt.requested else (value, False)


class _Terminated(BaseException):
    """SIGTERM arrived during the search (a BaseException: nothing on the way catches it)."""


class Termination:
    """On SIGTERM during the search: unwind it, stop the worker processes it used, then die of SIGTERM.

    Python's default SIGTERM ends the process at once, and loky's worker
    processes (``n_jobs > 1``) outlive it.  While this context is active (in
    the main thread, and only where SIGTERM still has its default handler) a
    SIGTERM raises :class:`_Terminated`, so the search's contexts close; on
    exit the reusable loky executor's workers are killed and the default
    handler terminates the process with the usual SIGTERM status.  A handler
    the user installed is left alone.
    """

    def __enter__(self):
        self._installed = (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        )
        if self._installed:
            signal.signal(signal.SIGTERM, self._handle)
        return self

    def _handle(self, signum, frame):
        raise _Terminated

    def __exit__(self, exc_type, exc, tb):
        if self._installed:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if exc_type is _Terminated:
            stop_worker_processes()
            os.kill(os.getpid(), signal.SIGTERM)
        return False


def stop_worker_processes():
    """Kill the worker processes of joblib's reusable loky executor, if it has any."""
    from joblib.externals.loky import reusable_executor

    executor = reusable_executor._executor
    if executor is not None:
        executor.shutdown(wait=False, kill_workers=True)


def run_search(props, train, valid, config, *, policy=None, random_state=0, progress=False, checkpoint_dir=None,
               ensemble_size=1, selection="best", valid_groups=None):
    """Run the AutoNet loop.

    Parameters
    ----------
    props : DataProperties
    train, valid : tuple (X, y, sample_weight)
        Float32 inputs, integer-encoded targets, sample weights.
    config : SearchConfig
    policy : GrowthPolicy, default=None
        What each round trains; None: :class:`~sklearn_autonet.growth.DeepenWidest`.
    random_state : int
        Seeds every candidate (initialisation and batch order).
    progress : bool
        Show a tqdm progress bar over the candidates.
    checkpoint_dir : path-like, default=None
        Save every finished candidate there, and reuse those a previous run
        with the same data and arguments saved (see
        :mod:`sklearn_autonet.checkpoint`).
    ensemble_size : int
        Most picks of the greedy ensemble selection (1: one network).
    selection : {"best", "one_se"}
        Which finished candidate is selected
        (:mod:`sklearn_autonet.selection_rules`); under ``"one_se"`` every
        finished candidate's weights are kept until the end of the search.
    valid_groups : ndarray of shape (n_valid,) or None
        The validation samples' groups; ``"one_se"``'s bootstrap resamples them.

    Returns
    -------
    SearchResult

    Raises
    ------
    ValueError
        When not even the smallest network fits the layer-wise bound (the
        message says how many samples it needs), when every candidate failed
        (the message lists the reasons), or when the policy proposes a network
        that breaks the bound.
    KeyboardInterrupt
        When the user interrupts the search before any candidate finished.
    """
    policy = DeepenWidest() if policy is None else policy
    start = time.monotonic()
    deadline = None if config.max_time is None else start + config.max_time
    seeds = candidate_seeds(random_state, config.max_candidates)
    store = None
    if checkpoint_dir is not None:
        fingerprint = search_fingerprint(props, train, valid, config, random_state, policy)
        store = CheckpointStore(checkpoint_dir, fingerprint)
    # kept: candidate index -> (state, epoch history), for the best, the warm-growth parent and the ensemble pool
    rows, kept = [], {}
    best, parent, since_best, deadline_hit, stop_reason = None, None, 0, False, None
    width = int(config.seeds_per_round)
    total = min(max(policy.expected_candidates(props, config.bound), 1) * width, config.max_candidates)
    bar = SearchProgress(total, progress, deadline)
    # contexts close in reverse: the pool, the SIGINT handler, the bar, then (on SIGTERM) the workers go
    with Termination(), bar, UserInterrupt() as interrupt, parallel_pool(config.n_jobs) as parallel:
        run = _RoundRunner(props, train, valid, config, store, deadline, parallel, interrupt, bar)
        try:
            round_number = 0
            while True:
                stop_reason = should_stop(config, len(rows), since_best, deadline_hit, time.monotonic(), deadline)
                if stop_reason is not None:
                    break
                round_number += 1
                trained = tuple(_trained(row) for row in rows)
                proposals = policy.propose(round_number, props, config.bound, trained)
                if not proposals:
                    stop_reason = "no_room_to_grow"
                    break
                candidates = []
                for proposal in proposals:
                    _check_bound(proposal.spec, props, config, policy)
                    candidates += [proposal] * width
                candidates = candidates[: config.max_candidates - len(rows)]
                parent_state = kept[parent][0] if config.warm_growth and parent is not None else None
                first = len(rows)
                run(round_number, candidates, seeds, parent_state, rows, kept)
                round_best = _best_of(rows[first:])
                if round_best is not None and (best is None or _score(rows, round_best) > _score(rows, best)):
                    best, since_best = round_best, 0
                elif best is not None:
                    since_best += 1
                parent = round_best  # every candidate of the round failed: the next round starts cold
                pool = _ensemble_pool(rows, ensemble_size)
                kept = {i: v for i, v in kept.items() if i in (best, parent) or i in pool or selection == "one_se"}
                # a candidate stopped by its share of the budget does not end the search;
                # one stopped by the search's own deadline does
                deadline_hit = deadline is not None and time.monotonic() >= deadline and any(
                    row["info"]["deadline_reached"] for row in rows[first:]
                )
        except KeyboardInterrupt:
            # candidates of an unfinished round count too, as far as they finished
            best = _best_of([row for row in rows if row["candidate"] in kept])
            if best is None:
                raise
            stop_reason = "interrupted"
            warnings.warn(
                f"AutoNet search interrupted; keeping the best of the {len(rows)} finished "
                f"candidate(s) (candidate {best}).",
                RuntimeWarning,
                stacklevel=2,
            )
    if not rows and props.is_signal and props.input_shape[-1] < 2:
        raise ValueError(
            f"Signals of length {props.input_shape[-1]} cannot go through even one conv block "
            "(each block pools the length by 2); AutoNet needs signals of length >= 2."
        )
    if not rows:
        raise ValueError(
            f"The layer-wise bound leaves no room for even one block of width 1 with "
            f"N_fit={props.n_fit} training samples (rho={config.bound.rho}, "
            f"counting={config.bound.counting!r}). {_samples_hint(props, config)}"
        )
    if best is None:
        reasons = "; ".join(f"candidate {r['candidate']} ({r['architecture']}): {r['error']}" for r in rows)
        raise ValueError(f"Every AutoNet candidate failed to train: {reasons}")
    best, threshold, net = _apply_rule(rows, kept, best, valid, valid_groups, config, selection, random_state,
                                       props.n_fit)
    chosen = rows[best]
    epochs = kept[best][1]
    if epochs:
        net.history_ = History(epochs)
    info = chosen["info"]
    # under one_se the ensemble's members are within the band and no larger than the chosen network
    limits = (threshold, chosen["n_parameters"]) if selection == "one_se" else ()
    pool = _ensemble_pool(rows, ensemble_size, *limits)
    members = _select_ensemble(rows, kept, best, net, valid, config, ensemble_size, props.n_fit, pool)
    if len(members) > 1:
        net = rebuild_ensemble(
            [rows[i]["spec"] for i, _ in members], [kept[i][0] for i, _ in members], [w for _, w in members],
            chosen["seed"], props.n_fit, config.training,
        )
        if epochs:
            net.history_ = History(epochs)
    weights = dict(members)
    for i, row in enumerate(rows):
        row["selected"] = i == best
        row["ensemble_weight"] = float(weights.get(i, 0.0))
        row["selection_threshold"] = float(threshold)
        row.pop("info")
    history = {key: [row[key] for row in rows] for key in rows[0]}
    member_rows = [dict(_recipe(rows[i]), weight=w) for i, w in members]
    # k-fold scoring (the estimator's cv) retrains candidates from their spec and seed: any finished one will do
    pool = [best] + [i for i in band_members(rows) if i != best]
    return SearchResult(net, chosen["spec"], info, history, stop_reason, best, member_rows,
                        [_recipe(rows[i]) for i in pool])


def _recipe(row):
    """What retraining a candidate needs: its index, spec, seed, best epoch and batch size (after retries)."""
    return {"index": row["candidate"], "spec": row["spec"], "seed": row["seed"], "best_epoch": row["best_epoch"],
            "batch_size": row["batch_size"]}


def _ensemble_pool(rows, ensemble_size, threshold=-math.inf, max_parameters=math.inf):
    """The candidates that may enter an ensemble of ``ensemble_size`` picks, best first.

    The best ``2 * ensemble_size`` finished candidates by validation score
    (ties: the earlier) among those scoring at least ``threshold`` with at
    most ``max_parameters`` parameters; only their weights are kept until the
    end of the search.  With ``ensemble_size=1`` only the best.
    """
    pool = [i for i in band_members(rows, threshold) if rows[i]["n_parameters"] <= max_parameters]
    return pool[: 1 if ensemble_size <= 1 else 2 * int(ensemble_size)]


def _apply_rule(rows, kept, best, valid, valid_groups, config, selection, random_state, n_fit):
    """``(chosen, threshold, net)``: the candidate the selection rule picks, its threshold, its rebuilt network.

    ``best`` is the candidate with the highest validation score; under
    ``"one_se"`` the standard error is bootstrapped from its validation
    probabilities (:mod:`sklearn_autonet.selection_rules`).
    """
    def rebuilt(index):
        row = rows[index]
        return rebuild_net(row["spec"], kept[index][0], row["seed"], n_fit, config.training)

    net = rebuilt(best)
    if selection != "one_se":
        return best, rows[best]["validation_score"], net
    X_valid, y_valid, w_valid = valid
    standard_error = bootstrap_standard_error(
        config.scoring, net.predict_proba(X_valid), y_valid, w_valid, valid_groups,
        random_state=random_state if isinstance(random_state, (int, np.integer)) else 0,
    )
    chosen, threshold = select([dict(row, status="ok" if row["candidate"] in kept and row["status"] == "ok"
                                     else "unkept") for row in rows], best, "one_se", standard_error)
    return chosen, threshold, net if chosen == best else rebuilt(chosen)


def _select_ensemble(rows, kept, best, best_net, valid, config, ensemble_size, n_fit, pool):
    """``[(candidate, weight), ...]`` of the ensemble, best candidate first.

    Greedy ensemble selection with replacement (:func:`~sklearn_autonet.ensemble.greedy_selection`)
    on the validation probabilities of the kept candidates of ``pool``
    (starting from ``best``, the selected candidate), scored by the search's
    ``scoring`` with the validation sample weights.  ``ensemble_size=1``, a
    pool of one, or a scorer that cannot score probabilities: ``best`` alone.
    """
    pool = [best] + [i for i in pool if i != best and i in kept]
    if ensemble_size <= 1 or len(pool) < 2:
        return [(best, 1.0)]
    X_valid, y_valid, w_valid = valid
    probas = []
    for index in pool:
        net = best_net if index == best else rebuild_net(
            rows[index]["spec"], kept[index][0], rows[index]["seed"], n_fit, config.training
        )
        probas.append(net.predict_proba(X_valid))
    try:
        weights, _ = greedy_selection(probas, y_valid, w_valid, config.scoring, ensemble_size)
    except Exception as exc:  # noqa: BLE001 - a user's scorer that cannot score plain probabilities
        warnings.warn(
            f"ensemble selection could not score the candidates' probabilities ({type(exc).__name__}: {exc}); "
            "keeping the best single network.",
            RuntimeWarning,
            stacklevel=3,
        )
        return [(best, 1.0)]
    members = [(index, float(w)) for index, w in zip(pool, weights) if w > 0]
    members.sort(key=lambda m: (m[0] != best, -m[1], m[0]))
    return members


def _check_bound(spec, props, config, policy):
    """Refuse a proposed spec that breaks the layer-wise bound (a policy's bug, never the user's)."""
    bound = config.bound
    if not network_holds(spec, props.n_fit, bound.rho, bound.counting):
        raise ValueError(
            f"the growth policy {policy!r} proposed {spec.describe()}, which breaks the layer-wise "
            f"bound with N_fit={props.n_fit} (rho={bound.rho}, counting={bound.counting!r})."
        )


def _trained(row):
    return Trained(row["candidate"], row["round"], row["spec"], row["validation_score"], row["status"] == "ok")


def _score(rows, index):
    return rows[index]["validation_score"]


def _best_of(rows):
    """Index of the finished candidate with the highest validation score (ties: the earlier), or None."""
    best = None
    for row in rows:
        if row["status"] == "ok" and (best is None or row["validation_score"] > best["validation_score"]):
            best = row
    return None if best is None else best["candidate"]


class _RoundRunner:
    """Trains the candidates of one round: checkpoints first, the rest as joblib tasks.

    With successive halving (``config.halving`` and more than one candidate
    in the round) every candidate first trains for a short budget (the rung:
    ``rung_fraction`` of ``max_epochs``); the best ``keep_fraction`` of the
    round by validation score are promoted and, when the rung's budget (not
    early stopping) ended them, continue from their weights for the rest of
    ``max_epochs``.  The others, when the rung's budget ended them, are
    ``"pruned"``: recorded, but not trained to the end, so never selected.  Rows are appended to the search's ``rows`` in candidate order
    (as results arrive without halving, at the end of the round with it),
    checkpoints are written in the calling process when a candidate is final,
    and the weights of finished candidates go into ``kept``.
    """

    def __init__(self, props, train, valid, config, store, deadline, parallel, interrupt, bar):
        self.props, self.train, self.valid, self.config = props, train, valid, config
        self.store, self.deadline, self.parallel = store, deadline, parallel
        self.interrupt, self.bar = interrupt, bar
        self.n_workers, self.threads = worker_threads(config.n_jobs)

    def _run(self, todo, specs, seeds, settings, parents, have_one, stage=""):
        """Train the candidates ``todo`` as tasks; yield ``(index, result)`` in order.

        Stops on Ctrl-C, and stops sending tasks once the time budget is spent
        and a candidate exists (``have_one``, or one trained here): a round is
        then cut short.
        """
        config = self.config
        devices = task_devices(config.device_request, settings.device, len(todo), self.n_workers)
        done = [have_one]

        def tasks():
            for index, device in zip(todo, devices):
                time_left = None if self.deadline is None else self.deadline - time.monotonic()
                if time_left is not None and time_left <= 0 and done[0]:
                    return
                if time_left is not None:
                    # a fair share of what is left: no candidate takes the whole budget
                    # unless it is the only one the search plans
                    time_left = time_left / max(1, self.bar.total - self.bar.done)
                self.bar.start_candidate(index, specs[index], settings.max_epochs, stage)
                yield joblib.delayed(train_task)(
                    specs[index], int(seeds[index]), device, self.threads,
                    None if time_left is None else max(0.0, time_left), parents.get(index),
                    settings, config.scoring, *self.train, *self.valid,
                )

        for index, result in zip(todo, self.parallel(tasks()) if todo else ()):
            if self.interrupt.requested:  # Ctrl-C during the epochs: skorch ended the candidate early
                raise KeyboardInterrupt
            done[0] = True
            yield index, result

    def __call__(self, round_number, proposals, seeds, parent_state, rows, kept):
        config, first = self.config, len(rows)
        indices = list(range(first, first + len(proposals)))
        specs = {index: proposal.spec for index, proposal in zip(indices, proposals)}
        saved = {}
        for index in indices:
            record = None if self.store is None else self.store.load(index)
            if record is not None and record[0]["spec"] == specs[index]:
                saved[index] = record
        todo = [index for index in indices if index not in saved]
        parents = {index: parent_state for index in todo}
        have_one = bool(kept) or bool(saved)
        if not (config.halving and len(proposals) > 1):
            results = self._run(todo, specs, seeds, config.training, parents, have_one)
            for index, proposal in zip(indices, proposals):
                if index not in saved:
                    trained = next(results, None)
                    if trained is None:  # the time budget ended the round
                        return
                self._add(round_number, index, proposal, seeds, saved.get(index),
                          None if index in saved else trained[1], rows, kept)
            return
        rung = config.training.part(0, rung_epochs(config))  # the learning-rate schedule spans max_epochs
        first_results = {}
        try:
            for index, result in self._run(todo, specs, seeds, rung, parents, have_one, "rung"):
                first_results[index] = result
        except KeyboardInterrupt:  # keep what finished its rung, then let the search stop
            for index, proposal in zip(indices, proposals):
                if index not in saved and index not in first_results:
                    break
                if index in first_results:
                    result = first_results[index]
                    result.info.update(rung_epochs=result.info["epochs"], rung_score=result.score, promoted=False)
                self._add(round_number, index, proposal, seeds, saved.get(index), first_results.get(index), rows, kept)
            raise
        # the round is the candidates up to the first one the time budget left out (indices stay contiguous)
        done = [i in saved or i in first_results for i in indices]
        indices = indices[: done.index(False)] if not all(done) else indices
        proposals = proposals[: len(indices)]
        scores = {}
        for index in indices:
            if index in saved:
                scores[index] = saved[index][0]["info"].get("rung_score", saved[index][0]["validation_score"])
            else:
                result = first_results[index]
                scores[index] = math.nan if result.error else result.score
        ranked = sorted((i for i in indices if math.isfinite(scores[i])), key=lambda i: (-scores[i], i))
        promoted = set(ranked[: max(1, math.ceil(len(indices) * config.keep_fraction))])
        go_on = [i for i in indices if i in promoted and i in todo and _rung_budget_ended(first_results[i], rung)]
        # the continuation goes on with the schedule where the rung left it
        rest = config.training.part(rung.max_epochs, max(1, config.training.max_epochs - rung.max_epochs))
        second = dict(self._run(go_on, specs, seeds, rest, {i: first_results[i].state for i in go_on}, True, "promoted"))
        for index, proposal in zip(indices, proposals):
            result = None
            if index not in saved:
                result = _continued(first_results[index], second.get(index))
                cut = _rung_budget_ended(first_results[index], rung)
                result.info.update(rung_epochs=first_results[index].info["epochs"], rung_score=scores[index],
                                   promoted=index in promoted, pruned=index not in promoted and cut)
            self._add(round_number, index, proposal, seeds, saved.get(index), result, rows, kept)

    def _add(self, round_number, index, proposal, seeds, saved, result, rows, kept):
        """Record one final candidate: its history row, its checkpoint, its weights."""
        config, spec = self.config, proposal.spec
        if saved is not None:
            record, state = saved
            row = _history_row(index, spec, record["info"], record["validation_score"], self.props.n_fit, config)
            row.update(status=record["status"], error=record["error"], from_checkpoint=True)
            epochs = []
        else:
            info = dict(result.info, torch_threads=result.torch_threads, device=result.device)
            row = _history_row(index, spec, info, result.score, self.props.n_fit, config)
            status = "failed" if result.error else "pruned" if info.get("pruned") else "ok"
            row.update(status=status, error=result.error, from_checkpoint=False)
            state, epochs = (None, []) if status == "pruned" else (result.state, result.history)
            if self.store is not None:
                self.store.save(
                    index,
                    {"spec": spec, "info": _plain_info(info), "validation_score": result.score,
                     "status": row["status"], "error": row["error"]},
                    state,
                )
        row.update(round=round_number, seed=int(seeds[index]), reason=proposal.reason)
        rows.append(row)
        if row["status"] == "ok" and state is not None:
            kept[index] = (state, epochs)
        elif row["status"] == "ok":  # a checkpoint without weights cannot be selected
            row.update(status="failed", error="its checkpoint holds no weights")
        ok = [r["validation_score"] for r in rows if r["status"] == "ok"]
        self.bar.finish_candidate(row["validation_score"], max(ok) if ok else None)


def rung_epochs(config):
    """Epochs of the short first run of successive halving: ``rung_fraction`` of ``max_epochs``, at least 1."""
    return max(1, int(math.ceil(config.training.max_epochs * config.rung_fraction)))


def _rung_budget_ended(result, rung):
    """Whether the rung's epoch budget (not early stopping, the deadline or a failure) ended a candidate."""
    info = result.info
    return not result.error and info["epochs"] >= rung.max_epochs and not info["deadline_reached"]


def _continued(first, second):
    """One candidate's result after its rung (``first``) and, when promoted, its continuation (``second``).

    The continuation starts from the rung's weights, and its early stopping on
    the validation loss (weighted like the training loss) keeps its best epoch;
    the candidate is the continuation, or the rung's result when the
    continuation failed.
    """
    info = dict(first.info, continued=second is not None)
    if second is None or second.error:
        return TaskResult(first.state, info, first.score, first.error, first.history,
                          first.torch_threads, first.device)
    info.update(
        epochs=first.info["epochs"] + second.info["epochs"],
        best_epoch=first.info["epochs"] + second.info["best_epoch"],
        seconds=first.info["seconds"] + second.info["seconds"],
        deadline_reached=second.info["deadline_reached"],
        batch_size=second.info.get("batch_size", first.info.get("batch_size", 0)),
    )
    return TaskResult(second.state, info, second.score, "", first.history + second.history,
                      second.torch_threads, second.device)


def _plain_info(info):
    """The training summary as JSON values."""
    plain = {}
    for key, value in info.items():
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, (np.integer, np.floating, np.bool_)):
            value = value.item()
        plain[key] = value
    return plain


def _history_row(index, spec, info, score, n_fit, config):
    bound = config.bound
    report = convexity_report(spec, n_fit, bound.rho, bound.counting)
    hp = spec.hyperparameters()
    info = dict(info, copied_layers=tuple(info.get("copied_layers", ())))
    return {
        "candidate": index,
        "depth": hp["depth"],
        "widths": hp["widths"],
        "kernel_sizes": hp["kernel_sizes"],
        "activation": hp["activation"],
        "architecture": spec.describe(),
        "n_parameters": sum(layer_parameter_count(layer) for layer in spec.layers),
        "max_ratio": max(row.ratio for row in report),
        "bound_holds": report.holds,
        "warm_layers": info["copied_layers"],
        "epochs": info["epochs"],
        "best_epoch": info["best_epoch"],
        "max_epochs": int(config.training.max_epochs),
        "epoch_patience": int(config.training.epoch_patience),
        "passes_per_epoch": int(config.training.passes_per_epoch),
        "rung_epochs": int(info.get("rung_epochs", 0)),
        "rung_score": float(info.get("rung_score", math.nan)),
        "promoted": bool(info.get("promoted", False)),
        "batch_size": info.get("batch_size", 0),
        "torch_threads": info.get("torch_threads", 0),
        "device": info.get("device", ""),
        "validation_score": score,
        "seconds": info["seconds"],
        "n_fit": n_fit,
        "spec": spec,
        "selected": False,
        "info": info,
    }


def _samples_hint(props, config):
    bound = config.bound
    smallest = network_spec(props, 1, 1, bound.activation, bound.kernel_size, stem=bound.stem(props))
    needed = max(min_samples_for(layer, bound.rho, bound.counting) for layer in smallest.layers)
    hint = (
        f"The smallest network for this input (one block of width 1) needs at least "
        f"{needed} training samples after the validation split; raise rho or add samples."
    )
    if not props.is_signal:
        hint += (
            f" X was read as a table of {props.input_shape[0]} columns (a dense block has a weight per "
            "column); if the columns are samples of a signal, pass (n_samples, n_leads, length) or "
            "set input_kind='signal'."
        )
    return hint
