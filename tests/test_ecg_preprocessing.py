"""Signal transformers: measured on real MIT-BIH ECG, checked against scipy.signal directly."""

import doctest
import pickle

import numpy as np
import pytest
from scipy import ndimage, signal
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

import sklearn_autonet.ecg.preprocessing as preprocessing
from sklearn_autonet import AutoNetLCNClassifier
from sklearn_autonet.ecg import BandpassFilter, BaselineRemover, Resampler, SignalStandardizer
from conftest import shared_folder

FS = 360
TRANSFORMERS = [
    BandpassFilter(0.5, 40.0, sampling_rate=FS),
    BaselineRemover(sampling_rate=FS),
    BaselineRemover("highpass", sampling_rate=FS),
    Resampler(FS, 250),
    SignalStandardizer(),
    SignalStandardizer(per="sample"),
]


@pytest.fixture(scope="module")
def ecg_100(shared_data):
    """The first 60 s of record 100, both leads, (2, 21600) in mV."""
    wfdb = pytest.importorskip("wfdb")
    record = wfdb.rdrecord(str(shared_folder(shared_data, "mitdb_wfdb") / "100"), sampto=60 * FS)
    return record.p_signal.T.copy()


@pytest.fixture(scope="module")
def beats(shared_data):
    pytest.importorskip("wfdb")
    from sklearn_autonet.ecg import load_beats

    return load_beats(shared_folder(shared_data, "mitdb_wfdb"), ["106", "119"], before=90 / FS, after=166 / FS, sampto=72000)


def amplitude(x, freq):
    """Amplitude of the sinusoid at ``freq`` Hz in ``x`` (last axis), from the FFT."""
    spectrum = np.abs(np.fft.rfft(x, axis=-1)) * 2 / x.shape[-1]
    return spectrum[..., np.argmin(np.abs(np.fft.rfftfreq(x.shape[-1], 1 / FS) - freq))]


def band_energy(x, low, high):
    freqs = np.fft.rfftfreq(x.shape[-1], 1 / FS)
    return (np.abs(np.fft.rfft(x, axis=-1)) ** 2)[..., (freqs >= low) & (freqs <= high)].sum(axis=-1)


