"""Beat symbols of wfdb annotations and the AAMI EC57 class map."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

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
    label_map = AAMI_MAP if label_map is None else label_map
    labels = np.array([label_map.get(s) for s in symbols], dtype=object)
    known = np.array([s in label_map for s in symbols], dtype=bool)
    return labels, known
