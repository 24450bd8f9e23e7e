"""NoiseInjector and the noise sources: SNR rule, pools, splits, channels, determinism."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

import sigest
from sigest.noise import (
    TRAIN_FRACTION,
    EOGTestSetNoise,
    NoiseInjector,
    NoiseSource,
    NSTDBNoise,
    PowerlineNoise,
    epoch_split,
    make_noise,
    mix_at_snr,
    time_split,
)
from sigest.plugins import RegistryError, hookimpl, pm

SYNTHETIC = ("white", "pink", "powerline", "powerline-60", "baseline-wander")
RECORDED = ("eog", "nstdb-ma", "nstdb-bw", "emgdb")
USER_FILES = ("eegdenoisenet-eog", "eegdenoisenet-emg")


def measured_snr(clean, noisy, definition="rms"):
    """EEGdenoiseNet's SNR of each epoch/channel: 10 log10(RMS(x) / RMS(noisy - x))."""
    clean, noisy = np.asarray(clean, float), np.asarray(noisy, float)
    with np.errstate(divide="ignore"):
        ratio = np.sqrt(np.mean(clean**2, -1)) / np.sqrt(np.mean((noisy - clean) ** 2, -1))
    return (10 if definition == "rms" else 20) * np.log10(ratio)


@pytest.fixture(scope="module")
def clean():
    rng = np.random.default_rng(1)
    t = np.arange(512) / 256.0
    return np.sin(2 * np.pi * 10 * t) + 0.3 * rng.standard_normal((24, 3, 512))


def test_registered_names_cover_the_issue():
    names = set(sigest.list_noises())
    assert set(SYNTHETIC + RECORDED + USER_FILES) <= names


# ------------------------------------------------------------------------------ SNR rule
@pytest.mark.parametrize("source", SYNTHETIC + RECORDED)
@pytest.mark.parametrize("definition", ["rms", "power"])
def test_mixture_hits_target_snr_for_every_source(source, definition, clean, request):
    data = request.getfixturevalue("shared_data") if source in RECORDED else None
    noise = NoiseInjector(source, snr_db=(-7.0, 2.0), sfreq=256.0, data_path=data,
                          snr_definition=definition).fit(clean)
    rng = np.random.default_rng(0)
    noisy = noise.inject(clean, rng)
    snr = np.random.default_rng(0).uniform(-7.0, 2.0, size=len(clean))  # first draws of rng
    np.testing.assert_allclose(measured_snr(clean, noisy, definition), snr[:, None].repeat(3, 1),
                               atol=0.01)


def test_mixture_of_sources_hits_target_snr(clean, shared_data):
    noise = NoiseInjector(("nstdb-ma", "nstdb-bw", "powerline-60"), snr_db=3.0, sfreq=360.0,
                          data_path=shared_data).fit(clean)
    noisy = noise.inject(clean, np.random.default_rng(3))
    np.testing.assert_allclose(measured_snr(clean, noisy), 3.0, atol=0.01)


def test_mixture_weights_set_component_sizes(clean):
    X = clean[:, :1]
    rng = np.random.default_rng(0)
    only_white = NoiseInjector(("white", "powerline"), weights=(1.0, 0.0), snr_db=0.0,
                               sfreq=256.0).fit(X).inject(X, rng)
    spectrum = np.abs(np.fft.rfft(only_white - X, axis=-1)).mean(axis=(0, 1))
    assert spectrum[100] < 3 * np.median(spectrum)  # no 50 Hz line (bin 100 at 2 s epochs)
    with pytest.raises(ValueError, match="weights"):
        NoiseInjector(("white", "pink"), weights=(1.0,)).fit(X)


def test_mix_at_snr_rule_and_zero_cases():
    rng = np.random.default_rng(0)
    x, n = rng.standard_normal((2, 5, 2, 64))
    y = mix_at_snr(x, n, [-7, -3, 0, 1, 2])
    np.testing.assert_allclose(measured_snr(x, y), np.array([[-7, -3, 0, 1, 2]]).T.repeat(2, 1),
                               atol=1e-9)
    zeros = np.zeros_like(x)
    np.testing.assert_array_equal(mix_at_snr(x, zeros, 0.0), x)  # no noise: unchanged
    np.testing.assert_array_equal(mix_at_snr(zeros, n, 0.0), zeros)  # no signal: no SNR
    with pytest.raises(ValueError, match="one shape"):
        mix_at_snr(x, n[:, :, :10], 0.0)


