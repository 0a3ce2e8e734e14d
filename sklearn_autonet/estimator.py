"""The scikit-learn estimator: :class:`AutoNetLCNClassifier`."""

from __future__ import annotations

import dataclasses
import io
import math
import os
import pickle
import time
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.metrics import get_scorer
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_consistent_length, check_is_fitted, validate_data

from .augmentation import augmentation_settings
from .architecture import Architecture, EnsembleArchitecture
from .bound import COUNTING_RULES, ConvexityReport, convexity_report
from .growth import GROWTH_POLICIES, BoundSettings, GrowthPolicy
from .hyperparameters import DataProperties
from .input_checks import check_labels, check_not_ragged
from .layout import INPUT_KIND_OPTIONS, InputLayout
from .ragged import inference_batches, is_record_list
from .lr_schedules import LR_SCHEDULES
from .modules import ACTIVATIONS, count_parameters, layer_parameter_counts, network_members
from .schedules import SCHEDULES, WEIGHT_INITS
from .selection_rules import SELECTION_RULES, resolve as resolve_selection
from .crossval import check_folds, cross_validate_pool
from .search import SearchConfig, run_interruptible, run_search
from .refit import refit_members
from .tasks import rebuild_ensemble
from .training import PRECISIONS, TrainingSettings, resolve_device
from .targets import (
    MULTILABEL, check_label_matrix, check_training_labels, default_scoring, is_label_matrix, label_weights,
    output_probabilities, stratification_key, tune_thresholds,
)
from .validation_split import fit_seed, validation_split


#: Default of ``ensemble_size`` (see its docstring for the measurement behind it).
ENSEMBLE_SIZE_DEFAULT = 10
#: Scorers that take a row of probabilities for a distribution (they renormalise multi-label rows).
ROW_DISTRIBUTION_SCORERS = ("neg_log_loss",)
#: Default of ``cv_max_samples`` (see its docstring for the measurement behind it).
CV_MAX_SAMPLES_DEFAULT = 0


