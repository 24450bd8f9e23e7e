"""CDAE-BAM (network and estimator), per-record standardisation and the record-wise split."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import sigest
from sigest import metrics
from sigest.estimators.ecg import (
    ECG_NOISE_MIXTURE,
    CDAEBAMDenoiser,
    RandomMixtureNoise,
    record_split,
    standardize_records,
)
from sigest.models.cdae_bam import CDAEBAM, BatchAttention, BlockAttention
from sigest.noise import NoiseInjector


# ------------------------------------------------------------------------------ the network
@pytest.mark.parametrize("attention", ["channel", "block"])
@pytest.mark.parametrize("n_filters", [(4,), (4, 8), (8, 8, 16, 16, 16)])
@pytest.mark.parametrize("shape", [(3, 1, 256), (2, 2, 256), (2, 1, 1), (2, 3, 37)])
def test_cdae_bam_keeps_shape(n_filters, shape, attention):
    net = CDAEBAM(shape[1], shape[2], n_filters=n_filters, kernel_size=5, attention=attention)
    assert net(torch.randn(*shape)).shape == shape


def test_cdae_bam_refuses_an_unknown_attention():
    with pytest.raises(ValueError, match="attention must be 'channel' or 'block'; got 'cbam'"):
        CDAEBAM(1, 256, attention="cbam")


@pytest.mark.parametrize("kernel_size", [16, 0, 9.0, True])
def test_cdae_bam_refuses_a_kernel_that_is_not_odd(kernel_size):
    with pytest.raises(ValueError, match=f"kernel_size must be an odd positive integer; got "
                                         f"{kernel_size!r}"):
        CDAEBAM(1, 256, kernel_size=kernel_size)


def test_cdae_bam_depth_and_width_are_parameters():
    shallow = CDAEBAM(1, 256, n_filters=(8, 8))
    deep = CDAEBAM(1, 256, n_filters=(8, 8, 8, 8))
    assert len(shallow.encoder) == 2 and len(deep.encoder) == 4
    assert len(deep.decoder) == 4
    assert shallow.encoder[0].conv.out_channels == 8


def test_cdae_bam_channels_are_denoised_independently():
    net = CDAEBAM(2, 64, n_filters=(4, 8)).eval()
    x = torch.randn(3, 2, 64)
    with torch.no_grad():
        both = net(x)
        moved = x.clone()
        moved[:, 1] = torch.randn(3, 64)
        assert torch.allclose(net(moved)[:, 0], both[:, 0], atol=1e-6)


def test_batch_attention_reweights_feature_maps_in_0_1():
    attention = BatchAttention(6, reduction=2)
    x = torch.rand(4, 6, 32) + 0.5
    weights = attention(x) / x
    assert torch.all((weights > 0) & (weights < 1))
    assert torch.allclose(weights, weights[..., :1].expand_as(weights))  # one weight per map


def test_block_attention_weights_are_a_channel_times_a_time_weight_in_0_1():
    # the paper's module: a weight per channel (channel gate) times one per time step (spatial)
    attention = BlockAttention(32)
    x = torch.rand(4, 6, 32) + 0.5
    weights = attention(x) / x
    assert torch.all((weights > 0) & (weights < 1))
    ratio = weights / weights[:, :1]  # divides out the time weights: channel weights remain
    assert torch.allclose(ratio, ratio[..., :1].expand_as(ratio), atol=1e-5)
    assert not torch.allclose(weights[:, 0], weights[:, 0, :1].expand_as(weights[:, 0]))


# ---------------------------------------------------------------------------- the estimator
def test_registered_with_seed_defaults():
    den = sigest.get_estimator("cdae-bam")
    assert isinstance(den, CDAEBAMDenoiser)
    params = den.get_params()
    assert params["noise"] == ECG_NOISE_MIXTURE
    assert params["max_epochs"] == 50 and params["sfreq"] == 360.0
    assert params["optimizer"] is torch.optim.Adam
    assert params["criterion"] is torch.nn.MSELoss


@pytest.mark.parametrize("shape", [(24, 256), (24, 2, 128)])
def test_transform_keeps_rank_and_dtype(shape):
    rng = np.random.default_rng(0)
    clean = rng.standard_normal(shape).astype(np.float32)
    den = CDAEBAMDenoiser(max_epochs=1, noise="white", module__n_filters=(4, 8),
                          random_state=0).fit(clean)
    out = den.transform(clean)
    assert out.shape == clean.shape and out.dtype == np.float32
    assert den.transform(clean.astype(np.float64)).dtype == np.float64


def test_named_noise_is_power_snr_from_the_train_part():
    X = np.random.default_rng(0).standard_normal((16, 64))
    den = CDAEBAMDenoiser(max_epochs=1, noise="white", noise_snr_db=3.0,
                          module__n_filters=(4,), random_state=0).fit(X)
    assert den.noise_.split == "train" and den.noise_.snr_definition == "power"
    noisy, clean = den.noisy_pairs(X)
    assert metrics.snr(clean, noisy) == pytest.approx(3.0, abs=1e-6)


def test_random_mixture_varies_proportions_per_window():
    source = RandomMixtureNoise(("white", "powerline-60")).fit(360.0)
    noise = source.sample(200, 360, np.random.default_rng(0))
    spectrum = np.abs(np.fft.rfft(noise, axis=-1)) ** 2
    line_share = spectrum[:, 59:62].sum(axis=1) / spectrum.sum(axis=1)  # 60 Hz, not harmonics
    assert line_share.min() < 0.1 and line_share.max() > 0.6  # pure powerline: ~0.73


def test_noise_mixing_random_and_invalid():
    X = np.random.default_rng(0).standard_normal((16, 64))
    den = CDAEBAMDenoiser(max_epochs=1, noise=("white", "pink"), noise_mixing="random",
                          module__n_filters=(4,), random_state=0).fit(X)
    assert isinstance(den.noise_.sources_[0], RandomMixtureNoise)
    with pytest.raises(ValueError, match="noise_mixing"):
        CDAEBAMDenoiser(max_epochs=1, noise="white", noise_mixing="loud").fit(X)


def test_fit_on_real_ecg_raises_snr(shared_data, monkeypatch):
    """A short fit on two MIT-BIH records denoises a third record by a clear margin."""
    from sigest.datasets import load_mitbih

    monkeypatch.setenv("SIGEST_DATA", str(shared_data))  # where the default noise finds NSTDB
    X, _, groups = load_mitbih(records=["100", "101", "103"], path=shared_data)
    X, _ = standardize_records(X, groups)
    rng = np.random.default_rng(0)
    train = rng.choice(np.flatnonzero(groups != "103"), 300, replace=False)
    test = rng.choice(np.flatnonzero(groups == "103"), 100, replace=False)
    test_noise = NoiseInjector(ECG_NOISE_MIXTURE, snr_db=0.0, sfreq=360.0, split="test",
                               snr_definition="power", data_path=shared_data, random_state=1)
    noisy = test_noise.fit_transform(X[test])
    for attention in ("channel", "block"):  # sigest's default and the paper's module
        den = CDAEBAMDenoiser(max_epochs=12, lr=3e-3, random_state=0,
                              module__attention=attention).fit(X[train])
        gain = metrics.snr_improvement(X[test], den.transform(noisy), noisy)
        assert gain > 3.0, f"{attention} attention: SNR gain {gain:.2f} dB"


def test_save_load_roundtrip(tmp_path):
    X = np.random.default_rng(0).standard_normal((16, 64))
    den = CDAEBAMDenoiser(max_epochs=1, noise="white", module__n_filters=(4, 8),
                          random_state=0).fit(X)
    den.save(tmp_path / "m.zip")
    loaded = sigest.load(tmp_path / "m.zip")
    np.testing.assert_allclose(loaded.transform(X), den.transform(X), atol=1e-6)


# ----------------------------------------------------------------------- record-wise helpers
def test_standardize_records_zscores_each_record():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(5, 3, (4, 10)), rng.normal(-1, 0.1, (6, 10))])
    groups = np.array(["a"] * 4 + ["b"] * 6)
    Xs, stats = standardize_records(X, groups)
    for record in "ab":
        assert Xs[groups == record].mean() == pytest.approx(0, abs=1e-12)
        assert Xs[groups == record].std() == pytest.approx(1)
    assert stats["a"][0] == pytest.approx(X[:4].mean())
    with pytest.raises(ValueError, match="one entry per window"):
        standardize_records(X, groups[:3])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["100", "101", "102", "103", "104", "200", "233"]),
                min_size=2, max_size=80), st.integers(0, 2**16))
def test_record_split_never_leaks_a_record(groups, seed):
    groups = np.array(groups)
    n_records = len(np.unique(groups))
    if n_records < 2:
        with pytest.raises(ValueError, match="at least 2 records"):
            record_split(groups)
        return
    n_test = 1 + seed % (n_records - 1)
    train, test = record_split(groups, n_test=n_test, random_state=seed)
    assert not set(groups[train]) & set(groups[test])
    assert len(np.unique(groups[test])) == n_test
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(len(groups)))


def test_record_split_checks_n_test():
    with pytest.raises(ValueError, match="n_test"):
        record_split(["a", "b", "c"], n_test=3)
    train, test = record_split(["a", "a", "b", "c"], test_size=0.34, random_state=0)
    assert len(set(np.array(["a", "a", "b", "c"])[test])) == 1


def test_cdae_bam_residual_needs_module_residual_false():
    from sigest.estimators.ecg import CDAEBAMDenoiser

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 256)), rng.standard_normal((16, 256))
    small = {"max_epochs": 1, "module__n_filters": (4, 8), "random_state": 0}
    for residual in (True, "gated"):
        with pytest.raises(ValueError, match=r"already subtracts its output.*module__residual="
                                             "False with it"):
            CDAEBAMDenoiser(residual=residual, **small).fit(X, y)
    den = CDAEBAMDenoiser(residual=True, module__residual=False, **small).fit(X, y)
    x = torch.as_tensor(X[:4, None], dtype=torch.float32)
    with torch.no_grad():
        torch.testing.assert_close(den.infer(x), x - den.module_(x))


def test_cdae_bam_takes_a_list_of_noise_names():
    from sigest.estimators.ecg import CDAEBAMDenoiser

    X = np.random.default_rng(0).standard_normal((16, 256))
    den = CDAEBAMDenoiser(noise=["nstdb-ma", "powerline-60"], max_epochs=1,
                          module__n_filters=(4, 8), random_state=0).fit(X)
    assert den.noise_.source == ("nstdb-ma", "powerline-60")


def test_record_split_names_test_size():
    from sigest.estimators.ecg import record_split

    with pytest.raises(ValueError, match=r"test_size must be in \(0, 1\); got 1.5"):
        record_split(["a", "b", "c", "d"], test_size=1.5)
    train, test = record_split(["a", "b", "c", "d"], test_size=0.9, random_state=0)
    assert len(test) == 3 and len(train) == 1
