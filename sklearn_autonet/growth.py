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
from .bound import network_holds
from .hyperparameters import (
    DEFAULT_FIRST_KERNEL,
    depth_limit,
    first_kernel_size,
    network_spec,
    stem_stride,
    widest_spec,
)


@dataclass(frozen=True)
class BoundSettings:
    """The estimator's settings that decide which networks a policy may propose.

    Parameters
    ----------
    rho : float, default=1.0
        Slack of the bound ``P_l <= rho * N_eq``.
    counting : str, default="outputs"
        A key of :data:`~sklearn_autonet.bound.COUNTING_RULES`.
    max_width : int, default=64
        Widest block.
    activation : str, default="leaky_relu"
        Hidden activation.
    kernel_size : int or None, default=None
        Kernel size of every conv block; None: from the data.
    max_depth : int or None, default=None
        Deepest network; None: as deep as the data allow.
    stem_stride : "auto" or int, default="auto"
        Stride of the first conv block; see
        :func:`~sklearn_autonet.hyperparameters.stem_stride`.
    """

    rho: float = 1.0
    counting: str = "outputs"
    max_width: int = 64
    activation: str = "leaky_relu"
    kernel_size: int | None = None
    max_depth: int | None = None
    stem_stride: int | str = "auto"

    def stem(self, props):
        """The first conv block's stride for these data (before the cap at its kernel size)."""
        return stem_stride(props, self.stem_stride)

    def widest(self, props, depth, first_kernel=None):
        """The widest ``depth``-block spec within the bound (None: none fits); see :func:`widest_spec`.

        ``first_kernel`` sets the first conv block's kernel (ignored when the
        settings fix every kernel with ``kernel_size``).  None also past ``max_depth``.
        """
        if depth > self.depth_limit(props):
            return None
        return widest_spec(
            props,
            depth,
            rho=self.rho,
            counting=self.counting,
            max_width=self.max_width,
            activation=self.activation,
            kernel_size=self.kernel_size,
            first_kernel=first_kernel,
            stem=self.stem(props),
        )

    def spec(self, props, depth, width, first_kernel=None):
        """The ``depth``-block spec of ``width`` units per block, or None when it breaks the bound."""
        spec = network_spec(props, depth, width, self.activation, self.kernel_size, first_kernel, self.stem(props))
        if depth > self.depth_limit(props) or not network_holds(spec, props.n_fit, self.rho, self.counting):
            return None
        return spec

    def depth_limit(self, props):
        """The deepest network the data, the stem and ``max_depth`` allow."""
        return depth_limit(props, self.max_depth, self.stem(props))


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

    A subclass implements :meth:`propose`; :meth:`expected_candidates` (the
    progress bar's length and the search's time plan under ``max_time``) may be
    overridden.
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

    def expected_candidates(self, props, bound):
        """About how many networks the search may train: one per round up to the depth limit."""
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
    ['signal(1x96) leaky_relu: conv k7 w64 -> conv k5 w64 -> head 2']
    """

    name = "deepen"

    def propose(self, round, props, bound, trained):
        if round > bound.depth_limit(props):
            return []
        spec = bound.widest(props, round)
        if spec is None:
            return []
        return [Proposal(spec, f"depth {round}: one block deeper, widest width within the bound")]


class Explore(GrowthPolicy):
    """Several networks per round around the best so far: widths, first kernels and the next depth.

    Round 1 proposes depth-1 networks of the widest width the bound allows,
    of half and a quarter of it, with the first kernel at the QRS scale and at
    the two ``kernel_seconds`` around it (``0.05`` and ``0.2`` s when the
    sampling rate is known; otherwise half and twice the default kernel), and
    the widest depth-2 network.  Each later round starts from the best
    candidate so far (by validation score) and proposes it one block deeper at
    its own width and at the widest width, and at its depth with half its
    width; when all of these were trained already, the shallowest depth below
    it not tried yet.  Networks already trained are not proposed again; when
    nothing new is left there is no room to grow.  Every proposal obeys the
    bound.

    Parameters
    ----------
    width_fractions : tuple of float, default=(1.0, 0.5, 0.25)
        Widths of round 1, as fractions of the widest the bound allows.
    kernel_seconds : tuple of float, default=(0.05, 0.2)
        First kernels of round 1 besides the QRS-scale one, in seconds.

    Examples
    --------
    >>> from sklearn_autonet.hyperparameters import DataProperties
    >>> props = DataProperties(2000, "signal", (1, 256), 4, sampling_rate=360)
    >>> for p in Explore().propose(1, props, BoundSettings(), ()):
    ...     print(p.spec.describe())
    signal(1x256) leaky_relu: conv k37 w64 -> head 4
    signal(1x256) leaky_relu: conv k37 w32 -> head 4
    signal(1x256) leaky_relu: conv k37 w16 -> head 4
    signal(1x256) leaky_relu: conv k19 w64 -> head 4
    signal(1x256) leaky_relu: conv k73 w64 -> head 4
    signal(1x256) leaky_relu: conv k37 w64 -> conv k5 w64 -> head 4
    """

    name = "explore"

    def __init__(self, width_fractions=(1.0, 0.5, 0.25), kernel_seconds=(0.05, 0.2)):
        self.width_fractions = tuple(width_fractions)
        self.kernel_seconds = tuple(kernel_seconds)

    def __repr__(self):
        return f"Explore(width_fractions={self.width_fractions}, kernel_seconds={self.kernel_seconds})"

    def expected_candidates(self, props, bound):
        """Round 1's proposals, then three per round up to the depth limit."""
        return len(self.propose(1, props, bound, ())) + 3 * max(0, bound.depth_limit(props) - 1)

    def _other_kernels(self, props, bound):
        if not props.is_signal or bound.kernel_size is not None:
            return []
        if props.sampling_rate is not None:
            return [first_kernel_size(props.sampling_rate, s) for s in self.kernel_seconds]
        return [max(3, DEFAULT_FIRST_KERNEL // 2 | 1), 2 * DEFAULT_FIRST_KERNEL + 1]

    def propose(self, round, props, bound, trained):
        tried = {t.spec for t in trained}
        found = []

        def add(spec, reason):
            if spec is not None and spec not in tried and all(spec != p.spec for p in found):
                found.append(Proposal(spec, reason))

        if round == 1:
            widest = bound.widest(props, 1)
            if widest is None:
                return []
            top = widest.hidden[0].width
            for fraction in self.width_fractions:
                width = max(1, int(top * fraction))
                add(bound.spec(props, 1, width), f"round 1: depth 1, {fraction:g} of the widest width")
            for k in self._other_kernels(props, bound):
                add(bound.widest(props, 1, first_kernel=k), f"round 1: depth 1, first kernel {k}")
            add(bound.widest(props, 2), "round 1: depth 2, widest width")
            return found
        ok = [t for t in trained if t.ok]
        if not ok:  # every candidate so far failed: go on deepening the line
            return DeepenWidest().propose(round, props, bound, trained)
        center = max(ok, key=lambda t: (t.validation_score, -t.candidate)).spec
        depth, width = center.depth, center.hidden[0].width
        first = center.hidden[0].kernel_size if center.is_signal and bound.kernel_size is None else None
        name = f"candidate {next(t.candidate for t in ok if t.spec == center)}"
        add(bound.spec(props, depth + 1, width, first), f"one block deeper than {name}, its width")
        add(bound.widest(props, depth + 1, first_kernel=first), f"one block deeper than {name}, widest width")
        if width > 1:
            add(bound.spec(props, depth, max(1, width // 2), first), f"{name} at half its width")
        # nothing new around the best: the shallowest depth below it not tried yet, at the widest width
        deeper = depth + 2
        while not found and deeper <= bound.depth_limit(props):
            add(bound.widest(props, deeper, first_kernel=first), f"{deeper - depth} blocks deeper than {name}")
            deeper += 1
        return found


#: Growth policies by name.
GROWTH_POLICIES = {DeepenWidest.name: DeepenWidest, Explore.name: Explore}
