"""Reading wfdb records into beat and window data sets: checked against the real MIT-BIH files."""

import shutil
import sys
import warnings
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

from wfdb_copies import MINUTE, lead_off, write_copy  # noqa: E402
from conftest import shared_folder

# Beat symbols of PhysioNet's annotation codes, written out here independently of the package.
BEATS = set("NLRBAaJSVrFejnE/fQ")
FS = 360


@pytest.fixture(scope="module")
def mitdb(shared_data):
    return shared_folder(shared_data, "mitdb_wfdb")


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
    # rr_pre, rr_post, mean of the 10 preceding intervals, of those ending within 150 s (seconds)
    np.testing.assert_allclose(beats_208.rr[rows, :4], z["rr_train"][mine], atol=1e-5)


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


# ------------------------------------------- reliability round two: damaged records, bad arguments

@pytest.fixture(scope="module")
def clean_100(mitdb):
    """The first minute of record 100 read from the untouched files (default beat window)."""
    return load_beats(mitdb, ["100"], sampto=MINUTE)


def test_a_copied_record_reads_back_exactly(mitdb, tmp_path, clean_100):
    copy = load_beats(write_copy(mitdb, tmp_path), ["100"])
    np.testing.assert_array_equal(copy.X, clean_100.X)
    np.testing.assert_array_equal(copy.r_peaks, clean_100.r_peaks)


def test_beats_in_a_lead_off_stretch_are_dropped_with_a_count(mitdb, tmp_path, clean_100):
    folder = write_copy(mitdb, tmp_path, damage=lead_off(3600, 7200))  # MLII lost from 10 s to 20 s
    assert np.isnan(wfdb.rdrecord(str(folder / "100")).p_signal[3600:7200, 0]).all()
    # expected: the beats whose window [R - 90, R + 162) reaches into [3600, 7200)
    hit = (clean_100.r_peaks + 162 > 3600) & (clean_100.r_peaks - 90 < 7200)
    assert 10 <= hit.sum() <= 15  # about 74 beats a minute
    with pytest.warns(
        UserWarning,
        match=rf"load_beats: dropped {hit.sum()} of the {len(hit)} beats of record .*100\.hea that hold NaN "
        r"or infinite samples and 0 with a flat \(constant\) lead",
    ):
        beats = load_beats(folder, ["100"])
    assert np.isfinite(beats.X).all()
    np.testing.assert_array_equal(beats.r_peaks, clean_100.r_peaks[~hit])
    np.testing.assert_array_equal(beats.X, clean_100.X[~hit])
    np.testing.assert_array_equal(beats.rr, clean_100.rr[~hit])  # the RR intervals still use every beat


def test_lead_off_in_an_unselected_lead_drops_nothing(mitdb, tmp_path, clean_100):
    folder = write_copy(mitdb, tmp_path, damage=lead_off(3600, 7200))
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="load_beats")
        beats = load_beats(folder, ["100"], leads="V5")
    np.testing.assert_array_equal(beats.X[:, 0], clean_100.X[:, 1])


def test_windows_in_a_lead_off_stretch_are_dropped_with_a_count(mitdb, tmp_path):
    folder = write_copy(mitdb, tmp_path, damage=lead_off(3700, 3800, lead=1))
    with pytest.warns(UserWarning, match=r"load_windows: dropped 1 of the 6 windows of record .*100\.hea"):
        windows = load_windows(folder, ["100"], length=10, label=None)
    np.testing.assert_array_equal(windows.starts, [0, 7200, 10800, 14400, 18000])
    assert np.isfinite(windows.X).all()


def test_flat_stretches_are_dropped_as_lead_off(mitdb, tmp_path):
    folder = write_copy(mitdb, tmp_path, damage=lead_off(7200, 14400, value=0.0))  # a flat line, finite
    with pytest.warns(UserWarning, match=r"dropped 0 of the 6 windows .* and 2 with a flat \(constant\) lead"):
        windows = load_windows(folder, ["100"], length=10, label=None)
    np.testing.assert_array_equal(windows.starts, [0, 3600, 14400, 18000])
    with pytest.warns(UserWarning, match=r"load_beats: dropped 0 of the \d+ beats .* and \d+ with a flat"):
        beats = load_beats(folder, ["100"])
    inside = (beats.r_peaks - 90 >= 7200) & (beats.r_peaks + 162 <= 14400)
    assert not inside.any() and np.ptp(beats.X, axis=2).min() > 0


