"""Interrupted, failing, out-of-memory, timed-out and resumed searches."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

from sklearn_autonet import AutoNetLCNClassifier, tasks, training

#: One candidate per round (the line), so that "the depth-2 candidate" is the second one.
#: the search's own trainings: the refit on all the data (not checkpointed) is tested in test_refit.py
ARGS = dict(max_candidates=3, patience=5, max_epochs=4, random_state=0, growth="deepen", refit=False)


def depth_of(net):
    return len(net.module_.blocks)


def counting_train(monkeypatch, hook=None):
    """Wrap the search's ``train_candidate``: count calls and run ``hook(call_number)`` first."""
    calls = []
    real = tasks.train_candidate

    def wrapper(*args, **kwargs):
        settings = args[3] if len(args) > 3 else kwargs["settings"]
        calls.append(settings.batch_size)
        if hook is not None:
            hook(len(calls))
        return real(*args, **kwargs)

    monkeypatch.setattr(tasks, "train_candidate", wrapper)
    return calls


# ------------------------------------------------------------ interruption
@pytest.fixture
def default_sigint():
    """Python's default SIGINT handler, as under a terminal's Ctrl-C.

    A job started in the background of a non-interactive shell (as CI may be)
    inherits SIGINT ignored, and the search rightly leaves an ignored SIGINT alone.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _sigint_during(monkeypatch, depth):
    """Send a real SIGINT to this process at the end of the first epoch of the depth-``depth`` candidate."""
    real = training.Deadline.on_epoch_end

    def on_epoch_end(self, net, **kwargs):
        if depth_of(net) == depth and len(net.history) == 1:
            signal.raise_signal(signal.SIGINT)
        return real(self, net, **kwargs)

    monkeypatch.setattr(training.Deadline, "on_epoch_end", on_epoch_end)


def test_ctrl_c_keeps_the_best_finished_candidate(signals, monkeypatch, default_sigint):
    X, y = signals
    _sigint_during(monkeypatch, depth=2)
    handler = signal.getsignal(signal.SIGINT)
    with pytest.warns(RuntimeWarning, match="interrupted; keeping the best of the 1 finished"):
        clf = AutoNetLCNClassifier(**ARGS).fit(X, y)
    assert clf.stop_reason_ == "interrupted"
    assert clf.search_history_["depth"] == [1]  # the interrupted candidate is not kept
    assert clf.predict(X).shape == (len(y),)
    assert signal.getsignal(signal.SIGINT) is handler  # the user's handler is back


def test_ctrl_c_in_a_halving_round_keeps_the_candidates_that_finished_their_rung(signals, monkeypatch, default_sigint):
    X, y = signals
    seen = []
    real = training.Deadline.on_epoch_end

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 1:
            seen.append(1)
            if len(seen) == 3:  # the first epoch of the third candidate of round 1
                signal.raise_signal(signal.SIGINT)
        return real(self, net, **kwargs)

    monkeypatch.setattr(training.Deadline, "on_epoch_end", on_epoch_end)
    with pytest.warns(RuntimeWarning, match="interrupted; keeping the best of the 2 finished"):
        clf = AutoNetLCNClassifier(max_epochs=20, random_state=0).fit(X, y)  # explore + halving
    history = clf.search_history_
    assert clf.stop_reason_ == "interrupted" and history["round"] == [1, 1]
    assert history["rung_epochs"] == history["epochs"] and not any(history["promoted"])
    assert clf.predict(X).shape == (len(y),)


def test_ctrl_c_before_any_candidate_finished_reraises(signals, monkeypatch, default_sigint):
    X, y = signals
    _sigint_during(monkeypatch, depth=1)
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        AutoNetLCNClassifier(**ARGS).fit(X, y)
    assert signal.getsignal(signal.SIGINT) is handler


def test_keyboard_interrupt_between_candidates(signals, monkeypatch):
    X, y = signals

    def hook(call):
        if call == 3:
            raise KeyboardInterrupt

    counting_train(monkeypatch, hook)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        clf = AutoNetLCNClassifier(**ARGS).fit(X, y)
    assert clf.stop_reason_ == "interrupted" and len(clf.search_history_["depth"]) == 2


# ------------------------------------------------------- failing candidates
def test_nan_loss_candidate_is_recorded_and_the_search_goes_on(signals, monkeypatch):
    X, y = signals
    real = training.WeightedLossNet.get_loss

    def get_loss(self, *args, **kwargs):
        loss = real(self, *args, **kwargs)
        return loss * float("nan") if depth_of(self) == 2 else loss

    monkeypatch.setattr(training.WeightedLossNet, "get_loss", get_loss)
    clf = AutoNetLCNClassifier(**ARGS).fit(X, y)
    history = clf.search_history_
    assert history["status"] == ["ok", "failed", "ok"]
    assert "train loss became nan at epoch 1" in history["error"][1]
    assert np.isnan(history["validation_score"][1]) and history["error"][0] == ""
    assert clf.best_index_ != 1 and np.isfinite(clf.predict_proba(X)).all()


def test_raising_candidate_is_recorded(signals, monkeypatch):
    X, y = signals

    def hook(call):
        if call == 2:
            raise RuntimeError("boom on the second candidate")

    counting_train(monkeypatch, hook)
    clf = AutoNetLCNClassifier(**ARGS).fit(X, y)
    assert clf.search_history_["status"] == ["ok", "failed", "ok"]
    assert clf.search_history_["error"][1] == "RuntimeError: boom on the second candidate"


def test_fit_raises_with_the_reasons_when_every_candidate_fails(signals, monkeypatch):
    X, y = signals

    def hook(call):
        raise RuntimeError(f"boom {call}")

    counting_train(monkeypatch, hook)
    with pytest.raises(ValueError, match="Every AutoNet candidate failed.*boom 1.*boom 2.*boom 3"):
        AutoNetLCNClassifier(**ARGS).fit(X, y)


# ---------------------------------------------------------------- resources
def test_out_of_memory_halves_the_batch_size(signals, monkeypatch):
    X, y = signals
    real = training.WeightedLossNet.train_step

    def train_step(self, *args, **kwargs):
        if self.batch_size > 16:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (injected)")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(training.WeightedLossNet, "train_step", train_step)
    calls = counting_train(monkeypatch)
    with pytest.warns(RuntimeWarning, match="retrying with batch_size=16"):
        clf = AutoNetLCNClassifier(max_candidates=1, max_epochs=2, batch_size=64, random_state=0).fit(X, y)
    assert calls == [64, 32, 16, 16]  # the candidate retried; its refit on all the data starts at 16
    assert clf.search_history_["batch_size"] == [16] and clf.search_history_["status"] == ["ok"]
    assert clf.n_fit_ == len(y)  # the refit finished


def test_out_of_memory_at_the_smallest_batch_fails_the_candidate(signals, monkeypatch):
    X, y = signals

    def train_step(self, *args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory (injected)")

    monkeypatch.setattr(training.WeightedLossNet, "train_step", train_step)
    with pytest.warns(RuntimeWarning), pytest.raises(ValueError, match="out of memory even with batch_size=2"):
        AutoNetLCNClassifier(max_candidates=1, max_epochs=2, batch_size=8, random_state=0).fit(X, y)


def test_max_time_is_kept_within_one_epoch(signals):
    X, y = signals
    X, y = np.tile(X, (8, 1, 1)), np.tile(y, 8)  # ~700 samples: epochs long enough to measure
    budget = 2.0
    clf = AutoNetLCNClassifier(
        max_time=budget, max_epochs=100000, epoch_patience=100000, max_candidates=10, patience=10, random_state=0
    ).fit(X, y)
    history = clf.search_history_
    # each candidate gets a share of the budget, so the search may also run out of proposals within it
    assert clf.stop_reason_ in ("max_time", "no_room_to_grow"), (clf.stop_reason_, history["status"])
    epoch = max(s / e for s, e in zip(history["seconds"], history["epochs"]))
    overshoot = clf.fit_time_ - budget
    # one epoch, plus start-up, scoring and the ensemble's rebuild on a busy machine
    assert overshoot < epoch + 3.0, (overshoot, epoch, clf.stop_reason_, len(history["candidate"]))


# ------------------------------------------------------ checkpoint and resume
def test_a_second_fit_reuses_every_checkpoint(signals, tmp_path, monkeypatch):
    X, y = signals
    first = AutoNetLCNClassifier(checkpoint_dir=tmp_path, **ARGS).fit(X, y)
    assert sorted(p.name for p in next(tmp_path.iterdir()).iterdir()) == [
        f"candidate-00{i}.{ext}" for i in range(3) for ext in ("json", "pt")
    ]
    calls = counting_train(monkeypatch)
    second = AutoNetLCNClassifier(checkpoint_dir=tmp_path, **ARGS).fit(X, y)
    assert calls == [] and all(second.search_history_["from_checkpoint"])
    assert second.search_history_["seconds"] == first.search_history_["seconds"]
    np.testing.assert_array_equal(second.predict_proba(X), first.predict_proba(X))


def test_other_data_or_arguments_do_not_reuse_checkpoints(signals, tmp_path, monkeypatch):
    X, y = signals
    AutoNetLCNClassifier(checkpoint_dir=tmp_path, max_candidates=1, max_epochs=2, refit=False, random_state=0).fit(X, y)
    calls = counting_train(monkeypatch)
    AutoNetLCNClassifier(checkpoint_dir=tmp_path, max_candidates=1, max_epochs=2, refit=False, random_state=1).fit(X, y)
    AutoNetLCNClassifier(checkpoint_dir=tmp_path, max_candidates=1, max_epochs=2, refit=False, random_state=0).fit(X + 1, y)
    assert len(calls) == 2 and len(list(tmp_path.iterdir())) == 3


def test_a_damaged_checkpoint_is_trained_again(signals, tmp_path, monkeypatch):
    X, y = signals
    AutoNetLCNClassifier(checkpoint_dir=tmp_path, **ARGS).fit(X, y)
    folder = next(tmp_path.iterdir())
    (folder / "candidate-001.json").write_text('{"half": ')
    weights = folder / "candidate-002.pt"
    weights.write_bytes(weights.read_bytes()[:-10])
    calls = counting_train(monkeypatch)
    with pytest.warns(RuntimeWarning, match="ignoring the checkpoint"):
        clf = AutoNetLCNClassifier(checkpoint_dir=tmp_path, **ARGS).fit(X, y)
    assert len(calls) == 2 and clf.search_history_["from_checkpoint"] == [True, False, False]
    assert not [p for p in folder.iterdir() if p.suffix == ".tmp"]


KILLED_RUN = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from sklearn_autonet import AutoNetLCNClassifier, tasks

    real = tasks.train_candidate
    calls = []

    def slow_after_first(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            time.sleep(120)  # the test kills us here, after the first checkpoint
        return real(*args, **kwargs)

    tasks.train_candidate = slow_after_first
    data = np.load(sys.argv[1])
    AutoNetLCNClassifier(checkpoint_dir=sys.argv[2], **{args}).fit(data["X"], data["y"])
    """
)


