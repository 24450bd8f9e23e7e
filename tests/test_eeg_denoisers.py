"""BG-Attention, the EEGdenoiseNet networks and Novel CNN: shapes, learning on real EEG, search."""

import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV, KFold
from skorch.callbacks import Callback

import sigest
from sigest.datasets import load_sample
from sigest.estimators.denoisers import (
    BGAttentionDenoiser,
    ComplexCNNDenoiser,
    FCNNDenoiser,
    NovelCNNDenoiser,
    RNNDenoiser,
    SimpleCNNDenoiser,
)
from sigest.metrics import get_scorer, rrmse_temporal
from sigest.models.bg_attention import BGAttention
from sigest.models.eegdenoisenet import FCNN, RNNLSTM, ComplexCNN, SimpleCNN
from sigest.models.novel_cnn import NovelCNN
from sigest.noise import mix_at_snr

SMALL = {
    BGAttention: {"hidden_size": 4, "n_heads": 2},
    FCNN: {},
    SimpleCNN: {"n_filters": 8},
    ComplexCNN: {"n_filters": 8},
    RNNLSTM: {},
    NovelCNN: {"n_filters": 4, "n_stages": 4},
}


@pytest.mark.parametrize("module", list(SMALL), ids=lambda m: m.__name__)
@pytest.mark.parametrize("n_channels", [1, 4])
@pytest.mark.parametrize("n_times", [100, 128])
def test_forward_shapes(module, n_channels, n_times):
    net = module(n_channels=n_channels, n_times=n_times, **SMALL[module])
    x = torch.randn(3, n_channels, n_times)
    assert net(x).shape == (3, n_channels, n_times)


@pytest.mark.parametrize("module", list(SMALL), ids=lambda m: m.__name__)
def test_channels_are_denoised_independently(module):
    net = module(n_channels=2, n_times=64, **SMALL[module]).eval()
    x = torch.randn(2, 2, 64)
    x2 = x.clone()
    x2[:, 1] = torch.randn(2, 64)
    with torch.no_grad():
        torch.testing.assert_close(net(x)[:, 0], net(x2)[:, 0])


def test_paper_sizes():
    # EEGdenoiseNet's Keras summaries for datanum=512: fcNN 4 x (512*512+512) parameters.
    assert sum(p.numel() for p in FCNN(1, 512).parameters()) == 4 * (512 * 512 + 512)
    assert NovelCNN(1, 512).features[-2].out_channels == 2048
    bg = BGAttention(1, 512)
    assert bg.grus[0].hidden_size == 16 and bg.last_gru.hidden_size == 32
    with pytest.raises(ValueError, match="n_heads"):
        BGAttention(1, 64, hidden_size=3, n_heads=4)


CLASSES = {"bg-attention": BGAttentionDenoiser, "fcnn": FCNNDenoiser,
           "simple-cnn": SimpleCNNDenoiser, "complex-cnn": ComplexCNNDenoiser,
           "rnn-lstm": RNNDenoiser, "novel-cnn": NovelCNNDenoiser}


def test_registered_with_paper_defaults():
    for name, cls in CLASSES.items():
        est = sigest.get_estimator(name)
        assert type(est) is cls
        params = est.get_params()
        assert params["lr"] == 5e-5 and params["batch_size"] == 40
        assert params["max_epochs"] == 50 and params["train_split"] == 0.1
        assert params["optimizer"].__name__ == "KerasRMSprop"


@pytest.fixture(scope="module")
def eog_pairs():
    """Real EEG + real EOG from the packaged sample: 240 training / 60 test pairs, 256 samples."""
    b = load_sample()
    eeg, eog = b.eeg[:, :256], b.eog[:, :256]
    rng = np.random.default_rng(0)
    train, test = np.arange(80), np.arange(80, 101)

    def pairs(ids, n):
        ci, ni = rng.choice(ids, n), rng.choice(ids, n)
        return mix_at_snr(eeg[ci], eog[ni], rng.uniform(-7, 2, n)), eeg[ci]

    return pairs(train, 240), pairs(test, 60)


