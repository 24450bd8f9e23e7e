"""Networks on unusual data shapes: odd and prime lengths, the shortest epochs, one and many
channels, a last training batch of one epoch, float64 input."""

import numpy as np
import pytest
import torch

import sigest
from sigest.models.wavegan import WaveGAN

# tiny networks, so every fit takes well under a second
SMALL = {
    "bg-attention": dict(module__hidden_size=2, module__n_heads=2),
    "fcnn": {},
    "simple-cnn": dict(module__n_filters=4),
    "complex-cnn": dict(module__n_filters=4),
    "rnn-lstm": {},
    "novel-cnn": dict(module__n_filters=2, module__n_stages=3),
    "cdae-bam": dict(module__n_filters=(4, 4, 4, 4)),
    "tiny-conv-denoiser": {},
    "tiny-conv-classifier": {},
    "ts-stdn": dict(module__n_fft=16, module__kernel_size=8),
    "freqcut-sleep": dict(sfreq=20, module__dim=8, module__depth=1, module__heads=2,
                          module__dim_head=4, module__mlp_dim=8),
    "tiny-mlp-gan": {},
    "gan": dict(module__hidden_g=(8,), module__hidden_d=(8,), module__latent_dim=4),
    "wavegan": dict(module__model_size=2, module__latent_dim=4),
}
CLASSIFIERS = {"tiny-conv-classifier", "ts-stdn", "freqcut-sleep"}
GENERATORS = {"tiny-mlp-gan", "gan", "wavegan"}


def _fit_and_check(name, X, batch_size=8, **params):
    est = sigest.get_estimator(name, max_epochs=1, batch_size=batch_size, verbose=0,
                               train_split=None, random_state=0, **{**SMALL[name], **params})
    n, c, t = X.shape
    if name in CLASSIFIERS:
        est.fit(X, np.arange(n) % 2)
        assert est.predict(X[:1]).shape == (1,)
        assert est.predict_proba(X[:1]).shape == (1, 2)
    elif name in GENERATORS:
        est.fit(X)
        assert est.sample(1, random_state=0).shape == (1, c, t)
    else:
        est.fit(X, X)
        out = est.transform(X[:1])
        assert out.shape == (1, c, t) and out.dtype == X.dtype


def _X(n, c, t):
    return np.random.default_rng(0).standard_normal((n, c, t))  # float64


@pytest.mark.parametrize("name", sorted(SMALL))
@pytest.mark.parametrize("shape", [(9, 1, 61), (9, 19, 97), (5, 2, 131)])
def test_odd_lengths_and_channels(name, shape):
    # 9 epochs in batches of 8 leave a last batch of one; 5 epochs in batches of 64 are one batch
    _fit_and_check(name, _X(*shape), batch_size=64 if shape[0] == 5 else 8)


@pytest.mark.parametrize("name, n_times", [
    ("simple-cnn", 1),  # batch norm over one sample of one epoch
    ("complex-cnn", 1),
    ("cdae-bam", 5),  # four levels: the bottleneck is one sample long
    ("freqcut-sleep", 20),  # one 1-s window: a spectrogram of one frame
])
def test_last_batch_of_one_with_one_value_per_channel(name, n_times):
    # batch norm in training mode needs more than one value per channel; a last batch of one
    # short epoch has one, which torch rejects deep inside fit
    _fit_and_check(name, _X(9, 1, n_times))


def test_freqcut_shorter_than_one_window_is_a_clear_error():
    with pytest.raises(ValueError, match="at least 20"):
        _fit_and_check("freqcut-sleep", _X(9, 1, 19))


def test_batchnorm_fallback_keeps_running_statistics():
    from sigest.models.cdae_bam import CDAEBAM

    net = CDAEBAM(1, 5, n_filters=(4, 4, 4, 4)).train()
    before = {k: v.clone() for k, v in net.state_dict().items() if "running" in k}
    net(torch.randn(1, 1, 5)).sum().backward()  # the deepest level sees one value per channel
    after = net.state_dict()
    deepest = "encoder.3.norm.running_mean"
    assert torch.equal(before[deepest], after[deepest])  # one value: no statistics to learn
    assert not torch.equal(before["encoder.0.norm.running_mean"],
                           after["encoder.0.norm.running_mean"])


def test_wavegan_kernel_shorter_than_stride_is_a_clear_error():
    with pytest.raises(ValueError, match="kernel_size=2.*stride=4"):
        WaveGAN(1, 61, kernel_size=2, stride=4)
    assert WaveGAN(1, 61, kernel_size=3, stride=4).generator(torch.randn(2, 100)).shape == \
        (2, 1, 61)


@pytest.mark.parametrize("n_stages", [0, -1, 2.5])
def test_novel_cnn_needs_at_least_one_stage(n_stages):
    from sigest.models.novel_cnn import NovelCNN

    with pytest.raises(ValueError, match=f"n_stages must be an integer >= 1; got {n_stages}"):
        NovelCNN(1, 64, n_stages=n_stages)
