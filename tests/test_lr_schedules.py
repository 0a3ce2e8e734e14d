"""Learning-rate schedules: the rate per epoch, across halving's parts and the refit; weight decay."""

import math

import numpy as np
import pytest

from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet.hyperparameters import DataProperties, network_spec
from sklearn_autonet.lr_schedules import LR_SCHEDULES, cosine, lr_schedule_callbacks, onecycle
from sklearn_autonet.training import TrainingSettings, train_candidate

FAST = dict(min_steps_per_epoch=1, ensemble_size=1, random_state=0)


def test_cosine_anneals_the_rate_over_max_epochs(signals):
    X, y = signals
    clf = AutoNetLCNClassifier(max_candidates=1, max_epochs=4, epoch_patience=10, lr_schedule="cosine",
                               learning_rate=0.02, **FAST).fit(X, y)
    np.testing.assert_allclose(clf.net_.history[:, "event_lr"], [0.02, 0.02 * 0.8536, 0.01, 0.02 * 0.1464],
                               rtol=1e-3)


def test_onecycle_warms_up_then_anneals():
    rates = [onecycle(e / 10) for e in range(10)]
    peak = int(np.argmax(rates))
    assert rates[0] == pytest.approx(1 / 25) and peak == 3  # the warm-up is 30 % of the budget
    assert np.all(np.diff(rates[: peak + 1]) > 0) and np.all(np.diff(rates[peak:]) < 0)
    assert onecycle(1.0) == pytest.approx(1e-4)  # the end of the budget: 1e-4 of the base rate


def test_constant_adds_no_callback_and_the_rate_stays(signals):
    X, y = signals
    assert lr_schedule_callbacks("constant", 10) == []
    clf = AutoNetLCNClassifier(max_candidates=1, max_epochs=3, **FAST).fit(X, y)
    assert "event_lr" not in clf.net_.history[-1]
    assert clf.net_.optimizer_.param_groups[0]["lr"] == clf.learning_rate


def test_a_promoted_candidate_continues_the_schedule_of_its_rung(signals):
    """Halving trains the rung and the continuation as two nets: together they follow one cosine."""
    X, y = signals
    clf = AutoNetLCNClassifier(max_candidates=3, max_epochs=20, epoch_patience=30, lr_schedule="cosine",
                               max_depth=1, refit=False, **FAST).fit(X, y)  # net_ is the search's candidate
    h = clf.search_history_
    best = clf.best_index_
    assert h["promoted"][best] and h["rung_epochs"][best] == 1 and h["epochs"][best] == 20
    expected = [clf.learning_rate * cosine(e / 20) for e in range(20)]
    np.testing.assert_allclose(clf.net_.history[:, "event_lr"], expected, rtol=1e-6)


def test_a_refit_follows_the_candidates_schedule(signals):
    """The refit trains for the best epoch count at the rates the candidate had, not a shorter cosine."""
    X, y = signals
    clf = AutoNetLCNClassifier(max_candidates=1, max_epochs=6, epoch_patience=1, lr_schedule="cosine",
                               refit=True, **FAST).fit(X, y)
    best_epoch = clf.search_history_["best_epoch"][0]
    expected = [clf.learning_rate * cosine(e / 6) for e in range(best_epoch)]
    np.testing.assert_allclose(clf.net_.history[:, "event_lr"], expected, rtol=1e-6)


def test_weight_decay_reaches_the_optimizer_and_changes_the_weights(signals):
    X, y = signals
    spec = network_spec(DataProperties(len(y), "signal", X.shape[1:], 3), 1, 4)
    data = (X, y, np.ones(len(y)))
    settings = TrainingSettings(max_epochs=3, batch_size=16, device="cpu")
    plain, _ = train_candidate(spec, data, None, settings, seed=0)
    heavy, _ = train_candidate(spec, data, None, settings.replace(weight_decay=5.0), seed=0)
    assert heavy.optimizer_.param_groups[0]["weight_decay"] == 5.0
    norm = lambda net: float(net.module_.head.weight.detach().norm())  # noqa: E731
    assert norm(heavy) < 0.9 * norm(plain)


def test_bad_schedule_names_are_refused(signals):
    X, y = signals
    with pytest.raises(ValueError, match="lr_schedule"):
        AutoNetLCNClassifier(lr_schedule="linear").fit(X, y)
    with pytest.raises(ValueError, match="expected one of"):
        lr_schedule_callbacks("linear", 10)
    with pytest.raises(ValueError, match="weight_decay"):
        AutoNetLCNClassifier(weight_decay=-1.0).fit(X, y)


@pytest.mark.parametrize("name", sorted(LR_SCHEDULES))
def test_every_schedule_stays_positive_and_at_most_the_base_rate(name):
    multipliers = [LR_SCHEDULES[name](e / 50) for e in range(50)]
    assert all(0 < m <= 1 + 1e-12 for m in multipliers) and math.isclose(max(multipliers), 1.0, rel_tol=0.02)
