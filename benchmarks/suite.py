"""Running contenders side by side and writing what they scored.

Each contender is fitted and scored in its own fresh process (spawned), so
its peak memory is its own and no contender inherits another's threads or
caches.  A suite runs each contender once per seed (``random_state``) and
:func:`aggregate` makes one row of the runs: each test score as the mean, its
sample standard deviation (``<score>_sd``) and the per-seed values
(``<score>_per_seed``), the other figures (parameters, fit time, ...) as means,
and every per-seed row under ``runs``.  A suite writes
``benchmarks/results/<suite>.json``, a markdown table ``<suite>.md`` (scores as
mean ± sd) and, per dataset, ``<suite>_<dataset>.png`` (score against parameters
and against fit time, error bars over the seeds).
"""

from __future__ import annotations

import ast
import inspect
import json
import multiprocessing
import os
import platform
import resource
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, recall_score

from data import RESULTS


def _rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, (int, float, str, bool, type(None))) else str(value)


def _details(model):
    """What a contender tells about itself beyond its score (JSON-ready)."""
    model = model[-1] if hasattr(model, "steps") else model
    out = {}
    if hasattr(model, "search_history_"):
        history = model.search_history_
        out.update(
            architecture=model.architecture_.spec.describe(),
            stop_reason=model.stop_reason_,
            candidates=len(history["candidate"]),
            epochs=int(np.sum(history["epochs"])),
            search_history={k: [_jsonable(v) for v in vals] for k, vals in history.items()},
        )
    if hasattr(model, "history_"):
        out.update(candidates=len(model.history_), search_history=model.history_,
                   epochs=int(sum(h["epochs"] for h in model.history_)))
    if hasattr(model, "epochs_"):
        out.update(epochs=model.epochs_, deadline_reached=bool(model.deadline_reached_))
    return out


def _fit_and_predict(task, name, factory_kwargs, train, test, groups):
    """Child process: build, fit, time, predict; return predictions and figures."""
    from contenders import contenders, n_parameters

    import torch

    rss_before = _rss_mb()
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    model = contenders(task)[name](**factory_kwargs)
    # inspect.signature follows the decorators' __wrapped__ (AutoNet's fit is wrapped by scikit-learn)
    takes_groups = "groups" in inspect.signature(model.fit).parameters
    fit_kwargs = {"groups": groups} if groups is not None and takes_groups else {}
    start = time.perf_counter()
    model.fit(*train, **fit_kwargs)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    y_pred = model.predict(test[0])
    predict_seconds = time.perf_counter() - start
    return {
        "y_pred": np.asarray(y_pred).tolist(),
        "fit_seconds": fit_seconds,
        "predict_ms_per_1000": 1000 * predict_seconds / len(test[0]) * 1000,
        "n_parameters": n_parameters(model),
        "groups_passed": bool(fit_kwargs),
        "rss_before_fit_mb": rss_before,
        "peak_rss_mb": _rss_mb(),
        **({"gpu_peak_mb": torch.cuda.max_memory_allocated() / 2**20} if cuda else {}),
        **_details(model),
    }


def _cross_validate(task, name, X, y, cv, seed):
    """Child process: ``cross_validate`` one contender (``random_state=seed``); scores, times and sizes per fold."""
    from sklearn.model_selection import cross_validate

    from contenders import contenders, n_parameters

    model = contenders(task)[name](random_state=seed)
    result = cross_validate(model, X, y, cv=cv, scoring="accuracy", return_estimator=True)
    return {
        "fold_accuracy": result["test_score"].tolist(),
        "fit_seconds_per_fold": float(np.mean(result["fit_time"])),
        "n_parameters": int(np.mean([n_parameters(m) for m in result["estimator"]])),
        "peak_rss_mb": _rss_mb(),
        **{k: v for k, v in _details(result["estimator"][0]).items() if k != "search_history"},
    }


