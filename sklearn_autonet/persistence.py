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
* the network's ``state_dict`` (weights and BatchNorm statistics only: no
  optimizer state, no training data): ``weights.safetensors`` in formats 3
  (the one written) and 2, ``weights.pt`` written by ``torch.save`` in format 1
  (still read, and written with ``save_model(..., format_version=1)``).

A conv layer's ``stride`` (a strided stem) is in the spec only when it is
not 1: the files of networks without a stem are as before, and a spec without
it reads as stride 1, so the stride needed no new format version.

Format 4 adds ``target``: ``{"type": ..., "thresholds": ...}``, the kind of
target (``"binary"``, ``"multiclass"`` or ``"multilabel-indicator"``) and a
multi-label model's per-label thresholds of ``predict`` (null otherwise).  A
multi-label model is written in format 4 only (an older reader would apply a
softmax to its sigmoid outputs); a single-label model is written in format 3
by default, which earlier versions read.  Files without ``target`` are
single-label.

Format 3 adds ``ensemble``: ``{"weights": [w_0, ...], "specs": [...]}``, each
member's weight in the mean of probabilities and the specs of the members
after the first (``spec`` is the first member's, as in formats 1 and 2).  A
single network is ``{"weights": [1.0], "specs": []}`` and its tensors keep the
names of formats 1 and 2; an ensemble's tensors are named
``members.<i>.<name>``.  A single network
can still be written in formats 1 and 2; an ensemble needs format 3.  The
caps apply to the ensemble as a whole: at most :data:`MAX_MEMBERS` members
and :data:`MAX_PARAMETERS` values in all.

Format 2 stores the weights in the safetensors layout (an 8-byte little-endian
header length, a JSON header giving every tensor's dtype, shape and byte range,
then the raw little-endian bytes).  It is written and read by this module, so
the ``safetensors`` package is not a dependency, but the package (and any
safetensors reader) can open the entry.  It was preferred over keeping
``torch.load(weights_only=True)`` because nothing in it is a pickle: there is
no unpickler to trust (``weights_only`` had a code-execution bug, CVE-2025-32434,
fixed in torch 2.6, while this package accepts torch >= 2.1),
every size is declared before any byte is read and checked against the
architecture, and the data are copied with :func:`numpy.frombuffer`.  Format 1
files are still read with ``torch.load(weights_only=True)``, after checking
that the inner archive holds uncompressed records no larger than the entry.

Loading never unpickles and never allocates before checking.  In order:

1. the path must be a regular file (not a FIFO, device or folder) no larger
   than the largest model the caps allow;
2. the zip directory is checked before :mod:`zipfile` parses it (few entries,
   a small directory, one disk);
3. every entry's declared size (and its compression ratio) is checked before
   it is read, and it is read with a bounded read (``read(cap + 1)``);
4. every metadata field is type- and range-checked; the constructor parameters
   go through the estimator's own validation; the architecture is checked
   against :data:`MAX_PARAMETERS` and :data:`MAX_LAYERS`, built on torch's
   ``meta`` device (no memory) and its tensors compared with the declared ones;
   the weights entry's size must fit the declared tensors;
5. only then are the weights read and parsed, checked against their SHA-256
   and the declared tensors, and the network built.

Anything wrong raises a :class:`ValueError` naming the file and the problem.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import platform
import stat
import struct
import warnings
import zipfile
from numbers import Integral, Real

import numpy as np
import sklearn
import skorch
import torch

from ._version import __version__
from .architecture import NetworkSpec
from .checkpoint import atomic_write
from .layout import INPUT_KINDS, InputLayout
from .modules import EnsembleNetwork, network_members
from .targets import MULTILABEL
from .training import PRECISIONS, TrainingSettings, make_net

#: Name written into every model file.
FORMAT_NAME = "sklearn-autonet-model"
#: Version of the file layout this module writes; it reads this one and older ones.
FORMAT_VERSION = 4
#: Largest number of networks in an ensemble a model file may declare (format 3).
MAX_MEMBERS = 1024
#: Largest number of values (parameters and BatchNorm statistics, all tensors
#: together, hence also any one tensor) a model file may declare.
MAX_PARAMETERS = 50_000_000
#: Largest number of layers (hidden blocks and head) a model file may declare.
MAX_LAYERS = 256

_METADATA = "metadata.json"
_WEIGHTS = "weights.safetensors"
_WEIGHTS_V1 = "weights.pt"
_WEIGHTS_BY_VERSION = {1: _WEIGHTS_V1, 2: _WEIGHTS, 3: _WEIGHTS, 4: _WEIGHTS}
#: The oldest format that holds a single-label model, written by default (format 4 holds multi-label ones).
_SINGLE_LABEL_VERSION = 3
#: Largest ``metadata.json`` accepted (JSON parsing takes several times its size in memory).
_MAX_METADATA_BYTES = 16 * 2**20
#: Entries larger than this must not inflate more than ``_MAX_COMPRESS_RATIO`` times.
_RATIO_FLOOR = 2**20
_MAX_COMPRESS_RATIO = 100
#: A model file holds two entries; a zip directory beyond these is refused unparsed.
_MAX_ZIP_ENTRIES = 16
_MAX_ZIP_DIRECTORY = 64 * 2**10
#: Largest file ``load`` opens: the metadata, the weights of MAX_PARAMETERS float64 values, slack.
_MAX_FILE_BYTES = _MAX_METADATA_BYTES + 8 * MAX_PARAMETERS + 16 * 2**20
_MAX_HISTORY_ROWS = 100_000
_MAX_HISTORY_COLUMNS = 256
_MAX_FIT_SAMPLES = 2**53
#: Tensor dtypes a file may declare: safetensors code and little-endian numpy dtype.
_DTYPES = {
    "float32": ("F32", "<f4"),
    "float64": ("F64", "<f8"),
    "float16": ("F16", "<f2"),
    "int64": ("I64", "<i8"),
    "int32": ("I32", "<i4"),
}
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
#: Target types a format-4 file may declare.
_TARGET_TYPES = ("binary", "multiclass", MULTILABEL)
#: Dtype kinds of ``classes_`` a file can hold: bool, ints, floats, str, object (of str/int/float/bool).
_CLASS_KINDS = "biufUO"


# ---------------------------------------------------------------- public API
def save_model(estimator, path, *, format_version=None):
    """Write a fitted :class:`AutoNetLCNClassifier` to a single model file.

    The file is a zip archive holding ``metadata.json`` (architecture, fitted
    metadata, constructor parameters, versions) and ``weights.safetensors``
    (the network's ``state_dict`` in the safetensors layout).  It contains no
    optimizer state and no training data, and :func:`load_model` reads it
    without unpickling anything.

    The file is written atomically: to a temporary file in the same folder,
    flushed and ``fsync``-ed, then renamed over ``path``.  A failed save (a
    full disk) leaves an existing file at ``path`` untouched and no temporary
    file behind.

    Parameters
    ----------
    estimator : AutoNetLCNClassifier
        A fitted estimator.
    path : str or os.PathLike
        Where to write the file (conventionally with the suffix ``.autonet``).
        An existing file is replaced (keeping its permission bits); its folder
        must exist.
    format_version : {1, 2, 3, 4}, default=None
        None: the oldest format that holds the model, 3 (or 4 for a
        multi-label model).  4 adds the target type and the per-label
        thresholds and is the only one a multi-label model can be written in.
        3 writes every member of an ensemble (``ensemble``) and the weights in
        the safetensors layout; 2 is the same layout for a single network,
        without ``ensemble``; 1 writes the older layout (``weights.pt`` by
        ``torch.save``).  Earlier sklearn-autonet versions read 1 and 2; an
        ensemble needs 3.

    Returns
    -------
    path : str
        The path written.

    Raises
    ------
    TypeError
        When ``estimator`` is not an :class:`AutoNetLCNClassifier`, for
        example a :class:`~sklearn.pipeline.Pipeline` (save its last step with
        ``save`` and the preprocessing with ``skops.io`` or ``joblib``; see
        ``docs/persistence.md``).
    sklearn.exceptions.NotFittedError
        When ``estimator`` is not fitted.
    ValueError
        When a fitted value cannot be written as JSON, for example class
        labels that are neither numbers nor strings, or ``format_version`` is
        unknown.
    OSError
        When the file cannot be written; an existing file is left as it was.

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
    _check_saveable(estimator)
    multilabel = getattr(estimator, "target_type_", None) == MULTILABEL
    if format_version is None:
        format_version = FORMAT_VERSION if multilabel else _SINGLE_LABEL_VERSION
    if not _is_int(format_version) or format_version not in _WEIGHTS_BY_VERSION:
        raise ValueError(
            f"format_version must be one of {sorted(_WEIGHTS_BY_VERSION)}, got {format_version!r}."
        )
    module = estimator.net_.module_
    members = network_members(module)
    if len(members) > 1 and format_version < 3:
        raise ValueError(
            f"this model is an ensemble of {len(members)} networks, which format_version={format_version} "
            "cannot hold; use format_version=3 (the default)."
        )
    if multilabel and format_version < 4:
        raise ValueError(
            f"this model is multi-label, which format_version={format_version} cannot hold (an older reader "
            "would take its sigmoid outputs for class scores); use format_version=4 (the default for it)."
        )
    state = {key: value.detach().cpu().contiguous() for key, value in module.state_dict().items()}
    if format_version >= 2:
        weights = _safetensors_bytes(state)
    else:
        buffer = io.BytesIO()
        torch.save(state, buffer)
        weights = buffer.getvalue()
    metadata = {
        "format": FORMAT_NAME,
        "format_version": format_version,
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
        "spec": members[0][0].spec.to_dict(),
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
    if format_version >= 3:
        metadata["ensemble"] = {"weights": [float(w) for _, w in members],
                                "specs": [m.spec.to_dict() for m, _ in members[1:]]}
    if format_version >= 4:
        thresholds = getattr(estimator, "thresholds_", None)
        metadata["target"] = {
            "type": getattr(estimator, "target_type_", "binary" if len(estimator.classes_) == 2 else "multiclass"),
            "thresholds": None if thresholds is None else [float(t) for t in thresholds],
        }
    text = json.dumps(metadata, indent=1, allow_nan=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_METADATA, text)
        archive.writestr(_WEIGHTS_BY_VERSION[format_version], weights)
    path = os.fspath(path)
    _write_atomically(path, buffer.getvalue())
    return path


def load_model(path, *, device="cpu"):
    """Read a model file written by :func:`save_model` into a fitted estimator.

    Nothing is unpickled: the metadata is JSON and the weights are raw bytes
    in the safetensors layout (format 2) or, in format-1 files, read with
    ``torch.load(..., weights_only=True)``.  The file is treated as untrusted:
    every declared size is checked against caps and against the stored
    architecture before anything is read or allocated (see the module
    docstring and ``docs/persistence.md``).

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
        When the path is not a regular file (a folder, FIFO or device), the
        file is not a model file, is truncated or corrupt, was written by a
        newer incompatible format version, lacks keys, holds a metadata field
        of the wrong type or out of range (the message names the key),
        declares sizes beyond the caps (:data:`MAX_PARAMETERS`,
        :data:`MAX_LAYERS`) or beyond what its architecture needs, stores
        invalid constructor parameters, or holds weights whose names, shapes,
        dtypes or checksum do not match its architecture, or anything but
        plain tensors.
    FileNotFoundError, PermissionError
        When ``path`` does not exist or cannot be opened.

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
    # every check happens here, before the network is built or the weights allocated
    metadata, members, state, params = _read_model(path, AutoNetLCNClassifier)
    spec = members[0][0]

    estimator = AutoNetLCNClassifier(**params)
    net_meta = metadata["net"]
    precision = net_meta.get("precision", "float32")  # checked by _check_metadata
    settings = TrainingSettings(batch_size=net_meta["batch_size"], device=str(device), precision=precision)
    net = make_net(spec, settings)
    thresholds = _thresholds_from_metadata(metadata, spec, path)
    if len(members) > 1:
        net.set_params(module=EnsembleNetwork, module__specs=tuple(s for s, _ in members),
                       module__weights=tuple(w for _, w in members), module__multilabel=thresholds is not None)
    with torch.random.fork_rng(devices=[]):  # leave the caller's random state alone
        net.initialize()
    _check_tensor_layout(_tensor_layout(state), _tensor_layout(net.module_.state_dict()), path)
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
        thresholds=thresholds,
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
        When the file is not a readable model file.  Only the container is
        checked (regular file, zip directory, bounded read, JSON object): the
        fields are returned as stored, unchecked.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sklearn_autonet import AutoNetLCNClassifier, save
    >>> from sklearn_autonet.persistence import read_metadata
    >>> X = np.random.RandomState(0).randn(60, 3).astype(np.float32); y = (X[:, 0] > 0).astype(int)
    >>> clf = AutoNetLCNClassifier(max_candidates=1, max_epochs=2, random_state=0).fit(X, y)
    >>> meta = read_metadata(save(clf, os.path.join(tempfile.mkdtemp(), "m.autonet")))
    >>> meta["format_version"], meta["fitted"]["input_kind"], meta["ensemble"]["weights"]
    (3, 'tabular', [1.0])
    """
    path = os.fspath(path)
    with _open_regular_file(path) as handle, _open_archive(handle, path) as archive:
        return _parse_json(_read_entry(archive, _METADATA, _MAX_METADATA_BYTES, path), path)


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


def _check_saveable(estimator):
    """TypeError for anything but an AutoNetLCNClassifier, NotFittedError when unfitted."""
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    from .estimator import AutoNetLCNClassifier

    if isinstance(estimator, Pipeline):
        last = type(estimator.steps[-1][1]).__name__ if estimator.steps else "nothing"
        raise TypeError(
            "save() writes one fitted AutoNetLCNClassifier, not a Pipeline (its last step is "
            f"{last}). Save the last step with save(pipeline[-1], path) and the preprocessing "
            "steps pipeline[:-1] with skops.io.dump (safe to load) or joblib.dump (a pickle: "
            "load only files you trust), then rebuild the pipeline with "
            "sklearn.pipeline.make_pipeline(*preprocessing, load(path)); see docs/persistence.md."
        )
    if not isinstance(estimator, AutoNetLCNClassifier):
        raise TypeError(
            f"save() writes a fitted AutoNetLCNClassifier; got {type(estimator).__name__}."
        )
    check_is_fitted(estimator)


def _safetensors_bytes(state):
    """``state`` (a dict of CPU tensors) in the safetensors layout, little-endian."""
    header, chunks, offset = {}, [], 0
    for key, tensor in state.items():
        name = str(tensor.dtype).removeprefix("torch.")
        if name not in _DTYPES:
            raise ValueError(f"tensor {key!r} of dtype {name} cannot be saved.")
        code, np_dtype = _DTYPES[name]
        data = np.ascontiguousarray(tensor.numpy(), dtype=np_dtype).tobytes()
        header[key] = {"dtype": code, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data start 8-byte aligned, as safetensors writes them
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def _write_atomically(path, data):
    """``atomic_write``, keeping the permission bits of a replaced file (umask for a new one)."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    except OSError:
        mode = None
    atomic_write(path, data)  # a temporary file in the folder, fsync, os.replace
    if mode is not None:
        try:
            os.chmod(path, mode)
        except OSError:  # a file system without permission bits
            pass


def _umask():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it (briefly) and restoring it
    os.umask(mask)
    return mask


# ------------------------------------------------------------------ reading
def _read_model(path, estimator_cls):
    """``(metadata, spec, state, params)`` of a model file, every check done before allocating."""
    with _open_regular_file(path) as handle, _open_archive(handle, path) as archive:
        metadata = _parse_json(_read_entry(archive, _METADATA, _MAX_METADATA_BYTES, path), path)
        _check_metadata(metadata, path)
        spec = _spec_from_metadata(metadata["spec"], path)
        _check_spec_sizes(spec, path)
        members = _members_from_metadata(metadata, spec, path)
        expected, n_parameters = _expected_tensors(members, path)
        declared = {key: (tuple(entry["shape"]), entry["dtype"]) for key, entry in metadata["tensors"].items()}
        _check_tensor_layout(declared, expected, path, f" in {_METADATA}")
        for i, (member, _) in enumerate(members):
            _check_spec_chain(member, path, "spec" if i == 0 else f"ensemble.specs[{i - 1}]")
        _check_fitted(metadata["fitted"], spec, n_parameters, path)
        params = _decode_params(metadata["params"], estimator_cls, path)
        _check_params_fit(params, spec, path)
        version = metadata["format_version"]
        low, high = _weights_size_range(version, expected)
        blob = _read_entry(archive, _WEIGHTS_BY_VERSION[version], high, path, minimum=low)
    state = _load_weights(blob, metadata, path)
    return metadata, members, state, params


def _short(value):
    """A short description of a (possibly huge or hostile) JSON value for messages."""
    if isinstance(value, (list, dict)):
        return f"a JSON {'array' if isinstance(value, list) else 'object'} of length {len(value)}"
    if isinstance(value, str):
        return repr(value[:60] + ("..." if len(value) > 60 else ""))
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return f"an integer of {len(str(abs(value)))} digits"
    return repr(value)


def _bad(path, key, message, value=None, *, show=True):
    got = f", got {_short(value)}" if show else ""
    return ValueError(f"{path}: {_METADATA} key {key!r} {message}{got}.")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _need_int(value, path, key, low=0, high=MAX_PARAMETERS):
    if not _is_int(value) or not low <= value <= high:
        raise _bad(path, key, f"must be an integer in [{low:,}, {high:,}]", value)
    return value


def _need_str(value, path, key, max_length=1000):
    if not isinstance(value, str) or len(value) > max_length:
        raise _bad(path, key, f"must be a string of at most {max_length} characters", value)
    return value


def _need_dict(value, path, key):
    if not isinstance(value, dict):
        raise _bad(path, key, "must be a JSON object", value)
    return value


def _open_regular_file(path):
    """The file at ``path``, opened for reading only if it is a regular file of a sane size."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)  # O_NONBLOCK: opening a FIFO does not wait for a writer
    except (FileNotFoundError, PermissionError):
        raise
    except OSError as exc:
        raise ValueError(f"{path} cannot be opened as a model file ({exc}).") from exc
    try:
        info = os.fstat(fd)  # of what was opened, not of what the name pointed to before
        if not stat.S_ISREG(info.st_mode):
            kind = (
                "a folder" if stat.S_ISDIR(info.st_mode)
                else "a FIFO" if stat.S_ISFIFO(info.st_mode)
                else "a character device" if stat.S_ISCHR(info.st_mode)
                else "a block device" if stat.S_ISBLK(info.st_mode)
                else "a socket" if stat.S_ISSOCK(info.st_mode)
                else "not a regular file"
            )
            raise ValueError(
                f"{path} is {kind}, not a regular file; a model file is a regular file written by save()."
            )
        if info.st_size > _MAX_FILE_BYTES:
            raise ValueError(
                f"{path} is {info.st_size:,} bytes, larger than any model file within the caps "
                f"({_MAX_FILE_BYTES:,} bytes); refusing to read it."
            )
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _check_zip_directory(handle, size, path, what, max_entries, max_directory):
    """Refuse a zip whose directory holds too many entries, is too large or is zip64.

    Reads the end-of-central-directory record (the last 22 bytes plus at most
    a 64 KiB comment, and the zip64 record zipfile would use instead) before
    :mod:`zipfile` parses the directory, whose size it would otherwise trust.
    """
    tail_length = min(size, 22 + 0xFFFF)
    handle.seek(size - tail_length)
    tail = handle.read(tail_length)
    position = tail.rfind(b"PK\x05\x06")
    if position < 0 or len(tail) - position < 22:
        raise ValueError(
            f"{path} is not a sklearn-autonet model file, or it is truncated or corrupt "
            f"({what} has no zip end-of-central-directory record)."
        )
    _, disk, start_disk, n_disk, n_total, directory_size, _, _ = struct.unpack(
        "<4s4H2LH", tail[position : position + 22]
    )
    if position >= 20 and tail[position - 20 : position - 16] == b"PK\x06\x07":
        # zip64 (torch.save writes it): zipfile then trusts the 56-byte record before the locator
        record = tail[max(position - 76, 0) : position - 20]
        if len(record) != 56 or record[:4] != b"PK\x06\x06":
            raise ValueError(f"{path}: {what} has a broken zip64 end-of-central-directory record.")
        _, _, _, _, disk, start_disk, n_disk, n_total, directory_size, _ = struct.unpack(
            "<4sQ2H2L4Q", record
        )
    if disk or start_disk or n_disk != n_total:
        raise ValueError(f"{path}: {what} is a multi-disk zip archive, which model files never are.")
    if n_total > max_entries or directory_size > max_directory:
        raise ValueError(
            f"{path}: {what} declares {n_total} zip entries in a directory of {directory_size:,} "
            f"bytes (at most {max_entries} entries and {max_directory:,} bytes); refusing to read it."
        )


def _open_archive(handle, path):
    handle.seek(0, os.SEEK_END)
    _check_zip_directory(handle, handle.tell(), path, "the file", _MAX_ZIP_ENTRIES, _MAX_ZIP_DIRECTORY)
    handle.seek(0)
    try:
        archive = zipfile.ZipFile(handle)
    except Exception as exc:  # BadZipFile, OSError, struct.error, ... from a hostile or broken file
        raise ValueError(
            f"{path} is not a sklearn-autonet model file, or it is truncated or corrupt ({exc})."
        ) from exc
    names = archive.namelist()
    if len(names) != len(set(names)):
        archive.close()
        raise ValueError(f"{path} is corrupt: its zip archive holds duplicate entries.")
    return archive


def _read_entry(archive, name, cap, path, minimum=0):
    """The bytes of entry ``name``: declared size checked first, then a bounded read."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ValueError(f"{path} is not a sklearn-autonet model file: it lacks [{name!r}].") from None
    if info.flag_bits & 0x1:
        raise ValueError(f"{path}: the entry {name!r} is encrypted; model files never are.")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ValueError(
            f"{path}: the entry {name!r} uses zip compression method {info.compress_type}; "
            "model files are stored or deflated."
        )
    if not minimum <= info.file_size <= cap:
        raise ValueError(
            f"{path}: the entry {name!r} declares {info.file_size:,} bytes uncompressed, outside "
            f"the {minimum:,} to {cap:,} bytes the file's metadata allows; refusing to read it."
        )
    if info.file_size > _RATIO_FLOOR and info.file_size > _MAX_COMPRESS_RATIO * max(info.compress_size, 1):
        raise ValueError(
            f"{path}: the entry {name!r} would inflate {info.compress_size:,} bytes to "
            f"{info.file_size:,} (more than {_MAX_COMPRESS_RATIO} times); refusing to read it."
        )
    try:
        with archive.open(info) as entry:
            data = entry.read(cap + 1)  # never more than the cap, whatever the entry claims
    except Exception as exc:  # BadZipFile (CRC), zlib.error, EOFError, ... from a hostile or broken file
        raise ValueError(f"{path} is truncated or corrupt: {type(exc).__name__}: {exc}") from exc
    if len(data) != info.file_size:
        raise ValueError(
            f"{path} is truncated or corrupt: the entry {name!r} holds {len(data):,} bytes "
            f"{'or more ' if len(data) > cap else ''}but declares {info.file_size:,}."
        )
    return data


def _parse_json(text, path, what=_METADATA):
    try:
        value = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # ValueError: JSON, huge ints
        raise ValueError(f"{path}: {what} is not valid JSON ({type(exc).__name__}: {exc}).") from exc
    if not isinstance(value, dict):
        raise ValueError(f"{path}: {what} must hold a JSON object.")
    return value


def _check_metadata(metadata, path):
    """Types and ranges of the top-level fields (the spec, tensors and fitted values come later)."""
    if metadata.get("format") != FORMAT_NAME:
        raise ValueError(
            f"{path} is not a sklearn-autonet model file (format {_short(metadata.get('format'))}, "
            f"expected {FORMAT_NAME!r})."
        )
    version = metadata.get("format_version")
    if not _is_int(version):
        raise ValueError(f"{path}: 'format_version' must be an integer, got {_short(version)}.")
    if version > FORMAT_VERSION:
        versions = metadata.get("versions")
        written_by = versions.get("sklearn_autonet") if isinstance(versions, dict) else None
        written_by = _short(written_by) if written_by is not None else "a newer version"
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
    versions = _need_dict(metadata["versions"], path, "versions")
    for name, value in versions.items():
        _need_str(value, path, f"versions.{name}", 200)
    if metadata["estimator"] != "AutoNetLCNClassifier":
        raise ValueError(
            f"{path} holds a {_short(metadata['estimator'])}, not an AutoNetLCNClassifier."
        )
    _need_dict(metadata["params"], path, "params")
    _need_dict(metadata["spec"], path, "spec")
    fitted = metadata["fitted"]
    if not isinstance(fitted, dict):
        raise ValueError(f"{path}: 'fitted' must be a JSON object.")
    missing = [key for key in _FITTED_KEYS if key not in fitted]
    if missing:
        raise ValueError(f"{path}: {_METADATA} lacks the fitted key(s) {missing}.")
    if fitted["input_kind"] not in INPUT_KINDS:
        raise ValueError(f"{path}: unknown input kind {_short(fitted['input_kind'])}.")
    net = _need_dict(metadata["net"], path, "net")
    _need_int(net.get("batch_size"), path, "net.batch_size", 1, 2**31 - 1)
    if net.get("precision", "float32") not in PRECISIONS:
        raise _bad(path, "net.precision", f"must be one of {list(PRECISIONS)}", net.get("precision"))
    if "saved_from_device" in net:
        _need_str(net["saved_from_device"], path, "net.saved_from_device", 100)
    n_members = 1
    if version >= 3:
        ensemble = metadata.get("ensemble")
        if not isinstance(ensemble, dict) or set(ensemble) != {"weights", "specs"}:
            raise _bad(path, "ensemble", "must be an object with exactly 'weights' and 'specs'", ensemble)
        weights, specs = ensemble["weights"], ensemble["specs"]
        if not isinstance(weights, list) or not 1 <= len(weights) <= MAX_MEMBERS:
            raise _bad(path, "ensemble.weights", f"must be a list of 1 to MAX_MEMBERS={MAX_MEMBERS} numbers", weights)
        if not isinstance(specs, list) or len(specs) != len(weights) - 1:
            raise _bad(path, "ensemble.specs", f"must list the {len(weights) - 1} member(s) after the first", specs)
        n_members = len(weights)
    tensors = _need_dict(metadata["tensors"], path, "tensors")
    if len(tensors) > 8 * (MAX_LAYERS + 1) * n_members:
        raise _bad(path, "tensors", "declares more tensors than any network within MAX_LAYERS has", tensors)
    for name, entry in tensors.items():
        key = f"tensors[{name[:80]!r}]"
        if not isinstance(entry, dict) or set(entry) != {"shape", "dtype"}:
            raise _bad(path, key, "must be an object with exactly 'shape' and 'dtype'", entry)
        shape = entry["shape"]
        if not isinstance(shape, list) or len(shape) > 8:
            raise _bad(path, f"{key}.shape", "must be a list of at most 8 integers", shape)
        for size in shape:
            _need_int(size, path, f"{key}.shape", 0, MAX_PARAMETERS)
        if not isinstance(entry["dtype"], str) or entry["dtype"] not in _DTYPES:
            raise _bad(path, f"{key}.dtype", f"must be one of {sorted(_DTYPES)}", entry["dtype"])
    digest = metadata["weights_sha256"]
    if not (isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
        raise _bad(path, "weights_sha256", "must be 64 lowercase hex digits", digest)


def _thresholds_from_metadata(metadata, spec, path):
    """A multi-label model's thresholds (format 4 ``target``), or None for a single-label model."""
    target = metadata.get("target")
    if metadata["format_version"] < 4 or target is None:
        return None
    if not isinstance(target, dict) or set(target) != {"type", "thresholds"}:
        raise _bad(path, "target", "must be an object with exactly 'type' and 'thresholds'", target)
    kind, thresholds = target["type"], target["thresholds"]
    if kind not in _TARGET_TYPES:
        raise _bad(path, "target.type", f"must be one of {list(_TARGET_TYPES)}", kind)
    if kind != MULTILABEL:
        if thresholds is not None:
            raise _bad(path, "target.thresholds", f"must be null for a {kind} target", thresholds)
        return None
    n_labels = spec.head.width
    if not (isinstance(thresholds, list) and len(thresholds) == n_labels and all(
        isinstance(t, Real) and not isinstance(t, bool) and 0 < t <= 1 for t in thresholds
    )):
        raise _bad(path, "target.thresholds", f"must be a list of {n_labels} numbers in (0, 1]", thresholds)
    return np.asarray(thresholds, dtype=np.float64)


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


def _members_from_metadata(metadata, spec, path):
    """``[(spec, weight), ...]``: format 3's ``ensemble`` (each member checked), or ``[(spec, 1.0)]`` before it."""
    if metadata["format_version"] < 3:
        return [(spec, 1.0)]
    ensemble = metadata["ensemble"]  # its structure and length checked by _check_metadata
    specs = [spec]
    for i, data in enumerate(ensemble["specs"], start=1):
        key = f"ensemble.specs[{i - 1}]"
        member = _spec_from_metadata(_need_dict(data, path, key), path)
        _check_spec_sizes(member, path)
        for field in ("input_kind", "input_shape", "n_side"):
            if getattr(member, field) != getattr(spec, field):
                raise _bad(path, f"{key}.{field}", f"must be the first member's {getattr(spec, field)!r}",
                           getattr(member, field))
        if member.head.width != spec.head.width:
            raise _bad(path, key, f"must have {spec.head.width} outputs, as the first member", member.head.width)
        specs.append(member)
    weights = ensemble["weights"]
    for i, weight in enumerate(weights):
        if not isinstance(weight, Real) or isinstance(weight, bool) or not 0 < weight <= 1:
            raise _bad(path, f"ensemble.weights[{i}]", "must be a number in (0, 1]", weight)
    if abs(sum(weights) - 1) > 1e-6:
        raise _bad(path, "ensemble.weights", "must sum to 1", weights)
    total = sum(_declared_values(member) for member in specs)
    if total > MAX_PARAMETERS:
        raise ValueError(
            f"{path}: the {len(specs)} networks in {_METADATA} declare {total:,} parameters and statistics "
            f"in all, more than the cap MAX_PARAMETERS={MAX_PARAMETERS:,}; refusing to build them."
        )
    return [(member, float(w)) for member, w in zip(specs, weights)]


def _declared_values(spec):
    """Most values (weights, biases, BatchNorm statistics) a network of ``spec`` holds."""
    return 2 * spec.n_side + 1 + sum(
        layer.in_channels * layer.kernel_size * layer.width + 4 * layer.width + 1 for layer in spec.layers
    )


def _spec_from_metadata(data, path):
    try:
        return NetworkSpec.from_dict(data)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: invalid architecture: {exc}") from exc


def _check_spec_sizes(spec, path):
    """Layer kinds, input layout and every size against the caps; nothing is built yet."""
    if spec.input_kind not in ("tabular", "signal"):
        raise _bad(path, "spec.input_kind", "must be 'tabular' or 'signal'", spec.input_kind)
    dims = 1 if spec.input_kind == "tabular" else 2
    if len(spec.input_shape) != dims:
        raise _bad(path, "spec.input_shape", f"must hold {dims} integer(s) for {spec.input_kind} input", list(spec.input_shape))
    for size in spec.input_shape:
        _need_int(size, path, "spec.input_shape", 1, MAX_PARAMETERS)
    if math.prod(spec.input_shape) > MAX_PARAMETERS:
        raise _bad(path, "spec.input_shape", f"describes more than {MAX_PARAMETERS:,} values per sample", list(spec.input_shape))
    _need_int(spec.n_side, path, "spec.n_side", 0, 0 if spec.input_kind == "tabular" else MAX_PARAMETERS)
    if len(spec.layers) > MAX_LAYERS:
        raise _bad(path, "spec.layers", f"holds more than MAX_LAYERS={MAX_LAYERS} layers", spec.layers, show=False)
    hidden_kind = "conv" if spec.input_kind == "signal" else "dense"
    total = 2 * spec.n_side + 1  # the side features' BatchNorm statistics
    for i, layer in enumerate(spec.layers):
        key = f"spec.layers[{i}]"
        kind = "head" if i == len(spec.layers) - 1 else hidden_kind
        if layer.kind != kind:
            raise _bad(path, f"{key}.kind", f"must be {kind!r} ({spec.input_kind} input, head last)", layer.kind)
        _need_str(layer.name, path, f"{key}.name", 100)
        for field in ("in_channels", "width", "kernel_size", "in_length", "stride"):
            _need_int(getattr(layer, field), path, f"{key}.{field}", 1, MAX_PARAMETERS)
        if kind != "conv" and (layer.kernel_size != 1 or layer.in_length != 1 or layer.stride != 1):
            raise _bad(path, key, "must have kernel_size 1, in_length 1 and stride 1 (a dense layer or the head)",
                       [layer.kernel_size, layer.in_length, layer.stride])
        # weights, then at most: bias or BatchNorm affine, running mean and variance, counter
        total += layer.in_channels * layer.kernel_size * layer.width + 4 * layer.width + 1
    if total > MAX_PARAMETERS:
        raise ValueError(
            f"{path}: the architecture in {_METADATA} declares {total:,} parameters and statistics, "
            f"more than the cap MAX_PARAMETERS={MAX_PARAMETERS:,}; refusing to build it."
        )


def _expected_tensors(members, path):
    """``({name: (shape, dtype)}, n_parameters)`` of the network(s), built on the meta device (no memory)."""
    from .modules import LCNNetwork

    try:
        with torch.device("meta"):
            if len(members) == 1:
                module = LCNNetwork(members[0][0])
            else:
                module = EnsembleNetwork(specs=[s for s, _ in members], weights=[w for _, w in members])
    except (ValueError, TypeError, RuntimeError) as exc:  # e.g. an unknown activation
        raise ValueError(f"{path}: invalid architecture: {exc}") from exc
    return _tensor_layout(module.state_dict()), sum(p.numel() for p in module.parameters())


def _tensor_layout(state):
    """``{name: (shape, dtype name)}`` of a state dict, as :func:`_expected_tensors` gives it."""
    return {key: (tuple(value.shape), str(value.dtype).removeprefix("torch.")) for key, value in state.items()}


def _check_tensor_layout(found, expected, path, where=""):
    """The tensors ``found`` (names to ``(shape, dtype)``) are exactly those the architecture needs.

    Used twice: on the sizes ``metadata.json`` declares (``where`` names it),
    before anything is read, and on the weights once read.
    """
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"{path}: the weights do not fit the architecture: missing tensor(s) {missing}, "
            f"unexpected tensor(s) {[name[:80] for name in unexpected[:20]]}."
        )
    for key, (shape, dtype) in expected.items():
        found_shape, found_dtype = found[key]
        if found_shape != shape:
            raise ValueError(
                f"{path}: tensor {key!r} has shape {found_shape}{where}, but the architecture needs {shape}."
            )
        if found_dtype != dtype:
            raise ValueError(
                f"{path}: tensor {key!r} has dtype {found_dtype}{where}, but the architecture needs {dtype}."
            )


def _check_spec_chain(spec, path, where="spec"):
    """Each layer reads what the previous one writes (else predict would fail inside torch)."""
    channels = spec.input_shape[0]
    length = spec.input_shape[1] if spec.input_kind == "signal" else 1
    for i, layer in enumerate(spec.hidden):
        if layer.in_channels != channels:
            raise _bad(path, f"{where}.layers[{i}].in_channels", f"must be {channels} (what the layer before writes)", layer.in_channels)
        if layer.kind == "conv":
            if layer.in_length != length or length < 2:
                raise _bad(path, f"{where}.layers[{i}].in_length",
                           f"must be {length} (what the layer before writes), and at least 2", layer.in_length)
            if layer.conv_length < 2:
                raise _bad(path, f"{where}.layers[{i}].stride",
                           f"leaves fewer than 2 samples of {layer.in_length} to pool", layer.stride)
            length = layer.out_length
        channels = layer.width
    if spec.head.in_channels != channels + spec.n_side:
        raise _bad(path, f"{where}.layers[{len(spec.layers) - 1}].in_channels",
                   f"must be {channels + spec.n_side} (the features the head reads)", spec.head.in_channels)


def _check_fitted(fitted, spec, n_parameters, path):
    """The fitted values: types, ranges and agreement with the architecture."""
    classes = _decode_classes(fitted["classes"], path)
    if len(classes) != spec.head.width:
        raise ValueError(
            f"{path}: {len(classes)} classes, but the network has {spec.head.width} outputs."
        )
    if fitted["input_kind"] != spec.input_kind:
        raise _bad(path, "fitted.input_kind", f"must be the architecture's {spec.input_kind!r}", fitted["input_kind"])
    if fitted["input_shape"] != list(spec.input_shape):
        raise _bad(path, "fitted.input_shape", f"must be the architecture's {list(spec.input_shape)}",
                   fitted["input_shape"])
    n_features = _need_int(fitted["n_features_in"], path, "fitted.n_features_in", 1, MAX_PARAMETERS)
    n_signal = math.prod(spec.input_shape)
    if spec.input_kind == "tabular" and n_features != n_signal:
        raise _bad(path, "fitted.n_features_in", f"must be {n_signal} (the architecture's input)", n_features)
    if spec.n_side and n_features != n_signal + spec.n_side:
        raise ValueError(
            f"{path}: n_features_in is {n_features}, but the architecture reads "
            f"{n_signal} signal values and {spec.n_side} side features."
        )
    names = fitted["feature_names_in"]
    if names is not None and (
        not isinstance(names, list) or len(names) != n_features or not all(isinstance(n, str) for n in names)
    ):
        raise _bad(path, "fitted.feature_names_in", f"must be null or a list of {n_features} strings", names)
    _need_int(fitted["n_fit"], path, "fitted.n_fit", 1, _MAX_FIT_SAMPLES)
    if fitted["n_parameters"] != n_parameters:
        raise _bad(path, "fitted.n_parameters", f"must be {n_parameters:,}, the parameters of the architecture",
                   fitted["n_parameters"])
    _need_str(fitted["stop_reason"], path, "fitted.stop_reason", 200)
    fit_time = fitted["fit_time"]
    if not isinstance(fit_time, Real) or isinstance(fit_time, bool) or not 0 <= fit_time < math.inf:
        raise _bad(path, "fitted.fit_time", "must be a finite, non-negative number", fit_time)
    if "convexity_report" in fitted:  # files before format 2 wrote it; it is rebuilt from the spec
        _need_dict(fitted["convexity_report"], path, "fitted.convexity_report")
    if "layout" in fitted:
        _need_dict(fitted["layout"], path, "fitted.layout")
    history = _decode_history(fitted["search_history"], path)
    n_rows = len(next(iter(history.values()))) if history else 0
    _need_int(fitted["best_index"], path, "fitted.best_index", 0, max(n_rows - 1, 0))


def _weights_size_range(version, expected):
    """Smallest and largest uncompressed size of the weights entry of these tensors."""
    n_bytes = sum(math.prod(shape) * np.dtype(_DTYPES[dtype][1]).itemsize for shape, dtype in expected.values())
    if version >= 2:
        return 8 + n_bytes, 8 + n_bytes + _safetensors_header_cap(len(expected))
    # torch.save: the pickle and the inner zip's headers, 64-byte aligned records
    return n_bytes, n_bytes + 64 * 2**10 + 1024 * len(expected)


def _safetensors_header_cap(n_tensors):
    return 4096 + 512 * n_tensors


def _load_weights(blob, metadata, path):
    digest = hashlib.sha256(blob).hexdigest()
    if digest != metadata["weights_sha256"]:
        raise ValueError(
            f"{path}: the weights do not match the checksum in {_METADATA} "
            f"(sha256 {digest[:12]}..., expected {str(metadata['weights_sha256'])[:12]}...); "
            "the file was altered or is corrupt."
        )
    declared = metadata["tensors"]
    if metadata["format_version"] >= 2:
        return _read_safetensors(blob, declared, path)
    _check_torch_archive(blob, len(declared), path)
    try:
        state = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError, RuntimeError, EOFError, ... from a hostile or broken file
        raise ValueError(
            f"{path}: refusing to load {_WEIGHTS_V1}: it is not a plain tensor state dict "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})."
        ) from exc
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise ValueError(f"{path}: {_WEIGHTS_V1} must hold a dict of named tensors.")
    for key, value in state.items():
        entry = declared.get(key)
        if entry is None or list(value.shape) != entry["shape"]:
            raise ValueError(
                f"{path}: tensor {key!r} has shape {list(value.shape)}, but {_METADATA} "
                f"declares {None if entry is None else entry['shape']}."
            )
    return state


