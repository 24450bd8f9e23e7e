"""TS-STDN: network shapes, the combined loss, the denoiser side, and tuning by GridSearchCV."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

import sigest
from sigest.estimators.ts_stdn import TSSTDNClassifier
from sigest.models.ts_stdn import TSSTDN

SMALL = {"module__D": 1, "module__Fs": 4, "module__Ft": 4, "module__d": 8,
         "module__kernel_size": 16}


@pytest.mark.parametrize("n_channels, n_times, n_fft", [
    (1, 500, 100), (1, 7, 200), (4, 128, 64), (62, 400, 200), (3, 33, 16),
])
def test_forward_shapes(n_channels, n_times, n_fft):
    net = TSSTDN(n_channels, n_times, 3, n_fft=n_fft, D=2, Fs=8, Ft=4, d=8).eval()
    x = torch.randn(2, n_channels, n_times)
    logits, x_rec, s_rec = net(x)
    window = min(n_fft, n_times)
    frames = (n_times - window) // window + 1
    assert logits.shape == (2, 3)
    assert x_rec.shape == x.shape
    assert s_rec.shape == (2, n_channels, window // 2 + 1, frames)
    assert net.spectrum(x).shape == s_rec.shape


def test_spectrum_is_log_magnitude_stft():
    net = TSSTDN(1, 200, 2, n_fft=100)
    x = torch.randn(1, 1, 200)
    expected = torch.stft(x[0], 100, hop_length=100, window=torch.hann_window(100),
                          center=False, return_complex=True).abs()
    torch.testing.assert_close(net.spectrum(x)[0], torch.log(expected + 1e-6))


def _toy(n=48, n_channels=3, n_times=64, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(["a", "b"], n // 2)
    t = np.arange(n_times) / 64.0
    freq = np.where(y == "a", 4.0, 12.0)[:, None, None]
    X = np.sin(2 * np.pi * freq * t) + 0.3 * rng.standard_normal((n, n_channels, n_times))
    return X, y


def test_transform_keeps_rank_and_dtype():
    X, y = _toy(n_channels=1)
    X2 = X[:, 0, :]
    clf = TSSTDNClassifier(max_epochs=1, random_state=0, module__n_fft=32, **SMALL).fit(X2, y)
    out = clf.transform(X2)
    assert out.shape == X2.shape and out.dtype == X2.dtype
    assert clf.transform(X2.astype(np.float32)).dtype == np.float32
    X3, _ = _toy(n_channels=5)
    clf3 = TSSTDNClassifier(max_epochs=1, random_state=0, module__n_fft=32, **SMALL).fit(X3, y)
    assert clf3.transform(X3).shape == X3.shape
    proba = clf3.predict_proba(X3)
    assert proba.shape == (len(X3), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert set(clf3.predict(X3)) <= {"a", "b"}


def test_reconstruction_is_in_the_loss():
    X, y = _toy()

    def first_loss(**weights):
        clf = TSSTDNClassifier(max_epochs=1, random_state=0, module__n_fft=32, **SMALL,
                               **weights).fit(X, y)
        return clf.history[0, "train_loss"]

    ce_only = first_loss(temporal_weight=0.0, spectral_weight=0.0)
    assert first_loss(temporal_weight=1.0, spectral_weight=0.0) > ce_only
    assert first_loss(temporal_weight=0.0, spectral_weight=1.0) > ce_only


def test_explicit_pairs_and_their_errors():
    X, y = _toy()
    noisy = X + np.random.default_rng(1).standard_normal(X.shape)
    clf = TSSTDNClassifier(max_epochs=2, random_state=0, module__n_fft=32, **SMALL)
    clf.fit(noisy, y, X_clean=X)
    assert clf.transform(noisy).shape == X.shape
    # the clean data set the units the network works in
    np.testing.assert_allclose(clf.data_scale_[:, 0], X.std(axis=(0, 2)), rtol=1e-5)
    with pytest.raises(ValueError, match="X_clean .* or noise"):
        clone(clf).set_params(noise="white").fit(noisy, y, X_clean=X)
    with pytest.raises(ValueError, match="clean targets X_clean must have X's shape .* got "
                                         "X_clean of shape"):
        clone(clf).fit(noisy, y, X_clean=X[:, :2])
    with pytest.raises(ValueError, match="temporal_weight"):
        clone(clf).set_params(temporal_weight=-1.0).fit(X, y)


def test_a_refit_refused_for_its_parameters_leaves_the_fitted_model_as_it_was():
    X, y = _toy(n=24, n_channels=2, n_times=32)
    clf = TSSTDNClassifier(max_epochs=1, random_state=0, module__n_fft=16, **SMALL).fit(X, y)
    proba = clf.predict_proba(X)
    noisy, y_other = X[:, :1] + 0.1, np.where(y == "a", 3, 9)
    with pytest.raises(ValueError, match="X_clean .* or noise"):
        clf.set_params(noise="white").fit(noisy, y_other, X_clean=X[:, :1])
    assert clf.classes_.tolist() == ["a", "b"] and clf.n_channels_in_ == 2
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_same_seed_same_predictions():
    X, y = _toy()
    a = TSSTDNClassifier(max_epochs=1, random_state=3, noise="white", module__n_fft=32, **SMALL)
    b = clone(a)
    np.testing.assert_allclose(a.fit(X, y).predict_proba(X), b.fit(X, y).predict_proba(X))


def test_grid_search_over_depth_and_loss_weight():
    X, y = _toy(n=32, n_channels=2, n_times=32)
    grid = GridSearchCV(
        TSSTDNClassifier(max_epochs=1, random_state=0, module__n_fft=16, **SMALL),
        {"module__D": [1, 2], "temporal_weight": [0.0, 1.0]}, cv=2)
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_params_["module__D"] in (1, 2)
    assert grid.best_estimator_.module_.temporal_features.spatial[0].out_channels == \
        4 * grid.best_params_["module__D"]


def test_registered():
    assert isinstance(sigest.get_estimator("ts-stdn"), TSSTDNClassifier)


def test_combined_loss_decreases_on_real_sleep_epochs(shared_data):
    from sigest.datasets import load_sleep_edf
    from sigest.noise import NoiseInjector

    X, y, _ = load_sleep_edf(path=shared_data, subjects=[0])
    rng = np.random.default_rng(0)
    rows = rng.choice(len(X), 160, replace=False)
    noise = NoiseInjector("nstdb-ma", snr_db=(-5.0, 5.0), sfreq=100.0, data_path=shared_data)
    torch.set_num_threads(1)
    clf = TSSTDNClassifier(max_epochs=6, batch_size=32, lr=3e-3, noise=noise,
                           module__n_fft=100, random_state=0, **SMALL)
    clf.fit(X[rows], y[rows])
    losses = clf.history[:, "train_loss"]
    assert losses[-1] < 0.9 * losses[0], losses
    denoised = clf.transform(X[rows[:8]])
    assert denoised.shape == X[rows[:8]].shape and np.isfinite(denoised).all()
