"""Model file size and CPU inference latency of the MIT-BIH beat model (PyTorch and ONNX Runtime).

Fits ``AutoNetLCNClassifier(sampling_rate=360, class_weight="balanced",
max_candidates=2, random_state=0)`` on the DS1 beats of
``shared/data/mitbih_beats`` (classes N, S, V, F; mV, per-beat mean removed;
``groups`` = record), then reports the size of the model file
(:func:`sklearn_autonet.save`), of the pickle and of the ONNX graph, the number of
parameters, and the latency per beat on the CPU: one beat per call and whole
batches, with PyTorch (``predict_proba`` and the bare module) and ONNX Runtime,
each on one thread.  Prints the figures and writes ``benchmarks/results/persistence.json``.

Run: ``python benchmarks/persistence.py`` (a few minutes on a laptop CPU).
"""

from __future__ import annotations

import json
import os
import pickle
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score

import sklearn_autonet
from sklearn_autonet import AutoNetLCNClassifier, load, save
from sklearn_autonet.export import export_onnx

from data import RESULTS as RESULTS_DIR
from data import ROOT, mitbih_beats

RESULTS = RESULTS_DIR / "persistence.json"
CLASS_NAMES = ["N", "S", "V", "F"]


def per_call_seconds(fn, repeats, warmup=20):
    """Median wall-clock seconds of ``fn()`` over ``repeats`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    import onnxruntime as ort

    data, class_names = mitbih_beats(), CLASS_NAMES
    X_train, y_train, groups = data["train"]
    X_test, y_test, _ = data["test"]
    clf = AutoNetLCNClassifier(
        sampling_rate=360, class_weight="balanced", max_candidates=2, random_state=0
    )
    start = time.monotonic()
    clf.fit(X_train, y_train, groups=groups)
    fit_seconds = time.monotonic() - start
    print(clf.architecture_)

    workdir = Path(tempfile.mkdtemp())
    model_path = save(clf, workdir / "mitbih.autonet")
    onnx_path = export_onnx(clf, workdir / "mitbih.onnx")
    pickle_size = len(pickle.dumps(clf))
    loaded = load(model_path)
    proba = clf.predict_proba(X_test)
    identical = bool(np.array_equal(loaded.predict_proba(X_test), proba))

    torch.set_num_threads(1)
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    onnx_proba = session.run(["probabilities"], {"input": X_test})[0]

    module = loaded.net_.module_.eval()
    beat = X_test[:1]
    beat_tensor = torch.from_numpy(beat)
    batch = X_test[:1024]
    batch_tensor = torch.from_numpy(batch)

    def torch_module(x):
        with torch.inference_mode():
            return torch.softmax(module(x), dim=1)

    latency = {
        "pytorch_predict_proba_1_beat_ms": 1e3 * per_call_seconds(lambda: loaded.predict_proba(beat), 300),
        "pytorch_module_1_beat_ms": 1e3 * per_call_seconds(lambda: torch_module(beat_tensor), 1000),
        "onnxruntime_1_beat_ms": 1e3 * per_call_seconds(lambda: session.run(None, {"input": beat}), 1000),
        "pytorch_predict_proba_batch1024_per_beat_us": 1e6
        * per_call_seconds(lambda: loaded.predict_proba(batch), 20, warmup=2) / len(batch),
        "pytorch_module_batch1024_per_beat_us": 1e6
        * per_call_seconds(lambda: torch_module(batch_tensor), 20, warmup=2) / len(batch),
        "onnxruntime_batch1024_per_beat_us": 1e6
        * per_call_seconds(lambda: session.run(None, {"input": batch}), 20, warmup=2) / len(batch),
    }
    weights_values = sum(t.numel() for t in module.state_dict().values())
    results = {
        "model": "AutoNetLCNClassifier(sampling_rate=360, class_weight='balanced', max_candidates=2, random_state=0)",
        "data": "MIT-BIH DS1 -> DS2 beats, classes " + ",".join(class_names) + ", (n, 1, 256), mV, mean removed",
        "n_train": int(len(y_train)),
        "n_test": int(len(y_test)),
        "architecture": clf.architecture_.spec.describe(),
        "n_parameters": int(clf.n_parameters_),
        "state_dict_values": int(weights_values),
        "model_file_bytes": os.path.getsize(model_path),
        "onnx_file_bytes": os.path.getsize(onnx_path),
        "pickle_bytes": pickle_size,
        "fit_seconds": round(fit_seconds, 1),
        "stop_reason": clf.stop_reason_,
        "balanced_accuracy_ds2": round(float(balanced_accuracy_score(y_test, clf.classes_[proba.argmax(1)])), 4),
        "loaded_predictions_identical": identical,
        "onnx_max_abs_diff_proba": float(np.abs(onnx_proba - proba).max()),
        "latency": {k: round(v, 4) for k, v in latency.items()},
        "threads": 1,
        "environment": {
            "sklearn_autonet": sklearn_autonet.__version__,
            "torch": torch.__version__,
            "onnxruntime": ort.__version__,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "processor": platform.processor() or "unknown",
            "cpu_count": os.cpu_count(),
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    json.dump(results, sys.stdout, indent=2)
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