def _check_torch_archive(blob, n_tensors, path):
    """The inner zip ``torch.save`` writes: few, uncompressed records, none larger than ``blob``.

    ``torch.load`` allocates each record at its declared size; a deflated record
    could declare far more than the entry holds.
    """
    handle = io.BytesIO(blob)
    try:
        _check_zip_directory(handle, len(blob), path, _WEIGHTS_V1, 2 * n_tensors + 32, 512 * (2 * n_tensors + 32))
        with zipfile.ZipFile(handle) as inner:
            infos = inner.infolist()
    except ValueError:
        raise
    except Exception as exc:
        raise ValueError(
            f"{path}: refusing to load {_WEIGHTS_V1}: it is not a torch.save archive ({exc})."
        ) from exc
    if any(i.compress_type != zipfile.ZIP_STORED for i in infos) or sum(i.file_size for i in infos) > len(blob):
        raise ValueError(
            f"{path}: refusing to load {_WEIGHTS_V1}: its records are compressed or declare more "
            "bytes than it holds, which torch.save never writes."
        )


def _read_safetensors(blob, declared, path):
    """The tensors of a safetensors blob whose header must match ``declared`` exactly."""

    def bad(message):
        return ValueError(f"{path}: {_WEIGHTS}: {message}")

    header_length = int.from_bytes(blob[:8], "little")
    cap = _safetensors_header_cap(len(declared))
    if len(blob) < 8 or header_length > min(cap, len(blob) - 8):
        raise bad(f"its header length {header_length:,} is larger than the entry or the cap ({cap:,} bytes).")
    header = _parse_json(blob[8 : 8 + header_length], path, f"the header of {_WEIGHTS}")
    extra = header.pop("__metadata__", {})
    if not isinstance(extra, dict):
        raise bad("'__metadata__' must be a JSON object.")
    missing = sorted(set(declared) - set(header))
    unexpected = sorted(set(header) - set(declared))
    if missing or unexpected:
        raise bad(
            f"its tensors differ from {_METADATA}'s: missing {missing}, "
            f"unexpected {[name[:80] for name in unexpected[:20]]}."
        )
    spans = []
    for key, entry in header.items():
        want = declared[key]
        code, np_dtype = _DTYPES[want["dtype"]]
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise bad(f"tensor {key!r} must be an object with 'dtype', 'shape' and 'data_offsets'.")
        if entry["dtype"] != code:
            raise bad(f"tensor {key!r} has dtype {_short(entry['dtype'])}, but {_METADATA} declares {want['dtype']}.")
        shape = entry["shape"]
        if not isinstance(shape, list) or not all(_is_int(s) for s in shape) or shape != want["shape"]:
            raise ValueError(
                f"{path}: tensor {key!r} has shape {_short(shape) if not isinstance(shape, list) or len(shape) > 8 else shape} "
                f"in {_WEIGHTS}, but {_METADATA} declares {want['shape']}."
            )
        offsets = entry["data_offsets"]
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) for o in offsets)):
            raise bad(f"tensor {key!r} needs 'data_offsets' [begin, end] of integers.")
        n_bytes = math.prod(shape) * np.dtype(np_dtype).itemsize
        if offsets[1] - offsets[0] != n_bytes:
            raise bad(f"tensor {key!r} spans {offsets[1] - offsets[0]} bytes, but its shape and dtype take {n_bytes}.")
        spans.append((offsets[0], offsets[1], key))
    start, position = 8 + header_length, 0
    for begin, end, key in sorted(spans):
        if begin != position:
            raise bad(f"the byte range of tensor {key!r} does not follow the previous one.")
        position = end
    if start + position != len(blob):
        raise bad(f"it holds {len(blob) - start:,} bytes of tensor data, but its tensors take {position:,}.")
    state = {}
    for begin, end, key in spans:
        want = declared[key]
        array = np.frombuffer(blob, dtype=_DTYPES[want["dtype"]][1], count=math.prod(want["shape"]), offset=start + begin)
        state[key] = torch.from_numpy(array.astype(array.dtype.newbyteorder("="))).reshape(want["shape"])
    return state


