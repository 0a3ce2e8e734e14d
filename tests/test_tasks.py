"""Execution of one candidate: devices, thread caps, out-of-memory retries, the task's result."""

import math

import joblib
import numpy as np
import pytest
import torch

from sklearn_autonet import tasks
from sklearn_autonet.hyperparameters import DataProperties, network_spec
from sklearn_autonet.training import TrainingSettings

PROPS = DataProperties(n_fit=60, input_kind="signal", input_shape=(2, 32), n_classes=3)
SETTINGS = TrainingSettings(max_epochs=2, batch_size=16, device="cpu")


@pytest.fixture
def arrays(signals):
    X, y = signals
    y = y.astype(np.int64)
    w = np.ones(len(y))
    return X[:60], y[:60], w[:60], X[60:], y[60:], w[60:]


def test_devices_go_round_robin_over_visible_gpus(monkeypatch):
    assert tasks.resolve_device("cpu") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert tasks.task_devices("auto", "cuda", 3, n_workers=2) == ["cuda:0", "cuda:1", "cuda:0"]
    assert tasks.task_devices("cuda", "cuda", 2, n_workers=2) == ["cuda:0", "cuda:1"]
    assert tasks.task_devices("cuda:1", "cuda:1", 2, n_workers=2) == ["cuda:1", "cuda:1"]
    assert tasks.task_devices("auto", "cuda", 2, n_workers=1) == ["auto", "auto"]  # resolved in the worker
    assert tasks.resolve_device("auto") == "cuda"
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert tasks.task_devices("auto", "cuda", 2, n_workers=2) == ["auto", "auto"]


def test_threads_per_task_share_the_cores():
    assert tasks.threads_per_task(1) == joblib.cpu_count()
    assert tasks.threads_per_task(2) == max(1, joblib.cpu_count() // 2)
    assert tasks.threads_per_task(10**6) == 1


def test_a_task_returns_cpu_weights_a_score_and_restores_threads(arrays):
    spec = network_spec(PROPS, 1, 4)
    before = torch.get_num_threads()
    result = tasks.train_task(spec, 0, "cpu", 1, None, None, SETTINGS, "accuracy", *arrays)
    assert torch.get_num_threads() == before
    assert result.error == "" and result.torch_threads == 1 and result.device == "cpu"
    assert 0 <= result.score <= 1
    assert set(result.state) == set(tasks.rebuild_net(spec, result.state, 0, 60, SETTINGS).module_.state_dict())
    assert all(t.device.type == "cpu" for t in result.state.values())
    assert len(result.history) == result.info["epochs"] == 2


def test_a_task_with_the_same_seed_is_repeatable(arrays):
    spec = network_spec(PROPS, 1, 4)
    a = tasks.train_task(spec, 7, "cpu", 1, None, None, SETTINGS, "accuracy", *arrays)
    b = tasks.train_task(spec, 7, "cpu", 1, None, None, SETTINGS, "accuracy", *arrays)
    c = tasks.train_task(spec, 8, "cpu", 1, None, None, SETTINGS, "accuracy", *arrays)
    assert all(torch.equal(a.state[k], b.state[k]) for k in a.state)
    assert not all(torch.equal(a.state[k], c.state[k]) for k in a.state)


def test_out_of_memory_halves_the_batch_until_it_fits(arrays, monkeypatch):
    real, seen = tasks.train_candidate, []

    def fake(spec, train, valid, settings, **kwargs):
        seen.append(settings.batch_size)
        if settings.batch_size > 4:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (injected)")
        return real(spec, train, valid, settings, **kwargs)

    monkeypatch.setattr(tasks, "train_candidate", fake)
    X, y, w, Xv, yv, wv = arrays
    with pytest.warns(RuntimeWarning, match="retrying with batch_size=8"):
        net, info, error = tasks.train_safely(network_spec(PROPS, 1, 4), (X, y, w), (Xv, yv, wv),
                                              SETTINGS, 0, None, None)
    assert error is None and seen == [16, 8, 4] and info["batch_size"] == 4


def test_out_of_memory_below_two_samples_is_a_failure(arrays, monkeypatch):
    def fake(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory (injected)")

    monkeypatch.setattr(tasks, "train_candidate", fake)
    X, y, w, Xv, yv, wv = arrays
    with pytest.warns(RuntimeWarning):
        net, info, error = tasks.train_safely(network_spec(PROPS, 1, 4), (X, y, w), (Xv, yv, wv),
                                              SETTINGS.replace(batch_size=4), 0, None, None)
    assert net is None and "out of memory even with batch_size=2" in error
    assert info["epochs"] == 0 and info["batch_size"] == 2


def test_any_other_exception_is_a_recorded_failure(arrays, monkeypatch):
    monkeypatch.setattr(tasks, "train_candidate", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    result = tasks.train_task(network_spec(PROPS, 1, 4), 0, "cpu", None, None, None, SETTINGS, "accuracy", *arrays)
    assert result.error == "RuntimeError: boom" and result.state is None and math.isnan(result.score)


def test_rebuild_net_predicts_with_the_weights_and_leaves_the_rng_alone(arrays):
    spec = network_spec(PROPS, 1, 4)
    result = tasks.train_task(spec, 0, "cpu", None, None, None, SETTINGS, "accuracy", *arrays)
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    net = tasks.rebuild_net(spec, result.state, 0, 60, SETTINGS)
    assert torch.equal(torch.rand(3), expected)
    again = tasks.rebuild_net(spec, result.state, 0, 60, SETTINGS)
    X = arrays[3]
    np.testing.assert_array_equal(net.predict_proba(X), again.predict_proba(X))
