"""Steps 2-5 of AutoNet: grow, train, score, stop, select.

The loop grows the network one block per round, each block as wide as the
layer-wise bound allows (:func:`~sklearn_autonet.hyperparameters.widest_spec`),
trains the candidate (:func:`~sklearn_autonet.training.train_candidate`), scores
it on the validation split and records it.  It stops when the validation score
has not improved for ``patience`` rounds, when the network cannot grow (the
signal is pooled away, the depth limit is reached, or no width satisfies the
bound), when the budget (candidates, wall-clock time) is spent, or when the
user interrupts it (Ctrl-C).  The best candidate by validation score is
selected; ties go to the earlier, smaller one.

Reliability:

* a candidate whose training raises, or whose loss becomes NaN or infinite,
  is recorded with ``status="failed"`` and its ``error``, and the search goes
  on; only when every candidate failed does the search raise;
* CUDA out-of-memory during a candidate halves its batch size and retries;
* Ctrl-C (SIGINT) stops the search after the candidate in progress is
  abandoned, keeping the best finished candidate (``"interrupted"``);
* with a checkpoint folder every finished candidate is saved, and a search
  started again with the same data and arguments reuses them
  (:mod:`sklearn_autonet.checkpoint`).

Parallel rounds: with ``seeds_per_round > 1`` a round trains several
candidates of the same depth (the same architecture from different seeds);
they are independent tasks run through :class:`joblib.Parallel` with
``n_jobs`` workers, under whatever joblib backend is active (loky by default,
Dask or Ray through ``joblib.parallel_backend``).  A task
(:func:`train_task`) gets the spec, the data, its seed, its device and its
thread budget, and returns a small :class:`TaskResult` (weights, training
summary, score, epoch history); the search is the same for any ``n_jobs``.
A round improves when its best candidate beats the best score so far.
"""

from __future__ import annotations

import math
import signal
import threading
import time
import warnings
from dataclasses import dataclass, field

import joblib
import numpy as np
import torch
from skorch.history import History
from sklearn.metrics import get_scorer
from tqdm.auto import tqdm

from .bound import convexity_report, layer_parameter_count, min_samples_for
from .checkpoint import CheckpointStore, search_fingerprint
from .hyperparameters import depth_limit, network_spec, widest_spec
from .training import make_net, train_candidate

STOP_REASONS = ("patience", "no_room_to_grow", "max_candidates", "max_time", "interrupted")
#: The batch size is not halved below this (BatchNorm needs two samples per batch).
MIN_BATCH_SIZE = 2


@dataclass
class SearchConfig:
    """Everything the loop needs besides the data (see the estimator for meanings)."""

    rho: float = 1.0
    counting: str = "samples"
    max_width: int = 64
    activation: str = "leaky_relu"
    kernel_size: int | None = None
    max_depth: int | None = None
    max_candidates: int = 10
    patience: int = 2
    max_time: float | None = None
    scoring: object = "balanced_accuracy"
    warm_growth: bool = False
    net_params: dict = field(default_factory=dict)
    seeds_per_round: int = 1
    n_jobs: int | None = 1
    device_request: str | None = None


@dataclass
class SearchResult:
    """What the search hands back to the estimator."""

    net: object
    spec: object
    info: dict
    history: dict
    stop_reason: str
    best_index: int


def candidate_seeds(random_state, n):
    """One seed per candidate, fixed by ``random_state`` (an int)."""
    return np.random.RandomState(random_state).randint(0, 2**31 - 1, size=n)


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


@dataclass
class TaskResult:
    """What one candidate's task sends back: small, picklable, device-free.

    Attributes
    ----------
    state : dict of tensors or None
        The trained module's ``state_dict`` on the CPU; None when it failed.
    info : dict
        The training summary (epochs, best epoch, seconds, batch size, ...).
    score : float
        Validation score (NaN when it failed).
    error : str
        Why it failed, else "".
    history : list of dict
        The skorch net's epoch history (``net.history``).
    torch_threads : int
        ``torch.get_num_threads()`` while the candidate trained.
    device : str
        The torch device it trained on.
    """

    state: dict | None
    info: dict
    score: float
    error: str
    history: list
    torch_threads: int
    device: str


