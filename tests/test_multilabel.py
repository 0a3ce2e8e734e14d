"""Multi-label targets: a 0/1 indicator y, sigmoid outputs, per-label thresholds (sklearn_autonet.targets)."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, f1_score
from sklearn.neural_network import MLPClassifier

from sklearn_autonet import AutoNetLCNClassifier, load, save
from sklearn_autonet.crossval import kfold_splits
from sklearn_autonet.ensemble import greedy_selection, proba_score
from sklearn_autonet.persistence import read_metadata, save_model
from sklearn_autonet.targets import (
    MultilabelLoss,
    check_label_matrix,
    label_weights,
    stratification_key,
    tune_thresholds,
)
from sklearn_autonet.validation_split import validation_split
from conftest import assert_same_fit, on_module_device, shared_folder

FAST = dict(max_candidates=1, max_epochs=2, min_steps_per_epoch=1, random_state=0)
#: The AAMI beat classes a window's indicator row says it contains.
BEATS = ("N", "S", "V", "F")


def make_multilabel(n=160, seed=0):
    """Tabular rows whose three labels each depend on their own features."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 6).astype(np.float32)
    Y = np.stack([X[:, 0] > 0, X[:, 1] > 0.5, X[:, 2] + X[:, 3] > 1], axis=1).astype(int)
    return X, Y


@pytest.fixture(scope="module")
def ensemble_fit():
    """A multi-label fit whose search keeps a 2-member ensemble (random_state=0 on this data)."""
    X, Y = make_multilabel()
    clf = AutoNetLCNClassifier(
        max_candidates=3, max_epochs=2, min_steps_per_epoch=1, halving=False, patience=5, random_state=0
    ).fit(X, Y)
    return clf, X, Y


# ------------------------------------------------------------ unit: targets.py
@pytest.mark.parametrize(
    "Y, match",
    [
        ([[0, 1], [0, 0], [0, 1]], r"Label column\(s\) \[0\] of y are 0 for every sample"),
        ([[1, 1], [1, 0], [1, 1]], r"Label column\(s\) \[0\] of y are 1 for every sample"),
        ([[0, 2], [1, 0], [1, 1]], r"matrix of 0 and 1 \(multi-label\) \(found 2\)\. Multi-output multiclass"),
        ([[0.5, 1], [1, 0], [0, 1]], r"found 0\.5"),
        ([["a", "b"], ["b", "a"]], r"Multi-output multiclass targets .* are not supported"),
        ([[0], [1], [1]], r"at least 2 label columns; got shape \(3, 1\)"),
    ],
)
def test_bad_label_matrix(Y, match):
    with pytest.raises(ValueError, match=match):
        check_label_matrix(np.asarray(Y))


def test_balanced_label_weights_equalise_each_label():
    Y = np.array([[1, 0], [0, 1], [0, 1], [0, 1], [1, 1]])
    pairs = np.array(label_weights(Y, np.ones(5), "balanced"))
    # label 0: 2 positives of 5 -> w_pos = 5 / 4, w_neg = 5 / 6; label 1: 4 of 5 -> 5 / 8, 5 / 2
    np.testing.assert_allclose(pairs, [[5 / 6, 5 / 4], [5 / 2, 5 / 8]])
    # positives and negatives then weigh the same in total, and w_pos / w_neg = n_neg / n_pos
    for label, (neg, pos) in enumerate(pairs):
        assert pos * Y[:, label].sum() == pytest.approx(neg * (5 - Y[:, label].sum()))
    assert label_weights(Y, np.ones(5), None) == ((1.0, 1.0), (1.0, 1.0))
    with pytest.raises(ValueError, match="class_weight as a dict is for one label per sample"):
        label_weights(Y, np.ones(5), {0: 1.0, 1: 2.0})


