"""Step 1 of AutoNet: hyperparameters derived from properties of the training data.

From the data the search reads the number of training samples ``N_fit``, the
input layout (leads and length for signals, features for tables), the classes,
and, when given, the sampling rate.  From them it derives the first kernel size
(on the scale of a QRS complex when the sampling rate is known), the stride of
the first block on long records (a strided stem, :func:`stem_stride`), the depth
range (until the signal is pooled away) and, for each depth, the widest uniform
width that keeps every layer overdetermined (:mod:`sklearn_autonet.bound`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .architecture import LayerSpec, NetworkSpec
from .bound import network_holds
from .layout import SIGNAL

#: Kernel size of the first conv block when no sampling rate is known.
DEFAULT_FIRST_KERNEL = 7
#: Kernel size of the later conv blocks (their input is already pooled).
DEFAULT_KERNEL = 5
#: Duration (seconds) the first kernel should cover: the scale of a QRS complex.
QRS_SECONDS = 0.1
#: Deepest tabular network the search may grow when ``max_depth`` is None.
DEFAULT_TABULAR_MAX_DEPTH = 6
#: Lowest rate (Hz) the strided stem's convolution writes at (see :func:`stem_stride`).
STEM_RATE = 100.0
#: Shortest record (seconds) that gets a strided stem under ``stem_stride="auto"``.
STEM_MIN_SECONDS = 2.0


@dataclass(frozen=True)
class DataProperties:
    """What the search knows of the training data.

    Parameters
    ----------
    n_fit : int
        Samples the candidates are trained on (after the validation split).
    input_kind : {"tabular", "signal"}
    input_shape : tuple of int
        ``(n_features,)`` or ``(leads, length)``.
    n_classes : int
    sampling_rate : float or None
    n_side : int, default=0
        Side features that join the pooled signal features at the head.

    Attributes
    ----------
    n_fit, input_kind, input_shape, n_classes, sampling_rate, n_side
        The parameters, as fields of a frozen dataclass.

    Examples
    --------
    >>> props = DataProperties(n_fit=400, input_kind="signal", input_shape=(1, 256),
    ...                        n_classes=4, sampling_rate=360)
    >>> depth_limit(props), kernel_sizes(props, 3)
    (8, [37, 5, 5])
    """

    n_fit: int
    input_kind: str
    input_shape: tuple
    n_classes: int
    sampling_rate: float | None = None
    n_side: int = 0

    @property
    def is_signal(self):
        """Whether the input is a signal (conv blocks) rather than a table."""
        return self.input_kind == SIGNAL


def first_kernel_size(sampling_rate=None, seconds=QRS_SECONDS):
    """Odd kernel size covering about ``seconds`` of signal at ``sampling_rate``.

    Without a sampling rate, ``DEFAULT_FIRST_KERNEL``.

    Parameters
    ----------
    sampling_rate : float or None, default=None
        Sampling rate in Hz.
    seconds : float, default=0.1
        Time the kernel should span (about a QRS complex).

    Returns
    -------
    kernel_size : int
        An odd kernel size of at least 3.

    Examples
    --------
    >>> first_kernel_size(360)
    37
    >>> first_kernel_size(None)
    7
    """
    if sampling_rate is None:
        return DEFAULT_FIRST_KERNEL
    k = max(3, int(round(sampling_rate * seconds)))
    return k if k % 2 else k + 1


def stem_stride(props, setting="auto"):
    """Stride of the first conv block (the stem): how much it thins out time.

    At full rate the first block of a long record is the costliest part of
    the network (``width x length`` activations per record, 10,800 per channel
    for 30 s at 360 Hz), yet no ECG wave needs that rate: the band of a QRS
    complex ends near 40 Hz (the band-pass of ``docs/ecg.md``), so a
    convolution writing at :data:`STEM_RATE` (100 Hz, Nyquist 50 Hz; the rate
    ``docs/ecg.md`` resamples to) still sees every QRS-scale detail, and its
    kernel, which spans about 0.1 s at full rate, acts as a learnt
    anti-aliasing filter before the decimation.  ``"auto"`` therefore strides
    by ``floor(sampling_rate / 100)`` (3 at 360 Hz, writing at 120 Hz; 5 at
    500 Hz; 1 at 100-199 Hz), never below 100 Hz.

    It does so only for records of at least :data:`STEM_MIN_SECONDS` (2 s):
    a shorter window holds about one beat (the MIT-BIH beats are 0.71 s, 256
    samples at 360 Hz), whose fine morphology is the signal and whose first
    block is cheap at full rate, while a window of several beats is a rhythm
    strip, where the full-rate first block dominates the cost.  Without a
    sampling rate the scale of a QRS complex is unknown, so there is no stem.

    Parameters
    ----------
    props : DataProperties
        The training data's properties.
    setting : "auto" or int, default="auto"
        The estimator's ``stem_stride``; an int is used as given (on signals).

    Returns
    -------
    stride : int
        At least 1; always 1 for tabular data.  :func:`network_spec` caps it
        at the first kernel size, so that no sample is skipped.

    Examples
    --------
    >>> stem_stride(DataProperties(100, "signal", (1, 10800), 2, sampling_rate=360))
    3
    >>> stem_stride(DataProperties(100, "signal", (1, 256), 2, sampling_rate=360))
    1
    >>> stem_stride(DataProperties(100, "signal", (1, 256), 2, sampling_rate=360), 2)
    2
    """
    if not props.is_signal:
        return 1
    if setting != "auto":
        return int(setting)
    rate, length = props.sampling_rate, props.input_shape[-1]
    if rate is None or length < STEM_MIN_SECONDS * rate:
        return 1
    return max(1, int(rate // STEM_RATE))


def depth_limit(props, max_depth=None, stem=1):
    """Deepest network the data allows: signals until the length is pooled to 1.

    Parameters
    ----------
    props : DataProperties
        The training data's properties.
    max_depth : int or None, default=None
        A user cap; None: no cap.
    stem : int, default=1
        Stride of the first conv block (:func:`stem_stride`).

    Returns
    -------
    depth : int
        ``floor(log2(L))`` for signals, where ``L`` is the length the first
        convolution writes (the input length at stride 1; with a stride, the
        shortest any kernel size gives), 6 for tabular data, at most ``max_depth``.

    Examples
    --------
    >>> depth_limit(DataProperties(100, "signal", (1, 96), 2))
    6
    >>> depth_limit(DataProperties(100, "signal", (1, 96), 2), stem=3)
    5
    >>> depth_limit(DataProperties(100, "tabular", (30,), 2), max_depth=3)
    3
    """
    if props.is_signal:
        length = props.input_shape[-1]
        if stem > 1:  # an even kernel pads one sample less than an odd one: (T - 2) // s + 1 <= ceil(T / s)
            length = max(0, (length - 2) // stem + 1)
        limit = int(math.floor(math.log2(length))) if length >= 2 else 0
    else:
        limit = DEFAULT_TABULAR_MAX_DEPTH
    return limit if max_depth is None else min(limit, max_depth)


def kernel_sizes(props, depth, kernel_size=None, first_kernel=None):
    """Kernel size of each of ``depth`` conv blocks.

    Parameters
    ----------
    props : DataProperties
        The training data's properties (its ``sampling_rate`` sets the first kernel).
    depth : int
        Number of conv blocks.
    kernel_size : int or None, default=None
        Use this size for every block.
    first_kernel : int or None, default=None
        The first block's size (when ``kernel_size`` is None); None: from
        :func:`first_kernel_size`.

    Returns
    -------
    sizes : list of int
        The first from :func:`first_kernel_size` (or ``first_kernel``), 5 for the others.

    Examples
    --------
    >>> kernel_sizes(DataProperties(100, "signal", (1, 96), 2), 3)
    [7, 5, 5]
    >>> kernel_sizes(DataProperties(100, "signal", (1, 96), 2), 2, kernel_size=3)
    [3, 3]
    """
    if kernel_size is not None:
        return [int(kernel_size)] * depth
    first = first_kernel_size(props.sampling_rate) if first_kernel is None else int(first_kernel)
    return [first] + [DEFAULT_KERNEL] * (depth - 1)


def network_spec(props, depth, width, activation="leaky_relu", kernel_size=None, first_kernel=None, stem=1):
    """The :class:`NetworkSpec` of ``depth`` hidden blocks of ``width`` units each.

    Side features (``props.n_side``) widen the head's input: its
    ``in_channels`` is ``width + n_side``, so the bound counts them in ``P_l``.
    The first conv block steps by ``min(stem, its kernel size)``, the others by 1.

    Parameters
    ----------
    props : DataProperties
        The training data's properties.
    depth : int
        Number of hidden blocks.
    width : int
        Width of every hidden block.
    activation : str, default="leaky_relu"
        Hidden activation.
    kernel_size : int or None, default=None
        Kernel size of every conv block; None: :func:`kernel_sizes`.
    first_kernel : int or None, default=None
        Kernel size of the first conv block when ``kernel_size`` is None.
    stem : int, default=1
        Stride of the first conv block (:func:`stem_stride`), capped at its kernel size.

    Returns
    -------
    spec : NetworkSpec
        The network (no check of the bound; see :func:`widest_spec`).

    Examples
    --------
    >>> network_spec(DataProperties(100, "tabular", (30,), 3), depth=2, width=16).describe()
    'tabular(30) leaky_relu: dense w16 -> dense w16 -> head 3'
    >>> props = DataProperties(100, "signal", (1, 10800), 2, sampling_rate=360)
    >>> network_spec(props, depth=2, width=8, stem=3).describe()
    'signal(1x10800) leaky_relu: conv k37 s3 w8 -> conv k5 w8 -> head 2'
    """
    layers = []
    if props.is_signal:
        channels, length = props.input_shape
        for i, k in enumerate(kernel_sizes(props, depth, kernel_size, first_kernel)):
            stride = min(int(stem), k) if i == 0 else 1
            layer = LayerSpec(f"conv{i + 1}", "conv", channels, width, k, length, stride=stride)
            layers.append(layer)
            channels, length = width, layer.out_length
    else:
        channels = props.input_shape[0]
        for i in range(depth):
            layers.append(LayerSpec(f"dense{i + 1}", "dense", channels, width))
            channels = width
    layers.append(LayerSpec("head", "head", channels + props.n_side, props.n_classes, norm=False))
    return NetworkSpec(
        props.input_kind, tuple(props.input_shape), tuple(layers), activation, n_side=props.n_side
    )


def widest_spec(
    props,
    depth,
    *,
    rho=1.0,
    counting="samples",
    max_width=64,
    activation="leaky_relu",
    kernel_size=None,
    first_kernel=None,
    stem=1,
):
    """The widest ``depth``-block network whose every layer is overdetermined.

    All hidden blocks share one width, the largest in ``[1, max_width]`` for
    which ``P_l <= rho * N_eq`` holds for every layer (head included).

    Parameters
    ----------
    props : DataProperties
        The training data's properties.
    depth : int
        Number of hidden blocks.
    rho : float, default=1.0
        Slack of the bound.
    counting : {"samples", "outputs"}, default="samples"
        How equations are counted.
    max_width : int, default=64
        Widest block allowed.
    activation : str, default="leaky_relu"
        Hidden activation.
    kernel_size : int or None, default=None
        Kernel size of every conv block; None: :func:`kernel_sizes`.
    first_kernel : int or None, default=None
        Kernel size of the first conv block when ``kernel_size`` is None.
    stem : int, default=1
        Stride of the first conv block (:func:`stem_stride`).

    Returns
    -------
    NetworkSpec or None
        None when not even width 1 satisfies the bound: there is no room to grow.

    Examples
    --------
    >>> props = DataProperties(80, "signal", (1, 96), 2)
    >>> widest_spec(props, 2).describe()
    'signal(1x96) leaky_relu: conv k7 w3 -> conv k5 w3 -> head 2'
    """
    if depth < 1 or depth > depth_limit(props, stem=stem):
        return None
    lo, hi = 1, int(max_width)
    build = lambda w: network_spec(props, depth, w, activation, kernel_size, first_kernel, stem)  # noqa: E731
    if not network_holds(build(lo), props.n_fit, rho, counting):
        return None
    # P_l / N_eq grows with the width under both counting rules: bisect.
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if network_holds(build(mid), props.n_fit, rho, counting):
            lo = mid
        else:
            hi = mid - 1
    return build(lo)