def resolve_device(device):
    """``"auto"`` as seen from the process that trains: ``"cuda"`` when it sees a GPU, else ``"cpu"``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(device)


def task_devices(device_request, device, n_tasks, n_workers):
    """The device of each of ``n_tasks`` concurrent tasks.

    With several visible GPUs, more than one worker and a device of ``"auto"``
    or ``"cuda"`` (no index), tasks go round-robin to ``cuda:0``,
    ``cuda:1``, ...  Otherwise ``"auto"`` stays ``"auto"`` (each worker uses
    the GPU it sees, else its CPU) and any other device is kept.

    Parameters
    ----------
    device_request : str or None
        The user's ``device`` parameter (``"auto"``, ``"cpu"``, ``"cuda:1"``...).
    device : str
        That device as resolved in the calling process.
    n_tasks, n_workers : int

    Returns
    -------
    list of str
    """
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count > 1 and n_workers > 1 and (device == "cuda" or device_request == "auto"):
        return [f"cuda:{i % count}" for i in range(n_tasks)]
    if device_request == "auto":
        return ["auto"] * n_tasks
    return [device] * n_tasks


def threads_per_task(n_workers):
    """Torch threads a task may use so that ``n_workers`` workers share the cores: ``cores // n_workers``, at least 1."""
    return max(1, joblib.cpu_count() // max(1, int(n_workers)))


def train_task(spec, seed, device, threads, time_left, parent_state, net_params, scoring,
               X_train, y_train, w_train, X_valid, y_valid, w_valid):
    """Train and score one candidate; the unit of work sent to a joblib worker.

    The arrays come as separate arguments so that joblib can share them with
    the workers: loky memory-maps large arrays (read-only, no copy per task)
    and the Dask backend scatters them to the workers once per call.

    Parameters
    ----------
    spec : NetworkSpec
    seed : int
    device : str
        A torch device, or ``"auto"`` (the GPU this worker sees, else the CPU).
    threads : int or None
        Upper bound on torch's intra-op threads during the task (the previous
        setting is restored afterwards); None leaves them as they are.
    time_left : float or None
        Seconds left of the search's budget when the task was sent.
    parent_state : dict or None
        Warm-growth parent weights.
    net_params : dict
        Arguments of :func:`~sklearn_autonet.training.make_net` (``device``
        is replaced by ``device``).
    scoring : str or callable
        Scikit-learn scorer for the validation split.
    X_train, y_train, w_train, X_valid, y_valid, w_valid : ndarray

    Returns
    -------
    TaskResult
    """
    deadline = None if time_left is None else time.monotonic() + time_left
    device = resolve_device(device)
    params = dict(net_params, device=device)
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(max(1, min(previous, int(threads))))
    try:
        with warnings.catch_warnings():
            # memory-mapped inputs are read-only; training never writes to them
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            train = (X_train, y_train, w_train)
            valid = (X_valid, y_valid, w_valid)
            net, info, error = _train_safely(spec, train, valid, seed, deadline, parent_state, params)
            threads_used = torch.get_num_threads()
            score = math.nan
            if error is None:
                score = float(get_scorer(scoring)(net, X_valid, y_valid))
                if not math.isfinite(score):
                    error = f"the validation score is {score}"
    finally:
        torch.set_num_threads(previous)
    state, history = None, []
    if net is not None:
        history = [dict(row) for row in net.history]
    if error is None:
        state = {k: v.detach().cpu().clone() for k, v in net.module_.state_dict().items()}
    return TaskResult(state, info, score, error or "", history, threads_used, device)


def run_search(props, train, valid, config, *, random_state=0, progress=False, checkpoint_dir=None):
    """Run the AutoNet loop.

    Parameters
    ----------
    props : DataProperties
    train, valid : tuple (X, y, sample_weight)
        Float32 inputs, integer-encoded targets, sample weights.
    config : SearchConfig
    random_state : int
        Seeds every candidate (initialisation and batch order).
    progress : bool
        Show a tqdm progress bar over the candidates.
    checkpoint_dir : path-like, default=None
        Save every finished candidate there, and reuse those a previous run
        with the same data and arguments saved (see
        :mod:`sklearn_autonet.checkpoint`).

    Returns
    -------
    SearchResult

    Raises
    ------
    ValueError
        When not even the smallest network fits the layer-wise bound (the
        message says how many samples it needs), or when every candidate failed
        (the message lists the reasons).
    KeyboardInterrupt
        When the user interrupts the search before any candidate finished.
    """
    start = time.monotonic()
    deadline = None if config.max_time is None else start + config.max_time
    limit = depth_limit(props, config.max_depth)
    width = int(config.seeds_per_round)
    # round d, member j gets seeds[j * limit + d - 1]: member 0 keeps the one-seed-per-round sequence
    seeds = candidate_seeds(random_state, max(limit, 1) * width)
    store = None
    if checkpoint_dir is not None:
        store = CheckpointStore(checkpoint_dir, search_fingerprint(props, train, valid, config, random_state))
    rows, kept = [], {}  # kept: candidate index -> (state, epoch history), for the best and the warm-growth parent
    best, parent, since_best, stop_reason = None, None, 0, "no_room_to_grow"
    total = min(limit * width, config.max_candidates)
    bar = tqdm(total=total, desc="AutoNet search", unit="candidate", disable=not progress)
    with UserInterrupt() as interrupt, _parallel(config.n_jobs) as parallel:
        run = _RoundRunner(props, train, valid, config, store, deadline, parallel, interrupt, bar)
        try:
            for depth in range(1, limit + 1):
                if len(rows) >= config.max_candidates:
                    stop_reason = "max_candidates"
                    break
                # the first round always runs (a fitted estimator needs a network);
                # the time budget decides whether the search grows beyond it
                if rows and deadline is not None and time.monotonic() >= deadline:
                    stop_reason = "max_time"
                    break
                spec = widest_spec(
                    props,
                    depth,
                    rho=config.rho,
                    counting=config.counting,
                    max_width=config.max_width,
                    activation=config.activation,
                    kernel_size=config.kernel_size,
                )
                if spec is None:
                    stop_reason = "no_room_to_grow"
                    break
                members = min(width, config.max_candidates - len(rows))
                round_seeds = [int(seeds[j * limit + depth - 1]) for j in range(members)]
                parent_state = kept[parent][0] if config.warm_growth and parent is not None else None
                first = len(rows)
                run(spec, depth, round_seeds, parent_state, rows, kept)
                round_best = _best_of(rows[first:])
                if round_best is not None and (best is None or _score(rows, round_best) > _score(rows, best)):
                    best, since_best = round_best, 0
                elif best is not None:
                    since_best += 1
                parent = round_best  # every candidate of the round failed: the next round starts cold
                kept = {i: v for i, v in kept.items() if i in (best, parent)}
                if best is not None:
                    latest = math.nan if round_best is None else _score(rows, round_best)
                    bar.set_postfix(depth=depth, score=f"{latest:.3f}", best=f"{_score(rows, best):.3f}")
                if any(row["info"]["deadline_reached"] for row in rows[first:]):
                    stop_reason = "max_time"
                    break
                if since_best >= config.patience:
                    stop_reason = "patience"
                    break
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
        finally:
            bar.close()
    if not rows and limit == 0:
        raise ValueError(
            f"Signals of length {props.input_shape[-1]} cannot go through even one conv block "
            "(each block pools the length by 2); AutoNet needs signals of length >= 2."
        )
    if not rows:
        raise ValueError(
            f"The layer-wise bound leaves no room for even one block of width 1 with "
            f"N_fit={props.n_fit} training samples (rho={config.rho}, counting={config.counting!r}). "
            f"{_samples_hint(props, config)}"
        )
    if best is None:
        reasons = "; ".join(f"candidate {r['candidate']} ({r['architecture']}): {r['error']}" for r in rows)
        raise ValueError(f"Every AutoNet candidate failed to train: {reasons}")
    chosen = rows[best]
    state, epochs = kept[best]
    net = _rebuild_net(chosen["spec"], state, chosen["seed"], props, config)
    if epochs:
        net.history_ = History(epochs)
    info = chosen["info"]
    for i, row in enumerate(rows):
        row["selected"] = i == best
        row.pop("info")
    history = {key: [row[key] for row in rows] for key in rows[0]}
    return SearchResult(net, chosen["spec"], info, history, stop_reason, best)


def _parallel(n_jobs):
    """A ``joblib.Parallel`` yielding results as they come, where the active backend can."""
    try:
        return joblib.Parallel(n_jobs=n_jobs, return_as="generator")
    except ValueError:  # backends without generator output (Ray's): the round's results come at once
        return joblib.Parallel(n_jobs=n_jobs)


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

    Rows are appended to the search's ``rows`` in candidate order as their
    results arrive (so an interrupt keeps every finished candidate), checkpoints
    are written in the calling process, and the weights of finished candidates
    go into ``kept``.
    """

    def __init__(self, props, train, valid, config, store, deadline, parallel, interrupt, bar):
        self.props, self.train, self.valid, self.config = props, train, valid, config
        self.store, self.deadline, self.parallel = store, deadline, parallel
        self.interrupt, self.bar = interrupt, bar
        self.n_workers = max(1, joblib.effective_n_jobs(config.n_jobs))
        # one worker: leave torch's threads as they are (the search of one candidate per round, as before)
        self.threads = None if self.n_workers == 1 else threads_per_task(self.n_workers)

    def __call__(self, spec, depth, seeds, parent_state, rows, kept):
        config, first = self.config, len(rows)
        saved = {}
        for j in range(len(seeds)):
            record = None if self.store is None else self.store.load(first + j)
            if record is not None and record[0]["spec"] == spec:
                saved[j] = record
        todo = [j for j in range(len(seeds)) if j not in saved]
        devices = task_devices(config.device_request, config.net_params.get("device", "cpu"), len(todo), self.n_workers)
        time_left = None if self.deadline is None else max(0.0, self.deadline - time.monotonic())
        tasks = (
            joblib.delayed(train_task)(
                spec, seeds[j], device, self.threads, time_left, parent_state, config.net_params, config.scoring,
                *self.train, *self.valid,
            )
            for j, device in zip(todo, devices)
        )
        results = iter(self.parallel(tasks) if todo else ())
        for j, seed in enumerate(seeds):
            index = first + j
            if j in saved:
                record, state = saved[j]
                row = _history_row(index, spec, record["info"], record["validation_score"], self.props.n_fit, config)
                row.update(status=record["status"], error=record["error"], from_checkpoint=True)
                epochs = []
            else:
                result = next(results)
                if self.interrupt.requested:  # Ctrl-C during the epochs: skorch ended the candidate early
                    raise KeyboardInterrupt
                info = dict(result.info, torch_threads=result.torch_threads, device=result.device)
                row = _history_row(index, spec, info, result.score, self.props.n_fit, config)
                row.update(status="failed" if result.error else "ok", error=result.error, from_checkpoint=False)
                state, epochs = result.state, result.history
                if self.store is not None:
                    self.store.save(
                        index,
                        {"spec": spec, "info": _plain_info(info), "validation_score": result.score,
                         "status": row["status"], "error": row["error"]},
                        state,
                    )
            row.update(round=depth, seed=seed)
            rows.append(row)
            if row["status"] == "ok" and state is not None:
                kept[index] = (state, epochs)
            elif row["status"] == "ok":  # a checkpoint without weights cannot be selected
                row.update(status="failed", error="its checkpoint holds no weights")
            self.bar.update(1)


def _train_safely(spec, train, valid, seed, deadline, parent_state, params):
    """Train one candidate; return ``(net, info, error)`` with ``error`` None when it trained.

    CUDA out-of-memory halves the batch size and retries (down to
    :data:`MIN_BATCH_SIZE`); any other exception, or a loss that became NaN
    or infinite, makes the candidate a failure with that reason.
    ``KeyboardInterrupt`` is not caught.
    """
    params = dict(params)
    started = time.monotonic()
    while True:
        try:
            net, info = train_candidate(
                spec, train, valid, seed=seed, deadline=deadline, parent_state=parent_state, **params
            )
            break
        except torch.cuda.OutOfMemoryError as exc:
            batch = int(params.get("batch_size", 32))
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            if batch // 2 < MIN_BATCH_SIZE:
                return None, _failed_info(started, params), f"out of memory even with batch_size={batch}: {exc}"
            params["batch_size"] = batch // 2
            warnings.warn(
                f"out of memory training candidate {spec.describe()} with batch_size={batch}; "
                f"retrying with batch_size={batch // 2}.",
                RuntimeWarning,
                stacklevel=4,
            )
        except Exception as exc:
            return None, _failed_info(started, params), f"{type(exc).__name__}: {exc}"
    info = dict(info, batch_size=int(params.get("batch_size", 0)))
    for column in ("train_loss", "valid_loss"):
        if valid is None and column == "valid_loss":
            continue
        losses = np.asarray(net.history[:, column], dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(losses))
        if len(bad):
            return net, info, f"the {column.replace('_', ' ')} became {losses[bad[0]]} at epoch {bad[0] + 1}"
    return net, info, None


def _failed_info(started, params):
    return {
        "epochs": 0,
        "best_epoch": 0,
        "seconds": time.monotonic() - started,
        "deadline_reached": False,
        "copied_layers": (),
        "batch_size": int(params.get("batch_size", 0)),
    }


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


def _rebuild_net(spec, state, seed, props, config):
    """A fitted-looking skorch net holding a checkpoint's weights (no training)."""
    net = make_net(spec, seed=seed, n_train=props.n_fit, **config.net_params)
    net.initialize()
    net.module_.load_state_dict(state)
    return net


def _history_row(index, spec, info, score, n_fit, config):
    report = convexity_report(spec, n_fit, config.rho, config.counting)
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
        "max_epochs": int(config.net_params.get("max_epochs", 0)),
        "epoch_patience": int(config.net_params.get("epoch_patience", 0)),
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
    smallest = network_spec(props, 1, 1, config.activation, config.kernel_size)
    needed = max(min_samples_for(layer, config.rho, config.counting) for layer in smallest.layers)
    return (
        f"The smallest network for this input (one block of width 1) needs at least "
        f"{needed} training samples after the validation split; raise rho or add samples."
    )
