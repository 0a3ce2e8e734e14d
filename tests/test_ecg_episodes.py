"""Rhythm episodes of the real MIT-BIH records as variable-length signals."""

import warnings

import numpy as np
import pytest
from scipy import signal as sps

from sklearn_autonet.ecg import load_episodes

wfdb = pytest.importorskip("wfdb")

from wfdb_copies import FS, MINUTE, lead_off, write_copy  # noqa: E402
from conftest import shared_folder

RECORDS = ["100", "201", "203"]  # 100: sinus rhythm only; 201, 203: atrial fibrillation and others


@pytest.fixture(scope="module")
def mitdb(shared_data):
    return shared_folder(shared_data, "mitdb")


@pytest.fixture(scope="module")
def episodes(mitdb):
    return load_episodes(mitdb, RECORDS)


def annotated_changes(mitdb, name):
    """(sample, code) of each rhythm annotation, parsed here from wfdb's own reading."""
    ann = wfdb.rdann(str(mitdb / name), "atr")
    return [
        (int(s), note.replace("\x00", "").strip()[1:])
        for s, sym, note in zip(ann.sample, ann.symbol, ann.aux_note)
        if sym == "+" and note.replace("\x00", "").strip()
    ]


def test_every_rhythm_annotation_is_one_episode_up_to_the_next(episodes, mitdb):
    for name in RECORDS:
        changes = annotated_changes(mitdb, name)
        length = wfdb.rdheader(str(mitdb / name)).sig_len
        mine = episodes.groups == name
        assert mine.sum() == len(changes)
        expected_ends = [s for s, _ in changes[1:]] + [length]
        np.testing.assert_array_equal(episodes.start[mine], [s for s, _ in changes])
        np.testing.assert_array_equal(episodes.end[mine], expected_ends)
        assert episodes.y[mine].tolist() == [code for _, code in changes]
        np.testing.assert_array_equal(episodes.episode[mine], np.arange(len(changes)))
        # no rhythm change strictly inside an episode
        samples = np.array([s for s, _ in changes])
        for start, end in zip(episodes.start[mine], episodes.end[mine]):
            assert not ((samples > start) & (samples < end)).any()
    # record 100 is one sinus rhythm episode from its first annotation to the end
    assert episodes.y[episodes.groups == "100"].tolist() == ["N"]
    assert set(episodes.y[episodes.groups == "203"]) == {"AFIB", "AFL", "T", "VT"}
    assert set(episodes.y[episodes.groups == "201"]) == {"AFIB", "N", "NOD", "SVTA", "T"}
    assert episodes.records == tuple(RECORDS) and episodes.skipped == ()
    assert episodes.class_names == tuple(sorted(set(episodes.y)))


def test_episode_signals_are_the_record_samples(episodes, mitdb):
    assert isinstance(episodes.X, list) and len(episodes.X) == len(episodes.y)
    lengths = np.array([x.shape[1] for x in episodes.X])
    np.testing.assert_array_equal(lengths, episodes.end - episodes.start)
    assert lengths.min() < 2 * FS and lengths.max() > 20 * 60 * FS  # seconds to most of a record
    assert all(x.dtype == np.float32 and x.shape[0] == 2 and x.flags.c_contiguous for x in episodes.X)
    record = wfdb.rdrecord(str(mitdb / "203")).p_signal.T
    for i in np.flatnonzero(episodes.groups == "203")[:5]:
        np.testing.assert_array_equal(
            episodes.X[i], record[:, episodes.start[i] : episodes.end[i]].astype(np.float32)
        )
    assert episodes.fs == FS and episodes.lead_names["203"] == ("MLII", "V1")