def test_multilabel_loss_is_weighted_binary_cross_entropy():
    logits = torch.tensor([[2.0, -1.0], [-0.5, 0.3]])
    target = torch.tensor([[1, 0], [0, 1]])
    plain = MultilabelLoss(((1.0, 1.0), (1.0, 1.0)))(logits, target)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, target.float(), reduction="none").mean(1)
    torch.testing.assert_close(plain, expected)
    # label 1's positives weigh 3 (pos_weight 3 of BCEWithLogitsLoss on that label)
    weighted = MultilabelLoss(((1.0, 1.0), (1.0, 3.0)))(logits, target)
    reference = torch.nn.BCEWithLogitsLoss(reduction="none", pos_weight=torch.tensor([1.0, 3.0]))(
        logits, target.float()
    ).mean(1)
    torch.testing.assert_close(weighted, reference)


def test_split_keeps_rare_labels_on_both_sides():
    rng = np.random.RandomState(0)
    Y = (rng.rand(200, 3) < [0.5, 0.3, 0.05]).astype(int)
    Y[:10, 2] = 1  # label 2: a few more than 10 positives in 200
    train, valid = validation_split(stratification_key(Y), validation_fraction=0.2, random_state=0)
    assert len(valid) == 40 and len(np.intersect1d(train, valid)) == 0
    share = Y[valid].sum(0) / Y.sum(0)
    # every label, the rarest included, has about a fifth of its positives in the validation split
    assert (Y[train].sum(0) > 0).all() and (Y[valid].sum(0) > 0).all()
    np.testing.assert_allclose(share, 0.2, atol=0.1)


def test_tuned_thresholds_maximise_each_labels_f1():
    rng = np.random.RandomState(1)
    Y = (rng.rand(300, 2) < [0.2, 0.6]).astype(int)
    proba = np.clip(0.15 + 0.3 * Y + 0.2 * rng.randn(300, 2), 0.001, 0.999)  # scores low: 0.5 is too high
    thresholds = tune_thresholds(proba, Y)
    for label in range(2):
        f1 = lambda t: f1_score(Y[:, label], proba[:, label] >= t)  # noqa: E731
        assert f1(thresholds[label]) >= max(f1(t) for t in np.unique(proba[:, label])) - 1e-12
        assert f1(thresholds[label]) > f1(0.5) + 0.05
    # a label with no positive in the validation split keeps 0.5
    assert tune_thresholds(proba, np.c_[Y[:, 0], np.zeros(300, int)])[1] == 0.5


def test_greedy_selection_on_label_probabilities():
    Y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    a = np.array([[0.9, 0.2], [0.6, 0.8], [0.7, 0.4], [0.2, 0.1]])  # wrong on label 0 of row 1, label 1 of row 2
    b = np.array([[0.8, 0.1], [0.3, 0.7], [0.8, 0.45], [0.45, 0.2]])  # wrong on label 1 of row 2
    assert proba_score("f1_macro", a, Y) == pytest.approx(f1_score(Y, (a >= 0.5).astype(int), average="macro"))
    weights, scores = greedy_selection([a, b], Y, None, "f1_macro", 3)
    assert weights[1] > 0 and scores[-1] >= scores[0]
    mean = (weights[:, None, None] * np.stack([a, b])).sum(0)
    assert proba_score("f1_macro", mean, Y) == pytest.approx(max(scores))


# ------------------------------------------------------------ the estimator
def test_fit_predict_multilabel():
    X, Y = make_multilabel()
    clf = AutoNetLCNClassifier(**FAST).fit(X, Y)
    proba = clf.predict_proba(X)
    assert proba.shape == (160, 3) and np.isfinite(proba).all() and ((proba >= 0) & (proba <= 1)).all()
    assert not np.allclose(proba.sum(1), 1)  # independent label probabilities, not a softmax
    pred = clf.predict(X)
    assert pred.shape == (160, 3) and set(np.unique(pred)) <= {0, 1}
    np.testing.assert_array_equal(pred, (proba >= 0.5).astype(int))
    assert clf.target_type_ == "multilabel-indicator" and clf.thresholds_.tolist() == [0.5] * 3
    # classes_ as MLPClassifier sets it for an indicator y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MLPClassifier(max_iter=1).fit(X, Y)
    np.testing.assert_array_equal(clf.classes_, mlp.classes_)
    # the search scored the candidates by macro-F1 over labels (scoring=None), at threshold 0.5
    valid_score = clf.search_history_["validation_score"][0]
    assert 0 < valid_score <= 1
    assert clf.score(X, Y) == pytest.approx(np.mean((pred == Y).all(1)))  # subset accuracy, as MLPClassifier


