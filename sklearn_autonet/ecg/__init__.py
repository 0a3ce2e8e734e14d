"""ECG workflows: wfdb records to beat, window and rhythm-episode data sets, preprocessing transformers.

Reading records needs the optional ``ecg`` extra (``pip install "sklearn-autonet[ecg]"``,
which installs wfdb); the transformers and label/RR helpers need only scipy.
"""

from .episodes import load_episodes
from .labels import (
    AAMI_CLASSES,
    AAMI_MAP,
    BEAT_SYMBOLS,
    RHYTHM_CODES,
    beat_indicator,
    class_names,
    map_symbols,
    rhythm_changes,
)
from .preprocessing import BandpassFilter, BaselineRemover, Resampler, SignalStandardizer
from .records import detect_r_peaks, list_records, load_beats, load_windows, read_annotation, read_record
from .rr import RR_FEATURE_NAMES, RR_INTERVAL_NAMES, RR_NORM_NAMES, normalize_rr, rr_features

__all__ = [
    "AAMI_CLASSES",
    "AAMI_MAP",
    "BEAT_SYMBOLS",
    "RHYTHM_CODES",
    "RR_FEATURE_NAMES",
    "RR_INTERVAL_NAMES",
    "RR_NORM_NAMES",
    "BandpassFilter",
    "BaselineRemover",
    "Resampler",
    "SignalStandardizer",
    "beat_indicator",
    "class_names",
    "detect_r_peaks",
    "list_records",
    "load_beats",
    "load_episodes",
    "load_windows",
    "map_symbols",
    "normalize_rr",
    "read_annotation",
    "read_record",
    "rhythm_changes",
    "rr_features",
]
