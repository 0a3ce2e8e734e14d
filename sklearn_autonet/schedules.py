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

SCHEDULES = ("end_to_end", "layerwise")
WEIGHT_INITS = ("default", "orthogonal")


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
    """

    def __init__(self, weight_init="default", parent_state=None):
        self.weight_init = weight_init
        self.parent_state = parent_state

    def initialize(self):
        self.copied_layers = ()
        return self

    def on_train_begin(self, net, **kwargs):
        module = net.module_
        if self.weight_init == "orthogonal":
            module.reset_parameters_orthogonal()
        if self.parent_state:
            self.copied_layers = copy_matching_layers(module, self.parent_state)


def copy_matching_layers(module, parent_state):
    """Copy the tensors of ``parent_state`` whose names and shapes match ``module``'s.

    A layer counts as copied when all of its tensors were.  Returns the names
    of the copied layers (``spec.layers`` names, e.g. ``("conv1", "conv2")``).
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