def isolated(function, *args):
    """Run ``function(*args)`` in a fresh spawned process and return its result."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def run_holdout(task, name, train, test, groups=None, class_names=None, seed=0, **factory_kwargs):
    """Fit ``name`` (``random_state=seed``) on ``train`` (X, y), score it on ``test``; one result row."""
    factory_kwargs = {**factory_kwargs, "random_state": seed}
    out = isolated(_fit_and_predict, task, name, factory_kwargs, train, test, groups)
    y_test, y_pred = np.asarray(test[1]), np.asarray(out.pop("y_pred"))
    labels = np.unique(np.asarray(train[1]))
    recall = recall_score(y_test, y_pred, labels=labels, average=None, zero_division=0)
    names = class_names or [str(c) for c in labels]
    row = {
        "contender": name,
        "seed": seed,
        "accuracy": accuracy_score(y_test, y_pred),
        "balanced_accuracy": balanced_accuracy_score(y_test, y_pred),
        "macro_f1": f1_score(y_test, y_pred, labels=labels, average="macro", zero_division=0),
        **{f"recall_{c}": float(r) for c, r in zip(names, recall)},
        "groups_passed": out.pop("groups_passed"),
        **out,
    }
    print(f"  {name:17s} seed {seed}  acc {row['accuracy']:.3f}  bacc {row['balanced_accuracy']:.3f}  "
          f"F1 {row['macro_f1']:.3f}  params {row['n_parameters']:>10,}  fit {row['fit_seconds']:7.1f} s  "
          f"peak {row['peak_rss_mb']:.0f} MB" + (f"  [{row['architecture']}]" if "architecture" in row else ""),
          flush=True)
    return row


def run_cv(task, name, X, y, cv, seed=0):
    """Cross-validated accuracy of ``name`` (``random_state=seed``) over the folds of ``cv``; one result row.

    ``accuracy`` is the mean over the folds, ``accuracy_fold_sd`` their
    standard deviation and ``fold_accuracy`` the folds' own.
    """
    out = isolated(_cross_validate, task, name, X, y, cv, seed)
    row = {"contender": name, "seed": seed, "accuracy": float(np.mean(out["fold_accuracy"])),
           "accuracy_fold_sd": float(np.std(out["fold_accuracy"])), **out}
    print(f"  {name:17s} seed {seed}  accuracy {row['accuracy']:.3f} +- {row['accuracy_fold_sd']:.3f} (folds)  "
          f"params {row['n_parameters']:>8,}  fit/fold {row['fit_seconds_per_fold']:.1f} s", flush=True)
    return row


#: Test scores a suite reports as mean ± sd over the seeds (and ``recall_<class>``).
SCORES = ("accuracy", "balanced_accuracy", "macro_f1")


def _is_score(key):
    return key in SCORES or key.startswith("recall_")


def _is_number(value):
    return isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))


def mean_and_sd(runs, keys):
    """``<key>_mean`` and ``<key>_sd`` (sample sd, 0 for one run) of each of ``keys`` over ``runs`` (dicts)."""
    summary = {}
    for key in keys:
        values = np.array([r[key] for r in runs], dtype=float)
        summary[f"{key}_mean"] = float(values.mean())
        summary[f"{key}_sd"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return summary


def aggregate(runs):
    """One result row of a contender from its per-seed rows (each with ``contender`` and ``seed``).

    Parameters
    ----------
    runs : list of dict
        The rows of :func:`run_holdout` or :func:`run_cv`, one per seed, of one contender.

    Returns
    -------
    dict
        ``contender``, ``seeds``, then for every test score (:data:`SCORES`,
        ``recall_<class>``) its mean over the seeds under its own name, its
        sample standard deviation (``ddof=1``; 0 for one seed) as
        ``<score>_sd`` and the values as ``<score>_per_seed``.  Other numbers
        (parameters, fit time, candidates, ...) are means, with
        ``<key>_per_seed`` where the seeds differ; a string or flag is kept
        when every seed agrees, else listed as ``<key>_per_seed``; lists and
        dicts (search histories, fold scores) stay in the per-seed rows,
        kept whole under ``runs``.  Readers of the one-seed rows (a score, a
        parameter count and a fit time under the same names) read the means.
    """
    if not runs:
        raise ValueError("no runs to aggregate")
    names = {r["contender"] for r in runs}
    if len(names) != 1:
        raise ValueError(f"runs of several contenders: {sorted(names)}")
    row = {"contender": runs[0]["contender"], "seeds": [r["seed"] for r in runs]}
    keys = dict.fromkeys(k for r in runs for k in r if k not in ("contender", "seed"))
    for key in keys:
        values = [r.get(key) for r in runs]
        same = all(v == values[0] for v in values)
        if all(_is_number(v) for v in values):
            values = [v.item() if isinstance(v, np.generic) else v for v in values]
            # equal values are kept as they are (np.mean and np.std would round 0.8 * 3 off)
            row[key] = (values[0] if not _is_score(key) else float(values[0])) if same else float(np.mean(values))
            if _is_score(key):
                row[f"{key}_sd"] = 0.0 if same else float(np.std(values, ddof=1))
            if _is_score(key) or not same:
                row[f"{key}_per_seed"] = values
        elif any(isinstance(v, (list, dict)) for v in values):
            continue
        elif same:
            row[key] = values[0]
        else:
            row[f"{key}_per_seed"] = values
    row["runs"] = runs
    return row


def _print_aggregate(row):
    from plots import score_key

    score = score_key([row])
    print(f"  {row['contender']:17s} {score} {row[score]:.3f} ± {row[score + '_sd']:.3f} over seeds {row['seeds']}  "
          f"params {row['n_parameters']:,.0f}  fit {row.get('fit_seconds', row.get('fit_seconds_per_fold')):.1f} s "
          "(mean)", flush=True)


def run_holdout_seeds(task, names, seeds, train, test, groups=None, class_names=None, factory_kwargs=None):
    """Every contender of ``names`` once per seed in ``seeds``, in that order; one aggregated row each.

    Parameters
    ----------
    task : contenders.Task
    names : list of str
        Contenders, AutoNet first when it runs (RandomCNN reads its candidates).
    seeds : list of int
        The ``random_state`` of each run; the data and split stay the same.
    train, test : tuple
        ``(X, y)`` of :func:`run_holdout`.
    groups, class_names
        As :func:`run_holdout`.
    factory_kwargs : dict or None
        A contender's name to more arguments of its factory (the ResNet's ``max_time``).

    Returns
    -------
    list of dict
        One :func:`aggregate` row per contender.  ``RandomCNN`` trains, for each
        seed, as many candidates as AutoNet trained with that seed (10 when
        AutoNet did not run).
    """
    rows, candidates = [], {}
    for name in names:
        runs = []
        for seed in seeds:
            kwargs = dict((factory_kwargs or {}).get(name, {}))
            if name == "RandomCNN":
                kwargs["n_candidates"] = candidates.get(seed, 10)
            run = run_holdout(task, name, train, test, groups=groups, class_names=class_names, seed=seed, **kwargs)
            if name == "AutoNet":
                candidates[seed] = run["candidates"]
            runs.append(run)
        rows.append(aggregate(runs))
        _print_aggregate(rows[-1])
    return rows


def run_cv_seeds(task, names, X, y, cv, seeds):
    """:func:`run_cv` of every contender once per seed (the folds of ``cv`` stay the same); aggregated rows."""
    rows = []
    for name in names:
        rows.append(aggregate([run_cv(task, name, X, y, cv, seed=seed) for seed in seeds]))
        _print_aggregate(rows[-1])
    return rows


def autonet_params(pairs):
    """``["validation_fraction=0.4", "ensemble_size=1"]`` -> ``{"validation_fraction": 0.4, "ensemble_size": 1}``."""
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise SystemExit(f"--autonet takes KEY=VALUE, got {pair!r}")
        try:
            params[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[key] = value  # a bare word: a string such as refit=auto
    return params


def environment():
    """The machine and library versions a result was measured with."""
    import sklearn
    import torch

    return {
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "sklearn": sklearn.__version__,
        "cuda": torch.cuda.is_available(),
        "date": time.strftime("%Y-%m-%d"),
    }


def _markdown_cell(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return f"{value:,}" if isinstance(value, int) else str(value).replace("|", "\\|")


def table_lines(rows, score=None):
    """A markdown table (list of lines) of a data set's result rows.

    Rows made by :func:`aggregate` show each score as ``mean ± sd``, the per-seed
    values (``a / b / c``) of the main score (``score``, a block's ``score``;
    by default balanced accuracy where the rows have it) and the other
    numbers' means; rows
    of one run (results written before the seeds, or by other scripts) show
    their scalar columns as they are.
    """
    if not all("seeds" in r for r in rows):
        columns = [c for c in rows[0] if all(isinstance(r.get(c), (int, float, str)) for r in rows)]
        return (["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
                + ["| " + " | ".join(_markdown_cell(r[c]) for c in columns) + " |" for r in rows])
    from plots import score_key

    main = score_key(rows, score)
    scores = [c for c in rows[0] if _is_score(c) and all(f"{c}_sd" in r for r in rows)]
    derived = {f"{c}_{suffix}" for c in scores for suffix in ("sd", "per_seed")}
    others = [c for c in rows[0] if c not in ("contender", "seeds", *scores, *derived)
              and all(isinstance(r.get(c), (int, float, str)) for r in rows)]
    header = ["contender", "seeds", *(f"{c} (mean ± sd)" for c in scores), f"{main} per seed", *others]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        cells = [r["contender"], " ".join(str(s) for s in r["seeds"])]
        cells += [f"{r[c]:.3f} ± {r[c + '_sd']:.3f}" for c in scores]
        cells.append(" / ".join(f"{v:.3f}" for v in r[f"{main}_per_seed"]))
        cells += [_markdown_cell(r[c]) for c in others]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def markdown(datasets):
    """Markdown tables (one per dataset) of the rows (:func:`table_lines`)."""
    lines = []
    for dataset, block in datasets.items():
        lines += [f"### {dataset}", "", *table_lines(block["results"], block.get("score")), ""]
    return "\n".join(lines)


def write(suite, datasets, command, results_dir=RESULTS):
    """Write ``<suite>.json``, ``<suite>.md`` and the plots into ``results_dir``; return the JSON path."""
    from plots import plot_dataset

    results_dir.mkdir(parents=True, exist_ok=True)
    payload = {"suite": suite, "command": command, "environment": environment(), "datasets": datasets}
    path = results_dir / f"{suite}.json"
    path.write_text(json.dumps(payload, indent=2, default=float))
    seeds = sorted({s for block in datasets.values() for r in block["results"] for s in r.get("seeds", [])})
    note = (f"Seeds (`random_state`) {' '.join(map(str, seeds))}: scores are mean ± sample sd over the seeds, "
            "other numbers means; the per-seed rows are in the JSON (`runs`).\n\n" if seeds else "")
    (results_dir / f"{suite}.md").write_text(f"# {suite}\n\nReproduce: `{command}`\n\n{note}" + markdown(datasets))
    for dataset, block in datasets.items():
        plot_dataset(dataset, block, results_dir / f"{suite}_{dataset}.png")
    print(f"wrote {path}, {suite}.md and plots in {results_dir}")
    return path
