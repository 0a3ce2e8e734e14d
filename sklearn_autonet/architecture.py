"""Plain descriptions of LCN architectures: what a candidate network is made of.

A :class:`NetworkSpec` is a small, immutable, picklable value: the search creates
them, :mod:`sklearn_autonet.bound` counts and checks them, and
:mod:`sklearn_autonet.modules` turns them into torch modules.  Nothing here
imports torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .layout import SIGNAL

#: Activations that are strictly monotone (invertible), as the convexity
#: argument needs.  ReLU is allowed but breaks that premise.
INVERTIBLE_ACTIVATIONS = ("leaky_relu", "elu", "tanh")


@dataclass(frozen=True)
class LayerSpec:
    """One trainable layer (block) of an LCN.

    Parameters
    ----------
    name : str
        Readable name, e.g. ``"conv1"``, ``"dense2"``, ``"head"``.
    kind : {"conv", "dense", "head"}
        ``"conv"``: Conv1d (stride ``stride``) -> BatchNorm1d -> activation -> max-pool by 2.
        ``"dense"``: Linear -> BatchNorm1d -> activation.
        ``"head"``: (global average pooling for signals) -> Linear to the classes.
    in_channels : int
        Input channels (conv) or input features (dense, head).
    width : int
        Output channels / units (for the head: the number of classes).
    kernel_size : int
        Convolution kernel size (1 for dense layers and the head).
    in_length : int
        Temporal length entering the layer (1 for dense layers and the head).
    norm : bool
        Whether a BatchNorm1d follows the layer (then the layer has no bias).
    stride : int, default=1
        Step of the convolution (conv only; 1 for dense layers and the head).
        Stride 1 pads ``"same"`` (the output is as long as the input); a
        larger stride pads ``(kernel_size - 1) // 2`` samples on each side, so
        the output has ``ceil(in_length / stride)`` samples for an odd kernel.

    Attributes
    ----------
    conv_length : int
        Temporal length the convolution writes, before pooling (1 for dense
        layers and the head).
    out_length : int
        Temporal length leaving the layer (``conv_length`` halved by pooling
        for conv blocks).
    outputs_per_sample : int
        Output values per sample before pooling (``width * conv_length``).

    Examples
    --------
    >>> from sklearn_autonet.architecture import LayerSpec
    >>> conv = LayerSpec("conv1", "conv", in_channels=1, width=8, kernel_size=7, in_length=96)
    >>> conv.out_length, conv.outputs_per_sample
    (48, 768)
    >>> stem = LayerSpec("conv1", "conv", 1, 8, kernel_size=37, in_length=10800, stride=3)
    >>> stem.conv_length, stem.out_length, stem.outputs_per_sample
    (3600, 1800, 28800)
    """

    name: str
    kind: str
    in_channels: int
    width: int
    kernel_size: int = 1
    in_length: int = 1
    norm: bool = True
    stride: int = 1

    @property
    def padding(self):
        """Padding of the convolution: ``"same"`` at stride 1, else ``(kernel_size - 1) // 2`` per side."""
        return "same" if self.stride == 1 else (self.kernel_size - 1) // 2

    @property
    def conv_length(self):
        """Temporal length the convolution writes (before pooling); 1 for dense layers and the head."""
        if self.kind != "conv":
            return 1
        if self.stride == 1:
            return self.in_length
        return (self.in_length + 2 * self.padding - self.kernel_size) // self.stride + 1

    @property
    def out_length(self):
        """Temporal length leaving the layer (after pooling for conv blocks)."""
        return self.conv_length // 2 if self.kind == "conv" else 1

    @property
    def outputs_per_sample(self):
        """Number of output values the layer produces per sample (before pooling)."""
        return self.width * self.conv_length


