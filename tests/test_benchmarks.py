"""The side-by-side benchmark harness (benchmarks/): contenders, scoring rows, written results.

These check the machinery on UCR ECG200 with the contenders that need no
``bench`` extra (MiniRocket needs aeon and is exercised by the suites).
"""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import balanced_accuracy_score, f1_score

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from contenders import Task, contenders, n_parameters  # noqa: E402
from suite import run_holdout, write  # noqa: E402
from torch_contenders import RandomCNNSearch, ResNet1DClassifier  # noqa: E402

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def flat_ecg200(ecg200):
    X_train, y_train, X_test, y_test = ecg200
    return X_train.reshape(len(X_train), -1), y_train, X_test.reshape(len(X_test), -1), y_test


def test_resnet_has_millions_of_parameters_and_reads_side_features():
    rng = np.random.RandomState(0)
    X = rng.randn(40, 1 * 64 + 3).astype(np.float32)
    y = np.arange(40) % 2
    model = ResNet1DClassifier(signal_shape=(1, 64), max_epochs=1, random_state=0).fit(X, y)
    counted = sum(p.numel() for p in model.net_.module_.parameters())
    assert model.n_parameters_ == counted > 1_000_000
    # the head takes the trunk's 512 pooled features plus the 3 side features
    assert model.net_.module_.head.in_features == 512 + 3
    proba = model.predict_proba(X)
    assert proba.shape == (40, 2) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert model.epochs_ == 1


def test_random_cnn_search_keeps_the_best_validation_candidate(flat_ecg200):
    X_train, y_train, X_test, y_test = flat_ecg200
    search = RandomCNNSearch(n_candidates=3, max_epochs=15, random_state=0).fit(X_train, y_train)
    scores = [h["valid_score"] for h in search.history_]
    assert len(scores) == 3
    assert search.best_index_ == int(np.argmax(scores))
    best = search.history_[search.best_index_]
    assert search.n_parameters_ == best["n_parameters"] == sum(p.numel() for p in search.net_.module_.parameters())
    assert len(best["filters"]) == len(best["kernels"]) == len(search.net_.module_.trunk) // 4
    # candidates differ: the draws are random, not one architecture three times
    assert len({tuple(h["filters"]) + tuple(h["kernels"]) for h in search.history_}) == 3
    assert set(search.predict(X_test)) <= set(y_train)
    assert balanced_accuracy_score(y_test, search.predict(X_test)) > 0.6


def test_holdout_row_scores_the_contenders_own_predictions(flat_ecg200, tmp_path):
    X_train, y_train, X_test, y_test = flat_ecg200
    task = Task(signal_shape=(1, 96))
    row = run_holdout(task, "HistGB", (X_train, y_train), (X_test, y_test))
    # the same model fitted here predicts what the child process predicted
    model = contenders(task)["HistGB"]().fit(X_train, y_train)
    y_pred = model.predict(X_test)
    assert row["accuracy"] == pytest.approx(np.mean(y_pred == y_test))
    assert row["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y_test, y_pred))
    assert row["macro_f1"] == pytest.approx(f1_score(y_test, y_pred, average="macro"))
    assert row["n_parameters"] == n_parameters(model) > 0
    assert row["fit_seconds"] > 0 and row["peak_rss_mb"] >= row["rss_before_fit_mb"] > 0
    assert set(row) >= {"recall_-1", "recall_1", "predict_ms_per_1000"}

    path = write("unit", {"ECG200": {"target": 0.9, "results": [row]}}, "pytest", results_dir=tmp_path)
    saved = json.loads(path.read_text())
    assert saved["datasets"]["ECG200"]["results"][0]["accuracy"] == row["accuracy"]
    assert saved["environment"]["torch"] == torch.__version__
    assert "| HistGB |" in (tmp_path / "unit.md").read_text()
    assert (tmp_path / "unit_ECG200.png").stat().st_size > 1000


def test_autonet_contender_is_the_estimator_with_defaults():
    task = Task(signal_shape=(1, 256), n_side=4, sampling_rate=360, balanced=True)
    model = contenders(task)["AutoNet"]()
    params = model.get_params()
    assert params["signal_shape"] == (1, 256) and params["sampling_rate"] == 360
    assert params["class_weight"] == "balanced"
    from sklearn_autonet import AutoNetLCNClassifier

    defaults = AutoNetLCNClassifier().get_params()
    changed = {k for k in params if params[k] != defaults[k]}
    assert changed == {"signal_shape", "sampling_rate", "class_weight", "random_state"}
    # tabular: behind a StandardScaler; no signal contenders
    assert set(contenders(Task(signal_shape=None))) == {"AutoNet", "HistGB", "MLP"}


def _partial(tmp_path, name, rows, source="beats"):
    block = {"train": "DS1", "test": "DS2", "source": source, "score": "balanced_accuracy", "target": 0.83,
             "seeds": sorted({s for r in rows for s in r["seeds"]}), "results": rows}
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"suite": "mitbih_partial", "command": f"run {name}", "datasets": {"ds1_ds2": block}}))
    return path