class AutoNetLCNClassifier(ClassifierMixin, BaseEstimator):
    """AutoNet search for a layer-wise convex network (LCN) classifier.

    ``fit`` derives hyperparameters from the training data, explores networks
    round by round around the best so far (``growth``), every layer kept an
    overdetermined system (``P_l <= rho * N_eq``), trains each candidate with
    PyTorch through skorch (by successive halving within a round), scores it
    on a validation split, and keeps the best.  Input is either
    tabular ``(n_samples, n_features)`` (dense blocks), a signal
    ``(n_samples, n_leads, length)`` (1-D convolution blocks), or a list of
    ``(n_leads, length_i)`` signals of different lengths (trained on random
    crops of ``crop_length``, predicted on whole records; ``docs/method.md``).

    Parameters
    ----------
    input_kind : {"auto", "tabular", "signal"}, default="auto"
        How to read ``X``.  ``"auto"``: 2-D input is tabular, 3-D input is a
        signal ``(n, leads, length)``.  ``"signal"`` also reads 2-D input as a
        single-lead signal ``(n, length)``.  ``"tabular"`` rejects 3-D input.
    sampling_rate : float, default=None
        Sampling rate of signal input in Hz.  When given, the first kernel
        spans about 0.1 s (the scale of a QRS complex).
    crop_length : float, default=None
        Variable-length records (``X`` a list of ``(leads, length_i)``
        arrays): seconds of signal in each random training crop, which needs
        ``sampling_rate``.  None: the shortest record's length (in samples, no
        sampling rate needed), so that every record gives a crop without
        padding.  Given with a 3-D array ``(n, leads, length)`` of long
        records of one length, it trains on random crops of them as well (a
        variable-length model, which validates and predicts on whole
        records); ignored for tabular input.
    signal_shape : tuple of int (leads, length), default=None
        Signal plus side features in one 2-D array.  When given, each row of
        2-D ``X`` holds ``leads * length`` signal values (lead after lead, as
        ``signals.reshape(n, -1)`` lays them out) followed by ``F >= 0``
        tabular side features (for ECG beats, RR-interval features), so that
        both flow through Pipelines and ``cross_val_score`` as one array.
        The signal goes through the conv blocks; the side features join the
        pooled conv features at the head's input (the bound counts them in
        the head's ``P_l``).  They are standardised inside the network by a
        parameter-free batch norm, so no scaler is needed for them; a scaler
        in the pipeline would also rescale the signal columns one by one.
        None: 2-D ``X`` is tabular (or a single-lead signal, see ``input_kind``).
    growth : {"explore", "deepen"} or GrowthPolicy, default="explore"
        What each round of the search trains (:mod:`sklearn_autonet.growth`).
        "explore": several networks around the best so far, every one within
        the bound: in round 1 depth-1 networks of the widest width, half and
        a quarter of it, with first kernels at and around the QRS scale, and
        the widest depth-2 network; later, the best so far one block deeper
        (at its width and at the widest) and at half its width.  "deepen":
        one block deeper per round at the widest width (the search before
        "explore").  A :class:`~sklearn_autonet.growth.GrowthPolicy` instance
        is used as given.  "explore" is the default because it measured
        better than "deepen" in ``benchmarks/search.py`` (figures on the
        benchmarks page).
    halving : bool, default=True
        Successive halving inside rounds of several candidates: each trains
        first for a twentieth of ``max_epochs``, and the best third of the
        round continues from its weights to the full budget
        (``search_history_`` columns ``rung_epochs``, ``rung_score``,
        ``promoted``).  It keeps the cost of a wide round near that of a few
        full candidates.
    kernel_size : int, default=None
        Kernel size of every conv block.  None: from ``sampling_rate`` for the
        first block (7 without it), 5 for the later ones.
    stem_stride : "auto" or int, default="auto"
        Stride of the first conv block (the stem), so that long records are
        not convolved at full rate and full width.  ``"auto"``: on records of
        at least 2 s with ``sampling_rate`` given, ``floor(sampling_rate /
        100)`` (3 at 360 Hz: the block writes at 120 Hz, enough for the band
        of a QRS complex, and computes a third of the activations); 1 (no
        stem) on shorter windows such as single beats, or without
        ``sampling_rate``.  An int >= 1 is used on any signal.  The stride is
        capped at the first kernel size (no sample is skipped), is shown in
        ``architecture_`` (``conv k37 s3 w16``) and is counted by the bound
        under ``counting="outputs"``.  Ignored for tabular input.
    max_width : int, default=64
        Cap on the width of a block; below it, the width is the largest the
        layer-wise bound allows.
    rho : float, default=1.0
        Slack of the bound ``P_l <= rho * N_eq``.  Lower values give narrower
        networks.
    counting : {"samples", "outputs"}, default="outputs"
        How equations are counted.  "outputs": one per output value of the
        layer over the training set (each output unit is a system of ``N_fit *
        L_out`` equations in ``fan_in + 1`` unknowns, the literal
        linear-algebra reading of the design note).  "samples": one per
        training sample, a much stricter bound that keeps conv layers a few
        filters wide on small data.  Both are enforced and reported the same
        way (``convexity_report_``).  Under "outputs" a dense layer holds
        whenever the training samples outnumber its inputs, so its width is
        ``max_width``; conv layers are bounded by their output length too.
        "outputs" is the default because in ``benchmarks/counting.py`` it
        scored at least as well as "samples" on every signal set over three
        seeds, far better on the smallest, and the convexity probe found fewer
        non-convex segments in its wider conv layers; it costs more fit time on
        small data (``docs/method.md``).
    activation : {"leaky_relu", "elu", "tanh", "relu"}, default="leaky_relu"
        Hidden activation.  The convexity argument needs an invertible one;
        ``"relu"`` is allowed but reported as breaking that premise.
    max_depth : int, default=None
        Deepest network to try.  None: until the signal is pooled to length 1
        (``log2(length)`` blocks) or 6 blocks for tabular input.
    max_candidates : int, default=20
        Budget: most candidates trained.
    patience : int, default=2
        Stop after this many candidates in a row without a better validation score.
    max_time : float, default=None
        Budget: wall-clock seconds for the search; checked after each epoch.
        Each candidate may use a fair share of what is left (the time left
        divided by the candidates the search still plans), so no candidate
        takes the whole budget unless it is the only one planned.  The first
        candidate always trains (at least one epoch), so that ``fit`` ends
        with a network; once the budget is spent no new candidate starts.
    max_epochs : int, default=100
        Budget: most epochs per candidate.
    epoch_patience : int, default=10
        Early stopping of a candidate on the validation loss (the weights of
        its best epoch are kept).
    min_steps_per_epoch : int, default=10
        On data so small that one pass over the training data is fewer
        optimizer steps (mini-batches) than this, an epoch makes
        ``ceil(min_steps_per_epoch / steps)`` passes: with 18 training series
        and batches of 16 a pass is one step, and 10 epochs of patience would
        otherwise stop a candidate after 10 steps.  Validation and skorch's
        per-epoch work then run once per epoch of several passes, not once per
        step.  The passes used are the ``passes_per_epoch`` column of
        ``search_history_``; 1 turns this off.  On by default because without
        it tiny training sets stopped after a handful of optimizer steps and
        predicted one class (``benchmarks/epoch_budget.py``).
    validation_fraction : float, default=0.2
        Share of the training data held out to score the candidates.  Stratified;
        by group when ``groups`` is passed to ``fit``: then the held-out groups
        are one fold of scikit-learn's ``StratifiedGroupKFold`` (about
        ``1 / validation_fraction`` folds, built from the groups' class
        counts), the fold ``random_state`` picks, or the next one that keeps
        every class in training.  Fits with other seeds validate on other
        groups, so the spread of scores over seeds includes the choice of
        groups, which on patient data is most of it
        (``benchmarks/validation_folds.py``).
    scoring : str, callable or None, default=None
        Scikit-learn scorer used to compare candidates on the validation split.
        None: ``"balanced_accuracy"`` for one label per sample, ``"f1_macro"``
        (F1 of each label at ``predict``'s 0.5, averaged over the labels) for a
        multi-label ``y`` (``docs/evaluation.md``).
    threshold : float in (0, 1) or "tuned", default=0.5
        Multi-label ``y`` only (ignored otherwise): ``predict`` gives a label
        when its probability is at least this.  "tuned": one threshold per
        label, the one that maximises that label's F1 on the search's
        validation split (probabilities of the network or ensemble the search
        selected; under k-fold scoring, its out-of-fold probabilities of all
        the training data), in ``thresholds_``.
    refit : bool or "auto", default="auto"
        Retrain the selected architecture (every member of the ensemble, each
        from its own candidate's seed) on all the data (train + validation) for
        the number of epochs its candidate needed (its best epoch), so that the
        validation split trains the final model too.  "auto": refit when
        ``fit`` gets no ``groups``, keep the search's networks when it does.
        Without groups, with the default ``counting="outputs"``, the refit
        raised the mean test score over the early-stopped candidates on both
        UCR sets (``benchmarks/selection.py``).  With groups (patients,
        records) the search's hold-out is unseen patients, and on MIT-BIH DS1
        -> DS2 the refit scored far worse than the networks early-stopped and
        selected on them (``benchmarks/mitbih.py``; our reading: the epoch
        count chosen on unseen patients does not carry over to training on
        those patients too).  The other way to use all the data, the bagged
        fold models of k-fold scoring (``cv_max_samples``), is off by default:
        it costs ``cv`` trainings of each scored candidate.  False keeps the
        candidates the search trained (the hold-out never trains them).  The
        members are retrained as the search's tasks are (``n_jobs``, devices,
        out-of-memory retries); the search's networks are kept, with a warning,
        when ``max_time`` runs out during the refit, a member fails, or on
        Ctrl-C, and no refit starts after a search stopped by ``max_time``.
        Figures in ``docs/method.md`` (ensembles of LCNs).
    schedule : {"end_to_end", "layerwise"}, default="end_to_end"
        How each candidate is trained.  "end_to_end": back-propagation over
        all layers.  "layerwise": block coordinate descent, one layer trainable
        at a time (the others frozen) for ``epochs_per_block`` epochs, cycling
        from the first block to the head; each step is the convex sub-problem
        of the Layer-wise Convex Theorem.  "end_to_end" is the default because
        in ``benchmarks/schedules.py`` it scored at least as well as
        "layerwise" with fewer epochs (figures in ``docs/method.md``).
    epochs_per_block : int, default=1
        Under ``schedule="layerwise"``: epochs on one layer before the next.
    weight_init : {"default", "orthogonal"}, default="default"
        "orthogonal" initialises every conv / linear weight orthogonally
        (in the spirit of Shin, 2021).
    warm_growth : bool, default=False
        Start each grown candidate from its parent's trained layers (those
        whose shapes match); ``search_history_["warm_layers"]`` lists them.
        Off by default: in ``benchmarks/schedules.py`` it saved epochs on small
        data at the same accuracy and nothing on MIT-BIH, where the widths
        change between depths and little is copied (``docs/method.md``).
    precision : {"float32", "bfloat16"}, default="float32"
        "bfloat16" runs the training forward passes under ``torch.autocast``
        (mixed precision; meant for CUDA, works on CPU too).  Prediction is
        always computed in float64 (see ``predict_proba``).
    batch_size : int or "auto", default="auto"
        Mini-batch size; "auto" is about a tenth of the data, from 16 to 256.
    learning_rate : float, default=1e-2
        AdamW learning rate.
    lr_schedule : {"constant", "cosine", "onecycle"}, default="constant"
        How the learning rate changes over a candidate's epochs
        (:mod:`sklearn_autonet.lr_schedules`, skorch's ``LRScheduler``):
        "cosine" anneals it from ``learning_rate`` towards 0 over
        ``max_epochs``; "onecycle" warms up from a 25th of it over the first
        30 % of ``max_epochs``, then anneals.  The schedule spans the whole
        ``max_epochs`` of a candidate: a candidate promoted by ``halving``
        continues it where its rung stopped, and a refit follows it for its
        best epoch count.  Early stopping may end a candidate before the end
        of the schedule (its best epoch is kept).  The epoch's rate is the
        ``event_lr`` column of ``net_.history``.  "constant" is the default
        because neither schedule beat it on both UCR sets by more than the
        spread over seeds in ``benchmarks/recipe.py`` (``docs/method.md``).
    weight_decay : float, default=1e-2
        AdamW weight decay (torch's default).
    augmentation : None, "default" or dict, default="default"
        Random changes to the training batches of signal input
        (:mod:`sklearn_autonet.augmentation`), never to the validation data
        or at predict time, repeatable under an int ``random_state``.  A dict
        names the transforms used and their strengths (those not named are
        off): ``"shift"`` (largest circular time shift, fraction of the
        length, < 0.5), ``"scale"`` (amplitude factor in ``[1 - scale, 1 +
        scale]``, < 1), ``"wander"`` (baseline wander, a sinusoid of 0.05 to
        0.5 Hz, amplitude in standard deviations of the sample; needs
        ``sampling_rate``), ``"noise"`` (Gaussian, in standard deviations of
        the sample), ``"mixup"`` (alpha of mixup's ``Beta(alpha, alpha)``).
        "default" is ``{"shift": 0.1, "scale": 0.1, "wander": 0.1, "noise":
        0.05}`` (without wander when ``sampling_rate`` is None; nothing for
        tabular input).  With ``signal_shape`` the side features are not
        changed (mixup mixes whole rows).  Tabular input takes ``{"mixup":
        alpha}`` only.  The bound is unchanged: augmentation adds no
        equations.  "default" is the default because, measured over three
        seeds with the other defaults, it raised the test score on the
        MIT-BIH inter-patient suite and on both UCR ECG sets, and the first
        network's score on every fold of MIT-BIH records the search can
        validate on (``docs/method.md``); None turns it off.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as in scikit-learn's classifiers.
        For a multi-label ``y``, "balanced" weighs each label's positives and
        negatives equally (``n / (2 n_pos)`` and ``n / (2 n_neg)`` per label,
        a ``pos_weight`` of ``n_neg / n_pos``); a dict is refused there.
    device : str, default="auto"
        Torch device; "auto" is "cuda" when available, else "cpu".
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split (by group, it picks the held-out groups:
        see ``validation_fraction``), the initialisation and the batch order;
        an int makes ``fit`` deterministic on CPU.
    verbose : int, default=0
        0 prints nothing; 1 shows a progress bar over the candidates; 2 also
        prints every candidate's epoch table.
    checkpoint_dir : str or path, default=None
        Save every finished candidate (weights, spec, history row) in this
        folder; a ``fit`` with the same data and arguments (an int
        ``random_state`` included) reuses them instead of training them again,
        so a search killed midway resumes where it stopped.  See
        ``docs/errors.md``.
    seeds_per_round : int, default=1
        Each network a round proposes is trained from this many seeds
        (candidate ``i`` of the search gets the ``i``-th seed); the round's
        best candidate is what the patience rule sees.  They are independent
        tasks, run in parallel with ``n_jobs``.
    ensemble_size : int, default=10
        Greedy ensemble selection with replacement (Caruana et al., 2004, as in
        Auto-sklearn and AutoGluon) over the finished candidates of the search:
        starting from the best candidate, up to ``ensemble_size`` picks, each
        adding the candidate that most improves the validation score (then
        the validation log loss) of the mean of probabilities; the best prefix
        is kept, so the ensemble is never worse on the validation split than
        the best network, and is that network alone when nothing helps.  A
        candidate picked ``k`` times gets weight ``k / picks``; ``predict_proba``
        is the weighted mean of the members' probabilities.  Every member is
        a layer-wise convex network within the bound.  Only the weights of the
        best ``2 * ensemble_size`` candidates are kept during the search.
        1 is the single best network.  10 is the default because in
        ``benchmarks/selection.py`` it raised the test score over 1 on the two
        UCR sets and left the embedded MIT-BIH subset unchanged; the ensembles
        stay small (a default search finishes few candidates: halving prunes
        the rest).  Figures in ``docs/method.md`` (ensembles of LCNs).
    selection : {"best", "one_se", "auto"}, default="best"
        Which finished candidate the search selects (and starts the ensemble
        from).  ``"best"``: the highest validation score (ties: the earlier).
        ``"one_se"``: the one-standard-error rule (Breiman et al., 1984), the
        candidate with the fewest parameters among those scoring at least the
        best score minus its bootstrap standard error; with ``groups`` the
        bootstrap resamples the held-out groups, so a hold-out of a few
        patients counts as a few draws.  Under ``"one_se"`` the ensemble takes
        its members from the candidates within that band and no larger than
        the selected one, and every finished candidate's weights are kept
        during the search.  ``search_history_["selection_threshold"]`` holds
        the lowest validation score the rule accepted.  ``"auto"``:
        ``"one_se"`` when ``fit`` gets ``groups``, ``"best"`` otherwise.
        ``"best"`` stays the default: the rule helped on the small embedded
        MIT-BIH subset and on some record folds of the full DS1, but lost
        badly on a seed of the full MIT-BIH suite (it kept a narrow, deep
        network), and it lost on every seed of the UCR sets.  Figures in
        ``docs/method.md`` (the selection rule).  See
        :mod:`sklearn_autonet.selection_rules`.
    cv : int, default=5
        Folds of the k-fold scoring used when the training data hold at most
        ``cv_max_samples`` samples (stratified; by group when ``groups`` is
        passed, so that no group is on both sides of any fold).  After the
        hold-out search, the best finished candidates (``cv_candidates`` of
        them, by hold-out score) are each trained ``cv`` times on the folds of
        *all* the training data (each fold model stopped early on its held-out
        fold), scored by their out-of-fold probabilities
        (``search_history_["cv_score"]``), and the ensemble is selected on
        those out-of-fold probabilities.  The final model is then the selected
        candidates retrained on all the data (when ``refit`` applies: True, or
        "auto" without ``groups``) or else their fold models, bagged (a
        candidate of weight ``w`` gives ``cv`` networks of weight ``w / cv``),
        so every training sample trains it.  ``cv`` larger than the smallest
        class, or than the number of groups, raises a ``ValueError`` that says
        what to change.
    cv_max_samples : int, default=0
        k-fold scoring (``cv``) when the training data hold at most this many
        samples, the single hold-out of the search otherwise; 0 never uses it.
        Off by default: in ``benchmarks/selection.py`` 5-fold scoring with the
        bagged fold models cost several times the search and did not beat the
        hold-out ensemble (figures in ``docs/method.md``, ensembles of LCNs).
    cv_candidates : int or None, default=8
        Under k-fold scoring, how many of the search's finished candidates
        (the best by hold-out score) are cross-validated, so have out-of-fold
        probabilities for the ensemble selection; None: every finished
        candidate.  Each costs ``cv`` trainings; the rest get a NaN
        ``cv_score`` and cannot enter the ensemble.  8 bounds that cost at
        about ``cv`` times a search of 8 finished candidates (a default search
        seldom finishes more: halving prunes the rest).
    n_jobs : int or None, default=1
        Workers for the candidates of a round, through ``joblib.Parallel``
        under the active joblib backend (loky by default; Dask or Ray with
        ``joblib.parallel_backend``).  1 runs them in this process, so the
        estimator nests safely in ``GridSearchCV(n_jobs=...)``; None uses the
        active backend's default; -1 all its workers.  The result does not
        depend on ``n_jobs``.  Each task limits torch to ``cores // n_jobs``
        threads (at least 1); with several visible GPUs, tasks go
        round-robin to ``cuda:0``, ``cuda:1``, ...  See ``docs/parallel.md``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels; for a multi-label ``y``, ``arange(n_labels)`` (as
        ``MLPClassifier`` sets it).
    target_type_ : {"binary", "multiclass", "multilabel-indicator"}
        The kind of ``y`` seen in ``fit`` (:mod:`sklearn_autonet.targets`).
    thresholds_ : ndarray of shape (n_labels,) or None
        Multi-label: ``predict``'s threshold on each label's probability
        (``threshold``); None for one label per sample.
    n_features_in_ : int
        Features (2-D input, the samples of a single-lead signal too) or leads
        (3-D input) seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame with string column names.
    layout_ : InputLayout
        How ``X`` is read (:mod:`sklearn_autonet.layout`); ``input_kind_``,
        ``input_shape_`` and ``n_side_features_`` are its fields.
    input_kind_ : {"tabular", "signal"}
        How ``X`` was read.
    input_shape_ : tuple of int
        ``(n_features,)`` or ``(leads, length)``.
    n_side_features_ : int
        Side features after the signal columns (``signal_shape``); 0 otherwise.
    architecture_ : Architecture or EnsembleArchitecture
        The selected network; ``print(clf.architecture_)`` shows a table.  For
        an ensemble of several networks, an
        :class:`~sklearn_autonet.architecture.EnsembleArchitecture`: one
        table per member (``members``, ``weights``, ``specs``; ``spec`` is
        the first member's).
    convexity_report_ : ConvexityReport
        Per trainable layer: name, ``P_l``, ``N_fit``, ``N_eq``, ratio, holds.
        For an ensemble, every member's layers, named ``member<i>.<layer>``.
    ensemble_weights_ : ndarray of shape (n_members,)
        Each member's weight in the mean of probabilities (``[1.0]`` for a
        single network), in the order of ``architecture_.members``; with
        k-fold scoring (``cv_max_samples``) every fold model is a member.
    search_history_ : dict of lists
        One entry per candidate: ``candidate``, ``depth``, ``widths``,
        ``kernel_sizes``, ``activation``, ``architecture`` (one line),
        ``n_parameters``, ``max_ratio`` (largest ``P_l / N_eq``),
        ``bound_holds``, ``warm_layers`` (layers copied from the parent under
        ``warm_growth``), ``epochs``, ``best_epoch``, ``max_epochs`` and
        ``epoch_patience`` (the budgets used), ``passes_per_epoch`` (see
        ``min_steps_per_epoch``), ``rung_epochs``, ``rung_score`` and
        ``promoted`` (successive halving, see ``halving``),
        ``validation_score``,
        ``seconds``, ``n_fit``, ``spec`` (the :class:`NetworkSpec`),
        ``selected`` (the best single candidate), ``ensemble_weight`` (its
        weight in the final ensemble, 0 when it is not a member),
        ``cv_score`` (its out-of-fold score under k-fold scoring, NaN
        otherwise; the selection then follows it, not ``validation_score``),
        ``batch_size`` (after out-of-memory retries),
        ``status`` ("ok", "failed", or "pruned": left at the rung by successive halving, never selected), ``error`` (why it failed, else ""),
        ``from_checkpoint``, ``torch_threads`` and ``device`` (where it
        trained), ``round``, ``seed`` and ``reason`` (why the growth policy proposed it).  ``pandas.DataFrame(search_history_)`` gives a
        table, as with ``cv_results_``.
    stop_reason_ : str
        Why the search stopped: "patience", "no_room_to_grow",
        "max_candidates", "max_time" or "interrupted" (Ctrl-C; the best
        finished candidate is kept, and ``refit`` is skipped).
    n_parameters_ : int
        Trainable parameters of the selected network (for an ensemble, the
        sum over its members).
    n_fit_ : int
        Samples the selected network was trained on (with k-fold scoring
        and no refit, the smallest fold's training part).
    net_ : skorch.NeuralNetClassifier
        The trained skorch net of the selected network; for an ensemble its
        module is an :class:`~sklearn_autonet.modules.EnsembleNetwork`
        holding the members.
    fit_time_ : float
        Seconds spent in ``fit``.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)
    >>> clf = make_pipeline(StandardScaler(),
    ...                     AutoNetLCNClassifier(max_candidates=1, max_epochs=5, random_state=0))
    >>> clf.fit(X_tr, y_tr).score(X_te, y_te) > 0.9
    True
    >>> clf[-1].architecture_.spec.describe()
    'tabular(30) leaky_relu: dense w64 -> head 2'
    >>> clf[-1].convexity_report_.holds, clf[-1].stop_reason_
    (True, 'max_candidates')
    """

    _parameter_constraints = {
        "input_kind": [StrOptions(set(INPUT_KIND_OPTIONS))],
        "sampling_rate": [Interval(Real, 0, None, closed="neither"), None],
        "signal_shape": [tuple, list, None],
        "crop_length": [Interval(Real, 0, None, closed="neither"), None],
        "kernel_size": [Interval(Integral, 1, None, closed="left"), None],
        "stem_stride": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_width": [Interval(Integral, 1, None, closed="left")],
        "rho": [Interval(Real, 0, None, closed="neither")],
        "counting": [StrOptions(set(COUNTING_RULES))],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "max_depth": [Interval(Integral, 1, None, closed="left"), None],
        "max_candidates": [Interval(Integral, 1, None, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "max_time": [Interval(Real, 0, None, closed="neither"), None],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "epoch_patience": [Interval(Integral, 1, None, closed="left")],
        "min_steps_per_epoch": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "scoring": [str, callable, None],
        "threshold": [Interval(Real, 0, 1, closed="neither"), StrOptions({"tuned"})],
        "refit": ["boolean", StrOptions({"auto"})],
        "schedule": [StrOptions(set(SCHEDULES))],
        "epochs_per_block": [Interval(Integral, 1, None, closed="left")],
        "weight_init": [StrOptions(set(WEIGHT_INITS))],
        "warm_growth": ["boolean"],
        "precision": [StrOptions(set(PRECISIONS))],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "lr_schedule": [StrOptions(set(LR_SCHEDULES))],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "augmentation": [None, StrOptions({"default"}), dict],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "device": [str, HasMethods(["__str__"])],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "checkpoint_dir": [str, os.PathLike, None],
        "seeds_per_round": [Interval(Integral, 1, None, closed="left")],
        "growth": [StrOptions(set(GROWTH_POLICIES)), GrowthPolicy],
        "halving": ["boolean"],
        "n_jobs": [Integral, None],
        "ensemble_size": [Interval(Integral, 1, None, closed="left")],
        "selection": [StrOptions(set(SELECTION_RULES))],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "cv_max_samples": [Interval(Integral, 0, None, closed="left")],
        "cv_candidates": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        *,
        input_kind="auto",
        sampling_rate=None,
        crop_length=None,
        signal_shape=None,
        kernel_size=None,
        stem_stride="auto",
        max_width=64,
        rho=1.0,
        counting="outputs",
        activation="leaky_relu",
        max_depth=None,
        max_candidates=20,
        patience=2,
        max_time=None,
        max_epochs=100,
        epoch_patience=10,
        min_steps_per_epoch=10,
        validation_fraction=0.2,
        scoring=None,
        threshold=0.5,
        refit="auto",
        schedule="end_to_end",
        epochs_per_block=1,
        weight_init="default",
        warm_growth=False,
        precision="float32",
        batch_size="auto",
        learning_rate=1e-2,
        lr_schedule="constant",
        weight_decay=1e-2,
        augmentation="default",
        class_weight=None,
        device="auto",
        random_state=None,
        verbose=0,
        checkpoint_dir=None,
        seeds_per_round=1,
        n_jobs=1,
        growth="explore",
        halving=True,
        ensemble_size=ENSEMBLE_SIZE_DEFAULT,
        selection="best",
        cv=5,
        cv_max_samples=CV_MAX_SAMPLES_DEFAULT,
        cv_candidates=8,
    ):
        self.input_kind = input_kind
        self.sampling_rate = sampling_rate
        self.crop_length = crop_length
        self.signal_shape = signal_shape
        self.kernel_size = kernel_size
        self.stem_stride = stem_stride
        self.max_width = max_width
        self.rho = rho
        self.counting = counting
        self.activation = activation
        self.max_depth = max_depth
        self.max_candidates = max_candidates
        self.patience = patience
        self.max_time = max_time
        self.max_epochs = max_epochs
        self.epoch_patience = epoch_patience
        self.min_steps_per_epoch = min_steps_per_epoch
        self.validation_fraction = validation_fraction
        self.scoring = scoring
        self.threshold = threshold
        self.refit = refit
        self.schedule = schedule
        self.epochs_per_block = epochs_per_block
        self.weight_init = weight_init
        self.warm_growth = warm_growth
        self.precision = precision
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.weight_decay = weight_decay
        self.augmentation = augmentation
        self.class_weight = class_weight
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.checkpoint_dir = checkpoint_dir
        self.seeds_per_round = seeds_per_round
        self.growth = growth
        self.halving = halving
        self.n_jobs = n_jobs
        self.ensemble_size = ensemble_size
        self.selection = selection
        self.cv = cv
        self.cv_max_samples = cv_max_samples
        self.cv_candidates = cv_candidates

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None):
        """Run the AutoNet search and keep the best network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_leads, length), or list
            Tabular features, or signals; or a list (or 1-D object array) of
            ``(n_leads, length_i)`` signals of different lengths.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels (any type scikit-learn accepts, strings included), or
            a 0/1 label indicator matrix (multi-label: any number of labels
            per sample; every column needs 0s and 1s).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples in the training loss.
        groups : array-like of shape (n_samples,), default=None
            Group (patient, record) of each sample: the validation split then
            keeps each group on one side.

        Returns
        -------
        self : AutoNetLCNClassifier
            The fitted estimator.
        """
        # a fit that fails leaves no model behind, neither the old one nor half a new one
        _clear_fitted_state(self)
        try:
            return self._fit(X, y, sample_weight, groups)
        except BaseException:
            _clear_fitted_state(self)
            raise

    def _fit(self, X, y, sample_weight, groups):
        start = time.monotonic()
        self._check_params_before_training()
        multilabel = is_label_matrix(y)
        if y is not None and not multilabel:  # the caller's y: validate_data would turn [1, "a"] into strings
            check_labels(y)
        if self.crop_length is not None and isinstance(X, np.ndarray) and X.ndim == 3:
            X = list(X)  # long records of one length, trained on random crops: a variable-length model
        equal_records = self.crop_length is not None and isinstance(X, list) and len(X) > 0 and all(
            isinstance(r, np.ndarray) and r.ndim == 2 for r in X
        )
        if is_record_list(X) or equal_records:
            # signals of different lengths (layout.py, ragged.py)
            layout, X = InputLayout.fit_records(
                X, self.input_kind, self.signal_shape, self.crop_length, self.sampling_rate
            )
            y = validate_data(self, X="no_validation", y=y, multi_output=multilabel)
            check_consistent_length(X, y)
            self.n_features_in_ = layout.n_features_in
        else:
            check_not_ragged(X)
            X, y = validate_data(
                self, X, y, allow_nd=True, dtype=(np.float32, np.float64), ensure_min_samples=2,
                multi_output=multilabel,
            )
            layout, X = InputLayout.fit(X, self.input_kind, self.signal_shape)
        if multilabel:
            y_enc = check_label_matrix(y)
            classes = np.arange(y_enc.shape[1])
            weights = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        else:  # the labels were checked before validate_data (above)
            check_classification_targets(y)
            encoder = LabelEncoder().fit(y)
            classes = encoder.classes_
            y_enc = encoder.transform(y).astype(np.int64)
            weights = self._sample_weights(X, y, y_enc, classes, sample_weight)
        scoring = default_scoring(multilabel) if self.scoring is None else self.scoring

        seed = fit_seed(self.random_state)
        use_cv = len(y_enc) <= self.cv_max_samples
        if use_cv:
            check_folds(y_enc, groups, self.cv)
        train_idx, valid_idx = validation_split(
            stratification_key(y_enc) if multilabel else y_enc, groups,
            validation_fraction=self.validation_fraction, random_state=seed,
        )
        valid_idx = layout.batch_order(X, valid_idx)
        if multilabel:
            check_training_labels(y_enc[train_idx], weights[train_idx], len(train_idx))
        else:
            self._check_training_rows(y_enc, weights, train_idx, classes)
        self._check_scoring(scoring, y_enc[valid_idx], len(classes))
        weights = weights / weights[train_idx].mean()
        train = (X[train_idx], y_enc[train_idx], weights[train_idx])
        valid = (X[valid_idx], y_enc[valid_idx], weights[valid_idx])
        props = DataProperties(
            n_fit=len(train_idx),
            input_kind=layout.kind,
            input_shape=layout.shape,
            n_classes=len(classes),
            sampling_rate=self.sampling_rate if layout.is_signal else None,
            n_side=layout.n_side,
        )
        augmentation = augmentation_settings(self.augmentation, layout.kind, props.sampling_rate)
        settings = self._training_settings().replace(augmentation=augmentation)
        settings = settings.for_data(props.n_fit, self.min_steps_per_epoch)
        settings = settings.replace(crop_samples=layout.crop_samples)
        if multilabel:
            settings = settings.replace(
                multilabel=True, label_weights=label_weights(train[1], train[2], self.class_weight)
            )
        config = SearchConfig(
            bound=BoundSettings(
                rho=self.rho,
                counting=self.counting,
                max_width=self.max_width,
                activation=self.activation,
                kernel_size=self.kernel_size,
                max_depth=self.max_depth,
                stem_stride=self.stem_stride,
            ),
            training=settings,
            max_candidates=self.max_candidates,
            patience=self.patience,
            max_time=self.max_time,
            scoring=scoring,
            warm_growth=self.warm_growth,
            seeds_per_round=self.seeds_per_round,
            n_jobs=self.n_jobs,
            device_request=str(self.device),
            halving=self.halving,
        )
        policy = GROWTH_POLICIES[self.growth]() if isinstance(self.growth, str) else self.growth
        result = run_search(
            props, train, valid, config, policy=policy, random_state=seed, progress=self.verbose >= 1,
            checkpoint_dir=self.checkpoint_dir, ensemble_size=self.ensemble_size,
            selection=resolve_selection(self.selection, groups is not None),
            valid_groups=None if groups is None else np.asarray(groups)[valid_idx],
        )
        net, n_fit, best_index = result.net, props.n_fit, result.best_index
        held_out = None  # (probabilities, labels, weights) that threshold="tuned" tunes on: the search's hold-out
        if multilabel and self.threshold == "tuned":
            held_out = (_predict_proba_float64(result.net, valid[0], multilabel=True), *valid[1:])
        result.history["cv_score"] = [math.nan] * len(result.history["candidate"])
        everything = (X, y_enc, weights / weights.mean())  # all the training data, weights of mean 1
        crossed = None
        if use_cv and result.stop_reason not in ("interrupted", "max_time"):
            crossed = self._cross_validate(result, everything, groups, settings, config, seed, start)
        if crossed is not None:
            net, n_fit, best_index, out_of_fold = crossed
            if held_out is not None:  # the out-of-fold probabilities of every training sample
                held_out = (out_of_fold, *everything[1:])
        elif self._refits(groups) and result.stop_reason not in ("interrupted", "max_time"):
            refitted = self._refit(result, result.members, everything, settings, seed, start)
            if refitted is not None:
                net, n_fit = refitted, len(y_enc)

        set_fitted_state(
            self,
            net=net,
            spec=result.spec,
            layout=layout,
            classes=classes,
            n_fit=n_fit,
            search_history=result.history,
            stop_reason=result.stop_reason,
            best_index=best_index,
            fit_time=time.monotonic() - start,
            thresholds=self._thresholds(y_enc, held_out) if multilabel else None,
        )
        if self.verbose >= 1:
            print(f"AutoNet stopped ({self.stop_reason_}) after {len(result.history['candidate'])} candidates")
            print(self.architecture_)
        return self

    def _cross_validate(self, result, everything, groups, settings, config, seed, start):
        """k-fold scoring of the search's best candidates; ``(net, n_fit, best_index, out_of_fold)`` or None.

        ``out_of_fold`` is the selected ensemble's out-of-fold probabilities of every training sample.

        Updates ``result.history`` (``cv_score``, ``ensemble_weight``,
        ``selected``) when the k-fold selection is used.
        """
        time_left = self._time_left(start)
        if time_left is not None and time_left <= 0:
            return None
        pool = result.pool if self.cv_candidates is None else result.pool[: self.cv_candidates]
        crossed, interrupted = run_interruptible(lambda: cross_validate_pool(
            pool, *everything, groups, k=self.cv, seed=seed, settings=settings,
            scoring=config.scoring, bound=config.bound, ensemble_size=self.ensemble_size,
            n_jobs=self.n_jobs, device_request=str(self.device), time_left=time_left,
        ))
        if interrupted:
            result.stop_reason = "interrupted"
            warnings.warn(
                "AutoNet k-fold scoring interrupted; keeping the ensemble selected on the hold-out.",
                RuntimeWarning,
                stacklevel=3,
            )
            return None
        if crossed is None:
            return None
        history, members, k = result.history, crossed["members"], len(crossed["folds"])
        position = {row: i for i, row in enumerate(history["candidate"])}
        history["cv_score"] = [math.nan] * len(history["candidate"])
        for p, score in enumerate(crossed["scores"]):
            history["cv_score"][position[pool[p]["index"]]] = score
        chosen = {pool[p]["index"]: w for p, w in members}
        history["ensemble_weight"] = [float(chosen.get(c, 0.0)) for c in history["candidate"]]
        best_index = position[pool[members[0][0]]["index"]]
        history["selected"] = [i == best_index for i in range(len(history["candidate"]))]
        out_of_fold = sum(w * crossed["oof"][p].astype(np.float64) for p, w in members)
        if self._refits(groups):
            refitted = self._refit(result, [dict(pool[p], weight=w) for p, w in members], everything, settings,
                                   seed, start)
            if refitted is not None:
                return refitted, len(everything[1]), best_index, out_of_fold
        specs, states, member_weights = [], [], []
        for p, w in members:
            for j in range(k):
                specs.append(pool[p]["spec"])
                states.append(crossed["states"][(p, j)])
                member_weights.append(w / k)
        net = rebuild_ensemble(specs, states, member_weights, seed, crossed["n_fit"], settings)
        return net, crossed["n_fit"], best_index, out_of_fold

    def _thresholds(self, Y, held_out):
        """``predict``'s threshold per label: ``threshold``, or tuned on ``held_out`` (proba, labels, weights)."""
        if held_out is None:
            return np.full(Y.shape[1], float(self.threshold))
        return tune_thresholds(*held_out)

    def _time_left(self, start):
        """Seconds left of ``max_time`` for a fit that started at ``start`` (``time.monotonic``); None without it."""
        return None if self.max_time is None else self.max_time - (time.monotonic() - start)

    def _refits(self, groups):
        """Whether the selected members are retrained on all the data: ``refit``, "auto" meaning without ``groups``."""
        return groups is None if self.refit == "auto" else bool(self.refit)

    def _refit(self, result, members, everything, settings, seed, start):
        """``members`` retrained on all the data (:mod:`sklearn_autonet.refit`); None keeps the search's models.

        None, with a warning, when ``max_time`` ran out during the refit, a
        member failed, or the user pressed Ctrl-C (``result.stop_reason``
        becomes "interrupted").
        """
        time_left = self._time_left(start)
        if time_left is not None and time_left <= 0:
            why = "max_time ran out before the refit"
        else:
            refitted, interrupted = run_interruptible(lambda: refit_members(
                members, everything, settings, seed, n_jobs=self.n_jobs, device_request=str(self.device),
                time_left=time_left,
            ))
            if interrupted:
                result.stop_reason, why = "interrupted", "interrupted"
            else:
                net, why = refitted
                if why is None:
                    return net
        warnings.warn(
            f"AutoNet refit on all the data not used ({why}); keeping the networks the search trained.",
            RuntimeWarning,
            stacklevel=4,
        )
        return None

    def _training_settings(self):
        """The estimator's training parameters as :class:`~sklearn_autonet.training.TrainingSettings`."""
        return TrainingSettings(
            max_epochs=self.max_epochs,
            epoch_patience=self.epoch_patience,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            lr_schedule=self.lr_schedule,
            weight_decay=self.weight_decay,
            device=self._device(),
            schedule=self.schedule,
            epochs_per_block=self.epochs_per_block,
            weight_init=self.weight_init,
            precision=self.precision,
            verbose=int(self.verbose >= 2),
        )

    def _check_params_before_training(self):
        """What ``_validate_params`` cannot see, checked before any data is read or trained on."""
        if isinstance(self.scoring, str):
            try:
                get_scorer(self.scoring)
            except ValueError:
                raise ValueError(
                    f"scoring={self.scoring!r} is not a scikit-learn scorer name; "
                    "sklearn.metrics.get_scorer_names() lists them, or pass a callable scorer(estimator, X, y)."
                ) from None
        if isinstance(self.batch_size, Integral) and self.batch_size < 2:
            raise ValueError(
                f"batch_size={self.batch_size}: batch norm needs at least 2 samples per mini-batch; "
                "use batch_size >= 2 or 'auto'."
            )
        if isinstance(self.class_weight, dict):
            bad = {k: v for k, v in self.class_weight.items()
                   if not isinstance(v, Real) or isinstance(v, bool) or not np.isfinite(v) or v < 0}
            if bad:
                raise ValueError(
                    f"class_weight must map classes to finite, non-negative numbers; got {bad!r}."
                )
        if isinstance(self.checkpoint_dir, str) and not self.checkpoint_dir.strip():
            raise ValueError(
                f"checkpoint_dir={self.checkpoint_dir!r} is an empty path; pass a folder "
                "(created when missing), or None for no checkpoints."
            )
        self._device()

    def _check_training_rows(self, y_enc, weights, train_idx, classes):
        """The training side of the validation split needs positive weights for 2 classes."""
        positive = weights[train_idx] > 0
        trained = np.unique(y_enc[train_idx][positive])
        if len(trained) < 2:
            raise ValueError(
                f"After the validation split, {int(positive.sum())} of the {len(train_idx)} training rows "
                f"have a positive sample_weight (times class_weight), of {len(trained)} class(es) "
                f"{[_plain(c) for c in classes[trained]]}; training needs positive weights for at least "
                "2 classes. Give more samples of other classes a positive weight."
            )

    def _check_scoring(self, scoring, y_valid, n_classes):
        """A dry run of a named scorer on the validation labels, before any candidate is trained."""
        if not isinstance(scoring, str):
            return
        if np.ndim(y_valid) == 2 and scoring in ROW_DISTRIBUTION_SCORERS:
            raise ValueError(
                f"scoring={scoring!r} reads each row of probabilities as one distribution over classes; a "
                "multi-label model's label probabilities are independent. Use 'f1_macro' (the default), "
                "'average_precision' or 'roc_auc'."
            )
        stand_in = _ScoringStandIn(y_valid, n_classes)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                score = float(get_scorer(scoring)(stand_in, np.zeros((len(y_valid), 1)), y_valid))
            if not np.isfinite(score):
                raise ValueError(f"the score is {score}")
        except Exception as exc:  # noqa: BLE001 - any failure of the scorer is reported the same way
            if np.ndim(y_valid) == 2:
                raise ValueError(
                    f"scoring={scoring!r} cannot score a multi-label target of {n_classes} labels "
                    f"({type(exc).__name__}: {exc}). Use a scorer for label indicator matrices, e.g. "
                    "'f1_macro' (the default), 'f1_samples' or 'average_precision'."
                ) from None
            raise ValueError(
                f"scoring={scoring!r} cannot score this task: {n_classes} classes, "
                f"{len(np.unique(y_valid))} of them in the {len(y_valid)} validation samples "
                f"({type(exc).__name__}: {exc}). Use a scorer for this target, e.g. 'balanced_accuracy', "
                "or 'roc_auc_ovr' for more than 2 classes."
            ) from None

    def _sample_weights(self, X, y, y_enc, classes, sample_weight):
        weights = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        if isinstance(self.class_weight, dict):
            unknown = [k for k in self.class_weight if k not in set(classes.tolist())]
            if unknown:
                raise ValueError(
                    f"class_weight has key(s) {unknown!r} that are not classes of y; the classes are "
                    f"{[_plain(c) for c in classes]}."
                )
        if self.class_weight is not None:
            weights = weights * compute_sample_weight(self.class_weight, y)
        n_weighted = len(np.unique(y_enc[weights > 0]))
        if len(classes) < 2:
            raise ValueError(
                f"AutoNetLCNClassifier needs samples of at least 2 classes; y has only 1 class "
                f"({classes[0]!r})."
            )
        if n_weighted < 2:
            raise ValueError(
                "AutoNetLCNClassifier needs at least 2 classes with positive sample_weight; "
                f"only {n_weighted} class has any."
            )
        return weights

    def _device(self):
        device = str(self.device)
        if device == "auto":
            return resolve_device(device)
        try:
            parsed = torch.device(device)
        except RuntimeError as exc:
            raise ValueError(f"device={device!r} is not a torch device: {exc}") from None
        if parsed.type == "cuda":
            if not torch.cuda.is_available():
                raise ValueError(f"device={device!r} but CUDA is not available on this machine; use 'auto' or 'cpu'.")
            if parsed.index is not None and parsed.index >= torch.cuda.device_count():
                raise ValueError(f"device={device!r} but only {torch.cuda.device_count()} CUDA device(s) are visible.")
        elif parsed.type == "meta":
            raise ValueError(f"device={device!r} holds no data and cannot train; use 'auto', 'cpu' or 'cuda'.")
        elif parsed.type != "cpu":
            try:  # mps, xpu, ...: whether this torch build and machine can hold a tensor there
                torch.empty(1, device=parsed)
            except Exception as exc:  # noqa: BLE001 - backends fail with various types
                reason = str(exc).splitlines()[0].split(". ")[0][:160] if str(exc) else type(exc).__name__
                raise ValueError(
                    f"device={device!r} is not available on this machine ({reason}); use 'auto' or 'cpu'."
                ) from None
        return device

    # -------------------------------------------------------------- predict
    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_leads, length)
            Input with the layout seen in ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, columns in the order of ``classes_``.
            For a multi-label model, ``(n_samples, n_labels)``: each label's
            own probability (a sigmoid; rows need not sum to 1).
            Computed in float64 and rounded to float32 precision (that of the
            weights), so a row's probabilities do not depend on the other rows
            passed with it (their number, order or values).

        Raises
        ------
        ValueError
            When the network gives a non-finite probability (NaN or infinite
            weights, e.g. a damaged model); never returned.
        """
        check_is_fitted(self)
        X = self.layout_.read(self, X)
        proba = _predict_proba_float64(self.net_, X, multilabel=self._multilabel())
        bad = ~np.isfinite(proba).all(axis=1)
        if bad.any():
            raise ValueError(
                f"The network gave non-finite (NaN or infinite) probabilities for {int(bad.sum())} of "
                f"{len(proba)} sample(s), the first at row {int(np.argmax(bad))}; its weights hold "
                f"{_non_finite_weights(self.net_.module_)} non-finite value(s). Refit the model."
            )
        return proba

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_leads, length)
            Input with the layout seen in ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Labels from ``classes_``; for a multi-label model the 0/1
            indicator matrix, a label set where its probability is at least
            its threshold (``thresholds_``).
        """
        check_is_fitted(self)
        proba = self.predict_proba(X)
        if self._multilabel():
            return (proba >= self.thresholds_).astype(np.int64)
        return self.classes_[np.argmax(proba, axis=1)]

    def _multilabel(self):
        return getattr(self, "target_type_", None) == MULTILABEL

    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    def set_params(self, **params):
        """Set parameters; on a fitted estimator they apply at the next ``fit``.

        The fitted network keeps what it was fitted with: ``predict`` reads
        ``X`` with ``layout_`` (not ``signal_shape`` / ``input_kind``) and
        ``convexity_report_`` keeps the fit's ``rho`` / ``counting``; changing
        one of these four on a fitted estimator warns.
        """
        if hasattr(self, "net_"):
            changed = [k for k in ("signal_shape", "input_kind", "rho", "counting")
                       if k in params and not np.array_equal(params[k], getattr(self, k))]
            if changed:
                warnings.warn(
                    f"{type(self).__name__} is fitted: the new {', '.join(changed)} apply at the next fit; "
                    "until then the fitted network, its layout_ and convexity_report_ keep the values of "
                    "the last fit.",
                    UserWarning,
                    stacklevel=2,
                )
        return super().set_params(**params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.classifier_tags.multi_label = True
        tags.non_deterministic = False
        return tags

    def __reduce__(self):
        # Tensors outside skorch's own device handling (the early-stopping copy of the
        # best weights, validation data kept by the train split) would fail to unpickle
        # on a machine without the GPU they were on; _restore maps them to the CPU.
        return (_restore, (type(self), _pickle_state(self.__getstate__())))


#: Every attribute ``fit`` sets, besides scikit-learn's ``n_features_in_`` / ``feature_names_in_``.
FITTED_ATTRIBUTES = (
    "net_", "classes_", "layout_", "input_kind_", "input_shape_", "n_side_features_", "n_fit_",
    "search_history_", "stop_reason_", "best_index_", "architecture_", "convexity_report_",
    "n_parameters_", "fit_time_", "ensemble_weights_", "target_type_", "thresholds_",
)


def set_fitted_state(
    estimator, *, net, spec, layout, classes, n_fit, search_history, stop_reason, best_index, fit_time,
    thresholds=None,
):
    """Give ``estimator`` its fitted state: the one place ``fit`` and ``load_model`` both use.

    Everything derived (the architecture table, the convexity report, the
    parameter count, the layout's public attributes) is computed here from
    the network, its spec and the estimator's ``rho`` / ``counting``, so a
    fitted attribute added later is added once.

    Parameters
    ----------
    estimator : AutoNetLCNClassifier
    net : skorch net
        The trained network.
    spec : NetworkSpec
    layout : InputLayout
    classes : ndarray
    n_fit : int
        Samples the network was trained on.
    search_history : dict of lists
    stop_reason : str
    best_index : int
    fit_time : float
    thresholds : ndarray of shape (n_labels,) or None
        A multi-label model's thresholds; None for one label per sample.
    """
    estimator.net_ = net
    estimator.classes_ = classes
    if thresholds is None:
        estimator.target_type_ = "binary" if len(classes) == 2 else "multiclass"
        estimator.thresholds_ = None
    else:
        estimator.target_type_ = MULTILABEL
        estimator.thresholds_ = np.asarray(thresholds, dtype=np.float64)
    estimator.layout_ = layout
    estimator.input_kind_ = layout.kind
    estimator.input_shape_ = tuple(layout.shape)
    estimator.n_side_features_ = layout.n_side
    estimator.n_fit_ = int(n_fit)
    estimator.search_history_ = search_history
    estimator.stop_reason_ = stop_reason
    estimator.best_index_ = int(best_index)
    members = network_members(net.module_)
    estimator.ensemble_weights_ = np.array([w for _, w in members], dtype=np.float64)
    if len(members) == 1:
        estimator.architecture_ = Architecture(spec, layer_parameter_counts(net.module_))
        estimator.convexity_report_ = convexity_report(spec, n_fit, estimator.rho, estimator.counting)
    else:
        estimator.architecture_ = EnsembleArchitecture(
            [Architecture(m.spec, layer_parameter_counts(m)) for m, _ in members], [w for _, w in members]
        )
        estimator.convexity_report_ = _ensemble_report(
            [m.spec for m, _ in members], n_fit, estimator.rho, estimator.counting
        )
    estimator.n_parameters_ = count_parameters(net.module_)
    estimator.fit_time_ = float(fit_time)
    return estimator


def _ensemble_report(specs, n_fit, rho, counting):
    """One convexity report over every member's layers, named ``member<i>.<layer>``."""
    rows = [
        dataclasses.replace(row, layer=f"member{i}.{row.layer}")
        for i, spec in enumerate(specs)
        for row in convexity_report(spec, n_fit, rho, counting)
    ]
    report = ConvexityReport(rows)
    report.rho, report.counting = rho, counting
    return report


class _ScoringStandIn(ClassifierMixin, BaseEstimator):
    """A candidate's stand-in for the dry run of a scorer: predicts the labels shifted by one class.

    For a multi-label ``y`` (2-D) it predicts every label flipped.
    """

    def __init__(self, y=None, n_classes=2):
        self.y = y
        self.n_classes = n_classes
        self.classes_ = np.arange(n_classes)

    def __sklearn_is_fitted__(self):
        return True

    def predict(self, X):
        if np.ndim(self.y) == 2:
            return 1 - np.asarray(self.y)
        return (np.asarray(self.y) + 1) % self.n_classes

    def predict_proba(self, X):
        if np.ndim(self.y) == 2:
            return np.where(np.asarray(self.y) > 0, 0.25, 0.75)
        proba = np.full((len(self.y), self.n_classes), 0.5 / max(self.n_classes - 1, 1))
        proba[np.arange(len(self.y)), self.predict(X)] = 0.5
        return proba


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _predict_proba_float64(net, X, multilabel=False):
    """Softmax of the network's logits (a sigmoid per label if ``multilabel``), in float64, rounded to float32.

    In float32 a row's result depends on the rows batched with it: CPU and GPU
    kernels pick their summation order by batch size and a row's place in the
    batch (scikit-learn's sample-order and subset-invariance checks saw
    differences of 1.8e-7).  In float64 these differences are about 1e-15, and
    rounding to float32 (the precision of the weights) removes them.  The
    fitted module is run through ``torch.func.functional_call`` with float64
    copies of its parameters and buffers, made on each call from the current
    weights (small against the forward pass), so nothing is cached, pickled
    or saved, and the module itself is left as it was.
    """
    module = net.module_
    state = {
        name: t.detach().double() if t.is_floating_point() else t
        for name, t in [*module.named_parameters(), *module.named_buffers()]
    }
    device = next(iter(state.values())).device
    batch_size = max(int(net.batch_size), 1)
    training = module.training
    module.eval()
    proba = None
    try:
        with torch.no_grad():
            for rows, inputs in inference_batches(X, batch_size):  # records: batches of similar length
                inputs = {k: v.to(device, torch.float64) if v.is_floating_point() else v.to(device)
                          for k, v in inputs.items()}
                logits = torch.func.functional_call(module, state, (), inputs)
                part = output_probabilities(logits, multilabel).cpu().numpy()
                proba = np.empty((len(X), part.shape[1])) if proba is None else proba
                proba[rows] = part
    finally:
        module.train(training)
    return proba.astype(np.float32).astype(np.float64)


def _non_finite_weights(module):
    return sum(int((~torch.isfinite(t)).sum()) for t in module.state_dict().values() if t.is_floating_point())


def _clear_fitted_state(estimator):
    for name in (*FITTED_ATTRIBUTES, "n_features_in_", "feature_names_in_"):
        estimator.__dict__.pop(name, None)


def _pickle_state(state):
    return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


class _MapToCPUUnpickler(pickle.Unpickler):
    """Loads torch storages onto the CPU when CUDA is unavailable (as skorch does for its net)."""

    def find_class(self, module, name):
        if (module, name) == ("torch.storage", "_load_from_bytes"):
            location = None if torch.cuda.is_available() else "cpu"
            return lambda b: torch.load(io.BytesIO(b), map_location=location, weights_only=True)
        return super().find_class(module, name)


def _restore(cls, payload):
    """Unpickle an :class:`AutoNetLCNClassifier` pickled by its ``__reduce__``."""
    estimator = cls.__new__(cls)
    estimator.__setstate__(_MapToCPUUnpickler(io.BytesIO(payload)).load())
    return estimator