def test_tuned_thresholds_and_balanced_class_weight():
    X, Y = make_multilabel()
    clf = AutoNetLCNClassifier(**dict(FAST, threshold="tuned", class_weight="balanced")).fit(X, Y)
    assert clf.thresholds_.shape == (3,) and ((clf.thresholds_ > 0) & (clf.thresholds_ <= 1)).all()
    assert not np.allclose(clf.thresholds_, 0.5)
    np.testing.assert_array_equal(clf.predict(X), (clf.predict_proba(X) >= clf.thresholds_).astype(int))
    plain = AutoNetLCNClassifier(**FAST).fit(X, Y)
    # label 2 is rare (about a fifth positive): balanced weights raise its predicted probabilities
    assert clf.predict_proba(X)[:, 2].mean() > plain.predict_proba(X)[:, 2].mean()


@pytest.mark.parametrize(
    "Y, params, match",
    [
        ("zero_column", {}, r"Label column\(s\) \[1\] of y are 0 for every sample"),
        ("multiclass_multioutput", {}, "Multi-output multiclass targets"),
        ("ok", {"class_weight": {0: 2.0}}, "class_weight as a dict is for one label per sample"),
        ("ok", {"scoring": "balanced_accuracy"}, "cannot score a multi-label target of 3 labels"),
        ("ok", {"scoring": "neg_log_loss"}, "reads each row of probabilities as one distribution"),
    ],
)
def test_bad_multilabel_fit(Y, params, match):
    X, good = make_multilabel(60)
    Y = {
        "ok": good,
        "zero_column": np.c_[good[:, :1], np.zeros(60, int), good[:, 2:]],
        "multiclass_multioutput": good * np.array([1, 2, 1]),
    }[Y]
    clf = AutoNetLCNClassifier(**dict(FAST, **params))
    with pytest.raises(ValueError, match=match):
        clf.fit(X, Y)
    assert not hasattr(clf, "net_")


def test_label_without_weighted_positives_in_training():
    X, Y = make_multilabel(60)
    weights = np.where(Y[:, 2] == 1, 0.0, 1.0)  # label 2's positives all weigh 0
    with pytest.raises(ValueError, match=r"label column\(s\) \[2\] have no positive sample with a positive"):
        AutoNetLCNClassifier(**FAST).fit(X, Y, sample_weight=weights)
    # a label on a single sample keeps it on the training side (the validation split cannot hold it too)
    Y[:, 2] = np.eye(60, dtype=int)[7]
    train, valid = validation_split(stratification_key(Y), validation_fraction=0.2, random_state=0)
    assert 7 in train and 7 not in valid


