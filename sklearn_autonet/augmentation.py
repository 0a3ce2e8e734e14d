"""Random changes to the training batches of signal input: shift, scaling, baseline wander, noise, mixup.

:class:`Augmentation` is the frozen value of the estimator's ``augmentation``
parameter (:func:`augmentation_settings` reads and checks it);
:class:`BatchAugmenter` applies it to one training batch.  The training
iterator (:class:`~sklearn_autonet.batches.WholeBatchLoader`, skorch's
``iterator_train``) calls the augmenter on every batch it yields; the
validation iterator and prediction never do, so validation scores, early
stopping and ``predict`` see the data as given.

Each transform acts on every sample on its own, on the signal only (with
``signal_shape``, the side features after the signal values are left as they
are):

* ``shift``: a circular shift of the whole sample (every lead alike) by an
  integer number of time steps drawn uniformly from ``[-shift * length,
  shift * length]``.  Circular, not zero-filled: the values (and the
  amplitude distribution) are kept, and no flat segment that is not in the
  data appears at the edge; for beats or records cut at arbitrary points the
  wrapped edge is a part of the same kind of signal.
* ``scale``: every value of the sample multiplied by one factor drawn
  uniformly from ``[1 - scale, 1 + scale]``.
* ``wander``: a sinusoid of a frequency drawn uniformly from
  :data:`WANDER_HZ` (breathing and movement), random phase, amplitude
  ``wander`` times the sample's standard deviation, added to every lead.  It
  needs the sampling rate (frequencies are in Hz): without ``sampling_rate``
  the ``"default"`` preset leaves it out and an explicit ``wander`` is refused.
* ``noise``: Gaussian noise of standard deviation ``noise`` times the sample's
  standard deviation, independent at every lead and time step.
* ``mixup`` (Zhang et al., 2018): each batch is mixed with a permutation of
  itself, ``lam * x_i + (1 - lam) * x_j`` with one ``lam ~ Beta(mixup,
  mixup)`` per batch; the targets become the same mix of the two one-hot
  labels (weighted by the samples' weights, so a weighted loss stays exact)
  and the weights the same mix of the weights.  Mixup mixes whole rows, side
  features included (a mixed sample must be one point of the input space), so
  it is the one transform that also applies to tabular input.

Augmentation changes the samples a candidate sees, not their number: the
equations the layer-wise bound counts are the training samples', and the bound
is unchanged.  The random draws come from a NumPy generator seeded by the
candidate's seed, so a fit with an int ``random_state`` is repeatable.
"""

from __future__ import annotations

import dataclasses
import math
from numbers import Real

import numpy as np
import torch

#: Frequency band of the baseline wander, Hz.
WANDER_HZ = (0.05, 0.5)
#: The ``"default"`` preset (``wander`` only with a sampling rate; mixup is an option, off).
DEFAULT_AUGMENTATION = {"shift": 0.1, "scale": 0.1, "wander": 0.1, "noise": 0.05}
#: The settings a dict may name, and the largest value each allows (mixup: any positive alpha).
AUGMENTATION_LIMITS = {"shift": 0.5, "scale": 1.0, "wander": math.inf, "noise": math.inf, "mixup": math.inf}


@dataclasses.dataclass(frozen=True)
class Augmentation:
    """What is done to the training batches (0 turns a transform off).

    Parameters
    ----------
    shift : float, default=0.0
        Largest circular shift, as a fraction of the signal's length.
    scale : float, default=0.0
        Amplitude factors are drawn from ``[1 - scale, 1 + scale]``.
    wander : float, default=0.0
        Amplitude of the baseline wander, in standard deviations of the sample.
    noise : float, default=0.0
        Standard deviation of the additive noise, in standard deviations of the sample.
    mixup : float, default=0.0
        Alpha of mixup's ``Beta(alpha, alpha)``; 0 is no mixup.
    sampling_rate : float or None, default=None
        Hz; needed by ``wander``.

    Examples
    --------
    >>> augmentation_settings("default", "signal", sampling_rate=None)
    Augmentation(shift=0.1, scale=0.1, wander=0.0, noise=0.05, mixup=0.0, sampling_rate=None)
    """

    shift: float = 0.0
    scale: float = 0.0
    wander: float = 0.0
    noise: float = 0.0
    mixup: float = 0.0
    sampling_rate: float | None = None

    @property
    def signal_transforms(self):
        """Whether any per-sample signal transform is on (everything but mixup)."""
        return any((self.shift, self.scale, self.wander, self.noise))


