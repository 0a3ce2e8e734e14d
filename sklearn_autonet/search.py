"""Steps 2-5 of AutoNet: grow, train, score, stop, select.

The loop grows the network one block per round, each block as wide as the
layer-wise bound allows (:func:`~sklearn_autonet.hyperparameters.widest_spec`),
trains the candidate (:func:`~sklearn_autonet.training.train_candidate`), scores
it on the validation split and records it.  It stops when the validation score
has not improved for ``patience`` rounds, when the network cannot grow (the
signal is pooled away, the depth limit is reached, or no width satisfies the
bound), or when the budget (candidates, wall-clock time) is spent.  The best
candidate by validation score is selected; ties go to the earlier, smaller one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import get_scorer
from tqdm.auto import tqdm

from .bound import convexity_report, layer_parameter_count, min_samples_for
from .hyperparameters import depth_limit, network_spec, widest_spec
from .training import train_candidate

STOP_REASONS = ("patience", "no_room_to_grow", "max_candidates", "max_time")


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


def run_search(props, train, valid, config, *, random_state=0, progress=False):
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

    Returns
    -------
    SearchResult
    """
    start = time.monotonic()
    deadline = None if config.max_time is None else start + config.max_time
    scorer = get_scorer(config.scoring)
    limit = depth_limit(props, config.max_depth)
    seeds = candidate_seeds(random_state, max(limit, 1))
    rows, nets = [], []
    best, since_best, stop_reason = None, 0, "no_room_to_grow"
    bar = tqdm(total=min(limit, config.max_candidates), desc="AutoNet search", unit="candidate", disable=not progress)
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
        parent_state = None
        if config.warm_growth and nets:
            parent_state = {k: v.detach().cpu() for k, v in nets[-1][0].module_.state_dict().items()}
        net, info = train_candidate(
            spec,
            train,
            valid,
            seed=seeds[depth - 1],
            deadline=deadline,
            parent_state=parent_state,
            **config.net_params,
        )
        score = float(scorer(net, valid[0], valid[1]))
        rows.append(_history_row(len(rows), spec, info, score, props.n_fit, config))
        nets.append((net, spec, info))
        bar.update(1)
        if best is None or score > rows[best]["validation_score"]:
            best, since_best = len(rows) - 1, 0
        else:
            since_best += 1
        bar.set_postfix(depth=depth, score=f"{score:.3f}", best=f"{rows[best]['validation_score']:.3f}")
        if info["deadline_reached"]:
            stop_reason = "max_time"
            break
        if since_best >= config.patience:
            stop_reason = "patience"
            break
    bar.close()
    if best is None:
        raise ValueError(
            f"The layer-wise bound leaves no room for even one block of width 1 with "
            f"N_fit={props.n_fit} training samples (rho={config.rho}, counting={config.counting!r}). "
            f"{_samples_hint(props, config)}"
        )
    for i, row in enumerate(rows):
        row["selected"] = i == best
    net, spec, info = nets[best]
    history = {key: [row[key] for row in rows] for key in rows[0]}
    return SearchResult(net, spec, info, history, stop_reason, best)


def _history_row(index, spec, info, score, n_fit, config):
    report = convexity_report(spec, n_fit, config.rho, config.counting)
    hp = spec.hyperparameters()
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
        "validation_score": score,
        "seconds": info["seconds"],
        "n_fit": n_fit,
        "spec": spec,
        "selected": False,
    }


def _samples_hint(props, config):
    smallest = network_spec(props, 1, 1, config.activation, config.kernel_size)
    needed = max(min_samples_for(layer, config.rho, config.counting) for layer in smallest.layers)
    return (
        f"The smallest network for this input (one block of width 1) needs at least "
        f"{needed} training samples after the validation split; raise rho or add samples."
    )
