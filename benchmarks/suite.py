"""Running contenders side by side and writing what they scored.

Each contender is fitted and scored in its own fresh process (spawned), so
its peak memory is its own and no contender inherits another's threads or
caches.  A suite writes ``benchmarks/results/<suite>.json``, a markdown table
``<suite>.md`` and, per dataset, ``<suite>_<dataset>.png`` (score against
parameters and against fit time).
"""

from __future__ import annotations

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

    rss_before = _rss_mb()
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
        **_details(model),
    }


def _cross_validate(task, name, X, y, cv):
    """Child process: ``cross_validate`` one contender; scores, times and sizes per fold."""
    from sklearn.model_selection import cross_validate

    from contenders import contenders, n_parameters

    model = contenders(task)[name]()
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


def run_holdout(task, name, train, test, groups=None, class_names=None, **factory_kwargs):
    """Fit ``name`` on ``train`` (X, y), score it on ``test``; one result row."""
    out = isolated(_fit_and_predict, task, name, factory_kwargs, train, test, groups)
    y_test, y_pred = np.asarray(test[1]), np.asarray(out.pop("y_pred"))
    labels = np.unique(np.asarray(train[1]))
    recall = recall_score(y_test, y_pred, labels=labels, average=None, zero_division=0)
    names = class_names or [str(c) for c in labels]
    row = {
        "contender": name,
        "accuracy": accuracy_score(y_test, y_pred),
        "balanced_accuracy": balanced_accuracy_score(y_test, y_pred),
        "macro_f1": f1_score(y_test, y_pred, labels=labels, average="macro", zero_division=0),
        **{f"recall_{c}": float(r) for c, r in zip(names, recall)},
        "groups_passed": out.pop("groups_passed"),
        **out,
    }
    print(f"  {name:17s} acc {row['accuracy']:.3f}  bacc {row['balanced_accuracy']:.3f}  "
          f"F1 {row['macro_f1']:.3f}  params {row['n_parameters']:>10,}  fit {row['fit_seconds']:7.1f} s  "
          f"peak {row['peak_rss_mb']:.0f} MB" + (f"  [{row['architecture']}]" if "architecture" in row else ""),
          flush=True)
    return row


def run_cv(task, name, X, y, cv):
    """5-fold (or ``cv``) cross-validated accuracy of ``name``; one result row."""
    out = isolated(_cross_validate, task, name, X, y, cv)
    row = {"contender": name, "accuracy_mean": float(np.mean(out["fold_accuracy"])),
           "accuracy_std": float(np.std(out["fold_accuracy"])), **out}
    print(f"  {name:17s} accuracy {row['accuracy_mean']:.3f} +- {row['accuracy_std']:.3f}  "
          f"params {row['n_parameters']:>8,}  fit/fold {row['fit_seconds_per_fold']:.1f} s", flush=True)
    return row


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
        return f"{value:.4g}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def markdown(datasets):
    """Markdown tables (one per dataset) of the scalar columns of each row."""
    lines = []
    for dataset, block in datasets.items():
        rows = block["results"]
        columns = [c for c in rows[0] if all(isinstance(r.get(c), (int, float, str)) for r in rows)]
        lines += [f"### {dataset}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        for r in rows:
            cells = [_markdown_cell(r[c]) for c in columns]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def write(suite, datasets, command, results_dir=RESULTS):
    """Write ``<suite>.json``, ``<suite>.md`` and the plots into ``results_dir``; return the JSON path."""
    from plots import plot_dataset

    results_dir.mkdir(parents=True, exist_ok=True)
    payload = {"suite": suite, "command": command, "environment": environment(), "datasets": datasets}
    path = results_dir / f"{suite}.json"
    path.write_text(json.dumps(payload, indent=2, default=float))
    (results_dir / f"{suite}.md").write_text(f"# {suite}\n\nReproduce: `{command}`\n\n" + markdown(datasets))
    for dataset, block in datasets.items():
        plot_dataset(dataset, block, results_dir / f"{suite}_{dataset}.png")
    print(f"wrote {path}, {suite}.md and plots in {results_dir}")
    return path