def _row(name, bacc, seeds, fit, params):
    """An aggregated row as suite.aggregate writes it: means, and the per-seed rows under ``runs``."""
    runs = [{"contender": name, "seed": seed, "balanced_accuracy": bacc, "fit_seconds": fit, "n_parameters": params}
            for seed in seeds]
    return {"contender": name, "seeds": seeds, "balanced_accuracy": bacc, "balanced_accuracy_sd": 0.0,
            "balanced_accuracy_per_seed": [bacc] * len(seeds), "fit_seconds": fit, "n_parameters": params,
            "runs": runs}


def test_mitbih_combine_joins_partial_runs_and_recomputes_the_targets(tmp_path):
    import mitbih

    a = _partial(tmp_path, "a", [_row("AutoNet", 0.74, [0, 1, 2], 400.0, 2000), _row("HistGB", 0.75, [0, 1, 2], 30, 9)])
    b = _partial(tmp_path, "b", [_row("ResNet1D", 0.40, [0], 900.0, 8_000_000)])
    out = tmp_path / "out"
    saved = json.loads(mitbih.combine([a, b], "combine", results_dir=out).read_text())
    block = saved["datasets"]["ds1_ds2"]
    assert saved["suite"] == "mitbih" and [r["contender"] for r in block["results"]] == ["AutoNet", "HistGB", "ResNet1D"]
    assert block["commands"] == ["run a", "run b"] and block["seeds"] == [0, 1, 2]
    assert block["targets"] == {"balanced_accuracy >= 0.83": False, "best of all contenders": False,
                                "search under 15 min": True, "under 5% of the ResNet's parameters": True,
                                "search no longer than one ResNet training": True}
    assert block["parameter_ratio_to_resnet"] == pytest.approx(2000 / 8_000_000)
    with pytest.raises(SystemExit, match=r"AutoNet has seed\(s\) \[0, 1, 2\] in several files"):
        mitbih.combine([a, a], "combine", results_dir=out)
    # the ResNet's seeds 1 and 2 from a later run join its seed 0: one row over three seeds
    c = _partial(tmp_path, "c", [_row("ResNet1D", 0.46, [1, 2], 800.0, 8_000_000)])
    joined = json.loads(mitbih.combine([out / "mitbih.json", c], "again", results_dir=out).read_text())
    block = joined["datasets"]["ds1_ds2"]
    resnet = next(r for r in block["results"] if r["contender"] == "ResNet1D")
    assert resnet["seeds"] == [0, 1, 2] and resnet["balanced_accuracy"] == pytest.approx((0.40 + 2 * 0.46) / 3)
    assert resnet["fit_seconds"] == pytest.approx((900 + 2 * 800) / 3)
    assert block["commands"] == ["run a", "run b", "run c"]
    raw = _partial(tmp_path, "raw", [_row("MLP", 0.7, [0], 5, 10)], source="raw2")
    with pytest.raises(SystemExit, match="different sources"):
        mitbih.combine([a, raw], "combine", results_dir=out)


def _gpu_run(tmp_path, name, rows):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"command": f"run {name}", "environment": {"gpu": "test"}, "proof": [],
                                "timings": rows}))
    return path


def _gpu_row(name, seed, bacc, precision="float32"):
    return {"contender": name, "precision": precision, "seed": seed, "fit_seconds": 10.0 + seed,
            "balanced_accuracy": bacc, "recall_N": 1.0, "recall_S": 1.0, "recall_V": 1.0, "recall_F": 0.0,
            "n_parameters": 100 * (seed + 1), "gpu_peak_mb": 50.0 * (seed + 1)}


def test_gpu_combine_counts_the_last_run_of_a_repeated_seed(tmp_path):
    """benchmarks/gpu.py --combine: runs joined in order; a seed run twice counts once, by its last run."""
    import gpu

    a = _gpu_run(tmp_path, "a", [_gpu_row("AutoNet", 0, 0.8), _gpu_row("AutoNet", 1, 0.7)])
    b = _gpu_run(tmp_path, "b", [_gpu_row("AutoNet", 1, 0.6), _gpu_row("AutoNet", 0, 0.5, "bfloat16")])
    result = gpu.combine([a, b], tmp_path / "out")
    assert [r["run"] for r in result["timings"]] == [0, 0, 1, 1] and result["commands"] == ["run a", "run b"]
    by_key = {(r["contender"], r["precision"]): r for r in result["aggregate"]}
    f32 = by_key["AutoNet", "float32"]
    assert f32["seeds"] == [0, 1] and f32["per_seed"] == [0.8, 0.6]  # seed 1's second run, not its first
    assert f32["balanced_accuracy"] == pytest.approx(0.7) and f32["balanced_accuracy_sd"] == pytest.approx(0.1414, abs=1e-4)
    assert f32["gpu_peak_mb"] == 100.0 and f32["fit_seconds"] == pytest.approx(10.5)
    assert np.isnan(by_key["AutoNet", "bfloat16"]["balanced_accuracy_sd"])  # one seed: no spread
    table = (tmp_path / "out" / "gpu.md").read_text()
    assert "| AutoNet | float32 | 0 1 | 0.700 ± 0.141 | 0.800 / 0.600 |" in table
    assert json.loads((tmp_path / "out" / "gpu.json").read_text())["aggregate"] == json.loads(json.dumps(result["aggregate"]))