def _decode_classes(data, path):
    if not isinstance(data, dict) or set(data) != {"dtype", "values"} or not isinstance(data["values"], list):
        raise ValueError(f"{path}: 'classes' must be {{'dtype': ..., 'values': [...]}}.")
    values = data["values"]
    if not isinstance(data["dtype"], str) or len(data["dtype"]) > 16:
        raise ValueError(f"{path}: unknown classes dtype {_short(data['dtype'])}.")
    try:
        dtype = np.dtype(data["dtype"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: unknown classes dtype {data['dtype']!r}.") from exc
    if dtype.kind not in _CLASS_KINDS:
        raise ValueError(f"{path}: classes dtype {dtype} is not allowed.")
    if not all(isinstance(v, (str, int, float, bool)) for v in values):
        raise _bad(path, "fitted.classes.values", "must hold numbers or strings only", values)
    if dtype.itemsize * len(values) > _MAX_METADATA_BYTES:
        raise _bad(path, "fitted.classes.dtype", "makes the labels larger than the metadata", data["dtype"])
    if len(set(values)) != len(values):
        raise _bad(path, "fitted.classes.values", "must not repeat a label", values)
    try:
        if dtype.kind == "O":
            classes = np.empty(len(values), dtype=object)
            classes[:] = values
        else:
            classes = np.asarray(values, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise _bad(path, "fitted.classes.values", f"do not fit the dtype {dtype} ({exc})", values) from exc
    if classes.shape != (len(values),) or classes.tolist() != values:
        raise _bad(path, "fitted.classes.values", f"change when stored as {dtype}", values)
    return classes


def _decode_params(encoded, estimator_cls, path):
    """Constructor parameters, validated by the estimator's own ``_validate_params``."""
    if not isinstance(encoded, dict):
        raise _bad(path, "params", "must be a JSON object", encoded)
    defaults = estimator_cls().get_params(deep=False)
    params, unsaved = {}, []
    for name, value in encoded.items():
        if name not in defaults:
            continue  # a parameter of another version; ignored
        key = f"params.{name}"
        if isinstance(value, dict):
            if set(value) == {"__dict_items__"}:
                items = value["__dict_items__"]
                if not isinstance(items, list) or not all(
                    isinstance(item, list) and len(item) == 2
                    and isinstance(item[0], (str, int, float, bool))
                    and isinstance(item[1], Real) and not isinstance(item[1], bool)
                    for item in items
                ):
                    raise _bad(path, key, "must list [label, number] pairs", items)
                value = {k: v for k, v in items}
            elif set(value) == {"__tuple__"}:
                items = value["__tuple__"]
                if not isinstance(items, list) or not all(_is_int(v) for v in items):
                    raise _bad(path, key, "must be a list of integers", items)
                value = tuple(items)
            elif set(value) == {"__unsaved__"}:
                text = value["__unsaved__"]
                unsaved.append(f"{name}={text[:80] if isinstance(text, str) else _short(text)}")
                continue
            else:
                raise _bad(path, key, "is an object of unknown kind", value)
        elif isinstance(value, list):
            raise _bad(path, key, "must not be a list", value)
        params[name] = value
    try:
        estimator_cls(**params)._validate_params()
    except (ValueError, TypeError) as exc:  # sklearn's InvalidParameterError is both
        raise ValueError(f"{path}: {_METADATA} key 'params' holds an invalid parameter: {exc}") from exc
    if unsaved:
        warnings.warn(
            "These constructor parameters could not be saved as JSON and are back to their "
            f"defaults (predictions are unaffected): {', '.join(unsaved)}.",
            UserWarning,
            stacklevel=4,
        )
    return params


def _check_params_fit(params, spec, path):
    """The parameters that shape predictions agree with the stored architecture."""
    kind = params.get("input_kind", "auto")
    if kind not in ("auto", spec.input_kind):
        raise _bad(path, "params.input_kind", f"must be 'auto' or {spec.input_kind!r} for this network", kind)
    shape = params.get("signal_shape")
    if shape is not None and (spec.input_kind != "signal" or tuple(shape) != tuple(spec.input_shape)):
        raise _bad(path, "params.signal_shape", f"must be null or the network's input shape {list(spec.input_shape)}",
                   list(shape))
    if shape is None and spec.n_side:
        raise _bad(path, "params.signal_shape", f"must be {list(spec.input_shape)} for a network with side features",
                   shape)
    if "device" in params and not isinstance(params["device"], str):
        raise _bad(path, "params.device", "must be a string", params["device"])


def _decode_history(history, path):
    if not isinstance(history, dict) or not all(isinstance(c, list) for c in history.values()):
        raise ValueError(f"{path}: 'search_history' must map column names to lists.")
    lengths = {len(column) for column in history.values()}
    if len(history) > _MAX_HISTORY_COLUMNS or len(lengths) > 1 or max(lengths, default=0) > _MAX_HISTORY_ROWS:
        raise _bad(path, "fitted.search_history",
                   f"must hold at most {_MAX_HISTORY_COLUMNS} columns of one length (at most "
                   f"{_MAX_HISTORY_ROWS:,} rows); found lengths {sorted(lengths)[:5]}", history, show=False)
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