@pytest.mark.parametrize("snr_db, check", [
    (-3.0, lambda s: np.allclose(s, -3.0, atol=0.01)),
    ([-7.0, 0.0, 2.0], lambda s: np.all(np.min(np.abs(s[:, None] - [-7, 0, 2]), 1) < 0.01)
     and len(np.unique(np.round(s))) == 3),
    ((-5.0, 5.0), lambda s: s.min() >= -5.01 and s.max() <= 5.01 and s.std() > 1),
])
def test_snr_forms(snr_db, check):
    X = np.random.default_rng(0).standard_normal((200, 1, 64))
    noisy = NoiseInjector(snr_db=snr_db, random_state=0).fit_transform(X)
    assert check(measured_snr(X, noisy)[:, 0])


@pytest.mark.parametrize("bad", [(1.0, 2.0, 3.0), (3.0, -3.0), [], "high", None, np.nan])
def test_bad_snr_raises(bad):
    with pytest.raises(ValueError, match="snr_db"):
        NoiseInjector(snr_db=bad).fit(np.ones((2, 8)))


# ------------------------------------------------------------- determinism and mutation
def test_determinism_and_no_mutation(clean):
    X = clean.copy()
    X.setflags(write=False)
    noise = NoiseInjector("pink", snr_db=(-7.0, 2.0), random_state=7).fit(X)
    a, b = noise.transform(X), noise.transform(X)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(X, clean)
    c = NoiseInjector("pink", snr_db=(-7.0, 2.0), random_state=8).fit(X).transform(X)
    assert not np.allclose(a, c)
    r1 = noise.inject(X, np.random.default_rng(3))
    r2 = noise.inject(X, np.random.default_rng(3))
    np.testing.assert_array_equal(r1, r2)


def test_random_state_follows_scikit_learn(clean):
    """An int (or a Generator) repeats its draw; a RandomState instance is consumed."""
    X = clean[:4]
    fixed = NoiseInjector(snr_db=0.0, random_state=5).fit(X)
    np.testing.assert_array_equal(fixed.transform(X), fixed.transform(X))
    # RandomState instance: every call draws anew and advances the caller's instance ...
    rs = np.random.RandomState(5)
    noise = NoiseInjector(snr_db=0.0, random_state=rs).fit(X)
    a, b = noise.transform(X), noise.transform(X)
    assert not np.allclose(a, b)
    assert rs.randint(2**31 - 1) != np.random.RandomState(5).randint(2**31 - 1)
    # ... and the sequence of draws is reproducible from the instance's seed
    again = NoiseInjector(snr_db=0.0, random_state=np.random.RandomState(5)).fit(X)
    np.testing.assert_array_equal(again.transform(X), a)
    np.testing.assert_array_equal(again.transform(X), b)
    assert noise.__sklearn_tags__().non_deterministic
    assert not fixed.__sklearn_tags__().non_deterministic
    # Generator: the draw of its seed sequence on every call; the Generator is not advanced
    gen = np.random.default_rng(5)
    noise = NoiseInjector(snr_db=0.0, random_state=gen).fit(X)
    np.testing.assert_array_equal(noise.transform(X), noise.transform(X))
    assert gen.integers(2**31) == np.random.default_rng(5).integers(2**31)
    # the docstrings say so
    assert "RandomState" in NoiseInjector.transform.__doc__
    assert "the same draw on every call)" not in NoiseInjector.transform.__doc__


def test_keeps_rank_and_dtype(clean):
    X32 = clean[:, 0].astype(np.float32)
    out = NoiseInjector(random_state=0).fit_transform(X32)
    assert out.shape == X32.shape and out.dtype == np.float32


def test_recorded_source_is_deterministic_and_cached(shared_data, clean):
    a = NoiseInjector("nstdb-ma", sfreq=256.0, data_path=shared_data, random_state=0).fit(clean)
    b = NoiseInjector("nstdb-ma", sfreq=256.0, data_path=shared_data, random_state=0).fit(clean)
    assert a.sources_[0].pool_ is b.sources_[0].pool_  # resampled once per process
    np.testing.assert_array_equal(a.transform(clean), b.transform(clean))


