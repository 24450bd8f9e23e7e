"""GAN and WaveGAN generators, and the generated-data metrics."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from skorch.callbacks import Callback

from sigest.estimators.generators import GANGenerator, GeneratorEMA, WaveGANGenerator
from sigest.generative_metrics import (
    EmbeddingClassifier,
    frechet_distance,
    psd_distance,
    sliced_wasserstein_distance,
    tstr_trtr,
)
from sigest.models.gan import LineNoise, LogSpectrum, SpectralSynthesis, hann_power
from sigest.models.wavegan import WaveGAN

SMALL = {
    GANGenerator: {"module__latent_dim": 16, "module__hidden_g": (32,), "module__hidden_d": (32,)},
    WaveGANGenerator: {"module__latent_dim": 16, "module__model_size": 4,
                       "module__kernel_size": 9},
}
GENERATORS = [GANGenerator, WaveGANGenerator]


def _toy(n=60, n_times=64, minority=12, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n_times) / 64.0
    y = np.array(["rest"] * (n - minority) + ["seizure"] * minority)
    freq = np.where(y == "seizure", 3.0, 10.0)[:, None]
    X = np.sin(2 * np.pi * freq * t + rng.uniform(0, 6, (n, 1))) + 0.1 * rng.standard_normal(
        (n, n_times))
    return X * 50.0, y


@pytest.mark.parametrize("cls", GENERATORS)
@pytest.mark.parametrize("loss", ["gan", "wgan-gp"])
def test_sample_shapes_and_determinism(cls, loss):
    X, _ = _toy()
    X3 = X[:, None, :].repeat(2, axis=1)
    gen = cls(max_epochs=1, batch_size=16, loss=loss, random_state=0, **SMALL[cls]).fit(X3)
    a = gen.sample(7, random_state=3)
    assert a.shape == (7, 2, 64) and a.dtype == np.float64
    np.testing.assert_array_equal(a, gen.sample(7, random_state=3))
    assert not np.allclose(a, gen.sample(7, random_state=4))
    assert gen.sample(0).shape == (0, 2, 64)
    gen2d = cls(max_epochs=1, batch_size=16, loss=loss, random_state=0, **SMALL[cls]).fit(X)
    assert gen2d.sample(5, random_state=0).shape == (5, 64)
    # same random_state -> same fitted weights
    again = cls(max_epochs=1, batch_size=16, loss=loss, random_state=0, **SMALL[cls]).fit(X)
    np.testing.assert_array_equal(gen2d.sample(5, random_state=0), again.sample(5, random_state=0))
    assert "train_loss_d" in gen2d.history[-1] and "train_loss" in gen2d.history[-1]


@pytest.mark.parametrize("cls", GENERATORS)
def test_conditional_sampling_returns_the_asked_labels(cls):
    X, y = _toy()
    gen = cls(max_epochs=1, batch_size=16, random_state=0, **SMALL[cls]).fit(X, y)
    assert list(gen.classes_) == ["rest", "seizure"]
    Xs, ys = gen.sample(6, y="seizure", random_state=0, return_y=True)
    assert Xs.shape == (6, 64) and list(ys) == ["seizure"] * 6
    asked = np.array(["rest", "seizure", "seizure", "rest"])
    _, ys = gen.sample(4, y=asked, random_state=0, return_y=True)
    np.testing.assert_array_equal(ys, asked)
    _, ys = gen.sample(200, random_state=0, return_y=True)  # drawn by the class prior
    assert set(ys) == {"rest", "seizure"} and (ys == "rest").mean() > 0.6
    with pytest.raises(ValueError, match="not in classes_"):
        gen.sample(2, y="other")


@pytest.mark.parametrize("cls", GENERATORS)
def test_fit_resample_balances_and_keeps_real_data(cls):
    X, y = _toy()
    X_before, y_before = X.copy(), y.copy()
    gen = cls(max_epochs=1, batch_size=16, random_state=0, **SMALL[cls])
    X_res, y_res = gen.fit_resample(X, y)
    np.testing.assert_array_equal(X, X_before)  # input untouched
    np.testing.assert_array_equal(y, y_before)
    np.testing.assert_array_equal(X_res[: len(X)], X)  # real epochs first, unchanged
    np.testing.assert_array_equal(y_res[: len(y)], y)
    labels, counts = np.unique(y_res, return_counts=True)
    assert dict(zip(labels, counts)) == {"rest": 48, "seizure": 48}
    assert X_res.shape == (96, 64)
    X_half, y_half = gen.set_params(sampling_strategy=0.5).fit_resample(X, y)
    assert (y_half == "seizure").sum() == 24 and len(X_half) == 72


class _CountingClassifier(LogisticRegression):
    """Records the labels it was fitted on."""

    def fit(self, X, y):
        self.seen_y_ = np.asarray(y).copy()
        return super().fit(X, y)


def test_fit_resample_in_imblearn_pipeline():
    from imblearn.pipeline import make_pipeline

    X, y = _toy()
    X_before = X.copy()
    pipe = make_pipeline(
        GANGenerator(max_epochs=1, batch_size=16, random_state=0, **SMALL[GANGenerator]),
        _CountingClassifier())
    pipe.fit(X, y)
    seen = dict(zip(*np.unique(pipe[-1].seen_y_, return_counts=True)))
    assert seen == {"rest": 48, "seizure": 48}  # the classifier trained on balanced data
    np.testing.assert_array_equal(X, X_before)
    assert pipe.predict(X).shape == (60,)  # the sampler is skipped at predict time
    scores = cross_val_score(pipe, X, y, cv=2)  # and under cross-validation, fold by fold
    assert scores.shape == (2,)


def test_wavegan_any_length_and_phase_shuffle():
    for n_times in (1, 7, 178, 300):
        net = WaveGAN(3, n_times, n_classes=2, model_size=4)
        x = net.generator(torch.randn(5, net.latent_dim), torch.tensor([0, 1, 0, 1, 1]))
        assert x.shape == (5, 3, n_times)
        assert net.discriminator(x, torch.zeros(5, dtype=torch.int64)).shape == (5, 1)
    shuffle = WaveGAN(1, 178).discriminator.features[2]
    x = torch.arange(20.0).view(1, 1, 20).repeat(8, 1, 1)
    shuffle.train()
    torch.manual_seed(0)
    shifted = shuffle(x)
    assert shifted.shape == x.shape and not torch.equal(shifted, x)
    shuffle.eval()
    assert torch.equal(shuffle(x), x)


def _untrained_pair(cls, X, y, **module_params):
    """A plain untrained generator and one with ``module_params`` sharing its weights, in eval."""
    kwargs = dict(max_epochs=0, random_state=0, **SMALL[cls])
    plain = cls(**kwargs).fit(X, y)
    extended = cls(**kwargs, **module_params).fit(X, y)
    extended.module_.generator.load_state_dict(plain.module_.generator.state_dict(), strict=False)
    plain.module_.eval(), extended.module_.eval()
    return plain, extended


@pytest.mark.parametrize("cls", GENERATORS)
def test_post_filter_starts_as_the_identity_and_learns(cls):
    X, y = _toy()
    plain, filtered = _untrained_pair(cls, X, y, module__post_filter=9)
    generator = filtered.module_.generator
    z, labels = torch.randn(4, 16), torch.tensor([0, 1, 0, 1])
    torch.testing.assert_close(generator(z, labels), plain.module_.generator(z, labels))
    identity = torch.zeros(1, 1, 9)
    identity[..., 4] = 1.0
    torch.testing.assert_close(generator.post_filter.conv.weight.detach(), identity)
    filtered.set_params(max_epochs=2).fit(X, y)
    learned = filtered.module_.generator.post_filter.conv.weight.detach()
    assert (learned - identity).abs().max() > 1e-4  # trained with the rest of the generator
    assert filtered.sample(5, random_state=0).shape == (5, 64)


@pytest.mark.parametrize("bad", [8, -1, 2.5, True])
def test_bad_post_filter_is_named(bad):
    X, _ = _toy()
    with pytest.raises(ValueError, match="post_filter must be 0 .no filter. or an odd"):
        GANGenerator(max_epochs=0, module__post_filter=bad).fit(X)


@pytest.mark.parametrize("cls", GENERATORS)
def test_noise_floor_starts_at_zero_learns_per_class_and_samples_deterministically(cls):
    X, y = _toy()
    plain, floored = _untrained_pair(cls, X, y, module__noise_floor=7)
    assert floored.module_.latent_dim == 16 + 64  # the floor's white noise extends the latent
    generator = floored.module_.generator
    z, labels = torch.randn(4, 16 + 64), torch.tensor([0, 1, 0, 1])
    torch.testing.assert_close(generator(z, labels), plain.module_.generator(z[:, :16], labels))
    floored.set_params(max_epochs=2).partial_fit(X, y)
    taps = floored.module_.generator.noise_floor.taps.weight.detach()
    assert taps.shape == (2, 7) and taps.abs().max() > 1e-5
    assert not torch.equal(taps[0], taps[1])  # one filter per class
    first = floored.sample(6, y="seizure", random_state=3)
    np.testing.assert_array_equal(first, floored.sample(6, y="seizure", random_state=3))
    assert not np.array_equal(first, floored.sample(6, y="seizure", random_state=4))
    unconditional = cls(module__noise_floor=5, max_epochs=1, **SMALL[cls]).fit(X)
    assert unconditional.module_.generator.noise_floor.taps.weight.shape == (1, 5)
    assert np.isfinite(unconditional.sample(3, random_state=0)).all()


@pytest.mark.parametrize("bad", [8, -1, 2.5, True])
def test_bad_noise_floor_is_named(bad):
    X, _ = _toy()
    with pytest.raises(ValueError, match="noise_floor must be 0 .none. or an odd"):
        WaveGANGenerator(max_epochs=0, module__noise_floor=bad).fit(X)


def test_spectral_synthesis_draws_epochs_with_the_asked_spectrum():
    from scipy.signal import welch

    synth = SpectralSynthesis(width=3, n_channels=2, n_times=64)
    assert synth.n_latent == 2 * 2 * (4 * 64 // 2 + 1)
    knots = np.arange(64 // 2 + 1)
    with torch.no_grad():  # channel 0: flat; channel 1: nothing above knot 8 (1/4 of Nyquist)
        synth.log_amplitude.weight.zero_()
        synth.log_amplitude.bias.copy_(torch.tensor(np.concatenate(
            [np.zeros(len(knots)), np.where(knots <= 8, 0.0, -10.0)]), dtype=torch.float32))
        synth.mean.weight.zero_()
        synth.mean.bias.copy_(torch.tensor([5.0, -5.0]))
        noise = torch.randn(2000, synth.n_latent, generator=torch.Generator().manual_seed(0))
        x = synth(torch.zeros(2000, 3), noise).numpy()
    assert x.shape == (2000, 2, 64)
    np.testing.assert_allclose(x.mean(axis=(0, 2)), [5.0, -5.0], atol=0.1)
    np.testing.assert_allclose(x[:, 0].var(), 1.0, rtol=0.1)  # unit amplitudes, unit variance
    freqs, psd = welch(x, nperseg=32, axis=-1)
    psd = psd.mean(axis=0)
    assert psd[0, freqs > 0.2].min() > 0.5 * psd[0, (freqs > 0) & (freqs < 0.1)].mean()
    assert psd[1, freqs > 0.2].max() < 1e-2 * psd[1, (freqs > 0) & (freqs < 0.1)].mean()
    # drawn longer and cropped, the low-passed channel does not wrap around: its neighbouring
    # samples are alike, its two ends (neighbours in a one-period draw) are not
    assert np.corrcoef(x[:, 1, 0], x[:, 1, 1])[0, 1] > 0.8
    assert abs(np.corrcoef(x[:, 1, 0], x[:, 1, -1])[0, 1]) < 0.1


def test_spectral_synthesis_samples_deterministically_and_trains():
    X, y = _toy()
    gen = GANGenerator(module__synthesis="spectral", max_epochs=2, loss="wgan-gp",
                       random_state=0, **SMALL[GANGenerator]).fit(X, y)
    assert gen.module_.latent_dim == 16 + 2 * (4 * 64 // 2 + 1)
    assert np.all(np.isfinite(gen.history[:, "train_loss"]))
    first = gen.sample(6, y="seizure", random_state=3)
    assert first.shape == (6, 64)
    np.testing.assert_array_equal(first, gen.sample(6, y="seizure", random_state=3))
    assert not np.array_equal(first, gen.sample(6, y="seizure", random_state=4))
    floored = GANGenerator(module__synthesis="spectral", module__noise_floor=5, max_epochs=1,
                           **SMALL[GANGenerator]).fit(X)
    assert floored.module_.latent_dim == 16 + 2 * (4 * 64 // 2 + 1) + 64
    assert np.isfinite(floored.sample(3, random_state=0)).all()


def test_line_noise_is_a_steady_sinusoid_of_random_phase_shared_by_the_channels():
    line = LineNoise(width=3, n_channels=2, n_times=128, cycles=(0.25,))
    assert line.n_latent == 2
    with torch.no_grad():  # amplitudes 1 and 2
        line.log_amplitude.bias.copy_(torch.tensor([0.0, np.log(2.0)]))
        noise = torch.randn(2000, 2, generator=torch.Generator().manual_seed(0))
        x = line(torch.zeros(2000, 2, 128), torch.zeros(2000, 3), noise).numpy()
    np.testing.assert_allclose(x[:, 1], 2 * x[:, 0], atol=1e-5)
    np.testing.assert_allclose(x[:, 0].var(axis=1), 0.5, atol=1e-3)  # steady, not random
    spectrum = np.abs(np.fft.rfft(x[:, 0], axis=-1)) ** 2
    assert spectrum.argmax(axis=-1).tolist() == [32] * 2000  # 0.25 cycles/sample = bin 32
    phase = np.angle(np.fft.rfft(x[:, 0], axis=-1)[:, 32])
    assert abs(np.exp(1j * phase).mean()) < 0.05  # uniform over draws


def test_line_freq_in_hz_is_added_to_either_synthesis():
    X, y = _toy()
    for synthesis in ("waveform", "spectral"):
        gen = GANGenerator(line_freq=(16, 24), sfreq=64, module__synthesis=synthesis,
                           max_epochs=1, random_state=0, **SMALL[GANGenerator]).fit(X, y)
        line = gen.module_.generator.line
        angle = 2 * np.pi * np.outer([0.25, 0.375], np.arange(64))
        np.testing.assert_allclose(line.angle.numpy(), angle, rtol=1e-5, atol=1e-4)
        plain = GANGenerator(module__synthesis=synthesis, max_epochs=0,
                             **SMALL[GANGenerator]).fit(X, y)
        assert gen.module_.latent_dim == plain.module_.latent_dim + 4
        np.testing.assert_array_equal(gen.sample(5, random_state=1),
                                      gen.sample(5, random_state=1))


@pytest.mark.parametrize("bad", [-50, 0, "50", True, 50j, (), (50, float("nan"))])
def test_bad_line_freq_is_named(bad):
    X, _ = _toy()
    with pytest.raises(ValueError, match="line_freq must be a positive frequency in Hz"):
        GANGenerator(max_epochs=0, line_freq=bad, sfreq=200).fit(X)


def test_line_freq_without_sfreq_is_named():
    X, _ = _toy()
    with pytest.raises(ValueError, match="line_freq=50 needs the sampling frequency"):
        GANGenerator(max_epochs=0, line_freq=50).fit(X)


class _RecordGenerator(Callback):
    def on_train_begin(self, net, **kwargs):
        self.states_ = []

    def on_batch_end(self, net, training=None, **kwargs):
        if training:
            self.states_.append({k: v.detach().clone()
                                 for k, v in net.module_.generator.state_dict().items()})


@pytest.mark.parametrize("cls", GENERATORS)
def test_generator_ema_leaves_the_average_of_the_steps_in_the_generator(cls):
    X, y = _toy()
    record = _RecordGenerator()
    gen = cls(max_epochs=2, batch_size=16, callbacks=[record, GeneratorEMA(0.9)],
              random_state=0, **SMALL[cls]).fit(X, y)
    steps, start = record.states_, _initial_state(cls, X, y)
    assert len(steps) == 2 * 4  # 60 signal epochs in batches of 16: 4 steps per pass, 2 passes
    final = gen.module_.generator.state_dict()
    floats = [key for key in final if final[key].is_floating_point()]
    for key in floats:
        average = start[key].double()
        for t, state in enumerate(steps, start=1):
            decay = min(0.9, (1 + t) / (10 + t))
            average = decay * average + (1 - decay) * state[key].double()
        torch.testing.assert_close(final[key].double(), average, rtol=1e-5, atol=1e-6)
    assert any(not torch.equal(final[key], steps[-1][key]) for key in floats)
    np.testing.assert_array_equal(gen.sample(4, random_state=0), gen.sample(4, random_state=0))


def test_generator_ema_keeps_no_spare_copy_of_the_weights():
    X, _ = _toy()
    ema = GeneratorEMA(0.9)
    gen = GANGenerator(max_epochs=1, batch_size=16, callbacks=[ema], random_state=0,
                       **SMALL[GANGenerator]).fit(X)
    assert ema.average_ is None  # the average is needed while training only
    before = gen.sample(3, random_state=0)
    gen.partial_fit(X)  # continued training starts a new average from the current weights
    assert ema.average_ is None and not np.array_equal(before, gen.sample(3, random_state=0))


def _initial_state(cls, X, y):
    """The generator's weights before the first step (same seed, no training)."""
    gen = cls(max_epochs=0, batch_size=16, random_state=0, **SMALL[cls]).fit(X, y)
    return gen.module_.generator.state_dict()


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, "0.9", True])
def test_bad_generator_ema_decay_is_named(bad):
    X, _ = _toy()
    with pytest.raises(ValueError, match="GeneratorEMA decay must be a number in .0, 1.; got"):
        GANGenerator(max_epochs=1, callbacks=[GeneratorEMA(bad)]).fit(X)


