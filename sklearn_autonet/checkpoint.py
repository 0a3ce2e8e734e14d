"""Checkpoints of the AutoNet search: every finished candidate on disk, for resuming.

With ``checkpoint_dir`` set, the search writes one pair of files per finished
candidate into ``checkpoint_dir/<fingerprint>/``:

* ``candidate-NNN.pt``: the trained weights, a ``state_dict`` written with
  :func:`torch.save` and read back with ``torch.load(weights_only=True)``
  (no pickled code is ever executed);
* ``candidate-NNN.json``: the spec, the training summary, the validation
  score, the status (``"ok"``/``"failed"``) and the SHA-256 of the weights file.

The fingerprint hashes the training and validation data, the search
configuration and the seed, so a checkpoint is only reused by a search with the
same data and the same arguments.  Every file is written atomically (a
temporary file in the same folder, flushed and ``fsync``-ed, then
:func:`os.replace`), and the weights are written before the JSON file that
refers to them: a search killed at any point leaves either a complete
candidate or none.  A JSON file that is unreadable, or whose weights file is
missing or does not match its checksum, is ignored with a warning (the
candidate is trained again).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from ._version import __version__
from .architecture import NetworkSpec
from .ragged import RaggedSignals

#: Bumped when the layout of the checkpoint files changes.
CHECKPOINT_FORMAT = 1


def atomic_write(path, data):
    """Write ``data`` (bytes) to ``path`` so that no reader ever sees a partial file.

    Parameters
    ----------
    path : path-like
        Destination; its folder must exist.
    data : bytes
        The whole content.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable (not possible on every platform)
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _hash_value(digest, value):
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        digest.update(f"array {array.dtype.str} {array.shape}".encode())
        digest.update(array.tobytes())
    elif isinstance(value, RaggedSignals):  # records of different lengths: their samples and lengths
        _hash_value(digest, value.parts())
    elif isinstance(value, dict):
        for key in sorted(value):
            digest.update(f"key {key}".encode())
            _hash_value(digest, value[key])
    elif isinstance(value, (tuple, list)):
        digest.update(f"seq {len(value)}".encode())
        for item in value:
            _hash_value(digest, item)
    else:
        digest.update(f"value {_describe(value)}".encode())


def _describe(value):
    """A stable text for a configuration value.

    Functions by their qualified name *and* their code, constants and closure
    (two lambdas, or two scorers made by one factory, share a name but not a
    result); other objects by their ``repr`` (scikit-learn's scorers spell out
    their metric and arguments there).
    """
    code = getattr(value, "__code__", None)
    if code is not None:
        closure = [cell.cell_contents for cell in (getattr(value, "__closure__", None) or ())]
        body = hashlib.sha256(code.co_code + repr((code.co_consts, code.co_names)).encode()).hexdigest()
        return f"{getattr(value, '__module__', '')}.{value.__qualname__} {body} {_describe_all(closure)}"
    return repr(value)


def _describe_all(values):
    return "[" + ", ".join(_describe(v) for v in values) + "]"


def search_fingerprint(props, train, valid, config, random_state, policy=None):
    """A hex digest that identifies one search: data, configuration, growth policy and seed.

    Parameters
    ----------
    props : DataProperties
    train, valid : tuple of arrays
    config : SearchConfig
    random_state : int
    policy : GrowthPolicy or None
        Hashed by its ``repr``.

    Returns
    -------
    fingerprint : str
        64 hex digits.
    """
    digest = hashlib.sha256()
    digest.update(f"autonet-checkpoint {CHECKPOINT_FORMAT} {__version__}".encode())
    _hash_value(digest, repr(props))
    _hash_value(digest, list(train))
    _hash_value(digest, list(valid))
    # n_jobs, the requested device and the verbosity change where and how loudly
    # candidates train, not what they become
    settings = dataclasses.asdict(config)
    for key in ("n_jobs", "device_request"):
        settings.pop(key)
    settings["training"].pop("verbose")
    settings["policy"] = repr(policy)
    _hash_value(digest, settings)
    _hash_value(digest, int(random_state))
    return digest.hexdigest()


#: The fields of a candidate's JSON record the search reads back, and their types.
_RECORD_FIELDS = {"spec": dict, "info": dict, "validation_score": (int, float), "status": str, "error": str}
#: The training summary's fields the search reads back.
_INFO_FIELDS = {"epochs": int, "best_epoch": int, "seconds": (int, float), "deadline_reached": bool}