def test_docstring_examples_run():
    result = doctest.testmod(preprocessing, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 8 and result.failed == 0


def test_bandpass_removes_baseline_and_mains_but_keeps_the_qrs_band(ecg_100):
    t = np.arange(ecg_100.shape[1]) / FS
    noisy = ecg_100 + 1.0 * np.sin(2 * np.pi * 0.2 * t) + 0.5 * np.sin(2 * np.pi * 60 * t)
    X = noisy[np.newaxis]
    out = BandpassFilter(0.5, 40.0, sampling_rate=FS).fit_transform(X)[0]
    assert amplitude(noisy[0], 0.2) > 0.95 and amplitude(noisy[0], 60) > 0.45
    # measured: 0.2 Hz 0.99 -> 0.0007, 60 Hz 0.51 -> 0.012 mV
    assert np.all(amplitude(out, 0.2) < 0.01)
    assert np.all(amplitude(out, 60) < 0.025)
    kept = band_energy(out, 5, 25) / band_energy(ecg_100, 5, 25)
    assert np.all((kept > 0.9) & (kept < 1.1))
    # the same as scipy's zero-phase Butterworth, lead by lead
    sos = signal.butter(4, [0.5, 40.0], btype="bandpass", fs=FS, output="sos")
    np.testing.assert_allclose(out, signal.sosfiltfilt(sos, noisy, axis=-1), rtol=1e-10, atol=1e-12)


def test_zero_phase_keeps_the_r_peaks_in_place(ecg_100):
    out = BandpassFilter(0.5, 40.0, sampling_rate=FS).fit_transform(ecg_100[:1])[0]
    lag = signal.correlation_lags(out.size, ecg_100[0].size)
    xcorr = signal.correlate(out - out.mean(), ecg_100[0] - ecg_100[0].mean())
    assert lag[np.argmax(xcorr)] == 0


@pytest.mark.parametrize("method", ["median", "highpass"])
def test_baseline_remover_removes_slow_drift(ecg_100, method):
    t = np.arange(ecg_100.shape[1]) / FS
    X = (ecg_100 + np.sin(2 * np.pi * 0.2 * t))[np.newaxis]
    out = BaselineRemover(method, sampling_rate=FS).fit_transform(X)[0]
    # measured: 0.99 -> 0.010 (median), 0.029 (high-pass, order 2 at 0.5 Hz)
    assert np.all(amplitude(out, 0.2) < 0.05)
    kept = band_energy(out, 5, 25) / band_energy(ecg_100, 5, 25)
    assert np.all((kept > 0.9) & (kept < 1.1))


def test_median_baseline_matches_scipy_median_filters(ecg_100):
    X = ecg_100[:, :3600]
    out = BaselineRemover(sampling_rate=FS, windows=(0.2, 0.6)).fit_transform(X)  # 2-D: (n, T)
    first = ndimage.median_filter(X, size=(1, 73), mode="reflect")  # 0.2 s, odd
    baseline = ndimage.median_filter(first, size=(1, 217), mode="reflect")  # 0.6 s
    np.testing.assert_allclose(out, X - baseline)


def test_resampling_360_to_250_hz(beats, ecg_100):
    out = Resampler(FS, 250).fit_transform(beats.X)
    assert beats.X.shape[2] == 256 and out.shape == beats.X.shape[:2] + (178,)  # ceil(256 * 25 / 36)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, signal.resample_poly(beats.X, 25, 36, axis=-1), rtol=1e-5, atol=1e-6)
    minute = Resampler(FS, 250).fit_transform(ecg_100[np.newaxis])
    assert minute.shape == (1, 2, 15000)
    # the R peak stays at 90/360 s = 0.25 s: index 62.5 at 250 Hz
    normal = out[beats.y == "N", 0]
    peak_at = np.argmax(np.abs(normal - np.median(normal, axis=1, keepdims=True)), axis=1)
    assert abs(np.median(peak_at) - 62.5) <= 1.5


def test_standardizer_per_lead_and_per_sample(beats):
    per_lead = SignalStandardizer().fit_transform(beats.X)
    np.testing.assert_allclose(per_lead.mean(axis=2), 0, atol=1e-5)
    np.testing.assert_allclose(per_lead.std(axis=2), 1, atol=1e-4)
    per_sample = SignalStandardizer(per="sample").fit_transform(beats.X)
    np.testing.assert_allclose(per_sample.std(axis=(1, 2)), 1, atol=1e-4)
    # per sample keeps the leads' relative scale
    ratio = beats.X.std(axis=2)[:, 0] / beats.X.std(axis=2)[:, 1]
    np.testing.assert_allclose(per_sample.std(axis=2)[:, 0] / per_sample.std(axis=2)[:, 1], ratio, rtol=1e-3)
    flat = SignalStandardizer().fit_transform(np.ones((2, 1, 10)))
    np.testing.assert_array_equal(flat, 0.0)


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=lambda t: repr(t))
def test_layouts_input_untouched_clone_pickle(transformer, beats):
    X3 = beats.X[:20].astype(np.float64)
    X2 = X3[:, 0, :].copy()
    before3, before2 = X3.copy(), X2.copy()
    out3 = transformer.fit_transform(X3)
    out2 = clone(transformer).fit(X2).transform(X2)
    np.testing.assert_array_equal(X3, before3)
    np.testing.assert_array_equal(X2, before2)
    assert out3.ndim == 3 and out2.ndim == 2 and out3.shape[:2] == X3.shape[:2]
    # one lead of a 3-D batch gives the same as the 2-D batch of that lead (except per-sample scaling)
    if not (isinstance(transformer, SignalStandardizer) and transformer.per == "sample"):
        np.testing.assert_allclose(out3[:, 0, :], out2, rtol=1e-10, atol=1e-10)
    restored = pickle.loads(pickle.dumps(transformer))
    np.testing.assert_array_equal(restored.transform(X2), out2)
    assert not hasattr(transformer, "set_output")  # outputs are signals, not named columns


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=lambda t: repr(t))
def test_bad_input_is_refused(transformer):
    X = np.zeros((3, 2, 400))
    X[1, 0, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        transformer.fit_transform(X)
    X[1, 0, 5] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        transformer.transform(X)
    with pytest.raises(ValueError, match="2-D .* or 3-D"):
        transformer.transform(np.zeros(400))
    with pytest.raises(ValueError, match="4 dimension"):
        transformer.transform(np.zeros((2, 2, 2, 400)))


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="Nyquist"):
        BandpassFilter(0.5, 200, sampling_rate=FS).fit(np.zeros((1, 400)))
    with pytest.raises(ValueError, match="below high"):
        BandpassFilter(40, 10, sampling_rate=FS).fit(np.zeros((1, 400)))
    with pytest.raises(ValueError, match="method"):
        BaselineRemover("wavelet").fit(np.zeros((1, 400)))
    with pytest.raises(ValueError, match="too short"):
        BandpassFilter(0.5, 40, sampling_rate=FS).transform(np.zeros((1, 10)))