@pytest.mark.parametrize("bad", ["spectrum", None, 1])
def test_bad_synthesis_is_named(bad):
    X, _ = _toy()
    with pytest.raises(ValueError, match="synthesis must be 'waveform' or 'spectral'; got"):
        GANGenerator(max_epochs=0, module__synthesis=bad).fit(X)


def test_log_spectrum_is_the_hann_windowed_log_periodogram():
    from scipy.signal import get_window

    x = np.random.default_rng(0).standard_normal((3, 2, 50)).astype(np.float32)
    expected = np.log(np.abs(np.fft.rfft(x * get_window("hann", 50))) ** 2 + 1e-6)
    out = LogSpectrum(50)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out, expected.reshape(3, -1), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("cls", GENERATORS)
def test_spectral_critic_trains_under_the_gradient_penalty(cls):
    X, y = _toy()
    gen = cls(max_epochs=0, loss="wgan-gp", module__spectral_critic=True, random_state=0,
              **SMALL[cls]).fit(X, y)
    branch = gen.module_.discriminator.spectrum
    before = [p.detach().clone() for p in branch.parameters()]
    gen.set_params(max_epochs=2).partial_fit(X, y)
    assert gen.module_.discriminator.spectrum is branch
    losses = gen.history[:, "train_loss_d"]
    assert np.all(np.isfinite(losses))
    assert any((p - b).abs().max() > 1e-5 for p, b in zip(branch.parameters(), before))
    assert gen.sample(4, y="seizure", random_state=0).shape == (4, 64)