@dataclass(frozen=True)
class NetworkSpec:
    """A whole LCN: its hidden blocks and its head.

    Parameters
    ----------
    input_kind : {"tabular", "signal"}
    input_shape : tuple of int
        ``(n_features,)`` for tabular input, ``(leads, length)`` for signals.
    layers : tuple of LayerSpec
        Hidden blocks followed by the head (always last).
    activation : str
        A key of :data:`sklearn_autonet.modules.ACTIVATIONS`.
    n_side : int, default=0
        Side features (signal input only): each sample is then one flat row of
        ``prod(input_shape)`` signal values followed by ``n_side`` tabular
        values, which join the pooled conv features at the head's input
        (the head's ``in_channels`` counts them).

    Attributes
    ----------
    depth : int
        Number of hidden blocks (the head is not counted).
    hidden : tuple of LayerSpec
        The hidden blocks.
    head : LayerSpec
        The last layer.
    hyperparameters : dict
        Depth, widths, kernel sizes and activation (as in ``search_history_``).

    Examples
    --------
    >>> from sklearn_autonet import NetworkSpec
    >>> from sklearn_autonet.architecture import LayerSpec
    >>> spec = NetworkSpec("tabular", (30,), (LayerSpec("dense1", "dense", 30, 16),
    ...                                       LayerSpec("head", "head", 16, 2, norm=False)))
    >>> spec.depth, spec.describe()
    (1, 'tabular(30) leaky_relu: dense w16 -> head 2')
    >>> NetworkSpec.from_dict(spec.to_dict()) == spec
    True
    """

    input_kind: str
    input_shape: tuple
    layers: tuple
    activation: str = "leaky_relu"
    n_side: int = 0

    @property
    def depth(self):
        """Number of hidden blocks (the head is not counted)."""
        return len(self.layers) - 1

    @property
    def is_signal(self):
        """Whether the network reads a signal (conv blocks) rather than a table."""
        return self.input_kind == SIGNAL

    @property
    def hidden(self):
        """The hidden blocks (every layer but the head)."""
        return self.layers[:-1]

    @property
    def head(self):
        """The head, the last layer."""
        return self.layers[-1]

    def hyperparameters(self):
        """The few numbers that identify the candidate in the search history."""
        hidden = self.hidden
        return {
            "depth": self.depth,
            "widths": tuple(layer.width for layer in hidden),
            "kernel_sizes": tuple(layer.kernel_size for layer in hidden)
            if self.is_signal
            else (),
            "activation": self.activation,
        }

    def describe(self):
        """One line, e.g. ``signal(1x96): conv k7 w8 -> conv k5 w3 -> head 2``."""
        parts = []
        for layer in self.layers:
            if layer.kind == "conv":
                stride = f" s{layer.stride}" if layer.stride != 1 else ""
                parts.append(f"conv k{layer.kernel_size}{stride} w{layer.width}")
            elif layer.kind == "dense":
                parts.append(f"dense w{layer.width}")
            else:
                parts.append(f"head {layer.width}")
        shape = "x".join(str(s) for s in self.input_shape)
        if self.n_side:
            shape += f"+{self.n_side} side"
        return f"{self.input_kind}({shape}) {self.activation}: " + " -> ".join(parts)

    def to_dict(self):
        """The spec as plain JSON-friendly values (``n_side`` only when non-zero, a layer's ``stride`` only when not 1)."""
        d = asdict(self)
        if not d["n_side"]:
            d.pop("n_side")  # files of models without side features stay as before
        for layer in d["layers"]:
            if layer["stride"] == 1:
                layer.pop("stride")  # files of models without a strided stem stay as before
        return d

    @classmethod
    def from_dict(cls, data):
        """Rebuild a spec from :meth:`to_dict` output (for example read back from JSON).

        Parameters
        ----------
        data : dict
            ``input_kind``, ``input_shape``, ``layers`` (a list of dicts with the
            fields of :class:`LayerSpec`; ``stride`` may be absent, read as 1, as
            in files written before it existed), ``activation`` and optionally
            ``n_side`` (0 when absent, as in files written before it existed).

        Returns
        -------
        NetworkSpec

        Raises
        ------
        ValueError
            When a key is missing or unknown, or a field has the wrong type.

        Examples
        --------
        >>> spec = NetworkSpec("tabular", (4,), (LayerSpec("head", "head", 4, 2),))
        >>> NetworkSpec.from_dict(spec.to_dict()) == spec
        True
        """
        if not isinstance(data, dict):
            raise ValueError(f"a network spec must be a dict, got {type(data).__name__}.")
        expected = {"input_kind", "input_shape", "layers", "activation"}
        missing, unknown = expected - set(data), set(data) - expected - {"n_side"}
        if missing or unknown:
            raise ValueError(
                f"network spec: missing key(s) {sorted(missing)}, unknown key(s) {sorted(unknown)}."
            )
        layers = data["layers"]
        if not isinstance(layers, (list, tuple)) or not layers:
            raise ValueError("network spec: 'layers' must be a non-empty list.")
        types = {"name": str, "kind": str, "in_channels": int, "width": int,
                 "kernel_size": int, "in_length": int, "norm": bool}
        built = []
        for i, layer in enumerate(layers):
            if not isinstance(layer, dict) or set(layer) - {"stride"} != set(types):
                raise ValueError(
                    f"network spec: layer {i} must be a dict with keys {sorted(types)} (and optionally 'stride')."
                )
            for key, kind in {**types, "stride": int}.items():
                if key not in layer:
                    continue
                value = layer[key]
                if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                    raise ValueError(
                        f"network spec: layer {i} field {key!r} must be {kind.__name__}, got {value!r}."
                    )
            if layer.get("stride", 1) < 1:
                raise ValueError(f"network spec: layer {i} field 'stride' must be at least 1, got {layer['stride']!r}.")
            built.append(LayerSpec(**layer))
        shape = data["input_shape"]
        if not isinstance(shape, (list, tuple)) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape
        ):
            raise ValueError(f"network spec: 'input_shape' must be a list of positive ints, got {shape!r}.")
        n_side = data.get("n_side", 0)
        if not isinstance(n_side, int) or isinstance(n_side, bool) or n_side < 0:
            raise ValueError(f"network spec: 'n_side' must be a non-negative int, got {n_side!r}.")
        return cls(
            input_kind=str(data["input_kind"]),
            input_shape=tuple(shape),
            layers=tuple(built),
            activation=str(data["activation"]),
            n_side=n_side,
        )