def _check_record(record):
    """Raise ``ValueError`` naming the field when a record lacks one the search reads, or mistypes it."""
    if not isinstance(record, dict):
        raise ValueError("it does not hold a JSON object")
    for fields, where in ((_RECORD_FIELDS, record), (_INFO_FIELDS, record.get("info"))):
        for key, kind in fields.items():
            if not isinstance(where, dict) or key not in where:
                raise ValueError(f"it lacks the field {key!r}")
            value = where[key]
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise ValueError(f"its field {key!r} is {value!r}, not {kind}")
    if record["status"] not in ("ok", "failed", "pruned"):
        raise ValueError(f"its status {record['status']!r} is not 'ok', 'failed' or 'pruned'")


class CheckpointStore:
    """The checkpoint files of one search (one fingerprint).

    Parameters
    ----------
    directory : path-like
        The user's ``checkpoint_dir``; created when missing.
    fingerprint : str
        From :func:`search_fingerprint`; the files go in a sub-folder named
        after its first 16 hex digits.
    """

    def __init__(self, directory, fingerprint):
        self.fingerprint = fingerprint
        self.folder = Path(directory) / f"search-{fingerprint[:16]}"
        self.writable = True
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._give_up_writing(exc)

    def _give_up_writing(self, exc):
        """Warn once that checkpoints cannot be written; the search goes on without them."""
        if self.writable:
            warnings.warn(
                f"cannot write checkpoints to {self.folder} ({type(exc).__name__}: {exc}); the search "
                "goes on without saving its candidates.",
                RuntimeWarning,
                stacklevel=4,
            )
        self.writable = False

    def _paths(self, index):
        stem = self.folder / f"candidate-{index:03d}"
        return stem.with_suffix(".json"), stem.with_suffix(".pt")

    def save(self, index, record, state_dict=None):
        """Persist candidate ``index``: its weights (if any), then its JSON record.

        Parameters
        ----------
        index : int
            Position of the candidate in the search.
        record : dict
            JSON-friendly values (``spec`` may be a :class:`NetworkSpec`).
        state_dict : dict of tensors, default=None
            The trained weights; None for a failed candidate.
        """
        if not self.writable:
            return
        try:
            self._save(index, record, state_dict)
        except OSError as exc:  # disk full, read-only folder: lose the checkpoint, never the search
            self._give_up_writing(exc)

    def _save(self, index, record, state_dict):
        json_path, weights_path = self._paths(index)
        record = dict(record, fingerprint=self.fingerprint, index=index, format=CHECKPOINT_FORMAT)
        if isinstance(record.get("spec"), NetworkSpec):
            record["spec"] = record["spec"].to_dict()
        record["weights_sha256"] = None
        if state_dict is not None:
            buffer = io.BytesIO()
            torch.save({k: v.detach().cpu() for k, v in state_dict.items()}, buffer)
            payload = buffer.getvalue()
            atomic_write(weights_path, payload)
            record["weights_sha256"] = hashlib.sha256(payload).hexdigest()
        atomic_write(json_path, json.dumps(record, indent=1, allow_nan=True).encode())

    def load(self, index):
        """Candidate ``index`` as ``(record, state_dict or None)``, or None when absent or unusable."""
        json_path, weights_path = self._paths(index)
        if not json_path.is_file():
            return None
        try:
            record = json.loads(json_path.read_text())
            if record.get("fingerprint") != self.fingerprint or record.get("index") != index:
                raise ValueError("it belongs to another search")
            _check_record(record)
            record["spec"] = NetworkSpec.from_dict(record["spec"])
            state = None
            if record.get("weights_sha256") is not None:
                payload = weights_path.read_bytes()
                if hashlib.sha256(payload).hexdigest() != record["weights_sha256"]:
                    raise ValueError(f"{weights_path.name} does not match its checksum")
                state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
        except Exception as exc:  # a damaged checkpoint costs a retraining, never the search
            warnings.warn(
                f"ignoring the checkpoint {json_path} ({type(exc).__name__}: {exc}); "
                "the candidate is trained again.",
                RuntimeWarning,
                stacklevel=3,
            )
            return None
        return record, state