def test_sigkill_then_resume_gives_the_uninterrupted_result(signals, tmp_path, monkeypatch):
    X, y = signals
    np.savez(tmp_path / "data.npz", X=X, y=y)
    checkpoints = tmp_path / "checkpoints"
    script = tmp_path / "run.py"
    script.write_text(KILLED_RUN.format(args=repr(ARGS)))
    process = subprocess.Popen([sys.executable, str(script), str(tmp_path / "data.npz"), str(checkpoints)])
    try:
        deadline = time.monotonic() + 90
        while not list(checkpoints.glob("*/candidate-000.json")):
            assert process.poll() is None, "the search process ended before its first checkpoint"
            assert time.monotonic() < deadline, "no checkpoint after 90 s"
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    saved = json.loads(next(checkpoints.glob("*/candidate-000.json")).read_text())

    start = time.monotonic()
    full = AutoNetLCNClassifier(**ARGS).fit(X, y)
    full_seconds = time.monotonic() - start
    calls = counting_train(monkeypatch)
    start = time.monotonic()
    resumed = AutoNetLCNClassifier(checkpoint_dir=checkpoints, **ARGS).fit(X, y)
    resumed_seconds = time.monotonic() - start
    print(f"uninterrupted fit {full_seconds:.2f} s, resumed fit {resumed_seconds:.2f} s")

    assert len(calls) == 2  # candidate 0 came from the killed run's checkpoint
    assert resumed.search_history_["from_checkpoint"] == [True, False, False]
    assert resumed.search_history_["seconds"][0] == saved["info"]["seconds"]
    assert resumed.search_history_["validation_score"] == full.search_history_["validation_score"]
    assert resumed.best_index_ == full.best_index_ and resumed.stop_reason_ == full.stop_reason_
    # candidate 0's weights were trained in the killed process, whose torch thread count
    # may differ from this one's (other tests limit threads): equal up to float rounding
    np.testing.assert_allclose(resumed.predict_proba(X), full.predict_proba(X), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(resumed.predict(X), full.predict(X))


PARALLEL_RUN = textwrap.dedent(
    """
    import sys
    import numpy as np
    from sklearn_autonet import AutoNetLCNClassifier

    data = np.load(sys.argv[1])
    AutoNetLCNClassifier(n_jobs=2, max_epochs=500, epoch_patience=500, random_state=0).fit(data["X"], data["y"])
    """
)


def _descendants(pid):
    found, todo = set(), [str(pid)]
    while todo:
        out = subprocess.run(["pgrep", "-P", todo.pop()], capture_output=True, text=True).stdout.split()
        found.update(out)
        todo += out
    return found


def test_sigterm_of_a_parallel_fit_leaves_no_worker_behind(tmp_path):
    from conftest import make_signals

    X, y = make_signals(n=300, length=128)
    np.savez(tmp_path / "data.npz", X=X, y=y)
    script = tmp_path / "run.py"
    script.write_text(PARALLEL_RUN)
    process = subprocess.Popen([sys.executable, str(script), str(tmp_path / "data.npz")])
    workers = set()
    try:
        deadline = time.monotonic() + 90
        while len(workers) < 2:  # the loky workers (and their resource tracker) are up
            assert process.poll() is None, "the fit ended before its workers started"
            assert time.monotonic() < deadline, "no worker processes after 90 s"
            time.sleep(0.2)
            workers = _descendants(process.pid)
        time.sleep(1.0)
        workers = _descendants(process.pid)
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(timeout=30) == -signal.SIGTERM  # it still dies of SIGTERM
        deadline = time.monotonic() + 15
        while any(os.path.exists(f"/proc/{w}") for w in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        alive = [w for w in workers if os.path.exists(f"/proc/{w}")]
        assert not alive, f"worker processes {alive} outlived the SIGTERM-ed fit"
    finally:
        process.kill()
        for w in _descendants(process.pid) | workers:
            try:
                os.kill(int(w), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass


def test_a_halving_search_resumes_from_its_checkpoints(signals, tmp_path, monkeypatch):
    X, y = signals
    args = dict(max_epochs=20, refit=False, random_state=0)  # the search: the refit is not checkpointed
    full = AutoNetLCNClassifier(checkpoint_dir=tmp_path, **args).fit(X, y)
    assert any(full.search_history_["promoted"]) and "pruned" in full.search_history_["status"]
    calls = counting_train(monkeypatch)
    again = AutoNetLCNClassifier(checkpoint_dir=tmp_path, **args).fit(X, y)
    assert calls == [] and all(again.search_history_["from_checkpoint"])
    for key in ("validation_score", "status", "promoted", "rung_score", "epochs"):
        assert again.search_history_[key] == full.search_history_[key], key
    np.testing.assert_array_equal(again.predict_proba(X), full.predict_proba(X))