# ---------------------------------------------------------------------- train / test
def test_split_helpers_partition():
    train, test = epoch_split(101, "train"), epoch_split(101, "test")
    assert len(train) == 81 and len(test) == 20
    assert not set(train) & set(test) and set(train) | set(test) == set(range(101))
    np.testing.assert_array_equal(train, epoch_split(101, "train"))  # fixed partition
    assert time_split(1000, "train") == (0, 800) and time_split(1000, "test") == (800, 1000)


def _unit(rows):
    rows = rows - rows.mean(axis=-1, keepdims=True)
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def test_eog_pools_disjoint_by_epoch(shared_data):
    noisy = np.load(shared_data / "eegdenoisenet-eog-test" / "EOG_data_input.npy")
    target = np.load(shared_data / "eegdenoisenet-eog-test" / "EOG_data_output.npy")
    eog = _unit(noisy[0] - target[0])
    train_ids, test_ids = epoch_split(101, "train"), epoch_split(101, "test")
    rng = np.random.default_rng(0)
    for split, own, other in (("train", train_ids, test_ids), ("test", test_ids, train_ids)):
        source = EOGTestSetNoise(path=shared_data).fit(256.0, split)
        assert {i["epoch"] for i in source.pool_.info} == set(own)
        rows, track, start = source.sample_with_origin(300, 512, rng)  # whole epochs
        match = _unit(rows) @ eog.T  # correlation of every draw with every real epoch
        best = match.argmax(axis=1)
        assert np.all(match.max(axis=1) > 1 - 1e-9)  # each draw is a real EOG epoch ...
        assert set(best) <= set(own) and not set(best) & set(other)  # ... of its own split
        assert len(set(best)) > 0.5 * len(own)


def test_nstdb_pools_disjoint_by_time(shared_data):
    import wfdb

    raw = wfdb.rdrecord(str(shared_data / "nstdb" / "ma")).p_signal.T
    n = raw.shape[1]
    cut = int(round(TRAIN_FRACTION * n))
    rng = np.random.default_rng(0)
    for split, (lo, hi) in (("train", (0, cut)), ("test", (cut, n))):
        source = NSTDBNoise("ma", path=shared_data).fit(360.0, split)  # no resampling
        rows, track, start = source.sample_with_origin(200, 720, rng)
        for row, tr, st_ in zip(rows[:20], track, start):
            seg = raw[tr, lo + st_: lo + st_ + 720]
            np.testing.assert_allclose(row - row.mean(), seg - seg.mean(), atol=1e-9)
        assert np.all(lo + start >= lo) and np.all(lo + start + 720 <= hi)
        info = source.pool_.info
        assert all(abs(i["start_s"] - lo / 360) < 1e-9 and abs(i["stop_s"] - hi / 360) < 1e-9
                   for i in info)


@pytest.mark.parametrize("name", ["nstdb-bw", "emgdb"])
def test_resampled_pools_disjoint_by_time(shared_data, name):
    make = sigest.get_noise_source(name)
    train = make(path=shared_data).fit(256.0, "train").pool_.info
    test = make(path=shared_data).fit(256.0, "test").pool_.info
    for a, b in zip(train, test):
        assert a["record"] == b["record"] and a["stop_s"] <= b["start_s"]


def test_injector_split_changes_noise(shared_data, clean):
    kw = dict(sfreq=256.0, data_path=shared_data, snr_db=0.0, random_state=0)
    train = NoiseInjector("nstdb-ma", split="train", **kw).fit_transform(clean)
    test = NoiseInjector("nstdb-ma", split="test", **kw).fit_transform(clean)
    assert not np.allclose(train, test)
    with pytest.raises(ValueError, match="split"):
        NoiseInjector(split="valid").fit(clean)


# --------------------------------------------------------------------- recorded sources
def test_emgdb_is_resampled_and_band_limited(shared_data):
    source = sigest.get_noise_source("emgdb")(path=shared_data).fit(256.0, "train")
    lengths = source.pool_.lengths
    assert abs(lengths[0] - 0.8 * 50860 * 256 / 4000) < 2  # healthy record at 256 Hz
    rows = source.sample(64, 512, np.random.default_rng(0))
    assert rows.shape == (64, 512) and np.all(np.isfinite(rows)) and rows.std() > 0


