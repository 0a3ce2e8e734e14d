"""Torch threads from the workload: a default fit on a busy machine, with and without it.

One other CPU-heavy process runs (a busy Python loop) while AutoNet fits scikit-learn's
breast cancer data (StandardScaler, 341 of the 455 training rows fit each candidate)
three times, and runs ``cross_val_score(cv=3)``: once as the package does it (one torch
thread for candidates below ``tasks.SMALL_WORKLOAD_MACS`` multiply-adds per batch) and
once with torch's own thread count for every candidate (the package before).  Then the
same without the busy process.

    python benchmarks/threads.py

Writes ``benchmarks/results/threads.json``.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import time

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from data import RESULTS
from suite import environment

from sklearn_autonet import AutoNetLCNClassifier, tasks


def busy():
    while True:
        pass


def measure(X, y, X_te, y_te):
    fits = []
    for seed in (0, 1, 2):
        start = time.monotonic()
        model = make_pipeline(StandardScaler(), AutoNetLCNClassifier(random_state=seed)).fit(X, y)
        fits.append({"seconds": time.monotonic() - start, "accuracy": float(model.score(X_te, y_te)),
                     "torch_threads": sorted(set(model[-1].search_history_["torch_threads"]))})
    start = time.monotonic()
    cv = cross_val_score(make_pipeline(StandardScaler(), AutoNetLCNClassifier(random_state=0)), X, y, cv=3)
    return {"fits": fits, "fit_seconds_mean": float(np.mean([f["seconds"] for f in fits])),
            "cross_val_score_seconds": time.monotonic() - start, "cv_accuracy": float(cv.mean())}


def main():
    X, y = load_breast_cancer(return_X_y=True)
    X, X_te, y, y_te = train_test_split(X, y, random_state=0, stratify=y)
    results = []
    for load in ("one busy process", "quiet"):
        hog = mp.get_context("spawn").Process(target=busy, daemon=True) if load != "quiet" else None
        if hog is not None:
            hog.start()
        try:
            for mode in ("threads from the workload (default)", "torch's own threads for every candidate"):
                saved = tasks.SMALL_WORKLOAD_MACS
                if mode.startswith("torch"):
                    tasks.SMALL_WORKLOAD_MACS = 0
                try:
                    row = {"load": load, "mode": mode, "torch_default_threads": torch.get_num_threads()}
                    row.update(measure(X, y, X_te, y_te))
                finally:
                    tasks.SMALL_WORKLOAD_MACS = saved
                results.append(row)
                print(f"{load} | {mode}: fit {row['fit_seconds_mean']:.1f} s (mean of 3), "
                      f"cross_val_score(cv=3) {row['cross_val_score_seconds']:.1f} s, "
                      f"accuracy {[f['accuracy'] for f in row['fits']]}", flush=True)
        finally:
            if hog is not None:
                hog.terminate()
    table = [{k: v for k, v in r.items() if k != "fits"} for r in results]
    path = RESULTS / "threads.json"
    path.write_text(json.dumps({"command": "python benchmarks/threads.py", "environment": environment(),
                                "table": table, "results": results}, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
