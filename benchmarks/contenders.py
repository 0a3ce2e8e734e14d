"""Every contender of the side-by-side suites, built from one description of the data.

A suite describes its data with :class:`Task` (signal shape, side features,
sampling rate, whether classes are imbalanced); :func:`contenders` returns,
for that task, each contender's name and a function that builds a fresh
estimator.  All of them read the same 2-D input: the signal (lead after lead)
then the side features, if any.  Nothing is tuned per dataset: the settings
below are the same for every suite.

* ``AutoNet``: ``AutoNetLCNClassifier`` with its defaults, told the data's
  layout (``signal_shape``, ``sampling_rate``) and, on imbalanced data,
  ``class_weight="balanced"``; on tabular data after a ``StandardScaler``,
  like the MLP.
* ``MiniRocket+Ridge``: aeon's MiniRocket features of the signal (plus the
  side features), standardised, then ``RidgeClassifierCV``.
* ``HistGB``: ``HistGradientBoostingClassifier`` on the raw row (signal values
  and side features).
* ``MLP``: ``StandardScaler`` + ``MLPClassifier`` (defaults; it has no class weights).
* ``ResNet1D``: a fixed ResNet-18-style 1-D CNN through skorch, the same
  epochs budget as one AutoNet candidate (100 epochs, early stopping after 10).
* ``RandomCNN``: a random search over plain 1-D CNNs with as many trained
  candidates as AutoNet trained in the same run, trained like them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import RidgeClassifierCV
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_autonet import AutoNetLCNClassifier
from torch_contenders import RandomCNNSearch, ResNet1DClassifier


@dataclass
class Task:
    """What a suite tells the contenders about its data.

    ``signal_shape`` is None for tabular data; ``n_side`` counts the side
    features after the signal; ``balanced`` asks for class weights.
    """

    signal_shape: tuple | None
    n_side: int = 0
    sampling_rate: float | None = None
    balanced: bool = False

    @property
    def class_weight(self):
        return "balanced" if self.balanced else None


class MiniRocketRidge(ClassifierMixin, BaseEstimator):
    """aeon's MiniRocket on the signal, side features appended, then RidgeClassifierCV."""

    def __init__(self, signal_shape=(1, 96), class_weight=None, random_state=0):
        self.signal_shape = signal_shape
        self.class_weight = class_weight
        self.random_state = random_state

    def _split(self, X):
        """The signal as (n, leads, T) float64 (what MiniRocket takes) and the side features."""
        X = np.asarray(X, dtype=np.float32)
        n_signal = int(np.prod(self.signal_shape))
        return X[:, :n_signal].reshape(len(X), *self.signal_shape).astype(np.float64), X[:, n_signal:]

    def _features(self, X):
        signal, side = self._split(X)
        return np.hstack([self.rocket_.transform(signal), side])

    def fit(self, X, y):
        from aeon.transformations.collection.convolution_based import MiniRocket

        signal, side = self._split(X)
        self.rocket_ = MiniRocket(random_state=self.random_state).fit(signal)
        self.ridge_ = make_pipeline(
            StandardScaler(),
            RidgeClassifierCV(alphas=np.logspace(-3, 3, 10), class_weight=self.class_weight),
        ).fit(self._features(X), y)
        self.classes_ = self.ridge_.classes_
        ridge = self.ridge_[-1]
        n_rocket = ridge.coef_.shape[-1] - side.shape[1]
        self.n_parameters_ = int(ridge.coef_.size + ridge.intercept_.size + n_rocket)
        return self

    def predict(self, X):
        return self.ridge_.predict(self._features(X))


def n_parameters(model):
    """Trainable parameters (or fitted numbers) of a fitted contender.

    Networks: their weights.  HistGB: two numbers per split node (feature and
    threshold) and one per leaf.  MiniRocket: the ridge's coefficients and
    intercepts plus one fitted bias per MiniRocket feature (its kernels are
    fixed).
    """
    last = model[-1] if hasattr(model, "steps") else model
    if hasattr(last, "n_parameters_"):
        return int(last.n_parameters_)
    if isinstance(last, MLPClassifier):
        return int(sum(w.size for w in last.coefs_) + sum(b.size for b in last.intercepts_))
    if isinstance(last, HistGradientBoostingClassifier):
        total = 0
        for trees in last._predictors:
            for tree in trees:
                leaves = int(tree.nodes["is_leaf"].sum())
                total += leaves + 2 * (len(tree.nodes) - leaves)
        return total
    raise TypeError(f"no parameter count for {type(model).__name__}")


def contenders(task, names=None):
    """``{name: factory}`` of the contenders that apply to ``task``.

    Signal contenders (MiniRocket, ResNet1D, RandomCNN) are left out for
    tabular tasks.  Every factory takes ``random_state`` (default 0), the seed
    of a suite's run, and passes it to the estimator: all six contenders have
    randomness (AutoNet's search, the networks' initialisation and batches,
    the MLP's, HistGB's early-stopping split on large data, MiniRocket's bias
    draws).  ``RandomCNN``'s factory also takes the number of candidates,
    ``ResNet1D``'s a ``max_time``; AutoNet's, the ResNet's and RandomCNN's any
    other estimator parameter (a variant of the defaults, e.g. ``mitbih.py
    --autonet``, or ``device`` in ``gpu.py``).
    """
    shape = task.signal_shape
    autonet = dict(class_weight=task.class_weight)
    if shape is not None:
        autonet.update(signal_shape=shape, sampling_rate=task.sampling_rate)
    torch_kw = dict(signal_shape=shape, class_weight=task.class_weight)
    out = {
        "AutoNet": lambda random_state=0, **params: (
            AutoNetLCNClassifier(**autonet, **params, random_state=random_state) if shape is not None
            else make_pipeline(StandardScaler(), AutoNetLCNClassifier(**autonet, **params, random_state=random_state))
        ),
        "MiniRocket+Ridge": lambda random_state=0: MiniRocketRidge(
            signal_shape=shape, class_weight=task.class_weight, random_state=random_state),
        "HistGB": lambda random_state=0: HistGradientBoostingClassifier(
            class_weight=task.class_weight, random_state=random_state),
        "MLP": lambda random_state=0: make_pipeline(StandardScaler(), MLPClassifier(random_state=random_state)),
        "ResNet1D": lambda random_state=0, max_time=None, **params: ResNet1DClassifier(
            max_time=max_time, random_state=random_state, **torch_kw, **params),
        "RandomCNN": lambda random_state=0, n_candidates=10, **params: RandomCNNSearch(
            n_candidates=n_candidates, random_state=random_state, **torch_kw, **params),
    }
    if shape is None:
        for name in ("MiniRocket+Ridge", "ResNet1D", "RandomCNN"):
            out.pop(name)
    if names is not None:
        out = {k: v for k, v in out.items() if k in names}
    return out


__all__ = ["Task", "MiniRocketRidge", "n_parameters", "contenders"]