def test_load_beats_preprocesses_whole_records(shared_data):
    from sklearn_autonet.ecg import load_beats, read_record

    kw = dict(records=["100"], leads="MLII", sampto=7200)
    folder = shared_folder(shared_data, "mitdb_wfdb")
    filtered = load_beats(folder, preprocess=BandpassFilter(0.5, 40, FS), **kw)
    record = read_record(folder / "100", leads="MLII", sampto=7200)
    expected = BandpassFilter(0.5, 40, FS).transform(record.signal[np.newaxis])[0, 0]
    start = filtered.r_peaks[0] - filtered.window[0]
    np.testing.assert_allclose(filtered.X[0, 0], expected[start : start + filtered.X.shape[2]], rtol=1e-5, atol=1e-6)


def test_pipeline_before_autonet(beats):
    pipe = make_pipeline(
        BaselineRemover(sampling_rate=FS),
        BandpassFilter(0.5, 40.0, sampling_rate=FS),
        Resampler(FS, 250),
        SignalStandardizer(),
        AutoNetLCNClassifier(sampling_rate=250, max_candidates=1, max_epochs=3, random_state=0),
    )
    pipe.fit(beats.X, beats.y)
    predicted = pipe.predict(beats.X)
    assert predicted.shape == beats.y.shape and set(predicted) <= set(beats.y)
    assert pipe[-1].input_shape_ == (2, 178)
    proba = pipe.predict_proba(beats.X[:5])
    assert proba.shape == (5, 2) and np.allclose(proba.sum(axis=1), 1)
    # a smoke test: with 3 epochs the network is not expected to have learnt the classes yet


# ------------------------------------------------------- reliability round two: bad input and rates

