"""Torch modules of layer-wise convex networks, built from a :class:`NetworkSpec`."""

from __future__ import annotations

import torch
from torch import nn

from .targets import output_probabilities, probabilities_to_outputs


#: Hidden activations, name -> module factory: both the list of valid names
#: (the estimator's ``activation`` parameter) and the lookup.  Which of them
#: are invertible, as the convexity argument needs, is
#: :data:`~sklearn_autonet.architecture.INVERTIBLE_ACTIVATIONS`.
ACTIVATIONS = {
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
}


def make_activation(name):
    """The activation module for ``name`` (a key of :data:`ACTIVATIONS`)."""
    try:
        factory = ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}.") from None
    return factory()


class ConvBlock(nn.Module):
    """Conv1d -> BatchNorm1d -> activation -> max-pool by 2.

    The convolution steps by ``layer.stride`` and pads as
    :attr:`~sklearn_autonet.architecture.LayerSpec.padding` says: ``"same"``
    at stride 1, the same number of samples on each side otherwise (torch
    refuses ``"same"`` with a stride), so that its output is
    ``layer.conv_length`` samples long.
    """

    def __init__(self, layer, activation):
        super().__init__()
        self.conv = nn.Conv1d(
            layer.in_channels, layer.width, layer.kernel_size, stride=layer.stride,
            padding=layer.padding, bias=not layer.norm,
        )
        self.norm = nn.BatchNorm1d(layer.width) if layer.norm else nn.Identity()
        self.act = make_activation(activation)
        self.pool = nn.MaxPool1d(2)

    def forward(self, x):
        return self.pool(self.act(self.norm(self.conv(x))))


class DenseBlock(nn.Module):
    """Linear -> BatchNorm1d -> activation."""

    def __init__(self, layer, activation):
        super().__init__()
        self.linear = nn.Linear(layer.in_channels, layer.width, bias=not layer.norm)
        self.norm = nn.BatchNorm1d(layer.width) if layer.norm else nn.Identity()
        self.act = make_activation(activation)

    def forward(self, x):
        return self.act(self.norm(self.linear(x)))


class LCNNetwork(nn.Module):
    """A layer-wise convex network: hidden blocks, then a linear head to logits.

    Signal input ``(n, leads, T)`` goes through conv blocks and global average
    pooling; tabular input ``(n, d)`` through dense blocks.  The module returns
    logits (skorch applies the softmax in ``predict_proba``).

    With side features (``spec.n_side > 0``) the input is one flat row per
    sample, ``(n, leads * T + n_side)``: the first ``leads * T`` values are the
    signal (lead after lead), the rest are the side features.  These are
    standardised by a parameter-free ``BatchNorm1d(affine=False)`` (batch
    statistics in training, their running average over training in
    inference) and concatenated with the pooled conv features before the
    head.  The standardisation adds no trainable parameter, so the head's
    ``P_l`` is ``(width + n_side) * n_classes + n_classes``.

    Parameters
    ----------
    spec : NetworkSpec
    """

    def __init__(self, spec):
        super().__init__()
        self.spec = spec
        block = ConvBlock if spec.is_signal else DenseBlock
        self.blocks = nn.ModuleList(block(layer, spec.activation) for layer in spec.hidden)
        self.head = nn.Linear(spec.head.in_channels, spec.head.width)
        n_side = getattr(spec, "n_side", 0)
        self.side_norm = nn.BatchNorm1d(n_side, affine=False, momentum=None) if n_side else None
        self.frozen = ()

    def layer_modules(self):
        """The trainable layers in the order of ``spec.layers`` (head last)."""
        return [*self.blocks, self.head]

    def set_trainable(self, index=None):
        """Make only layer ``index`` trainable (None: every layer).

        The other layers are frozen: their parameters get ``requires_grad=False``
        and their BatchNorm stays in eval mode (running statistics unchanged), so
        they are a fixed function while layer ``index`` is trained.
        """
        layers = self.layer_modules()
        self.frozen = () if index is None else tuple(i for i in range(len(layers)) if i != index)
        for i, layer in enumerate(layers):
            for p in layer.parameters():
                p.requires_grad_(i not in self.frozen)
        return self.train(self.training)

    def train(self, mode=True):
        super().train(mode)
        for i in self.frozen:
            self.layer_modules()[i].eval()
        return self

    def reset_parameters_orthogonal(self):
        """Orthogonal initialisation of every conv / linear weight (Shin, 2021)."""
        for layer in self.layer_modules():
            for m in layer.modules():
                if isinstance(m, (nn.Conv1d, nn.Linear)):
                    nn.init.orthogonal_(m.weight)

    def split_input(self, X):
        """``(signal, side)`` of flat 2-D rows of a signal network; ``(X, None)`` otherwise."""
        if not self.spec.is_signal or X.dim() != 2:
            return X, None
        if self.side_norm is None:
            return X.reshape(-1, *self.spec.input_shape), None
        n_signal = self.spec.input_shape[0] * self.spec.input_shape[1]
        # split with fixed sizes: the ONNX graph keeps the side features' width known
        signal, side = torch.split(X, [n_signal, self.spec.n_side], dim=1)
        return signal.reshape(-1, *self.spec.input_shape), self.side_norm(side)

    def features(self, X, lengths=None):
        """What the head reads: pooled conv features (and the standardised side features).

        ``lengths`` (one per row, for zero-padded records of different lengths):
        after every block the positions past a record's own output length are
        set to zero, as the conv's zero padding sees the end of a lone record,
        and the global pooling averages over its own positions only, so the
        padding never changes a record's result (:mod:`sklearn_autonet.ragged`).
        """
        X, side = self.split_input(X)
        for block in self.blocks:
            X = block(X)
            if lengths is not None:
                lengths = block_output_lengths(block, lengths)
                inside = torch.arange(X.shape[-1], device=X.device)[None, :] < lengths[:, None]
                X = X * inside[:, None, :].to(X.dtype)
        if self.spec.is_signal:
            X = X.mean(dim=-1) if lengths is None else X.sum(dim=-1) / lengths[:, None].to(X.dtype)
        if side is not None:
            X = torch.cat([X, side.to(X.dtype)], dim=1)
        return X

    def forward(self, X, sample_weight=None, lengths=None):  # noqa: ARG002 - used by the loss only
        return self.head(self.features(X, lengths))


