"""Labels read from wfdb annotations: beat symbols, the AAMI EC57 class map, rhythm changes."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..input_checks import check_labels

#: AAMI EC57 heartbeat classes, in their usual order.
AAMI_CLASSES = ("N", "S", "V", "F", "Q")

#: MIT-BIH beat symbol -> AAMI EC57 class (de Chazal et al. 2004, AAMI EC57:2012).
AAMI_MAP = {
    **dict.fromkeys("NLRej", "N"),
    **dict.fromkeys("AaJS", "S"),
    **dict.fromkeys("VE", "V"),
    "F": "F",
    **dict.fromkeys("/fQ", "Q"),
}

#: Annotation symbols that mark a QRS complex (a beat), as in PhysioNet's annotation
#: codes.  Everything else ('+' rhythm change, '~' noise, '|' artefact, '!' flutter
#: wave, 'x' blocked P wave, ...) is not a beat: it is neither a sample nor an RR end.
BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ")

#: Rhythm codes of the MIT-BIH Arrhythmia Database (the ``aux_note`` of its ``'+'``
#: annotations, without the opening parenthesis) and what they mean.
RHYTHM_CODES = {
    "AB": "atrial bigeminy",
    "AFIB": "atrial fibrillation",
    "AFL": "atrial flutter",
    "B": "ventricular bigeminy",
    "BII": "2nd degree heart block",
    "IVR": "idioventricular rhythm",
    "N": "normal sinus rhythm",
    "NOD": "nodal (A-V junctional) rhythm",
    "P": "paced rhythm",
    "PREX": "pre-excitation (WPW)",
    "SBR": "sinus bradycardia",
    "SVTA": "supraventricular tachyarrhythmia",
    "T": "ventricular trigeminy",
    "VFL": "ventricular flutter",
    "VT": "ventricular tachycardia",
}


def check_label_map(label_map, name="label_map"):
    """Check a symbol -> label map and return it as a dict.

    Parameters
    ----------
    label_map : mapping of str to label, or iterable of (symbol, label) pairs
        Annotation symbol -> class label.
    name : str, default="label_map"
        Name used in the messages.

    Returns
    -------
    label_map : dict

    Raises
    ------
    TypeError
        When it is not a mapping (nor pairs that ``dict`` accepts).
    ValueError
        When it is empty, or its labels are missing (None, NaN) or of mixed
        types (``{"N": 0, "V": "ventricular"}``), see
        :func:`~sklearn_autonet.input_checks.check_labels`.

    Examples
    --------
    >>> from sklearn_autonet.ecg.labels import check_label_map
    >>> check_label_map({"N": 0, "V": 1})
    {'N': 0, 'V': 1}
    >>> check_label_map({"N": 0, "V": "V"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: label_map mixes label types (number, str), e.g. 0 and 'V'; use one type for all ...
    """
    if not isinstance(label_map, Mapping):
        try:
            label_map = dict(label_map)
        except (TypeError, ValueError):
            raise TypeError(
                f"{name} must be a mapping of annotation symbol -> class label, like {{'N': 0, 'V': 1}}; "
                f"got {type(label_map).__name__}."
            ) from None
    label_map = dict(label_map)
    if not label_map:
        raise ValueError(f"{name} is empty: it must map at least one annotation symbol to a class label.")
    check_labels(np.array(list(label_map.values()) + [None], dtype=object)[:-1], name=name)
    return label_map


def class_names(label_map: Mapping[str, object]) -> tuple:
    """The distinct labels of ``label_map``, in the order they first appear.

    Parameters
    ----------
    label_map : mapping of str to label
        Annotation symbol -> class label.

    Returns
    -------
    names : tuple
        Each label once.

    Examples
    --------
    >>> from sklearn_autonet.ecg import AAMI_MAP, class_names
    >>> class_names(AAMI_MAP)
    ('N', 'S', 'V', 'F', 'Q')
    """
    return tuple(dict.fromkeys(label_map.values()))


def map_symbols(symbols, label_map: Mapping[str, object] | None = None):
    """Labels of annotation symbols, and which symbols the map knows.

    Parameters
    ----------
    symbols : sequence of str
        Annotation symbols, e.g. ``wfdb.rdann(...).symbol``.
    label_map : mapping of str to label, default=None
        Symbol -> label.  None: :data:`AAMI_MAP`.

    Returns
    -------
    labels : ndarray of shape (n_symbols,), dtype object
        The label of each symbol, None where the map has no entry.
    known : ndarray of shape (n_symbols,), dtype bool
        True where the map has an entry.

    Examples
    --------
    >>> from sklearn_autonet.ecg import map_symbols
    >>> labels, known = map_symbols(["N", "A", "+", "V", "/"])
    >>> labels.tolist(), known.tolist()
    (['N', 'S', None, 'V', 'Q'], [True, True, False, True, True])
    """
    label_map = AAMI_MAP if label_map is None else check_label_map(label_map)
    labels = np.array([label_map.get(s) for s in symbols], dtype=object)
    known = np.array([s in label_map for s in symbols], dtype=bool)
    return labels, known


def rhythm_code(note):
    """The rhythm code of an ``aux_note``: ``'(AFIB\\x00'`` -> ``'AFIB'``, ``''`` when there is none.

    Parameters
    ----------
    note : str or None
        An annotation's ``aux_note``.

    Returns
    -------
    code : str

    Examples
    --------
    >>> from sklearn_autonet.ecg.labels import rhythm_code
    >>> rhythm_code("(AFIB\\x00"), rhythm_code(None)
    ('AFIB', '')
    """
    return str(note or "").strip("\x00 ").lstrip("(")


def rhythm_changes(annotation):
    """Where a record's rhythm changes, and to what.

    Rhythm changes are the ``'+'`` annotations with a non-empty ``aux_note``
    (``'(N'``, ``'(AFIB'``, ...); each starts an episode that lasts until the
    next one.

    Parameters
    ----------
    annotation : wfdb.Annotation
        A record's annotations.

    Returns
    -------
    samples : ndarray of int64
        Sample of each rhythm change, in increasing order (ties keep the file's order).
    codes : ndarray of str
        The new rhythm's code, see :func:`rhythm_code`.
    """
    symbols = np.asarray(annotation.symbol, dtype=object)
    notes = annotation.aux_note if annotation.aux_note is not None else [""] * len(symbols)
    codes = np.array([rhythm_code(n) for n in notes], dtype=object)
    change = (symbols == "+") & (codes != "")
    samples = np.asarray(annotation.sample, dtype=np.int64)[change]
    order = np.argsort(samples, kind="stable")
    return samples[order], codes[change][order].astype(str)


def beat_indicator(annotation, starts, length, offset=0, label_map=None):
    """Which beat classes each window holds, as a 0/1 indicator matrix.

    A beat belongs to a window when its annotation sample (the R peak) lies in
    ``[start, start + length)``: a beat whose QRS straddles the window's edge
    counts in the window that holds its R peak.  Annotations that are not
    beats (:data:`BEAT_SYMBOLS`) and beats whose symbol ``label_map`` does not
    know are not counted.

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
    label_map : mapping of str to label, default=None
        Beat symbol -> class.  None: :data:`AAMI_MAP`.

    Returns
    -------
    indicator : ndarray of shape (n_windows, n_classes), dtype int64
        1 where the window holds a beat of the class.  A window without
        beats has a row of zeros.
    classes : tuple
        The columns' classes, :func:`class_names` of the map (all of them,
        also those no window holds, so that data sets read separately agree).
    """
    label_map = AAMI_MAP if label_map is None else check_label_map(label_map)
    classes = class_names(label_map)
    symbols = np.asarray(annotation.symbol, dtype=object)
    samples = np.asarray(annotation.sample, dtype=np.int64) - offset
    starts = np.asarray(starts, dtype=np.int64)
    indicator = np.zeros((len(starts), len(classes)), dtype=np.int64)
    is_beat = np.isin(symbols, list(BEAT_SYMBOLS))
    for column, name in enumerate(classes):
        members = [symbol for symbol, label in label_map.items() if label == name]
        peaks = np.sort(samples[is_beat & np.isin(symbols, members)])
        inside = np.searchsorted(peaks, starts + length) - np.searchsorted(peaks, starts)
        indicator[:, column] = inside > 0
    return indicator, classes