LEARNERS = [  # (name, parameters, epochs, samples per epoch)
    pytest.param("fcnn", {}, 8, 256, id="fcnn"),
    pytest.param("rnn-lstm", {}, 8, 256, id="rnn-lstm"),
    pytest.param("simple-cnn", {"module__n_filters": 8}, 6, 256, id="simple-cnn"),
    pytest.param("complex-cnn", {"module__n_filters": 4}, 6, 256, id="complex-cnn"),
    pytest.param("novel-cnn", {"module__n_filters": 4, "module__n_stages": 4}, 8, 256,
                 id="novel-cnn"),
    # PyTorch's CPU GRU trains step by step under autograd: ~1 s per batch here, so slow
    pytest.param("bg-attention", {"module__hidden_size": 4}, 6, 96, marks=pytest.mark.slow,
                 id="bg-attention"),
]


@pytest.mark.parametrize("name,params,epochs,n_times", LEARNERS)
def test_learns_on_real_eog(eog_pairs, name, params, epochs, n_times):
    (X, y), (X_test, y_test) = eog_pairs
    X, y, X_test, y_test = (a[:, :n_times] for a in (X, y, X_test, y_test))
    est = CLASSES[name](lr=1e-3, batch_size=16, max_epochs=epochs, train_split=None,
                        random_state=0, **params)
    est.fit(X, y)
    noisy = rrmse_temporal(y_test, X_test)
    denoised = rrmse_temporal(y_test, est.transform(X_test))
    # below the noisy input, and below 0.9 (an all-zero output scores 1.0)
    assert denoised < min(0.5 * noisy, 0.9), (name, noisy, denoised)


def test_early_stopping_restores_best(eog_pairs):
    from skorch.helper import predefined_split

    from sigest.base import SignalDataset

    (X, y), (Xv, yv) = eog_pairs
    Xv, yv = Xv[:, None].astype(np.float32), yv[:, None].astype(np.float32)
    est = FCNNDenoiser(lr=3e-3, max_epochs=8, patience=2, batch_size=64, random_state=0,
                       train_split=predefined_split(SignalDataset(Xv, yv)))
    est.fit(X, y)
    losses = est.history[:, "valid_loss"]
    assert "early_stopping" in dict(est.callbacks_)
    # the restored weights are those of the best epoch: their validation loss is the minimum
    xv = torch.from_numpy(Xv)
    scale = xv.std(dim=-1, keepdim=True, correction=0)
    est.module_.eval()
    with torch.no_grad():
        loss = torch.nn.functional.mse_loss(est.module_(xv / scale), torch.from_numpy(yv) / scale)
    assert float(loss) == pytest.approx(min(losses), rel=1e-4)


def test_grid_search_hidden_size(eog_pairs):
    (X, y), _ = eog_pairs
    est = BGAttentionDenoiser(lr=1e-3, max_epochs=1, train_split=None, random_state=0)
    search = GridSearchCV(est, {"module__hidden_size": [2, 4]}, cv=KFold(2),
                          scoring=get_scorer("neg_rrmse_temporal"))
    search.fit(X[:60, :64], y[:60, :64])
    assert search.best_params_["module__hidden_size"] in (2, 4)
    assert np.all(search.cv_results_["mean_test_score"] < 0)


def test_residual_output_is_input_minus_module(eog_pairs):
    (X, y), (X_test, _) = eog_pairs
    est = FCNNDenoiser(residual=True, lr=1e-3, max_epochs=2, train_split=None,
                       random_state=0).fit(X, y)
    x = torch.from_numpy(X_test[:, None].astype(np.float32))
    scale = x.std(dim=-1, keepdim=True, correction=0)
    est.module_.eval()
    with torch.no_grad():
        expected = (x / scale - est.module_(x / scale)) * scale
    np.testing.assert_allclose(est.transform(X_test), expected[:, 0].numpy(), rtol=1e-4,
                               atol=1e-5)


def test_residual_learns_and_starts_near_identity(eog_pairs):
    (X, y), (X_test, y_test) = eog_pairs
    # before any update (lr ~ 0) a residual network's output is the input minus a small
    # correction, a direct one's is unrelated to the input
    untrained = {res: FCNNDenoiser(residual=res, lr=1e-12, max_epochs=1, train_split=None,
                                   random_state=0).fit(X, y).transform(X_test)
                 for res in (False, True)}
    assert rrmse_temporal(X_test, untrained[True]) < rrmse_temporal(X_test, untrained[False])
    residual = FCNNDenoiser(residual=True, lr=1e-3, batch_size=16, max_epochs=30,
                            train_split=None, random_state=0).fit(X, y)
    noisy = rrmse_temporal(y_test, X_test)
    assert rrmse_temporal(y_test, residual.transform(X_test)) < min(0.5 * noisy, 0.9)


