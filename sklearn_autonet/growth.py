"""Growth policies: what the AutoNet search trains in its next round.

Step 4 of AutoNet ("update one or more hyperparameters and repeat") is a
policy.  Given the data properties, the bound settings and the candidates
trained so far, a :class:`GrowthPolicy` proposes the next round's candidates
(a list of :class:`Proposal`, each a :class:`~sklearn_autonet.architecture.NetworkSpec`
and why it was proposed), or an empty list when there is no room to grow.
The loop in :mod:`sklearn_autonet.search` owns everything else (training,
patience, budgets, interrupts, selection), so a new way of exploring is one
new class here, with no edit of the loop.

Every spec a policy proposes must obey the layer-wise bound on every layer;
the search refuses one that does not.

:data:`GROWTH_POLICIES` maps names to policies.
"""

from __future__ import annotations

from dataclasses import dataclass

from .architecture import NetworkSpec
from .hyperparameters import depth_limit, widest_spec


@dataclass(frozen=True)
class BoundSettings:
    """The estimator's settings that decide which networks a policy may propose.

    Parameters
    ----------
    rho : float, default=1.0
        Slack of the bound ``P_l <= rho * N_eq``.
    counting : str, default="samples"
        A key of :data:`~sklearn_autonet.bound.COUNTING_RULES`.
    max_width : int, default=64
        Widest block.
    activation : str, default="leaky_relu"
        Hidden activation.
    kernel_size : int or None, default=None
        Kernel size of every conv block; None: from the data.
    max_depth : int or None, default=None
        Deepest network; None: as deep as the data allow.
    """

    rho: float = 1.0
    counting: str = "samples"
    max_width: int = 64
    activation: str = "leaky_relu"
    kernel_size: int | None = None
    max_depth: int | None = None

    def widest(self, props, depth, kernel_size=None):
        """The widest ``depth``-block spec within the bound (None: none fits); see :func:`widest_spec`.

        ``kernel_size`` overrides the settings' own for this spec.
        """
        return widest_spec(
            props,
            depth,
            rho=self.rho,
            counting=self.counting,
            max_width=self.max_width,
            activation=self.activation,
            kernel_size=self.kernel_size if kernel_size is None else kernel_size,
        )

    def depth_limit(self, props):
        """The deepest network the data and ``max_depth`` allow."""
        return depth_limit(props, self.max_depth)


@dataclass(frozen=True)
class Proposal:
    """One network a policy wants trained, and why.

    Parameters
    ----------
    spec : NetworkSpec
    reason : str
        One line for ``search_history_["reason"]``.
    """

    spec: NetworkSpec
    reason: str


@dataclass(frozen=True)
class Trained:
    """What a policy sees of a candidate already trained.

    Parameters
    ----------
    candidate : int
        Its index in the search.
    round : int
        The round it was proposed in (1 for the first).
    spec : NetworkSpec
    validation_score : float
        NaN when it failed.
    ok : bool
        Whether it trained.
    """

    candidate: int
    round: int
    spec: NetworkSpec
    validation_score: float
    ok: bool


class GrowthPolicy:
    """Base class of growth policies.

    A subclass implements :meth:`propose`; :meth:`expected_rounds` (for the
    progress bar) may be overridden.
    """

    #: Name in :data:`GROWTH_POLICIES`.
    name = "base"

    def propose(self, round, props, bound, trained):
        """The candidates of round ``round``.

        Parameters
        ----------
        round : int
            The round to propose (1 for the first).
        props : DataProperties
            The training data's properties.
        bound : BoundSettings
        trained : tuple of Trained
            Every candidate of the earlier rounds, in order.

        Returns
        -------
        list of Proposal
            Empty when there is no room to grow.
        """
        raise NotImplementedError

    def expected_rounds(self, props, bound):
        """About how many rounds the search can run (the progress bar's length)."""
        return bound.depth_limit(props)

    def __repr__(self):
        return f"{type(self).__name__}()"


class DeepenWidest(GrowthPolicy):
    """One block deeper each round, every block as wide as the bound allows.

    Round ``d`` proposes the ``d``-block network of the widest uniform width
    within the bound (:func:`~sklearn_autonet.hyperparameters.widest_spec`);
    there is no room to grow past the depth limit or when not even width 1
    fits.

    Examples
    --------
    >>> from sklearn_autonet.hyperparameters import DataProperties
    >>> props = DataProperties(80, "signal", (1, 96), 2)
    >>> [p.spec.describe() for p in DeepenWidest().propose(2, props, BoundSettings(), ())]
    ['signal(1x96) leaky_relu: conv k7 w3 -> conv k5 w3 -> head 2']
    """

    name = "deepen"

    def propose(self, round, props, bound, trained):
        if round > bound.depth_limit(props):
            return []
        spec = bound.widest(props, round)
        if spec is None:
            return []
        return [Proposal(spec, f"depth {round}: one block deeper, widest width within the bound")]


#: Growth policies by name.
GROWTH_POLICIES = {DeepenWidest.name: DeepenWidest}
