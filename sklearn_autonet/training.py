"""Training one candidate LCN with skorch: the net, its weighted loss and its callbacks."""

from __future__ import annotations

import time

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback, EarlyStopping
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from .modules import LCNNetwork


class WeightedLossNet(NeuralNetClassifier):
    """A skorch classifier whose loss weighs each sample.

    ``X`` may be a dict ``{"X": array, "sample_weight": array}`` (skorch's way
    of passing extra per-sample data); the per-sample cross-entropy is then
    multiplied by the weights before averaging.  Plain arrays are unweighted.
    The criterion must be built with ``reduction="none"``.
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        losses = super().get_loss(y_pred, y_true, X=X, training=training)
        if isinstance(X, dict) and "sample_weight" in X:
            weights = torch.as_tensor(X["sample_weight"], dtype=losses.dtype, device=losses.device)
            losses = losses * weights
        return losses.mean()


class Deadline(Callback):
    """Stop training at the end of the epoch during which ``deadline`` passed.

    ``deadline`` is a ``time.monotonic()`` value (or None for no limit).  Like
    skorch's ``EarlyStopping`` it stops the fit loop by raising
    ``KeyboardInterrupt``, which skorch catches; ``reached`` tells afterwards.
    """

    def __init__(self, deadline=None):
        self.deadline = deadline

    def initialize(self):
        self.reached = False
        return self

    def on_epoch_end(self, net, **kwargs):
        if self.deadline is not None and time.monotonic() >= self.deadline:
            self.reached = True
            raise KeyboardInterrupt


def weighted_input(X, sample_weight):
    """The dict input :class:`WeightedLossNet` reads its weights from."""
    return {"X": X, "sample_weight": sample_weight.astype(np.float32)}


def auto_batch_size(n_fit):
    """Default mini-batch size: about a tenth of the data, between 16 and 256."""
    return int(min(256, max(16, n_fit // 10)))


def make_net(
    spec,
    *,
    valid=None,
    max_epochs=100,
    epoch_patience=10,
    batch_size=32,
    learning_rate=1e-3,
    device="cpu",
    seed=0,
    deadline=None,
    n_train=None,
    verbose=0,
):
    """A skorch net that trains ``LCNNetwork(spec)``.

    Parameters
    ----------
    spec : NetworkSpec
    valid : tuple (X, y) or None
        Validation data for early stopping on the validation loss; None trains
        for ``max_epochs`` without it.
    n_train : int
        Training samples; BatchNorm cannot take a last batch of one sample, so
        a trailing partial batch is dropped when there is more than one batch.
    """
    callbacks = [("deadline", Deadline(deadline))]
    if valid is not None:
        callbacks.append(
            ("early_stopping", EarlyStopping(monitor="valid_loss", patience=epoch_patience, load_best=True))
        )
    generator = torch.Generator().manual_seed(int(seed))
    return WeightedLossNet(
        LCNNetwork,
        module__spec=spec,
        criterion=torch.nn.CrossEntropyLoss,
        criterion__reduction="none",
        optimizer=torch.optim.AdamW,
        lr=learning_rate,
        max_epochs=max_epochs,
        batch_size=batch_size,
        iterator_train__shuffle=True,
        iterator_train__generator=generator,
        iterator_train__drop_last=bool(n_train is not None and n_train > batch_size),
        train_split=None if valid is None else predefined_split(Dataset(*valid)),
        callbacks=callbacks,
        callbacks__valid_acc=None,
        classes=list(range(spec.head.width)),
        device=device,
        verbose=verbose,
    )


def train_candidate(spec, train, valid=None, *, seed=0, **net_params):
    """Train one candidate; return the fitted net and what the history records.

    Parameters
    ----------
    spec : NetworkSpec
    train, valid : tuple (X, y, sample_weight)
        Float32 inputs, integer-encoded targets, float sample weights.
    seed : int
        Seeds the initialisation and the mini-batch order.

    Returns
    -------
    net : WeightedLossNet
    info : dict
        ``epochs`` run, ``best_epoch`` (the one whose weights were kept),
        ``seconds``, ``deadline_reached``.
    """
    X, y, w = train
    valid_data = None if valid is None else (weighted_input(valid[0], valid[2]), valid[1])
    start = time.monotonic()
    net = make_net(spec, valid=valid_data, seed=seed, n_train=len(y), **net_params)
    torch.manual_seed(int(seed))
    net.fit(weighted_input(X, w), y)
    seconds = time.monotonic() - start
    history = net.history
    if valid is not None:
        losses = history[:, "valid_loss"]
        best_epoch = int(np.argmin(losses)) + 1
    else:
        best_epoch = len(history)
    info = {
        "epochs": len(history),
        "best_epoch": best_epoch,
        "seconds": seconds,
        "deadline_reached": dict(net.callbacks_)["deadline"].reached,
        "final_train_loss": float(history[-1, "train_loss"]),
    }
    return net, info