def test_full_eegdenoisenet_files(tmp_path, clean):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "EOG_all_epochs.npy", rng.standard_normal((30, 512)))
    np.save(tmp_path / "EMG_all_epochs.npy", rng.standard_normal((40, 1024)))  # 512 Hz
    eog = NoiseInjector("eegdenoisenet-eog", snr_db=-2.0, sfreq=256.0, data_path=tmp_path)
    noisy = eog.fit(clean).inject(clean, rng)
    np.testing.assert_allclose(measured_snr(clean, noisy), -2.0, atol=0.01)
    assert len(eog.sources_[0].pool_.lengths) == 24  # 80 % of 30 epochs
    emg = NoiseInjector("eegdenoisenet-emg", sfreq=256.0, data_path=tmp_path).fit(clean)
    assert emg.sources_[0].pool_.lengths[0] == 512  # 1024 samples at 512 Hz -> 256 Hz
    with pytest.raises(FileNotFoundError, match="EOG_all_epochs.npy"):
        NoiseInjector("eegdenoisenet-eog", sfreq=256.0, data_path=tmp_path / "none").fit()


def test_shipped_sample_stands_in_when_data_are_absent(monkeypatch, tmp_path, shared_data):
    monkeypatch.delenv("SIGEST_DATA", raising=False)
    monkeypatch.setattr("sigest.datasets._base._cache_dir", lambda: tmp_path)
    eog = EOGTestSetNoise().fit(256.0, "test")  # the same 101 epochs: the same split
    real = EOGTestSetNoise(path=shared_data).fit(256.0, "test")
    np.testing.assert_allclose(_unit(eog.pool_.data.reshape(20, 512)),
                               _unit(real.pool_.data.reshape(20, 512)), atol=1e-6)
    with pytest.warns(UserWarning, match="shipped with sigest"):
        ma = NSTDBNoise("ma").fit(360.0, "train")
    assert len(ma.pool_.lengths) == 1 and ma.pool_.lengths[0] == 0.8 * 108000
    with pytest.raises(FileNotFoundError):
        NSTDBNoise("bw").fit(360.0)


def test_epoch_pool_longer_signals_concatenate_epochs(tmp_path):
    np.save(tmp_path / "EOG_all_epochs.npy", np.random.default_rng(0).standard_normal((10, 64)))
    source = sigest.get_noise_source("eegdenoisenet-eog")(path=tmp_path).fit(32.0, "train")
    rows = source.sample(5, 200, np.random.default_rng(0))
    assert rows.shape == (5, 200) and np.all(rows.std(axis=1) > 0)


def test_continuous_record_too_short_raises(shared_data):
    source = sigest.get_noise_source("emgdb")(kind="healthy", path=shared_data).fit(100.0)
    with pytest.raises(ValueError, match="shorter"):
        source.sample(1, 10_000, np.random.default_rng(0))


# ------------------------------------------------------------------- synthetic sources
def test_powerline_harmonics_below_nyquist():
    source = PowerlineNoise(freq_jitter=0.0).fit(256.0)
    assert source.harmonics_.tolist() == [1.0, 2.0]  # 150 Hz is above 128 Hz
    rows = source.sample(8, 512, np.random.default_rng(0))
    spectrum = np.abs(np.fft.rfft(rows, axis=-1)).mean(0)  # 0.5 Hz bins
    peaks = set(np.argsort(spectrum)[-2:])
    assert peaks == {100, 200}
    with pytest.raises(ValueError, match="Nyquist"):
        PowerlineNoise().fit(100.0)


def test_pink_spectrum_falls_as_one_over_f():
    rows = sigest.get_noise_source("pink")().fit().sample(400, 1024, np.random.default_rng(0))
    power = (np.abs(np.fft.rfft(rows, axis=-1)) ** 2).mean(0)
    freqs = np.arange(len(power))
    slope = np.polyfit(np.log(freqs[4:400]), np.log(power[4:400]), 1)[0]
    assert -1.2 < slope < -0.8


def test_baseline_wander_is_slow():
    make = sigest.get_noise_source("baseline-wander")
    rows = make().fit(100.0).sample(16, 3000, np.random.default_rng(0))
    power = (np.abs(np.fft.rfft(rows * np.hanning(3000), axis=-1)) ** 2).mean(0)  # 1/30 Hz bins
    assert power[:18].sum() > 0.99 * power.sum()  # below 0.6 Hz


