"""The torch contenders: a fixed 1-D ResNet and a random search over plain 1-D CNNs.

Both read the same input as AutoNet: one flat row per sample, the signal (lead
after lead) followed by optional side features (``signal_shape`` says where the
signal ends).  The side features are standardised and joined to the pooled conv
features before the linear head, as in AutoNet's network.  Training goes
through skorch with AutoNet's own loop pieces (whole-batch loader, deadline),
early stopping on a validation split that is grouped by record when ``groups``
is given (:func:`sklearn_autonet.validation_split.validation_split`), and the
class weights of ``class_weight``.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import balanced_accuracy_score
from sklearn.utils.class_weight import compute_class_weight
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping
from torch import nn

from sklearn_autonet.training import Deadline, auto_batch_size, batching, resolve_device
from sklearn_autonet.validation_split import fit_seed, validation_split


class SignalWithSide(nn.Module):
    """``trunk`` over the signal, global average pooling, side features joined at the head."""

    def __init__(self, trunk, trunk_width, signal_shape, n_side, n_classes):
        super().__init__()
        self.signal_shape = tuple(signal_shape)
        self.n_signal = int(np.prod(signal_shape))
        self.trunk = trunk
        self.side_norm = nn.BatchNorm1d(n_side, affine=False) if n_side else None
        self.head = nn.Linear(trunk_width + n_side, n_classes)

    def forward(self, X):
        signal = X[:, : self.n_signal].reshape(-1, *self.signal_shape)
        features = self.trunk(signal).mean(dim=-1)
        if self.side_norm is not None:
            features = torch.cat([features, self.side_norm(X[:, self.n_signal :])], dim=1)
        return self.head(features)


class ResidualBlock(nn.Module):
    """Two conv-BN layers with an identity (or 1x1 strided) shortcut, ReLU after the sum."""

    def __init__(self, in_channels, out_channels, kernel_size, stride):
        super().__init__()
        pad = kernel_size // 2
        self.conv1 = nn.Conv1d(in_channels, out_channels, kernel_size, stride, pad, bias=False)
        self.bn1 = nn.BatchNorm1d(out_channels)
        self.conv2 = nn.Conv1d(out_channels, out_channels, kernel_size, 1, pad, bias=False)
        self.bn2 = nn.BatchNorm1d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv1d(in_channels, out_channels, 1, stride, bias=False), nn.BatchNorm1d(out_channels)
            )

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


def resnet_trunk(in_channels, widths=(64, 128, 256, 512), blocks_per_stage=2, kernel_size=7):
    """A ResNet-18-style 1-D trunk: a strided stem, then stages that halve the length."""
    layers = [
        nn.Conv1d(in_channels, widths[0], 15, 2, 7, bias=False),
        nn.BatchNorm1d(widths[0]),
        nn.ReLU(),
    ]
    channels = widths[0]
    for i, width in enumerate(widths):
        for j in range(blocks_per_stage):
            stride = 2 if (i > 0 and j == 0) else 1
            layers.append(ResidualBlock(channels, width, kernel_size, stride))
            channels = width
    return nn.Sequential(*layers), channels


def plain_cnn_trunk(in_channels, filters, kernels):
    """Blocks of Conv1d ('same') -> BatchNorm -> ReLU -> max-pool by 2."""
    layers, channels = [], in_channels
    for width, k in zip(filters, kernels):
        layers += [nn.Conv1d(channels, width, k, padding="same"), nn.BatchNorm1d(width), nn.ReLU(), nn.MaxPool1d(2)]
        channels = width
    return nn.Sequential(*layers), channels


def _build_module(kind, arch, signal_shape, n_side, n_classes):
    if kind == "resnet":
        trunk, width = resnet_trunk(signal_shape[0], **arch)
    else:
        trunk, width = plain_cnn_trunk(signal_shape[0], arch["filters"], arch["kernels"])
    return SignalWithSide(trunk, width, signal_shape, n_side, n_classes)


def _train(module, X_fit, y_fit, X_valid, y_valid, *, class_weights, max_epochs, epoch_patience,
           learning_rate, batch_size, deadline, seed, device="cpu"):
    """Train ``module`` with skorch on ``device``; early stopping on the validation loss."""
    torch.manual_seed(seed)
    net = NeuralNetClassifier(
        module,
        criterion=nn.CrossEntropyLoss,
        criterion__weight=torch.as_tensor(class_weights, dtype=torch.float32),
        optimizer=torch.optim.AdamW,
        lr=learning_rate,
        max_epochs=max_epochs,
        **batching(batch_size, seed, len(y_fit), (torch.as_tensor(X_valid), torch.as_tensor(y_valid))),
        callbacks=[
            ("deadline", Deadline(deadline)),
            ("early_stopping", EarlyStopping(monitor="valid_loss", patience=epoch_patience, load_best=True)),
        ],
        callbacks__valid_acc=None,
        classes=list(range(len(class_weights))),
        device=device,
        verbose=0,
    )
    net.fit(torch.as_tensor(X_fit), torch.as_tensor(y_fit))
    return net


class _TorchContender(ClassifierMixin, BaseEstimator):
    """Shared fit plumbing: encoding, the validation split, class weights, prediction."""

    def _prepare(self, X, y, groups):
        X = np.asarray(X, dtype=np.float32)
        if X.ndim == 3:
            self.signal_shape_ = X.shape[1:]
            X = X.reshape(len(X), -1)
        else:
            self.signal_shape_ = tuple(self.signal_shape) if self.signal_shape else (1, X.shape[1])
        self.n_side_ = X.shape[1] - int(np.prod(self.signal_shape_))
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        # AutoNet's split seed: with the same random_state both validate on the same records
        fit_idx, valid_idx = validation_split(
            y_enc, groups, validation_fraction=self.validation_fraction, random_state=fit_seed(self.random_state)
        )
        present = np.unique(y_enc[fit_idx])
        weights = np.ones(len(self.classes_))
        if self.class_weight == "balanced":
            weights[present] = compute_class_weight("balanced", classes=present, y=y_enc[fit_idx])
        return X, y_enc, fit_idx, valid_idx, weights

    def _net_kwargs(self, n_fit, weights, deadline):
        return dict(
            class_weights=weights,
            max_epochs=self.max_epochs,
            epoch_patience=self.epoch_patience,
            learning_rate=self.learning_rate,
            batch_size=auto_batch_size(n_fit) if self.batch_size == "auto" else self.batch_size,
            deadline=deadline,
            device=resolve_device(self.device),
        )

    def predict_proba(self, X):
        X = np.asarray(X, dtype=np.float32).reshape(len(X), -1)
        return self.net_.predict_proba(torch.as_tensor(X))

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class ResNet1DClassifier(_TorchContender):
    """A fixed ResNet-18-style 1-D CNN (millions of parameters) trained through skorch.

    Parameters
    ----------
    widths, blocks_per_stage, kernel_size
        The trunk (:func:`resnet_trunk`).
    signal_shape : tuple or None
        ``(leads, T)`` of the signal part of 2-D input (the rest are side features).
    max_epochs, epoch_patience, learning_rate, batch_size, class_weight, validation_fraction
        The training budget, matched to AutoNet's defaults by the suites.
    max_time : float or None
        Wall-clock cap in seconds (checked at the end of each epoch).
    device : str
        Torch device; ``"auto"`` (default) is CUDA when there is one, as for AutoNet.
    random_state : int
    """

    def __init__(self, widths=(64, 128, 256, 512), blocks_per_stage=2, kernel_size=7, signal_shape=None,
                 max_epochs=100, epoch_patience=10, learning_rate=1e-3, batch_size="auto",
                 class_weight=None, validation_fraction=0.2, max_time=None, device="auto", random_state=0):
        self.widths = widths
        self.blocks_per_stage = blocks_per_stage
        self.kernel_size = kernel_size
        self.signal_shape = signal_shape
        self.max_epochs = max_epochs
        self.epoch_patience = epoch_patience
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.class_weight = class_weight
        self.validation_fraction = validation_fraction
        self.max_time = max_time
        self.device = device
        self.random_state = random_state

    def fit(self, X, y, groups=None):
        X, y_enc, fit_idx, valid_idx, weights = self._prepare(X, y, groups)
        arch = dict(widths=tuple(self.widths), blocks_per_stage=self.blocks_per_stage, kernel_size=self.kernel_size)
        module = _build_module("resnet", arch, self.signal_shape_, self.n_side_, len(self.classes_))
        deadline = None if self.max_time is None else time.monotonic() + self.max_time
        self.net_ = _train(
            module, X[fit_idx], y_enc[fit_idx], X[valid_idx], y_enc[valid_idx],
            seed=int(self.random_state), **self._net_kwargs(len(fit_idx), weights, deadline),
        )
        self.n_parameters_ = sum(p.numel() for p in self.net_.module_.parameters())
        self.epochs_ = len(self.net_.history)
        self.deadline_reached_ = dict(self.net_.callbacks_)["deadline"].reached
        return self


class RandomCNNSearch(_TorchContender):
    """Random search over plain 1-D CNNs: blocks, filters and kernel sizes drawn at random.

    Each of ``n_candidates`` networks is trained like AutoNet's candidates
    (same optimizer, learning rate, batch size, epochs and early stopping) on
    the same kind of validation split; the one with the best validation
    balanced accuracy is kept.  ``history_`` lists every candidate.

    Parameters
    ----------
    n_candidates : int
    max_blocks : int
        At most this many blocks (and at most ``log2(T)``).
    filter_choices, kernel_choices : sequence of int
    Other parameters as :class:`ResNet1DClassifier`.
    """

    def __init__(self, n_candidates=10, max_blocks=6, filter_choices=(8, 16, 32, 64, 128),
                 kernel_choices=(3, 5, 7, 9, 15, 21, 31, 41), signal_shape=None, max_epochs=100,
                 epoch_patience=10, learning_rate=1e-2, batch_size="auto", class_weight=None,
                 validation_fraction=0.2, max_time=None, device="auto", random_state=0):
        self.n_candidates = n_candidates
        self.max_blocks = max_blocks
        self.filter_choices = filter_choices
        self.kernel_choices = kernel_choices
        self.signal_shape = signal_shape
        self.max_epochs = max_epochs
        self.epoch_patience = epoch_patience
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.class_weight = class_weight
        self.validation_fraction = validation_fraction
        self.max_time = max_time
        self.device = device
        self.random_state = random_state

    def fit(self, X, y, groups=None):
        X, y_enc, fit_idx, valid_idx, weights = self._prepare(X, y, groups)
        rng = np.random.RandomState(self.random_state)
        length = self.signal_shape_[-1]
        max_blocks = max(1, min(self.max_blocks, int(math.log2(length))))
        deadline = None if self.max_time is None else time.monotonic() + self.max_time
        self.history_, best_score = [], -np.inf
        for i in range(self.n_candidates):
            if deadline is not None and time.monotonic() >= deadline:
                break
            depth = int(rng.randint(1, max_blocks + 1))
            arch = {
                "filters": [int(rng.choice(self.filter_choices)) for _ in range(depth)],
                "kernels": [int(rng.choice(self.kernel_choices)) for _ in range(depth)],
            }
            module = _build_module("cnn", arch, self.signal_shape_, self.n_side_, len(self.classes_))
            start = time.perf_counter()
            net = _train(
                module, X[fit_idx], y_enc[fit_idx], X[valid_idx], y_enc[valid_idx],
                seed=int(self.random_state) + i, **self._net_kwargs(len(fit_idx), weights, deadline),
            )
            score = balanced_accuracy_score(y_enc[valid_idx], net.predict(torch.as_tensor(X[valid_idx])))
            n_params = sum(p.numel() for p in net.module_.parameters())
            self.history_.append({**arch, "n_parameters": n_params, "epochs": len(net.history),
                                  "valid_score": float(score), "seconds": time.perf_counter() - start})
            if score > best_score:
                best_score, self.net_, self.best_index_ = score, net, i
        self.n_parameters_ = self.history_[self.best_index_]["n_parameters"]
        return self