@pytest.mark.parametrize("cls", GENERATORS)
@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_bad_spectral_critic_is_named(cls, bad):
    X, _ = _toy()
    with pytest.raises(ValueError, match="spectral_critic must be True or False; got"):
        cls(max_epochs=0, module__spectral_critic=bad).fit(X)


def test_short_real_fit_lowers_psd_distance(shared_data):
    from sigest.datasets import load_bonn

    X, _, _ = load_bonn(sets="ZS", layout="uci", path=shared_data / "bonn-eeg")
    idx = np.random.default_rng(0).choice(len(X), 500, replace=False)
    X_fit, X_ref = X[idx[:300]], X[idx[300:]]
    gen = GANGenerator(max_epochs=0, random_state=0).fit(X_fit)  # untrained: initial weights
    before = psd_distance(X_ref, gen.sample(200, random_state=0), sfreq=173.61)
    gen.set_params(max_epochs=5).fit(X_fit)
    after = psd_distance(X_ref, gen.sample(200, random_state=0), sfreq=173.61)
    assert after < before - 5.0, (before, after)  # measured: about 27.5 dB -> 9.9 dB


def test_metrics_separate_near_from_far():
    X, y = _toy(n=80, minority=40)
    Xb, yb = _toy(n=80, minority=40, seed=1)
    X_far = X * 3.0 + 20.0
    assert psd_distance(X, Xb, sfreq=64.0) < 1.0 < psd_distance(X, X_far, sfreq=64.0)
    assert sliced_wasserstein_distance(X, Xb, random_state=0) < sliced_wasserstein_distance(
        X, X_far, random_state=0)
    emb = EmbeddingClassifier(max_epochs=3, random_state=0).fit(X, y)
    assert emb.transform(X).shape == (80, 64)
    assert frechet_distance(X, Xb, emb) < frechet_distance(X, X_far, emb)
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sigest.generative_metrics import SpectralFeatures

    clf = make_pipeline(SpectralFeatures(64.0), LogisticRegression(max_iter=1000))
    scores = tstr_trtr(X, y, Xb, yb, Xb, yb, classifier=clf)
    assert scores["trtr_accuracy"] > 0.9 and scores["tstr_accuracy"] > 0.9
    y_wrong = np.where(yb == "rest", "seizure", "rest")  # synthetic labels swapped
    assert tstr_trtr(X, y, Xb, y_wrong, Xb, yb, classifier=clf)["tstr_accuracy"] < 0.1


