"""Where and how a candidate trains: the joblib task, devices, thread caps, out-of-memory retries.

The search (:mod:`sklearn_autonet.search`) decides *what* to train; this module
runs it.  A task (:func:`train_task`) gets one candidate's spec, seed, device
and thread budget plus the data, and returns a small, picklable
:class:`TaskResult` (weights on the CPU, training summary, validation score,
epoch history).  Tasks run through :class:`joblib.Parallel` under whatever
joblib backend is active (loky by default, Dask or Ray through
``joblib.parallel_backend``); their results do not depend on how many workers
there are.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass

import joblib
import numpy as np
import torch
from sklearn.metrics import get_scorer

from .allocator import keep_freed_memory
from .modules import EnsembleNetwork
from .targets import MultilabelView
from .training import make_net, resolve_device, train_candidate

#: The batch size is not halved below this (BatchNorm needs two samples per batch).
MIN_BATCH_SIZE = 2
#: Below this many multiply-adds per mini-batch (forward pass) a candidate trains on one
#: torch thread: its steps are dominated by per-operation overhead, which a second thread
#: only adds to, and on a busy machine idle OpenMP workers spin and take the core
#: from the one that works (``benchmarks/threads.py``).
SMALL_WORKLOAD_MACS = 1e7

__all__ = [
    "MIN_BATCH_SIZE",
    "TaskResult",
    "parallel_pool",
    "rebuild_ensemble",
    "rebuild_net",
    "resolve_device",
    "task_devices",
    "threads_per_task",
    "train_safely",
    "train_task",
    "worker_threads",
]


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

    Examples
    --------
    >>> task_devices("cpu", "cpu", 3, 2)
    ['cpu', 'cpu', 'cpu']
    """
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count > 1 and n_workers > 1 and (device == "cuda" or device_request == "auto"):
        return [f"cuda:{i % count}" for i in range(n_tasks)]
    if device_request == "auto":
        return ["auto"] * n_tasks
    return [device] * n_tasks


def worker_threads(n_jobs):
    """``(n_workers, threads)`` of the tasks sent under ``n_jobs``.

    One worker: ``threads`` is None (each task's threads come from its workload,
    :func:`workload_threads`); several: :func:`threads_per_task`, a share of the
    cores each.  The search, k-fold scoring and the refit send their tasks so.
    """
    n_workers = max(1, joblib.effective_n_jobs(n_jobs))
    return n_workers, (None if n_workers == 1 else threads_per_task(n_workers))