@pytest.mark.parametrize("source", ["powerline", "baseline-wander", "eog", "nstdb-ma", "emgdb"])
def test_sources_needing_sfreq_say_so(source):
    with pytest.raises(ValueError, match="needs sfreq"):
        NoiseInjector(source).fit(np.ones((2, 64)))


@pytest.mark.parametrize("source", ["white", "pink"])
def test_white_and_pink_work_without_sfreq(source):
    assert NoiseInjector(source, random_state=0).fit_transform(np.ones((2, 64))).shape == (2, 64)


def test_unknown_source_and_bad_types():
    with pytest.raises(RegistryError, match="unknown noise source"):
        NoiseInjector("nope").fit()
    with pytest.raises(TypeError):
        NoiseInjector(source=3).fit()
    with pytest.raises(TypeError):
        make_noise(3)


# ------------------------------------------------------------------ multichannel
def test_all_channels_and_fraction(clean):
    rng = np.random.default_rng(0)
    noisy = NoiseInjector(snr_db=0.0).fit(clean).inject(clean, rng)
    assert np.all(np.any(noisy != clean, axis=-1))
    X = np.tile(clean, (1, 2, 1))  # 6 channels
    noisy = NoiseInjector(channels=0.5, snr_db=0.0).fit(X).inject(X, rng)
    changed = np.any(noisy != X, axis=-1)
    assert np.all(changed.sum(axis=1) == 3) and len({tuple(r) for r in changed}) > 1


def test_channel_groups_contaminate_n_groups():
    X = np.random.default_rng(0).standard_normal((50, 20, 32))
    groups = [[2 * g, 2 * g + 1] for g in range(10)]  # 10 electrode groups, as TS-STDN
    noise = NoiseInjector(channels=groups, n_groups=6, snr_db=-3.0).fit(X)
    noisy = noise.inject(X, np.random.default_rng(1))
    changed = np.any(noisy != X, axis=-1)
    per_group = changed.reshape(50, 10, 2)
    assert np.all(per_group[..., 0] == per_group[..., 1])  # groups go together
    assert np.all(per_group[..., 0].sum(axis=1) == 6)
    np.testing.assert_allclose(measured_snr(X, noisy)[changed], -3.0, atol=0.01)


def test_named_groups_and_fixed_channels():
    X = np.random.default_rng(0).standard_normal((10, 4, 32))
    noisy = NoiseInjector(channels={"frontal": [0, 1], "occipital": [3]}, snr_db=0.0,
                          random_state=0).fit_transform(X)
    np.testing.assert_array_equal(noisy[:, 2], X[:, 2])
    assert np.all(np.any(noisy[:, [0, 1, 3]] != X[:, [0, 1, 3]], axis=-1))
    noisy = NoiseInjector(channels=[1], random_state=0).fit_transform(X)
    np.testing.assert_array_equal(noisy[:, [0, 2, 3]], X[:, [0, 2, 3]])


def test_probability_leaves_a_share_of_epochs_clean():
    X = np.random.default_rng(0).standard_normal((400, 4, 64))
    groups = [[0, 1], [2], [3]]
    noisy = NoiseInjector(channels=groups, n_groups=2, snr_db=-3.0, probability=0.3,
                          random_state=0).fit_transform(X)
    changed = np.any(noisy != X, axis=-1)
    contaminated = changed.any(axis=1)
    assert 0.22 < contaminated.mean() < 0.38  # 0.3 +- 3.5 binomial sd
    np.testing.assert_array_equal(noisy[~contaminated], X[~contaminated])
    assert set(changed[contaminated].sum(axis=1)) == {2, 3}  # 2 of the groups of 2, 1, 1
    np.testing.assert_allclose(measured_snr(X, noisy)[changed], -3.0, atol=0.01)
    assert np.array_equal(NoiseInjector(probability=0.0, random_state=0).fit_transform(X), X)


@pytest.mark.parametrize("bad", [-0.1, 1.5, "half", True, None])
def test_bad_probability_is_named(bad):
    with pytest.raises(ValueError, match=r"probability must be a number in \[0, 1\]"):
        NoiseInjector(probability=bad).fit(np.ones((2, 16)))


