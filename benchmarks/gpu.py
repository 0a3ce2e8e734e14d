"""The CUDA path on real ECG, and GPU timings (run it on a machine with a CUDA device).

Part 1, the proof, on the embedded MIT-BIH beats (DS1 records to train, DS2
records to test, as the demo, on a small budget): AutoNet fits on ``"cuda"`` in
float32 with ``groups`` (the search's networks are the model) and in bfloat16
without them (so ``refit="auto"`` retrains the ensemble on CUDA too).  For each
it checks that every member's parameters live on the GPU and that the
probabilities are finite and sum to one, then saves the model (``save_model``),
pickles it and, in float32, exports ONNX.  A child process that sees **no** CUDA
device (``CUDA_VISIBLE_DEVICES=""``) loads the file and the pickle and predicts
the same test beats; the figures are the largest probability difference and
the share of labels that agree with the GPU's.

Part 2, timings, on the full shared MIT-BIH DS1 -> DS2 rows of
``benchmarks/mitbih.py`` (beat + RR, validation split by record): per seed,
AutoNet float32, the fixed ResNet (``--resnet-max-time``), RandomCNN with as many
candidates as AutoNet trained, and AutoNet bfloat16, all on CUDA; fit seconds,
balanced accuracy and the GPU's peak memory.  ``--deadline`` (seconds from the
start) stops it from starting a fit it may not finish; every step is written
as soon as it ends, so a run cut short keeps what it did.

    python benchmarks/gpu.py --out /tmp/cuda           # both parts, seed 0
    python benchmarks/gpu.py --parts proof             # only the proof (about a minute)
    python benchmarks/gpu.py --device cpu --train-size 2000 --max-candidates 1 --max-epochs 1 --out /tmp/c
                                                        # a smoke test of the script without a GPU

Writes ``gpu.json`` and ``gpu.md`` into ``--out`` (default ``benchmarks/results``);
``--combine A.json B.json ...`` joins the files of several runs (a GPU lease can be
shorter than the whole run) into one, and its table over the seeds counts the last
run of a seed that ran twice (the earlier one stays listed: on CUDA a rerun is the
same only up to float rounding).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score

from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet.datasets import load_mitbih_beats
from sklearn_autonet.persistence import save_model

RESULTS = Path(__file__).resolve().parent / "results"
STEPS = ("AutoNet-float32", "ResNet1D-float32", "RandomCNN-float32", "AutoNet-bfloat16")

_CHILD = r"""
import pickle, sys
import numpy as np, torch
from sklearn_autonet.persistence import load_model
assert not torch.cuda.is_available(), "the child must see no CUDA device"
model_path, pickle_path, X_path, out_path = sys.argv[1:5]
X = np.load(X_path)
loaded = load_model(model_path)
with open(pickle_path, "rb") as f:
    unpickled = pickle.load(f)
np.savez(out_path, loaded=loaded.predict_proba(X), unpickled=unpickled.predict_proba(X),
         loaded_labels=loaded.predict(X), unpickled_labels=unpickled.predict(X))
