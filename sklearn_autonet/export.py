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

import torch
from sklearn.utils.validation import check_is_fitted

from ._version import __version__

#: Name of the graph's input.
INPUT_NAME = "input"
#: ONNX opset the graph is written with.
OPSET = 17
_OUTPUTS = {"proba": "probabilities", "logits": "logits"}


def _import_onnx():
    try:
        import onnx
    except ImportError as exc:
        raise ImportError(
            "export_onnx needs the 'onnx' package; install the 'onnx' extra: "
            'pip install "sklearn-autonet[onnx]"'
        ) from exc
    return onnx


class _WithSoftmax(torch.nn.Module):
    """The fitted network followed by a softmax over the classes."""

    def __init__(self, network):
        super().__init__()
        self.network = network

    def forward(self, x):
        return torch.softmax(self.network(x), dim=1)


def export_onnx(estimator, path, *, output="proba", opset=OPSET):
    """Write the fitted network of an :class:`AutoNetLCNClassifier` as an ONNX graph.

    The graph has one float32 input named ``"input"`` with the layout seen in
    ``fit`` and a dynamic batch axis: ``(batch, n_features)`` for tabular
    models, ``(batch, leads, length)`` for signal models (single-lead signals
    too: add the lead axis yourself), and ``(batch, leads * length + F)``
    for models fitted with ``signal_shape`` and ``F`` side features (the
    same 2-D rows as ``predict``; the side features' standardisation is in
    the graph).  Its one output is ``"probabilities"``
    (softmax, the same as ``predict_proba``) or ``"logits"``, of shape
    ``(batch, n_classes)`` with columns in the order of ``classes_``.  The
    class labels, input kind and shape, the number of side features
    (``n_side_features``) and the output kind are stored in the model's
    ``metadata_props`` (``classes`` and ``input_shape`` as JSON).  The network runs in
    inference mode (BatchNorm uses its running statistics); preprocessing done
    outside the estimator (a pipeline's scaler) is not part of the graph.

    Parameters
    ----------
    estimator : AutoNetLCNClassifier
        A fitted estimator.
    path : str or os.PathLike
        Where to write the ``.onnx`` file.
    output : {"proba", "logits"}, default="proba"
        What the graph returns: class probabilities or the logits before the softmax.
    opset : int, default=17
        ONNX opset version.

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
    check_is_fitted(estimator)
    network = copy.deepcopy(estimator.net_.module_).to("cpu").eval()
    if output == "proba":
        network = _WithSoftmax(network).eval()
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
            dynamic_axes={INPUT_NAME: {0: "batch"}, output_name: {0: "batch"}},
            opset_version=opset,
            dynamo=False,
        )
    model = onnx.load_from_string(buffer.getvalue())
    metadata = {
        "classes": json.dumps([_plain(c) for c in estimator.classes_.tolist()]),
        "input_kind": layout.kind,
        "input_shape": json.dumps(list(layout.shape)),
        "n_side_features": str(n_side),
        "output": output_name,
        "producer": f"sklearn-autonet {__version__}",
    }
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.doc_string = (
        f"AutoNet LCN classifier: {estimator.architecture_.spec.describe()}; "
        f"output {output_name} (batch, {len(estimator.classes_)})"
    )
    onnx.checker.check_model(model)
    path = os.fspath(path)
    onnx.save(model, path)
    return path


def _plain(value):
    return value.item() if hasattr(value, "item") else value