RATE_PARAMETERS = [
    (BandpassFilter, "sampling_rate"),
    (BaselineRemover, "sampling_rate"),
    (Resampler, "sampling_rate"),
    (Resampler, "target_rate"),
]


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=lambda t: repr(t))
def test_a_lead_off_stretch_is_refused_with_the_transformer_named(transformer, ecg_100):
    X = ecg_100[np.newaxis, :, :7200].copy()
    X[0, 1, 3600:3960] = np.nan  # one second of V5 lost
    name = type(transformer).__name__
    with pytest.raises(
        ValueError,
        match=rf"^{name}: Input X contains NaN: 360 non-finite value\(s\), the first at sample 0, lead 1, index 3600",
    ):
        clone(transformer).fit_transform(X)
    X[0, 1, 3600:3960] = np.inf
    with pytest.raises(ValueError, match=rf"^{name}: Input X contains infinity: 360 non-finite"):
        clone(transformer).transform(X)


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=lambda t: repr(t))
def test_empty_and_wrong_dimension_input_names_the_transformer(transformer):
    name = type(transformer).__name__
    with pytest.raises(ValueError, match=rf"0 sample\(s\) .* required by {name}"):
        transformer.transform(np.zeros((0, 2, 400)))
    with pytest.raises(ValueError, match=rf"0 sample\(s\) .* required by {name}"):
        transformer.fit(np.zeros((0, 400)))
    with pytest.raises(ValueError, match=rf"^{name}: X has signals with 0 leads; shape \(3, 0, 400\)"):
        transformer.transform(np.zeros((3, 0, 400)))
    with pytest.raises(ValueError, match=rf"^{name}: X has signals of length 0"):
        transformer.transform(np.zeros((3, 2, 0)))
    with pytest.raises(ValueError, match=rf"^{name}: X must be 2-D .* 1 dimension\(s\), shape \(400,\)"):
        transformer.fit(np.zeros(400))


@pytest.mark.parametrize("cls, parameter", RATE_PARAMETERS, ids=lambda v: getattr(v, "__name__", v))
@pytest.mark.parametrize("value", [0, -360.0, np.nan, np.inf], ids=["zero", "negative", "nan", "inf"])
def test_rates_must_be_positive_and_finite(cls, parameter, value):
    transformer = cls(**{parameter: value})
    with pytest.raises(ValueError, match=rf"'{parameter}' parameter of {cls.__name__} must be a float in the range"):
        transformer.fit(np.zeros((1, 400)))
    with pytest.raises(ValueError, match=rf"'{parameter}' parameter of {cls.__name__}"):
        transformer.transform(np.zeros((1, 400)))


def test_resampling_ratios_that_round_to_zero_or_are_absurd_are_refused(ecg_100):
    X = ecg_100[np.newaxis, :, :3600]
    with pytest.raises(ValueError, match=r"^Resampler: resampling from 360 Hz to 0.1 Hz: the ratio .* rounds to 0"):
        Resampler(FS, 0.1).fit_transform(X)
    with pytest.raises(ValueError, match=r"^Resampler: .* to 500.5 Hz needs an up-sampling factor of 1001"):
        Resampler(FS, 500.5).fit(X)
    with pytest.raises(ValueError, match=r"^Resampler: resampling from 1 Hz to 1e\+300 Hz is an up-sampling by"):
        Resampler(1.0, 1e300).transform(X)
    # 3599/3600 is not a fraction with factors up to 1000: the nearest, 1/1, would be 360 Hz
    with pytest.raises(ValueError, match=r"^Resampler: .* the nearest ratio 1/1 .* gives 360 Hz, off by more"):
        Resampler(FS, 359.9).transform(X)
    # the lowest rate that still works, and a ratio that needs the largest denominator
    assert Resampler(FS, 0.36).fit_transform(X).shape == (1, 2, 4)  # ceil(3600 / 1000)
    assert Resampler(FS, 360 * 999 / 1000).fit_transform(X).shape == (1, 2, 3597)


def test_resample_ratio_names_its_caller():
    with pytest.raises(ValueError, match=r"^load_beats: sampling_rate must be a positive, finite rate in Hz; got 0"):
        preprocessing.resample_ratio(0, 250, "load_beats")
    with pytest.raises(ValueError, match=r"^target_rate must be a positive, finite rate in Hz; got True"):
        preprocessing.resample_ratio(360, True)


@pytest.mark.parametrize("windows", [(np.inf,), (0.2, np.nan), (True,), (), (0.2, -1)])
def test_median_windows_must_be_positive_and_finite(windows):
    with pytest.raises(ValueError, match=r"^BaselineRemover: windows must be positive, finite lengths"):
        BaselineRemover(windows=windows).fit(np.zeros((1, 400)))


# ------------------------------------------- variable-length records: a list of (leads, length_i) arrays