"""


def proof(out, max_candidates, max_epochs, device):
    """Part 1: fit on CUDA, then load and predict in a process without CUDA."""
    train, test = load_mitbih_beats("train"), load_mitbih_beats("test")
    rows = []
    for precision, groups in (("float32", train.groups), ("bfloat16", None)):
        clf = AutoNetLCNClassifier(
            signal_shape=train.signal_shape, sampling_rate=train.sampling_rate, class_weight="balanced",
            device=device, precision=precision, max_candidates=max_candidates, max_epochs=max_epochs,
            random_state=0,
        )
        start = time.perf_counter()
        clf.fit(train.data, train.target, groups=groups)
        fit_seconds = time.perf_counter() - start
        proba = clf.predict_proba(test.data)
        labels = clf.predict(test.data)
        row = {
            "precision": precision, "groups": groups is not None, "refitted": clf.n_fit_ == len(train.target),
            "fit_seconds": fit_seconds, "n_members": len(clf.ensemble_weights_),
            "n_parameters": int(clf.n_parameters_),
            "parameters_on_device": all(p.device.type == device for p in clf.net_.module_.parameters()),
            "proba_finite": bool(np.isfinite(proba).all()),
            "proba_sums_to_one": float(np.abs(proba.sum(axis=1) - 1).max()),
            "balanced_accuracy": balanced_accuracy_score(test.target, labels),
        }
        model_path, pickle_path = out / f"gpu_{precision}.autonet", out / f"gpu_{precision}.pkl"
        save_model(clf, model_path)
        pickle_path.write_bytes(pickle.dumps(clf))
        np.save(out / "X_test.npy", test.data.astype(np.float32))
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
        child = subprocess.run([sys.executable, "-c", _CHILD, str(model_path), str(pickle_path),
                                str(out / "X_test.npy"), str(out / "cpu.npz")],
                               env=env, capture_output=True, text=True)
        row["cpu_load_ok"] = child.returncode == 0
        if child.returncode:
            row["cpu_load_error"] = child.stderr[-2000:]
        else:
            cpu = np.load(out / "cpu.npz")
            for kind in ("loaded", "unpickled"):
                row[f"cpu_{kind}_max_proba_diff"] = float(np.abs(cpu[kind] - proba).max())
                row[f"cpu_{kind}_label_agreement"] = float(np.mean(cpu[f"{kind}_labels"] == labels))
        if precision == "float32":
            try:
                import onnxruntime as ort

                from sklearn_autonet.export import export_onnx

                onnx_path = out / "gpu_float32.onnx"
                export_onnx(clf, onnx_path)
                session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
                onnx_proba = session.run(None, {session.get_inputs()[0].name: test.data.astype(np.float32)})[0]
                row["onnx_max_proba_diff"] = float(np.abs(onnx_proba - proba).max())
            except ImportError as exc:
                row["onnx_skipped"] = str(exc)
        for path in (model_path, pickle_path, out / "X_test.npy", out / "cpu.npz", out / "gpu_float32.onnx"):
            path.unlink(missing_ok=True)
        print("proof:", json.dumps(row), flush=True)
        rows.append(row)
    return rows


def timings(which, seeds, resnet_max_time, deadline, started, record, device, train_size):
    """Part 2: the MIT-BIH suite's rows (``suite.run_holdout``) on ``device``; ``record(row)`` after every fit."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from data import mitbih_beats
    from mitbih import CLASSES, suite_rows
    from suite import run_holdout

    task, train, test, g_tr = suite_rows(mitbih_beats(train_size=train_size, rr=True))
    for seed in seeds:
        n_candidates = 10  # RandomCNN: as many as AutoNet trained with this seed, once it has run
        for step in (s for s in STEPS if s in which):
            name, precision = step.split("-")
            if time.perf_counter() - started > deadline:
                print(f"deadline: {name} {precision} seed {seed} not started", flush=True)
                return
            kwargs = {"device": device}
            if precision != "float32":
                kwargs["precision"] = precision
            if name == "ResNet1D":
                kwargs["max_time"] = resnet_max_time
            if name == "RandomCNN":
                kwargs["n_candidates"] = n_candidates
            row = run_holdout(task, name, train, test, groups=g_tr, class_names=CLASSES, seed=seed, **kwargs)
            row = {"contender": name, "precision": precision, **row}
            row.setdefault("gpu_peak_mb", float("nan"))  # run on a CPU (a smoke test)
            if step == "AutoNet-float32":
                n_candidates = row["candidates"]
            print("timing:", json.dumps({k: v for k, v in row.items() if k != "search_history"}), flush=True)
            record(row)


def aggregate(rows):
    """Mean ± sd over the seeds per (contender, precision); of a seed run twice, the last run counts."""
    last = {(r["contender"], r["precision"], r["seed"]): r for r in rows}
    out = {}
    for (name, precision, _), r in last.items():
        out.setdefault((name, precision), []).append(r)
    table = []
    for (name, precision), runs in out.items():
        bacc = np.array([r["balanced_accuracy"] for r in runs])
        table.append({"contender": name, "precision": precision, "seeds": [r["seed"] for r in runs],
                      "balanced_accuracy": float(bacc.mean()), "balanced_accuracy_sd": float(bacc.std(ddof=1))
                      if len(bacc) > 1 else float("nan"), "per_seed": bacc.tolist(),
                      "fit_seconds": float(np.mean([r["fit_seconds"] for r in runs])),
                      "n_parameters": float(np.mean([r["n_parameters"] for r in runs])),
                      "gpu_peak_mb": float(np.max([r["gpu_peak_mb"] for r in runs]))})
    return table


