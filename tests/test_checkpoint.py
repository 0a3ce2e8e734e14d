"""The checkpoint store: atomic files, damaged records, write failures, and the search fingerprint."""

import json
import os

import numpy as np
import pytest
import torch

from sklearn_autonet import checkpoint
from sklearn_autonet.checkpoint import CheckpointStore, atomic_write, search_fingerprint
from sklearn_autonet.growth import BoundSettings, DeepenWidest
from sklearn_autonet.hyperparameters import DataProperties, network_spec
from sklearn_autonet.search import SearchConfig
from sklearn_autonet.training import TrainingSettings

PROPS = DataProperties(n_fit=40, input_kind="tabular", input_shape=(4,), n_classes=2)
SPEC = network_spec(PROPS, 1, 3)
INFO = {"epochs": 3, "best_epoch": 2, "seconds": 0.5, "deadline_reached": False, "copied_layers": []}
RECORD = {"spec": SPEC, "info": INFO, "validation_score": 0.75, "status": "ok", "error": ""}
STATE = {"w": torch.arange(6.0).reshape(2, 3)}


def data(seed=0):
    rng = np.random.RandomState(seed)
    return (rng.randn(30, 4).astype(np.float32), rng.randint(0, 2, 30), np.ones(30))


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path, monkeypatch):
    path = tmp_path / "f.bin"
    atomic_write(path, b"old")
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(OSError):
        atomic_write(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]  # no temporary file left


def test_store_round_trip(tmp_path):
    store = CheckpointStore(tmp_path, "ab" * 32)
    store.save(0, RECORD, STATE)
    store.save(1, dict(RECORD, status="failed", error="boom"), None)
    record, state = store.load(0)
    assert record["spec"] == SPEC and record["validation_score"] == 0.75 and torch.equal(state["w"], STATE["w"])
    record, state = store.load(1)
    assert record["status"] == "failed" and state is None
    assert store.load(2) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda r: r.pop("info"),
        lambda r: r["info"].pop("best_epoch"),
        lambda r: r.update(validation_score="high"),
        lambda r: r.update(status="maybe"),
        lambda r: r["info"].update(epochs=True),
        lambda r: r.update(fingerprint="other"),
    ],
    ids=["no-info", "no-best-epoch", "score-type", "status", "bool-epochs", "other-search"],
)
def test_a_damaged_record_is_retrained_with_a_warning(tmp_path, damage):
    store = CheckpointStore(tmp_path, "cd" * 32)
    store.save(0, RECORD, STATE)
    path = store.folder / "candidate-000.json"
    record = json.loads(path.read_text())
    damage(record)
    path.write_text(json.dumps(record))
    with pytest.warns(RuntimeWarning, match="ignoring the checkpoint"):
        assert store.load(0) is None


def test_tampered_weights_are_ignored(tmp_path):
    store = CheckpointStore(tmp_path, "ef" * 32)
    store.save(0, RECORD, STATE)
    (store.folder / "candidate-000.pt").write_bytes(b"not the weights")
    with pytest.warns(RuntimeWarning, match="checksum"):
        assert store.load(0) is None


def test_a_failing_write_warns_once_and_the_search_goes_on(tmp_path, monkeypatch):
    store = CheckpointStore(tmp_path, "01" * 32)
    monkeypatch.setattr(checkpoint, "atomic_write", lambda *a: (_ for _ in ()).throw(OSError(28, "disk full")))
    with pytest.warns(RuntimeWarning, match="goes on without saving") as caught:
        store.save(0, RECORD, STATE)
        store.save(1, RECORD, STATE)
    assert len(caught) == 1 and not store.writable


def test_an_unwritable_folder_warns_and_saves_nothing(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    with pytest.warns(RuntimeWarning, match="cannot write checkpoints"):
        store = CheckpointStore(blocker, "23" * 32)
    store.save(0, RECORD, STATE)  # no error
    assert store.load(0) is None


def fingerprint(**changes):
    args = dict(props=PROPS, train=data(0), valid=data(1), config=SearchConfig(), random_state=0,
                policy=DeepenWidest())
    args.update(changes)
    return search_fingerprint(**args)


def test_fingerprint_follows_what_changes_results():
    base = fingerprint()
    assert fingerprint() == base
    assert fingerprint(train=data(2)) != base
    assert fingerprint(random_state=1) != base
    assert fingerprint(config=SearchConfig(bound=BoundSettings(rho=0.5))) != base
    assert fingerprint(config=SearchConfig(bound=BoundSettings(stem_stride=1))) != base  # the stem changes the networks
    assert fingerprint(config=SearchConfig(training=TrainingSettings(learning_rate=1e-3))) != base
    assert fingerprint(policy=None) != base
    # where and how loudly candidates train does not change what they become
    assert fingerprint(config=SearchConfig(n_jobs=2, device_request="cpu")) == base
    assert fingerprint(config=SearchConfig(training=TrainingSettings(verbose=1))) == base


def test_fingerprint_tells_callable_scorers_apart():
    from sklearn.metrics import f1_score, make_scorer

    def scorer_factory(threshold):
        return lambda est, X, y: float(threshold)

    one, two = scorer_factory(0.1), scorer_factory(0.9)
    assert one.__qualname__ == two.__qualname__
    assert fingerprint(config=SearchConfig(scoring=one)) != fingerprint(config=SearchConfig(scoring=two))
    macro = make_scorer(f1_score, average="macro")
    micro = make_scorer(f1_score, average="micro")
    assert fingerprint(config=SearchConfig(scoring=macro)) != fingerprint(config=SearchConfig(scoring=micro))
