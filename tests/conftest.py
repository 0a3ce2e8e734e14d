"""Shared fixtures: the real ECG data in ../shared/data and small synthetic signals."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch

SHARED_DATA = Path(
    os.environ.get("AUTONET_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
).resolve()


def _missing(message, hint="set AUTONET_SHARED_DATA to run these tests"):
    """Fail in CI (CI=true), where the data is always present; skip elsewhere, saying why."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + "; CI always has it")
    pytest.skip(f"{message}; {hint}")


@pytest.fixture(scope="session")
def shared_data():
    """Path of ``../shared/data``; fails in CI (CI=true) when it is missing, skips elsewhere."""
    if not SHARED_DATA.is_dir():
        _missing(f"real ECG data not found at {SHARED_DATA} (the project's shared/data folder)")
    return SHARED_DATA


def shared_folder(shared_data, name):
    """``shared_data / name``, failing in CI and skipping elsewhere when that folder is missing.

    An older copy of ``shared/data`` lacks folders added since (``mitdb/``,
    all 48 records, came later than ``mitdb_wfdb/``).
    """
    folder = shared_data / name
    if not folder.is_dir():
        _missing(f"{folder} not found (a copy of shared/data without {name}/)",
                 "point AUTONET_SHARED_DATA at a full copy to run these tests")
    return folder


@pytest.fixture(scope="session")
def ecg200(shared_data):
    """UCR ECG200, official split, as (n, 1, 96) signals."""
    folder = shared_data / "ucr_ECG200"
    train = np.loadtxt(folder / "ECG200_TRAIN.tsv.gz")
    test = np.loadtxt(folder / "ECG200_TEST.tsv.gz")
    return (
        train[:, None, 1:].astype(np.float32),
        train[:, 0].astype(int),
        test[:, None, 1:].astype(np.float32),
        test[:, 0].astype(int),
    )


def on_module_device(module, X):
    """``X`` as a float32 tensor on ``module``'s device (CUDA when the fit ran there: ``device="auto"``)."""
    return torch.as_tensor(X, dtype=torch.float32, device=next(module.parameters()).device)


def assert_same_fit(actual, desired):
    """Two fits with the same ``random_state`` give the same probabilities.

    Bit for bit on CPU; on CUDA up to float rounding (the GPU's kernels do not
    add in a fixed order, docs/gpu.md "Reproducibility"), which a test
    machine with a GPU uses under ``device="auto"``.
    """
    if torch.cuda.is_available():
        np.testing.assert_allclose(actual, desired, rtol=0, atol=1e-5)
    else:
        np.testing.assert_array_equal(actual, desired)


def make_signals(n=90, leads=2, length=32, seed=0):
    """Three classes of noisy multi-lead signals told apart by their frequency."""
    rng = np.random.RandomState(seed)
    y = np.arange(n) % 3
    t = np.arange(length) / length
    freq = np.array([1.0, 3.0, 6.0])[y]
    phase = rng.uniform(0, 2 * np.pi, size=n)
    wave = np.sin(2 * np.pi * freq[:, None] * t[None, :] + phase[:, None])
    X = 0.3 * rng.randn(n, leads, length) + wave[:, None, :]
    return X.astype(np.float32), y


@pytest.fixture
def signals():
    return make_signals()


@pytest.fixture(scope="module")
def data():
    """:func:`make_signals`, made once per test module (for module-scoped fits)."""
    return make_signals()


#: A small, fast search on :func:`make_signals`: random_state=0 selects an ensemble of 2 networks
#: (the ensemble, k-fold and refit tests build on it).
ENSEMBLE = dict(max_candidates=6, max_epochs=6, halving=False, ensemble_size=5, random_state=0, device="cpu")


def interrupt_training(monkeypatch, module, on_call):
    """Make ``module.train_task`` raise ``KeyboardInterrupt`` (a Ctrl-C) on its ``on_call``-th call."""
    real, calls = module.train_task, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == on_call:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "train_task", interrupted)
