"""The layer-wise convexity bound: counting unknowns and equations per layer.

Our reading of the Layer-wise Convex Theorem (see ``docs/method.md``): a
trainable layer ``l`` is an overdetermined system when

    P_l <= rho * N_eq

where ``P_l`` counts the layer's trainable parameters (weights, bias, and the
affine parameters of the normalisation attached to it) and ``N_eq`` counts the
equations the training set imposes on it:

* ``counting="samples"`` (default): ``N_eq = N_fit``, the number of samples the
  candidate is trained on;
* ``counting="outputs"``: ``N_eq = N_fit * outputs``, the number of output values
  the layer produces over the training set (a much weaker bound).

Everything here is a pure function of integers; nothing imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from .architecture import INVERTIBLE_ACTIVATIONS, format_table

COUNTING_RULES = ("samples", "outputs")


def layer_parameter_count(layer):
    """Number of trainable parameters ``P_l`` of one :class:`LayerSpec`.

    Conv: ``C_in * k * w`` weights; dense and head: ``C_in * w`` weights.  A
    layer followed by BatchNorm has no bias but the norm's ``2 * w`` affine
    parameters; a layer without norm (and the head) has ``w`` biases.
    """
    weights = layer.in_channels * layer.kernel_size * layer.width
    extra = 2 * layer.width if (layer.norm and layer.kind != "head") else layer.width
    return weights + extra


def n_equations(layer, n_fit, counting="samples"):
    """Number of equations ``N_eq`` the training set imposes on ``layer``."""
    if counting == "samples":
        return int(n_fit)
    if counting == "outputs":
        return int(n_fit) * layer.outputs_per_sample
    raise ValueError(f"counting must be one of {COUNTING_RULES}, got {counting!r}.")


def layer_holds(layer, n_fit, rho=1.0, counting="samples"):
    """Whether ``P_l <= rho * N_eq`` for this layer."""
    return layer_parameter_count(layer) <= rho * n_equations(layer, n_fit, counting)


def network_holds(spec, n_fit, rho=1.0, counting="samples"):
    """Whether every trainable layer of ``spec`` (head included) is overdetermined."""
    return all(layer_holds(layer, n_fit, rho, counting) for layer in spec.layers)


def min_samples_for(layer, rho=1.0, counting="samples"):
    """Smallest ``N_fit`` for which ``layer`` is overdetermined."""
    per_sample = 1 if counting == "samples" else layer.outputs_per_sample
    needed = layer_parameter_count(layer) / (rho * per_sample)
    return int(-(-needed // 1))


@dataclass(frozen=True)
class ConvexityRow:
    """The bound for one layer: ``P_l``, ``N_eq``, their ratio and whether it holds."""

    layer: str
    P_l: int
    N_fit: int
    N_eq: int
    ratio: float
    holds: bool
    invertible_activation: bool


class ConvexityReport(tuple):
    """Per trainable layer: name, ``P_l``, ``N_fit``, ``N_eq``, ratio ``P_l / N_eq``, holds.

    A tuple of :class:`ConvexityRow`; ``str(report)`` is a table,
    ``report.holds`` whether every layer is overdetermined, and
    ``report.to_frame()`` a pandas DataFrame.
    """

    rho = 1.0
    counting = "samples"

    @property
    def holds(self):
        return all(row.holds for row in self)

    def as_dicts(self):
        return [row.__dict__.copy() for row in self]

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.as_dicts())

    def __str__(self):
        head = f"layer-wise bound P_l <= rho * N_eq  (rho={self.rho}, counting={self.counting!r})"
        return head + "\n" + format_table(self.as_dicts())


def convexity_report(spec, n_fit, rho=1.0, counting="samples"):
    """Check the bound on every trainable layer of ``spec``.

    Parameters
    ----------
    spec : NetworkSpec
    n_fit : int
        Number of samples the network is trained on.
    rho : float, default=1.0
    counting : {"samples", "outputs"}, default="samples"

    Returns
    -------
    ConvexityReport
    """
    invertible = spec.activation in INVERTIBLE_ACTIVATIONS
    rows = []
    for layer in spec.layers:
        p = layer_parameter_count(layer)
        n_eq = n_equations(layer, n_fit, counting)
        rows.append(
            ConvexityRow(
                layer=layer.name,
                P_l=p,
                N_fit=int(n_fit),
                N_eq=n_eq,
                ratio=p / n_eq if n_eq else float("inf"),
                holds=p <= rho * n_eq,
                invertible_activation=invertible or layer.kind == "head",
            )
        )
    report = ConvexityReport(rows)
    report.rho = rho
    report.counting = counting
    return report