def test_spectral_features_groups_split_the_full_set():
    from sigest.generative_metrics import SpectralFeatures

    X = np.random.default_rng(0).standard_normal((10, 2, 128))
    full = SpectralFeatures(64.0).fit_transform(X)
    spectrum = SpectralFeatures(64.0, features="spectrum").fit_transform(X)
    stats = SpectralFeatures(64.0, features="stats").fit_transform(X)
    assert stats.shape == (10, 2 * 6)
    assert spectrum.shape[1] + stats.shape[1] == full.shape[1]
    np.testing.assert_allclose(full.reshape(10, 2, -1)[..., -6:].reshape(10, -1), stats)
    with pytest.raises(ValueError, match="features must be 'all', 'spectrum' or 'stats'"):
        SpectralFeatures(64.0, features="psd").fit(X)


@pytest.mark.parametrize("cls", GENERATORS)
def test_spectral_weight_pulls_the_synthetic_spectrum_towards_the_real_one(cls):
    X, y = _toy(n=120, minority=60)
    kwargs = dict(max_epochs=20, batch_size=16, lr=1e-3, loss="wgan-gp", n_critic=1,
                  random_state=0, **SMALL[cls])
    gap = {}
    for weight in (0.0, 5.0):
        gen = cls(spectral_weight=weight, **kwargs).fit(X, y)
        synthetic = gen.sample(120, y=y, random_state=0)
        real_s, synthetic_s = ((torch.tensor((a[:, None] - gen.data_mean_) / gen.data_std_,
                                             dtype=torch.float32)) for a in (X, synthetic))
        labels = torch.tensor(np.searchsorted(gen.classes_, y))
        gap[weight] = gen._spectral_loss(real_s, synthetic_s, labels).item()
    assert gap[5.0] < 0.6 * gap[0.0], gap


