"""Training schedules and initialisation, as skorch callbacks.

* ``"end_to_end"``: ordinary back-propagation over all layers (no callback).
* ``"layerwise"``: block coordinate descent (:class:`LayerwiseSchedule`): one
  layer trainable at a time, the others frozen, cycling from the first block
  to the head; each block's step is the sub-problem the Layer-wise Convex
  Theorem speaks of.
* :class:`Initialization`: optional orthogonal initialisation (Shin, 2021) and
  warm growth, copying a parent candidate's trained layers into the child.
"""

from __future__ import annotations

import torch
from skorch.callbacks import Callback



class LayerwiseSchedule(Callback):
    """Block coordinate descent: train one layer per ``epochs_per_block`` epochs.

    At the start of each epoch the active layer is chosen cyclically (first
    block, ..., head, first block, ...); the module's other layers are frozen
    (``LCNNetwork.set_trainable``).  The active layer's index is recorded in the
    net's history as ``"block"``.  At the end of training every layer is made
    trainable again.

    Parameters
    ----------
    epochs_per_block : int, default=1
        Consecutive epochs spent on one layer before moving to the next.

    Attributes
    ----------
    epochs_per_block : int
        As given.

    Examples
    --------
    The estimator adds it for ``schedule="layerwise"``; the net's history
    records the active layer of each epoch:

    >>> import numpy as np
    >>> from sklearn_autonet import AutoNetLCNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.randn(200, 4), np.arange(200) % 2
    >>> clf = AutoNetLCNClassifier(schedule="layerwise", max_candidates=1, max_epochs=4,
    ...                            refit=False, random_state=0).fit(X, y)
    >>> clf.net_.history[:, "block"]
    [0, 1, 0, 1]
    """

    def __init__(self, epochs_per_block=1):
        self.epochs_per_block = epochs_per_block

    def on_epoch_begin(self, net, **kwargs):
        n_layers = len(net.module_.layer_modules())
        epoch = len(net.history) - 1  # skorch has already opened this epoch's row
        active = (epoch // self.epochs_per_block) % n_layers
        net.module_.set_trainable(active)
        net.history.record("block", active)

    def on_train_end(self, net, **kwargs):
        net.module_.set_trainable(None)


class Initialization(Callback):
    """Initialise the module before training: orthogonal weights, then a parent's layers.

    Parameters
    ----------
    weight_init : {"default", "orthogonal"}, default="default"
        "default" keeps torch's initialisation; "orthogonal" re-initialises
        every conv / linear weight orthogonally.
    parent_state : dict or None
        A parent candidate's ``state_dict``.  Every tensor whose name and shape
        match the child's is copied (warm growth); the rest keep their
        initialisation.  ``copied_layers`` tells afterwards which layers were copied.

    Attributes
    ----------
    copied_layers : tuple of str
        Names of the layers copied from ``parent_state`` (empty before training).

    Examples
    --------
    >>> from sklearn_autonet import AutoNetLCNClassifier
    >>> from sklearn_autonet.schedules import Initialization
    >>> Initialization(weight_init="orthogonal").initialize().copied_layers
    ()
    >>> AutoNetLCNClassifier(weight_init="orthogonal", warm_growth=True)  # how users ask for it
    AutoNetLCNClassifier(warm_growth=True, weight_init='orthogonal')
    """

    def __init__(self, weight_init="default", parent_state=None):
        self.weight_init = weight_init
        self.parent_state = parent_state

    def initialize(self):
        self.copied_layers = ()
        return self

    def on_train_begin(self, net, **kwargs):
        module = net.module_
        WEIGHT_INITS[self.weight_init](module)
        if self.parent_state:
            self.copied_layers = copy_matching_layers(module, self.parent_state)


def end_to_end(spec, epochs_per_block):  # noqa: ARG001 - one signature for every schedule
    """Ordinary back-propagation over all layers: no callback, no extra patience."""
    return [], 0


def layerwise(spec, epochs_per_block):
    """Block coordinate descent: :class:`LayerwiseSchedule`; early stopping waits one sweep."""
    return [("layerwise", LayerwiseSchedule(epochs_per_block))], len(spec.layers) * epochs_per_block


#: Training schedules, name -> ``schedule(spec, epochs_per_block)`` returning the
#: skorch callbacks it needs and the least early-stopping patience it allows.
#: Both the list of valid names (the estimator's ``schedule``) and the lookup.
SCHEDULES = {"end_to_end": end_to_end, "layerwise": layerwise}

#: Weight initialisations, name -> ``init(module)`` applied before training.
WEIGHT_INITS = {
    "default": lambda module: None,  # torch's own initialisation
    "orthogonal": lambda module: module.reset_parameters_orthogonal(),
}


def copy_matching_layers(module, parent_state):
    """Copy the tensors of ``parent_state`` whose names and shapes match ``module``'s.

    A layer counts as copied when all of its tensors were.

    Parameters
    ----------
    module : LCNNetwork
        The child network; its matching tensors are overwritten in place.
    parent_state : dict of str to torch.Tensor
        The parent's ``state_dict``.

    Returns
    -------
    copied : tuple of str
        The names of the copied layers (``spec.layers`` names, e.g.
        ``("conv1", "conv2")``).

    Examples
    --------
    >>> from sklearn_autonet.hyperparameters import DataProperties, network_spec
    >>> from sklearn_autonet.modules import LCNNetwork
    >>> props = DataProperties(200, "signal", (1, 64), 2)
    >>> parent = LCNNetwork(network_spec(props, depth=1, width=4))
    >>> child = LCNNetwork(network_spec(props, depth=2, width=4))
    >>> copy_matching_layers(child, parent.state_dict())   # conv2 is new
    ('conv1', 'head')
    """
    own = module.state_dict()
    prefixes = [f"blocks.{i}." for i in range(len(module.blocks))] + ["head."]
    names = [layer.name for layer in module.spec.layers]
    copied = []
    with torch.no_grad():
        for prefix, name in zip(prefixes, names):
            keys = [k for k in own if k.startswith(prefix)]
            if keys and all(k in parent_state and parent_state[k].shape == own[k].shape for k in keys):
                for k in keys:
                    own[k].copy_(parent_state[k])
                copied.append(name)
    return tuple(copied)
