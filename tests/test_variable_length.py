"""Signals of different lengths: a list of (leads, length_i) records through fit, predict, save and export."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV

from sklearn_autonet import AutoNetLCNClassifier, load, save
from sklearn_autonet.convexity_probe import probe_convexity
from sklearn_autonet.crops import CropLoader
from sklearn_autonet.hyperparameters import DataProperties, network_spec
from sklearn_autonet.layout import InputLayout
from sklearn_autonet.modules import LCNNetwork
from sklearn_autonet.ragged import RaggedSignals, inference_batches, read_records, receptive_field
from conftest import assert_same_fit

FAST = dict(max_candidates=2, max_epochs=3, min_steps_per_epoch=1, ensemble_size=2, random_state=0)


def make_records(n=40, leads=2, seed=0, low=60, high=200):
    """Two classes told apart by the frequency of a sine in lead 0; lengths from low to high."""
    rng = np.random.RandomState(seed)
    X, y = [], np.arange(n) % 2
    for c in y:
        t = np.arange(rng.randint(low, high))
        wave = np.sin(t * (0.5 if c else 0.12) + rng.uniform(0, 6))
        X.append((0.3 * rng.randn(leads, len(t)) + wave).astype(np.float32))
    return X, y


def specs_of(clf):
    return getattr(clf.architecture_, "specs", [clf.architecture_.spec])


@pytest.fixture(scope="module")
def records():
    return make_records()


@pytest.fixture(scope="module")
def fitted(records):
    X, y = records
    return AutoNetLCNClassifier(**FAST).fit(X, y)


def test_storage_is_the_data_not_the_padded_collection():
    X = read_records([np.ones((2, 1000)), np.zeros((2, 10)), np.full((2, 5), 3.0)])
    assert X.values.shape == (2, 1015) and X.lengths.tolist() == [1000, 10, 5]
    part = X[np.array([2, 0])]
    assert part.lengths.tolist() == [5, 1000] and float(part.values[0, :5].sum()) == 15.0
    batch, lengths = X.padded(np.array([1, 2]))
    assert tuple(batch.shape) == (2, 2, 10) and lengths.tolist() == [10, 5]
    assert float(batch[1, :, 5:].abs().sum()) == 0.0 and float(batch[1, :, :5].sum()) == 30.0


def test_crops_lie_inside_their_records_and_follow_the_seed():
    records = [np.arange(100 * i, 100 * i + n, dtype=np.float32)[None] for i, n in enumerate([40, 90, 25])]
    X = read_records(records)
    first = X.crops(np.array([0, 1, 2]), 20, torch.Generator().manual_seed(3))
    again = X.crops(np.array([0, 1, 2]), 20, torch.Generator().manual_seed(3))
    assert torch.equal(first, again) and tuple(first.shape) == (3, 1, 20)
    for i, crop in enumerate(first[:, 0].numpy()):
        assert np.all(np.diff(crop) == 1) and crop[0] >= 100 * i and crop[-1] < 100 * i + X.lengths[i]
    starts = {int(X.crops(np.array([1]), 20, g)[0, 0, 0]) for g in [torch.Generator().manual_seed(s) for s in range(30)]}
    assert len(starts) > 10  # offsets spread over the 71 possible starts


def test_crop_loader_yields_one_crop_per_record_with_its_weight():
    from skorch.dataset import Dataset

    X = read_records([np.ones((1, n), np.float32) * n for n in (30, 50, 70, 90, 110)])
    data = Dataset({"X": X, "sample_weight": np.arange(5, dtype=np.float32)}, np.arange(5))
    loader = CropLoader(data, batch_size=2, shuffle=True, generator=torch.Generator().manual_seed(0), crop_length=16)
    batches = list(loader)
    assert len(batches) == len(loader) == 3
    for Xb, yb in batches:
        assert Xb["X"].shape[1:] == (1, 16)
        # each crop's constant value is its record's length; the weight and label travel with it
        np.testing.assert_array_equal(Xb["X"][:, 0, 0].numpy(), (np.asarray(yb) * 20 + 30).astype(np.float32))
        np.testing.assert_array_equal(np.asarray(Xb["sample_weight"]), np.asarray(yb, dtype=np.float32))


def test_prediction_batches_pad_little():
    lengths = [10] * 99 + [10_000]
    X = RaggedSignals(np.zeros((1, sum(lengths)), np.float32), lengths)
    batches = list(inference_batches(X, 32))
    assert sorted(np.concatenate([rows for rows, _ in batches]).tolist()) == list(range(100))
    padded = sum(inputs["X"].numel() for _, inputs in batches)
    assert padded == 3 * 32 * 10 + 4 * 10_000  # the long record pads its own batch of 4, not the collection
    assert padded < 100 * 10_000 / 20


@pytest.mark.parametrize("depth, stem", [(1, 1), (3, 1), (2, 3)])
def test_padding_never_changes_a_record_result(depth, stem):
    spec = network_spec(DataProperties(100, "signal", (2, 64), 3), depth, 4, stem=stem)
    assert spec.hidden[0].stride == stem
    torch.manual_seed(0)
    net = LCNNetwork(spec).double().eval()
    for block in net.blocks:  # running statistics that are not the identity
        block.norm.running_mean.uniform_(-1, 1)
        block.norm.running_var.uniform_(0.5, 2)
    rng = np.random.RandomState(0)
    field = receptive_field(spec)  # the shortest record the network reads
    lengths = [field, field + 13, 64, 101, field + 1]
    X = read_records([rng.randn(2, n) for n in lengths])
    batch, lens = X.padded(np.arange(len(X)))
    with torch.no_grad():
        together = net(batch.double(), lengths=lens)
        for i in range(len(X)):
            alone = net(torch.as_tensor(X[np.array([i])].values, dtype=torch.float64)[None])
            torch.testing.assert_close(together[i : i + 1], alone, rtol=0, atol=1e-12)


def test_fit_predict_on_records(records, fitted):
    X, y = records
    shortest = min(x.shape[1] for x in X)
    assert fitted.layout_ == InputLayout("signal", (2, shortest), variable=True)  # crops of the shortest record
    assert fitted.layout_.describe() == f"signal 2 lead(s) x variable length, trained on crops of {shortest}"
    assert {spec.input_shape for spec in specs_of(fitted)} == {(2, shortest)}
    assert fitted.n_features_in_ == 2
    proba = fitted.predict_proba(X)
    assert proba.shape == (40, 2) and np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-6)
    assert set(fitted.predict(X)) <= {0, 1} and 0 <= fitted.score(X, y) <= 1


def test_the_bound_counts_records_not_crops(records, fitted):
    history = fitted.search_history_
    n_valid = 8  # validation_fraction 0.2 of 40 records
    assert set(history["n_fit"]) == {40 - n_valid} and fitted.n_fit_ == 40  # the refit trains on every record
    assert {row.N_fit for row in fitted.convexity_report_} == {40}


def test_a_record_alone_in_a_batch_or_permuted_gets_the_same_probabilities(records, fitted):
    X, _ = records
    proba = fitted.predict_proba(X)
    order = np.random.RandomState(1).permutation(len(X))
    np.testing.assert_allclose(fitted.predict_proba([X[i] for i in order]), proba[order], rtol=0, atol=1e-7)
    for i in (0, 7, 31):
        np.testing.assert_allclose(fitted.predict_proba([X[i]]), proba[i : i + 1], rtol=0, atol=1e-7)
    objects = np.empty(len(X), dtype=object)
    objects[:] = X
    np.testing.assert_array_equal(fitted.predict_proba(objects), proba)


def test_same_random_state_same_model(records, fitted):
    X, y = records
    again = AutoNetLCNClassifier(**FAST).fit(X, y)
    assert_same_fit(again.predict_proba(X), fitted.predict_proba(X))


def test_learns_a_frequency_from_crops():
    X, y = make_records(60, leads=1)
    X_test, y_test = make_records(40, leads=1, seed=1, low=150, high=400)  # longer than any training record
    clf = AutoNetLCNClassifier(max_candidates=1, max_epochs=15, random_state=0).fit(X, y)
    assert clf.score(X_test, y_test) >= 0.9


def test_crop_length_in_seconds():
    X, y = make_records(40)
    clf = AutoNetLCNClassifier(max_candidates=1, max_epochs=1, sampling_rate=100, crop_length=0.5, random_state=0)
    clf.fit(X, y)
    assert clf.layout_.shape == (2, 50) and clf.architecture_.spec.input_shape == (2, 50)
    with pytest.raises(ValueError, match="crop_length=0.5 is in seconds and needs sampling_rate"):
        AutoNetLCNClassifier(crop_length=0.5).fit(X, y)
    with pytest.raises(ValueError, match=r"crop_length=1\.5 s is 150 samples at 100 Hz, but record \d+ has only 6\d"):
        AutoNetLCNClassifier(sampling_rate=100, crop_length=1.5).fit(X, y)


@pytest.mark.parametrize(
    "X, message",
    [
        ([np.zeros((2, 30)), np.zeros((1, 2, 40))], r"record 1 has shape \(1, 2, 40\) \(the records have 2 and 3"),
        ([np.zeros((2, 30)), np.zeros((3, 40)), np.zeros((2, 20))], "different numbers of leads: record 0 has 2, record 1 has 3"),
        ([np.zeros((2, 30)), np.full((2, 40), np.nan)], r"record 1 of X holds 80 non-finite value\(s\)"),
        (np.empty(0, dtype=object), "empty collection of records"),
        ([np.zeros((2, 30)), np.zeros((2, 0))], "record 1 of X has length 0"),
        ([np.zeros((2, 30)), np.zeros((2, 3))], "record 1 has 3 sample"),
        ([np.zeros((2, 30)), np.full((2, 40), 1e39)],
         r"record 1 of X has 80 value\(s\) too large for float32.*largest magnitude is 1e\+39"),
    ],
    ids=["2-D and 3-D", "lead counts", "NaN", "empty", "length 0", "too short to crop", "beyond float32"],
)
def test_bad_records_at_fit(X, message):
    with pytest.raises(ValueError, match=message):
        AutoNetLCNClassifier(max_candidates=1, max_epochs=1).fit(X, np.arange(len(X)) % 2)


def test_records_need_a_signal_layout():
    X, y = make_records(6)
    with pytest.raises(ValueError, match="needs input_kind='auto' or 'signal' and signal_shape=None"):
        AutoNetLCNClassifier(input_kind="tabular").fit(X, y)


def test_bad_records_at_predict(records, fitted):
    X, _ = records
    with pytest.raises(ValueError, match=r"X has 3 lead\(s\) per record, but this AutoNetLCNClassifier was fitted on 2"):
        fitted.predict([np.zeros((3, 80)), np.zeros((3, 90))])
    needed = fitted.layout_.min_record_length(fitted)
    assert needed == min(min(x.shape[1] for x in X), max(receptive_field(s) for s in specs_of(fitted)))
    with pytest.raises(ValueError, match=rf"1 record\(s\) of X are shorter than {needed} samples"):
        fitted.predict([X[0], np.zeros((2, needed - 1))])
    assert fitted.predict([X[0], np.zeros((2, needed))]).shape == (2,)
    with pytest.raises(ValueError, match="X is an empty collection of records"):
        fitted.predict([])
    with pytest.raises(ValueError, match=r"pass such a list, or a 3-D array \(n_samples, 2, length\)"):
        fitted.predict(np.zeros((4, 80)))
    # equal-length records as one 3-D array are records too
    np.testing.assert_allclose(fitted.predict_proba(np.stack([X[0][:, :60], X[1][:, :60]])),
                               fitted.predict_proba([X[0][:, :60], X[1][:, :60]]), atol=1e-7)


def test_a_list_of_records_for_a_fixed_length_model_says_what_to_do():
    rng = np.random.RandomState(0)
    clf = AutoNetLCNClassifier(max_candidates=1, max_epochs=1, random_state=0)
    clf.fit(rng.randn(20, 2, 32).astype(np.float32), np.arange(20) % 2)
    with pytest.raises(ValueError, match=r"list of records of different lengths, but this AutoNetLCNClassifier "
                                         r"was fitted on fixed-length input \('n_samples', 2, 32\)"):
        clf.predict([np.zeros((2, 32)), np.zeros((2, 40))])


def test_layout_saved_with_the_model(tmp_path, records, fitted):
    X, _ = records
    assert fitted.layout_.to_dict()["variable"] is True
    assert "variable" not in InputLayout("signal", (2, 60)).to_dict()  # fixed-length files unchanged
    assert InputLayout.from_dict({"kind": "signal", "shape": [2, 60]}).variable is False
    with pytest.raises(ValueError, match="variable must be a bool"):
        InputLayout.from_dict({"kind": "tabular", "shape": [3], "variable": True})
    path = save(fitted, tmp_path / "model.autonet")
    loaded = load(path)
    assert loaded.layout_ == fitted.layout_
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).predict_proba(X), fitted.predict_proba(X))


def test_onnx_has_a_dynamic_time_axis(tmp_path, records, fitted):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from sklearn_autonet.export import export_onnx

    X, _ = records
    session = ort.InferenceSession(export_onnx(fitted, tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    assert session.get_modelmeta().custom_metadata_map["variable_length"] == "true"
    for record in (X[0], X[3], X[9]):  # three lengths, one graph
        out = session.run(None, {"input": record[None]})[0]
        np.testing.assert_allclose(out, fitted.predict_proba([record]), atol=1e-5)


def test_search_machinery_on_records(tmp_path):
    X, y = make_records(24)
    kw = dict(max_candidates=1, max_epochs=2, min_steps_per_epoch=1, random_state=0, checkpoint_dir=tmp_path)
    first = AutoNetLCNClassifier(**kw).fit(X, y)
    again = AutoNetLCNClassifier(**kw).fit(X, y)
    assert again.search_history_["from_checkpoint"] == [True]
    assert_same_fit(again.predict_proba(X), first.predict_proba(X))
    other = [x.copy() for x in X]
    other[0][0, 0] += 1
    assert AutoNetLCNClassifier(**kw).fit(other, y).search_history_["from_checkpoint"] == [False]
    X, y = make_records(50)
    crossed = AutoNetLCNClassifier(max_candidates=1, max_epochs=2, min_steps_per_epoch=1, random_state=0,
                                   cv=5, cv_max_samples=100, refit=True).fit(X, y)
    assert crossed.n_fit_ == 50 and np.isfinite(crossed.search_history_["cv_score"][0])
    probe = probe_convexity(first, X, y, layer="head", n_segments=5, random_state=0)
    assert probe.n_parameters == first.architecture_.spec.head.width * (first.architecture_.spec.head.in_channels + 1)


def test_grid_search_on_an_object_array_of_records():
    records, y = make_records(40)
    X = np.empty(len(records), dtype=object)
    X[:] = records
    search = GridSearchCV(AutoNetLCNClassifier(max_candidates=1, min_steps_per_epoch=1, random_state=0),
                          {"max_epochs": [1, 2]}, cv=2).fit(X, y)
    assert search.best_estimator_.layout_.variable and len(search.cv_results_["mean_test_score"]) == 2


def test_multi_label_targets_on_records(tmp_path):
    """Records of different lengths with a 0/1 label matrix: sigmoid outputs per label, kept by save/load and ONNX."""
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from sklearn_autonet.export import export_onnx

    rng = np.random.default_rng(0)
    X = [rng.standard_normal((1, int(n))).astype(np.float32) for n in rng.integers(200, 400, 80)]
    Y = rng.integers(0, 2, (80, 3))
    for x, labels in zip(X, Y):
        x[0, :50] += 2.0 * labels[0]  # label 0 shows at the start of its records
    clf = AutoNetLCNClassifier(max_candidates=1, max_epochs=3, min_steps_per_epoch=1, random_state=0).fit(X, Y)
    P = clf.predict_proba(X)
    assert P.shape == (80, 3) and np.isfinite(P).all() and ((P >= 0) & (P <= 1)).all()
    assert not np.allclose(P.sum(axis=1), 1.0)  # independent labels, not a softmax
    assert set(np.unique(clf.predict(X))) <= {0, 1} and clf.predict(X).shape == (80, 3)
    alone = np.vstack([clf.predict_proba([x]) for x in X[:5]])
    np.testing.assert_array_equal(alone, P[:5])
    path = tmp_path / "m.autonet"
    save(clf, path)
    np.testing.assert_array_equal(load(path).predict_proba(X), P)
    session = ort.InferenceSession(export_onnx(clf, tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    for x, p in zip(X[:3], P[:3]):  # three lengths, one graph, sigmoid outputs
        np.testing.assert_allclose(session.run(None, {"input": x[None]})[0][0], p, atol=1e-5)


def test_augmentation_applies_to_the_crops():
    """The signal augmentation changes the training crops of records (not only fixed-length batches), reproducibly."""
    rng = np.random.default_rng(1)
    X = [rng.standard_normal((1, int(n))).astype(np.float32) for n in rng.integers(200, 400, 60)]
    y = rng.integers(0, 2, 60)
    params = dict(max_candidates=1, max_epochs=2, min_steps_per_epoch=1, random_state=0, sampling_rate=100)
    plain = AutoNetLCNClassifier(augmentation=None, **params).fit(X, y).predict_proba(X)
    augmented = [AutoNetLCNClassifier(augmentation="default", **params).fit(X, y).predict_proba(X) for _ in range(2)]
    assert_same_fit(augmented[0], augmented[1])
    assert np.abs(augmented[0] - plain).max() > 1e-4


def test_crop_length_trains_long_records_of_one_length_on_crops():
    """A 3-D array of long records with crop_length: random crops in training, whole records at prediction."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((60, 1, 1000)).astype(np.float32)
    y = rng.integers(0, 2, 60)
    X[y == 1] *= 3.0  # class 1: three times the amplitude, anywhere in the record
    params = dict(max_candidates=1, max_epochs=30, min_steps_per_epoch=1, random_state=0, sampling_rate=100)
    clf = AutoNetLCNClassifier(crop_length=2.0, **params).fit(X, y)
    assert clf.layout_.variable and clf.architecture_.spec.input_shape == (1, 200)
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(list(X)))
    assert clf.score(X, y) > 0.6
    fixed = AutoNetLCNClassifier(**params).fit(X, y)  # no crop_length: a fixed-length model, as before
    assert not fixed.layout_.variable and fixed.architecture_.spec.input_shape == (1, 1000)