def test_a_record_with_nothing_left_is_an_error(mitdb, tmp_path):
    folder = write_copy(mitdb, tmp_path, damage=lead_off(0, MINUTE))  # MLII off throughout
    with pytest.warns(UserWarning, match="dropped"):
        with pytest.raises(ValueError, match=r"load_beats: no beats left .* 100: \d+ beats, \d+ with a known label.*"
                           r"\d+ of those dropped for lead off"):
            load_beats(folder, ["100"], leads="MLII")
    with pytest.warns(UserWarning, match="dropped 6 of the 6 windows"):
        with pytest.raises(ValueError, match=r"load_windows: no windows of 10 s left .* 100: 6 windows, 6 dropped"):
            load_windows(folder, ["100"], length=10, label=None, leads=0)


def test_nonfinite_samples_cannot_be_preprocessed(mitdb, tmp_path):
    from sklearn_autonet.ecg import BandpassFilter

    folder = write_copy(mitdb, tmp_path, damage=lead_off(3600, 7200))
    with pytest.raises(
        ValueError,
        match=r"load_beats: record .*100\.hea has 3600 NaN or infinite sample\(s\) .* lead 'MLII' at sample "
        r"3600\), and preprocess= cannot filter across them",
    ):
        load_beats(folder, ["100"], preprocess=BandpassFilter(0.5, 40, sampling_rate=FS))
    # a sample range without the stretch is fine
    beats = load_beats(folder, ["100"], sampfrom=7200, preprocess=BandpassFilter(0.5, 40, sampling_rate=FS))
    assert np.isfinite(beats.X).all() and beats.r_peaks.min() > 7200


def test_the_qrs_detector_refuses_lead_off_samples(mitdb, tmp_path):
    folder = write_copy(mitdb, tmp_path, damage=lead_off(3600, 7200), annotations=False)
    with pytest.raises(ValueError, match=r"record .*100\.hea needs the QRS detector \(r_peaks='auto', no beat "
                       r"annotations\), but its lead 'MLII' has 3600 NaN .* first at sample 3600"):
        load_beats(folder, ["100"])
    signal = wfdb.rdrecord(str(folder / "100")).p_signal[:, 0]
    with pytest.raises(ValueError, match=r"contains 3600 NaN or infinite value\(s\) .* first at index 3600"):
        detect_r_peaks(signal, FS)


@pytest.mark.parametrize("fs", [0, -360, np.nan, np.inf, True, "360"])
def test_detect_r_peaks_refuses_bad_rates_and_empty_signals(mitdb, fs):
    signal = read_record(mitdb / "100", leads=0, sampto=3600).signal[0]
    with pytest.raises(ValueError, match=r"^detect_r_peaks: fs must be a positive, finite rate in Hz"):
        detect_r_peaks(signal, fs)
    with pytest.raises(ValueError, match="detect_r_peaks got an empty signal"):
        detect_r_peaks(signal[:0], FS)


@pytest.mark.parametrize("fs", [0, -250.0, np.nan, np.inf], ids=["zero", "negative", "nan", "inf"])
@pytest.mark.parametrize("reader", [load_beats, load_windows], ids=lambda f: f.__name__)
def test_readers_refuse_bad_target_rates(mitdb, reader, fs):
    with pytest.raises(ValueError, match=rf"^{reader.__name__}: fs must be a positive, finite rate in Hz"):
        reader(mitdb, ["100"], fs=fs, sampto=3600)


def test_readers_refuse_resampling_ratios_that_round_to_zero_or_miss_the_rate(mitdb):
    with pytest.raises(ValueError, match=r"^load_beats: resampling from 360 Hz to 0.1 Hz: the ratio .* rounds to 0"):
        load_beats(mitdb, ["100"], fs=0.1, sampto=3600)
    with pytest.raises(ValueError, match=r"^load_windows: .* to 359.9 Hz: the nearest ratio 1/1 .* gives 360 Hz"):
        load_windows(mitdb, ["100"], fs=359.9, sampto=36000, label=None)
    with pytest.raises(ValueError, match=r"^load_windows: .* to 500000 Hz is an up-sampling by 1.39e\+03"):
        load_windows(mitdb, ["100"], fs=5e5, sampto=3600, label=None)


