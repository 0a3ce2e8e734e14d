"""Signal augmentation: each transform's effect, training batches only, side features, determinism, errors."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet.augmentation import Augmentation, BatchAugmenter, augmentation_settings
from sklearn_autonet.hyperparameters import DataProperties, network_spec
from sklearn_autonet.training import TrainingSettings, make_net, weighted_input
from conftest import on_module_device

FAST = dict(max_candidates=1, max_epochs=2, min_steps_per_epoch=1, ensemble_size=1, random_state=0)


def signal_spec(leads=2, length=32, n_side=0, n_classes=2):
    return network_spec(DataProperties(100, "signal", (leads, length), n_classes, n_side=n_side), 1, 2)


def augment(settings, X, y=None, spec=None, seed=0):
    spec = signal_spec(*X.shape[1:]) if spec is None else spec
    y = torch.zeros(len(X), dtype=torch.long) if y is None else y
    return BatchAugmenter(settings, spec, seed)((torch.as_tensor(X), y))


def test_shift_is_a_circular_shift_of_every_lead_alike_within_its_range():
    X = np.random.RandomState(0).randn(64, 2, 32).astype(np.float32)
    shifted = augment(Augmentation(shift=0.25), X)[0].numpy()
    steps = []
    for original, moved in zip(X, shifted):
        found = [k for k in range(-8, 9) if np.array_equal(np.roll(original, k, axis=-1), moved)]
        assert len(found) == 1  # a roll by at most 0.25 * 32 steps, the same for both leads
        steps.append(found[0])
    assert min(steps) < -4 and max(steps) > 4  # the range is used, both ways


def test_scale_multiplies_each_sample_by_one_factor_in_range():
    X = np.random.RandomState(0).rand(200, 2, 16).astype(np.float32) + 1.0
    factors = augment(Augmentation(scale=0.2), X)[0].numpy() / X
    per_sample = factors.reshape(200, -1)
    np.testing.assert_allclose(per_sample, per_sample[:, :1].repeat(32, axis=1), rtol=1e-5)
    assert 0.8 <= per_sample.min() < 0.85 and 1.15 < per_sample.max() <= 1.2


def test_noise_has_the_asked_standard_deviation_relative_to_the_sample():
    X = (3.0 * np.random.RandomState(0).randn(20, 1, 4000)).astype(np.float32)
    added = augment(Augmentation(noise=0.1), X)[0].numpy() - X
    ratio = added.std(axis=(1, 2)) / X.std(axis=(1, 2))
    np.testing.assert_allclose(ratio, 0.1, rtol=0.05)
    assert abs(added.mean()) < 0.01


def test_wander_is_a_slow_sinusoid_of_the_asked_amplitude_on_every_lead():
    X = np.random.RandomState(0).randn(30, 2, 1000).astype(np.float32)  # 10 s at 100 Hz
    added = augment(Augmentation(wander=0.5, sampling_rate=100.0), X)[0].numpy() - X
    np.testing.assert_allclose(added[:, 0], added[:, 1], atol=1e-6)  # the same on both leads
    amplitude = 0.5 * X.std(axis=(1, 2))
    assert np.all(np.abs(added).max(axis=(1, 2)) <= amplitude * 1.0001)
    assert np.all(np.abs(added).max(axis=(1, 2)) > 0.2 * amplitude)
    # at most 0.5 Hz: one 10 ms step changes a sinusoid by at most 2 pi 0.5 / 100 of its amplitude
    assert np.all(np.abs(np.diff(added[:, 0], axis=-1)).max(axis=-1) <= amplitude * 2 * np.pi * 0.5 / 100 * 1.01)


def test_side_features_are_left_as_they_are():
    rng = np.random.RandomState(0)
    X = rng.randn(40, 2 * 16 + 3).astype(np.float32)
    spec = signal_spec(2, 16, n_side=3)
    out = augment(Augmentation(shift=0.2, scale=0.2, noise=0.2), X, spec=spec)[0].numpy()
    np.testing.assert_array_equal(out[:, -3:], X[:, -3:])
    assert np.abs(out[:, :32] - X[:, :32]).mean() > 0.05


def test_mixup_mixes_inputs_targets_and_weights_alike():
    """Rows filled with their label: after mixup a row's value is its target's share of class 1."""
    y = torch.arange(64) % 2
    X = y[:, None, None].float().repeat(1, 1, 8).numpy()
    batch = ({"X": torch.as_tensor(X), "sample_weight": torch.ones(64)}, y)
    Xi, targets = BatchAugmenter(Augmentation(mixup=1.0), signal_spec(1, 8), seed=0)(batch)
    mixed = Xi["X"][:, 0, 0]
    np.testing.assert_allclose(targets[:, 1], mixed, atol=1e-6)
    np.testing.assert_allclose(targets.sum(dim=1), 1.0, atol=1e-6)
    assert bool(((mixed > 0.01) & (mixed < 0.99)).any())  # rows of both classes were mixed
    np.testing.assert_allclose(Xi["sample_weight"], 1.0)


class BatchSpy(Callback):
    """Records every batch's input and whether it was a training batch."""

    def initialize(self):
        self.batches = []
        return self

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        self.batches.append((training, torch.as_tensor(batch[0]["X"]).clone().numpy()))