def test_ensemble_save_load_pickle_onnx(ensemble_fit, tmp_path):
    clf, X, Y = ensemble_fit
    assert len(clf.ensemble_weights_) == 2  # the round trips below cover an ensemble of sigmoid members
    proba = clf.predict_proba(X)
    members = clf.net_.module_.members
    weights = clf.ensemble_weights_
    with torch.no_grad():
        mean = sum(w * torch.sigmoid(m.eval()(on_module_device(m, X))) for m, w in zip(members, weights)).cpu().numpy()
    np.testing.assert_allclose(proba, mean, atol=1e-6)  # the mean of the members' sigmoids

    path = save(clf, tmp_path / "ml.autonet")
    meta = read_metadata(path)
    assert meta["format_version"] == 4 and meta["target"]["type"] == "multilabel-indicator"
    loaded = load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), proba)
    np.testing.assert_array_equal(loaded.thresholds_, clf.thresholds_)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    with pytest.raises(ValueError, match="multi-label, which format_version=3 cannot hold"):
        save_model(clf, tmp_path / "old.autonet", format_version=3)

    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), proba)

    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from sklearn_autonet.export import export_onnx

    session = ort.InferenceSession(export_onnx(clf, tmp_path / "ml.onnx"))
    np.testing.assert_allclose(session.run(["probabilities"], {"input": X})[0], proba, atol=1e-5)


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda t: t.update(thresholds=[0.5, 1.5, 0.5]), r"target.thresholds.*must be a list of 3 numbers in \(0, 1\]"),
        (lambda t: t.update(thresholds=[0.5, 0.5]), r"target.thresholds.*must be a list of 3 numbers"),
        (lambda t: t.update(type="multiclass"), r"target.thresholds.*must be null for a multiclass target"),
        (lambda t: t.update(type="continuous"), r"target.type.*must be one of"),
        (lambda t: t.__delitem__("thresholds"), r"'target'.*must be an object with exactly 'type' and 'thresholds'"),
    ],
)
def test_damaged_target_metadata_is_refused(ensemble_fit, tmp_path, change, match):
    from test_persistence import rewrite

    saved = save(ensemble_fit[0], tmp_path / "ml.autonet")
    damaged = rewrite(saved, tmp_path / "bad.autonet", metadata=lambda meta: change(meta["target"]))
    with pytest.raises(ValueError, match=match):
        load(damaged)


def test_convexity_probe_uses_the_multilabel_loss(ensemble_fit):
    from sklearn_autonet.convexity_probe import probe_convexity

    clf, X, Y = ensemble_fit
    # the head is linear in its parameters: the binary cross-entropy of each label is convex there
    probe = probe_convexity(clf, X, Y, layer="head", n_segments=10, random_state=0)
    assert probe.n_violations == 0 and probe.min_eigenvalue >= -1e-8 and probe.max_eigenvalue > 0
    with pytest.raises(ValueError, match=r"needs a 0/1 matrix of \(160, 3\)"):
        probe_convexity(clf, X, Y[:, :2], layer="head", n_segments=2)


def test_checkpoints_and_refit_multilabel(tmp_path):
    X, Y = make_multilabel(100)
    params = dict(FAST, checkpoint_dir=tmp_path / "ck")
    first = AutoNetLCNClassifier(**params).fit(X, Y)
    again = AutoNetLCNClassifier(**params).fit(X, Y)
    assert again.search_history_["from_checkpoint"] == [True]
    assert_same_fit(again.predict_proba(X), first.predict_proba(X))
    # another target (a label flipped) is another search: nothing reused
    flipped = AutoNetLCNClassifier(**params).fit(X, np.c_[1 - Y[:, :1], Y[:, 1:]])
    assert flipped.search_history_["from_checkpoint"] == [False]
    refit = AutoNetLCNClassifier(**dict(FAST, refit=True)).fit(X, Y)
    assert refit.n_fit_ == 100 and refit.predict(X).shape == (100, 3)


def test_kfold_scoring_multilabel():
    X, Y = make_multilabel(90)
    for train, valid in kfold_splits(Y, None, 3, 0):  # stratified on each row's rarest label
        assert (Y[train].min(0) == 0).all() and (Y[train].max(0) == 1).all()
        np.testing.assert_allclose(Y[valid].sum(0) / Y.sum(0), 1 / 3, atol=0.1)
    clf = AutoNetLCNClassifier(
        max_candidates=2, max_epochs=2, min_steps_per_epoch=1, halving=False, patience=5, random_state=0,
        cv=3, cv_max_samples=1000, threshold="tuned", refit=False,  # the bagged fold models
    ).fit(X, Y)
    # candidates within the bound on a fold's training part (here the narrower one) get an out-of-fold score
    scored = np.isfinite(clf.search_history_["cv_score"])
    assert scored.any() and all(0 < s <= 1 for s in np.asarray(clf.search_history_["cv_score"])[scored])
    n_members = int((np.asarray(clf.search_history_["ensemble_weight"]) > 0).sum())
    assert len(clf.ensemble_weights_) == 3 * n_members  # the members' fold models, bagged
    proba = clf.predict_proba(X)
    assert proba.shape == (90, 3) and np.isfinite(proba).all()
    assert clf.thresholds_.shape == (3,) and not np.allclose(clf.thresholds_, 0.5)
    np.testing.assert_array_equal(clf.predict(X), (proba >= clf.thresholds_).astype(int))