@pytest.mark.parametrize("channels, n_groups, match", [
    ([[0, 1], [9]], None, "channel 9"),
    ([[0], [1]], 3, "n_groups"),
    ("all", 2, "n_groups"),
    (1.5, None, "fraction"),
    ("some", None, "channels"),
    ([[]], None, "channel indices"),
])
def test_bad_channels_raise(channels, n_groups, match):
    with pytest.raises(ValueError, match=match):
        NoiseInjector(channels=channels, n_groups=n_groups).fit(np.ones((2, 4, 16)))


# ------------------------------------------------------------ scikit-learn behaviour
def test_in_pipeline_and_under_clone(clean):
    X = clean[:, 0]
    pipe = Pipeline([("noise", NoiseInjector("pink", snr_db=0.0, random_state=0)),
                     ("square", FunctionTransformer(np.square))])
    out = pipe.fit_transform(X)
    np.testing.assert_allclose(out, np.square(pipe.named_steps["noise"].transform(X)))
    cloned = clone(pipe)
    assert cloned.get_params()["noise__snr_db"] == 0.0
    np.testing.assert_array_equal(cloned.fit_transform(X), out)
    pipe.set_params(noise__snr_db=5.0)
    assert np.all(np.abs(measured_snr(X, pipe.named_steps["noise"].fit_transform(X)) - 5) < .01)


def test_source_instances_are_parameters(clean):
    noise = NoiseInjector(PowerlineNoise(line_freq=60.0), sfreq=256.0, random_state=0)
    assert noise.get_params()["source__line_freq"] == 60.0
    cloned = clone(noise)
    assert cloned.source is not noise.source and cloned.source.line_freq == 60.0
    np.testing.assert_array_equal(cloned.fit_transform(clean), noise.fit_transform(clean))


def test_pickle_drops_pool_and_restores_it(shared_data, clean):
    noise = NoiseInjector("nstdb-ma", sfreq=256.0, data_path=shared_data, random_state=0)
    expected = noise.fit_transform(clean)
    blob = pickle.dumps(noise)
    assert len(blob) < 100_000  # the 30-min pool is not in the pickle
    np.testing.assert_array_equal(pickle.loads(blob).transform(clean), expected)


def test_transform_checks(clean):
    noise = NoiseInjector(random_state=0)
    with pytest.raises(Exception, match="not fitted"):
        noise.transform(clean)
    noise.fit(clean)
    with pytest.raises(ValueError, match="features"):
        noise.transform(clean[:, :, :100])
    with pytest.raises(ValueError, match="shape"):
        noise.inject(clean[0], np.random.default_rng(0))


def test_mne_epochs_input():
    mne = pytest.importorskip("mne")
    info = mne.create_info(2, 256.0, "eeg")
    epochs = mne.EpochsArray(np.random.default_rng(0).standard_normal((3, 2, 256)) * 1e-5, info,
                             verbose=False)
    assert NoiseInjector("powerline", sfreq=256.0, random_state=0).fit_transform(
        epochs).shape == (3, 2, 256)
    with pytest.raises(ValueError, match="sfreq"):
        NoiseInjector(sfreq=100.0).fit(epochs)
    noise = NoiseInjector("powerline").fit(epochs)  # sfreq from the Epochs
    assert noise.sfreq_ == 256.0 and noise.sfreq is None
    with pytest.raises(ValueError, match="sfreq"):
        noise.transform(mne.EpochsArray(epochs.get_data(), mne.create_info(2, 200.0, "eeg"),
                                        verbose=False))


def test_make_noise():
    assert make_noise("white", 256.0).get_params()["sfreq"] == 256.0
    assert make_noise(("white", "pink")).source == ("white", "pink")
    base = NoiseInjector("pink", snr_db=1.0)
    made = make_noise(base, 128.0)
    assert made is not base and made.sfreq == 128.0 and base.sfreq is None
    with pytest.raises(ValueError, match="sfreq"):
        make_noise(NoiseInjector(sfreq=100.0), 256.0)


def test_plugin_function_source(clean):
    def chirp(n_epochs, n_channels, n_times, sfreq, rng):
        return np.sin(np.linspace(0, 50, n_times) ** 1.5) * rng.uniform(
            0.5, 2, (n_epochs, n_channels, 1))

    class Plugin:
        @hookimpl
        def sigest_register_noises(self, register):
            register("test-chirp", chirp, description="a chirp")

    plugin = Plugin()
    pm.register(plugin, name="test-noise-plugin")
    try:
        assert "test-chirp" in sigest.list_noises()
        noisy = NoiseInjector("test-chirp", snr_db=1.0).fit(clean).inject(
            clean, np.random.default_rng(0))
        np.testing.assert_allclose(measured_snr(clean, noisy), 1.0, atol=0.01)
    finally:
        pm.unregister(plugin)
    assert "test-chirp" not in sigest.list_noises()


