"""Reading wfdb records into beat and window data sets: checked against the real MIT-BIH files."""

import shutil
import sys
from collections import Counter

import numpy as np
import pytest

from sklearn_autonet.ecg import (
    AAMI_MAP,
    RR_FEATURE_NAMES,
    detect_r_peaks,
    list_records,
    load_beats,
    load_windows,
    read_annotation,
    read_record,
    rr_features,
)

wfdb = pytest.importorskip("wfdb")

# Beat symbols of PhysioNet's annotation codes, written out here independently of the package.
BEATS = set("NLRBAaJSVrFejnE/fQ")
FS = 360


@pytest.fixture(scope="module")
def mitdb(shared_data):
    return shared_data / "mitdb_wfdb"


@pytest.fixture(scope="module")
def beats_208(mitdb):
    return load_beats(mitdb, ["208"], leads="MLII", before=90 / FS, after=166 / FS)


def copy_record(mitdb, tmp_path, name="100"):
    for ext in ("hea", "dat", "atr"):
        shutil.copy(mitdb / f"{name}.{ext}", tmp_path / f"{name}.{ext}")
    return tmp_path


def test_list_records_reads_the_records_file(mitdb):
    assert list_records(mitdb) == ["100", "106", "119", "208", "232"]


def test_aami_counts_of_record_208_match_its_annotation_file(beats_208, mitdb):
    ann = wfdb.rdann(str(mitdb / "208"), "atr")
    beat_samples = [(s, y) for s, y in zip(ann.sample, ann.symbol) if y in BEATS]
    n_samples = wfdb.rdheader(str(mitdb / "208")).sig_len
    # expected: every beat but the first and last, whose window [R-90, R+166) fits
    kept = [y for s, y in beat_samples[1:-1] if s - 90 >= 0 and s + 166 <= n_samples]
    expected = Counter(AAMI_MAP[y] for y in kept if y in AAMI_MAP)
    assert Counter(beats_208.y.tolist()) == expected
    # the README of the data: F 373, V 992, S 2 in the whole record
    assert expected["V"] == 992 and expected["S"] == 2 and expected["F"] >= 372
    assert beats_208.class_names == ("N", "S", "V", "F", "Q")
    assert set(beats_208.groups) == {"208"}
    assert beats_208.X.shape == (sum(expected.values()), 1, 256)


def test_r_peak_sits_at_the_window_index(beats_208, mitdb):
    record = wfdb.rdrecord(str(mitdb / "208"), channel_names=["MLII"])
    n_before = beats_208.window[0]
    assert n_before == 90
    # the sample at index 90 is the annotated R peak's sample, for every beat
    expected = record.p_signal[beats_208.r_peaks, 0].astype(np.float32)
    np.testing.assert_array_equal(beats_208.X[:, 0, n_before], expected)
    # and for normal beats it is (nearly) the largest deflection of the window's QRS part
    normal = beats_208.y == "N"
    qrs = beats_208.X[normal, 0, n_before - 30 : n_before + 30]
    peak_at = np.argmax(np.abs(qrs - np.median(beats_208.X[normal, 0], axis=1)[:, None]), axis=1) - 30
    assert np.mean(np.abs(peak_at) <= 5) > 0.9


def test_beats_match_the_independently_built_npz(beats_208, shared_data):
    """The shared npz was built by another script from the same record: same beats, values, RR."""
    z = np.load(shared_data / "mitbih_beats" / "mitbih_beats_ds1_ds2.npz")
    mine = z["record_train"] == 208
    index = {peak: i for i, peak in enumerate(beats_208.r_peaks)}
    rows = np.array([index[p] for p in z["rpeak_train"][mine]])  # KeyError: a beat missing here
    np.testing.assert_allclose(beats_208.X[rows, 0] * z["adu_per_mV"], z["X_train"][mine], atol=1e-3)
    np.testing.assert_array_equal(beats_208.y[rows], z["class_names"][z["y_train"][mine]])
    # rr_pre, rr_post, mean of the 10 preceding intervals (seconds)
    np.testing.assert_allclose(beats_208.rr[rows, :3], z["rr_train"][mine][:, :3], atol=1e-5)


