"""The bad-input table: every case raises a clear ValueError/TypeError from our code, or works.

Each case builds its inputs, calls one public entry point (``fit``,
``predict``, ``predict_proba``, a transformer, a wfdb reader) and checks the
exception type and a message that names the problem; cases marked ``None``
must work (a documented fallback or a supported input).  Every array passed in
is compared with a copy afterwards: nothing may modify the caller's data.
docs/errors.md lists the same table.
"""

import warnings

import numpy as np
import pytest

from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet.ecg import BandpassFilter, Resampler, SignalStandardizer

FAST = dict(max_candidates=1, max_epochs=2, random_state=0)
RNG = np.random.RandomState(0)
TAB_X = RNG.randn(60, 5)
TAB_Y = np.arange(60) % 3
SIG_X = RNG.randn(60, 2, 32).astype(np.float32)


@pytest.fixture(scope="module")
def fitted():
    """A tabular and a two-lead signal model, fitted once for the predict cases."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "tabular": AutoNetLCNClassifier(**FAST).fit(TAB_X, TAB_Y),
            "signal": AutoNetLCNClassifier(**FAST).fit(SIG_X, TAB_Y),
        }


def fit(X, y, **kwargs):
    return AutoNetLCNClassifier(**FAST).fit(X, y, **kwargs)


def with_nan(X):
    X = np.array(X, dtype=np.float64)
    X.flat[7] = np.nan
    return X


def with_inf(X):
    X = np.array(X, dtype=np.float64)
    X.flat[3] = np.inf
    return X


def readonly_memmap(tmp_path, X):
    path = tmp_path / "X.npy"
    np.save(path, X)
    return np.load(path, mmap_mode="r")


def predict_on(kind, method):
    return lambda models, X: getattr(models[kind], method)(X)


def fit_case(X, y, error=None, match=None, **kwargs):
    """A ``fit`` case: inputs ``(X, y)``; ``check`` runs on the fitted model when it works."""
    return dict(call=lambda models, X, y: fit(X, y, **kwargs), args=(X, y), error=error, match=match)


def one_arg(call, X, error=None, match=None):
    return dict(call=call, args=(X,), error=error, match=match)


def transformer(cls, **params):
    return lambda models, X: cls(**params).fit_transform(X)


RAGGED = [list(r) for r in TAB_X[:20, :5]] + [list(TAB_X[20, :4])]
CASES = {
    # ---------------------------------------------------------------- fit
    "fit-nan-X": fit_case(with_nan(TAB_X), TAB_Y, ValueError, "Input X contains NaN"),
    "fit-inf-X": fit_case(with_inf(TAB_X), TAB_Y, ValueError, "Input X contains infinity"),
    "fit-nan-y": fit_case(TAB_X, np.where(TAB_Y == 0, np.nan, TAB_Y), ValueError, "Input y contains NaN"),
    "fit-empty": fit_case(np.zeros((0, 5)), np.zeros(0), ValueError, "0 sample"),
    "fit-one-sample": fit_case(TAB_X[:1], TAB_Y[:1], ValueError, "1 sample.*minimum of 2"),
    "fit-one-class": fit_case(TAB_X, np.zeros(60, dtype=int), ValueError, "at least 2 classes; y has only 1"),
    "fit-single-member-class (fallback)": fit_case(TAB_X, np.r_[np.arange(59) % 2, 7]),
    "fit-too-few-samples": fit_case(
        RNG.randn(20, 500), np.arange(20) % 2, ValueError, r"needs at least \d+ training samples"
    ),
    "fit-too-few-for-validation-split": fit_case(
        TAB_X[:3], [0, 1, 2], ValueError, "Too few samples .* for a validation split"
    ),
    "fit-string-labels": fit_case(TAB_X, np.array(["N", "S", "V"])[TAB_Y]),
    "fit-object-labels": fit_case(TAB_X, np.array(["N", "S", "V"], dtype=object)[TAB_Y]),
    "fit-boolean-labels": fit_case(TAB_X, TAB_Y == 0),
    "fit-mixed-label-types": fit_case(
        TAB_X, np.array([1, "a", "b"] * 20, dtype=object), ValueError, "y mixes label types"
    ),
    "fit-missing-labels": fit_case(TAB_X, np.array(["a", None, "b"] * 20, dtype=object), ValueError, "missing label"),
    "fit-continuous-labels": fit_case(TAB_X, RNG.randn(60), ValueError, "Unknown label type: continuous"),
    "fit-2d-labels": fit_case(TAB_X, np.c_[TAB_Y, TAB_Y], ValueError, "Multi-output multiclass targets .* are not supported"),
    "fit-label-length": fit_case(TAB_X, TAB_Y[:50], ValueError, "inconsistent numbers of samples"),
    "fit-int-X": fit_case(RNG.randint(-5, 5, size=(60, 5)), TAB_Y),
    "fit-bool-X": fit_case(RNG.rand(60, 5) > 0.5, TAB_Y),
    "fit-float64-X": fit_case(TAB_X.astype(np.float64), TAB_Y),
    "fit-string-X": fit_case(np.array([["a", "b"]] * 60), TAB_Y, ValueError, "could not convert string to float"),
    "fit-complex-X": fit_case(TAB_X + 1j, TAB_Y, ValueError, "Complex data not supported"),
    "fit-1d-X": fit_case(TAB_X[:, 0], TAB_Y, ValueError, "Expected 2D array"),
    "fit-4d-X": fit_case(RNG.randn(60, 2, 4, 8), TAB_Y, ValueError, "must be 2-D .* or 3-D .* 4 dimensions"),
    "fit-ragged-list": fit_case(RAGGED, [0, 1] * 10 + [0], ValueError, "ragged sequence"),
    "fit-records-2d-and-3d": fit_case(
        [RNG.randn(2, 30), RNG.randn(1, 2, 40), RNG.randn(2, 35)], [0, 1, 0], ValueError,
        r"record 1 has shape \(1, 2, 40\) \(the records have 2 and 3 dimensions\)",
    ),
    "fit-records-lead-counts": fit_case(
        [RNG.randn(2, 30), RNG.randn(3, 40), RNG.randn(2, 35)], [0, 1, 0], ValueError,
        "different numbers of leads: record 0 has 2, record 1 has 3",
    ),
    "fit-records-nan": fit_case(
        [RNG.randn(2, 30), with_nan(RNG.randn(2, 40)), RNG.randn(2, 35)], [0, 1, 0], ValueError,
        r"record 1 of X holds 1 non-finite value\(s\)",
    ),
    "fit-records-label-length": fit_case(
        [RNG.randn(2, 30), RNG.randn(2, 40), RNG.randn(2, 35)], [0, 1], ValueError, "inconsistent numbers of samples"
    ),
    "fit-signal-length-1": fit_case(RNG.randn(60, 2, 1), TAB_Y, ValueError, "length >= 2"),
    "fit-tabular-kind-3d": dict(
        call=lambda models, X, y: AutoNetLCNClassifier(input_kind="tabular", **FAST).fit(X, y),
        args=(SIG_X, TAB_Y), error=ValueError, match="input_kind='tabular' needs 2-D X",
    ),
    "fit-negative-weight": dict(
        call=lambda models, X, y, w: fit(X, y, sample_weight=w),
        args=(TAB_X, TAB_Y, -np.ones(60)), error=ValueError, match="Negative values in data passed to `sample_weight`",
    ),
    "fit-nan-weight": dict(
        call=lambda models, X, y, w: fit(X, y, sample_weight=w),
        args=(TAB_X, TAB_Y, np.full(60, np.nan)), error=ValueError, match="sample_weight contains NaN",
    ),
    "fit-groups-length": dict(
        call=lambda models, X, y, g: fit(X, y, groups=g),
        args=(TAB_X, TAB_Y, np.arange(10)), error=ValueError, match="groups has shape",
    ),
    "fit-float32-overflow": fit_case(
        np.where(np.arange(300).reshape(60, 5) == 7, 1e39, TAB_X), TAB_Y, ValueError,
        r"X has 1 value\(s\) too large for float32.*largest magnitude is 1e\+39.*Rescale or standardise",
    ),
    "fit-groups-with-none": dict(
        call=lambda models, X, y, g: fit(X, y, groups=g),
        args=(TAB_X, TAB_Y, np.array(["p1", None, "p2", "p3"] * 15, dtype=object)), error=ValueError,
        match=r"groups has 15 missing value\(s\) \(None or NaN\) of 60",
    ),
    "fit-groups-with-nan": dict(
        call=lambda models, X, y, g: fit(X, y, groups=g),
        args=(TAB_X, TAB_Y, np.where(np.arange(60) == 4, np.nan, np.arange(60) // 6)), error=ValueError,
        match=r"groups has 1 missing value\(s\) \(None or NaN\) of 60, the first at sample 4",
    ),
    "fit-groups-a-class-per-group": dict(
        call=lambda models, X, y, g: fit(X, y, groups=g),
        args=(TAB_X, np.arange(60) // 30, np.arange(60) // 30), error=ValueError,
        match=r"cannot keep every class in training.*With 2 groups, use other or finer groups",
    ),
    "fit-sparse-X": dict(
        call=lambda models, X, y: fit(__import__("scipy.sparse").sparse.csr_matrix(X), y),
        args=(TAB_X, TAB_Y), error=TypeError, match="dense data is required",
    ),
    # ------------------------------------------------------------ predict
    "predict-nan": one_arg(predict_on("tabular", "predict"), with_nan(TAB_X[:5]), ValueError, "Input X contains NaN"),
    "predict_proba-inf": one_arg(
        predict_on("tabular", "predict_proba"), with_inf(TAB_X[:5]), ValueError, "Input X contains infinity"
    ),
    "predict-empty": one_arg(predict_on("tabular", "predict"), np.zeros((0, 5)), ValueError, "0 sample"),
    "predict-wrong-features": one_arg(
        predict_on("tabular", "predict"), TAB_X[:5, :4], ValueError, "X has 4 features.*expecting 5"
    ),
    "predict-wrong-leads": one_arg(
        predict_on("signal", "predict"), SIG_X[:5, :1], ValueError, "1 lead.*fitted on 2 lead"
    ),
    "predict_proba-wrong-length": one_arg(
        predict_on("signal", "predict_proba"), SIG_X[:5, :, :16], ValueError, "length 16.*length 32"
    ),
    "predict-2d-for-2-leads": one_arg(
        predict_on("signal", "predict"), SIG_X[:5, 0], ValueError, "X has 32 features.*expecting 2"
    ),
    "predict-4d": one_arg(
        predict_on("signal", "predict"), SIG_X[:5, :, None], ValueError, r"layout seen in fit.*\(5, 2, 1, 32\)"
    ),
    "predict_proba-float32-overflow": one_arg(
        predict_on("signal", "predict_proba"), np.where(SIG_X[:5] > 2, -1e39, SIG_X[:5].astype(np.float64)), ValueError,
        r"too large for float32.*largest magnitude is 1e\+39.*float32 holds up to 3\.403e\+38",
    ),
    "predict-ragged-list": one_arg(predict_on("tabular", "predict"), RAGGED, ValueError, "ragged sequence"),
    "predict-records-on-an-array-model": one_arg(
        predict_on("signal", "predict"), [SIG_X[0], SIG_X[1, :, :20]], ValueError,
        "list of records of different lengths, but this AutoNetLCNClassifier was fitted on fixed-length input",
    ),
    "predict-one-sample": one_arg(predict_on("tabular", "predict_proba"), TAB_X[:1]),
    "predict-int-X": one_arg(predict_on("tabular", "predict"), RNG.randint(-3, 3, size=(5, 5))),
    "predict-float32-signal": one_arg(predict_on("signal", "predict_proba"), SIG_X[:5]),
    # -------------------------------------------------------- transformers
    "filter-nan": one_arg(transformer(BandpassFilter), with_nan(RNG.randn(3, 1, 720)), ValueError, "contains NaN"),
    "filter-inf": one_arg(transformer(BandpassFilter), with_inf(RNG.randn(3, 720)), ValueError, "contains infinity"),
    "filter-empty": one_arg(transformer(BandpassFilter), np.zeros((0, 720)), ValueError, "0 sample"),
    "filter-too-short": one_arg(transformer(BandpassFilter), RNG.randn(3, 1, 20), ValueError, "too short"),
    "filter-4d": one_arg(transformer(BandpassFilter), RNG.randn(2, 1, 1, 720), ValueError, "4 dimension"),
    "filter-1d": one_arg(transformer(BandpassFilter), RNG.randn(720), ValueError, "1 dimension"),
    "standardizer-ragged-list": one_arg(
        transformer(SignalStandardizer), [[1.0, 2.0, 3.0], [1.0, 2.0]], ValueError, "ragged sequence"
    ),
    "standardizer-string": one_arg(
        transformer(SignalStandardizer), np.array([["a", "b"]]), ValueError, "could not convert"
    ),
    "resampler-int-input": one_arg(transformer(Resampler, sampling_rate=360, target_rate=180), RNG.randint(0, 9, (2, 360))),
    "standardizer-float32": one_arg(transformer(SignalStandardizer), SIG_X[:4]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_case(name, fitted):
    case = CASES[name]
    args = case["args"]
    copies = [snapshot(a) for a in args]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if case["error"] is None:
            case["call"](fitted, *args)
        else:
            with pytest.raises(case["error"], match=case["match"]) as info:
                case["call"](fitted, *args)
            assert type(info.value).__module__.split(".")[0] not in ("torch", "skorch")
    for original, copy in zip(args, copies):
        if is_records(original):
            for record, kept in zip(original, copy, strict=True):
                np.testing.assert_array_equal(record, kept)
        elif isinstance(original, list):
            assert original == copy.tolist()
        else:
            np.testing.assert_array_equal(np.asarray(original), copy)


def is_records(value):
    return isinstance(value, list) and any(isinstance(r, np.ndarray) for r in value)


def snapshot(value):
    """A copy to compare the input with afterwards (a list of record arrays: each record copied)."""
    if is_records(value):
        return [np.copy(r) for r in value]
    return np.array(value, dtype=object) if isinstance(value, list) else np.copy(value)


def test_single_member_class_trains_on_its_one_sample():
    """The documented fallback: a class with one sample keeps it on the training side."""
    y = np.r_[np.arange(59) % 2, 7]
    clf = fit(TAB_X, y)
    assert 7 in clf.classes_ and clf.predict_proba(TAB_X).shape == (60, 3)


def test_too_few_samples_says_how_many(fitted):
    with pytest.raises(ValueError) as info:
        fit(RNG.randn(20, 500), np.arange(20) % 2)
    message = str(info.value)
    assert "N_fit=16" in message and "needs at least 502 training samples" in message


def test_labels_come_back_in_their_own_type(fitted):
    for y in (np.array(["N", "S", "V"])[TAB_Y], TAB_Y == 0, TAB_Y.astype(np.int8) - 1):
        predicted = fit(TAB_X, y).predict(TAB_X[:5])
        assert predicted.dtype == y.dtype and set(predicted) <= set(y)


def test_pandas_input_and_feature_names():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(TAB_X, columns=[f"f{i}" for i in range(5)])
    before = frame.copy()
    clf = fit(frame, pd.Series(np.array(["a", "b", "c"])[TAB_Y]))
    assert list(clf.feature_names_in_) == list(frame.columns)
    assert clf.predict(frame.iloc[:3]).shape == (3,)
    pd.testing.assert_frame_equal(frame, before)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame.rename(columns={"f0": "other"}).iloc[:3])


def test_readonly_memmap_input(tmp_path, fitted):
    X = readonly_memmap(tmp_path, TAB_X)
    assert not X.flags.writeable
    clf = fit(X, TAB_Y)
    np.testing.assert_array_equal(clf.predict(X), fitted["tabular"].predict(TAB_X))
    signals = readonly_memmap(tmp_path, SIG_X)
    out = BandpassFilter(low=1, high=20, sampling_rate=100).fit_transform(signals)
    assert out is not signals and np.array_equal(signals, SIG_X)


# ------------------------------------------------------------ wfdb readers
@pytest.fixture
def record_dir(tmp_path):
    """A synthetic 10 s single-lead wfdb record ``rec`` with beat annotations."""
    wfdb = pytest.importorskip("wfdb")
    t = np.arange(3600) / 360
    signal = (np.mod(t, 0.8) < 0.03).astype(float) + 0.05 * np.sin(2 * np.pi * t)
    wfdb.wrsamp("rec", fs=360, units=["mV"], sig_name=["MLII"], p_signal=signal[:, None], fmt=["212"],
                write_dir=str(tmp_path))
    peaks = np.arange(100, 3500, 288)
    wfdb.wrann("rec", "atr", peaks, ["N"] * len(peaks), write_dir=str(tmp_path))
    return tmp_path


def _read(record_dir, **kwargs):
    from sklearn_autonet.ecg import load_beats

    return load_beats(record_dir, ["rec"], **kwargs)


def test_reader_reads_the_synthetic_record(record_dir):
    beats = _read(record_dir)
    assert beats.X.shape[1:] == (1, 252) and set(beats.y) == {"N"}


def _corrupt_header(d):
    (d / "rec.hea").write_text("this is not a wfdb header\n")


def _truncate_dat(d):
    data = (d / "rec.dat").read_bytes()
    (d / "rec.dat").write_bytes(data[: len(data) // 3])


def _foreign_annotation(d):
    import wfdb

    wfdb.wrann("rec", "atr", np.array([500, 9000, 20000]), ["N"] * 3, write_dir=str(d))


def _header_without_signals(d):
    (d / "rec.hea").write_text("rec 0 360 3600\n")


def _remove_dat(d):
    (d / "rec.dat").unlink()


READER_CASES = {
    "wfdb-corrupt-header": (_corrupt_header, {}, ValueError, "cannot read the wfdb header .*rec.hea"),
    "wfdb-header-without-signals": (_header_without_signals, {}, ValueError, "declares no signals"),
    "wfdb-truncated-dat": (_truncate_dat, {}, ValueError, "cannot read the signal file .*rec.dat.*shorter"),
    "wfdb-missing-dat": (_remove_dat, {}, FileNotFoundError, "signal file .*rec.dat"),
    "wfdb-annotation-of-another-record": (
        _foreign_annotation, {}, ValueError, "rec.atr does not match its record.*another record"
    ),
    "wfdb-unknown-lead": (None, {"leads": "V5"}, ValueError, "no lead 'V5'"),
    "wfdb-range-outside-record": (None, {"sampfrom": 0, "sampto": 99999}, ValueError, "not inside the record"),
}


@pytest.mark.parametrize("name", list(READER_CASES))
def test_bad_wfdb_input(name, record_dir):
    damage, kwargs, error, match = READER_CASES[name]
    if damage is not None:
        damage(record_dir)
    with pytest.raises(error, match=match):
        _read(record_dir, **kwargs)


def test_missing_record_directory(tmp_path):
    from sklearn_autonet.ecg import load_beats

    with pytest.raises(FileNotFoundError, match="directory not found"):
        load_beats(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="no wfdb records"):
        load_beats(tmp_path)


def test_two_groups_fit_with_a_warning_about_the_validation_share():
    groups = np.arange(60) % 2
    with pytest.warns(UserWarning, match=r"group-wise validation split holds out 50% of the samples \(30 of 60\), "
                      r"not validation_fraction=0\.2: there are only 2 groups") as record:
        clf = fit(TAB_X, TAB_Y, groups=groups)
    assert clf.search_history_["n_fit"][0] == 30
    assert not [w for w in record if "n_splits" in str(w.message)]


# ------------------------------------------------- parameters, before any training
PARAM_CASES = {
    "unknown-scoring": (dict(scoring="balanced_acuracy"), {}, r"scoring='balanced_acuracy' is not a scikit-learn "
                        r"scorer name; sklearn.metrics.get_scorer_names\(\) lists them"),
    "roc_auc-with-3-classes": (dict(scoring="roc_auc"), {}, r"scoring='roc_auc' cannot score this task: 3 classes, "
                               r"3 of them in the 12 validation samples \(ValueError: .*multi_class.*'roc_auc_ovr'"),
    "f1-with-3-classes": (dict(scoring="f1"), {}, r"scoring='f1' cannot score this task: 3 classes.*average"),
    "batch-size-1": (dict(batch_size=1), {}, r"batch_size=1: batch norm needs at least 2 samples per mini-batch"),
    "device-tpu": (dict(device="tpu"), {}, r"device='tpu' is not a torch device"),
    "device-mps": (dict(device="mps"), {}, r"device='mps' is not available on this machine \(.*\); use 'auto' or 'cpu'"),
    "device-meta": (dict(device="meta"), {}, r"device='meta' holds no data and cannot train"),
    "device-cuda-7": (dict(device="cuda:7"), {}, r"device='cuda:7' but (CUDA is not available|only \d CUDA device)"),
    "class-weight-negative": (dict(class_weight={0: -1.0, 1: 1.0}), {}, r"class_weight must map classes to finite, "
                              r"non-negative numbers; got \{0: -1\.0\}"),
    "class-weight-nan": (dict(class_weight={0: 1.0, 2: float("inf")}), {}, r"finite, non-negative numbers; got \{2: inf\}"),
    "class-weight-unknown-key": (dict(class_weight={0: 1.0, 1: 2.0, 2: 1.0, "N": 3.0}), {},
                                 r"class_weight has key\(s\) \['N'\] that are not classes of y; the classes are \[0, 1, 2\]"),
    "class-weight-int-keys-for-string-labels": (
        dict(class_weight={0: 2.0}), {"y": np.array(["N", "S", "V"])[TAB_Y]},
        r"class_weight has key\(s\) \[0\] that are not classes of y; the classes are \['N', 'S', 'V'\]"),
    "empty-checkpoint-dir": (dict(checkpoint_dir=""), {}, r"checkpoint_dir='' is an empty path"),
    "no-positive-training-weight": (
        {}, {"sample_weight": np.where(np.arange(60) < 12, 1.0, 0.0), "split": (np.arange(12, 60), np.arange(12))},
        r"After the validation split, 0 of the 48 training rows have a positive sample_weight \(times class_weight\), "
        r"of 0 class\(es\) \[\]; training needs positive weights for at least 2 classes"),
}


@pytest.mark.parametrize("name", list(PARAM_CASES))
def test_parameters_are_checked_before_any_training(name, monkeypatch):
    from sklearn_autonet import tasks

    params, fit_args, match = PARAM_CASES[name]
    fit_args = dict(fit_args)
    y = fit_args.pop("y", TAB_Y)
    if "split" in fit_args:  # a validation split that puts every positive weight on the validation side
        split = fit_args.pop("split")
        monkeypatch.setattr("sklearn_autonet.estimator.validation_split", lambda *a, **k: split)
    monkeypatch.setattr(tasks, "train_candidate", lambda *a, **k: pytest.fail("a candidate was trained"))
    with pytest.raises(ValueError, match=match):
        AutoNetLCNClassifier(**{**FAST, **params}).fit(TAB_X, y, **fit_args)


def test_set_params_after_fit_leaves_the_fitted_model_alone():
    X = np.hstack([SIG_X.reshape(60, -1), RNG.randn(60, 2)])
    clf = AutoNetLCNClassifier(signal_shape=(2, 32), **FAST).fit(X, TAB_Y)
    proba, report = clf.predict_proba(X), clf.convexity_report_.as_dicts()
    with pytest.warns(UserWarning, match=r"is fitted: the new signal_shape, input_kind, rho, counting apply at the next "
                      r"fit; until then the fitted network, its layout_ and convexity_report_ keep"):
        clf.set_params(signal_shape=(1, 64), input_kind="tabular", rho=0.25, counting="samples")
    np.testing.assert_array_equal(clf.predict_proba(X), proba)  # still read with layout_, not the new params
    assert clf.layout_.shape == (2, 32) and clf.convexity_report_.as_dicts() == report
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf.set_params(verbose=0, max_epochs=3)  # other parameters: no warning
    with pytest.raises(ValueError, match="X has 64 columns, but this AutoNetLCNClassifier was fitted on 66"):
        clf.predict(X[:, :64])  # the fitted layout's message, not one of signal_shape=(1, 64)