def test_resampled_positions_use_the_ratio_the_signal_was_resampled_with(mitdb):
    # 359.982 / 360 = 0.99995 has no fraction with factors up to 1000 closer than 1/1 (within the
    # 0.01 % tolerance): the signal is not resampled, so the R peaks must not move either (scaling
    # them by 359.982 / 360 would shift those near the end of the record by about 30 samples)
    beats = load_beats(mitdb, ["100"], fs=359.982, leads=0, before=0.1, after=0.1)
    late = beats.r_peaks > 550000
    assert late.sum() > 200 and beats.window == (36, 36)
    x = beats.X[late, 0]
    peak_at = np.argmax(np.abs(x - np.median(x, axis=1, keepdims=True)), axis=1)
    assert abs(np.median(peak_at) - beats.window[0]) <= 2


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"sampfrom": -5}, r"sampfrom=-5 is negative; the first sample of .*100\.hea is 0"),
        ({"sampfrom": -5, "sampto": 100}, r"sampfrom=-5 is negative"),
        ({"sampfrom": 100, "sampto": 100}, r"sampto=100 must be greater than sampfrom=100 .*100\.hea"),
        ({"sampfrom": 100, "sampto": 50}, r"sampto=50 must be greater than sampfrom=100"),
        ({"sampfrom": 650000}, r"sample range \[650000, 650000\) is not inside the record .*100\.hea of 650000"),
        ({"sampto": 650001}, r"sample range \[0, 650001\) is not inside the record"),
        ({"sampfrom": 1.5}, r"sampfrom must be an integer sample index; got 1\.5"),
        ({"sampto": True}, r"sampto must be an integer sample index; got True"),
    ],
)
def test_bad_sample_ranges_are_named(mitdb, kwargs, match):
    with pytest.raises(ValueError, match=match):
        read_record(mitdb / "100", **kwargs)
    with pytest.raises(ValueError, match=match):
        load_beats(mitdb, ["100"], **kwargs)


def test_windows_longer_than_a_record_are_named(mitdb, tmp_path):
    folder = write_copy(mitdb, tmp_path, name="100")
    write_copy(mitdb, folder, name="119", sampto=5 * FS)  # 5 s: shorter than one window
    with pytest.warns(UserWarning, match=r"load_windows: record .*119\.hea gives no windows: the range read has "
                      r"1800 samples \(5 s\), shorter than one window of 3600 samples"):
        windows = load_windows(folder, ["100", "119"], length=10, label=None)
    assert set(windows.groups) == {"100"} and len(windows.X) == 6
    with pytest.warns(UserWarning, match="gives no windows"):
        with pytest.raises(ValueError, match=r"no windows of 20 s left .* 100: 0 windows"):
            load_windows(mitdb, ["100"], length=20, sampto=3600)


@pytest.mark.parametrize(
    "reader, kwargs, match",
    [
        (load_windows, {"length": 0.001}, r"load_windows: length=0.001 s is shorter than one sample at 360 Hz"),
        (load_windows, {"length": 0.001, "fs": 1000}, r"length=0.001 s and step=None s must each be at least one"),
        (load_windows, {"length": 1, "step": 1e-4}, r"step=0.0001 s must each be at least one sample at the 360"),
        (load_windows, {"length": np.nan}, r"load_windows: length must be a finite number of seconds; got nan"),
        (load_windows, {"step": np.inf}, r"step must be a finite number of seconds; got inf"),
        (load_beats, {"before": 0.001, "after": 0}, r"load_beats: the beat window before=0.001 s, after=0 s is "
         "shorter than one sample at 360 Hz"),
        (load_beats, {"before": np.nan}, r"load_beats: before must be a finite number of seconds; got nan"),
        (load_beats, {"after": np.inf}, r"after must be a finite number of seconds; got inf"),
    ],
)
def test_windows_shorter_than_one_sample_are_refused(mitdb, reader, kwargs, match):
    with pytest.raises(ValueError, match=match):
        reader(mitdb, ["100"], sampto=7200, **kwargs)


@pytest.mark.parametrize(
    "leads, match",
    [
        ([], r"leads is empty: choose at least one lead of record .*100\.hea \['MLII', 'V5'\], or None"),
        ((), r"leads is empty"),
        (["MLII", "MLII"], r"leads selects the lead 'MLII' of record .*100\.hea twice"),
        (["V5", 1], r"leads selects the lead 'V5' .* twice"),
        (["MLII", "V1"], r"no lead 'V1'; its leads are \['MLII', 'V5'\]"),
        ("mlii", r"no lead 'mlii'"),
        (2, r"has 2 leads \['MLII', 'V5'\]; lead 2 is not one of them"),
        (True, r"lead True is not one of them"),
        ([None], r"lead None is not one of them"),
    ],
)
def test_bad_lead_selections_are_named(mitdb, leads, match):
    with pytest.raises(ValueError, match=match):
        read_record(mitdb / "100", leads=leads, sampto=720)
    with pytest.raises(ValueError, match=match):
        load_windows(mitdb, ["100"], leads=leads, sampto=7200)


@pytest.mark.parametrize("entry", ["../x", "../../etc/passwd", "sub/../../x", "/tmp/x", ".", ".."])
def test_records_entries_outside_the_folder_are_refused(mitdb, tmp_path, entry):
    folder = write_copy(mitdb, tmp_path / "data")
    (folder / "RECORDS").write_text(f"100\n{entry}\n")
    escaped = entry.replace(".", r"\.")
    with pytest.raises(ValueError, match=rf"the RECORDS file .*RECORDS names the record '{escaped}', which points "
                       r"outside the folder .*data; record names must be paths inside the folder"):
        list_records(folder)
    with pytest.raises(ValueError, match="points outside the folder"):
        load_beats(folder)
    with pytest.raises(ValueError, match=rf"records= names the record '{escaped}', which points outside"):
        load_windows(folder, ["100", entry], label=None)