def threads_per_task(n_workers):
    """Torch threads a task may use so that ``n_workers`` workers share the cores: ``cores // n_workers``, at least 1."""
    return max(1, joblib.cpu_count() // max(1, int(n_workers)))


def multiply_adds(spec):
    """Multiply-adds of one sample's forward pass through ``spec`` (conv, dense and head layers).

    Examples
    --------
    >>> from sklearn_autonet.hyperparameters import DataProperties, network_spec
    >>> multiply_adds(network_spec(DataProperties(100, "tabular", (30,), 2), 1, 10))
    320
    """
    return sum(layer.in_channels * layer.kernel_size * layer.outputs_per_sample for layer in spec.layers)


def workload_threads(spec, batch_size):
    """Torch threads for a candidate of this size: 1 for small workloads, None (torch's own) otherwise.

    The choice depends on the network and the batch only, never on how busy
    the machine is, so results stay the same from run to run.
    """
    return 1 if multiply_adds(spec) * int(batch_size) < SMALL_WORKLOAD_MACS else None


def parallel_pool(n_jobs):
    """A ``joblib.Parallel`` yielding results as they come, where the active backend can."""
    try:
        return joblib.Parallel(n_jobs=n_jobs, return_as="generator")
    except ValueError:  # backends without generator output (Ray's): the round's results come at once
        return joblib.Parallel(n_jobs=n_jobs)


def train_task(spec, seed, device, threads, time_left, parent_state, settings, scoring,
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
        setting is restored afterwards); None: from the workload
        (:func:`workload_threads`: one thread for small networks, else as they are).
    time_left : float or None
        Seconds left of the search's budget when the task was sent.
    parent_state : dict or None
        Warm-growth parent weights.
    settings : TrainingSettings
        How to train (its ``device`` is replaced by ``device``).
    scoring : str or callable or None
        Scikit-learn scorer for the validation split.
    X_train, y_train, w_train, X_valid, y_valid, w_valid : ndarray
        ``X_valid`` None: no validation split (a refit on all the data, for
        the epochs of ``settings``); the score is then NaN.

    Returns
    -------
    TaskResult
    """
    keep_freed_memory()  # once per process: large activations stay off mmap/munmap (allocator.py)
    deadline = None if time_left is None else time.monotonic() + time_left
    device = resolve_device(device)
    settings = settings.replace(device=device)
    previous = torch.get_num_threads()
    if threads is None:
        threads = workload_threads(spec, settings.batch_size)
    if threads is not None:
        torch.set_num_threads(max(1, min(previous, int(threads))))
    try:
        with warnings.catch_warnings():
            # memory-mapped inputs are read-only; training never writes to them
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            train = (X_train, y_train, w_train)
            valid = None if X_valid is None else (X_valid, y_valid, w_valid)
            net, info, error = train_safely(spec, train, valid, settings, seed, deadline, parent_state)
            threads_used = torch.get_num_threads()
            score = math.nan
            if error is None and valid is not None:
                score = validation_score(scoring, net, X_valid, y_valid, w_valid)
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


def validation_score(scoring, net, X, y, sample_weight):
    """The scorer on the validation split, counting the sample weights (class and sample weights) as the loss does.

    A scorer that takes no ``sample_weight`` is called without it.  With
    weights that are equal within each class, balanced accuracy is unchanged.
    For a multi-label ``y`` (2-D) the scorer sees the model through
    :class:`~sklearn_autonet.targets.MultilabelView` (``predict`` is the
    indicator matrix at 0.5).
    """
    scorer = get_scorer(scoring)
    if np.ndim(y) == 2:
        net = MultilabelView(net, np.shape(y)[1])
    with warnings.catch_warnings():
        # validation records split by group need not hold every class: a candidate that
        # predicts a class absent from them is scored as usual, without a warning per candidate
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        if sample_weight is not None and not np.all(sample_weight == sample_weight[0]):
            try:
                return float(scorer(net, X, y, sample_weight=sample_weight))
            except TypeError:
                pass
        return float(scorer(net, X, y))


def train_safely(spec, train, valid, settings, seed, deadline, parent_state):
    """Train one candidate; return ``(net, info, error)`` with ``error`` None when it trained.

    CUDA out-of-memory halves the batch size and retries (down to
    :data:`MIN_BATCH_SIZE`); any other exception, or a loss that became NaN
    or infinite, makes the candidate a failure with that reason.
    ``KeyboardInterrupt`` is not caught.
    """
    started = time.monotonic()
    while True:
        try:
            net, info = train_candidate(
                spec, train, valid, settings, seed=seed, deadline=deadline, parent_state=parent_state
            )
            break
        except torch.cuda.OutOfMemoryError as exc:
            batch = int(settings.batch_size)
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            if batch // 2 < MIN_BATCH_SIZE:
                return None, _failed_info(started, settings), f"out of memory even with batch_size={batch}: {exc}"
            settings = settings.replace(batch_size=batch // 2)
            warnings.warn(
                f"out of memory training candidate {spec.describe()} with batch_size={batch}; "
                f"retrying with batch_size={batch // 2}.",
                RuntimeWarning,
                stacklevel=4,
            )
        except Exception as exc:
            return None, _failed_info(started, settings), f"{type(exc).__name__}: {exc}"
    info = dict(info, batch_size=int(settings.batch_size))
    for column in ("train_loss", "valid_loss"):
        if valid is None and column == "valid_loss":
            continue
        losses = np.asarray(net.history[:, column], dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(losses))
        if len(bad):
            return net, info, f"the {column.replace('_', ' ')} became {losses[bad[0]]} at epoch {bad[0] + 1}"
    return net, info, None


def rebuild_net(spec, state, seed, n_fit, settings):
    """A fitted-looking skorch net holding trained weights (no training).

    Parameters
    ----------
    spec : NetworkSpec
    state : dict of tensors
        The weights (a ``state_dict``).
    seed : int
    n_fit : int
        Training samples (resolves ``batch_size="auto"``).
    settings : TrainingSettings
    """
    net = make_net(spec, settings, seed=seed, n_train=n_fit)
    with torch.random.fork_rng(devices=[]):  # building the module draws initial weights; keep the caller's stream
        net.initialize()
    net.module_.load_state_dict(state)
    return net



def rebuild_ensemble(specs, states, weights, seed, n_fit, settings):
    """A fitted-looking skorch net whose module is an :class:`~sklearn_autonet.modules.EnsembleNetwork`.

    Parameters
    ----------
    specs : sequence of NetworkSpec
        The members.
    states : sequence of dict of tensors
        Each member's weights (a ``state_dict``).
    weights : sequence of float
        Each member's weight (positive, summing to 1).
    seed, n_fit, settings
        As for :func:`rebuild_net`.
    """
    total = float(sum(weights))
    weights = tuple(float(w) / total for w in weights)
    net = make_net(specs[0], settings, seed=seed, n_train=n_fit)
    net.set_params(module=EnsembleNetwork, module__specs=tuple(specs), module__weights=weights,
                   module__multilabel=settings.multilabel)
    with torch.random.fork_rng(devices=[]):
        net.initialize()
    for member, state in zip(net.module_.members, states):
        member.load_state_dict(state)
    return net


def _failed_info(started, settings):
    return {
        "epochs": 0,
        "best_epoch": 0,
        "seconds": time.monotonic() - started,
        "deadline_reached": False,
        "copied_layers": (),
        "batch_size": int(settings.batch_size),
    }