def test_rhythm_map_min_length_and_split_long_episodes(episodes, mitdb):
    data = load_episodes(
        mitdb, RECORDS, rhythms={"AFIB": "AF", "AFL": "AF", "(N": "N"}, min_length=10, max_length=60
    )
    assert data.class_names == ("AF", "N")
    assert set(data.rhythm) == {"AFIB", "AFL", "N"}
    np.testing.assert_array_equal(data.y, np.where(data.rhythm == "N", "N", "AF"))
    lengths = np.array([x.shape[1] for x in data.X])
    assert lengths.max() <= 60 * FS and lengths.min() >= 10 * FS
    # the pieces of each episode tile it exactly: same whole, same samples, in order
    kept = 0
    for name in RECORDS:
        whole = episodes.groups == name
        for i in np.flatnonzero(whole):
            code, length = episodes.y[i], episodes.end[i] - episodes.start[i]
            piece = np.flatnonzero((data.groups == name) & (data.episode == episodes.episode[i]))
            if code not in ("AFIB", "AFL", "N") or length < 10 * FS:
                assert len(piece) == 0
                continue
            kept += 1
            assert len(piece) == int(np.ceil(length / (60 * FS)))
            if len(piece) > 1:  # split: pieces of equal length (one sample apart), over half of max_length
                assert np.ptp(lengths[piece]) <= 1 and lengths[piece].min() > 30 * FS
            assert data.start[piece[0]] == episodes.start[i] and data.end[piece[-1]] == episodes.end[i]
            np.testing.assert_array_equal(data.start[piece[1:]], data.end[piece[:-1]])
            np.testing.assert_array_equal(np.concatenate([data.X[j] for j in piece], axis=1), episodes.X[i])
    assert kept >= 10
    # record 100: 30 minutes of sinus rhythm in 31 pieces
    assert (data.groups == "100").sum() == 31


def test_resampled_episodes_keep_their_duration(mitdb):
    data = load_episodes(mitdb, ["203"], fs=250, leads="MLII", max_length=30, sampto=5 * MINUTE)
    assert data.fs == 250 and all(x.shape[0] == 1 for x in data.X)
    duration = np.array([x.shape[1] for x in data.X]) / 250
    np.testing.assert_allclose(duration, (data.end - data.start) / FS, atol=2 / 250)
    assert duration.max() <= 30
    # the pieces are the resampled record's samples
    record = wfdb.rdrecord(str(mitdb / "203"), sampto=5 * MINUTE, channel_names=["MLII"]).p_signal[:, 0]
    resampled = sps.resample_poly(record, 25, 36)
    first = int(round(data.start[0] * 250 / FS))
    np.testing.assert_allclose(data.X[0][0], resampled[first : first + data.X[0].shape[1]], rtol=1e-6, atol=1e-6)


def test_the_range_read_cuts_episodes_at_its_ends(mitdb):
    data = load_episodes(mitdb, ["203"], sampfrom=16000, sampto=34000)
    # changes at 16689 (VT), 17156 (AFIB), 33033 (VT), 33602 (AFIB); the AFIB from 14 is cut at 16000
    np.testing.assert_array_equal(data.start, [16000, 16689, 17156, 33033, 33602])
    np.testing.assert_array_equal(data.end, [16689, 17156, 33033, 33602, 34000])
    assert data.y.tolist() == ["AFIB", "VT", "AFIB", "VT", "AFIB"]


def test_records_are_preprocessed_whole_before_they_are_cut(mitdb):
    from sklearn_autonet.ecg import BandpassFilter

    data = load_episodes(mitdb, ["203"], sampto=2 * MINUTE, preprocess=BandpassFilter(0.5, 40, sampling_rate=FS))
    record = wfdb.rdrecord(str(mitdb / "203"), sampto=2 * MINUTE).p_signal.T
    filtered = sps.sosfiltfilt(sps.butter(4, [0.5, 40], btype="bandpass", fs=FS, output="sos"), record, axis=-1)
    for x, start, end in zip(data.X, data.start, data.end):
        np.testing.assert_allclose(x, filtered[:, start:end], rtol=1e-5, atol=1e-6)


