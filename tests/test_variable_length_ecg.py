"""Variable-length records on real ECG: MIT-BIH rhythm episodes, atrial fibrillation against normal sinus rhythm."""

import numpy as np
import pytest
from sklearn.model_selection import StratifiedGroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet.ecg import read_annotation, read_record
from conftest import shared_folder

AFIB_RECORDS, NORMAL_RECORDS = ("201", "203", "210", "219"), ("100", "103", "105", "113")
FS = 360


def episode_pieces(folder, record, rhythm, per_record=5, seconds=(3, 12), seed=0):
    """Consecutive pieces of random length cut from one record's ``rhythm`` episodes (lead 0)."""
    rng = np.random.RandomState(seed + int(record))
    ann = read_annotation(folder / record)
    changes = [(s, note.strip("\x00")) for s, note in zip(ann.sample, ann.aux_note) if note.startswith("(")]
    pieces = []
    for (start, note), (end, _) in zip(changes, changes[1:] + [(650000, None)]):
        position = int(start)
        while note == rhythm and len(pieces) < per_record:
            length = int(rng.uniform(*seconds) * FS)
            if position + length > end:
                break
            pieces.append(read_record(folder / record, leads=[0], sampfrom=position, sampto=position + length).signal)
            position += length
    return pieces


@pytest.fixture(scope="module")
def episodes(shared_data):
    folder = shared_folder(shared_data, "mitdb")
    X, y, groups = [], [], []
    for records, rhythm in ((AFIB_RECORDS, "(AFIB"), (NORMAL_RECORDS, "(N")):
        for record in records:
            pieces = episode_pieces(folder, record, rhythm)
            X += pieces
            y += [rhythm.strip("(")] * len(pieces)
            groups += [record] * len(pieces)
    return X, np.array(y), np.array(groups)


def standardise(X):
    """Each record to zero mean and unit variance (per record, so it works on any length)."""
    return [(x - x.mean()) / (x.std() + 1e-6) for x in X]


def model(**kwargs):
    settings = dict(sampling_rate=FS, counting="outputs", max_width=8, max_candidates=1, max_epochs=2, min_steps_per_epoch=1,
                    random_state=0)
    return make_pipeline(FunctionTransformer(standardise), AutoNetLCNClassifier(**settings, **kwargs))


def test_episodes_have_different_lengths(episodes):
    X, y, groups = episodes
    lengths = np.array([x.shape[1] for x in X])
    assert len(X) == 40 and set(y) == {"AFIB", "N"} and len(set(groups)) == 8
    assert lengths.min() >= 3 * FS and lengths.max() <= 12 * FS and len(set(lengths)) > 30


def test_fit_predict_score_in_a_pipeline(episodes, shared_data):
    X, y, groups = episodes
    train = ~np.isin(groups, ["203", "105"])
    pipe = model().fit([x for x, t in zip(X, train) if t], y[train])
    clf = pipe[-1]
    assert clf.layout_.variable and clf.layout_.shape == (1, min(x.shape[1] for x, t in zip(X, train) if t))
    assert clf.search_history_["n_fit"][0] == int(round(0.8 * train.sum()))  # records, not crops
    assert clf.n_fit_ == train.sum()  # the refit trained on every training record
    test = [x for x, t in zip(X, train) if not t]
    proba = pipe.predict_proba(test)
    assert proba.shape == (len(test), 2) and np.isfinite(proba).all()
    assert set(pipe.predict(test)) <= {"AFIB", "N"} and 0 <= pipe.score(test, y[~train]) <= 1
    # a whole 60 s stretch, longer than any training record, gives one probability row
    long = read_record(shared_data / "mitdb" / "100", leads=[0], sampfrom=0, sampto=60 * FS).signal
    np.testing.assert_allclose(pipe.predict_proba([long]).sum(), 1, atol=1e-6)


def test_cross_val_score_by_record(episodes):
    X, y, groups = episodes
    # the folds split by record, and each fold's search splits its validation records by record too
    scores = cross_val_score(model(), X, y, groups=groups, cv=StratifiedGroupKFold(2, shuffle=True, random_state=0),
                             params={"autonetlcnclassifier__groups": groups})
    assert scores.shape == (2,) and np.all((scores >= 0) & (scores <= 1))


def test_bad_real_records(episodes, shared_data):
    X, y, _ = episodes
    pipe = model().fit(X, y)
    two_leads = read_record(shared_data / "mitdb" / "100", sampfrom=0, sampto=5 * FS).signal
    with pytest.raises(ValueError, match=r"X has 2 lead\(s\) per record, but this AutoNetLCNClassifier was fitted on 1"):
        pipe.predict([two_leads, two_leads[:, :FS]])
    with pytest.raises(ValueError, match="shorter than"):
        pipe.predict([X[0], X[1][:, :20]])
    with pytest.raises(ValueError, match="different numbers of leads"):
        model().fit([two_leads] + X[1:], y)