def augmentation_settings(value, input_kind, sampling_rate=None):
    """Read the estimator's ``augmentation`` parameter for one input layout.

    Parameters
    ----------
    value : None, "default" or dict
        None: no augmentation.  ``"default"``: :data:`DEFAULT_AUGMENTATION`
        (without ``wander`` when ``sampling_rate`` is None).  A dict names the
        transforms to use and their strengths, e.g. ``{"shift": 0.1,
        "noise": 0.05, "mixup": 0.2}``; those it does not name are off.
    input_kind : {"tabular", "signal"}
        The layout's kind: tabular input takes mixup only.
    sampling_rate : float or None
        The estimator's ``sampling_rate``.

    Returns
    -------
    Augmentation or None
        None when nothing is to be done.

    Raises
    ------
    ValueError
        For an unknown name, a value out of range, ``wander`` without a
        sampling rate, or signal transforms asked for tabular input.
    """
    if value is None:
        return None
    if isinstance(value, str):
        if value != "default":
            raise ValueError(f"augmentation={value!r}: expected None, 'default' or a dict of settings.")
        if input_kind != "signal":
            return None  # the preset is made of signal transforms
        preset = dict(DEFAULT_AUGMENTATION, wander=DEFAULT_AUGMENTATION["wander"] if sampling_rate else 0.0)
        return Augmentation(**preset, sampling_rate=sampling_rate)
    if not isinstance(value, dict):
        raise ValueError(f"augmentation must be None, 'default' or a dict of settings; got {type(value).__name__}.")
    unknown = sorted(set(value) - set(AUGMENTATION_LIMITS), key=str)
    if unknown:
        raise ValueError(
            f"augmentation has unknown setting(s) {unknown}; the settings are {list(AUGMENTATION_LIMITS)}."
        )
    for name, amount in value.items():
        limit = AUGMENTATION_LIMITS[name]
        if isinstance(amount, bool) or not isinstance(amount, Real) or not 0 <= amount < limit:
            bound = "a finite number >= 0" if math.isinf(limit) else f"a number in [0, {limit})"
            raise ValueError(f"augmentation[{name!r}]={amount!r}: it must be {bound}.")
    settings = Augmentation(**{k: float(v) for k, v in value.items()}, sampling_rate=sampling_rate)
    if settings.wander and not sampling_rate:
        raise ValueError(
            "augmentation['wander'] needs the sampling rate (the wander's frequencies are in Hz): "
            "pass sampling_rate=<Hz> to the estimator, or leave 'wander' out."
        )
    if input_kind != "signal" and settings.signal_transforms:
        raise ValueError(
            "augmentation's shift, scale, wander and noise apply to signal input; X was read as tabular. "
            "Use augmentation=None, or {'mixup': alpha} alone, or pass signals (input_kind='signal' "
            "or signal_shape)."
        )
    return settings if (settings.signal_transforms or settings.mixup) else None


