"""Training schedules, initialisation, warm growth, precision and the data path."""

import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal

from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet.hyperparameters import DataProperties, network_spec
from sklearn_autonet.modules import LCNNetwork
from sklearn_autonet.schedules import copy_matching_layers
from sklearn_autonet.training import TrainingSettings, WholeBatchLoader, make_net, weighted_input

PROPS = DataProperties(n_fit=72, input_kind="signal", input_shape=(2, 32), n_classes=3)


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed_layers(before, after):
    prefixes = sorted({k.split(".")[0] + ("." + k.split(".")[1] if k.startswith("blocks") else "") for k in before})
    return {p for p in prefixes if any(not torch.equal(before[k], after[k]) for k in before if k.startswith(p + "."))}


def test_layerwise_trains_one_layer_per_epoch(signals):
    X, y = signals
    spec = network_spec(PROPS, 2, 4)
    net = make_net(spec, TrainingSettings(max_epochs=1, batch_size=16, schedule="layerwise"), seed=0, n_train=len(y))
    data = weighted_input(X, np.ones(len(y)))
    net.initialize()
    expected = ["blocks.0", "blocks.1", "head", "blocks.0"]
    for epoch, active in enumerate(expected, start=1):
        before = snapshot(net.module_)
        net.partial_fit(data, y)
        after = snapshot(net.module_)
        # weights and BatchNorm running statistics of the frozen layers stay put
        assert changed_layers(before, after) == {active}, epoch
        assert net.history[-1, "block"] == (epoch - 1) % 3
    assert all(p.requires_grad for p in net.module_.parameters())


def test_end_to_end_trains_every_layer(signals):
    X, y = signals
    net = make_net(network_spec(PROPS, 2, 4), TrainingSettings(max_epochs=1, batch_size=16), seed=0, n_train=len(y))
    net.initialize()
    before = snapshot(net.module_)
    net.partial_fit(weighted_input(X, np.ones(len(y))), y)
    assert changed_layers(before, snapshot(net.module_)) == {"blocks.0", "blocks.1", "head"}


def test_set_trainable_freezes_batchnorm_statistics():
    module = LCNNetwork(network_spec(PROPS, 2, 4)).train()
    module.set_trainable(1)
    assert not module.blocks[0].norm.training and module.blocks[1].norm.training
    assert not any(p.requires_grad for p in module.blocks[0].parameters())
    module.train()  # skorch calls train() before every step; frozen layers stay in eval
    assert not module.blocks[0].norm.training
    module.set_trainable(None)
    assert module.blocks[0].norm.training


def test_layerwise_is_deterministic(signals):
    X, y = signals
    params = dict(schedule="layerwise", max_candidates=2, max_epochs=6, random_state=0)
    a = AutoNetLCNClassifier(**params).fit(X, y)
    b = AutoNetLCNClassifier(**params).fit(X, y)
    assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.score(X, y) > 0.6


def test_orthogonal_initialisation():
    module = LCNNetwork(network_spec(PROPS, 2, 4))
    module.reset_parameters_orthogonal()
    w = module.blocks[1].conv.weight.reshape(4, -1)  # 4 x 20: orthonormal rows
    np.testing.assert_allclose((w @ w.T).detach().numpy(), np.eye(4), atol=1e-5)


def test_copy_matching_layers():
    parent = LCNNetwork(network_spec(PROPS, 1, 4))
    child = LCNNetwork(network_spec(PROPS, 2, 4))
    fresh_block2 = snapshot(child.blocks[1])
    copied = copy_matching_layers(child, parent.state_dict())
    assert copied == ("conv1", "head")
    for k, v in parent.state_dict().items():
        assert torch.equal(child.state_dict()[k], v)
    assert all(torch.equal(v, snapshot(child.blocks[1])[k]) for k, v in fresh_block2.items())
    narrower = LCNNetwork(network_spec(PROPS, 2, 3))
    assert copy_matching_layers(narrower, parent.state_dict()) == ()


def test_warm_growth_starts_from_the_parent(signals):
    X, y = signals
    # max_width=3 keeps every candidate 3 wide, so the parent's layers fit the child
    line = dict(max_width=3, max_candidates=3, patience=3, max_epochs=4, random_state=0, growth="deepen")
    clf = AutoNetLCNClassifier(warm_growth=True, **line).fit(X, y)
    assert clf.search_history_["warm_layers"] == [(), ("conv1", "head"), ("conv1", "conv2", "head")]
    cold = AutoNetLCNClassifier(**line).fit(X, y)
    assert cold.search_history_["warm_layers"] == [(), (), ()]


def test_warm_growth_copies_weights_into_the_child(signals):
    """Under layerwise, the child's first epoch trains conv1 only: its head is still the parent's."""
    X, y = signals
    data = weighted_input(X, np.ones(len(y)))
    parent = make_net(network_spec(PROPS, 1, 4), TrainingSettings(max_epochs=3, batch_size=16), seed=0, n_train=len(y))
    parent.fit(data, y)
    parent_state = snapshot(parent.module_)
    child = make_net(
        network_spec(PROPS, 2, 4),
        TrainingSettings(max_epochs=1, batch_size=16, schedule="layerwise"),
        parent_state=parent_state,
        seed=1,
        n_train=len(y),
    ).fit(data, y)
    state = child.module_.state_dict()
    assert torch.equal(state["head.weight"], parent_state["head.weight"])
    assert not torch.equal(state["blocks.0.conv.weight"], parent_state["blocks.0.conv.weight"])


def test_bfloat16_precision_on_cpu(signals):
    X, y = signals
    clf = AutoNetLCNClassifier(precision="bfloat16", max_candidates=1, max_epochs=25, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-4)
    assert clf.score(X, y) > 0.6


def test_whole_batch_loader_covers_every_sample_once():
    from skorch.dataset import Dataset

    dataset = Dataset(np.arange(23, dtype=np.float32)[:, None], np.arange(23))
    gen = torch.Generator().manual_seed(0)
    batches = list(WholeBatchLoader(dataset, batch_size=5, shuffle=True, generator=gen))
    assert [len(b[1]) for b in batches] == [5, 5, 5, 5, 3]
    assert sorted(np.concatenate([b[1] for b in batches]).tolist()) == list(range(23))
    dropped = list(WholeBatchLoader(dataset, batch_size=5, drop_last=True))
    assert [len(b[1]) for b in dropped] == [5, 5, 5, 5]


def test_cuda_device_is_refused_clearly_without_cuda(signals):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the error is for CPU-only machines")
    X, y = signals
    with pytest.raises(ValueError, match="CUDA is not available"):
        AutoNetLCNClassifier(device="cuda", max_candidates=1).fit(X, y)
    with pytest.raises(ValueError, match="not a torch device"):
        AutoNetLCNClassifier(device="tpu9", max_candidates=1).fit(X, y)


def test_fitted_estimator_keeps_no_training_data(signals):
    X, y = signals
    X = np.repeat(X, 20, axis=0)
    y = np.repeat(y, 20)
    clf = AutoNetLCNClassifier(max_candidates=1, max_epochs=2, random_state=0).fit(X, y)
    size = len(pickle.dumps(clf))
    assert size < X.nbytes / 4, size
    assert clf.net_.train_split is None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_fit_then_cpu_predictions_match(signals):
    X, y = signals
    clf = AutoNetLCNClassifier(device="cuda", max_candidates=1, max_epochs=5, random_state=0).fit(X, y)
    cpu = pickle.loads(pickle.dumps(clf))
    cpu.net_.set_params(device="cpu")
    cpu.net_.module_.to("cpu")
    assert_array_equal(cpu.predict(X), clf.predict(X))