def test_denoiser_trains_on_recorded_noise(shared_data):
    from sigest.estimators.tiny import TinyDenoiser

    X = np.random.default_rng(0).standard_normal((16, 256)).cumsum(axis=1) * 0.1
    noise = NoiseInjector("eog", sfreq=256.0, data_path=shared_data)
    den = TinyDenoiser(noise=noise, sfreq=256.0, max_epochs=1, batch_size=8, random_state=0)
    den.fit(X)
    assert isinstance(den.noise_.sources_[0], NoiseSource) and den.noise_.split == "train"
    assert den.transform(X).shape == X.shape


# --------------------------------------------------------------- property tests
shapes = st.tuples(st.integers(1, 6), st.integers(1, 3), st.integers(2, 64))


@settings(max_examples=25, deadline=None)
@given(shape=shapes, snr=st.floats(-20, 20), seed=st.integers(0, 2**16),
       source=st.sampled_from(["white", "pink", "powerline", "baseline-wander"]))
def test_property_snr_determinism_no_mutation(shape, snr, seed, source):
    X = np.random.default_rng(seed).standard_normal(shape)
    before = X.copy()
    noise = NoiseInjector(source, snr_db=snr, sfreq=256.0).fit(X)
    a = noise.inject(X, np.random.default_rng(seed))
    b = noise.inject(X, np.random.default_rng(seed))
    np.testing.assert_array_equal(X, before)
    np.testing.assert_array_equal(a, b)
    diff_rms = np.sqrt(np.mean((a - X) ** 2, -1))
    defined = diff_rms > 1e-9 * np.sqrt(np.mean(X**2, -1))  # e.g. a sine sampled at its zeros
    np.testing.assert_allclose(measured_snr(X, a)[defined], snr, atol=0.01)


# ----------------------------------------------------------- scikit-learn's checks
_RANDOM_PER_ROW = ("the noise of each epoch is a fresh draw of one generator, so it depends on "
                   "the epoch's position in X (as any sampler's would)")


@parametrize_with_checks([NoiseInjector(random_state=0)], expected_failed_checks=lambda est: {
    "check_methods_sample_order_invariance": _RANDOM_PER_ROW,
    "check_methods_subset_invariance": _RANDOM_PER_ROW,
})
def test_sklearn_checks(estimator, check):
    check(estimator)


# ------------------------------------------------------------------ audit regressions
def test_refit_without_data_forgets_the_previous_shape(clean):
    noise = NoiseInjector(random_state=0).fit(clean)
    assert noise.n_features_in_ == clean.shape[1] * clean.shape[2]
    noise.fit()  # no data: any shape goes, as for a fresh injector fitted without X
    assert not hasattr(noise, "n_features_in_") and noise.n_channels_in_ is None
    assert noise.transform(clean[:, :2, :100]).shape == (len(clean), 2, 100)


def test_mne_sfreq_mismatch_names_the_noise_injector():
    mne = pytest.importorskip("mne")
    data = np.random.default_rng(0).standard_normal((3, 2, 256))
    epochs = mne.EpochsArray(data, mne.create_info(2, 200.0, "eeg"), verbose=False)
    with pytest.raises(ValueError, match="sfreq=200 Hz but NoiseInjector has sfreq=256 Hz"):
        NoiseInjector(sfreq=256.0).fit(epochs)
    noise = NoiseInjector(sfreq=256.0).fit(data)
    with pytest.raises(ValueError, match="sfreq=200 Hz but NoiseInjector has sfreq=256 Hz"):
        noise.transform(epochs)


def test_noise_function_of_the_wrong_shape_names_what_it_returned():
    from sigest.noise import FunctionNoise

    def short(n_epochs, n_channels, n_times, sfreq, rng):
        return rng.standard_normal((n_epochs, n_channels, n_times - 1))

    source = FunctionNoise(short).fit(100.0)
    with pytest.raises(ValueError, match=r"noise function .*short returned an array of shape "
                                         r"\(3, 1, 49\); expected \(3, 1, 50\)"):
        source.sample(3, 50, np.random.default_rng(0))
