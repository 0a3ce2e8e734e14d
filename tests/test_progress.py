"""What a person sees during the search: the candidate, its epochs, the best score, an ETA within max_time."""

import time

from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet.hyperparameters import DataProperties, network_spec
from sklearn_autonet.progress import SearchProgress, active

SPEC = network_spec(DataProperties(100, "signal", (1, 64), 2), 1, 4)


def test_verbose_one_shows_the_candidate_its_epochs_and_an_eta(signals, capsys):
    X, y = signals
    AutoNetLCNClassifier(max_epochs=6, max_candidates=3, verbose=1, random_state=0).fit(X, y)
    err = capsys.readouterr().err
    assert "candidate 0 (rung): conv" in err
    assert "epoch 1/" in err and "valid loss" in err
    assert "best " in err and "eta " in err


def test_eta_never_goes_past_max_time():
    with SearchProgress(total=10, enabled=False, deadline=time.monotonic() + 30) as progress:
        assert active() is progress
        assert progress.eta() <= 30
        progress.start = time.monotonic() - 100  # one candidate took 100 s: 9 more would take 900 s
        progress.finish_candidate(0.5, 0.5)
        assert progress.eta() <= 30
    assert active() is None


def test_eta_from_the_candidates_so_far_without_a_budget():
    with SearchProgress(total=4, enabled=False) as progress:
        assert progress.eta() is None  # nothing to go by yet
        progress.start = time.monotonic() - 10
        progress.finish_candidate(0.7, 0.7)
        assert 25 <= progress.eta() <= 35  # three more at about 10 s each
        progress.start_candidate(1, SPEC, 20, "rung")
        assert progress.current == "candidate 1 (rung): conv k7 w4 -> head 2"