def test_only_training_batches_are_augmented(signals):
    X, y = signals
    spec = network_spec(DataProperties(60, "signal", X.shape[1:], 3), 1, 2)
    settings = TrainingSettings(max_epochs=2, batch_size=20, device="cpu", augmentation=Augmentation(noise=0.1))
    valid = (weighted_input(X[60:], np.ones(30)), y[60:])
    net = make_net(spec, settings, valid=valid, seed=0, n_train=60)
    net.callbacks.append(("spy", BatchSpy()))
    net.fit(weighted_input(X[:60], np.ones(60)), y[:60])
    spy = dict(net.callbacks_)["spy"]
    rows = np.concatenate
    trained = rows([b for training, b in spy.batches if training])
    validated = rows([b for training, b in spy.batches if not training])
    assert len(trained) == 2 * 60 and len(validated) == 2 * 30
    nearest = np.abs(trained[:, None] - X[None, :60]).mean(axis=(2, 3)).min(axis=1)
    assert nearest.min() > 0.01  # no training row reached the network as given
    np.testing.assert_array_equal(validated, np.concatenate([X[60:], X[60:]]))


def test_predict_sees_the_data_as_given_and_the_fit_is_repeatable(signals):
    X, y = signals
    a = AutoNetLCNClassifier(augmentation={"shift": 0.1, "noise": 0.1, "mixup": 0.2}, **FAST).fit(X, y)
    b = AutoNetLCNClassifier(augmentation={"shift": 0.1, "noise": 0.1, "mixup": 0.2}, **FAST).fit(X, y)
    plain = AutoNetLCNClassifier(**FAST).fit(X, y)
    for key, value in a.net_.module_.state_dict().items():
        torch.testing.assert_close(value, b.net_.module_.state_dict()[key], rtol=0, atol=0)
    assert not torch.equal(a.net_.module_.head.weight, plain.net_.module_.head.weight)
    np.testing.assert_array_equal(a.predict_proba(X), a.predict_proba(X))
    with torch.no_grad():  # the module on the raw rows: what predict gives
        module = a.net_.module_.eval()
        direct = torch.softmax(module(on_module_device(module, X)), dim=1).cpu().numpy()
    np.testing.assert_allclose(a.predict_proba(X), direct, atol=1e-5)


def test_the_default_preset_leaves_wander_out_without_a_sampling_rate():
    assert augmentation_settings("default", "signal", None).wander == 0.0
    assert augmentation_settings("default", "signal", 360.0).wander > 0.0
    assert augmentation_settings("default", "tabular", None) is None
    assert augmentation_settings({"mixup": 0.2}, "tabular", None) == Augmentation(mixup=0.2)


def test_tabular_input_takes_mixup(signals):
    rng = np.random.RandomState(0)
    X, y = rng.randn(80, 5), np.arange(80) % 2
    clf = AutoNetLCNClassifier(augmentation={"mixup": 0.4}, **FAST).fit(X, y)
    assert clf.predict_proba(X).shape == (80, 2)


@pytest.mark.parametrize(
    "augmentation, match",
    [
        ({"jitter": 0.1}, r"unknown setting\(s\) \['jitter'\]"),
        ({"shift": 0.7}, r"augmentation\['shift'\]=0.7: it must be a number in \[0, 0.5\)"),
        ({"noise": -0.1}, r"augmentation\['noise'\]=-0.1: it must be a finite number >= 0"),
        ({"scale": True}, r"augmentation\['scale'\]=True"),
        ({"noise": float("nan")}, r"augmentation\['noise'\]=nan"),
        ({"wander": 0.1}, "needs the sampling rate.*pass sampling_rate"),
        ("strong", "augmentation"),
    ],
)
def test_bad_settings_are_refused(signals, augmentation, match):
    X, y = signals
    with pytest.raises(ValueError, match=match):
        AutoNetLCNClassifier(augmentation=augmentation, **FAST).fit(X, y)


def test_signal_transforms_on_a_table_are_refused():
    X, y = np.random.RandomState(0).randn(40, 5), np.arange(40) % 2
    with pytest.raises(ValueError, match="apply to signal input; X was read as tabular"):
        AutoNetLCNClassifier(augmentation={"noise": 0.1}, **FAST).fit(X, y)
