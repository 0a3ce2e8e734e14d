"""The bound's counting rule: ``"samples"`` against ``"outputs"``, three seeds, and the convexity probe under both.

Both readings of the layer-wise bound ``P_l <= rho * N_eq`` stay in the package
(``docs/method.md``): ``"samples"`` counts one equation per training sample,
``"outputs"`` one per output value of the layer (``N_fit x L_out``; the same as
``"samples"`` for dense layers and the head).  This script measures both with
every other parameter at its default:

* test balanced accuracy (mean +- sd over ``random_state`` 0, 1, 2), the
  parameters of the whole model, the candidates trained and the fit time, on
  UCR ECG200 and ECGFiveDays (official splits) and, with ``--datasets ...
  MIT-BIH``, the embedded MIT-BIH beats (DS1 -> DS2, RR side features);
* the convexity probe (:func:`sklearn_autonet.convexity_probe.probe_convexity`)
  on every layer of the selected network (the first ensemble member) of the
  seed-0 fit of the first data set, under each rule: midpoint-convexity
  violations among 100 random segments and the extreme Hessian eigenvalues.

    python benchmarks/counting.py [--datasets ECG200 ECGFiveDays MIT-BIH] [--seeds 0 1 2]

Writes ``benchmarks/results/counting.json`` and ``counting.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import RESULTS, search_task  # noqa: E402
from recipe import markdown, run  # noqa: E402

from sklearn_autonet import AutoNetLCNClassifier  # noqa: E402
from sklearn_autonet.convexity_probe import probe_convexity  # noqa: E402

RULES = {"samples": {"counting": "samples"}, "outputs": {"counting": "outputs"}}


def probes(dataset, seed=0):
    """Probe rows for every layer of the seed's selected network, under each rule."""
    X_train, y_train, _, _, fit_kwargs, params = search_task(dataset)
    rows = []
    for rule, setting in RULES.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = AutoNetLCNClassifier(**params, **setting, random_state=seed, device="cpu").fit(
                X_train, y_train, **fit_kwargs)
        members = getattr(clf.architecture_, "members", [clf.architecture_])
        first = members[0]
        for layer in range(len(first.spec.layers)):
            probe = probe_convexity(clf, X_train, y_train, layer, random_state=seed, member=0)
            rows.append({"dataset": dataset, "rule": rule, "architecture": first.spec.describe(), **probe.__dict__})
            print(rule, rows[-1], flush=True)
    return rows


def probe_markdown(rows):
    lines = ["| rule | network | layer | parameters | violations / segments | min eigenvalue | max eigenvalue |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        eig = [("-" if v is None else f"{v:.3g}") for v in (r["min_eigenvalue"], r["max_eigenvalue"])]
        lines.append(f"| {r['rule']} | {r['architecture']} | {r['layer']} | {r['n_parameters']} | "
                     f"{r['n_violations']} / {r['n_segments']} | {eig[0]} | {eig[1]} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["ECG200", "ECGFiveDays"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", default="counting")
    args = parser.parse_args(argv)
    rows = run(args.datasets, args.seeds, list(RULES), list(RULES), table=RULES)
    probe_rows = probes(args.datasets[0], seed=args.seeds[0])
    command = ("python benchmarks/counting.py " + " ".join(argv or sys.argv[1:])).strip()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps({"command": command, "results": rows,
                                                          "probes": probe_rows}, indent=1, default=float))
    text = (f"# counting rule\n\nReproduce: `{command}`\n\n{markdown(rows)}\n\n"
            f"Convexity probe, {args.datasets[0]}, seed {args.seeds[0]}:\n\n{probe_markdown(probe_rows)}\n")
    (RESULTS / f"{args.out}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
