"""Reading wfdb records (MIT-BIH style ``.hea/.dat/.atr``) into beat and window data sets.

Needs wfdb, the optional ``ecg`` extra.  Every file error is raised again as a
:class:`FileNotFoundError` or :class:`ValueError` whose message names the file.
"""

from __future__ import annotations

import os
import warnings
from numbers import Integral, Real
from pathlib import Path, PurePath

import numpy as np
from sklearn.base import clone
from sklearn.utils import Bunch

from .labels import (
    AAMI_MAP,
    BEAT_SYMBOLS,
    beat_indicator,
    check_label_map,
    class_names,
    map_symbols,
    rhythm_changes,
)
from .preprocessing import check_rate, resample_ratio, resample_signal
from .rr import RR_FEATURE_NAMES, rr_features

ECG_EXTRA = 'pip install "sklearn-autonet[ecg]"'
DETECTORS = ("xqrs", "gqrs")
#: AAMI EC57 matching window: a detected beat and a reference beat match within 150 ms.
MATCH_WINDOW = 0.15


def _wfdb():
    """Import wfdb, or say which extra installs it."""
    try:
        import wfdb
        import wfdb.processing  # noqa: F401  (the QRS detectors)
    except ImportError as exc:
        raise ImportError(
            f"reading ECG records needs the wfdb package, from the optional 'ecg' extra: {ECG_EXTRA}"
        ) from exc
    return wfdb


def _record_base(path):
    """``dir/100`` from ``dir/100`` or ``dir/100.hea``."""
    path = Path(path)
    return path.with_suffix("") if path.suffix == ".hea" else path


def _sibling(base, extension):
    return base.with_name(f"{base.name}.{extension}")


