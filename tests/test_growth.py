"""Growth policies: the default one, a contract every policy keeps, and a new policy with no edit of the loop."""

import math

import numpy as np
import pytest

from sklearn_autonet.bound import network_holds
from sklearn_autonet.growth import GROWTH_POLICIES, BoundSettings, DeepenWidest, GrowthPolicy, Proposal, Trained
from sklearn_autonet.hyperparameters import DataProperties, widest_spec
from sklearn_autonet.search import SearchConfig, run_search
from sklearn_autonet.training import TrainingSettings

SIGNAL = DataProperties(n_fit=120, input_kind="signal", input_shape=(1, 64), n_classes=2, sampling_rate=100)
TABLE = DataProperties(n_fit=200, input_kind="tabular", input_shape=(12,), n_classes=3)
TINY = DataProperties(n_fit=3, input_kind="signal", input_shape=(2, 32), n_classes=2)


class KernelAndDepth(GrowthPolicy):
    """A policy written only here: each round proposes the next depth with two first-kernel sizes."""

    name = "kernel_and_depth"

    def propose(self, round, props, bound, trained):
        if round > bound.depth_limit(props):
            return []
        proposals = []
        for k in (3, 9):
            spec = widest_spec(props, round, rho=bound.rho, counting=bound.counting, max_width=bound.max_width,
                               activation=bound.activation, kernel_size=k)
            if spec is not None:
                proposals.append(Proposal(spec, f"depth {round}, kernel {k}"))
        return proposals


ALL_POLICIES = [cls() for cls in GROWTH_POLICIES.values()] + [KernelAndDepth()]


def fake_history(proposals, round_number, start=0):
    return tuple(Trained(start + i, round_number, p.spec, 0.5 + 0.01 * i, True) for i, p in enumerate(proposals))


@pytest.mark.parametrize("policy", ALL_POLICIES, ids=lambda p: type(p).__name__)
@pytest.mark.parametrize("props", [SIGNAL, TABLE], ids=["signal", "tabular"])
@pytest.mark.parametrize("bound", [BoundSettings(), BoundSettings(rho=0.5, max_width=16),
                                   BoundSettings(counting="outputs", max_depth=3), BoundSettings(max_depth=1)],
                         ids=["default", "narrow", "outputs", "one-block"])
def test_policy_contract(policy, props, bound):
    """Every policy: proposals obey the bound on every layer, fit the data, end, and repeat themselves."""
    trained, seen_rounds = (), 0
    for round_number in range(1, 20):
        proposals = policy.propose(round_number, props, bound, trained)
        again = policy.propose(round_number, props, bound, trained)
        assert [p.spec for p in proposals] == [p.spec for p in again]  # deterministic
        if not proposals:
            break
        seen_rounds += 1
        for proposal in proposals:
            assert isinstance(proposal, Proposal) and proposal.reason
            spec = proposal.spec
            assert network_holds(spec, props.n_fit, bound.rho, bound.counting)
            assert spec.input_kind == props.input_kind and tuple(spec.input_shape) == props.input_shape
            assert spec.head.width == props.n_classes and spec.activation == bound.activation
            assert max(layer.width for layer in spec.hidden) <= bound.max_width
            assert spec.depth <= bound.depth_limit(props)
        trained = trained + fake_history(proposals, round_number, start=len(trained))
    else:
        pytest.fail("the policy never ran out of room to grow")
    assert seen_rounds >= 1  # there is room for a first round on these data


@pytest.mark.parametrize("policy", ALL_POLICIES, ids=lambda p: type(p).__name__)
def test_policy_says_when_there_is_no_room(policy):
    # 3 samples cannot carry even one block of width 1 (its head alone has 4 parameters) when
    # each sample is one equation; "outputs" counts a conv block's output values too
    assert policy.propose(1, TINY, BoundSettings(counting="samples"), ()) == []


def test_deepen_widest_is_one_block_deeper_each_round():
    bound = BoundSettings()
    specs = [DeepenWidest().propose(r, SIGNAL, bound, ())[0].spec for r in (1, 2, 3)]
    assert [s.depth for s in specs] == [1, 2, 3]
    for spec in specs:
        width = spec.hidden[0].width
        assert all(layer.width == width for layer in spec.hidden)
        wider = widest_spec(SIGNAL, spec.depth, max_width=width + 1)
        # the widest within the bound: one unit more breaks it (or the cap was reached)
        assert wider.hidden[0].width == width or width == bound.max_width
    assert DeepenWidest().propose(bound.depth_limit(SIGNAL) + 1, SIGNAL, bound, ()) == []


def test_a_new_policy_runs_through_the_unchanged_loop(signals):
    """The kernel-varying policy above is one class: run_search trains what it proposes."""
    X, y = signals
    X = X.astype(np.float32)
    n = len(y)
    train = (X[: n * 3 // 4], y[: n * 3 // 4].astype(np.int64), np.ones(n * 3 // 4))
    valid = (X[n * 3 // 4 :], y[n * 3 // 4 :].astype(np.int64), np.ones(n - n * 3 // 4))
    props = DataProperties(len(train[1]), "signal", X.shape[1:], 3)
    config = SearchConfig(training=TrainingSettings(max_epochs=2, batch_size=16, device="cpu"),
                          max_candidates=4, patience=5)
    result = run_search(props, train, valid, config, policy=KernelAndDepth(), random_state=0)
    history = result.history
    assert history["round"] == [1, 1, 2, 2]
    assert [k[0] for k in history["kernel_sizes"]] == [3, 9, 3, 9]
    assert history["depth"] == [1, 1, 2, 2]
    assert history["reason"] == ["depth 1, kernel 3", "depth 1, kernel 9", "depth 2, kernel 3", "depth 2, kernel 9"]
    assert all(math.isfinite(s) for s in history["validation_score"])
    assert history["selected"].index(True) == int(np.argmax(history["validation_score"]))


def test_a_policy_breaking_the_bound_is_refused(signals):
    class TooWide(GrowthPolicy):
        def propose(self, round, props, bound, trained):
            from sklearn_autonet.hyperparameters import network_spec

            return [Proposal(network_spec(props, 1, 500), "too wide")] if round == 1 else []

    X, y = signals
    train = (X.astype(np.float32), y.astype(np.int64), np.ones(len(y)))
    props = DataProperties(len(y), "signal", X.shape[1:], 3)
    with pytest.raises(ValueError, match="breaks the layer-wise bound"):
        run_search(props, train, train, SearchConfig(), policy=TooWide())
