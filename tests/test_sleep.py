"""The frequency-cut attention stager: network shapes, the estimator, and a real-data fit."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

import sigest
from sigest.estimators.sleep import FreqCutSleepStager, add_context
from sigest.models.freqcut import FreqCutAttention, spectrogram_size

TINY = {"module__dim": 16, "module__depth": 1, "module__heads": 2, "module__dim_head": 8,
        "module__mlp_dim": 32}


def _tiny_module_kwargs():
    return {k.removeprefix("module__"): v for k, v in TINY.items()}


@pytest.mark.parametrize("n_channels", [1, 3])
def test_single_epoch_forward_shape(n_channels):
    net = FreqCutAttention(n_channels, 500, 5, sfreq=100.0)
    assert net(torch.randn(4, n_channels, 500)).shape == (4, 5)
    # 31 bins up to 30 Hz in 4-bin patches -> 8 frequency patches x 5 one-second frames
    assert (net.n_freqs, net.n_frames, net.n_freq_patches) == (31, 5, 8)
    assert net.pos_embedding.shape == (1, 8 * 5 + 1, 128)


def test_sequence_forward_shape():
    net = FreqCutAttention(2, 500, 5, sfreq=100.0, n_context=2, **_tiny_module_kwargs())
    assert net(torch.randn(3, 2, 5 * 500)).shape == (3, 5)


def test_spectrogram_input_forward_shape():
    net = FreqCutAttention(1, 31 * 5, 4, spectrogram_shape=(31, 5), n_context=1,
                           **_tiny_module_kwargs())
    assert net(torch.randn(2, 1, 3 * 31 * 5)).shape == (2, 4)


def test_paper_defaults():
    net = FreqCutAttention(1, 3000, 5, sfreq=100.0)
    assert len(net.encoder.layers) == 8
    attention, feed_forward = net.encoder.layers[0]
    assert attention.heads == 12 and attention.to_qkv.out_features == 3 * 12 * 16
    assert feed_forward[1].out_features == 256
    assert spectrogram_size(3000, 100.0) == (31, 30)


def test_sequence_context_changes_the_output():
    torch.manual_seed(0)
    net = FreqCutAttention(1, 200, 3, sfreq=40.0, n_context=1, **_tiny_module_kwargs()).eval()
    x = torch.randn(2, 1, 600)
    y = x.clone()
    y[..., :200] = torch.randn(2, 1, 200)  # a different left neighbour
    assert not torch.allclose(net(x), net(y))


def test_add_context_respects_recordings():
    X = np.arange(5.0).reshape(5, 1, 1)
    out = add_context(X, 1, groups=[0, 0, 1, 1, 1])[:, 0]
    np.testing.assert_array_equal(out, [[0, 0, 1], [0, 1, 1], [2, 2, 3], [2, 3, 4], [3, 4, 4]])


def _toy(n=60, n_times=200, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(["slow", "fast"], n // 2)
    t = np.arange(n_times) / 40.0
    freq = np.where(y == "slow", 2.0, 12.0)[:, None]
    X = np.sin(2 * np.pi * freq * t + rng.uniform(0, 6, (n, 1))) + 0.3 * rng.standard_normal(
        (n, n_times))
    return X[:, None, :], y


def test_estimator_fits_predicts_and_clones():
    X, y = _toy()
    stager = sigest.get_estimator("freqcut-sleep", sfreq=40.0, max_epochs=8, lr=3e-3,
                                  batch_size=16, random_state=0, **TINY)
    stager.fit(X, y)
    proba = stager.predict_proba(X)
    assert proba.shape == (60, 2)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    assert stager.score(X, y) > 0.9
    assert clone(stager).get_params()["n_context"] == 0


def test_sequence_estimator_and_stacked_input_agree_in_shape():
    X, y = _toy(40)
    rows = FreqCutSleepStager(sfreq=40.0, n_context=1, max_epochs=1, random_state=0, **TINY)
    assert rows.fit(X, y).predict(X).shape == (40,)
    stacked = FreqCutSleepStager(sfreq=40.0, n_context=1, context_stacked=True, max_epochs=1,
                                 random_state=0, **TINY)
    assert stacked.fit(add_context(X, 1), y).predict(add_context(X, 1)).shape == (40,)
    with pytest.raises(ValueError, match="3 epochs"):
        stacked.fit(X[..., :199], y)


def test_pipeline_with_stft():
    from sigest.preprocessing import STFT

    X, y = _toy()
    pipe = make_pipeline(STFT(sfreq=40.0, n_fft=40, hop_length=40, fmax=20.0),
                         FreqCutSleepStager(spectrogram_input=True, max_epochs=8, lr=3e-3,
                                            batch_size=16, random_state=0, **TINY))
    pipe.fit(X, y)
    assert pipe.predict_proba(X).shape == (60, 2)
    assert pipe.score(X, y) > 0.9
    with pytest.raises(ValueError, match="n_freqs, n_frames"):
        FreqCutSleepStager(spectrogram_input=True).fit(X, y)


def test_class_weight_balanced_weights_the_loss():
    X, y = _toy()
    X, y = X[:40], y[:40]  # 30 slow, 10 fast
    stager = FreqCutSleepStager(sfreq=40.0, max_epochs=1, random_state=0, **TINY).fit(X, y)
    weight = stager.criterion_.weight.numpy()
    np.testing.assert_allclose(weight, [40 / (2 * 10), 40 / (2 * 30)])  # classes_ fast, slow


def test_short_fit_beats_chance_on_held_out_subject(shared_data):
    from sklearn.metrics import balanced_accuracy_score

    from sigest.datasets import load_sleep_edf

    X, y, groups = load_sleep_edf(path=shared_data, subjects=[0, 1, 2])
    train, test = np.flatnonzero(groups != 2), np.flatnonzero(groups == 2)
    rng = np.random.default_rng(0)
    train = rng.choice(train, 1200, replace=False)
    test = rng.choice(test, 600, replace=False)
    scale = X[train].std()
    stager = FreqCutSleepStager(max_epochs=6, lr=3e-3, batch_size=32, random_state=0, **TINY)
    stager.fit(X[train] / scale, y[train])
    score = balanced_accuracy_score(y[test], stager.predict(X[test] / scale))
    print(f"balanced accuracy on the held-out subject: {score:.3f}")
    assert score > 0.35  # chance is 0.2 for five stages


@pytest.mark.parametrize("param", ["sfreq", "n_context", "spectrogram_shape", "n_times"])
def test_network_parameters_the_stager_sets_itself_are_refused(param):
    X, y = _toy(n=8)
    stager = sigest.get_estimator("freqcut-sleep", sfreq=40.0, max_epochs=1, **TINY,
                                  **{f"module__{param}": 1})
    with pytest.raises(ValueError, match=f"module__{param} is set by FreqCutSleepStager itself"):
        stager.fit(X, y)


def test_stacked_spectrograms_are_the_rows_the_stager_would_stack_itself():
    from sigest.preprocessing import STFT

    X, y = _toy(24)
    S = STFT(sfreq=40.0, n_fft=40, hop_length=40, fmax=20.0).fit_transform(X)
    params = dict(spectrogram_input=True, n_context=1, max_epochs=1, random_state=0, **TINY)
    rows = FreqCutSleepStager(**params).fit(S, y)
    stacked = FreqCutSleepStager(context_stacked=True, **params).fit(add_context(S, 1), y)
    assert add_context(S, 1).shape == S.shape[:3] + (3 * S.shape[3],)
    np.testing.assert_allclose(stacked.predict_proba(add_context(S, 1)), rows.predict_proba(S),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=f"3 epochs of equal length; got {S.shape[3] - 1} "
                                         "frames"):
        FreqCutSleepStager(context_stacked=True, **params).fit(S[..., 1:], y)
    with pytest.raises(ValueError, match="n_context must be a non-negative integer; got True"):
        FreqCutSleepStager(n_context=True, sfreq=40.0, max_epochs=1, **TINY).fit(X, y)


def test_noise_is_refused_with_spectrogram_input():
    X = np.random.default_rng(0).standard_normal((8, 1, 16, 6))
    stager = FreqCutSleepStager(spectrogram_input=True, noise="white", max_epochs=1)
    with pytest.raises(ValueError, match="noise='white' adds noise to signals, but with "
                                         "spectrogram_input=True X holds spectrograms"):
        stager.fit(X, np.arange(8) % 2)
