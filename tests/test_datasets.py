"""The embedded MIT-BIH beat subsample: content, inter-patient split, and agreement with shared/data."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import recall_score

from sklearn_autonet.datasets import load_mitbih_beats, mitbih_mean_rr
from sklearn_autonet.ecg import RR_NORM_NAMES, normalize_rr


@pytest.fixture(scope="module")
def beats():
    return load_mitbih_beats("train"), load_mitbih_beats("test")


def test_content(beats):
    for b in beats:
        n = len(b.target)
        assert b.data.shape == (n, 256 + 4) and b.data.dtype == np.float32
        assert b.signals.shape == (n, 1, 256) and b.signal_shape == (1, 256)
        np.testing.assert_array_equal(b.data[:, :256], b.signals[:, 0])
        np.testing.assert_array_equal(b.data[:, 256:], b.side_features)
        np.testing.assert_allclose(b.signals.mean(axis=2), 0, atol=1e-5)  # per-beat mean removed
        assert list(b.target_names) == ["N", "S", "V", "F"] and b.side_feature_names == list(RR_NORM_NAMES)
        assert b.sampling_rate == 360 and b.r_peak_index == 90
        assert "ODC-By 1.0" in b.DESCR
    train, test = beats
    assert np.bincount(train.target).tolist() == [1200, 400, 400, 400]
    assert np.bincount(test.target).tolist() == [1200, 400, 400, 388]  # DS2 has 388 F beats in all
    X, y = load_mitbih_beats("test", side_features=False, return_X_y=True)
    assert X.shape == (len(test.target), 256) and (y == test.target).all()


def test_inter_patient(beats):
    train, test = beats
    assert set(train.groups) & set(test.groups) == set()
    assert {101, 106, 208, 230} <= set(train.groups) and {100, 232, 234} <= set(test.groups)
    with pytest.raises(ValueError, match="subset"):
        load_mitbih_beats("valid")


def test_rr_ratios_find_s_beats_in_other_patients(beats):
    """The side features carry what inter-patient S detection needs."""
    train, test = beats
    lr = LogisticRegression(class_weight="balanced", max_iter=1000).fit(train.side_features, train.target)
    recall = recall_score(test.target, lr.predict(test.side_features), average=None)
    assert recall[1] > 0.5  # S (chance 0.25): premature, the next interval longer


@pytest.mark.real_data
def test_matches_shared_data(shared_data, beats):
    """Every embedded beat is the shared file's beat (same record, R peak, samples, label, RR)."""
    d = np.load(shared_data / "mitbih_beats" / "mitbih_beats_ds1_ds2.npz")
    for b, subset in zip(beats, ("train", "test")):
        key = {(r, p): i for i, (r, p) in enumerate(zip(d[f"record_{subset}"], d[f"rpeak_{subset}"]))}
        idx = np.array([key[(r, p)] for r, p in zip(b.groups, b.r_peaks)])
        np.testing.assert_array_equal(d[f"y_{subset}"][idx], b.target)
        np.testing.assert_allclose(d[f"rr_{subset}"][idx], b.rr)
        np.testing.assert_allclose(normalize_rr(d[f"rr_{subset}"][idx], mitbih_mean_rr(b.groups)), b.side_features,
                                   rtol=1e-6)
        raw = d[f"X_{subset}"][idx].astype(np.float32) / 200
        np.testing.assert_allclose(raw - raw.mean(1, keepdims=True), b.signals[:, 0], atol=1e-5)
        assert set(b.groups) <= set(d[f"records_{subset}"])