def test_rr_features_follow_the_annotation_sample_differences(beats_208, mitdb):
    ann = wfdb.rdann(str(mitdb / "208"), "atr")
    peaks = np.array([s for s, y in zip(ann.sample, ann.symbol) if y in BEATS])
    at = np.searchsorted(peaks, beats_208.r_peaks)
    assert np.all(peaks[at] == beats_208.r_peaks)
    names = list(beats_208.rr_feature_names)
    assert tuple(names) == RR_FEATURE_NAMES
    rr = beats_208.rr
    assert np.all(np.isfinite(rr)) and np.all(rr > 0)
    np.testing.assert_allclose(rr[:, names.index("rr_pre")], (peaks[at] - peaks[at - 1]) / FS)
    np.testing.assert_allclose(rr[:, names.index("rr_post")], (peaks[at + 1] - peaks[at]) / FS)
    mean_rr = np.diff(peaks).mean() / FS
    np.testing.assert_allclose(rr[:, names.index("rr_pre_norm")], rr[:, names.index("rr_pre")] / mean_rr)
    # premature ventricular beats come early: their rr_pre is shorter than the normal beats'
    pre = rr[:, names.index("rr_pre_norm")]
    assert np.median(pre[beats_208.y == "V"]) < np.median(pre[beats_208.y == "N"])


def test_rr_features_local_mean_and_ends():
    features, names = rr_features([0, 100, 300, 600], fs=100, local=2)
    assert np.isnan(features[0, 0]) and np.isnan(features[-1, 1])
    np.testing.assert_allclose(features[3, names.index("rr_local")], (2.0 + 3.0) / 2)
    with pytest.raises(ValueError, match="increasing"):
        rr_features([0, 100, 100], fs=100)


def test_multi_lead_resampled_beats_and_user_label_map(mitdb):
    beats = load_beats(
        mitdb, ["106", "119"], before=0.25, after=0.45, fs=250, label_map={"N": 0, "V": 1}, sampto=36000
    )
    assert beats.fs == 250 and beats.window == (62, 112)  # round(0.25*250), round(0.45*250)
    assert beats.X.shape[1:] == (2, 174) and beats.X.dtype == np.float32
    assert set(beats.y.tolist()) <= {0, 1} and set(beats.groups) == {"106", "119"}
    assert beats.class_names == (0, 1)
    assert beats.lead_names == {"106": ("MLII", "V1"), "119": ("MLII", "V1")}
    # expected counts from the annotation files, first 100 s of each record
    for name in ("106", "119"):
        ann = wfdb.rdann(str(mitdb / name), "atr", sampto=36000)
        symbols = [y for s, y in zip(ann.sample, ann.symbol) if y in BEATS][1:-1]
        got = beats.y[beats.groups == name]
        assert (got == 1).sum() == symbols.count("V")
        assert abs((got == 0).sum() - symbols.count("N")) <= 1  # a window may not fit at the end


def test_leads_by_name_and_index(mitdb):
    by_name = read_record(mitdb / "100", leads=["V5", "MLII"], sampto=720)
    by_index = read_record(mitdb / "100.hea", leads=[1, 0], sampto=720)
    assert by_name.lead_names == ("V5", "MLII") and by_name.signal.shape == (2, 720)
    np.testing.assert_array_equal(by_name.signal, by_index.signal)
    with pytest.raises(ValueError, match="no lead 'V1'.*MLII"):
        read_record(mitdb / "100", leads="V1", sampto=720)


def test_xqrs_finds_the_annotated_beats_of_record_100(mitdb):
    record = read_record(mitdb / "100", leads="MLII", sampto=108000)  # first 5 minutes
    ann = wfdb.rdann(str(mitdb / "100"), "atr", sampto=108000)
    reference = np.array([s for s, y in zip(ann.sample, ann.symbol) if y in BEATS])
    peaks = detect_r_peaks(record.signal[0], record.fs, "xqrs")
    tolerance = int(0.05 * FS)  # 50 ms
    distance = np.abs(reference[:, None] - peaks[None, :]).min(axis=1)
    sensitivity = np.mean(distance <= tolerance)
    false = np.mean(np.abs(peaks[:, None] - reference[None, :]).min(axis=1) > tolerance)
    assert sensitivity > 0.95 and false < 0.05, (sensitivity, false)