def test_single_label_unchanged_by_threshold():
    X, Y = make_multilabel(80)
    a = AutoNetLCNClassifier(**FAST).fit(X, Y[:, 0])
    b = AutoNetLCNClassifier(**dict(FAST, threshold="tuned")).fit(X, Y[:, 0])
    assert a.target_type_ == "binary" and a.thresholds_ is None
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


# ------------------------------------------------------------ real ECG: MIT-BIH windows
def beat_classes(annotation, start, stop):
    """Which AAMI beat classes (N, S, V, F) a window ``[start, stop)`` of a record contains, as 0/1."""
    from sklearn_autonet.ecg import AAMI_MAP

    inside = (annotation.sample >= start) & (annotation.sample < stop)
    found = {AAMI_MAP.get(symbol) for symbol, keep in zip(annotation.symbol, inside) if keep}
    return [int(beat in found) for beat in BEATS]


@pytest.fixture(scope="module")
def beat_windows(shared_data):
    """10 s windows (90 Hz, lead 0) of records 208, 232, 119: minutes 0-10 to fit, 10-20 to test."""
    pytest.importorskip("wfdb")
    from sklearn_autonet.ecg import load_windows

    common = dict(length=10, fs=90, leads=[0], label=beat_classes)
    folder = shared_folder(shared_data, "mitdb")
    fit = load_windows(folder, ["208", "232", "119"], sampto=360 * 600, **common)
    test = load_windows(folder, ["208", "232", "119"], sampfrom=360 * 600, sampto=360 * 1200, **common)
    return fit, test


def test_real_beat_windows_multilabel(beat_windows, tmp_path):
    fit, test = beat_windows
    assert fit.y.shape == (180, 4) and test.y.shape == (180, 4)
    # every window of these records holds a normal beat: the N column cannot be learnt, and says so
    with pytest.raises(ValueError, match=r"Label column\(s\) \[0\] of y are 1 for every sample"):
        AutoNetLCNClassifier(**FAST).fit(fit.X, fit.y)
    Y, Y_test = fit.y[:, 1:], test.y[:, 1:]  # S, V, F
    clf = AutoNetLCNClassifier(**dict(FAST, sampling_rate=90, threshold="tuned")).fit(fit.X, Y)
    proba = clf.predict_proba(test.X)
    assert proba.shape == (180, 3) and np.isfinite(proba).all() and ((proba >= 0) & (proba <= 1)).all()
    pred = clf.predict(test.X)
    assert pred.shape == (180, 3) and set(np.unique(pred)) <= {0, 1}
    f1 = f1_score(Y_test, pred, average="macro")
    assert 0 < f1 <= 1
    # S and V windows of the next 10 minutes are ranked well above their prevalence (2 epochs)
    precision = average_precision_score(Y_test, proba, average=None)
    prevalence = Y_test.mean(0)
    assert (precision[:2] > prevalence[:2] + 0.15).all(), (precision, prevalence)

    loaded = load(save(clf, tmp_path / "beats.autonet"))
    np.testing.assert_array_equal(loaded.predict_proba(test.X), proba)
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from sklearn_autonet.export import export_onnx

    session = ort.InferenceSession(export_onnx(clf, tmp_path / "beats.onnx"))
    np.testing.assert_allclose(session.run(["probabilities"], {"input": test.X})[0], proba, atol=1e-5)