def test_mitbih_autonet_variant_parameters():
    """mitbih.py --autonet KEY=VALUE: literals parsed, bare words kept as strings, the factory builds the variant."""
    import mitbih

    params = mitbih.autonet_params(["validation_fraction=0.4", "ensemble_size=1", "refit=auto", "max_width=None"])
    assert params == {"validation_fraction": 0.4, "ensemble_size": 1, "refit": "auto", "max_width": None}
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        mitbih.autonet_params(["validation_fraction"])
    make = contenders(Task(signal_shape=(1, 256), n_side=4, sampling_rate=360, balanced=True))
    model = make["AutoNet"](random_state=3, **params)
    assert model.get_params()["validation_fraction"] == 0.4 and model.random_state == 3
    assert model.signal_shape == (1, 256) and model.class_weight == "balanced"
    assert make["ResNet1D"](max_time=5, device="cpu").get_params()["device"] == "cpu"  # gpu.py's device
    assert make["RandomCNN"](n_candidates=3, device="cpu").get_params()["device"] == "cpu"


def test_validation_folds_holds_the_searchs_own_split_and_imposed_folds_are_used():
    """validation_folds.py: for every seed the hold-out the search makes itself is one of its
    folds (the one it marks), and a fit on an imposed fold trains its search on that fold's
    training part."""
    from unittest import mock

    import validation_folds

    rng = np.random.RandomState(0)
    groups = np.repeat(np.arange(20), 20 + 3 * np.arange(20))  # records of different sizes
    n = len(groups)
    y = (rng.rand(n) < rng.rand(20)[groups]).astype(int) + 2 * (rng.rand(n) < 0.2)
    folds = validation_folds.record_folds(y, groups)
    assert len(folds) == validation_folds.N_FOLDS
    X = rng.randn(n, 36).astype(np.float32)
    task = Task(signal_shape=(1, 32), n_side=4, sampling_rate=360, balanced=True)
    real = validation_folds.estimator_module.validation_split
    picked = set()
    for seed in (0, 1, 7):
        folds_of_seed = validation_folds.record_folds(y, groups, seed)
        k = validation_folds.searchs_fold(y, groups, seed, folds_of_seed)
        seen = []
        with mock.patch.object(validation_folds.estimator_module, "validation_split",
                               lambda *a, **kw: seen.append(real(*a, **kw)) or seen[-1]):
            validation_folds.contenders(task, ["AutoNet"])["AutoNet"](
                random_state=seed, max_candidates=1, max_epochs=1).fit(X, y, groups=groups)
        assert np.array_equal(seen[0][1], folds_of_seed[k][1]) and np.array_equal(seen[0][0], folds_of_seed[k][0])
        picked.add(tuple(np.unique(groups[seen[0][1]])))
    assert len(picked) > 1  # other seeds, other records
    assert len(folds[3][0]) != len(folds[0][0])
    row = validation_folds.fit_on_fold(task, {"max_candidates": 1, "max_epochs": 1}, 0, (X, y), (X[:50], y[:50]),
                                       groups, folds[3])
    assert row["n_fit"] == len(folds[3][0])  # the search trained on fold 3's training part
    assert 0.0 <= row["balanced_accuracy"] <= 1.0 and row["candidates"] == 1
    assert validation_folds.estimator_module.validation_split is real  # the replacement ends with the fit


def test_ucr_autonet_variant_goes_to_autonet_and_to_its_own_files(monkeypatch):
    """ucr.py --autonet KEY=VALUE: AutoNet's factory gets the variant, the block records it, and
    the run is written as a partial (or under --name), never over the full results."""
    import ucr

    rng = np.random.RandomState(0)
    X = rng.randn(40, 1, 24).astype(np.float32)
    y = np.repeat([1, 2], 20)
    monkeypatch.setattr(ucr, "ucr", lambda name: (X, y, X, y))
    seen, written = {}, []
    monkeypatch.setattr(ucr, "run_holdout_seeds", lambda task, names, seeds, train, test, **kw: seen.update(kw) or [])
    monkeypatch.setattr(ucr, "write", lambda suite, blocks, command: written.append((suite, blocks)))
    ucr.main(["--datasets", "ECG200", "--contenders", "AutoNet", "--autonet", "max_candidates=1", "halving=False"])
    ucr.main(["--autonet", "ensemble_size=1", "--name", "ucr_first"])
    assert seen["factory_kwargs"] == {"AutoNet": {"ensemble_size": 1}}
    assert [w[0] for w in written] == ["ucr_partial", "ucr_first"]
    assert written[0][1]["ECG200"]["autonet_params"] == {"max_candidates": 1, "halving": False}
