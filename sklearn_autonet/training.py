"""Training one candidate LCN with skorch: the net, its weighted loss and its callbacks.

:class:`TrainingSettings` is the one typed value that carries the estimator's
training parameters (epochs, patience, batch size, learning rate and its
schedule, weight decay, device, schedule, initialisation, precision,
augmentation) to :func:`make_net`; its defaults are the estimator's.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback, EarlyStopping
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from .augmentation import Augmentation, BatchAugmenter
from .batches import WholeBatchLoader
from .crops import CropLoader, RecordLoader
from .lr_schedules import lr_schedule_callbacks
from .modules import LCNNetwork
from .targets import MultilabelLoss, output_probabilities
from .progress import EpochReport
from .ragged import RaggedSignals
from .schedules import SCHEDULES, Initialization

#: Forward-pass precisions, name -> autocast dtype (None: plain float32).
#: Both the list of valid names (the estimator's ``precision``) and the lookup.
PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16}


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """How every candidate is trained: the estimator's training parameters, typed and frozen.

    The defaults are the estimator's (a test keeps them equal).  ``batch_size``
    may be ``"auto"`` (resolved by :meth:`for_data` or by :func:`make_net` from
    the number of training samples) and ``device`` may be ``"auto"`` (the GPU
    when there is one, else the CPU, resolved where the net is built).

    Parameters
    ----------
    max_epochs, epoch_patience : int
        Epoch budget and early-stopping patience of one candidate.
    batch_size : int or "auto"
    learning_rate : float
        AdamW learning rate.
    lr_schedule : str
        A key of :data:`~sklearn_autonet.lr_schedules.LR_SCHEDULES`.
    weight_decay : float
        AdamW weight decay.
    augmentation : Augmentation or None
        What is done to the training batches
        (:func:`~sklearn_autonet.augmentation.augmentation_settings` reads the
        estimator's parameter; None: nothing).
    device : str
        Torch device, or ``"auto"``.
    schedule : str
        A key of :data:`~sklearn_autonet.schedules.SCHEDULES`.
    epochs_per_block : int
        Epochs on one layer under the layerwise schedule.
    weight_init : str
        A key of :data:`~sklearn_autonet.schedules.WEIGHT_INITS`.
    precision : str
        A key of :data:`PRECISIONS`.
    verbose : int
        skorch's verbosity (1 prints the epoch table).
    passes_per_epoch : int
        Passes over the training data in one epoch (see :meth:`for_data`).
    crop_samples : int or None
        Variable-length records (:class:`~sklearn_autonet.ragged.RaggedSignals`):
        the length of the random crops trained on (:mod:`sklearn_autonet.crops`);
        None for fixed-length input.
    multilabel : bool
        The target is a 0/1 label indicator matrix: one sigmoid output per
        label and the binary cross-entropy (:mod:`sklearn_autonet.targets`),
        instead of a softmax and the cross-entropy.
    label_weights : tuple of (float, float)
        Multi-label only: ``(w_negative, w_positive)`` per label
        (:func:`~sklearn_autonet.targets.label_weights`); empty: all 1.
    epoch_offset : int
        Epochs of this candidate trained before (a promoted candidate's rung):
        the learning-rate schedule goes on from there (see :meth:`part`).
    lr_horizon : int or None
        Epochs the learning-rate schedule spans; None: ``max_epochs``.

    Examples
    --------
    >>> settings = TrainingSettings().for_data(n_fit=18, min_steps_per_epoch=10)
    >>> settings.batch_size, settings.passes_per_epoch, settings.max_epochs, settings.epoch_patience
    (16, 10, 100, 10)
    """

    max_epochs: int = 100
    epoch_patience: int = 10
    batch_size: int | str = "auto"
    learning_rate: float = 1e-2
    lr_schedule: str = "constant"
    weight_decay: float = 1e-2
    augmentation: Augmentation | None = None
    device: str = "auto"
    schedule: str = "end_to_end"
    epochs_per_block: int = 1
    weight_init: str = "default"
    precision: str = "float32"
    verbose: int = 0
    passes_per_epoch: int = 1
    crop_samples: int | None = None
    multilabel: bool = False
    label_weights: tuple = ()
    epoch_offset: int = 0
    lr_horizon: int | None = None

    def replace(self, **changes):
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def part(self, first_epoch, epochs):
        """The settings of ``epochs`` epochs of this budget, starting at epoch ``first_epoch`` (0-based).

        Successive halving trains a candidate in parts (a rung, then a
        continuation from its weights) and a refit trains for the candidate's
        best epoch count: each part keeps the learning-rate schedule's horizon
        (this budget's ``max_epochs``) and starts where the part before ended,
        so the parts follow one schedule and do not anneal twice.

        Examples
        --------
        >>> rung = TrainingSettings(max_epochs=100).part(0, 5)
        >>> rest = TrainingSettings(max_epochs=100).part(5, 95)
        >>> (rung.max_epochs, rung.epoch_offset, rung.lr_horizon), (rest.max_epochs, rest.epoch_offset)
        ((5, 0, 100), (95, 5))
        """
        horizon = self.lr_horizon if self.lr_horizon is not None else self.max_epochs
        return self.replace(max_epochs=int(epochs), epoch_offset=self.epoch_offset + int(first_epoch),
                            lr_horizon=int(horizon))

    def for_data(self, n_fit, min_steps_per_epoch=10):
        """The settings for ``n_fit`` training samples: the batch size resolved, the epoch length set.

        On data so small that one pass is fewer than ``min_steps_per_epoch``
        optimizer steps, an epoch makes ``ceil(min_steps_per_epoch / steps)``
        passes over the data (:func:`passes_per_epoch`): a candidate gets as many
        optimizer steps per epoch, and early stopping waits as many, as on data
        with ``min_steps_per_epoch`` batches, while validation and skorch's
        per-epoch work run once per epoch, not once per step.
        """
        batch_size = auto_batch_size(n_fit) if self.batch_size == "auto" else int(self.batch_size)
        passes = passes_per_epoch(n_fit, batch_size, min_steps_per_epoch)
        return self.replace(batch_size=batch_size, passes_per_epoch=passes)


def resolve_device(device):
    """``"auto"`` as seen from the calling process: ``"cuda"`` when it sees a GPU, else ``"cpu"``."""
    if str(device) == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(device)


class WeightedLossNet(NeuralNetClassifier):
    """A skorch classifier whose loss weighs each sample, with optional autocast.

    ``X`` may be a dict ``{"X": array, "sample_weight": array}`` (skorch's way
    of passing extra per-sample data); the per-sample cross-entropy is then
    multiplied by the weights before averaging.  Plain arrays are unweighted.
    The criterion must be built with ``reduction="none"``.

    ``precision="bfloat16"`` runs the forward pass under ``torch.autocast`` on
    the net's device (mixed precision: the weights stay float32).
    """

    def __init__(self, *args, precision="float32", **kwargs):
        super().__init__(*args, **kwargs)
        self.precision = precision

    def infer(self, x, **fit_params):
        dtype = PRECISIONS[self.precision]
        if dtype is None:
            return super().infer(x, **fit_params)
        device_type = torch.device(self.device).type
        with torch.autocast(device_type=device_type, dtype=dtype):
            return super().infer(x, **fit_params).float()

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


def to_device_once(data, device, max_fraction=0.5):
    """Put arrays (or a dict of arrays) on ``device`` as tensors, once per candidate.

    On CUDA the data is moved only when it takes less than ``max_fraction`` of
    the free device memory; otherwise it stays in host memory and skorch moves
    each batch.  On CPU the arrays become tensors sharing their memory.
    """
    arrays = data.values() if isinstance(data, dict) else [data]
    if torch.device(device).type == "cuda":
        free, _ = torch.cuda.mem_get_info(torch.device(device))
        if sum(a.nbytes for a in arrays) > max_fraction * free:
            return data
    else:
        device = "cpu"
    move = lambda a: a.to(device) if isinstance(a, RaggedSignals) else torch.as_tensor(a).to(device)  # noqa: E731
    return {k: move(v) for k, v in data.items()} if isinstance(data, dict) else move(data)


def weighted_input(X, sample_weight):
    """The dict input :class:`WeightedLossNet` reads its weights from."""
    return {"X": X, "sample_weight": sample_weight.astype(np.float32)}


def auto_batch_size(n_fit):
    """Default mini-batch size: about a tenth of the data, between 16 and 256."""
    return int(min(256, max(16, n_fit // 10)))


def steps_per_epoch(n_fit, batch_size):
    """Optimizer steps in one epoch (a trailing partial batch is dropped when there are several)."""
    return n_fit // batch_size if n_fit > batch_size else 1


def passes_per_epoch(n_fit, batch_size, min_steps_per_epoch=10):
    """Passes over the training data in one epoch, so that an epoch is at least ``min_steps_per_epoch`` steps.

    Examples
    --------
    >>> passes_per_epoch(18, 16)      # 23 UCR ECGFiveDays series, 5 held out: 1 step per pass
    10
    >>> passes_per_epoch(11860, 256)  # MIT-BIH DS1 beats: 46 steps per pass
    1
    """
    return max(1, math.ceil(min_steps_per_epoch / steps_per_epoch(n_fit, batch_size)))


def batching(batch_size, seed, n_train=None, valid=None, passes=1, crop_samples=None, transform=None):
    """skorch arguments for seeded, shuffled mini-batches cut by index (:class:`WholeBatchLoader`).

    ``n_train`` (the training samples) drops a trailing partial batch when
    there is more than one batch, since BatchNorm cannot take a batch of one;
    ``valid`` is the predefined validation data ``(X, y)``, or None for none;
    ``passes`` is the number of passes over the training data per epoch;
    ``crop_samples`` (variable-length records) trains on random crops of this
    length and validates on whole records (:mod:`sklearn_autonet.crops`);
    ``transform`` changes the training batches (never the validation ones),
    crops included.
    """
    if crop_samples is not None:
        loaders = dict(iterator_train=CropLoader, iterator_valid=RecordLoader,
                       iterator_train__crop_length=int(crop_samples))
    else:
        loaders = dict(iterator_train=WholeBatchLoader, iterator_valid=WholeBatchLoader)
    return dict(
        **loaders,
        batch_size=batch_size,
        iterator_train__shuffle=True,
        iterator_train__passes=int(passes),
        iterator_train__generator=torch.Generator().manual_seed(int(seed)),
        iterator_train__drop_last=bool(n_train is not None and n_train > batch_size),
        iterator_train__transform=transform,
        train_split=None if valid is None else predefined_split(Dataset(*valid)),
    )


def make_net(spec, settings=None, *, valid=None, seed=0, deadline=None, n_train=None, parent_state=None):
    """A skorch net that trains ``LCNNetwork(spec)``.

    Parameters
    ----------
    spec : NetworkSpec
    settings : TrainingSettings, default=None
        How to train; None: the defaults (the estimator's).
    valid : tuple (X, y) or None
        Validation data for early stopping on the validation loss; None trains
        for ``max_epochs`` without it.
    seed : int
        Seeds the mini-batch order.
    deadline : float or None
        A ``time.monotonic()`` value after which training stops at the end of
        the epoch (:class:`Deadline`).
    n_train : int
        Training samples; BatchNorm cannot take a last batch of one sample, so
        a trailing partial batch is dropped when there is more than one batch.
        It also resolves ``batch_size="auto"``.
    parent_state : dict or None
        Warm-growth parent weights (:class:`~sklearn_autonet.schedules.Initialization`).
    """
    settings = TrainingSettings() if settings is None else settings
    batch_size = settings.batch_size
    if batch_size == "auto":
        batch_size = auto_batch_size(n_train or 0)
    schedule_callbacks, least_patience = SCHEDULES[settings.schedule](spec, settings.epochs_per_block)
    horizon = settings.max_epochs if settings.lr_horizon is None else settings.lr_horizon
    augmenter = None
    if settings.augmentation is not None:  # its own stream: seeded by the seed and the part of the budget
        augmenter = BatchAugmenter(settings.augmentation, spec, seed=[int(seed), int(settings.epoch_offset)])
    callbacks = [
        # first: the deadline and early stopping end an epoch by raising, and its learning rate is recorded
        *lr_schedule_callbacks(settings.lr_schedule, horizon, settings.epoch_offset),
        ("deadline", Deadline(deadline)),
        ("initialization", Initialization(settings.weight_init, parent_state)),
        *schedule_callbacks,
        ("progress", EpochReport()),
    ]
    if valid is not None:
        patience = max(settings.epoch_patience, least_patience)
        callbacks.append(("early_stopping", EarlyStopping(monitor="valid_loss", patience=patience, load_best=True)))
    return WeightedLossNet(
        LCNNetwork,
        module__spec=spec,
        **criterion(spec, settings),
        optimizer=torch.optim.AdamW,
        optimizer__weight_decay=settings.weight_decay,
        lr=settings.learning_rate,
        max_epochs=settings.max_epochs,
        **batching(batch_size, seed, n_train, valid, settings.passes_per_epoch, settings.crop_samples, augmenter),
        callbacks=callbacks,
        callbacks__valid_acc=None,
        classes=list(range(spec.head.width)),
        device=resolve_device(settings.device),
        precision=settings.precision,
        verbose=settings.verbose,
    )


def criterion(spec, settings):
    """skorch arguments for the loss and the output activation of ``predict_proba``.

    One label per sample: the cross-entropy (skorch applies the softmax).
    Multi-label: :class:`~sklearn_autonet.targets.MultilabelLoss` and a sigmoid per label.
    """
    if not settings.multilabel:
        return dict(criterion=torch.nn.CrossEntropyLoss, criterion__reduction="none")
    weights = settings.label_weights or ((1.0, 1.0),) * spec.head.width
    return dict(
        criterion=MultilabelLoss,
        criterion__label_weights=tuple(tuple(float(v) for v in pair) for pair in weights),
        criterion__reduction="none",
        predict_nonlinearity=_sigmoid,
    )


def _sigmoid(logits):
    return output_probabilities(logits, multilabel=True)


def train_candidate(spec, train, valid=None, settings=None, *, seed=0, deadline=None, parent_state=None):
    """Train one candidate; return the fitted net and what the history records.

    Parameters
    ----------
    spec : NetworkSpec
    train, valid : tuple (X, y, sample_weight)
        Float32 inputs, integer-encoded targets, float sample weights.
    settings : TrainingSettings, default=None
        How to train; None: the defaults.
    seed : int
        Seeds the initialisation and the mini-batch order.
    deadline, parent_state
        See :func:`make_net`.

    Returns
    -------
    net : WeightedLossNet
    info : dict
        ``epochs`` run, ``best_epoch`` (the one whose weights were kept),
        ``seconds``, ``deadline_reached``, ``copied_layers``.
    """
    settings = TrainingSettings() if settings is None else settings
    X, y, w = train
    device = resolve_device(settings.device)
    valid_data = None
    if valid is not None:
        valid_data = (to_device_once(weighted_input(valid[0], valid[2]), device), to_device_once(valid[1], device))
    start = time.monotonic()
    net = make_net(
        spec, settings, valid=valid_data, seed=seed, deadline=deadline, n_train=len(y), parent_state=parent_state
    )
    parsed = torch.device(device)
    own_gpu = [parsed.index or 0] if parsed.type == "cuda" else []
    with torch.random.fork_rng(devices=own_gpu):  # seed our training, leave the caller's random streams alone
        torch.manual_seed(int(seed))
        net.fit(to_device_once(weighted_input(X, w), device), to_device_once(y, device))
    seconds = time.monotonic() - start
    history = net.history
    if valid is not None:
        losses = history[:, "valid_loss"]
        best_epoch = int(np.argmin(losses)) + 1
    else:
        best_epoch = len(history)
    callbacks = dict(net.callbacks_)
    info = {
        "epochs": len(history),
        "best_epoch": best_epoch,
        "seconds": seconds,
        "deadline_reached": callbacks["deadline"].reached,
        "copied_layers": callbacks["initialization"].copied_layers,
    }
    release_training_state(net)
    return net, info


def release_training_state(net):
    """Drop what only training needed, so a fitted net holds weights, not data.

    The validation data kept by the train split, early stopping's copy of the
    best weights, a warm-growth parent's weights and the optimizer's moments
    are released; the module, the history and the predict path are untouched.
    """
    net.train_split = None
    callbacks = dict(net.callbacks_)
    if "early_stopping" in callbacks:
        callbacks["early_stopping"].best_model_weights_ = None
    callbacks["initialization"].parent_state = None
    if "lr_schedule" in callbacks:
        callbacks["lr_schedule"].lr_scheduler_ = None
    net.optimizer_.state.clear()