class Architecture:
    """The fitted architecture, readable as text and as a table.

    ``str(arch)`` prints a table of the layers; ``arch.spec`` is the
    :class:`NetworkSpec`; ``arch.rows`` the table as a list of dicts
    (``pandas.DataFrame(arch.rows)`` gives a frame).  A fitted estimator holds
    one as ``architecture_``.

    Parameters
    ----------
    spec : NetworkSpec
        The network.
    parameter_counts : sequence of int
        Trainable parameters of each layer of ``spec``, in order.

    Attributes
    ----------
    spec : NetworkSpec
        The network.
    rows : list of dict
        One per layer: ``layer``, ``kind``, ``in``, ``out``, ``kernel``,
        ``in_length``, ``out_length``, ``parameters``; a ``stride`` column
        after ``kernel`` when a layer's stride is not 1.
    n_parameters : int
        Total trainable parameters.
    depth : int
        Number of hidden blocks.

    Examples
    --------
    >>> from sklearn_autonet import Architecture
    >>> from sklearn_autonet.bound import layer_parameter_count
    >>> from sklearn_autonet.hyperparameters import DataProperties, network_spec
    >>> spec = network_spec(DataProperties(200, "signal", (1, 96), 2), depth=1, width=8)
    >>> arch = Architecture(spec, [layer_parameter_count(layer) for layer in spec.layers])
    >>> arch
    Architecture(signal(1x96) leaky_relu: conv k7 w8 -> head 2, n_parameters=90)
    >>> [row["parameters"] for row in arch.rows]
    [72, 18]
    """

    def __init__(self, spec, parameter_counts):
        self.spec = spec
        self.rows = []
        strided = any(layer.stride != 1 for layer in spec.layers)
        for layer, n_params in zip(spec.layers, parameter_counts):
            row = {
                "layer": layer.name,
                "kind": layer.kind,
                "in": layer.in_channels,
                "out": layer.width,
                "kernel": layer.kernel_size,
            }
            if strided:
                row["stride"] = layer.stride
            row.update(in_length=layer.in_length, out_length=layer.out_length, parameters=int(n_params))
            self.rows.append(row)
        self.n_parameters = int(sum(parameter_counts))

    @property
    def depth(self):
        """Number of hidden blocks."""
        return self.spec.depth

    def __repr__(self):
        return f"Architecture({self.spec.describe()}, n_parameters={self.n_parameters})"

    def __str__(self):
        title = f"{self.spec.describe()}  [{self.n_parameters} parameters]"
        return title + "\n" + format_table(self.rows)



class EnsembleArchitecture(Architecture):
    """The fitted ensemble: every member's :class:`Architecture` and its weight.

    ``str(arch)`` prints one table per member; ``arch.rows`` has every
    member's layers with a ``member`` column (0 is the best single network)
    and the member's ``weight``; ``arch.spec`` is the first member's spec
    and ``arch.specs`` all of them; ``n_parameters`` is the sum over members.

    Parameters
    ----------
    members : sequence of Architecture
    weights : sequence of float
        Each member's weight in the mean of probabilities.

    Attributes
    ----------
    members : list of Architecture
    weights : list of float
    specs : list of NetworkSpec
    spec : NetworkSpec
        The first member's.
    rows : list of dict
    n_parameters : int
    """

    def __init__(self, members, weights):
        self.members = list(members)
        self.weights = [float(w) for w in weights]
        self.specs = [member.spec for member in self.members]
        self.spec = self.specs[0]
        self.rows = [
            {"member": i, "weight": w, **row}
            for i, (member, w) in enumerate(zip(self.members, self.weights))
            for row in member.rows
        ]
        self.n_parameters = int(sum(member.n_parameters for member in self.members))

    def __repr__(self):
        inner = "; ".join(f"{w:.3g} x {m.spec.describe()}" for m, w in zip(self.members, self.weights))
        return f"EnsembleArchitecture({len(self.members)} members: {inner}, n_parameters={self.n_parameters})"

    def __str__(self):
        head = f"ensemble of {len(self.members)} networks  [{self.n_parameters} parameters]"
        parts = [f"member {i} (weight {w:.3f}): {m}" for i, (m, w) in enumerate(zip(self.members, self.weights))]
        return "\n".join([head, *parts])


def format_table(rows):
    """Format a list of dicts with the same keys as a fixed-width text table."""
    if not rows:
        return "(empty)"
    keys = list(rows[0])
    cells = [[_fmt(row[k]) for k in keys] for row in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    lines = ["  ".join(k.rjust(w) for k, w in zip(keys, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(cell, widths)) for cell in cells]
    return "\n".join(lines)


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