def test_spectral_loss_is_zero_for_equal_batches_and_counts_each_class():
    gen = GANGenerator(spectral_weight=1.0)
    real = torch.randn(8, 1, 64)
    labels = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    assert gen._spectral_loss(real, real, labels).item() == 0.0
    shifted = real.clone()
    shifted[4:] *= 3.0  # one class three times too loud: its log power is off by log(9)
    per_class = gen._spectral_loss(real, shifted, labels).item()
    # in the log of the mean and in the mean of the log, for one class of two
    assert per_class == pytest.approx(2 * np.log(9.0) ** 2 / 2, rel=1e-4)
    assert gen._spectral_loss(real, shifted, None).item() > 0


def test_spectral_loss_sees_the_typical_epoch_not_only_the_loudest():
    rng = torch.Generator().manual_seed(0)
    noise = torch.randn(64, 1, 128, generator=rng)
    # real: one epoch in eight 30 times louder; synthetic: every epoch at the same level whose
    # mean power is the real batch's, so the log mean periodograms agree
    real = noise * torch.where(torch.arange(64) % 8 == 0, 30.0, 1.0).view(-1, 1, 1)
    level = real.pow(2).mean().sqrt() / noise.pow(2).mean().sqrt()
    flat = noise * level
    window = torch.hann_window(128)
    p_real, p_flat = hann_power(real, window), hann_power(flat, window)
    log_of_mean = ((p_real.mean(0).log() - p_flat.mean(0).log()) ** 2).mean()
    mean_of_log = ((p_real.log().mean(0) - p_flat.log().mean(0)) ** 2).mean()
    spread = ((p_real.log().std(0) - p_flat.log().std(0)) ** 2).mean()
    assert mean_of_log > 10 * log_of_mean  # the typical synthetic epoch is far too loud
    loss = GANGenerator(spectral_weight=1.0)._spectral_loss(real, flat, None)
    assert loss.item() == pytest.approx((log_of_mean + mean_of_log + spread).item(), rel=1e-5)