@pytest.fixture(scope="module")
def episodes_203(shared_data):
    """The rhythm episodes of the first 2 minutes of record 203: 2 leads, 7 lengths from 1.3 s to 46 s."""
    pytest.importorskip("wfdb")
    from sklearn_autonet.ecg import load_episodes

    return load_episodes(shared_folder(shared_data, "mitdb"), ["203"], sampto=2 * 60 * FS).X


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=lambda t: repr(t))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_list_of_equal_length_records_gives_the_array_results(transformer, dtype, ecg_100):
    X = ecg_100.reshape(2, 6, 3600).transpose(1, 0, 2).astype(dtype)  # six 10 s windows
    out = clone(transformer).fit_transform(list(X))
    assert isinstance(out, list) and len(out) == 6 and all(x.dtype == dtype for x in out)
    np.testing.assert_array_equal(np.stack(out), clone(transformer).fit_transform(X))


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=lambda t: repr(t))
def test_each_record_of_a_list_is_transformed_alone(transformer, episodes_203):
    lengths = [x.shape[1] for x in episodes_203]
    assert len(set(lengths)) == len(lengths) > 3
    before = [x.copy() for x in episodes_203]
    out = clone(transformer).fit(episodes_203).transform(tuple(episodes_203))
    for x, y, kept in zip(episodes_203, out, before):
        np.testing.assert_array_equal(x, kept)  # input not modified
        np.testing.assert_array_equal(y, clone(transformer).fit_transform(x[np.newaxis])[0])
        assert y.dtype == np.float32
        if isinstance(transformer, Resampler):
            assert y.shape == (2, int(np.ceil(x.shape[1] * 25 / 36)))
        else:
            assert y.shape == x.shape


def test_a_pipeline_of_transformers_keeps_the_list(episodes_203):
    pipe = make_pipeline(BandpassFilter(0.5, 40, sampling_rate=FS), Resampler(FS, 250), SignalStandardizer())
    out = pipe.fit_transform(episodes_203)
    assert [y.shape[1] for y in out] == [int(np.ceil(x.shape[1] * 25 / 36)) for x in episodes_203]
    np.testing.assert_allclose([y.std(axis=1) for y in out], 1.0, rtol=1e-4)


def test_bad_lists_of_records_are_named(episodes_203):
    X = list(episodes_203[:3])
    with pytest.raises(ValueError, match=r"^SignalStandardizer: X is a list of records, each a 2-D .* X\[1\] has "
                       r"shape \(1, 2, \d+\) \(3-D\)"):
        SignalStandardizer().fit_transform([X[0], X[1][np.newaxis], X[2]])
    with pytest.raises(ValueError, match=r"^BandpassFilter: X is a list of records with different numbers of leads: "
                       r"X\[0\] has 2, X\[2\] has 1"):
        BandpassFilter().fit([X[0], X[1], X[2][:1]])
    bad = [x.copy() for x in X]
    bad[2][1, 5] = np.nan
    with pytest.raises(ValueError, match=r"^Resampler: Input X\[2\] contains NaN: 1 non-finite value\(s\), the first "
                       r"at lead 1, index 5"):
        Resampler(FS, 250).transform(bad)
    with pytest.raises(ValueError, match=r"^BandpassFilter: X\[1\], shape \(2, 20\): signals of length 20 are too"):
        BandpassFilter().transform([X[0], X[1][:, :20]])
    # a list of 1-D rows is still one 2-D array
    assert isinstance(SignalStandardizer().fit_transform([X[0][0], X[0][1]]), np.ndarray)
    with pytest.raises(ValueError, match=r"^SignalStandardizer: X\[1\] is empty: shape \(2, 0\)"):
        SignalStandardizer().fit([X[0], X[1][:, :0]])
    # integer records are read as float64, float32 ones stay float32
    out = SignalStandardizer().fit_transform([np.ones((2, 5), dtype=int), X[0]])
    assert out[0].dtype == np.float64 and out[1].dtype == np.float32
