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
"""

from __future__ import annotations

import math
import signal
import threading
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
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
    scorer = get_scorer(config.scoring)
    limit = depth_limit(props, config.max_depth)
    seeds = candidate_seeds(random_state, max(limit, 1))
    store = None
    if checkpoint_dir is not None:
        store = CheckpointStore(checkpoint_dir, search_fingerprint(props, train, valid, config, random_state))
    rows, nets = [], []
    best, since_best, stop_reason = None, 0, "no_room_to_grow"
    bar = tqdm(total=min(limit, config.max_candidates), desc="AutoNet search", unit="candidate", disable=not progress)
    with UserInterrupt() as interrupt:
        try:
            for depth in range(1, limit + 1):
                if len(rows) >= config.max_candidates:
                    stop_reason = "max_candidates"
                    break
                if deadline is not None and time.monotonic() >= deadline:
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
                index, seed = len(rows), int(seeds[depth - 1])
                saved = None if store is None else store.load(index)
                if saved is not None and saved[0]["spec"] == spec:
                    record, state = saved
                    net = None if state is None else _rebuild_net(spec, state, seed, props, config)
                    row = _history_row(index, spec, record["info"], record["validation_score"], props.n_fit, config)
                    row.update(status=record["status"], error=record["error"], from_checkpoint=True)
                else:
                    parent_state = None
                    if config.warm_growth and nets and nets[-1][0] is not None:
                        parent_state = {k: v.detach().cpu() for k, v in nets[-1][0].module_.state_dict().items()}
                    net, info, error = _train_safely(spec, train, valid, seed, deadline, parent_state, config)
                    if interrupt.requested:  # Ctrl-C during the epochs: skorch ended the candidate early
                        raise KeyboardInterrupt
                    score = math.nan
                    if error is None:
                        score = float(scorer(net, valid[0], valid[1]))
                        if not math.isfinite(score):
                            error = f"the validation score is {score}"
                    if error is not None:
                        net = None
                    row = _history_row(index, spec, info, score, props.n_fit, config)
                    row.update(status="failed" if error else "ok", error=error or "", from_checkpoint=False)
                    if store is not None:
                        store.save(
                            index,
                            {"spec": spec, "info": _plain_info(info), "validation_score": score,
                             "status": row["status"], "error": row["error"]},
                            None if net is None else net.module_.state_dict(),
                        )
                rows.append(row)
                nets.append((net, spec, row["info"]))
                bar.update(1)
                if row["status"] == "ok" and (best is None or row["validation_score"] > rows[best]["validation_score"]):
                    best, since_best = index, 0
                elif best is not None:
                    since_best += 1
                if best is not None:
                    bar.set_postfix(depth=depth, score=f"{row['validation_score']:.3f}",
                                    best=f"{rows[best]['validation_score']:.3f}")
                if row["info"]["deadline_reached"]:
                    stop_reason = "max_time"
                    break
                if since_best >= config.patience:
                    stop_reason = "patience"
                    break
        except KeyboardInterrupt:
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
    for i, row in enumerate(rows):
        row["selected"] = i == best
        row.pop("info")
    net, spec, info = nets[best]
    history = {key: [row[key] for row in rows] for key in rows[0]}
    return SearchResult(net, spec, info, history, stop_reason, best)


def _train_safely(spec, train, valid, seed, deadline, parent_state, config):
    """Train one candidate; return ``(net, info, error)`` with ``error`` None when it trained.

    CUDA out-of-memory halves the batch size and retries (down to
    :data:`MIN_BATCH_SIZE`); any other exception, or a loss that became NaN
    or infinite, makes the candidate a failure with that reason.
    ``KeyboardInterrupt`` is not caught.
    """
    params = dict(config.net_params)
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
        "batch_size": info.get("batch_size", 0),
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
