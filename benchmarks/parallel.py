"""Search wall time and peak memory with parallel rounds: n_jobs=1, n_jobs=2 and a Dask LocalCluster.

Every search has rounds of two candidates (``seeds_per_round=2``), so that
there is something to run in parallel, two rounds (``max_candidates=4``) and a
fixed number of epochs per candidate (early stopping off), so that every mode
does the same work:

* UCR ECG200 (official training set);
* MIT-BIH DS1, a uniform subsample (``--mitbih-size`` beats, 360 Hz, N/S/V/F),
  with ``groups`` = record.

Modes: ``n_jobs=1`` (in this process), ``n_jobs=2`` (joblib's loky workers,
arrays memory-mapped), and ``dask`` (a ``distributed.LocalCluster`` with 2
worker processes of 1 thread each, loopback only, ``n_jobs=-1`` under
``joblib.parallel_backend("dask")``).  Each (dataset, mode) runs in a fresh
Python process, so worker start-up is counted, as in a single ``fit``; cluster
start-up is timed apart.  Peak memory is the largest sum, over the process and
its children (loky or Dask workers, the nanny processes included), of the
proportional set size (PSS: shared pages split between the processes that map
them), sampled every 0.1 s with psutil.

Run: ``python benchmarks/parallel.py [--datasets ecg200 mitbih] [--mitbih-size 2000] [--epochs 10]``
Prints a table and writes ``benchmarks/results/parallel.json``.  The timings
depend on what else runs on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time

import joblib
import numpy as np
import torch

from data import RESULTS, ecg200, mitbih_beats
from sklearn_autonet import AutoNetLCNClassifier

MODES = ("n_jobs=1", "n_jobs=2", "dask")


class PeakMemory:
    """Largest total PSS of this process and its children while active (bytes), sampled by a thread."""

    def __init__(self, interval=0.1):
        import psutil

        self.psutil, self.interval, self.peak = psutil, interval, 0
        self._stop = threading.Event()

    def sample(self):
        total = 0
        me = self.psutil.Process()
        for process in [me, *me.children(recursive=True)]:
            try:
                total += process.memory_full_info().pss
            except (self.psutil.NoSuchProcess, self.psutil.AccessDenied):
                pass
        return total

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.sample())
            self._stop.wait(self.interval)

    def __enter__(self):
        self.baseline = self.sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.sample())
        return False


def load(dataset, mitbih_size):
    if dataset == "ecg200":
        X, y, _, _ = ecg200()
        return X, y, None, {}
    X, y, records = mitbih_beats(train_size=mitbih_size)["train"]
    return X, y, records, {"sampling_rate": 360}


def run_one(dataset, mode, mitbih_size, epochs):
    """One search in this process; returns its measurements."""
    X, y, groups, extra = load(dataset, mitbih_size)
    clf = AutoNetLCNClassifier(
        seeds_per_round=2, max_candidates=4, patience=5, max_epochs=epochs, epoch_patience=epochs,
        n_jobs=1 if mode == "n_jobs=1" else 2 if mode == "n_jobs=2" else -1, random_state=0, **extra,
    )
    cluster_seconds = 0.0
    with PeakMemory() as memory:
        if mode == "dask":
            from distributed import Client, LocalCluster

            start = time.perf_counter()
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None)
            client = Client(cluster)
            client.run(lambda: __import__("sklearn_autonet"))  # import torch in the workers first
            cluster_seconds = time.perf_counter() - start
            with joblib.parallel_backend("dask"):
                start = time.perf_counter()
                clf.fit(X, y, groups=groups)
                seconds = time.perf_counter() - start
            client.close()
            cluster.close()
        else:
            start = time.perf_counter()
            clf.fit(X, y, groups=groups)
            seconds = time.perf_counter() - start
    history = clf.search_history_
    return {
        "dataset": dataset,
        "mode": mode,
        "n_train": int(len(y)),
        "search_seconds": seconds,
        "cluster_start_seconds": cluster_seconds,
        "peak_pss_mb": memory.peak / 2**20,
        "baseline_pss_mb": memory.baseline / 2**20,
        "candidates": len(history["candidate"]),
        "epochs": int(sum(history["epochs"])),
        "torch_threads": sorted(set(history["torch_threads"])),
        "validation_scores": history["validation_score"],
        "architecture": clf.architecture_.spec.describe(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["ecg200", "mitbih"], choices=["ecg200", "mitbih"])
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--mitbih-size", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--one", nargs=2, metavar=("DATASET", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(*args.one, args.mitbih_size, args.epochs)))
        return
    rows = []
    for dataset in args.datasets:
        for mode in args.modes:
            command = [sys.executable, __file__, "--one", dataset, mode,
                       "--mitbih-size", str(args.mitbih_size), "--epochs", str(args.epochs)]
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
            print(f"{dataset:7s} {mode:9s} {rows[-1]['search_seconds']:7.1f} s", flush=True)
    print(f"\n{'dataset':8s} {'mode':9s} {'n':>5s} {'search s':>9s} {'speed-up':>8s} {'cluster s':>9s} "
          f"{'peak MB':>8s} {'threads':>7s}  same scores as n_jobs=1")
    for row in rows:
        base = next(r for r in rows if r["dataset"] == row["dataset"] and r["mode"] == "n_jobs=1")
        row["speedup_vs_n_jobs_1"] = base["search_seconds"] / row["search_seconds"]
        row["same_scores_as_n_jobs_1"] = row["validation_scores"] == base["validation_scores"]
        print(f"{row['dataset']:8s} {row['mode']:9s} {row['n_train']:5d} {row['search_seconds']:9.1f} "
              f"{row['speedup_vs_n_jobs_1']:8.2f} {row['cluster_start_seconds']:9.1f} {row['peak_pss_mb']:8.0f} "
              f"{str(row['torch_threads']):>7s}  {row['same_scores_as_n_jobs_1']}")
    meta = {
        "cpu_count": joblib.cpu_count(),
        "torch": torch.__version__,
        "joblib": joblib.__version__,
        "load_average_at_end": list(os.getloadavg()),
        "note": "2-core machine shared with other users while measured: timings are noisy",
        "settings": {"seeds_per_round": 2, "max_candidates": 4, "epochs": args.epochs,
                     "mitbih_size": args.mitbih_size},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "parallel.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1, default=float))
    print(f"wrote {RESULTS / 'parallel.json'}")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
