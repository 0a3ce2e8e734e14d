"""The layer-wise convexity bound: counting unknowns and equations per layer.

Our reading of the Layer-wise Convex Theorem (see ``docs/method.md``): a
trainable layer ``l`` is an overdetermined system when

    P_l <= rho * N_eq

where ``P_l`` counts the layer's trainable parameters (weights, bias, and the
affine parameters of the normalisation attached to it) and ``N_eq`` counts the
equations the training set imposes on it:

* ``counting="samples"``: ``N_eq = N_fit``, the number of samples the
  candidate is trained on (the default of the functions here, which take the
  rule explicitly from their callers);
* ``counting="outputs"``: ``N_eq = N_fit * outputs``, the number of output values
  the layer produces over the training set (a much weaker bound; the
  estimator's default).

Everything here is a pure function of integers; nothing imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from .architecture import INVERTIBLE_ACTIVATIONS, format_table

#: The counting rules, name -> equations one training sample imposes on a layer.
#: This dict is both the list of valid names and the lookup: an unknown name is
#: never read as another rule.
COUNTING_RULES = {
    "samples": lambda layer: 1,
    "outputs": lambda layer: layer.outputs_per_sample,
}


def equations_per_sample(layer, counting="samples"):
    """Equations one training sample imposes on ``layer`` under the counting rule.

    Raises
    ------
    ValueError
        When ``counting`` is not a key of :data:`COUNTING_RULES`.

    Examples
    --------
    >>> from sklearn_autonet.architecture import LayerSpec
    >>> conv = LayerSpec("conv1", "conv", 1, 8, kernel_size=7, in_length=96)
    >>> equations_per_sample(conv, "samples"), equations_per_sample(conv, "outputs")
    (1, 768)
    """
    try:
        rule = COUNTING_RULES[counting]
    except (KeyError, TypeError):
        raise ValueError(f"counting must be one of {sorted(COUNTING_RULES)}, got {counting!r}.") from None
    return int(rule(layer))


def layer_parameter_count(layer):
    """Number of trainable parameters ``P_l`` of one :class:`LayerSpec`.

    Conv: ``C_in * k * w`` weights; dense and head: ``C_in * w`` weights.  A
    layer followed by BatchNorm has no bias but the norm's ``2 * w`` affine
    parameters; a layer without norm (and the head) has ``w`` biases.

    Parameters
    ----------
    layer : LayerSpec
        The layer to count.

    Returns
    -------
    P_l : int
        Its trainable parameters.

    Examples
    --------
    >>> from sklearn_autonet.architecture import LayerSpec
    >>> layer_parameter_count(LayerSpec("conv1", "conv", 1, 8, kernel_size=7, in_length=96))
    72
    >>> layer_parameter_count(LayerSpec("head", "head", 8, 2, norm=False))
    18
    """
    weights = layer.in_channels * layer.kernel_size * layer.width
    extra = 2 * layer.width if (layer.norm and layer.kind != "head") else layer.width
    return weights + extra


def n_equations(layer, n_fit, counting="samples"):
    """Number of equations ``N_eq`` the training set imposes on ``layer``.

    Parameters
    ----------
    layer : LayerSpec
        The layer.
    n_fit : int
        Samples the network is trained on.
    counting : {"samples", "outputs"}, default="samples"
        One equation per training sample, or one per output value of the
        layer over the training set.

    Returns
    -------
    N_eq : int
        Number of equations.

    Examples
    --------
    >>> from sklearn_autonet.architecture import LayerSpec
    >>> conv = LayerSpec("conv1", "conv", 1, 8, kernel_size=7, in_length=96)
    >>> n_equations(conv, 100), n_equations(conv, 100, counting="outputs")
    (100, 76800)
    """
    return int(n_fit) * equations_per_sample(layer, counting)


def layer_holds(layer, n_fit, rho=1.0, counting="samples"):
    """Whether ``P_l <= rho * N_eq`` for this layer.

    Parameters
    ----------
    layer : LayerSpec
        The layer.
    n_fit : int
        Samples the network is trained on.
    rho : float, default=1.0
        Slack of the bound.
    counting : {"samples", "outputs"}, default="samples"
        How equations are counted (see :func:`n_equations`).

    Returns
    -------
    holds : bool
        True when the layer is an overdetermined system.

    Examples
    --------
    >>> from sklearn_autonet.architecture import LayerSpec
    >>> conv = LayerSpec("conv1", "conv", 1, 8, kernel_size=7, in_length=96)
    >>> layer_holds(conv, 100), layer_holds(conv, 50)
    (True, False)
    """
    return layer_parameter_count(layer) <= rho * n_equations(layer, n_fit, counting)


def network_holds(spec, n_fit, rho=1.0, counting="samples"):
    """Whether every trainable layer of ``spec`` (head included) is overdetermined.

    Parameters
    ----------
    spec : NetworkSpec
        The network.
    n_fit : int
        Samples the network is trained on.
    rho : float, default=1.0
        Slack of the bound.
    counting : {"samples", "outputs"}, default="samples"
        How equations are counted (see :func:`n_equations`).

    Returns
    -------
    holds : bool
        True when :func:`layer_holds` is true for every layer.

    Examples
    --------
    >>> from sklearn_autonet.hyperparameters import DataProperties, network_spec
    >>> spec = network_spec(DataProperties(80, "signal", (1, 96), 2), depth=1, width=8)
    >>> network_holds(spec, 80), network_holds(spec, 60)
    (True, False)
    """
    return all(layer_holds(layer, n_fit, rho, counting) for layer in spec.layers)


def min_samples_for(layer, rho=1.0, counting="samples"):
    """Smallest ``N_fit`` for which ``layer`` is overdetermined.

    Parameters
    ----------
    layer : LayerSpec
        The layer.
    rho : float, default=1.0
        Slack of the bound.
    counting : {"samples", "outputs"}, default="samples"
        How equations are counted (see :func:`n_equations`).

    Returns
    -------
    n_fit : int
        The fewest training samples that satisfy ``P_l <= rho * N_eq``.

    Examples
    --------
    >>> from sklearn_autonet.architecture import LayerSpec
    >>> conv = LayerSpec("conv1", "conv", 1, 8, kernel_size=7, in_length=96)
    >>> min_samples_for(conv), min_samples_for(conv, rho=0.5)
    (72, 144)
    """
    per_sample = equations_per_sample(layer, counting)
    needed = layer_parameter_count(layer) / (rho * per_sample)
    return int(-(-needed // 1))


@dataclass(frozen=True)
class ConvexityRow:
    """The bound for one layer: ``P_l``, ``N_eq``, their ratio and whether it holds.

    One row of a :class:`ConvexityReport`; :func:`convexity_report` makes them.

    Parameters
    ----------
    layer : str
        Layer name (``"conv1"``, ``"dense2"``, ``"head"``).
    P_l : int
        Trainable parameters of the layer.
    N_fit : int
        Samples the network is trained on.
    N_eq : int
        Equations under the counting rule.
    ratio : float
        ``P_l / N_eq``.
    holds : bool
        Whether ``P_l <= rho * N_eq``.
    invertible_activation : bool
        Whether the layer's activation is invertible (always True for the head).

    Attributes
    ----------
    layer, P_l, N_fit, N_eq, ratio, holds, invertible_activation
        The parameters, as fields of a frozen dataclass.

    Examples
    --------
    >>> from sklearn_autonet.hyperparameters import DataProperties, network_spec
    >>> spec = network_spec(DataProperties(80, "signal", (1, 96), 2), depth=1, width=8)
    >>> row = convexity_report(spec, n_fit=80)[0]
    >>> row.layer, row.P_l, row.N_eq, row.holds
    ('conv1', 72, 80, True)
    """

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
    ``report.to_frame()`` a pandas DataFrame.  Made by
    :func:`convexity_report`; a fitted estimator holds one as
    ``convexity_report_``.

    Parameters
    ----------
    rows : iterable of ConvexityRow
        One row per trainable layer, the head last.

    Attributes
    ----------
    holds : bool
        Whether the bound holds for every layer.
    rho : float
        Slack of the bound the rows were checked with.
    counting : {"samples", "outputs"}
        Counting rule the rows were checked with.

    Examples
    --------
    >>> from sklearn_autonet.hyperparameters import DataProperties, network_spec
    >>> spec = network_spec(DataProperties(80, "signal", (1, 96), 2), depth=1, width=8)
    >>> report = convexity_report(spec, n_fit=80)
    >>> report.holds, [row.layer for row in report]
    (True, ['conv1', 'head'])
    >>> print(report)  # doctest: +ELLIPSIS
    layer-wise bound P_l <= rho * N_eq  (rho=1.0, counting='samples')
    ...
    """

    rho = 1.0
    counting = "samples"

    @property
    def holds(self):
        """Whether the bound holds for every layer."""
        return all(row.holds for row in self)

    def as_dicts(self):
        """The rows as a list of dicts."""
        return [row.__dict__.copy() for row in self]

    def to_frame(self):
        """The rows as a pandas DataFrame (needs pandas)."""
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
        The network.
    n_fit : int
        Number of samples the network is trained on.
    rho : float, default=1.0
        Slack of the bound ``P_l <= rho * N_eq``.
    counting : {"samples", "outputs"}, default="samples"
        How equations are counted (see :func:`n_equations`).

    Returns
    -------
    report : ConvexityReport
        One :class:`ConvexityRow` per trainable layer.

    Examples
    --------
    >>> from sklearn_autonet import convexity_report
    >>> from sklearn_autonet.hyperparameters import DataProperties, network_spec
    >>> spec = network_spec(DataProperties(80, "signal", (1, 96), 2), depth=1, width=8)
    >>> convexity_report(spec, n_fit=80).holds, convexity_report(spec, n_fit=60).holds
    (True, False)
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
