"""One definition of the RR features: rr_features / normalize_rr, the raw records and the shipped beat sets agree."""

import numpy as np
import pytest

from sklearn_autonet.datasets import load_mitbih_beats, mitbih_mean_rr, rr_ratio_features
from sklearn_autonet.ecg import (
    RR_FEATURE_NAMES,
    RR_INTERVAL_NAMES,
    RR_NORM_NAMES,
    load_beats,
    normalize_rr,
    rr_features,
)
from conftest import shared_folder

wfdb = pytest.importorskip("wfdb")

# Beat symbols of PhysioNet's annotation codes, written out here independently of the package.
BEATS = set("NLRBAaJSVrFejnE/fQ")


@pytest.fixture(scope="module")
def mitdb(shared_data):
    return shared_folder(shared_data, "mitdb")


@pytest.fixture(scope="module")
def shared_beats(shared_data):
    return np.load(shared_data / "mitbih_beats" / "mitbih_beats_ds1_ds2.npz")


def test_rr_average_is_the_mean_of_the_intervals_ending_near_the_beat():
    features, names = rr_features([0, 1, 2, 4], fs=1, local=2, average=1.5)
    average = features[:, names.index("rr_average")]
    # beat 0 sees the interval ending at t=1; beat 2 those ending at t=1, 2; beat 3 the one ending at t=4
    np.testing.assert_allclose(average, [1.0, 1.0, 1.0, 2.0])
    mean_rr = 4 / 3
    np.testing.assert_allclose(features[:, names.index("rr_average_norm")], average / mean_rr)
    assert names == RR_FEATURE_NAMES == RR_INTERVAL_NAMES + RR_NORM_NAMES


@pytest.mark.parametrize("record, subset", [("201", "train"), ("232", "test")])
def test_raw_records_give_the_shared_beat_sets_rr_and_its_normalisation(mitdb, shared_beats, record, subset):
    """load_beats on the raw record computes the intervals the beat set stores, and the same normalised ones."""
    beats = load_beats(mitdb, [record], leads="MLII", before=0.25, after=0.45)
    mine = shared_beats[f"record_{subset}"] == int(record)
    index = {peak: i for i, peak in enumerate(beats.r_peaks)}
    rows = np.array([index[p] for p in shared_beats[f"rpeak_{subset}"][mine]])
    stored = shared_beats[f"rr_{subset}"][mine]
    np.testing.assert_allclose(beats.rr[rows, :4], stored, rtol=1e-6)
    from_stored = normalize_rr(stored, mitbih_mean_rr(np.full(len(stored), record)))
    np.testing.assert_allclose(beats.rr[rows, 4:], from_stored, rtol=1e-6)


def test_the_shipped_record_means_are_the_records_mean_rr(mitdb):
    """Every record's mean RR, measured here from its annotation file with wfdb."""
    records = (mitdb / "RECORDS").read_text().split()
    assert len(records) == 48
    measured = []
    for name in records:
        ann = wfdb.rdann(str(mitdb / name), "atr")
        peaks = np.unique([s for s, y in zip(ann.sample, ann.symbol) if y in BEATS])
        measured.append(np.diff(peaks).mean() / 360)
    np.testing.assert_allclose(mitbih_mean_rr(records), measured, rtol=1e-8)
    # heart rates differ: from about 50 to over 100 beats a minute
    assert 60 / max(measured) < 55 and 60 / min(measured) > 100


def test_embedded_side_features_are_the_normalised_intervals():
    train, test = load_mitbih_beats("train"), load_mitbih_beats("test")
    for b in (train, test):
        assert b.side_feature_names == list(RR_NORM_NAMES) and b.rr_feature_names == list(RR_INTERVAL_NAMES)
        np.testing.assert_allclose(b.side_features, normalize_rr(b.rr, mitbih_mean_rr(b.groups)), rtol=1e-6)
        # the normalisation takes the heart rate out: per record, the normal beats' median rr_pre spreads
        # over records in seconds, and much less once divided by the record's mean RR
        normal = b.target == 0
        records = np.unique(b.groups[normal])
        seconds = np.array([np.median(b.rr[normal & (b.groups == r), 0]) for r in records])
        ratios = np.array([np.median(b.side_features[normal & (b.groups == r), 0]) for r in records])
        assert np.std(np.log(ratios)) < 0.6 * np.std(np.log(seconds))
        assert np.mean(np.abs(ratios - 1) < 0.1) >= 0.75
    normal = train.target == 0
    # S beats come early and are followed by a longer interval, in every heart rate
    s = train.target == 1
    assert np.median(train.side_features[s, 0]) < 0.8 < np.median(train.side_features[normal, 0])
    assert np.median(train.side_features[s, 1]) > np.median(train.side_features[s, 0])


def test_normalize_rr_refuses_bad_means():
    np.testing.assert_allclose(normalize_rr([[0.5, np.nan], [1.0, 2.0]], [0.5, 1.0]), [[1.0, np.nan], [1.0, 2.0]])
    with pytest.raises(ValueError, match="positive, finite number of seconds; got 0.0"):
        normalize_rr([[0.5, 1.0]], 0.0)
    with pytest.raises(ValueError, match=r"one number or one per beat \(2\)"):
        normalize_rr([[0.5], [1.0]], [0.8, 0.9, 1.0])
    with pytest.raises(ValueError, match="must be 2-D"):
        normalize_rr([0.5, 1.0], 0.8)
    with pytest.raises(ValueError, match=r"\['999'\] are not MIT-BIH Arrhythmia records"):
        mitbih_mean_rr([100, 999])


def test_the_old_ratios_still_work_with_a_deprecation():
    with pytest.warns(FutureWarning, match=r"normalize_rr\(rr, sklearn_autonet.datasets.mitbih_mean_rr"):
        ratios = rr_ratio_features([[0.5, 1.0, 0.8, 0.8]])
    np.testing.assert_allclose(ratios, [[0.625, 1.25, 1.0, 0.5]])
    import sklearn_autonet.datasets as datasets

    with pytest.warns(FutureWarning, match="RR_RATIO_NAMES is deprecated"):
        assert datasets.RR_RATIO_NAMES[-1] == "rr_pre/rr_post"