def test_records_in_sub_folders_are_read(mitdb, tmp_path):
    write_copy(mitdb, tmp_path / "p00", name="119", sampto=7200)
    (tmp_path / "RECORDS").write_text("p00/119\n")
    assert list_records(tmp_path) == ["p00/119"]
    beats = load_beats(tmp_path)
    assert beats.records == ("p00/119",) and len(beats.y) > 5


def test_record_lists_are_checked(mitdb):
    one = load_windows(mitdb, "100", sampto=7200, label=None)  # one name, not its characters
    assert one.records == ("100",)
    with pytest.raises(ValueError, match=r"load_beats: records= is empty; pass None"):
        load_beats(mitdb, [])
    with pytest.raises(ValueError, match=r"records= lists the record\(s\) \['100'\] more than once"):
        load_beats(mitdb, ["100", "119", "100"], sampto=3600)


def test_duplicate_beat_annotations_are_dropped_with_a_count(mitdb, tmp_path, clean_100):
    folder = write_copy(mitdb, tmp_path, annotations=False)
    ann = wfdb.rdann(str(mitdb / "100"), "atr", sampto=MINUTE)
    beat = [i for i, s in enumerate(ann.symbol) if s in BEATS]
    twice = [beat[10], beat[11], beat[30]]  # three beats annotated twice, once with another symbol
    samples, symbols = [], []
    for i, (sample, symbol) in enumerate(zip(ann.sample, ann.symbol)):
        samples.append(sample)
        symbols.append(symbol)
        if i in twice:
            samples.append(sample)
            symbols.append("V" if i == beat[30] else symbol)
    wfdb.wrann("100", "atr", np.array(samples), symbols, write_dir=str(folder))
    assert len(wfdb.rdann(str(folder / "100"), "atr").sample) == len(ann.sample) + 3
    first = ann.sample[beat[10]]
    with pytest.warns(UserWarning, match=rf"load_beats: .*100\.atr has 3 duplicate beat annotation\(s\), a second "
                      rf"beat at the same sample \(the first at sample {first}; 1 with another symbol\)"):
        beats = load_beats(folder, ["100"])
    np.testing.assert_array_equal(beats.r_peaks, clean_100.r_peaks)
    np.testing.assert_array_equal(beats.symbols, clean_100.symbols)  # the first annotation of each sample kept
    np.testing.assert_array_equal(beats.rr, clean_100.rr)


def test_label_maps_are_checked(mitdb):
    with pytest.raises(ValueError, match=r"label_map mixes label types \(number, str\), e\.g\. 0 and 'ventricular'"):
        load_beats(mitdb, ["100"], label_map={"N": 0, "V": "ventricular"}, sampto=3600)
    with pytest.raises(ValueError, match=r"label_map has 1 missing label\(s\)"):
        load_beats(mitdb, ["100"], label_map={"N": 0, "V": None}, sampto=3600)
    with pytest.raises(ValueError, match="label_map is empty"):
        load_beats(mitdb, ["100"], label_map={}, sampto=3600)
    with pytest.raises(TypeError, match="label_map must be a mapping of annotation symbol -> class label"):
        load_beats(mitdb, ["100"], label_map=["N", "V"], sampto=3600)
    # pairs still work, and a map that knows none of the record's beats says so
    with pytest.raises(ValueError, match=r"no beats left .* 100: \d+ beats, 0 with a known label"):
        load_beats(mitdb, ["100"], label_map=[("F", 1)], sampto=3600)


@pytest.mark.parametrize("fs", [0, -1, np.nan, np.inf])
def test_rr_features_refuse_bad_rates(fs):
    with pytest.raises(ValueError, match=r"^rr_features: fs must be a positive, finite rate in Hz"):
        rr_features([0, 360, 720], fs)


def test_a_header_with_a_rate_of_zero_is_named(mitdb, tmp_path):
    # (wfdb itself reads a negative rate field as its default 250 Hz, so only 0 reaches the reader)
    folder = copy_record(mitdb, tmp_path)
    lines = (folder / "100.hea").read_text().splitlines(keepends=True)
    lines[0] = lines[0].replace(" 360 ", " 0 ", 1)
    (folder / "100.hea").write_text("".join(lines))
    with pytest.raises(ValueError, match=r"the wfdb header .*100\.hea declares the sampling rate 0(\.0)? Hz"):
        load_beats(folder, ["100"], sampto=3600)
