"""System time of a long-record fit, with and without the allocator setting (``sklearn_autonet.allocator``).

2,400 windows of 30 s from 40 records of ``shared/data/mitdb`` (lead 0, resampled to
100 Hz, rhythm labels), ``AutoNetLCNClassifier(sampling_rate=100, max_candidates=1,
max_epochs=3)``: one candidate, trained in a fresh process each time, once as the package
does it and once with ``AUTONET_MALLOPT=0``.  User and system CPU seconds and minor page
faults of the fit.

    python benchmarks/allocator.py

Writes ``benchmarks/results/allocator.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from data import DATA, RESULTS
from suite import environment

CHILD = r"""
import json, resource, sys, time, warnings
import numpy as np
from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet.ecg import load_windows

warnings.simplefilter("ignore")
records = sorted(p.stem for p in __import__("pathlib").Path(sys.argv[1]).glob("*.hea"))[:40]
data = load_windows(sys.argv[1], records, length=30.0, fs=100, leads=0)
X, y = data.X[:2400], np.asarray(data.y)[:2400]
r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
clf = AutoNetLCNClassifier(sampling_rate=100, max_candidates=1, max_epochs=3, random_state=0).fit(X, y)
r1 = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"n": len(y), "shape": list(X.shape[1:]), "wall_s": time.monotonic() - t0,
                  "user_s": r1.ru_utime - r0.ru_utime, "system_s": r1.ru_stime - r0.ru_stime,
                  "minor_page_faults": r1.ru_minflt - r0.ru_minflt,
                  "architecture": clf.architecture_.spec.describe(),
                  "batch_size": clf.search_history_["batch_size"][0]}))
"""


def main():
    rows = []
    for setting in ("1", "0"):
        env = dict(os.environ, AUTONET_MALLOPT=setting)
        out = subprocess.run([sys.executable, "-c", CHILD, str(DATA / "mitdb")], env=env, check=True,
                             capture_output=True, text=True).stdout
        row = json.loads(out.strip().splitlines()[-1])
        row["allocator_setting"] = "applied (default)" if setting == "1" else "off (AUTONET_MALLOPT=0)"
        row["system_share"] = row["system_s"] / (row["user_s"] + row["system_s"])
        rows.append(row)
        print(row, flush=True)
    path = RESULTS / "allocator.json"
    path.write_text(json.dumps({"command": "python benchmarks/allocator.py", "environment": environment(),
                                "results": rows}, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