def list_records(directory):
    """Record names in a directory: its ``RECORDS`` file, else every ``*.hea``, sorted.

    Parameters
    ----------
    directory : str or path
        Folder of wfdb records.

    Returns
    -------
    records : list of str
        Record names (without extension).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_autonet.ecg import list_records
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("119", "106"):
    ...     _ = (folder / f"{name}.hea").write_text("")
    >>> list_records(folder)
    ['106', '119']

    Raises
    ------
    FileNotFoundError
        When the folder does not exist.
    ValueError
        When a ``RECORDS`` entry is an absolute path or leads out of the folder
        (``../x``); the message names the entry and the file.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"wfdb record directory not found: {directory}")
    listing = directory / "RECORDS"
    if listing.is_file():
        names = [line.strip() for line in listing.read_text().splitlines()]
        names = [name for name in names if name and not name.startswith("#")]
        for name in names:
            check_record_name(name, directory, f"the RECORDS file {listing}")
        return names
    return sorted(p.stem for p in directory.glob("*.hea"))


def check_record_name(name, directory, source):
    """Raise a ``ValueError`` when a record name does not lie inside ``directory``.

    Record names are paths relative to their folder (PhysioNet's ``RECORDS``
    files may name sub-folders, ``p00/p000020``); an absolute path or one that
    climbs out of the folder (``../x``) is refused, so that a ``RECORDS`` file
    cannot make the readers open files elsewhere.

    Parameters
    ----------
    name : str
        The record name.
    directory : path
        The folder of records, named in the message.
    source : str
        Where the name came from (``"the RECORDS file ..."``, ``"records="``).
    """
    normal = os.path.normpath(name)
    if (
        PurePath(name).is_absolute()
        or os.path.isabs(normal)
        or normal == os.curdir
        or normal == os.pardir
        or normal.startswith(os.pardir + os.sep)
    ):
        raise ValueError(
            f"{source} names the record {name!r}, which points outside the folder {directory}; "
            "record names must be paths inside the folder (like '100' or 'p00/p000020')."
        )


def _lead_indices(leads, names, where):
    """Channel indices of ``leads`` (names or indices) in a record with leads ``names``."""
    if leads is None:
        return list(range(len(names)))
    if isinstance(leads, (str, Integral)):
        leads = [leads]
    leads = list(leads)
    if not leads:
        raise ValueError(f"leads is empty: choose at least one lead of {where} {list(names)}, or None for all.")
    indices = []
    for lead in leads:
        if isinstance(lead, str):
            if lead not in names:
                raise ValueError(f"{where} has no lead {lead!r}; its leads are {list(names)}.")
            index = names.index(lead)
        elif isinstance(lead, Integral) and not isinstance(lead, (bool, np.bool_)) and -len(names) <= lead < len(names):
            index = int(lead) % len(names)
        else:
            raise ValueError(f"{where} has {len(names)} leads {list(names)}; lead {lead!r} is not one of them.")
        if index in indices:
            raise ValueError(f"leads selects the lead {names[index]!r} of {where} twice: {leads!r}.")
        indices.append(index)
    return indices


def _check_sample_range(sampfrom, sampto, length, where):
    """Raise a ``ValueError`` unless ``[sampfrom, sampto)`` is a non-empty range inside the record."""
    for name, value in (("sampfrom", sampfrom), ("sampto", sampto)):
        if value is None and name == "sampto":
            continue
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
            raise ValueError(f"{name} must be an integer sample index; got {value!r}.")
    if sampfrom < 0:
        raise ValueError(f"sampfrom={sampfrom} is negative; the first sample of {where} is 0.")
    if sampto is not None and sampto <= sampfrom:
        raise ValueError(f"sampto={sampto} must be greater than sampfrom={sampfrom} (an empty range of {where}).")
    stop = length if sampto is None else sampto
    if length is not None and (sampfrom >= length or stop > length):
        raise ValueError(
            f"sample range [{sampfrom}, {stop}) is not inside the record {where} of {length} samples."
        )


def read_record(path, leads=None, sampfrom=0, sampto=None):
    """Read one wfdb record's signals in physical units.

    Parameters
    ----------
    path : str or path
        The record without extension (``"data/100"``) or its ``.hea`` file.
    leads : str, int or sequence of them, default=None
        Leads to keep, by name (``"MLII"``) or index, in that order.  None: all.
    sampfrom, sampto : int, default=0, None
        Sample range to read (``sampto=None``: to the end); ``0 <= sampfrom <
        sampto <= record length``.

    Returns
    -------
    record : :class:`~sklearn.utils.Bunch`
        ``signal`` (n_leads, length) float64 in physical units (mV for
        MIT-BIH), ``fs``, ``lead_names``, ``units``, ``name``, ``sampfrom``,
        ``record_length`` (samples in the whole record, from its header).
        Invalid samples (lead off: the signal format's reserved value) are NaN.

    Raises
    ------
    FileNotFoundError
        When the header or a signal file is missing; the message names it.
    ValueError
        When the header or a signal file cannot be read (corrupt, truncated),
        the header's sampling rate is not positive, ``leads`` is empty, names
        an unknown lead or one lead twice, or the sample range is negative,
        empty or outside the record; the message names the file.

    Examples
    --------
    Needs wfdb records (here the project's ``shared/data``), so not run as a test:

    >>> from sklearn_autonet.ecg import read_record
    >>> rec = read_record("shared/data/mitdb_wfdb/100", leads="MLII", sampto=3600)  # doctest: +SKIP
    >>> rec.signal.shape, rec.fs, rec.lead_names                                   # doctest: +SKIP
    ((1, 3600), 360.0, ('MLII',))
    """
    wfdb = _wfdb()
    base = _record_base(path)
    header_file = _sibling(base, "hea")
    if not header_file.is_file():
        raise FileNotFoundError(f"wfdb header not found: {header_file}")
    try:
        header = wfdb.rdheader(str(base))
    except Exception as exc:
        raise ValueError(f"cannot read the wfdb header {header_file}: {type(exc).__name__}: {exc}") from exc
    names = list(header.sig_name or [])
    if not names:
        raise ValueError(f"the wfdb header {header_file} declares no signals.")
    channels = _lead_indices(leads, names, f"record {header_file}")
    try:
        check_rate(header.fs, "fs")
    except ValueError:
        raise ValueError(
            f"the wfdb header {header_file} declares the sampling rate {header.fs!r} Hz; "
            "it must be positive and finite."
        ) from None
    signal_files = [base.parent / name for name in dict.fromkeys(header.file_name or [])]
    for signal_file in signal_files:
        if not signal_file.is_file():
            raise FileNotFoundError(f"signal file {signal_file} of the wfdb record {header_file} not found")
    length = header.sig_len
    _check_sample_range(sampfrom, sampto, length, header_file)
    try:
        record = wfdb.rdrecord(str(base), sampfrom=sampfrom, sampto=sampto, channels=channels, physical=True)
    except Exception as exc:
        files = ", ".join(str(f) for f in signal_files) or str(header_file)
        raise ValueError(
            f"cannot read the signal file {files} of the wfdb record {header_file} "
            f"(corrupt, or shorter than the {length} samples its header declares): "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    return Bunch(
        signal=np.ascontiguousarray(record.p_signal.T, dtype=np.float64),
        fs=float(record.fs),
        lead_names=tuple(record.sig_name),
        units=tuple(record.units),
        name=base.name,
        sampfrom=int(sampfrom),
        record_length=None if length is None else int(length),
    )


def read_annotation(path, extension="atr"):
    """Read a record's annotation file (the whole file).

    Parameters
    ----------
    path : str or path
        The record without extension, or its ``.hea`` file.
    extension : str, default="atr"
        Annotation file extension (MIT-BIH reference annotations: ``"atr"``).

    Returns
    -------
    annotation : wfdb.Annotation
        With ``sample`` (indices), ``symbol`` and ``aux_note``.

    Raises
    ------
    FileNotFoundError
        When the annotation file is missing; the message names it.
    ValueError
        When it cannot be parsed; the message names it.

    Examples
    --------
    Needs wfdb records (here the project's ``shared/data``), so not run as a test:

    >>> from sklearn_autonet.ecg import read_annotation
    >>> ann = read_annotation("shared/data/mitdb_wfdb/100")   # doctest: +SKIP
    >>> ann.symbol[:3], ann.sample[:3]                         # doctest: +SKIP
    (['+', 'N', 'N'], array([ 18,  77, 370]))
    """
    wfdb = _wfdb()
    base = _record_base(path)
    annotation_file = _sibling(base, extension)
    if not annotation_file.is_file():
        raise FileNotFoundError(f"wfdb annotation file not found: {annotation_file}")
    try:
        return wfdb.rdann(str(base), extension)
    except Exception as exc:
        raise ValueError(
            f"cannot read the wfdb annotation file {annotation_file}: {type(exc).__name__}: {exc}"
        ) from exc


def check_annotation_fits(annotation, record_length, annotation_file):
    """Raise a ``ValueError`` when an annotation file cannot belong to its record.

    An annotation file copied from another record usually has annotations past
    the end of this record (MIT-BIH annotation files do not store the record's
    name, so the positions are what can be checked).

    Parameters
    ----------
    annotation : wfdb.Annotation
        The annotations read with :func:`read_annotation`.
    record_length : int or None
        Samples in the record, from its header (None: not checked).
    annotation_file : path-like
        Named in the message.
    """
    samples = np.asarray(annotation.sample, dtype=np.int64)
    if record_length is None or len(samples) == 0:
        return
    outside = np.flatnonzero((samples < 0) | (samples >= record_length))
    if len(outside):
        raise ValueError(
            f"the annotation file {annotation_file} does not match its record: {len(outside)} of its "
            f"{len(samples)} annotations lie outside the record's {record_length} samples (first at "
            f"sample {samples[outside[0]]}); is it the annotation file of another record?"
        )


def detect_r_peaks(signal, fs, method="xqrs"):
    """R peaks of one lead with wfdb's QRS detectors.

    Parameters
    ----------
    signal : array-like of shape (length,)
        One lead in physical units (mV).
    fs : float
        Sampling rate in Hz.
    method : {"xqrs", "gqrs"}, default="xqrs"
        :func:`wfdb.processing.xqrs_detect` or :func:`wfdb.processing.gqrs_detect`.
        The gqrs positions are moved to the largest absolute deflection within
        50 ms (gqrs marks near the QRS onset).

    Returns
    -------
    r_peaks : ndarray of int
        Sample indices, increasing, without repeats.

    Examples
    --------
    Needs wfdb and a real recording, so not run as a test:

    >>> from sklearn_autonet.ecg import detect_r_peaks, read_record
    >>> rec = read_record("shared/data/mitdb_wfdb/100", leads="MLII", sampto=3600)  # doctest: +SKIP
    >>> detect_r_peaks(rec.signal[0], rec.fs)[:3]                                   # doctest: +SKIP
    array([ 76, 370, 662])
    """
    wfdb = _wfdb()
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"detect_r_peaks takes one lead, a 1-D signal; got shape {x.shape}.")
    if len(x) == 0:
        raise ValueError("detect_r_peaks got an empty signal.")
    fs = check_rate(fs, "fs", "detect_r_peaks")
    bad = np.flatnonzero(~np.isfinite(x))
    if len(bad):
        raise ValueError(
            f"the signal for QRS detection contains {len(bad)} NaN or infinite value(s) (lead off?), "
            f"the first at index {bad[0]}; the detector needs a finite signal."
        )
    if method == "xqrs":
        peaks = wfdb.processing.xqrs_detect(x, fs=fs, verbose=False)
    elif method == "gqrs":
        peaks = wfdb.processing.gqrs_detect(x, fs=fs)
        radius = max(1, int(round(0.05 * fs)))
        peaks = np.asarray(peaks, dtype=int)
        if len(peaks):
            offsets = np.arange(-radius, radius + 1)
            idx = np.clip(peaks[:, None] + offsets, 0, len(x) - 1)
            centred = np.abs(x[idx] - np.median(x[idx], axis=1, keepdims=True))
            peaks = idx[np.arange(len(peaks)), np.argmax(centred, axis=1)]
    else:
        raise ValueError(f"method must be one of {DETECTORS}; got {method!r}.")
    return np.unique(np.asarray(peaks, dtype=np.int64))


def _match_symbols(peaks, reference, symbols, tolerance):
    """Symbol of the nearest reference beat within ``tolerance`` samples, else ''."""
    matched = np.full(len(peaks), "", dtype=object)
    if len(reference) == 0 or len(peaks) == 0:
        return matched
    right = np.clip(np.searchsorted(reference, peaks), 0, len(reference) - 1)
    left = np.clip(right - 1, 0, len(reference) - 1)
    nearest = np.where(np.abs(reference[left] - peaks) <= np.abs(reference[right] - peaks), left, right)
    close = np.abs(reference[nearest] - peaks) <= tolerance
    matched[close] = np.asarray(symbols, dtype=object)[nearest[close]]
    return matched


def _load_records(where, directory, records, leads, sampfrom, sampto, fs, extension, annotations, preprocess):
    """Read every record and its annotations (``annotations``: "required", "optional" or "none").

    ``where`` (the public function's name) starts the messages.  ``preprocess``
    (a transformer or None) is applied to each whole record, see :func:`_read_one`.

    Returns the folder, the record names, ``{name: (record, annotation or None)}``
    and the output sampling rate (``fs``, else the records' common rate).
    """
    directory, names, fs = _record_names(where, directory, records, fs)
    loaded = {}
    for name in names:
        record = _read_one(where, directory / name, leads, sampfrom, sampto, fs, preprocess)
        loaded[name] = (record, _read_annotations(directory / name, record, extension, annotations))
    rates = {name: record.fs for name, (record, _) in loaded.items()}
    return directory, names, loaded, _common_rate(fs, rates)


def _record_names(where, directory, records, fs):
    """The folder as a path, the checked record names (``records``, or all of the folder) and ``fs``."""
    directory = Path(directory)
    if fs is not None:
        fs = check_rate(fs, "fs", where)
    if records is None:
        names = list_records(directory)
        if not names:
            raise ValueError(f"no wfdb records (no RECORDS file, no .hea files) in {directory}")
        return directory, names, fs
    if isinstance(records, (str, Integral, PurePath)):
        records = [records]
    names = [str(r) for r in records]
    if not names:
        raise ValueError(f"{where}: records= is empty; pass None to read every record in {directory}.")
    for name in names:
        check_record_name(name, directory, "records=")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{where}: records= lists the record(s) {repeated} more than once.")
    return directory, names, fs


def _read_one(where, base, leads, sampfrom, sampto, fs, preprocess):
    """One record's signals, its resampling ratio to ``fs`` checked, ``preprocess`` applied.

    ``preprocess`` is applied to the whole record, as a batch of one signal
    ``(1, n_leads, length)``; a record with NaN or infinite samples is refused
    then, since no filter can run across them.
    """
    record = read_record(base, leads=leads, sampfrom=sampfrom, sampto=sampto)
    if fs is not None and fs != record.fs:
        resample_ratio(record.fs, fs, where)  # refused before anything is computed
    if preprocess is not None:
        bad = np.argwhere(~np.isfinite(record.signal))
        if len(bad):
            raise ValueError(
                f"{where}: record {_sibling(base, 'hea')} has {len(bad)} NaN or infinite sample(s) "
                f"(lead off or invalid samples; the first in lead {record.lead_names[bad[0][0]]!r} at "
                f"sample {bad[0][1] + record.sampfrom}), and preprocess= cannot filter across them. "
                "Read it without preprocess= (the beats or windows that hold them are dropped) and "
                "transform the data set's X, or read a sample range without them."
            )
        record.signal = np.asarray(clone(preprocess).fit_transform(record.signal[np.newaxis]))[0]
    return record


def _read_annotations(base, record, extension, annotations):
    """The record's annotations checked against its length; None when not wanted or (optional) missing."""
    if annotations == "none":
        return None
    try:
        ann = read_annotation(base, extension)
    except FileNotFoundError:
        if annotations == "required":
            raise
        return None
    check_annotation_fits(ann, record.record_length, _sibling(base, extension))
    return ann


def _common_rate(fs, rates):
    """``fs``, else the one rate of ``{name: rate}``; a ``ValueError`` when the records differ."""
    if fs is not None:
        return fs
    if len(set(rates.values())) > 1:
        raise ValueError(f"the records have different sampling rates {rates}; pass fs= to resample them to one.")
    return next(iter(rates.values()))


def _to_rate(record, out_fs, where):
    """The record's signal at ``out_fs`` and a function mapping its sample indices there."""
    if out_fs == record.fs:
        return record.signal, lambda index: np.asarray(index, dtype=np.int64)
    up, down = resample_ratio(record.fs, out_fs, where)
    signal = resample_signal(record.signal, record.fs, out_fs, axis=-1, where=where)
    return signal, lambda index: np.round(np.asarray(index) * up / down).astype(np.int64)


def _lead_off(windows, where, record, what):
    """Which windows are usable; warn with the counts of those that are not.

    ``windows`` is an array ``(n, leads, T)`` or a list of ``(leads, T_i)`` arrays.

    A window is dropped when it holds a NaN or infinite sample (wfdb reads the
    signal format's invalid-sample value as NaN: the lead was off) or when a
    lead is flat, the same value throughout (a disconnected lead).
    """
    if len(windows) == 0:
        return np.ones(0, dtype=bool)
    if isinstance(windows, np.ndarray):
        finite = np.isfinite(windows).all(axis=(1, 2))
        flat = np.zeros(len(windows), dtype=bool)
        if windows.shape[2] > 1:
            flat[finite] = (np.ptp(windows[finite], axis=2) == 0).any(axis=1)
    else:
        finite = np.array([np.isfinite(w).all() for w in windows], dtype=bool)
        flat = np.array(
            [bool(f and w.shape[1] > 1 and (np.ptp(w, axis=1) == 0).any()) for f, w in zip(finite, windows)],
            dtype=bool,
        )
    keep = finite & ~flat
    if not keep.all():
        warnings.warn(
            f"{where}: dropped {int((~finite).sum())} of the {len(windows)} {what} of record {record} "
            f"that hold NaN or infinite samples and {int(flat.sum())} with a flat (constant) lead: "
            "the lead was off or its samples invalid.",
            UserWarning,
            stacklevel=3,
        )
    return keep


def _unique_beats(samples, symbols, annotation_file, offset, where):
    """Beat annotations in sample order, each sample once (the first annotation kept), with a warning."""
    order = np.argsort(samples, kind="stable")
    samples, symbols = samples[order], symbols[order]
    repeat = np.zeros(len(samples), dtype=bool)
    repeat[1:] = samples[1:] == samples[:-1]
    if repeat.any():
        kept = np.maximum.accumulate(np.where(repeat, 0, np.arange(len(samples))))
        differ = int(np.sum(symbols[repeat] != symbols[kept][repeat]))
        warnings.warn(
            f"{where}: {annotation_file} has {int(repeat.sum())} duplicate beat annotation(s), a second beat "
            f"at the same sample (the first at sample {samples[repeat][0] + offset}; {differ} with another "
            "symbol); dropped, the first annotation of each sample kept.",
            UserWarning,
            stacklevel=3,
        )
    return samples[~repeat], symbols[~repeat]


def _stack(parts, names):
    leads = {name: part.shape[1] for name, part in zip(names, parts)}
    if len(set(leads.values())) > 1:
        raise ValueError(
            f"the records have different numbers of leads {leads}; choose the same leads with leads=."
        )
    return np.concatenate(parts, axis=0).astype(np.float32, copy=False)


def _cut(signal, starts, length):
    """Windows ``signal[:, s:s+length]`` for each start, as (n, leads, length)."""
    index = np.asarray(starts, dtype=np.int64)[:, None] + np.arange(length)
    return signal[:, index].transpose(1, 0, 2)


def _check_seconds(where, **values):
    """Raise a ``ValueError`` unless every value is a finite real number of seconds."""
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real) or not np.isfinite(value):
            raise ValueError(f"{where}: {name} must be a finite number of seconds; got {value!r}.")


def load_beats(
    directory,
    records=None,
    *,
    before=0.25,
    after=0.45,
    fs=None,
    leads=None,
    label_map=None,
    r_peaks="auto",
    detector="xqrs",
    rr_local=10,
    annotation="atr",
    sampfrom=0,
    sampto=None,
    preprocess=None,
):
    """A beat data set: one window around each R peak of each record.

    Each beat is the window ``[R - before, R + after)`` seconds of the selected
    leads, labelled through ``label_map`` from its annotation symbol.  R peaks
    are the record's beat annotations (symbols in :data:`BEAT_SYMBOLS`; rhythm,
    noise and other non-beat annotations are ignored), or come from wfdb's QRS
    detector.  RR features are measured between all beats of a record, also
    those the label map leaves out.  Dropped: beats whose symbol the map does
    not know, the first and the last beat of each record (no previous or next
    RR interval) and beats whose window does not fit inside the record.

    Also dropped, with a ``UserWarning`` that gives the count and the record:
    beats whose window holds NaN or infinite samples (wfdb reads a lead-off
    stretch, the format's invalid-sample value, as NaN) or has a flat lead
    (one value throughout: a disconnected lead), and repeated beat annotations
    (two at the same sample: the first in the file is kept).  When no beat is
    left at all, a ``ValueError`` gives the counts of each record.

    Parameters
    ----------
    directory : str or path
        Folder of wfdb records.
    records : sequence of str or int, default=None
        Records to read.  None: those in the folder's ``RECORDS`` file, else
        every ``.hea`` file.  Names are paths inside ``directory``; absolute
        paths and names that leave it (``../x``), in ``RECORDS`` or here, are
        refused with a ``ValueError``.
    before, after : float, default=0.25, 0.45
        Window before and after the R peak, in seconds; rounded to samples at
        the output rate, so the R peak sits at index ``window[0]``.
    fs : float, default=None
        Output sampling rate: each record is resampled with
        :func:`scipy.signal.resample_poly` before the windows are cut (the
        ratio as checked by :func:`~sklearn_autonet.ecg.preprocessing.resample_ratio`).
        None: the records' own rate (which must then be the same for all).
    leads : str, int or sequence of them, default=None
        Leads to keep, by name (``"MLII"``) or index.  None: all.  Every record
        must end up with the same number of leads.
    label_map : mapping of str to label, default=None
        Annotation symbol -> class label.  None: :data:`AAMI_MAP` (N, S, V, F, Q).
    r_peaks : {"auto", "reference", "detect"}, default="auto"
        ``"reference"``: the beat annotations (an error when a record has none).
        ``"detect"``: wfdb's QRS detector on the first selected lead; a detected
        beat takes the symbol of the reference beat within 150 ms, else ''.
        ``"auto"``: the annotations, the detector for records without any.
    detector : {"xqrs", "gqrs"}, default="xqrs"
        QRS detector, see :func:`detect_r_peaks`.
    rr_local : int, default=10
        RR intervals averaged into the ``rr_local`` feature.
    annotation : str, default="atr"
        Annotation file extension.
    sampfrom, sampto : int, default=0, None
        Sample range of each record to read (at its own rate).
    preprocess : transformer, default=None
        Applied to each whole record (as one signal ``(1, n_leads, length)``, at
        the record's own rate) before the windows are cut, e.g.
        ``BandpassFilter(0.5, 40, sampling_rate=360)``: filtering whole records
        avoids the edge effects of filtering short windows.  A record with NaN
        or infinite samples (lead off) is refused then: no filter runs across them.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        - ``X`` (n_beats, n_leads, window[0] + window[1]) float32, physical units;
        - ``y`` (n_beats,) labels (``''`` for detected beats without a match);
        - ``groups`` (n_beats,) record name of each beat, for ``groups=`` /
          :class:`~sklearn.model_selection.GroupKFold`;
        - ``rr`` (n_beats, 8) float64 and ``rr_feature_names``, see
          :func:`rr_features`: four intervals in seconds and the same divided
          by the mean RR of the record's range read (so read whole records);
        - ``fs``, ``window`` (samples before, after), ``class_names`` (the label
          map's classes), ``lead_names`` (per record), ``records``;
        - ``r_peaks`` (sample index in the record, at its own rate) and
          ``symbols`` (annotation symbol) of each beat, ``detected`` (per
          record: whether the QRS detector gave its R peaks).

    Examples
    --------
    >>> from sklearn_autonet.ecg import load_beats
    >>> beats = load_beats("shared/data/mitdb_wfdb", ["208"], leads="MLII")  # doctest: +SKIP
    >>> beats.X.shape, sorted(set(beats.y))                                  # doctest: +SKIP
    ((2953, 1, 252), ['F', 'N', 'Q', 'S', 'V'])
    """
    where = "load_beats"
    if r_peaks not in ("auto", "reference", "detect"):
        raise ValueError(f"r_peaks must be 'auto', 'reference' or 'detect'; got {r_peaks!r}.")
    if detector not in DETECTORS:
        raise ValueError(f"detector must be one of {DETECTORS}; got {detector!r}.")
    _check_seconds(where, before=before, after=after)
    if before < 0 or after < 0 or before + after <= 0:
        raise ValueError(f"before and after must be >= 0 with a positive sum; got {before}, {after}.")
    label_map = AAMI_MAP if label_map is None else check_label_map(label_map)
    wanted = "required" if r_peaks == "reference" else "optional"
    directory, names, loaded, out_fs = _load_records(
        where, directory, records, leads, sampfrom, sampto, fs, annotation, wanted, preprocess
    )
    n_before, n_after = int(round(before * out_fs)), int(round(after * out_fs))
    if n_before + n_after < 1:
        raise ValueError(
            f"{where}: the beat window before={before} s, after={after} s is shorter than one sample "
            f"at {out_fs:g} Hz."
        )

    parts = {key: [] for key in ("X", "y", "rr", "peaks", "symbols", "groups")}
    detected, counts = {}, {}
    for name, (record, ann) in loaded.items():
        length = record.signal.shape[1]
        ref_peaks, ref_symbols = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
        annotation_file = _sibling(directory / name, annotation)
        if ann is not None:
            samples = np.asarray(ann.sample, dtype=np.int64) - record.sampfrom
            symbols = np.asarray(ann.symbol, dtype=object)
            beat = np.isin(symbols, list(BEAT_SYMBOLS)) & (samples >= 0) & (samples < length)
            ref_peaks, ref_symbols = _unique_beats(
                samples[beat], symbols[beat], annotation_file, record.sampfrom, where
            )
        if r_peaks == "reference" and len(ref_peaks) == 0:
            raise ValueError(f"{annotation_file} has no beat annotations in the range read.")
        detected[name] = r_peaks == "detect" or len(ref_peaks) == 0
        if detected[name]:
            bad = np.flatnonzero(~np.isfinite(record.signal[0]))
            if len(bad):
                raise ValueError(
                    f"{where}: record {_sibling(directory / name, 'hea')} needs the QRS detector "
                    f"(r_peaks={r_peaks!r}{'' if r_peaks == 'detect' else ', no beat annotations'}), but its "
                    f"lead {record.lead_names[0]!r} has {len(bad)} NaN or infinite sample(s) (lead off), the "
                    f"first at sample {bad[0] + record.sampfrom}; the detector needs a finite signal: read a "
                    "sample range without them, or use the record's beat annotations."
                )
            peaks = detect_r_peaks(record.signal[0], record.fs, detector)
            symbols = _match_symbols(peaks, ref_peaks, ref_symbols, MATCH_WINDOW * record.fs)
            labels = np.array([label_map.get(s, "") for s in symbols], dtype=object)
            known = np.ones(len(peaks), dtype=bool)
        else:
            peaks, symbols = ref_peaks, ref_symbols
            labels, known = map_symbols(symbols, label_map)
        if len(peaks) >= 2:
            rr = rr_features(peaks, record.fs, rr_local)[0]
        else:
            rr = np.full((len(peaks), len(RR_FEATURE_NAMES)), np.nan)
        signal, to_rate = _to_rate(record, out_fs, where)
        position = to_rate(peaks)
        keep = (
            known
            & np.isfinite(rr[:, 0])
            & np.isfinite(rr[:, 1])
            & (position - n_before >= 0)
            & (position + n_after <= signal.shape[1])
        )
        windows = _cut(signal, position[keep] - n_before, n_before + n_after)
        usable = _lead_off(windows, where, _sibling(directory / name, "hea"), "beats")
        counts[name] = (len(peaks), int(keep.sum()), int((~usable).sum()))
        keep[np.flatnonzero(keep)[~usable]] = False
        parts["X"].append(windows[usable])
        parts["y"].append(labels[keep])
        parts["rr"].append(rr[keep])
        parts["peaks"].append(peaks[keep] + record.sampfrom)
        parts["symbols"].append(symbols[keep])
        parts["groups"].append(np.full(int(keep.sum()), name, dtype=object))

    if sum(len(x) for x in parts["X"]) == 0:
        raise ValueError(
            f"{where}: no beats left in {directory} (window [R - {n_before}, R + {n_after}) samples at "
            f"{out_fs:g} Hz). Per record: "
            + "; ".join(
                f"{name}: {found} beats, {fit} with a known label, both RR intervals and a window inside "
                f"the range read, {off} of those dropped for lead off"
                for name, (found, fit, off) in counts.items()
            )
            + "."
        )
    return Bunch(
        X=_stack(parts["X"], names),
        y=np.asarray(np.concatenate(parts["y"]).tolist()),
        groups=np.concatenate(parts["groups"]).astype(str),
        rr=np.concatenate(parts["rr"], axis=0),
        rr_feature_names=RR_FEATURE_NAMES,
        fs=out_fs,
        window=(n_before, n_after),
        class_names=class_names(label_map),
        lead_names={name: rec.lead_names for name, (rec, _) in loaded.items()},
        records=tuple(names),
        r_peaks=np.concatenate(parts["peaks"]),
        symbols=np.concatenate(parts["symbols"]).astype(str),
        detected=detected,
    )


def rhythm_labels(annotation, starts, length, offset=0):
    """The rhythm in force over most of each window.

    Rhythm changes are the ``'+'`` annotations; their ``aux_note`` names the
    new rhythm (``'(N'``, ``'(AFIB'``, ...; returned without the parenthesis).
    Before the first one the rhythm is ``''``.

    Parameters
    ----------
    annotation : wfdb.Annotation
        A record's annotations.
    starts : array-like of int
        Window starts, in samples relative to ``offset``.
    length : int
        Window length in samples.
    offset : int, default=0
        Sample of the record where ``starts`` count from.

    Returns
    -------
    labels : ndarray of str, shape (n_windows,)
    """
    samples, codes = rhythm_changes(annotation)
    begin = np.concatenate([[-np.inf], samples.astype(np.float64) - offset])
    names = [""] + codes.tolist()
    end = np.concatenate([begin[1:], [np.inf]])
    a = np.asarray(starts, dtype=np.float64)[:, None]
    overlap = np.clip(np.minimum(a + length, end) - np.maximum(a, begin), 0, None)
    return np.asarray(names)[np.argmax(overlap, axis=1)]


def load_windows(
    directory,
    records=None,
    *,
    length=10.0,
    step=None,
    fs=None,
    leads=None,
    label="rhythm",
    label_map=None,
    annotation="atr",
    sampfrom=0,
    sampto=None,
    preprocess=None,
):
    """A window data set: fixed-length segments of whole records.

    Parameters
    ----------
    directory : str or path
        Folder of wfdb records.
    records : sequence of str or int, default=None
        Records to read; None: all, as in :func:`load_beats`.
    length : float, default=10.0
        Window length in seconds.
    step : float, default=None
        Distance between window starts in seconds; None: ``length`` (windows
        side by side).  A partial window at the end is dropped.  Windows that
        hold NaN or infinite samples or have a flat lead (lead off) are dropped
        with a ``UserWarning`` giving the count and the record, as is a record
        shorter than one window; when no window is left, a ``ValueError``.
    fs : float, default=None
        Output sampling rate (records resampled with
        :func:`scipy.signal.resample_poly`); None: the records' own, common rate.
    leads : str, int or sequence of them, default=None
        Leads to keep, by name or index; None: all.
    label : "rhythm", "beats", callable or None, default="rhythm"
        ``"rhythm"``: the rhythm annotation in force over most of the window
        (see :func:`rhythm_labels`; needs the annotation file).  ``"beats"``:
        the beat classes the window holds, as a multi-label indicator matrix
        (see :func:`~sklearn_autonet.ecg.labels.beat_indicator`: a beat counts
        in the window that holds its annotated R peak).  A callable
        ``label(annotation, start, stop)`` gets the record's wfdb annotation (or
        None when it has none) and the window's sample range in the record at
        its own rate, and returns the label.  None: ``y`` is None.
    label_map : mapping of str to label, default=None
        With ``label="beats"``: beat symbol -> class, one column per class.
        None: :data:`AAMI_MAP` (columns N, S, V, F, Q).
    annotation : str, default="atr"
        Annotation file extension.
    sampfrom, sampto : int, default=0, None
        Sample range of each record to read (at its own rate).
    preprocess : transformer, default=None
        Applied to each whole record (as one signal ``(1, n_leads, length)``, at
        the record's own rate) before the windows are cut, e.g.
        ``BandpassFilter(0.5, 40, sampling_rate=360)``: filtering whole records
        avoids the edge effects of filtering short windows.  A record with NaN
        or infinite samples is refused then.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``X`` (n_windows, n_leads, round(length * fs)) float32, ``y``
        ((n_windows,), or (n_windows, n_classes) 0/1 for ``label="beats"``),
        ``groups`` (record names), ``starts`` (first sample of each window in
        its record, at the record's rate), ``fs``, ``class_names`` (the sorted
        labels; for ``"beats"`` the columns' classes, every class of the map,
        also those no window holds), ``lead_names`` (per record), ``records``.

    Examples
    --------
    >>> from sklearn_autonet.ecg import load_windows
    >>> data = load_windows("shared/data/mitdb_wfdb", ["232"], length=10)  # doctest: +SKIP
    >>> data.X.shape, set(data.y.tolist())                                 # doctest: +SKIP
    ((180, 2, 3600), {'SBR'})
    >>> beats = load_windows("shared/data/mitdb", ["208", "213"], length=10, step=5,
    ...                      label="beats")                                   # doctest: +SKIP
    >>> beats.y.shape, beats.class_names, beats.y.sum(axis=0).tolist()      # doctest: +SKIP
    ((720, 5), ('N', 'S', 'V', 'F', 'Q'), [720, 49, 552, 503, 4])
    """
    where = "load_windows"
    if not (label is None or callable(label) or label in ("rhythm", "beats")):
        raise ValueError(f"label must be 'rhythm', 'beats', a callable or None; got {label!r}.")
    if label_map is not None and not (isinstance(label, str) and label == "beats"):
        raise ValueError(f"{where}: label_map= maps beat symbols to classes for label='beats'; got label={label!r}.")
    beat_map = AAMI_MAP if label_map is None else check_label_map(label_map)
    _check_seconds(where, length=length, step=step)
    if not length > 0 or (step is not None and not step > 0):
        raise ValueError(f"length and step must be positive; got {length!r}, {step!r}.")
    wanted = "none" if label is None else ("optional" if callable(label) else "required")
    directory, names, loaded, out_fs = _load_records(
        where, directory, records, leads, sampfrom, sampto, fs, annotation, wanted, preprocess
    )
    out_length = int(round(length * out_fs))
    if out_length < 1:
        raise ValueError(f"{where}: length={length} s is shorter than one sample at {out_fs:g} Hz.")

    X, y, groups, starts_all, counts = [], [], [], [], {}
    for name, (record, ann) in loaded.items():
        n_samples = record.signal.shape[1]
        header_file = _sibling(directory / name, "hea")
        native_length = int(round(length * record.fs))
        native_step = int(round((length if step is None else step) * record.fs))
        if native_length < 1 or native_step < 1:
            raise ValueError(
                f"{where}: length={length} s and step={step} s must each be at least one sample at the "
                f"{record.fs:g} Hz of record {header_file}."
            )
        if native_length > n_samples:
            warnings.warn(
                f"{where}: record {header_file} gives no windows: the range read has {n_samples} samples "
                f"({n_samples / record.fs:g} s), shorter than one window of {native_length} samples "
                f"({length} s).",
                UserWarning,
                stacklevel=2,
            )
        starts = np.arange(0, max(n_samples - native_length + 1, 0), native_step)
        signal, to_rate = _to_rate(record, out_fs, where)
        position = to_rate(starts)
        keep = position + out_length <= signal.shape[1]
        starts, position = starts[keep], position[keep]
        windows = _cut(signal, position, out_length)
        usable = _lead_off(windows, where, header_file, "windows")
        counts[name] = (len(starts), int((~usable).sum()))
        starts = starts[usable]
        X.append(windows[usable])
        if label == "rhythm":
            y.append(rhythm_labels(ann, starts, native_length, offset=record.sampfrom))
        elif label == "beats":
            y.append(beat_indicator(ann, starts, native_length, offset=record.sampfrom, label_map=beat_map)[0])
        elif label is not None:
            absolute = starts + record.sampfrom
            y.append(np.asarray([label(ann, int(s), int(s) + native_length) for s in absolute]))
        groups.append(np.full(len(starts), name))
        starts_all.append(starts + record.sampfrom)

    if sum(len(x) for x in X) == 0:
        raise ValueError(
            f"{where}: no windows of {length} s left in {directory}. Per record: "
            + "; ".join(f"{name}: {found} windows, {off} dropped for lead off" for name, (found, off) in counts.items())
            + "."
        )
    y_all = None if label is None else np.concatenate(y)
    return Bunch(
        X=_stack(X, names),
        y=y_all,
        groups=np.concatenate(groups),
        starts=np.concatenate(starts_all),
        fs=out_fs,
        class_names=(
            class_names(beat_map)
            if label == "beats"
            else None if y_all is None else tuple(np.unique(y_all).tolist())
        ),
        lead_names={name: rec.lead_names for name, (rec, _) in loaded.items()},
        records=tuple(names),
    )
