"""Build sklearn_autonet/datasets/data/mitbih_beats_small.npz from the project's shared data.

    python scripts/make_embedded_mitbih.py [--source PATH]

A class-capped random subsample (seed 0) of ``mitbih_beats_ds1_ds2.npz``, DS1
(train) and DS2 (test) kept apart, Q beats left out.  Deterministic.
"""

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / ".." / "shared" / "data" / "mitbih_beats" / "mitbih_beats_ds1_ds2.npz"
TARGET = ROOT / "sklearn_autonet" / "datasets" / "data" / "mitbih_beats_small.npz"
CLASSES = ("N", "S", "V", "F")
CAPS = (1200, 400, 400, 400)


def subsample(y, rng):
    keep = [rng.permutation(np.flatnonzero(y == c))[:cap] for c, cap in enumerate(CAPS)]
    return np.sort(np.concatenate(keep))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=str(SOURCE))
    args = parser.parse_args(argv)
    d = np.load(args.source)
    rng = np.random.RandomState(0)
    out = {
        "class_names": np.asarray(CLASSES),
        "caps": np.asarray(CAPS),
        "rr_feature_names": np.asarray(["rr_pre", "rr_post", "rr_local10", "rr_5min"]),
        "fs": d["fs"],
        "adu_per_mV": d["adu_per_mV"],
        "window_pre_post": d["window_pre_post"],
    }
    for subset in ("train", "test"):
        idx = subsample(d[f"y_{subset}"], rng)
        for key in ("X", "y", "rr", "record", "rpeak"):
            out[f"{key}_{subset}"] = d[f"{key}_{subset}"][idx]
    np.savez_compressed(TARGET, **out)
    print(f"{TARGET}: {TARGET.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
