"""Saving a fitted :class:`AutoNetLCNClassifier` to a safe, self-describing file.

The file is a zip archive with two entries:

* ``metadata.json``: the format name and version, the package, torch, skorch
  and scikit-learn versions that wrote it, the architecture (the
  :class:`~sklearn_autonet.architecture.NetworkSpec` as JSON), the fitted
  metadata (``classes_`` with their dtype, the input layout,
  ``n_features_in_``, ``feature_names_in_``, ``n_fit_``, ``n_parameters_``,
  ``stop_reason_``, ``best_index_``, ``fit_time_``), the constructor
  parameters, ``search_history_`` (specs as dicts), the shape and dtype of
  every tensor and the SHA-256 of the weights (the convexity report and the
  architecture table are recomputed from the spec on loading);
* ``weights.pt``: the network's ``state_dict`` (weights and BatchNorm
  statistics only: no optimizer state, no training data) written by
  ``torch.save``.

Loading never unpickles: the JSON is parsed with :mod:`json` and the weights
are read with ``torch.load(..., weights_only=True)``, which refuses anything
but tensors and plain containers.  Every tensor is checked against the network
the spec describes before it is loaded.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import warnings
import zipfile
import zlib
from numbers import Integral, Real

import numpy as np
import sklearn
import skorch
import torch

from ._version import __version__
from .architecture import NetworkSpec
from .layout import INPUT_KINDS, InputLayout
from .training import TrainingSettings, make_net

#: Name written into every model file.
FORMAT_NAME = "sklearn-autonet-model"
#: Version of the file layout this module writes; it reads this one and older ones.
FORMAT_VERSION = 1

_METADATA = "metadata.json"
_WEIGHTS = "weights.pt"
#: Largest ``metadata.json`` accepted (a guard against zip bombs).
_MAX_METADATA_BYTES = 64 * 2**20
_REQUIRED_KEYS = (
    "format",
    "format_version",
    "versions",
    "estimator",
    "params",
    "spec",
    "fitted",
    "net",
    "tensors",
    "weights_sha256",
)
_FITTED_KEYS = (
    "classes",
    "input_kind",
    "input_shape",
    "n_features_in",
    "feature_names_in",
    "n_fit",
    "n_parameters",
    "best_index",
    "stop_reason",
    "fit_time",
    "search_history",
)
#: Dtype kinds of ``classes_`` a file can hold: bool, ints, floats, str, object (of str/int/float/bool).
_CLASS_KINDS = "biufUO"


# ---------------------------------------------------------------- public API
def save_model(estimator, path):
    """Write a fitted :class:`AutoNetLCNClassifier` to a single model file.

    The file is a zip archive holding ``metadata.json`` (architecture, fitted
    metadata, constructor parameters, versions) and ``weights.pt`` (the
    network's ``state_dict`` written by ``torch.save``).  It contains no
    optimizer state and no training data, and :func:`load_model` reads it
    without unpickling anything.

    Parameters
    ----------
    estimator : AutoNetLCNClassifier
        A fitted estimator.
    path : str or os.PathLike
        Where to write the file (conventionally with the suffix ``.autonet``).
        An existing file is replaced.

    Returns
    -------
    path : str
        The path written.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        When ``estimator`` is not fitted.
    ValueError
        When a fitted value cannot be written as JSON, for example class
        labels that are neither numbers nor strings.

    See Also
    --------
    load_model : Read the file back.
    sklearn_autonet.export.export_onnx : Export the network for ONNX runtimes.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sklearn_autonet import AutoNetLCNClassifier
    >>> from sklearn_autonet.persistence import save_model, load_model
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(60, 4).astype(np.float32); y = np.where(X[:, 0] > 0, "a", "b")
    >>> clf = AutoNetLCNClassifier(max_candidates=1, max_epochs=3, random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.autonet")
    >>> _ = save_model(clf, path)
    >>> loaded = load_model(path)
    >>> bool((loaded.predict_proba(X) == clf.predict_proba(X)).all())
    True
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    module = estimator.net_.module_
    state = {key: value.detach().cpu().contiguous() for key, value in module.state_dict().items()}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    weights = buffer.getvalue()
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "versions": {
            "sklearn_autonet": __version__,
            "torch": torch.__version__,
            "skorch": skorch.__version__,
            "scikit_learn": sklearn.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "estimator": type(estimator).__name__,
        "params": _encode_params(estimator.get_params(deep=False)),
        "spec": module.spec.to_dict(),
        "fitted": _fitted_metadata(estimator),
        "net": {
            "batch_size": int(estimator.net_.batch_size),
            "saved_from_device": str(estimator.net_.device),
            # inference precision of nets that run under autocast ("float32" otherwise)
            "precision": str(getattr(estimator.net_, "precision", "float32")),
        },
        "tensors": {
            key: {"shape": list(value.shape), "dtype": str(value.dtype).removeprefix("torch.")}
            for key, value in state.items()
        },
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
    }
    text = json.dumps(metadata, indent=1, allow_nan=True)
    path = os.fspath(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_METADATA, text)
        archive.writestr(_WEIGHTS, weights)
    return path


def load_model(path, *, device="cpu"):
    """Read a model file written by :func:`save_model` into a fitted estimator.

    Nothing is unpickled: the metadata is JSON and the weights are read with
    ``torch.load(..., weights_only=True)``.  Every tensor's name, shape and
    dtype is checked against the network the stored architecture describes.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save_model`.
    device : str or torch.device, default="cpu"
        Where the network's tensors go.  A model fitted on a GPU loads on a
        CPU-only machine with the default.  The estimator's ``device``
        constructor parameter keeps its saved value (it matters for a refit only).

    Returns
    -------
    estimator : AutoNetLCNClassifier
        A fitted estimator that predicts as the saved one did.  Constructor
        parameters that could not be written as JSON (a callable ``scoring``,
        a ``RandomState`` instance) come back as their defaults, with a warning.

    Raises
    ------
    ValueError
        When the file is not a model file, is truncated or corrupt, was
        written by a newer incompatible format version, lacks keys, or holds
        weights whose names, shapes, dtypes or checksum do not match its
        architecture, or anything but plain tensors.

    See Also
    --------
    save_model : Write the file.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sklearn_autonet import AutoNetLCNClassifier, load, save
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(60, 1, 16).astype(np.float32); y = (X[:, 0, :8].mean(1) > 0).astype(int)
    >>> clf = AutoNetLCNClassifier(max_candidates=1, max_epochs=3, random_state=0).fit(X, y)
    >>> path = save(clf, os.path.join(tempfile.mkdtemp(), "ecg.autonet"))
    >>> loaded = load(path)
    >>> loaded.input_shape_, list(loaded.classes_) == list(clf.classes_)
    ((1, 16), True)
    """
    from .estimator import AutoNetLCNClassifier, set_fitted_state

    path = os.fspath(path)
    metadata, weights = _read_archive(path)
    _check_metadata(metadata, path)
    spec = _spec_from_metadata(metadata["spec"], path)
    state = _load_weights(weights, metadata, path)

    estimator = AutoNetLCNClassifier(**_decode_params(metadata["params"], AutoNetLCNClassifier))
    net_meta = metadata["net"]
    if not isinstance(net_meta, dict) or not isinstance(net_meta.get("batch_size"), int):
        raise ValueError(f"{path}: metadata 'net' must hold an integer 'batch_size'.")
    precision = net_meta.get("precision", "float32")
    if precision not in ("float32", "bfloat16"):
        raise ValueError(f"{path}: unknown inference precision {precision!r}.")
    settings = TrainingSettings(batch_size=net_meta["batch_size"], device=str(device), precision=precision)
    net = make_net(spec, settings)
    with torch.random.fork_rng(devices=[]):  # leave the caller's random state alone
        net.initialize()
    _check_tensors(net.module_.state_dict(), state, path)
    net.module_.load_state_dict(state, strict=True)
    net.module_.eval()

    fitted = metadata["fitted"]
    layout = _layout_from_metadata(fitted, spec, estimator.signal_shape, path)
    set_fitted_state(
        estimator,
        net=net,
        spec=spec,
        layout=layout,
        classes=_decode_classes(fitted["classes"], path),
        n_fit=int(fitted["n_fit"]),
        search_history=_decode_history(fitted["search_history"], path),
        stop_reason=fitted["stop_reason"],
        best_index=int(fitted["best_index"]),
        fit_time=float(fitted["fit_time"]),
    )
    estimator.n_features_in_ = int(fitted["n_features_in"])
    if fitted["feature_names_in"] is not None:
        estimator.feature_names_in_ = np.asarray(fitted["feature_names_in"], dtype=object)
    _check_consistency(estimator, spec, fitted, path)
    return estimator


def read_metadata(path):
    """The ``metadata.json`` of a model file, as a dict, without loading the weights.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save_model`.

    Returns
    -------
    metadata : dict
        Format version, versions of the packages that wrote it, architecture,
        fitted metadata, constructor parameters and tensor shapes.

    Raises
    ------
    ValueError
        When the file is not a readable model file.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sklearn_autonet import AutoNetLCNClassifier, save
    >>> from sklearn_autonet.persistence import read_metadata
    >>> X = np.random.RandomState(0).randn(60, 3).astype(np.float32); y = (X[:, 0] > 0).astype(int)
    >>> clf = AutoNetLCNClassifier(max_candidates=1, max_epochs=2, random_state=0).fit(X, y)
    >>> meta = read_metadata(save(clf, os.path.join(tempfile.mkdtemp(), "m.autonet")))
    >>> meta["format_version"], meta["fitted"]["input_kind"]
    (1, 'tabular')
    """
    path = os.fspath(path)
    metadata, _ = _read_archive(path, weights=False)
    return metadata


# ------------------------------------------------------------------ writing
def _fitted_metadata(estimator):
    names = getattr(estimator, "feature_names_in_", None)
    return {
        "classes": _encode_classes(estimator.classes_),
        "input_kind": estimator.input_kind_,
        "input_shape": [int(s) for s in estimator.input_shape_],
        "layout": estimator.layout_.to_dict(),
        "n_features_in": int(estimator.n_features_in_),
        "feature_names_in": None if names is None else [str(n) for n in names],
        "n_fit": int(estimator.n_fit_),
        "n_parameters": int(estimator.n_parameters_),
        "best_index": int(estimator.best_index_),
        "stop_reason": str(estimator.stop_reason_),
        "fit_time": float(estimator.fit_time_),
        "search_history": {
            key: [value.to_dict() if isinstance(value, NetworkSpec) else _plain(value) for value in column]
            for key, column in estimator.search_history_.items()
        },
    }


def _encode_classes(classes):
    classes = np.asarray(classes)
    if classes.dtype.kind not in _CLASS_KINDS:
        raise ValueError(f"classes_ of dtype {classes.dtype} cannot be saved; use pickle instead.")
    values = [_plain(c) for c in classes.tolist()]
    if not all(isinstance(v, (str, int, float, bool)) for v in values):
        kinds = sorted({type(v).__name__ for v in values})
        raise ValueError(f"classes_ holding {kinds} cannot be saved as JSON; use pickle instead.")
    return {"dtype": classes.dtype.str, "values": values}


def _plain(value):
    """A JSON-friendly copy of ``value``: numpy scalars to Python, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _encode_params(params):
    """Constructor parameters as JSON; values JSON cannot hold become ``{"__unsaved__": repr}``."""
    encoded = {}
    for name, value in params.items():
        if isinstance(value, dict):  # class_weight: keys are class labels of any type
            items = [[_plain(k), _plain(v)] for k, v in value.items()]
            if all(isinstance(k, (str, int, float, bool)) and isinstance(v, Real) for k, v in items):
                encoded[name] = {"__dict_items__": items}
                continue
        elif value is None or isinstance(value, (str, bool, Integral, Real)):
            encoded[name] = _plain(value)
            continue
        elif isinstance(value, (tuple, list)) and all(
            isinstance(v, Integral) and not isinstance(v, bool) for v in value
        ):  # signal_shape
            encoded[name] = {"__tuple__": [int(v) for v in value]}
            continue
        encoded[name] = {"__unsaved__": repr(value)}
    return encoded


# ------------------------------------------------------------------ reading
def _read_archive(path, weights=True):
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(
            f"{path} is not a sklearn-autonet model file, or it is truncated or corrupt ({exc})."
        ) from exc
    with archive:
        names = set(archive.namelist())
        wanted = {_METADATA, _WEIGHTS} if weights else {_METADATA}
        if not wanted <= names:
            raise ValueError(
                f"{path} is not a sklearn-autonet model file: it lacks {sorted(wanted - names)}."
            )
        if archive.getinfo(_METADATA).file_size > _MAX_METADATA_BYTES:
            raise ValueError(f"{path}: {_METADATA} is larger than {_MAX_METADATA_BYTES} bytes.")
        try:
            text = archive.read(_METADATA)
            blob = archive.read(_WEIGHTS) if weights else None
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
            raise ValueError(f"{path} is truncated or corrupt: {exc}") from exc
    try:
        metadata = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: {_METADATA} is not valid JSON ({exc}).") from exc
    if not isinstance(metadata, dict):
        raise ValueError(f"{path}: {_METADATA} must hold a JSON object.")
    return metadata, blob


def _check_metadata(metadata, path):
    if metadata.get("format") != FORMAT_NAME:
        raise ValueError(
            f"{path} is not a sklearn-autonet model file (format {metadata.get('format')!r}, "
            f"expected {FORMAT_NAME!r})."
        )
    version = metadata.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError(f"{path}: 'format_version' must be an integer, got {version!r}.")
    if version > FORMAT_VERSION:
        written_by = (metadata.get("versions") or {}).get("sklearn_autonet", "a newer version")
        raise ValueError(
            f"{path} uses model file format version {version}, newer than the version this "
            f"sklearn-autonet ({__version__}) reads ({FORMAT_VERSION}); it was written by "
            f"sklearn-autonet {written_by}. Upgrade sklearn-autonet to load it."
        )
    if version < 1:
        raise ValueError(f"{path}: unknown model file format version {version}.")
    missing = [key for key in _REQUIRED_KEYS if key not in metadata]
    if missing:
        raise ValueError(f"{path}: {_METADATA} lacks the key(s) {missing}.")
    fitted = metadata["fitted"]
    if not isinstance(fitted, dict):
        raise ValueError(f"{path}: 'fitted' must be a JSON object.")
    missing = [key for key in _FITTED_KEYS if key not in fitted]
    if missing:
        raise ValueError(f"{path}: {_METADATA} lacks the fitted key(s) {missing}.")
    if metadata["estimator"] != "AutoNetLCNClassifier":
        raise ValueError(f"{path} holds a {metadata['estimator']!r}, not an AutoNetLCNClassifier.")
    if fitted["input_kind"] not in INPUT_KINDS:
        raise ValueError(f"{path}: unknown input kind {fitted['input_kind']!r}.")


def _layout_from_metadata(fitted, spec, signal_shape, path):
    """The input layout of a file: its ``layout`` entry, or (older files) rebuilt from the spec."""
    data = fitted.get("layout")
    if data is None:  # written before layouts were saved
        data = {"kind": fitted["input_kind"], "shape": fitted["input_shape"], "n_side": spec.n_side,
                "flat": signal_shape is not None}
    try:
        return InputLayout.from_dict(data)
    except ValueError as exc:
        raise ValueError(f"{path}: invalid input layout: {exc}") from exc


def _spec_from_metadata(data, path):
    try:
        return NetworkSpec.from_dict(data)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: invalid architecture: {exc}") from exc


def _load_weights(blob, metadata, path):
    digest = hashlib.sha256(blob).hexdigest()
    if digest != metadata["weights_sha256"]:
        raise ValueError(
            f"{path}: the weights do not match the checksum in {_METADATA} "
            f"(sha256 {digest[:12]}..., expected {str(metadata['weights_sha256'])[:12]}...); "
            "the file was altered or is corrupt."
        )
    try:
        state = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError, RuntimeError, EOFError, ... from a hostile or broken file
        raise ValueError(
            f"{path}: refusing to load {_WEIGHTS}: it is not a plain tensor state dict "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})."
        ) from exc
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise ValueError(f"{path}: {_WEIGHTS} must hold a dict of named tensors.")
    declared = metadata["tensors"]
    for key, value in state.items():
        entry = declared.get(key) if isinstance(declared, dict) else None
        if entry is None or list(value.shape) != entry.get("shape"):
            raise ValueError(
                f"{path}: tensor {key!r} has shape {list(value.shape)}, but {_METADATA} "
                f"declares {None if entry is None else entry.get('shape')}."
            )
    return state


def _check_tensors(expected, state, path):
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"{path}: the weights do not fit the architecture: missing tensor(s) {missing}, "
            f"unexpected tensor(s) {unexpected}."
        )
    for key, reference in expected.items():
        value = state[key]
        if value.shape != reference.shape:
            raise ValueError(
                f"{path}: tensor {key!r} has shape {tuple(value.shape)}, but the architecture "
                f"needs {tuple(reference.shape)}."
            )
        if value.dtype != reference.dtype:
            raise ValueError(
                f"{path}: tensor {key!r} has dtype {value.dtype}, but the architecture needs "
                f"{reference.dtype}."
            )


def _decode_classes(data, path):
    if not isinstance(data, dict) or set(data) != {"dtype", "values"} or not isinstance(data["values"], list):
        raise ValueError(f"{path}: 'classes' must be {{'dtype': ..., 'values': [...]}}.")
    try:
        dtype = np.dtype(data["dtype"])
    except TypeError as exc:
        raise ValueError(f"{path}: unknown classes dtype {data['dtype']!r}.") from exc
    if dtype.kind not in _CLASS_KINDS:
        raise ValueError(f"{path}: classes dtype {dtype} is not allowed.")
    if dtype.kind == "O":
        classes = np.empty(len(data["values"]), dtype=object)
        classes[:] = data["values"]
        return classes
    return np.asarray(data["values"], dtype=dtype)


def _decode_params(encoded, estimator_cls):
    if not isinstance(encoded, dict):
        raise ValueError("metadata 'params' must be a JSON object.")
    defaults = estimator_cls().get_params(deep=False)
    params, unsaved = {}, []
    for name, value in encoded.items():
        if name not in defaults:
            continue  # a parameter of another version; ignored
        if isinstance(value, dict) and "__dict_items__" in value:
            value = {k: v for k, v in value["__dict_items__"]}
        elif isinstance(value, dict) and "__tuple__" in value:
            value = tuple(value["__tuple__"])
        elif isinstance(value, dict) and "__unsaved__" in value:
            unsaved.append(f"{name}={value['__unsaved__']}")
            continue
        params[name] = value
    if unsaved:
        warnings.warn(
            "These constructor parameters could not be saved as JSON and are back to their "
            f"defaults (predictions are unaffected): {', '.join(unsaved)}.",
            UserWarning,
            stacklevel=3,
        )
    return params


def _decode_history(history, path):
    if not isinstance(history, dict) or not all(isinstance(c, list) for c in history.values()):
        raise ValueError(f"{path}: 'search_history' must map column names to lists.")
    decoded = dict(history)
    if "spec" in decoded:
        decoded["spec"] = [_spec_from_metadata(s, path) for s in decoded["spec"]]
    for key in ("widths", "kernel_sizes"):
        if key in decoded:
            decoded[key] = [tuple(v) if isinstance(v, list) else v for v in decoded[key]]
    return decoded


def _check_consistency(estimator, spec, fitted, path):
    kind, shape = estimator.input_kind_, estimator.input_shape_
    if kind != spec.input_kind or shape != tuple(spec.input_shape):
        raise ValueError(
            f"{path}: the input layout {kind} {shape} does not match the architecture's "
            f"{spec.input_kind} {tuple(spec.input_shape)}."
        )
    if spec.n_side and estimator.n_features_in_ != int(np.prod(shape)) + spec.n_side:
        raise ValueError(
            f"{path}: n_features_in is {estimator.n_features_in_}, but the architecture reads "
            f"{int(np.prod(shape))} signal values and {spec.n_side} side features."
        )
    if len(estimator.classes_) != spec.head.width:
        raise ValueError(
            f"{path}: {len(estimator.classes_)} classes, but the network has "
            f"{spec.head.width} outputs."
        )
    if int(fitted["n_parameters"]) != estimator.n_parameters_:
        raise ValueError(
            f"{path}: n_parameters is {fitted['n_parameters']}, but the weights hold "
            f"{estimator.n_parameters_}."
        )
