"""Exporting a fitted network to ONNX, for ONNX Runtime and small devices.

Needs the ``onnx`` extra: ``pip install "sklearn-autonet[onnx]"`` (onnx, and
onnxruntime to run the graph).
"""

from __future__ import annotations

import copy
import io
import json
import os
import warnings
from numbers import Integral

import torch
from sklearn.utils.validation import check_is_fitted

from ._version import __version__
from .modules import EnsembleNetwork, network_members
from .targets import MULTILABEL, output_probabilities

#: Name of the graph's input.
INPUT_NAME = "input"
#: ONNX opset the graph is written with.
OPSET = 17
#: Lowest opset accepted.  torch exports from 7 (ONNX Runtime runs from 7), but below 9
#: the graph lists every weight as an input too (ONNX IR v3), not the one input documented.
MIN_OPSET = 9
_OUTPUTS = {"proba": "probabilities", "logits": "logits"}


def supported_opsets():
    """The ``(lowest, highest)`` opset ``export_onnx`` accepts with the installed torch.

    The highest is what torch's TorchScript-based exporter (the one used here)
    supports, ``torch.onnx._constants.ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET`` (20
    for torch 2.13); the lowest is :data:`MIN_OPSET` (9: torch goes down to 7,
    but its graphs then list the weights as inputs).  The range's ends are
    tested to export and run in ONNX Runtime with the same probabilities.

    Returns
    -------
    (int, int)

    Examples
    --------
    >>> low, high = supported_opsets()
    >>> low <= OPSET <= high
    True
    """
    try:
        from torch.onnx import _constants

        low = int(getattr(_constants, "ONNX_MIN_OPSET", MIN_OPSET))
        high = int(getattr(_constants, "ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET", _constants.ONNX_MAX_OPSET))
    except (ImportError, AttributeError):  # a torch that moved its constants: the default only
        low, high = OPSET, OPSET
    return max(low, MIN_OPSET), high


def _check_opset(opset):
    low, high = supported_opsets()
    if not isinstance(opset, Integral) or isinstance(opset, bool) or not low <= opset <= high:
        raise ValueError(
            f"opset must be an integer from {low} to {high} (what torch {torch.__version__}'s "
            f"exporter writes and ONNX Runtime runs), got {opset!r}."
        )
    return int(opset)


def _import_onnx():
    try:
        import onnx
    except ImportError as exc:
        raise ImportError(
            "export_onnx needs the 'onnx' package; install the 'onnx' extra: "
            'pip install "sklearn-autonet[onnx]"'
        ) from exc
    return onnx


class _EnsembleProba(torch.nn.Module):
    """An ensemble's weighted mean of its members' probabilities (one graph for all members)."""

    def __init__(self, network):
        super().__init__()
        self.network = network

    def forward(self, x):
        return self.network.proba(x)


class _WithProbabilities(torch.nn.Module):
    """The fitted network followed by its output activation: a softmax over classes, or a sigmoid per label."""

    def __init__(self, network, multilabel=False):
        super().__init__()
        self.network = network
        self.multilabel = multilabel

    def forward(self, x):
        return output_probabilities(self.network(x), self.multilabel)