def block_output_lengths(block, lengths):
    """Each record's valid output length after a :class:`ConvBlock` (its conv, then its pooling)."""
    conv, pool = block.conv, block.pool
    if conv.padding != "same":
        span = conv.dilation[0] * (conv.kernel_size[0] - 1) + 1
        lengths = torch.div(lengths + 2 * conv.padding[0] - span, conv.stride[0], rounding_mode="floor") + 1
    kernel, stride = int(pool.kernel_size), int(pool.stride or pool.kernel_size)
    return torch.div(lengths - kernel, stride, rounding_mode="floor") + 1


def count_parameters(module):
    """Number of parameters of a torch module (frozen ones included)."""
    return sum(p.numel() for p in module.parameters())


def layer_parameter_counts(network):
    """Trainable parameters of each layer of an :class:`LCNNetwork`, head last."""
    return [count_parameters(m) for m in network.layer_modules()]




class EnsembleNetwork(nn.Module):
    """A weighted ensemble of layer-wise convex networks: the log of their weighted mean probability.

    Each member is an :class:`LCNNetwork` that obeys the layer-wise bound on
    its own; the ensemble adds no trainable parameter.  ``forward`` returns
    ``log(sum_m w_m softmax(member_m(X)))``, so that a softmax of the output
    (what skorch's ``predict_proba`` and the ONNX export apply) is the
    weighted mean of the members' probabilities.  :meth:`proba` returns that
    mean directly.

    Parameters
    ----------
    spec : NetworkSpec or None
        Ignored (the skorch net that builds the module passes the first
        member's spec under this name); the members are ``specs``.
    specs : sequence of NetworkSpec
        The members, in order.
    weights : sequence of float
        Their weights: positive, summing to 1.
    multilabel : bool, default=False
        The members' outputs are one logit per label (sigmoid probabilities,
        :mod:`sklearn_autonet.targets`): ``proba`` is the weighted mean of the
        sigmoids and ``forward`` its logit, so that a sigmoid of it gives the
        mean back.
    """

    def __init__(self, spec=None, *, specs, weights, multilabel=False):  # noqa: ARG002 - see the docstring
        super().__init__()
        specs, weights = tuple(specs), tuple(float(w) for w in weights)
        if not specs or len(specs) != len(weights):
            raise ValueError(f"an ensemble needs one weight per member; got {len(specs)} member(s), {len(weights)} weight(s).")
        if any(not w > 0 for w in weights) or abs(sum(weights) - 1) > 1e-6:
            raise ValueError(f"ensemble weights must be positive and sum to 1; got {list(weights)}.")
        self.specs, self.weights, self.multilabel = specs, weights, bool(multilabel)
        self.spec = specs[0]
        self.members = nn.ModuleList(LCNNetwork(s) for s in specs)
        # not saved with the weights (the model file keeps them in its metadata); moves with .to()
        self.register_buffer("member_weights", torch.tensor(weights, dtype=torch.float32), persistent=False)

    def proba(self, X, lengths=None):
        """The weighted mean of the members' class (or label) probabilities."""
        w = self.member_weights.to(X.dtype) if X.is_floating_point() else self.member_weights
        total = 0
        for i, member in enumerate(self.members):
            total = total + w[i] * output_probabilities(member(X, lengths=lengths), self.multilabel)
        return total

    def forward(self, X, sample_weight=None, lengths=None):  # noqa: ARG002 - same signature as LCNNetwork
        return probabilities_to_outputs(self.proba(X, lengths), self.multilabel)


def network_members(module):
    """``[(member, weight), ...]`` of an :class:`EnsembleNetwork`, or ``[(module, 1.0)]`` of one network."""
    if isinstance(module, EnsembleNetwork):
        return list(zip(module.members, module.weights))
    return [(module, 1.0)]