def _markdown(result):
    commands = result.get("commands", [result["command"]])
    lines = ["# CUDA path and GPU timings", "", "Commands: " + "; ".join(f"`{c}`" for c in commands), "",
             f"Machine: {result['environment']}", "", "## Proof (embedded MIT-BIH beats, small budget)", ""]
    for row in result["proof"]:
        lines.append("- " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))
    lines += ["", "## Over the seeds (full MIT-BIH DS1 -> DS2, on CUDA)", "",
              "| contender | precision | seeds | balanced acc. (mean ± sd) | per seed | fit s (mean) | parameters "
              "(mean) | GPU peak MB (max) |", "|---|---|---|---|---|---|---|---|"]
    for r in aggregate(result["timings"]):
        lines.append(f"| {r['contender']} | {r['precision']} | {' '.join(map(str, r['seeds']))} | "
                     f"{r['balanced_accuracy']:.3f} ± {r['balanced_accuracy_sd']:.3f} | "
                     f"{' / '.join(f'{v:.3f}' for v in r['per_seed'])} | {r['fit_seconds']:.1f} | "
                     f"{r['n_parameters']:,.0f} | {r['gpu_peak_mb']:,.0f} |")
    lines += ["", "## Every fit, in the order run (full MIT-BIH DS1 -> DS2, on CUDA)", "",
              "| contender | precision | seed | fit s | balanced acc. | recalls N/S/V/F | parameters | GPU peak MB |",
              "|---|---|---|---|---|---|---|---|"]
    for r in result["timings"]:
        lines.append(f"| {r['contender']} | {r['precision']} | {r['seed']} | {r['fit_seconds']:.1f} | "
                     f"{r['balanced_accuracy']:.3f} | {r['recall_N']:.2f}/{r['recall_S']:.2f}/{r['recall_V']:.2f}/"
                     f"{r['recall_F']:.2f} | {r['n_parameters']:,} | {r['gpu_peak_mb']:.0f} |")
    return "\n".join(lines) + "\n"


def _write(out, result):
    out.mkdir(parents=True, exist_ok=True)
    for name, text in (("gpu.json", json.dumps(result, indent=1)), ("gpu.md", _markdown(result))):
        tmp = out / (name + ".tmp")
        tmp.write_text(text)
        tmp.replace(out / name)


def combine(paths, out):
    """One result of several runs' files: their proofs and fits in order, each fit tagged with its run."""
    files = [json.loads(Path(p).read_text()) for p in paths]
    result = {"command": "python benchmarks/gpu.py --combine " + " ".join(map(str, paths)),
              "commands": [f["command"] for f in files], "environment": files[0]["environment"],
              "proof": [r for f in files for r in f["proof"]],
              "timings": [dict(r, run=i) for i, f in enumerate(files) for r in f["timings"]],
              "aggregate": None}
    result["aggregate"] = aggregate(result["timings"])
    _write(out, result)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", choices=("proof", "timings"), default=["proof", "timings"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--contenders", nargs="+", default=list(STEPS), choices=STEPS,
                        help="the timed fits, in this order per seed")
    parser.add_argument("--max-candidates", type=int, default=3, help="the proof's search budget")
    parser.add_argument("--max-epochs", type=int, default=10, help="the proof's epochs per candidate")
    parser.add_argument("--resnet-max-time", type=float, default=900.0)
    parser.add_argument("--deadline", type=float, default=float("inf"),
                        help="seconds from the start after which no fit starts")
    parser.add_argument("--device", default="cuda", help="cpu: a smoke test of this script without a GPU")
    parser.add_argument("--train-size", type=int, default=None, help="subsample DS1 (smoke tests only)")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--combine", nargs="+", default=None, metavar="JSON",
                        help="join the results of several runs (e.g. one machine lease each) into --out")
    args = parser.parse_args(argv)
    if args.combine:
        return combine(args.combine, Path(args.out))
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("benchmarks/gpu.py needs a CUDA device (torch.cuda.is_available() is False)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    import sklearn

    result = {
        "command": "python benchmarks/gpu.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "environment": {"gpu": torch.cuda.get_device_name(0) if args.device == "cuda" else None, "torch": torch.__version__,
                        "cuda": torch.version.cuda, "sklearn": sklearn.__version__, "cpu_count": os.cpu_count(),
                        "date": time.strftime("%Y-%m-%d")},
        "proof": [], "timings": [],
    }

    def save():
        _write(out, result)

    if "proof" in args.parts:
        result["proof"] = proof(out, args.max_candidates, args.max_epochs, args.device)
        save()
    if "timings" in args.parts:
        timings(args.contenders, args.seeds, args.resnet_max_time, args.deadline, started,
                lambda row: (result["timings"].append(row), save()), args.device, args.train_size)
    save()
    return result


if __name__ == "__main__":
    main()