def test_spectral_bands_see_how_each_epochs_level_varies():
    rng = torch.Generator().manual_seed(0)
    noise = torch.randn(64, 1, 128, generator=rng)
    levels = torch.exp(torch.randn(64, 1, 1, generator=rng))  # each epoch its own loudness
    real = noise * levels
    # the same noise at one loudness whose mean power matches: the per-frequency terms barely
    # see the difference, the band covariance does
    flat = noise * levels.pow(2).mean().sqrt()
    plain, banded = GANGenerator(spectral_weight=1.0), GANGenerator(spectral_weight=1.0,
                                                                    spectral_bands=8)
    assert banded._spectral_loss(real, real, None).item() == 0.0
    extra = banded._spectral_loss(real, flat, None) - plain._spectral_loss(real, flat, None)
    assert extra.item() > 5 * plain._spectral_loss(real, flat, None).item()
    bands = banded._band_log_power(torch.ones(3, 2, 65))
    assert bands.shape[0] == 3 and bands.shape[1] % 2 == 0 and bands.shape[1] <= 16
    assert torch.all(bands == 0)  # log of unit power in every band


@pytest.mark.parametrize("bad", [-1, 2.5, True])
def test_bad_spectral_bands_is_named(bad):
    X, _ = _toy()
    with pytest.raises(ValueError, match="spectral_bands must be a non-negative integer; got"):
        GANGenerator(max_epochs=1, spectral_weight=1.0, spectral_bands=bad).fit(X)


def test_spectral_bands_without_spectral_weight_is_named():
    X, _ = _toy()
    with pytest.raises(ValueError, match="spectral_bands=8 needs spectral_weight > 0"):
        GANGenerator(max_epochs=1, spectral_bands=8).fit(X)


@pytest.mark.parametrize("bad", [-1.0, "high", True])
def test_bad_spectral_weight_is_named(bad):
    X, _ = _toy()
    with pytest.raises(ValueError, match="spectral_weight must be a finite non-negative number"):
        GANGenerator(max_epochs=1, spectral_weight=bad).fit(X)