def test_unknown_rhythm_codes_are_refused(mitdb):
    with pytest.raises(ValueError, match=r"rhythm code\(s\) \['AFIBB'\].*their codes are \['AFIB'"):
        load_episodes(mitdb, ["201"], rhythms=["AFIB", "AFIBB"])
    # a MIT-BIH code the records do not have is no misspelling: its class is simply empty
    data = load_episodes(mitdb, ["201"], rhythms=["AFIB", "(VFL"])
    assert data.class_names == ("AFIB", "VFL") and set(data.y) == {"AFIB"}
    with pytest.raises(ValueError, match="rhythms is empty"):
        load_episodes(mitdb, ["201"], rhythms=[])
    with pytest.raises(ValueError, match="min_length=20 s is longer than max_length=10 s"):
        load_episodes(mitdb, ["201"], min_length=20, max_length=10)
    with pytest.raises(ValueError, match="max_length must be a positive number of seconds"):
        load_episodes(mitdb, ["201"], max_length=0)


def test_nothing_left_after_the_filters_gives_the_counts(mitdb):
    with pytest.raises(ValueError, match=r"no episodes left .* 100: 1 rhythm annotations, 0 episodes with a rhythm"):
        load_episodes(mitdb, ["100"], rhythms=["AFIB"])
    with pytest.raises(ValueError, match=r"100: 1 rhythm annotations, 1 episodes .* 0 of those at least min_length"):
        load_episodes(mitdb, ["100"], min_length=3600)


def without_rhythms(samples, symbols, notes):
    keep = [i for i, s in enumerate(symbols) if s != "+"]
    return samples[keep], [symbols[i] for i in keep], [notes[i] for i in keep]


def test_records_without_rhythm_annotations(mitdb, tmp_path):
    write_copy(mitdb, tmp_path, name="100", edit=without_rhythms)
    write_copy(mitdb, tmp_path, name="203")
    write_copy(mitdb, tmp_path, name="201", annotations=False)
    with pytest.raises(ValueError, match=r"record 100 has no rhythm annotations .* leave it out of records="):
        load_episodes(tmp_path, ["100", "203"])
    with pytest.raises(FileNotFoundError, match=r"record 201 has no annotation file"):
        load_episodes(tmp_path, ["201"])
    with pytest.warns(UserWarning, match=r"skipped 2 of the 3 records .* no rhythm annotations .*: 100, 201"):
        data = load_episodes(tmp_path)
    assert data.skipped == ("100", "201") and data.records == ("203",)
    assert data.y.tolist() == ["AFIB", "VT", "AFIB"] and data.end[-1] == MINUTE


def test_an_empty_episode_is_refused(mitdb, tmp_path):
    def doubled(samples, symbols, notes):
        at = symbols.index("+", 1)  # the second rhythm change: (VT at 16689
        samples = np.insert(samples, at, samples[at])
        return samples, symbols[:at] + ["+"] + symbols[at:], notes[:at] + ["(N"] + notes[at:]

    write_copy(mitdb, tmp_path, name="203", edit=doubled)
    with pytest.raises(ValueError, match=r"record 203: .*203\.atr has 1 empty \(zero-length\) rhythm episode.*sample "
                       r"16689 \('N' then 'VT'\)"):
        load_episodes(tmp_path, ["203"])
    # a range without it is read
    assert load_episodes(tmp_path, ["203"], sampfrom=17000).y.tolist() == ["VT", "AFIB"]


def test_episodes_with_lead_off_are_dropped_with_a_count(mitdb, tmp_path):
    write_copy(mitdb, tmp_path, name="203", damage=lead_off(100, 200))
    with pytest.warns(UserWarning, match=r"dropped 1 of the 3 episodes of record .*203\.hea that hold NaN"):
        data = load_episodes(tmp_path, ["203"])
    np.testing.assert_array_equal(data.start, [16689, 17156])
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="load_episodes")
        assert len(load_episodes(tmp_path, ["203"], leads="V1").X) == 3
