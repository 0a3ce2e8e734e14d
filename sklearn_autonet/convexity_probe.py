"""An empirical check of layer-wise convexity on a fitted estimator.

The Layer-wise Convex Theorem says that the training loss is convex in one
layer's parameters when the layer is overdetermined.  :func:`probe_convexity`
lets a user look at that on their own data: with every other layer frozen (and
BatchNorm using its running statistics, i.e. the network as it predicts), it
samples random segments in the chosen layer's parameter space around the
trained point and counts midpoint-convexity violations,

    L((a + b) / 2) > (L(a) + L(b)) / 2,

and, for small layers, computes the Hessian's extreme eigenvalues at the
trained point (a convex function has no negative eigenvalue).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from torch.func import functional_call

from .architecture import format_table
from .modules import EnsembleNetwork
from .ragged import RaggedSignals
from .targets import MULTILABEL, check_label_matrix


@dataclass(frozen=True)
class ConvexityProbe:
    """Result of :func:`probe_convexity` for one layer.

    Parameters
    ----------
    layer, n_parameters, n_segments, n_violations, violation_fraction, min_eigenvalue, max_eigenvalue
        The fields listed under Attributes; :func:`probe_convexity` fills them.

    Attributes
    ----------
    layer : str
        Layer name (as in ``architecture_``).
    n_parameters : int
    n_segments : int
    n_violations : int
        Segments whose midpoint loss exceeds the chord by more than the tolerance.
    violation_fraction : float
    min_eigenvalue, max_eigenvalue : float or None
        Extreme Hessian eigenvalues at the trained point (None when skipped).

    Examples
    --------
    >>> from sklearn_autonet.convexity_probe import ConvexityProbe
    >>> probe = ConvexityProbe("head", 18, 20, 0, 0.0, 0.0, 0.5)
    >>> probe.violation_fraction, probe.max_eigenvalue
    (0.0, 0.5)
    """

    layer: str
    n_parameters: int
    n_segments: int
    n_violations: int
    violation_fraction: float
    min_eigenvalue: float | None
    max_eigenvalue: float | None

    def __str__(self):
        return format_table([self.__dict__])


def probe_convexity(
    estimator,
    X,
    y,
    layer=-1,
    *,
    n_segments=100,
    radius=0.5,
    max_samples=2000,
    hessian_max_parameters=600,
    tolerance=1e-7,
    random_state=None,
    member=0,
):
    """Sample segments in one layer's parameter space and test midpoint convexity.

    Parameters
    ----------
    estimator : AutoNetLCNClassifier
        A fitted estimator.
    X, y : array-like
        Data on which the (unweighted, mean cross-entropy; for a multi-label
        model the binary cross-entropy averaged over labels, ``y`` its 0/1
        indicator matrix) loss is evaluated,
        usually the training data; at most ``max_samples`` are used.
    layer : int or str, default=-1
        Index into the trainable layers (head last) or a layer name
        (``"conv1"``, ``"dense2"``, ``"head"``).
    n_segments : int, default=100
        Random segments ``[a, b]``; their ends are ``theta + radius * |theta| * u``
        for random unit directions ``u``.
    radius : float, default=0.5
        Segment ends' distance from the trained point, relative to its norm.
    max_samples : int, default=2000
    hessian_max_parameters : int, default=600
        Compute the Hessian's eigenvalues when the layer has at most this many
        parameters.
    tolerance : float, default=1e-7
        Relative slack for a violation.
    random_state : int, RandomState instance or None, default=None
    member : int, default=0
        For an ensemble (``ensemble_size > 1``): which member network is
        probed (0: the first of ``architecture_.specs``); each member obeys
        the bound on its own.  Ignored for a single network.

    Returns
    -------
    ConvexityProbe

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> from sklearn_autonet import AutoNetLCNClassifier
    >>> clf = AutoNetLCNClassifier(max_candidates=1, max_epochs=5, random_state=0).fit(X, y)
    >>> probe = probe_convexity(clf, X, y, layer="head", n_segments=10, random_state=0)
    >>> probe.n_violations, probe.min_eigenvalue >= -1e-8
    (0, True)
    """
    check_is_fitted(estimator)
    rng = check_random_state(random_state)
    X = estimator.layout_.read(estimator, X)
    multilabel = getattr(estimator, "target_type_", None) == MULTILABEL
    if multilabel:  # the training loss of a multi-label model: binary cross-entropy of each label
        y = check_label_matrix(y).astype(np.float64)
        if y.shape != (len(X), len(estimator.classes_)):
            raise ValueError(
                f"y has shape {y.shape}; this multi-label model needs a 0/1 matrix of "
                f"{(len(X), len(estimator.classes_))}, one row per sample of X and one column per label."
            )
    else:
        y = np.searchsorted(estimator.classes_, np.asarray(y))
    if len(X) > max_samples:
        keep = rng.choice(len(X), max_samples, replace=False)
        X, y = X[keep], y[keep]
    module = estimator.net_.module_
    if isinstance(module, EnsembleNetwork):
        if not isinstance(member, Integral) or not 0 <= member < len(module.members):
            raise ValueError(f"member must be an integer from 0 to {len(module.members) - 1} for this "
                             f"ensemble of {len(module.members)} networks; got {member!r}.")
        module = module.members[int(member)]
    module = copy.deepcopy(module).to("cpu").double().eval()
    index, name = _layer_index(module, layer)
    prefix = f"blocks.{index}." if index < len(module.blocks) else "head."
    names = [n for n, _ in module.named_parameters() if n.startswith(prefix)]
    params = dict(module.named_parameters())
    shapes = [params[n].shape for n in names]
    theta = torch.cat([params[n].detach().reshape(-1) for n in names])
    extra = {}
    if isinstance(X, RaggedSignals):  # whole records of different lengths: zero-padded, masked by the network
        inputs, lengths = X.padded(np.arange(len(X)))
        inputs, extra = inputs.double(), {"lengths": lengths}
    else:
        inputs = torch.as_tensor(X, dtype=torch.float64)
    targets = torch.as_tensor(y, dtype=torch.float64 if multilabel else torch.long)

    def loss(flat):
        pieces, start = {}, 0
        for n, shape in zip(names, shapes):
            size = int(np.prod(shape))
            pieces[n] = flat[start : start + size].reshape(shape)
            start += size
        logits = functional_call(module, pieces, (inputs,), extra)
        if multilabel:
            return torch.nn.functional.binary_cross_entropy_with_logits(logits, targets)
        return torch.nn.functional.cross_entropy(logits, targets)

    scale = radius * max(float(theta.norm()), 1e-3)
    violations = 0
    with torch.no_grad():
        for _ in range(n_segments):
            ends = []
            for _ in range(2):
                u = torch.as_tensor(rng.standard_normal(theta.numel()), dtype=torch.float64)
                ends.append(theta + scale * u / u.norm())
            a, b = ends
            la, lb, lm = float(loss(a)), float(loss(b)), float(loss((a + b) / 2))
            chord = (la + lb) / 2
            violations += lm > chord + tolerance * max(abs(chord), 1.0)
    lo = hi = None
    if theta.numel() <= hessian_max_parameters:
        H = torch.autograd.functional.hessian(loss, theta)
        eig = torch.linalg.eigvalsh((H + H.T) / 2)
        lo, hi = float(eig[0]), float(eig[-1])
    return ConvexityProbe(name, int(theta.numel()), n_segments, int(violations), violations / n_segments, lo, hi)


def _layer_index(module, layer):
    names = [spec.name for spec in module.spec.layers]
    if isinstance(layer, str):
        if layer not in names:
            raise ValueError(f"layer {layer!r} is not one of {names}.")
        index = names.index(layer)
    else:
        if not -len(names) <= int(layer) < len(names):
            raise ValueError(f"layer index {layer} is out of range for {len(names)} layers {names}.")
        index = int(layer) % len(names)
    return index, names[index]