def test_wavegan_random_crop_makes_no_position_special():
    torch.manual_seed(0)
    fixed, shifted = WaveGAN(1, 178, model_size=4), WaveGAN(1, 178, model_size=4, random_crop=True)
    assert (fixed.latent_dim, shifted.latent_dim) == (100, 101)  # one entry draws the offset
    assert shifted.generator.base_length == 4  # 256 samples: 178 at any offset in 0..63
    shifted.eval()
    z = torch.randn(2000, shifted.latent_dim)
    # the same latent vector but the offset's entry gives the same epoch shifted in time
    z_a, z_b = z[:1].clone(), z[:1].clone()
    z_a[0, -1], z_b[0, -1] = -5.0, 0.0  # offsets 0 and 32
    a, b = shifted.generator(z_a), shifted.generator(z_b)
    torch.testing.assert_close(a[..., 32:], b[..., :-32])
    # a fixed crop leaves a time-locked mean; random offsets spread it over positions
    with torch.no_grad():
        fixed.eval()
        locked = fixed.generator(z[:, :100]).mean(0).std() / fixed.generator(z[:, :100]).std()
        spread = shifted.generator(z).mean(0).std() / shifted.generator(z).std()
    assert spread < 0.5 * locked
    with pytest.raises(ValueError, match="random_crop must be True or False; got 'yes'"):
        WaveGAN(1, 178, random_crop="yes")


def test_wavegan_random_crop_samples_are_deterministic():
    X, y = _toy()
    gen = WaveGANGenerator(max_epochs=1, batch_size=16, random_state=0, module__random_crop=True,
                           **SMALL[WaveGANGenerator]).fit(X, y)
    a, b = gen.sample(6, random_state=3), gen.sample(6, random_state=3)
    assert a.shape == (6, 64)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("strategy, expected", [
    ("auto", {"a": 0, "b": 6, "c": 8}),
    ("not majority", {"a": 0, "b": 6, "c": 8}),
    ("all", {"a": 0, "b": 6, "c": 8}),
    ("minority", {"c": 8}),
    ("not minority", {"a": 0, "b": 6}),
    ({"b": 7}, {"b": 3}),
])
def test_sampling_strategies_follow_imbalanced_learn(strategy, expected):
    from sigest.base import _sampling_targets

    y = np.repeat(["a", "b", "c"], [10, 4, 2])
    assert _sampling_targets(strategy, y) == expected


def test_bad_sampling_strategy_lists_the_accepted_ones():
    X, y = _toy()
    gen = GANGenerator(max_epochs=1, sampling_strategy="majority", **SMALL[GANGenerator])
    with pytest.raises(ValueError, match="'all', a float, a dict or a callable; got 'majority'"):
        gen.fit_resample(X, y)


@pytest.mark.parametrize("cls", GENERATORS)
def test_sample_keeps_the_training_float_dtype(cls):
    X, y = _toy()
    gen = cls(max_epochs=1, batch_size=16, random_state=0, **SMALL[cls])
    X_res, _ = gen.fit_resample(X.astype(np.float32), y)
    assert X_res.dtype == np.float32 and gen.sample(3, random_state=0).dtype == np.float32
    assert gen.fit(X, y).sample(3, random_state=0).dtype == np.float64


def test_generator_learns_signals_of_any_unit():
    X, y = _toy()
    gen = GANGenerator(max_epochs=1, batch_size=16, random_state=0, **SMALL[GANGenerator])
    tesla = gen.fit(X * 1e-14, y).sample(5, random_state=0)
    unit = GANGenerator(max_epochs=1, batch_size=16, random_state=0,
                        **SMALL[GANGenerator]).fit(X, y).sample(5, random_state=0)
    np.testing.assert_allclose(tesla, unit * 1e-14, rtol=1e-4, atol=1e-20)


def test_line_freq_above_nyquist_is_refused():
    X, _ = _toy()
    with pytest.raises(ValueError, match=r"line_freq=\(50, 100\) must lie below the Nyquist "
                                         r"frequency 86.8 Hz of sfreq=173.6; 100 would alias"):
        GANGenerator(max_epochs=0, line_freq=(50, 100), sfreq=173.6).fit(X)


class _GradSpy(Callback):
    def initialize(self):
        self.calls_ = []
        return self

    def on_grad_computed(self, net, named_parameters, **kwargs):
        self.calls_.append(len(list(named_parameters)))