def export_onnx(estimator, path, *, output="proba", opset=OPSET):
    """Write the fitted network of an :class:`AutoNetLCNClassifier` as an ONNX graph.

    The graph has one float32 input named ``"input"`` with the layout seen in
    ``fit`` and a dynamic batch axis: ``(batch, n_features)`` for tabular
    models, ``(batch, leads, length)`` for signal models (single-lead signals
    too: add the lead axis yourself), and ``(batch, leads * length + F)``
    for models fitted with ``signal_shape`` and ``F`` side features (the
    same 2-D rows as ``predict``; the side features' standardisation is in
    the graph).  Its one output is ``"probabilities"``
    (softmax, the same as ``predict_proba``; for a multi-label model a
    sigmoid per label) or ``"logits"``, of shape ``(batch, n_classes)`` with
    columns in the order of ``classes_``.  The class labels, the target type
    (``target_type``; a multi-label model's thresholds are not in the graph:
    compare the probabilities with ``thresholds_``), input kind and shape, the number of side features
    (``n_side_features``), the output kind and the precision (``precision``:
    the graph's, always float32; ``model_precision``: ``predict_proba``'s) are
    stored in the model's ``metadata_props`` (``classes`` and ``input_shape``
    as JSON).  The network runs in
    inference mode (BatchNorm uses its running statistics); preprocessing done
    outside the estimator (a pipeline's scaler) is not part of the graph.

    A variable-length model (fitted on a list of records of different
    lengths) has a dynamic time axis too, ``(batch, leads, length)``: the
    graph averages over every position, so one call takes records of one
    length (run records of different lengths one by one, or one length per
    call); its ``metadata_props`` say ``variable_length``.

    An ensemble (``ensemble_size > 1``) is one graph that runs every member
    and returns the weighted mean of their probabilities; its ``"logits"``
    are the log of that mean (a softmax of them gives the mean back; for a
    multi-label model, the logit of each label's mean, which a sigmoid maps
    back).  The
    ``metadata_props`` then also hold ``members`` (their number) and
    ``member_weights`` (JSON).

    Parameters
    ----------
    estimator : AutoNetLCNClassifier
        A fitted estimator.
    path : str or os.PathLike
        Where to write the ``.onnx`` file.
    output : {"proba", "logits"}, default="proba"
        What the graph returns: class probabilities or the logits before the softmax.
    opset : int, default=17
        ONNX opset version, within :func:`supported_opsets` (9 to 20 with
        torch 2.13).

    Warns
    -----
    UserWarning
        When the model predicts in bfloat16 (``precision="bfloat16"``): the
        graph computes in float32, so its probabilities differ from
        ``predict_proba``'s by bfloat16 rounding (up to about 1e-2); they are
        those of the same network without that rounding.

    Returns
    -------
    path : str
        The path written.

    Raises
    ------
    ImportError
        When the ``onnx`` package is missing (install the ``onnx`` extra).
    sklearn.exceptions.NotFittedError
        When ``estimator`` is not fitted.
    ValueError
        When ``output`` is unknown or ``opset`` is not a supported opset.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> import onnxruntime as ort
    >>> from sklearn_autonet import AutoNetLCNClassifier
    >>> from sklearn_autonet.export import export_onnx
    >>> X = np.random.RandomState(0).randn(60, 1, 32).astype(np.float32)
    >>> y = (X[:, 0, :16].mean(1) > 0).astype(int)
    >>> clf = AutoNetLCNClassifier(max_candidates=1, max_epochs=3, random_state=0).fit(X, y)
    >>> path = export_onnx(clf, os.path.join(tempfile.mkdtemp(), "model.onnx"))
    >>> session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    >>> proba = session.run(["probabilities"], {"input": X})[0]
    >>> bool(np.allclose(proba, clf.predict_proba(X), atol=1e-5))
    True
    """
    onnx = _import_onnx()
    if output not in _OUTPUTS:
        raise ValueError(f"output must be one of {sorted(_OUTPUTS)}, got {output!r}.")
    opset = _check_opset(opset)
    check_is_fitted(estimator)
    precision = str(getattr(estimator.net_, "precision", "float32"))
    if precision != "float32":
        warnings.warn(
            f"This model predicts in {precision} (precision={precision!r}), but the ONNX graph "
            "computes in float32: its probabilities differ from predict_proba's by the "
            f"{precision} rounding (up to about 1e-2); they are the same network's without it.",
            UserWarning,
            stacklevel=2,
        )
    network = copy.deepcopy(estimator.net_.module_).to("cpu").eval()
    n_members = len(network_members(network))
    if output == "proba":
        multilabel = getattr(estimator, "target_type_", None) == MULTILABEL
        if isinstance(network, EnsembleNetwork):
            network = _EnsembleProba(network).eval()
        else:
            network = _WithProbabilities(network, multilabel).eval()
    layout = estimator.layout_
    n_side = layout.n_side
    example = torch.zeros((2, *layout.row_shape), dtype=torch.float32)
    output_name = _OUTPUTS[output]
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # torch >= 2.9 flags the TorchScript-based exporter as legacy; it needs no onnxscript.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            network,
            (example,),
            buffer,
            input_names=[INPUT_NAME],
            output_names=[output_name],
            dynamic_axes={INPUT_NAME: {0: "batch", **({2: "length"} if layout.variable else {})},
                          output_name: {0: "batch"}},
            opset_version=opset,
            dynamo=False,
        )
    model = onnx.load_from_string(buffer.getvalue())
    metadata = {
        "classes": json.dumps([_plain(c) for c in estimator.classes_.tolist()]),
        "target_type": str(getattr(estimator, "target_type_", "multiclass")),
        "input_kind": layout.kind,
        "input_shape": json.dumps(list(layout.shape)),
        "n_side_features": str(n_side),
        "output": output_name,
        "precision": "float32",  # what the graph computes in, whatever predict_proba uses
        "model_precision": precision,
        "producer": f"sklearn-autonet {__version__}",
        "members": str(n_members),
        "variable_length": str(bool(layout.variable)).lower(),
        "member_weights": json.dumps([float(w) for w in estimator.ensemble_weights_]),
    }
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    described = "; ".join(
        f"{w:.3g} x {spec.describe()}" for spec, w in zip(getattr(estimator.architecture_, "specs", [estimator.architecture_.spec]), estimator.ensemble_weights_)
    )
    model.doc_string = (
        f"AutoNet LCN classifier: {described}; "
        f"output {output_name} (batch, {len(estimator.classes_)})"
    )
    onnx.checker.check_model(model)
    path = os.fspath(path)
    onnx.save(model, path)
    return path


def _plain(value):
    return value.item() if hasattr(value, "item") else value