def test_residual_must_be_a_bool_or_gated(eog_pairs):
    (X, y), _ = eog_pairs
    with pytest.raises(ValueError, match="residual must be False, True or 'gated'; got 'yes'"):
        FCNNDenoiser(residual="yes", max_epochs=1).fit(X[:8], y[:8])


def test_gated_residual_learns_its_gate_from_the_spectrum(eog_pairs):
    from sigest.models.gate import GatedResidual

    (X, y), (X_test, y_test) = eog_pairs
    est = FCNNDenoiser(residual="gated", lr=1e-3, batch_size=16, max_epochs=8,
                       train_split=None, random_state=0).fit(X, y)
    assert isinstance(est.module_, GatedResidual)
    noisy = rrmse_temporal(y_test, X_test)
    assert rrmse_temporal(y_test, est.transform(X_test)) < min(0.5 * noisy, 0.9)
    # the gate left its initial 0.5: on EOG it learns to close (a direct mapping does better
    # than residual learning on this task)
    x = torch.from_numpy(X_test[:, None].astype(np.float32))
    with torch.no_grad():
        gate = est.module_.gate(x / x.std(dim=-1, keepdim=True)).numpy()
    assert gate.max() < 0.1, gate.max()


@pytest.mark.parametrize("n_times", [2, 7, 64, 512])
def test_spectral_gate_shapes(n_times):
    from sigest.models.gate import GatedResidual

    net = GatedResidual(FCNN(3, n_times), n_times)
    out = net(torch.randn(5, 3, n_times))
    assert out.shape == (5, 3, n_times)
    assert torch.allclose(net.gate(torch.randn(5, 3, n_times)), torch.tensor(0.5))


def test_spectral_gate_needs_two_samples():
    from sigest.models.gate import SpectralGate

    with pytest.raises(ValueError, match="SpectralGate needs n_times >= 2; got 1"):
        SpectralGate(1)


def test_zero_epochs_leave_an_initialised_network_despite_early_stopping(eog_pairs):
    (X, y), _ = eog_pairs
    est = FCNNDenoiser(max_epochs=0, random_state=0).fit(X[:40], y[:40])
    assert "early_stopping" in dict(est.callbacks_) and len(est.history) == 0
    assert est.transform(X[:2]).shape == X[:2].shape


def _norm_and_dropout(module):
    norms = [m for m in module.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    dropouts = [m for m in module.modules() if isinstance(m, torch.nn.Dropout)]
    return norms, dropouts


def test_train_in_eval_mode_keeps_batch_norm_statistics_and_turns_dropout_off(eog_pairs):
    (X, y), _ = eog_pairs
    params = dict(module__n_filters=4, lr=1e-3, batch_size=16, max_epochs=2, train_split=None,
                  random_state=0)
    official = ComplexCNNDenoiser(train_in_eval_mode=True, **params).fit(X, y)
    norms, _ = _norm_and_dropout(official.module_)
    assert norms and all(torch.all(n.running_mean == 0) and torch.all(n.running_var == 1)
                         for n in norms)
    assert all(n.num_batches_tracked == 0 for n in norms)
    # the learned scale and shift did train
    assert any(not torch.all(n.weight == 1) for n in norms)
    default = ComplexCNNDenoiser(**params).fit(X, y)
    assert any(not torch.all(n.running_mean == 0) for n in _norm_and_dropout(default.module_)[0])


class _RecordDropoutMode(Callback):
    """Records whether the dropout layers were in training mode during each training batch."""

    def initialize(self):
        self.modes_ = []
        return self

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if training:
            self.modes_ += [m.training for m in net.module_.modules()
                            if isinstance(m, torch.nn.Dropout)]


@pytest.mark.parametrize("eval_mode", [True, False])
def test_train_in_eval_mode_trains_without_dropout(eog_pairs, eval_mode):
    (X, y), _ = eog_pairs
    record = _RecordDropoutMode()
    FCNNDenoiser(train_in_eval_mode=eval_mode, callbacks=[record], lr=1e-3, max_epochs=1,
                 train_split=None, random_state=0).fit(X[:40], y[:40])
    assert record.modes_ and set(record.modes_) == {not eval_mode}


def test_train_in_eval_mode_must_be_a_bool(eog_pairs):
    (X, y), _ = eog_pairs
    with pytest.raises(ValueError, match="train_in_eval_mode must be True or False; got 'yes'"):
        FCNNDenoiser(train_in_eval_mode="yes", max_epochs=1).fit(X[:8], y[:8])
