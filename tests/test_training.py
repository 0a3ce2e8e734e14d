"""Training one candidate: the settings, their defaults, the epoch budget."""

import dataclasses

import numpy as np
import pytest

from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet.augmentation import augmentation_settings
from sklearn_autonet.hyperparameters import DataProperties, network_spec
from sklearn_autonet.training import TrainingSettings, auto_batch_size, make_net, train_candidate


def test_settings_defaults_are_the_estimators():
    estimator = AutoNetLCNClassifier().get_params()
    shared = [f.name for f in dataclasses.fields(TrainingSettings) if f.name in estimator]
    assert len(shared) >= 9  # every training parameter but verbose (skorch's, derived from the estimator's)
    for name in shared:
        if name == "augmentation":  # the estimator names a preset; the settings hold its transforms
            continue
        assert getattr(TrainingSettings(), name) == estimator[name], name
    # the preset is made of signal transforms: on tabular input it is the settings' default, nothing
    assert augmentation_settings(estimator["augmentation"], "tabular") is TrainingSettings().augmentation is None
    assert augmentation_settings(estimator["augmentation"], "signal", 360) is not None


def test_make_net_without_settings_uses_the_defaults():
    spec = network_spec(DataProperties(100, "tabular", (5,), 2), 1, 4)
    net = make_net(spec, n_train=100)
    assert net.lr == AutoNetLCNClassifier().learning_rate
    assert net.max_epochs == AutoNetLCNClassifier().max_epochs
    assert net.batch_size == auto_batch_size(100)


def test_settings_are_frozen_and_for_data_resolves_them():
    settings = TrainingSettings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.learning_rate = 1.0
    small = settings.for_data(18, min_steps_per_epoch=10)
    assert (small.batch_size, small.passes_per_epoch, small.max_epochs, small.epoch_patience) == (16, 10, 100, 10)
    big = settings.replace(batch_size=64).for_data(6400, min_steps_per_epoch=10)
    assert (big.batch_size, big.passes_per_epoch) == (64, 1)
    assert settings.for_data(18, min_steps_per_epoch=1).passes_per_epoch == 1


def test_train_candidate_reports_its_budget():
    rng = np.random.RandomState(0)
    X = rng.randn(80, 5).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    spec = network_spec(DataProperties(60, "tabular", (5,), 2), 1, 4)
    settings = TrainingSettings(max_epochs=4, batch_size=16, device="cpu")
    net, info = train_candidate(spec, (X[:60], y[:60], np.ones(60)), (X[60:], y[60:], np.ones(20)), settings)
    assert info["epochs"] == len(net.history) <= 4
    assert 1 <= info["best_epoch"] <= info["epochs"] and not info["deadline_reached"]
    net_again, _ = train_candidate(spec, (X[:60], y[:60], np.ones(60)), None, settings.replace(max_epochs=2))
    assert len(net_again.history) == 2
