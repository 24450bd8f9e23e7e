"""Tests of the classical denoisers (band-pass + notch, wavelet thresholding) on real EEG."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

import sigest
from sigest.datasets import load_sample
from sigest.estimators.classical import BandpassDenoiser, WaveletDenoiser
from sigest.metrics import rrmse_temporal
from sigest.noise import mix_at_snr

SFREQ = 256.0


@pytest.fixture(scope="module")
def clean_eeg():
    """The 101 clean EEGdenoiseNet epochs shipped with sigest (2 s at 256 Hz, std-scaled)."""
    return load_sample().eeg


def _line_and_wander(n, n_times, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n_times) / SFREQ
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    line = np.sin(2 * np.pi * 50 * t + phase) + 0.3 * np.sin(2 * np.pi * 100 * t + 2 * phase)
    wander = np.sin(2 * np.pi * rng.uniform(0.1, 0.4, (n, 1)) * t + phase)
    return line + 2.0 * wander


def test_bandpass_notch_removes_powerline_and_baseline_wander_from_real_eeg(clean_eeg):
    noisy = mix_at_snr(clean_eeg, _line_and_wander(*clean_eeg.shape), 0.0)
    den = BandpassDenoiser(l_freq=1.0, h_freq=45.0, notch_freqs=(50.0, 100.0),
                           sfreq=SFREQ).fit(noisy)
    before = rrmse_temporal(clean_eeg, noisy)
    after = rrmse_temporal(clean_eeg, den.transform(noisy))
    assert after < 0.5 * before, (before, after)
    assert den.score(noisy, clean_eeg) == pytest.approx(-after)


def test_wavelet_removes_white_noise_from_real_eeg(clean_eeg):
    rng = np.random.default_rng(0)
    noisy = mix_at_snr(clean_eeg, rng.standard_normal(clean_eeg.shape), 0.0)
    before = rrmse_temporal(clean_eeg, noisy)
    results = {}
    for mode in ("soft", "hard"):
        den = WaveletDenoiser(mode=mode).fit(noisy)
        results[mode] = rrmse_temporal(clean_eeg, den.transform(noisy))
        assert results[mode] < 0.9 * before, (mode, before, results[mode])
    assert results["soft"] != results["hard"]


@pytest.mark.parametrize("den", [BandpassDenoiser(), WaveletDenoiser()], ids=["bp", "wt"])
def test_shapes_dtypes_mne_and_input_untouched(den, clean_eeg):
    mne = pytest.importorskip("mne")
    X3 = np.stack([clean_eeg[:6], clean_eeg[6:12]], axis=1)
    for X in (clean_eeg[:6], X3, X3.astype(np.float32)):
        before = X.copy()
        out = clone(den).fit(X).transform(X)
        assert out.shape == X.shape and out.dtype == X.dtype
        np.testing.assert_array_equal(X, before)
    # channels are denoised independently
    np.testing.assert_allclose(clone(den).fit_transform(X3)[:, 1],
                               clone(den).fit_transform(clean_eeg[6:12]), rtol=1e-6, atol=1e-9)
    epochs = mne.EpochsArray(X3, mne.create_info(["a", "b"], SFREQ, ch_types="eeg"),
                             verbose=False)
    np.testing.assert_allclose(clone(den).fit_transform(epochs), clone(den).fit_transform(X3))
    if "sfreq" in den.get_params():
        other = mne.EpochsArray(X3, mne.create_info(["a", "b"], 100.0, ch_types="eeg"),
                                verbose=False)
        with pytest.raises(ValueError, match="sfreq"):
            clone(den).fit(other)


def test_registered_and_scored_without_clean_targets(clean_eeg):
    assert {"bandpass", "wavelet"} <= set(sigest.list_estimators(task="denoising"))
    den = sigest.get_estimator("wavelet").fit(clean_eeg[:10])
    score = den.score(clean_eeg[:10])  # clean X is mixed with white noise first
    assert np.isfinite(score) and score < 0
    noisy, clean = den.noisy_pairs(clean_eeg[:10])
    np.testing.assert_array_equal(clean, clean_eeg[:10])
    assert score == pytest.approx(-rrmse_temporal(clean, den.transform(noisy)))
    labels = np.arange(10)
    assert den.score(clean_eeg[:10], labels) == pytest.approx(score)
    with pytest.raises(ValueError, match="clean targets"):
        WaveletDenoiser(noise=None).fit(clean_eeg[:10]).score(clean_eeg[:10])


def test_grid_search_and_pipeline(clean_eeg):
    noisy = mix_at_snr(clean_eeg, _line_and_wander(*clean_eeg.shape, seed=1), 0.0)
    search = GridSearchCV(BandpassDenoiser(notch_freqs=50.0),
                          {"h_freq": [30.0, 45.0], "l_freq": [0.1, 2.0]}, cv=2)
    search.fit(noisy, clean_eeg)
    assert search.best_params_["l_freq"] == 2.0  # 0.1 Hz keeps the wander
    pipe = make_pipeline(WaveletDenoiser(), BandpassDenoiser())
    assert pipe.fit_transform(noisy).shape == noisy.shape


def test_bad_parameters_and_inputs(clean_eeg):
    X = clean_eeg[:4]
    with pytest.raises(ValueError, match="wavelet"):
        WaveletDenoiser(wavelet="nope").fit(X)
    with pytest.raises(ValueError, match="mode"):
        WaveletDenoiser(mode="medium").fit(X)
    with pytest.raises(ValueError, match="level"):
        WaveletDenoiser(level=0).fit(X)
    with pytest.raises(ValueError, match="threshold"):
        WaveletDenoiser(threshold="sure").fit(X)
    with pytest.raises(ValueError, match="method"):
        BandpassDenoiser(method="fft").fit(X)
    with pytest.raises(ValueError, match="all are None"):
        BandpassDenoiser(l_freq=None, h_freq=None).fit(X)
    with pytest.raises(ValueError, match="positive"):
        BandpassDenoiser(sfreq=0.0).fit(X)
    with pytest.raises(ValueError, match="features"):
        BandpassDenoiser().fit(X).transform(clean_eeg[:4, :256])
    with pytest.raises(ValueError, match="shape"):
        BandpassDenoiser().fit(X).score(X, clean_eeg[:4, :256])


def test_short_epochs_are_handled():
    X = np.random.default_rng(0).standard_normal((5, 3))
    for den in (BandpassDenoiser(), WaveletDenoiser()):
        assert np.isfinite(den.fit_transform(X)).all()
    np.testing.assert_array_equal(WaveletDenoiser().fit_transform(X), X)  # no level fits


def test_bandpass_notch_raises_snr_of_real_ecg(shared_data):
    """The ECG baseline (0.5-40 Hz + 60 Hz notch at 360 Hz) on MIT-BIH record 100."""
    from sigest.datasets import load_mitbih

    clean, _, _ = load_mitbih(records=("100",), path=shared_data, window=1024)
    clean = clean[:40] - clean[:40].mean(axis=1, keepdims=True)  # a high-pass removes DC
    rng = np.random.default_rng(0)
    t = np.arange(clean.shape[1]) / 360.0
    noise = (np.sin(2 * np.pi * 60 * t + rng.uniform(0, 6, (40, 1)))
             + 2 * np.sin(2 * np.pi * 0.2 * t + rng.uniform(0, 6, (40, 1))))
    noisy = mix_at_snr(clean, noise, 0.0)
    den = BandpassDenoiser(l_freq=0.5, h_freq=40.0, notch_freqs=60.0, sfreq=360.0).fit(noisy)
    before = rrmse_temporal(clean, noisy)
    after = rrmse_temporal(clean, den.transform(noisy))
    assert after < 0.5 * before, (before, after)


@pytest.mark.parametrize("params, match", [
    ({"l_freq": 40.0, "h_freq": 1.0}, "l_freq must be below h_freq"),
    ({"l_freq": 1.0, "h_freq": 128.0}, "h_freq must be frequencies in"),
    ({"l_freq": -1.0, "h_freq": 40.0}, "l_freq must be frequencies in"),
    ({"l_freq": None, "h_freq": None, "notch_freqs": (50.0, 150.0)}, "notch_freqs must be"),
])
def test_bandpass_denoiser_refuses_a_bad_band_at_fit(params, match):
    # swapped cutoffs reached mne, which silently makes them a band-stop
    X = np.random.default_rng(0).standard_normal((4, 256))
    with pytest.raises(ValueError, match=match):
        BandpassDenoiser(sfreq=256.0, **params).fit(X)