class BatchAugmenter:
    """Applies an :class:`Augmentation` to training batches ``(Xi, yi)``.

    Parameters
    ----------
    settings : Augmentation
    spec : NetworkSpec
        The network's input: its kind, ``(leads, length)`` and side features.
    seed : int or sequence of int
        Seeds the NumPy generator of every random draw.

    Examples
    --------
    >>> from sklearn_autonet.hyperparameters import DataProperties, network_spec
    >>> spec = network_spec(DataProperties(40, "signal", (1, 8), 2), 1, 2)
    >>> augment = BatchAugmenter(Augmentation(shift=0.25), spec, seed=0)
    >>> X = torch.arange(8.0).reshape(1, 1, 8)
    >>> Xa, y = augment((X, torch.tensor([1])))
    >>> sorted(Xa.flatten().tolist()) == X.flatten().tolist()   # a shift keeps the values
    True
    """

    def __init__(self, settings, spec, seed=0):
        self.settings = settings
        self.spec = spec
        self.rng = np.random.default_rng(seed)

    def __call__(self, batch):
        Xi, yi = batch
        weights = None
        if isinstance(Xi, dict):
            X, weights = Xi["X"], Xi.get("sample_weight")
        else:
            X = Xi
        X = torch.as_tensor(X)
        if self.spec.is_signal and self.settings.signal_transforms:
            X = self._signal_part(X)
        y = yi
        if self.settings.mixup and len(X) > 1:
            X, y, weights = self._mixup(X, torch.as_tensor(yi), weights)
        if isinstance(Xi, dict):
            Xi = dict(Xi, X=X)
            if weights is not None:
                Xi["sample_weight"] = weights
            return Xi, y
        return X, y

    def _draw(self, values, like):
        """NumPy draws as a tensor of ``like``'s dtype and device."""
        return torch.as_tensor(np.asarray(values), dtype=like.dtype).to(like.device)

    def _signal_part(self, X):
        """The signal transforms on the signal values of ``X`` (3-D, or flat rows with side features)."""
        leads, length = self.spec.input_shape
        if X.dim() == 2:  # flat rows: signal values, then side features
            n_signal = leads * length
            signal = self._transform(X[:, :n_signal].reshape(-1, leads, length))
            return torch.cat([signal.reshape(len(X), n_signal), X[:, n_signal:]], dim=1)
        return self._transform(X)

    def _transform(self, X):
        """Shift, scale, wander and noise on signals ``(n, leads, length)``; a new tensor."""
        s, rng = self.settings, self.rng
        n, _, length = X.shape
        std = X.std(dim=(1, 2), keepdim=True, correction=0)  # of each sample, over its leads and time
        if s.shift:
            most = int(round(s.shift * length))
            steps = rng.integers(-most, most + 1, size=n)
            index = (np.arange(length)[None, :] - steps[:, None]) % length
            index = torch.as_tensor(index, device=X.device)[:, None, :].expand_as(X)
            X = torch.gather(X, 2, index)
        if s.scale:
            X = X * self._draw(rng.uniform(1 - s.scale, 1 + s.scale, size=(n, 1, 1)), X)
        if s.wander:
            hz = rng.uniform(*WANDER_HZ, size=(n, 1, 1))
            phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 1))
            seconds = np.arange(length)[None, None, :] / s.sampling_rate
            X = X + s.wander * std * self._draw(np.sin(2 * np.pi * hz * seconds + phase), X)
        if s.noise:
            X = X + s.noise * std * self._draw(rng.standard_normal(size=tuple(X.shape)), X)
        return X

    def _mixup(self, X, y, weights):
        """Mix the batch with a permutation of itself; soft targets, mixed weights."""
        rng = self.rng
        lam = float(rng.beta(self.settings.mixup, self.settings.mixup))
        other = torch.as_tensor(rng.permutation(len(X)), device=X.device)
        n_classes = self.spec.head.width
        one_hot = torch.nn.functional.one_hot(y.long(), n_classes).to(X.dtype)
        w = torch.ones(len(X), dtype=X.dtype, device=X.device) if weights is None else torch.as_tensor(
            weights, dtype=X.dtype, device=X.device)
        mixed_w = lam * w + (1 - lam) * w[other]
        # weighted by the samples' weights, so mixed_w * CE(p, targets) is the mix of the two weighted losses
        targets = (lam * w[:, None] * one_hot + (1 - lam) * w[other, None] * one_hot[other])
        targets = targets / mixed_w.clamp_min(torch.finfo(X.dtype).tiny)[:, None]
        X = lam * X + (1 - lam) * X[other]
        return X, targets, (None if weights is None else mixed_w)