def test_gradient_callbacks_see_both_networks_steps():
    # train_step never notified on_grad_computed: GradientNormClipping silently did nothing
    from skorch.callbacks import GradientNormClipping

    X, _ = _toy(n=32)
    spy = _GradSpy()
    gen = GANGenerator(max_epochs=1, batch_size=16, n_critic=2, callbacks=[spy], random_state=0,
                       **SMALL[GANGenerator]).fit(X)
    n_d = len(list(gen.module_.discriminator.parameters()))
    n_g = len(list(gen.module_.generator.parameters()))
    assert spy.calls_ == [n_d, n_d, n_g] * 2  # 2 batches: 2 critic steps, then 1 generator step
    plain = GANGenerator(max_epochs=2, batch_size=16, random_state=0, **SMALL[GANGenerator])
    clipped = GANGenerator(max_epochs=2, batch_size=16, random_state=0,
                           callbacks=[GradientNormClipping(1e-6)], **SMALL[GANGenerator])
    assert not np.allclose(plain.fit(X).sample(4, random_state=0),
                           clipped.fit(X).sample(4, random_state=0))


@pytest.mark.parametrize("strategy", [
    "auto", "minority", "not minority", "not majority", "all", 0.5, 1, np.float32(0.8),
    {"seizure": 40}, {"rest": 50, "seizure": 30}, lambda y: {"seizure": 2 * np.sum(y == "seizure")},
])
def test_sampling_strategy_counts_match_imbalanced_learn(strategy):
    ros = pytest.importorskip("imblearn.over_sampling").RandomOverSampler
    X, y = _toy(n=60, minority=12)
    _, y_ref = ros(sampling_strategy=strategy, random_state=0).fit_resample(X, y)
    gen = GANGenerator(max_epochs=1, sampling_strategy=strategy, random_state=0,
                       **SMALL[GANGenerator])
    _, y_res = gen.fit_resample(X, y)
    assert dict(zip(*np.unique(y_res, return_counts=True))) == dict(
        zip(*np.unique(y_ref, return_counts=True)))


@pytest.mark.parametrize("strategy, y_kind, match", [
    (0.1, "two", "over-sampling never removes"),  # 12/48 is 0.25 already
    (1.5, "two", r"ratio in \(0, 1\]"),
    ({"seizure": 5}, "two", "fewer epochs than a class has"),
    ("auto", "one", "at least 2 classes"),
])
def test_sampling_strategy_errors_as_imbalanced_learn_before_training(strategy, y_kind, match):
    X, y = _toy(n=60, minority=12)
    if y_kind == "one":
        y = np.full(len(y), "rest")
    gen = GANGenerator(max_epochs=50, sampling_strategy=strategy, **SMALL[GANGenerator])
    with pytest.raises(ValueError, match=match):
        gen.fit_resample(X, y)
    assert not hasattr(gen, "module_")  # refused before any training
    with pytest.raises(ValueError, match="needs the class labels"):
        gen.fit_resample(X, None)


@pytest.mark.parametrize("params, match", [
    ({"loss": "wgan-gp", "gp_weight": -1.0}, "gp_weight"),
    ({"loss": "wgan-gp", "gp_weight": None}, "gp_weight"),
    ({"spectral_weight": float("nan")}, "spectral_weight"),
    ({"spectral_weight": float("inf")}, "spectral_weight"),
])
def test_bad_loss_weights_are_refused_before_training(params, match):
    X, _ = _toy(n=20)
    with pytest.raises(ValueError, match=match):
        GANGenerator(max_epochs=1, **SMALL[GANGenerator], **params).fit(X)


def test_spectral_bands_need_two_samples():
    X = np.random.default_rng(0).standard_normal((20, 1))
    with pytest.raises(ValueError, match="n_times=1"):
        GANGenerator(max_epochs=1, spectral_weight=1.0, spectral_bands=4).fit(X)


def test_wgan_gp_defaults_to_the_papers_critic_steps_and_betas():
    # loss="wgan-gp" alone gave n_critic=1 and betas (0.5, 0.999), the plain GAN's settings
    X, _ = _toy(n=32)
    spy = _GradSpy()
    gen = GANGenerator(max_epochs=1, batch_size=32, loss="wgan-gp", callbacks=[spy],
                       random_state=0, **SMALL[GANGenerator]).fit(X)
    assert len(spy.calls_) == 5 + 1  # one batch: 5 critic steps, then the generator's
    assert gen.optimizer_.defaults["betas"] == (0.5, 0.9)
    plain = GANGenerator(max_epochs=1, callbacks=[_GradSpy()], **SMALL[GANGenerator]).fit(X)
    assert len(plain.callbacks[0].calls_) == 2 * 1
    assert plain.optimizer_.defaults["betas"] == (0.5, 0.999)
    with pytest.raises(ValueError, match="n_critic must be a positive integer or None"):
        GANGenerator(n_critic=0).fit(X)


def test_sample_names_labels_numpy_cannot_compare():
    X, y = _toy(n=32)
    gen = GANGenerator(max_epochs=1, **SMALL[GANGenerator]).fit(X, y)
    with pytest.raises(ValueError, match=r"y has labels \[None\] not in classes_"):
        gen.sample(2, y=[None, "rest"])
