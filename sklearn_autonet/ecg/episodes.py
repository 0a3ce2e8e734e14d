"""Rhythm episodes of wfdb records as a data set of variable-length signals.

A rhythm annotation (``'+'`` with an ``aux_note`` such as ``'(AFIB'``) starts
an episode that lasts until the next one; each episode becomes one record of
its own length, labelled with its rhythm.  Reading, checks and resampling are
those of :mod:`sklearn_autonet.ecg.records`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
from sklearn.utils import Bunch

from .labels import RHYTHM_CODES, check_label_map, class_names, rhythm_changes, rhythm_code
from .records import (
    _check_seconds,
    _common_rate,
    _lead_off,
    _read_one,
    _record_names,
    _sibling,
    _to_rate,
    check_annotation_fits,
    read_annotation,
)


def _rhythm_map(rhythms):
    """``rhythms=`` as a ``{code: class}`` dict, or None for every code as its own class."""
    if rhythms is None:
        return None
    if isinstance(rhythms, str):
        rhythms = [rhythms]
    if isinstance(rhythms, Mapping):
        mapping = check_label_map(rhythms, name="rhythms")
    else:
        try:
            codes = list(rhythms)
        except TypeError:
            raise TypeError(
                "rhythms must be None, a rhythm code ('AFIB'), a list of codes or a mapping of code -> "
                f"class (like {{'AFIB': 'AF', 'AFL': 'AF', 'N': 'N'}}); got {type(rhythms).__name__}."
            ) from None
        if not codes:
            raise ValueError("rhythms is empty: name at least one rhythm code, or pass None for all.")
        mapping = {code: rhythm_code(code) if isinstance(code, str) else code for code in codes}
    bad = [code for code in mapping if not isinstance(code, str) or not rhythm_code(code)]
    if bad:
        raise ValueError(f"rhythms names {bad!r}: rhythm codes are non-empty strings like 'AFIB' or 'N'.")
    return {rhythm_code(code): label for code, label in mapping.items()}


def _check_lengths(where, min_length, max_length):
    _check_seconds(where, min_length=min_length, max_length=max_length)
    for name, value in (("min_length", min_length), ("max_length", max_length)):
        if value is not None and value <= 0:
            raise ValueError(f"{where}: {name} must be a positive number of seconds or None; got {value!r}.")
    if min_length is not None and max_length is not None and min_length > max_length:
        raise ValueError(f"{where}: min_length={min_length} s is longer than max_length={max_length} s.")


def _episodes_of(where, name, annotation_file, ann, sampfrom, stop):
    """The episodes ``(start, end, code, index)`` of one record, cut to the range ``[sampfrom, stop)`` read."""
    samples, codes = rhythm_changes(ann)
    ends = np.append(samples[1:], stop)
    empty = np.flatnonzero((ends == samples) & (samples >= sampfrom) & (samples < stop))
    if len(empty):
        first = empty[0]
        raise ValueError(
            f"{where}: record {name}: {annotation_file} has {len(empty)} empty (zero-length) rhythm "
            f"episode(s): two rhythm changes at one sample, the first at sample {samples[first]} "
            f"({str(codes[first])!r} then {str(codes[first + 1])!r}), so which rhythm holds there is unknown. "
            "Remove the wrong annotation from the file, or read a sample range without it (sampfrom=, sampto=)."
        )
    starts, ends = np.maximum(samples, sampfrom), np.minimum(ends, stop)
    inside = ends > starts
    return starts[inside], ends[inside], codes[inside], np.flatnonzero(inside)


def _pieces(start, end, max_samples):
    """Boundaries splitting ``[start, end)`` into ``ceil(n / max_samples)`` pieces of equal length (±1)."""
    n = end - start
    k = 1 if max_samples is None else max(1, -(-n // max_samples))
    return start + (n * np.arange(k + 1)) // k


def load_episodes(
    directory,
    records=None,
    *,
    rhythms=None,
    min_length=None,
    max_length=None,
    fs=None,
    leads=None,
    annotation="atr",
    sampfrom=0,
    sampto=None,
    preprocess=None,
):
    """Rhythm episodes of wfdb records: one variable-length signal per episode, labelled by its rhythm.

    Each rhythm annotation (``'+'`` with an ``aux_note`` such as ``'(AFIB'``)
    starts an episode that lasts until the next rhythm annotation, or the end
    of the record; so no episode crosses a rhythm change.  The stretch before
    a record's first rhythm annotation has no rhythm and is left out.  Each
    record is read, resampled and preprocessed whole, then cut into episodes,
    one record at a time; the episodes are separate float32 arrays (no array
    of the whole collection padded to its longest episode is ever built).

    Parameters
    ----------
    directory : str or path
        Folder of wfdb records.
    records : sequence of str or int, default=None
        Records to read.  A record named here must have rhythm annotations
        (else a ``ValueError``).  None: every record of the folder
        (``RECORDS`` file, else ``*.hea``); those without rhythm annotations
        or without an annotation file are skipped with a ``UserWarning`` that
        gives their number and names.
    rhythms : str, sequence of str or mapping, default=None
        Which rhythm codes (the ``aux_note`` without ``'('``; ``'(AFIB'`` is
        accepted too) to keep.  A sequence keeps those codes as the classes; a
        mapping code -> class also renames or merges them, e.g.
        ``{"AFIB": "AF", "AFL": "AF", "N": "N"}``.  None: every rhythm, each
        its own class.  A code that is neither one of :data:`RHYTHM_CODES`
        nor found in the records read is refused (a misspelling).
    min_length : float, default=None
        Episodes shorter than this many seconds (in the range read) are left
        out.  None: every non-empty episode is kept.
    max_length : float, default=None
        Episodes longer than this many seconds are split into ``k = ceil(length
        / max_length)`` consecutive pieces of equal length (±1 sample), each at
        most ``max_length`` and longer than ``max_length / 2``; ``episode``
        tells which pieces came from one episode.  ``min_length`` applies to
        the episode before it is split.  None: episodes are kept whole.
    fs : float, default=None
        Output sampling rate (records resampled with
        :func:`scipy.signal.resample_poly`); None: the records' own, common rate.
    leads : str, int or sequence of them, default=None
        Leads to keep, by name or index; None: all.  Every record must end up
        with the same number of leads.
    annotation : str, default="atr"
        Annotation file extension.
    sampfrom, sampto : int, default=0, None
        Sample range of each record to read (at its own rate); episodes that
        reach outside it are cut at its ends.
    preprocess : transformer, default=None
        Applied to each whole record (as one signal ``(1, n_leads, length)``)
        before it is cut into episodes, e.g. ``BandpassFilter(0.5, 40,
        sampling_rate=360)``.  A record with NaN or infinite samples is refused then.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        - ``X``: list of ``(n_leads, length_i)`` float32 arrays, one per episode
          (or piece), in physical units;
        - ``y`` (n_episodes,): the class (the code, or its class in ``rhythms``);
        - ``rhythm`` (n_episodes,): the annotated rhythm code;
        - ``groups`` (n_episodes,): the record of each episode, for
          :class:`~sklearn.model_selection.GroupKFold`;
        - ``start``, ``end`` (n_episodes,): the episode's samples ``[start,
          end)`` in its record, at the record's own rate (after resampling,
          the output piece boundaries mapped back, within a sample);
        - ``episode`` (n_episodes,): index of the episode's rhythm annotation
          among its record's rhythm annotations (shared by the pieces of a
          split episode);
        - ``fs``, ``class_names`` (the classes of ``rhythms``, or the sorted
          codes found), ``lead_names`` (per record), ``records`` (the records
          the episodes come from, or that were read), ``skipped`` (records left
          out for having no rhythm annotations).

    Raises
    ------
    ValueError
        For a rhythm code asked for that is unknown, an empty episode (two
        rhythm annotations at one sample), a record named in ``records``
        without rhythm annotations, or nothing left after the filters (the
        message gives the counts per record).  Episodes that hold NaN samples
        or a flat lead (lead off) are dropped with a ``UserWarning``.
    FileNotFoundError
        For a record named in ``records`` without an annotation file.

    Examples
    --------
    >>> from sklearn_autonet.ecg import load_episodes
    >>> data = load_episodes("shared/data/mitdb", ["201", "203"], rhythms={"AFIB": "AF", "N": "N"},
    ...                      min_length=5, max_length=60)                      # doctest: +SKIP
    >>> len(data.X), data.X[0].shape, data.class_names                         # doctest: +SKIP
    (64, (2, 19452), ('AF', 'N'))
    """
    where = "load_episodes"
    _check_lengths(where, min_length, max_length)
    wanted = _rhythm_map(rhythms)
    explicit = records is not None
    directory, names, fs = _record_names(where, directory, records, fs)

    annotations, skipped = {}, []
    for name in names:
        base = directory / name
        try:
            ann = read_annotation(base, annotation)
        except FileNotFoundError as exc:
            if explicit:
                raise FileNotFoundError(
                    f"{where}: record {name} has no annotation file, so no rhythm episodes ({exc}); leave it "
                    "out of records=, or name the annotation file's extension with annotation=."
                ) from None
            skipped.append(name)
            continue
        if not len(rhythm_changes(ann)[0]):
            if explicit:
                raise ValueError(
                    f"{where}: record {name} has no rhythm annotations ('+' annotations with a rhythm such as "
                    f"'(N' in their aux_note) in {_sibling(base, annotation)}; leave it out of records=."
                )
            skipped.append(name)
            continue
        annotations[name] = ann
    if skipped:
        if not annotations:
            raise ValueError(f"{where}: none of the {len(names)} records in {directory} has rhythm annotations.")
        warnings.warn(
            f"{where}: skipped {len(skipped)} of the {len(names)} records in {directory} that have no rhythm "
            f"annotations (or no .{annotation} file): {', '.join(skipped)}.",
            UserWarning,
            stacklevel=2,
        )

    found = sorted({str(code) for ann in annotations.values() for code in rhythm_changes(ann)[1]})
    if wanted is not None:
        unknown = [code for code in wanted if code not in RHYTHM_CODES and code not in found]
        if unknown:
            raise ValueError(
                f"{where}: rhythms= asks for the rhythm code(s) {unknown}, which are not MIT-BIH rhythm codes "
                f"({', '.join(RHYTHM_CODES)}) and occur in none of the records read; their codes are {found}. "
                "Check the spelling (codes are case-sensitive, without the '(')."
            )

    parts = {key: [] for key in ("y", "rhythm", "groups", "start", "end", "episode")}
    X, lead_names, rates, counts = [], {}, {}, {}
    for name, ann in annotations.items():
        record = _read_one(where, directory / name, leads, sampfrom, sampto, fs, preprocess)
        check_annotation_fits(ann, record.record_length, _sibling(directory / name, annotation))
        rates[name] = record.fs
        out_fs = _common_rate(fs, rates)
        lead_names[name] = record.lead_names
        n_leads = {name: len(lead) for name, lead in lead_names.items()}
        if len(set(n_leads.values())) > 1:
            raise ValueError(
                f"{where}: the records have different numbers of leads {n_leads}; choose the same leads "
                "with leads=."
            )
        stop = record.sampfrom + record.signal.shape[1]
        starts, ends, codes, index = _episodes_of(
            where, name, _sibling(directory / name, annotation), ann, record.sampfrom, stop
        )
        keep = np.ones(len(starts), dtype=bool) if wanted is None else np.isin(codes, list(wanted))
        n_wanted = int(keep.sum())
        if min_length is not None:
            keep &= (ends - starts) >= min_length * record.fs
        starts, ends, codes, index = starts[keep], ends[keep], codes[keep], index[keep]
        signal, to_rate = _to_rate(record, out_fs, where)
        max_samples = None if max_length is None else max(1, int(np.floor(max_length * out_fs)))
        pieces, bounds = [], []
        for start, end, code, i in zip(starts, ends, codes, index):
            first, last = to_rate([start - record.sampfrom, end - record.sampfrom])
            cuts = _pieces(int(first), int(min(last, signal.shape[1])), max_samples)
            native = start + ((end - start) * np.arange(len(cuts))) // (len(cuts) - 1)
            for j in range(len(cuts) - 1):
                pieces.append(np.array(signal[:, cuts[j] : cuts[j + 1]], dtype=np.float32))
                bounds.append((native[j], native[j + 1], code, i))
        usable = _lead_off(pieces, where, _sibling(directory / name, "hea"), "episodes")
        counts[name] = (len(rhythm_changes(ann)[0]), n_wanted, len(starts), int((~usable).sum()))
        for piece, (start, end, code, i), ok in zip(pieces, bounds, usable):
            if not ok:
                continue
            X.append(piece)
            parts["y"].append(code if wanted is None else wanted[code])
            parts["rhythm"].append(code)
            parts["groups"].append(name)
            parts["start"].append(start)
            parts["end"].append(end)
            parts["episode"].append(i)

    if not X:
        raise ValueError(
            f"{where}: no episodes left in {directory}. Per record: "
            + "; ".join(
                f"{name}: {total} rhythm annotations, {asked} episodes with a rhythm asked for, {long} of "
                f"those at least min_length={min_length} s, {off} pieces dropped for lead off"
                for name, (total, asked, long, off) in counts.items()
            )
            + "."
        )
    y = np.asarray(parts["y"])
    return Bunch(
        X=X,
        y=y,
        rhythm=np.asarray(parts["rhythm"], dtype=str),
        groups=np.asarray(parts["groups"], dtype=str),
        start=np.asarray(parts["start"], dtype=np.int64),
        end=np.asarray(parts["end"], dtype=np.int64),
        episode=np.asarray(parts["episode"], dtype=np.int64),
        fs=out_fs,
        class_names=tuple(np.unique(y).tolist()) if wanted is None else class_names(wanted),
        lead_names=lead_names,
        records=tuple(annotations),
        skipped=tuple(skipped),
    )
