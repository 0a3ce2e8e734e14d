"""Windows of the real MIT-BIH records with the set of beat classes they hold (multi-label)."""

import numpy as np
import pytest

from sklearn_autonet.ecg import load_windows

wfdb = pytest.importorskip("wfdb")

from wfdb_copies import FS, write_copy  # noqa: E402
from conftest import shared_folder

# AAMI EC57 classes of the MIT-BIH beat symbols, written out here independently of the package.
AAMI = {"N": "N", "L": "N", "R": "N", "e": "N", "j": "N", "A": "S", "a": "S", "J": "S", "S": "S",
        "V": "V", "E": "V", "F": "F", "/": "Q", "f": "Q", "Q": "Q"}


@pytest.fixture(scope="module")
def mitdb(shared_data):
    return shared_folder(shared_data, "mitdb")


@pytest.fixture(scope="module")
def beats_208(mitdb):
    """(sample, symbol) of the annotations of record 208."""
    ann = wfdb.rdann(str(mitdb / "208"), "atr")
    return np.asarray(ann.sample), np.asarray(ann.symbol)


def test_indicator_rows_are_the_classes_of_the_beats_inside(mitdb, beats_208):
    data = load_windows(mitdb, ["208"], length=10, step=5, label="beats", leads="MLII")
    samples, symbols = beats_208
    assert data.class_names == ("N", "S", "V", "F", "Q")
    assert data.y.shape == (len(data.starts), 5) and data.X.shape == (len(data.starts), 1, 10 * FS)
    assert len(data.starts) == (650000 - 10 * FS) // (5 * FS) + 1
    for row, start in zip(data.y, data.starts):
        inside = (samples >= start) & (samples < start + 10 * FS)
        expected = {AAMI[s] for s in symbols[inside] if s in AAMI}
        assert {c for c, bit in zip(data.class_names, row) if bit} == expected
    # record 208 mixes normal, ventricular and fusion beats: most windows hold several classes
    per_window = data.y.sum(axis=1)
    assert (per_window >= 2).mean() > 0.5 and per_window.max() >= 3
    assert set(np.unique(data.y)) == {0, 1} and data.y[:, 0].all()  # sinus beats throughout


def test_a_beat_on_a_window_edge_counts_where_its_r_peak_lies(mitdb):
    ann = wfdb.rdann(str(mitdb / "100"), "atr")
    v = np.asarray(ann.sample)[np.asarray(ann.symbol) == "V"]
    assert len(v) == 1  # record 100 has one ventricular beat
    s = int(v[0])
    data = load_windows(
        mitdb, ["100"], length=10, label="beats", label_map={"V": "V", "N": "N"}, sampfrom=s - 10 * FS,
        sampto=s + 10 * FS,
    )
    np.testing.assert_array_equal(data.starts, [s - 10 * FS, s])  # the beat on the second window's first sample
    assert data.class_names == ("V", "N")
    np.testing.assert_array_equal(data.y[:, 0], [0, 1])
    # one sample later, the beat is on the first window's last sample
    shifted = load_windows(
        mitdb, ["100"], length=10, label="beats", label_map={"V": "V"}, sampfrom=s - 10 * FS + 1,
        sampto=s + 10 * FS + 1,
    )
    np.testing.assert_array_equal(shifted.starts, [s - 10 * FS + 1, s + 1])
    np.testing.assert_array_equal(shifted.y[:, 0], [1, 0])


def test_label_map_columns_and_the_errors(mitdb, tmp_path):
    data = load_windows(
        mitdb, ["201"], length=30, label="beats", label_map={"A": "atrial", "a": "atrial", "V": "ventricular"},
        sampto=300 * FS,
    )
    assert data.class_names == ("atrial", "ventricular") and data.y.shape == (10, 2)
    with pytest.raises(ValueError, match="label_map= maps beat symbols to classes for label='beats'"):
        load_windows(mitdb, ["201"], label="rhythm", label_map={"V": "V"}, sampto=300 * FS)
    with pytest.raises(ValueError, match="label must be 'rhythm', 'beats', a callable or None"):
        load_windows(mitdb, ["201"], label="beat", sampto=300 * FS)
    write_copy(mitdb, tmp_path, name="100", annotations=False)
    with pytest.raises(FileNotFoundError, match=r"annotation file not found: .*100\.atr"):
        load_windows(tmp_path, ["100"], label="beats")
