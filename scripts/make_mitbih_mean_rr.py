"""Build sklearn_autonet/datasets/data/mitbih_mean_rr.csv: each MIT-BIH record's mean RR interval.

    python scripts/make_mitbih_mean_rr.py [--mitdb PATH]

The normalised RR features (:func:`sklearn_autonet.ecg.normalize_rr`) divide by
the mean RR interval of the whole record; the embedded beat set keeps only a
subsample of each record's beats, so the means are measured here, once, on
every beat annotation (``BEAT_SYMBOLS``, each sample once, as ``load_beats``
reads them) of the 48 records of ``shared/data/mitdb``.  Deterministic.
"""

import argparse
import csv
from pathlib import Path

import numpy as np

from sklearn_autonet.ecg import BEAT_SYMBOLS, list_records, read_annotation, read_record

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / ".." / "shared" / "data" / "mitdb"
TARGET = ROOT / "sklearn_autonet" / "datasets" / "data" / "mitbih_mean_rr.csv"


def mean_rr(directory, name):
    """Beats and mean RR interval (seconds) of one record, from its reference beat annotations."""
    fs = read_record(directory / name, leads=0, sampto=1).fs
    ann = read_annotation(directory / name)
    is_beat = np.isin(np.asarray(ann.symbol, dtype=object), list(BEAT_SYMBOLS))
    peaks = np.unique(np.asarray(ann.sample)[is_beat])
    return len(peaks), float(np.diff(peaks).mean() / fs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mitdb", default=str(SOURCE))
    args = parser.parse_args(argv)
    directory = Path(args.mitdb)
    with open(TARGET, "w", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["record", "beats", "mean_rr_s"])
        for name in list_records(directory):
            beats, mean = mean_rr(directory, name)
            out.writerow([name, beats, f"{mean:.9f}"])
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
