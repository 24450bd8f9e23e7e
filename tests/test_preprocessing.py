"""Tests of sigest.preprocessing: every transformer in a Pipeline, under clone, on 2-D / 3-D /
mne input, round trips, attenuation of out-of-band sines, and clear errors on bad input."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from sigest.preprocessing import (
    STFT,
    BandpassFilter,
    EpochScaler,
    NotchFilter,
    Resample,
    Windower,
    overlap_add,
    window_starts,
)

SFREQ = 256.0


def _epochs(n=6, n_channels=2, n_times=512, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal((n, n_channels, n_times)).astype(dtype)


def _sine(freq, n_times, sfreq=SFREQ):
    return np.sin(2 * np.pi * freq * np.arange(n_times) / sfreq)


def _epoch_transformers():
    return [
        STFT(sfreq=SFREQ, n_fft=64),
        STFT(sfreq=SFREQ, n_fft=64, output="complex", fmax=40.0),
        BandpassFilter(1.0, 40.0, sfreq=SFREQ, method="iir"),
        NotchFilter(50.0, sfreq=SFREQ, method="iir", notch_widths=2.0),
        Resample(sfreq=SFREQ, new_sfreq=128.0),
        EpochScaler("zscore"),
        EpochScaler("std", per_channel=False),
    ]


IDS = ["stft", "stft-complex", "bandpass", "notch", "resample", "zscore", "std"]


@pytest.fixture(autouse=True)
def _quiet_mne():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="filter_length")
        yield


# ------------------------------------------------------------------------ shared behaviour
@pytest.mark.parametrize("transformer", _epoch_transformers(), ids=IDS)
def test_pipeline_and_clone_give_the_same_output(transformer):
    X = _epochs()
    expected = clone(transformer).fit_transform(X)
    cloned = clone(transformer)
    assert cloned.get_params() == transformer.get_params()
    assert not hasattr(cloned, "n_features_in_")
    np.testing.assert_allclose(make_pipeline(cloned).fit(X).transform(X), expected)


@pytest.mark.parametrize("transformer", _epoch_transformers(), ids=IDS)
def test_2d_is_one_channel_and_rank_is_kept(transformer):
    X3 = _epochs(n_channels=1)
    X2 = X3[:, 0].copy()
    out3 = clone(transformer).fit_transform(X3)
    out2 = clone(transformer).fit_transform(X2)
    if isinstance(transformer, STFT):  # spectrogram images: always 4-D
        assert out2.ndim == out3.ndim == 4
        np.testing.assert_allclose(out2, out3)
    else:
        assert out3.ndim == 3 and out2.ndim == 2
        np.testing.assert_allclose(out2, out3[:, 0])


@pytest.mark.parametrize("transformer", _epoch_transformers(), ids=IDS)
def test_input_is_never_modified_and_dtype_kept(transformer):
    for dtype in (np.float64, np.float32):
        X = _epochs(dtype=dtype)
        before = X.copy()
        out = clone(transformer).fit_transform(X)
        np.testing.assert_array_equal(X, before)
        assert out.dtype == dtype
        assert np.isfinite(out).all()


@pytest.mark.parametrize("transformer", _epoch_transformers(), ids=IDS)
def test_mne_epochs_are_accepted_and_sfreq_mismatch_is_an_error(transformer):
    mne = pytest.importorskip("mne")
    X = _epochs(n=4, n_channels=2)
    info = mne.create_info(["C3", "C4"], SFREQ, ch_types="eeg")
    epochs = mne.EpochsArray(X, info, verbose=False)
    np.testing.assert_allclose(clone(transformer).fit_transform(epochs),
                               clone(transformer).fit_transform(X))
    other = mne.EpochsArray(X, mne.create_info(["C3", "C4"], 200.0, ch_types="eeg"),
                            verbose=False)
    if getattr(transformer, "sfreq", None) is not None:
        with pytest.raises(ValueError, match="sfreq"):
            clone(transformer).fit(other)
    fitted = clone(transformer).set_params(
        **({"sfreq": None} if "sfreq" in transformer.get_params() else {})).fit(epochs)
    if hasattr(fitted, "sfreq_") and fitted.sfreq_ is not None:
        assert fitted.sfreq_ == SFREQ
        with pytest.raises(ValueError, match="sfreq"):
            fitted.transform(other)


@pytest.mark.parametrize("transformer", _epoch_transformers(), ids=IDS)
def test_bad_input_errors(transformer):
    est = clone(transformer).fit(_epochs())
    with pytest.raises(ValueError, match="1-D"):
        est.transform(np.zeros(512))
    bad = _epochs()
    bad[0, 0, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.transform(bad)
    with pytest.raises(ValueError, match="features"):
        est.transform(_epochs(n_times=400))


@pytest.mark.parametrize("cls", [BandpassFilter, NotchFilter, Resample])
def test_filters_need_a_sampling_rate(cls):
    with pytest.raises(ValueError, match="sfreq"):
        cls().fit(_epochs())
    with pytest.raises(ValueError, match="positive"):
        cls(sfreq=-1.0).fit(_epochs())


# ------------------------------------------------------------------------------------ STFT
def test_stft_shape_frequencies_and_peak():
    X = _sine(20.0, 512)[None, None] * np.ones((3, 2, 1))
    stft = STFT(sfreq=SFREQ, n_fft=64, hop_length=16, output="magnitude", fmax=40.0).fit(X)
    S = stft.transform(X)
    assert S.shape == (3, 2, len(stft.freqs_), 33)
    assert stft.freqs_[-1] <= 40.0 and len(stft.freqs_) == 11
    peak = stft.freqs_[S[0, 0].mean(axis=-1).argmax()]
    assert peak == pytest.approx(20.0)
    log = STFT(sfreq=SFREQ, n_fft=64, fmax=40.0).fit_transform(X)
    np.testing.assert_allclose(log, np.log(S + 1e-12))


@settings(max_examples=15, deadline=None)
@given(n_times=st.integers(64, 300), n_fft=st.sampled_from([16, 32, 64]),
       hop_div=st.sampled_from([2, 4]), n_channels=st.integers(1, 3))
def test_stft_complex_round_trip(n_times, n_fft, hop_div, n_channels):
    X = _epochs(n=2, n_channels=n_channels, n_times=n_times)
    stft = STFT(n_fft=n_fft, hop_length=n_fft // hop_div, output="complex").fit(X)
    S = stft.transform(X)
    assert S.shape[:3] == (2, 2 * n_channels, n_fft // 2 + 1)
    np.testing.assert_allclose(stft.inverse_transform(S), X, atol=1e-10)


def test_stft_inverse_of_2d_and_of_cropped_band():
    t = np.arange(512) / SFREQ
    X = np.sin(2 * np.pi * 8 * t)[None].repeat(2, 0)
    stft = STFT(sfreq=SFREQ, output="complex", fmax=60.0).fit(X)
    back = stft.inverse_transform(stft.transform(X))
    assert back.shape == X.shape
    # band-limited away from the edges (the mirrored ends add broadband content there)
    np.testing.assert_allclose(back[:, 64:-64], X[:, 64:-64], atol=1e-3)


@pytest.mark.parametrize("output", ["complex", "magnitude", "log-magnitude"])
@pytest.mark.parametrize("n_times,n_fft,hop", [(512, 64, None), (300, 33, 7), (257, 16, 16)])
def test_stft_backends_agree(output, n_times, n_fft, hop):
    X = _epochs(n=3, n_times=n_times)
    ref = STFT(n_fft=n_fft, hop_length=hop, output=output, backend="scipy").fit_transform(X)
    np.testing.assert_allclose(
        STFT(n_fft=n_fft, hop_length=hop, output=output, backend="torch").fit_transform(X), ref,
        atol=1e-12)
    auto32 = STFT(n_fft=n_fft, hop_length=hop, output=output).fit_transform(
        X.astype(np.float32))  # torch backend
    assert auto32.dtype == np.float32
    np.testing.assert_allclose(auto32, ref, atol=1e-4, rtol=1e-4)


def test_stft_magnitude_has_no_inverse_and_errors():
    assert not hasattr(STFT(), "inverse_transform")
    assert hasattr(STFT(output="complex"), "inverse_transform")
    with pytest.raises(ValueError, match="output"):
        STFT(output="power").fit(_epochs())
    with pytest.raises(ValueError, match="backend"):
        STFT(backend="cuda").fit(_epochs())
    with pytest.raises(ValueError, match="needs at least 64"):
        STFT(n_fft=64).fit(_epochs(n_times=32))
    with pytest.raises(ValueError, match="fmax"):
        STFT(fmax=40.0).fit(_epochs())
    stft = STFT(output="complex").fit(_epochs())
    with pytest.raises(ValueError, match="complex STFT of shape"):
        stft.inverse_transform(np.zeros((2, 3, 33, 33)))


# --------------------------------------------------------------------------------- filters
def _gain_db(transformer, freq, n_times=2560):
    x = _sine(freq, n_times)[None]
    y = clone(transformer).fit_transform(x)
    middle = slice(n_times // 4, -n_times // 4)
    return 20 * np.log10(np.std(y[0, middle]) / np.std(x[0, middle]))


@pytest.mark.parametrize("method", ["fir", "iir"])
def test_bandpass_attenuates_out_of_band_by_20_db(method):
    bandpass = BandpassFilter(1.0, 40.0, sfreq=SFREQ, method=method)
    assert _gain_db(bandpass, 70.0) < -20
    assert _gain_db(bandpass, 0.1, n_times=25600) < -20 if method == "iir" else True
    assert abs(_gain_db(bandpass, 10.0)) < 0.5
    highpass = BandpassFilter(4.0, None, sfreq=SFREQ, method=method)
    assert _gain_db(highpass, 0.5, n_times=12800) < -20


@pytest.mark.parametrize("method", ["fir", "iir"])
def test_notch_removes_line_noise_only(method):
    notch = NotchFilter((50.0, 100.0), sfreq=SFREQ, method=method,
                        notch_widths=2.0 if method == "iir" else None)
    assert _gain_db(notch, 50.0) < -20
    assert _gain_db(notch, 100.0) < -20
    assert abs(_gain_db(notch, 20.0)) < 0.5


def test_resample_keeps_in_band_and_removes_aliases():
    x = (_sine(10.0, 2560) + _sine(100.0, 2560))[None]
    y = Resample(sfreq=SFREQ, new_sfreq=128.0).fit_transform(x)
    assert y.shape == (1, 1280)
    residual = y[0, 300:-300] - _sine(10.0, 1280, sfreq=128.0)[300:-300]
    assert 20 * np.log10(np.std(residual) / np.std(_sine(100.0, 100))) < -20
    same = Resample(sfreq=SFREQ, new_sfreq=SFREQ).fit(x)
    np.testing.assert_allclose(same.transform(x), x)
    up = Resample(sfreq=360.0, new_sfreq=256.0).fit(_epochs(n_times=720))
    assert up.n_times_out_ == 512 and up.transform(_epochs(n_times=720)).shape == (6, 2, 512)


# --------------------------------------------------------------------------------- scaling
def test_zscore_statistics_and_round_trip():
    X = 5.0 + 3.0 * _epochs()
    scaler = EpochScaler().fit(X)
    Z = scaler.transform(X)
    np.testing.assert_allclose(Z.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=-1), 1)
    assert scaler.scale_.shape == (6, 2, 1)
    np.testing.assert_allclose(scaler.inverse_transform(Z), X)


def test_std_scaling_returns_denoised_output_to_noisy_units():
    rng = np.random.default_rng(1)
    clean = 1e-5 * rng.standard_normal((8, 256))  # volts
    noisy = clean + 2e-5 * rng.standard_normal((8, 256))
    scaler = EpochScaler("std").fit(noisy)
    noisy_scaled = scaler.transform(noisy)
    np.testing.assert_allclose(noisy_scaled.std(axis=-1), 1)
    assert not np.allclose(noisy_scaled.mean(axis=-1), 0, atol=1e-6)  # "std" does not center
    center, scale = scaler.statistics(noisy)
    np.testing.assert_allclose(scale[:, 0, 0], noisy.std(axis=-1))
    target = scaler.transform(clean, center=center, scale=scale)
    denoised_scaled = target  # a perfect denoiser's output in scaled units
    # the last transform used the noisy input's statistics, so the default inverse works too
    np.testing.assert_allclose(scaler.inverse_transform(denoised_scaled), clean)
    np.testing.assert_allclose(
        scaler.inverse_transform(denoised_scaled, center=center, scale=scale), clean)


def test_epoch_scaler_flat_epochs_and_errors():
    X = np.ones((3, 1, 64)) * 7.0
    scaler = EpochScaler().fit(X)
    Z = scaler.transform(X)
    assert np.isfinite(Z).all() and np.allclose(Z, 0)
    np.testing.assert_allclose(scaler.inverse_transform(Z), X)
    with pytest.raises(ValueError, match="previous transform"):
        EpochScaler().fit(X).inverse_transform(X)
    with pytest.raises(ValueError, match="scaled 3 epochs"):
        scaler.inverse_transform(np.ones((2, 1, 64)))
    with pytest.raises(ValueError, match="both"):
        scaler.transform(X, scale=np.ones((3, 1, 1)))
    with pytest.raises(ValueError, match="method"):
        EpochScaler("minmax").fit(X)


def test_epoch_scaler_across_channels():
    X = _epochs(n_channels=3) * np.array([1.0, 10.0, 100.0])[:, None]
    Z = EpochScaler(per_channel=False).fit_transform(X)
    np.testing.assert_allclose(Z.reshape(6, -1).std(axis=-1), 1)
    assert Z[:, 2].std() > 10 * Z[:, 0].std()


# ------------------------------------------------------------------------------- windowing
@settings(max_examples=40, deadline=None)
@given(n_times=st.integers(8, 200), window=st.integers(1, 64), step=st.integers(1, 64),
       n_channels=st.integers(1, 3), n_recordings=st.integers(1, 3),
       include_end=st.booleans())
def test_windower_windows_are_slices_and_overlap_add_rebuilds(n_times, window, step, n_channels,
                                                              n_recordings, include_end):
    X = _epochs(n=n_recordings, n_channels=n_channels, n_times=n_times)
    win = Windower(window=window, step=step, include_end=include_end)
    if window > n_times:
        with pytest.raises(ValueError, match="at least"):
            win.fit_transform(X)
        return
    W = win.fit_transform(X)
    starts = win.starts_
    assert W.shape == (n_recordings * len(starts), n_channels, window)
    assert starts[0] == 0 and np.all(np.diff(starts) > 0)
    assert np.all(np.diff(starts)[: len(starts) - 1 - include_end] == step)
    for r in range(n_recordings):
        for k, s in enumerate(starts):
            np.testing.assert_array_equal(W[r * len(starts) + k], X[r, :, s:s + window])
    back = win.inverse_transform(W)
    covered = np.zeros(n_times, bool)
    for s in starts:
        covered[s:s + window] = True
    if include_end and step <= window:
        assert covered.all()
    np.testing.assert_allclose(back[..., covered], X[..., covered])
    assert np.isnan(back[..., ~covered]).all()


@settings(max_examples=20, deadline=None)
@given(offsets=st.lists(st.floats(-5, 5), min_size=2, max_size=8), step=st.integers(4, 16))
def test_overlap_add_blends_differing_windows_without_jumps(offsets, step):
    window = 16
    starts = np.arange(len(offsets)) * step
    n_times = starts[-1] + window
    windows = np.array(offsets)[:, None] * np.ones(window)
    out = overlap_add(windows, starts, n_times)
    assert np.all(out >= min(offsets) - 1e-9) and np.all(out <= max(offsets) + 1e-9)
    if step < window:  # overlapping windows: no jump larger than the neighbours' difference
        assert np.max(np.abs(np.diff(out))) <= np.max(np.abs(np.diff(offsets))) + 1e-9


def test_windower_ranks_and_mne_raw():
    mne = pytest.importorskip("mne")
    x = np.arange(1000.0)
    win = Windower(window=100, step=50)
    assert win.fit_transform(x).shape == (19, 100)
    np.testing.assert_allclose(win.inverse_transform(win.transform(x)), x)
    rec = np.stack([x, -x])
    assert win.fit_transform(rec).shape == (19, 2, 100)
    assert win.inverse_transform(win.transform(rec)).shape == (2, 1000)
    raw = mne.io.RawArray(rec, mne.create_info(["a", "b"], SFREQ, ch_types="eeg"),
                          verbose=False)
    np.testing.assert_array_equal(win.fit_transform(raw), win.transform(rec))
    pipe = make_pipeline(Windower(window=128, step=128), BandpassFilter(1.0, 40.0, sfreq=SFREQ,
                                                                        method="iir"))
    assert pipe.fit_transform(rec).shape == (7, 2, 128)
    assert clone(win).get_params() == win.get_params()


def test_windower_errors():
    with pytest.raises(ValueError, match="window must be a positive integer"):
        Windower(window=0).fit_transform(np.zeros(10))
    with pytest.raises(ValueError, match="step"):
        Windower(window=4, step=2.5).fit_transform(np.zeros(10))
    with pytest.raises(ValueError, match="shape"):
        Windower(window=4).fit_transform(np.zeros((2, 2, 2, 10)))
    with pytest.raises(ValueError, match="previous transform"):
        Windower(window=4).inverse_transform(np.zeros((2, 4)))
    win = Windower(window=4).fit(np.zeros(12))
    win.transform(np.zeros(12))
    with pytest.raises(ValueError, match="Expected 3 windows"):
        win.inverse_transform(np.zeros((5, 4)))
    assert window_starts(12, 4, 4).tolist() == [0, 4, 8]


# ------------------------------------------------------------ scikit-learn estimator checks
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

_CHECKED = [BandpassFilter(sfreq=SFREQ, method="iir"), NotchFilter(sfreq=SFREQ, method="iir"),
            Resample(sfreq=SFREQ, new_sfreq=128.0), STFT(n_fft=2), EpochScaler("std")]


def _expected_failures(estimator):
    if isinstance(estimator, EpochScaler):
        return {"check_dict_unchanged": "transform keeps the per-epoch statistics it used "
                                        "(center_, scale_) for inverse_transform, by design"}
    return {}


@parametrize_with_checks(_CHECKED, expected_failed_checks=_expected_failures)
def test_sklearn_compatible_transformers(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


# ------------------------------------------------------------------------ audit regressions
def test_bandpass_without_cutoffs_keeps_shape_and_values():
    X = _epochs(n=4, n_channels=3)
    for method in ("fir", "iir"):
        out = BandpassFilter(None, None, sfreq=SFREQ, method=method).fit_transform(X)
        assert out.shape == X.shape  # mne returns (n_epochs * n_channels, n_times)
        np.testing.assert_array_equal(out, X)


@pytest.mark.parametrize("l_freq, h_freq, match", [
    (40.0, 1.0, "below h_freq"), (10.0, 10.0, "below h_freq"),
    (1.0, 128.0, "Nyquist"), (1.0, 200.0, "Nyquist"), (130.0, None, "Nyquist"),
    (0.0, 40.0, "l_freq"), (1.0, -5.0, "h_freq"), (1.0, "40", "h_freq")])
def test_bandpass_bad_band_is_refused_at_fit(l_freq, h_freq, match):
    with pytest.raises(ValueError, match=match):
        BandpassFilter(l_freq, h_freq, sfreq=SFREQ).fit(_epochs())


@pytest.mark.parametrize("freqs", [128.0, (50.0, 150.0), 0.0, -50.0])
def test_notch_frequencies_outside_the_band_are_refused_at_fit(freqs):
    with pytest.raises(ValueError, match="freqs"):
        NotchFilter(freqs, sfreq=SFREQ).fit(_epochs())


def test_stft_inverse_refuses_a_non_invertible_hop():
    X = _epochs(n=2)
    stft = STFT(n_fft=64, hop_length=64, output="complex").fit(X)  # hann, no overlap: NOLA fails
    S = stft.transform(X)  # the spectrogram itself is fine
    with pytest.raises(ValueError, match="not invertible"):
        stft.inverse_transform(S)


def test_notch_spectrum_fit_finds_line_frequencies_itself():
    mne = pytest.importorskip("mne")
    rng = np.random.default_rng(0)
    X = (_sine(50.0, 2560) + rng.standard_normal(2560))[None]
    out = NotchFilter(None, sfreq=SFREQ, method="spectrum_fit").fit_transform(X)
    expected = mne.filter.notch_filter(X, SFREQ, None, method="spectrum_fit", verbose=False)
    np.testing.assert_allclose(out, expected)
    assert np.std(out - X) > 0.5  # the 50 Hz sine (std 0.71) is gone, not passed through
    with pytest.raises(ValueError, match="spectrum_fit"):
        NotchFilter(None, sfreq=SFREQ).fit(X)