def test_detection_used_when_a_record_has_no_annotations(mitdb, tmp_path):
    folder = copy_record(mitdb, tmp_path)
    (folder / "100.atr").unlink()
    beats = load_beats(folder, ["100"], sampto=36000)
    assert beats.detected == {"100": True}
    assert set(beats.y.tolist()) == {""} and len(beats.y) > 100  # about 74 beats per minute
    ann = wfdb.rdann(str(mitdb / "100"), "atr", sampto=36000)
    reference = np.array([s for s, y in zip(ann.sample, ann.symbol) if y in BEATS])
    assert np.abs(beats.r_peaks[:, None] - reference[None, :]).min(axis=1).max() <= 18
    with pytest.raises(FileNotFoundError, match="100.atr"):
        load_beats(folder, ["100"], r_peaks="reference", sampto=36000)


def test_detected_beats_take_the_reference_labels(mitdb):
    beats = load_beats(mitdb, ["119"], r_peaks="detect", sampto=36000)
    ann = wfdb.rdann(str(mitdb / "119"), "atr", sampto=36000)
    symbols = [y for y in ann.symbol if y in BEATS]
    assert beats.detected == {"119": True}
    assert abs((beats.y == "V").sum() - symbols.count("V")) <= 2


def test_windows_labelled_by_rhythm(mitdb):
    windows = load_windows(mitdb, ["208", "232"], length=10)
    assert windows.X.shape == (360, 2, 3600) and windows.fs == 360
    np.testing.assert_array_equal(windows.starts[:3], [0, 3600, 7200])
    # 232 is sinus bradycardia throughout
    assert set(windows.y[windows.groups == "232"].tolist()) == {"SBR"}
    # 208: the rhythm annotations say which windows are in trigeminy ('(T')
    ann = wfdb.rdann(str(mitdb / "208"), "atr")
    changes = [(s, a.strip("\x00")) for s, y, a in zip(ann.sample, ann.symbol, ann.aux_note) if y == "+"]
    rhythm = np.zeros(650000, dtype=object)
    for (start, name), (stop, _) in zip(changes, changes[1:] + [(650000, None)]):
        rhythm[start:stop] = name.lstrip("(")
    mid = windows.starts[windows.groups == "208"] + 1800
    agree = np.mean(windows.y[windows.groups == "208"] == rhythm[mid])
    assert agree > 0.9 and "T" in windows.class_names


def test_windows_resampled_with_a_label_function(mitdb):
    def count_v(annotation, start, stop):
        inside = (annotation.sample >= start) & (annotation.sample < stop)
        return int(np.sum(np.asarray(annotation.symbol)[inside] == "V") > 0)

    windows = load_windows(mitdb, ["119"], length=5, step=2.5, fs=250, label=count_v, sampto=36000, leads=0)
    assert windows.X.shape == (39, 1, 1250)  # starts 0, 2.5, ..., 95 s
    assert set(windows.y.tolist()) == {0, 1}


def test_missing_and_corrupt_files_are_named(mitdb, tmp_path):
    with pytest.raises(FileNotFoundError, match="999.hea"):
        load_beats(mitdb, ["999"])
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_beats(tmp_path / "nowhere")

    folder = copy_record(mitdb, tmp_path)
    (folder / "100.dat").unlink()
    with pytest.raises(FileNotFoundError, match="100.dat"):
        load_beats(folder, ["100"])

    folder = copy_record(mitdb, tmp_path)
    data = (folder / "100.dat").read_bytes()
    (folder / "100.dat").write_bytes(data[: len(data) // 3])  # truncated
    with pytest.raises(ValueError, match="100.dat"):
        load_beats(folder, ["100"])

    folder = copy_record(mitdb, tmp_path)
    (folder / "100.hea").write_text("this is not a header\n")
    with pytest.raises(ValueError, match="100.hea"):
        load_windows(folder, ["100"])

    folder = copy_record(mitdb, tmp_path)
    (folder / "100.atr").write_bytes(b"\x00\x01garbage" * 3)
    with pytest.raises(ValueError, match="100.atr"):
        read_annotation(folder / "100")


def test_missing_wfdb_names_the_extra(monkeypatch, mitdb):
    monkeypatch.setitem(sys.modules, "wfdb", None)
    with pytest.raises(ImportError, match=r'pip install "sklearn-autonet\[ecg\]"'):
        read_record(mitdb / "100", sampto=10)
