"""Learned EEG denoisers: BG-Attention, the EEGdenoiseNet benchmark networks and Novel CNN.

Every estimator here is a :class:`sigest.base.SignalDenoiser` with its paper's training
defaults: EEGdenoiseNet's protocol (``ncclabsustech/EEGdenoiseNet``,
``code/benchmark_networks/main.py``): MSE loss, RMSprop with learning rate 5e-5 and rho 0.9,
batch 40, 50 epochs, noisy input and clean target divided by the noisy input's std. The
BG-Attention re-implementation (``UGeunJi/EEG_Denoising_using_BG-Attention``,
``Code/main.py``) trains in the same framework with the same settings.

Beyond the papers (which keep the weights of the last epoch), training holds out
``train_split`` of the data and stops early on its loss, restoring the best epoch's weights.
"""

import torch
from skorch.callbacks import EarlyStopping

from ..base import SignalDenoiser
from ..models.bg_attention import BGAttention
from ..models.eegdenoisenet import FCNN, RNNLSTM, ComplexCNN, SimpleCNN
from ..models.novel_cnn import NovelCNN
from ..validation import check_bool


class KerasRMSprop(torch.optim.RMSprop):
    """RMSprop with Keras' defaults (``rho`` = ``alpha`` = 0.9, ``eps`` = 1e-7), as the papers.

    Parameters
    ----------
    params : iterable
    lr : float, default=1e-3
    alpha : float, default=0.9
    eps : float, default=1e-7
    **kwargs
        Other :class:`torch.optim.RMSprop` arguments.
    """

    def __init__(self, params, lr=1e-3, alpha=0.9, eps=1e-7, **kwargs):
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, **kwargs)


_PARAMS_DOC = """
    lr : float, default=5e-5
    batch_size : int, default=40
    optimizer : type, default=KerasRMSprop
        RMSprop with rho 0.9, as the paper's Keras code.
    max_epochs : int, default=50
    train_split : float, None or callable, default=0.1
        Held-out fraction (seeded by ``random_state``) for early stopping.
    patience : int or None, default=5
        Stop after this many epochs without a lower validation loss and restore the best
        epoch's weights (skorch ``EarlyStopping(load_best=True)``); None trains all
        ``max_epochs``. Needs a ``train_split``.
    train_in_eval_mode : bool, default=False
        True trains with every layer in eval mode: batch norm normalises with its running
        statistics, which then never change from their initial zero mean and unit variance (so
        it is a learned scale and shift), and dropout is off. This is what the official
        EEGdenoiseNet code does, since its training loop calls the Keras model without
        ``training=True``; set it to reproduce that code's effective training rather than the
        networks as the paper describes them.
    **kwargs
        Any :class:`sigest.base.SignalDenoiser` parameter (``noise``, ``epoch_scaling``,
        ``random_state``, ``verbose``, ``callbacks``, ...) and ``module__*`` network
        parameters.
"""


def _silent(*args, **kwargs):
    """A sink that prints nothing (picklable, unlike a lambda)."""


class _PaperDenoiser(SignalDenoiser):
    """A SignalDenoiser with EEGdenoiseNet's training defaults and early stopping."""

    def __init__(self, module, *, lr=5e-5, batch_size=40, optimizer=KerasRMSprop,
                 max_epochs=50, train_split=0.1, patience=5, train_in_eval_mode=False,
                 **kwargs):
        super().__init__(module, lr=lr, batch_size=batch_size, optimizer=optimizer,
                         max_epochs=max_epochs, train_split=train_split, **kwargs)
        self.patience = patience
        self.train_in_eval_mode = train_in_eval_mode

    def _prepare_fit(self, X, y, *, reset):
        check_bool(self.train_in_eval_mode, "train_in_eval_mode")
        return super()._prepare_fit(X, y, reset=reset)

    def _set_training(self, training=True):
        super()._set_training(training and not self.train_in_eval_mode)

    def _extra_default_callbacks(self):
        split = self.train_split
        if self.patience is None or split is None or split is False or (
                isinstance(split, (int, float)) and split == 0):
            return []
        return [("early_stopping", _EarlyStopping(monitor="valid_loss", patience=self.patience,
                                                  load_best=True,
                                                  sink=print if self.verbose else _silent))]


class _EarlyStopping(EarlyStopping):
    """skorch's EarlyStopping that lets a fit of ``max_epochs=0`` end (no epoch to restore)."""

    def on_train_end(self, net, **kwargs):
        if len(net.history):
            super().on_train_end(net, **kwargs)


class BGAttentionDenoiser(_PaperDenoiser):
    __doc__ = f"""BG-Attention denoiser: BiGRUs with multi-head self-attention (Wang et al. 2022).

    See :class:`sigest.models.bg_attention.BGAttention` for the network and its sources.
    Network parameters: ``module__hidden_size`` (16), ``module__n_heads`` (2),
    ``module__depth`` (2), ``module__dropout`` (0.0).

    Parameters
    ----------
    module : type, default=BGAttention
{_PARAMS_DOC}
    Examples
    --------
    >>> import numpy as np
    >>> from sigest.estimators.denoisers import BGAttentionDenoiser
    >>> X = np.random.default_rng(0).standard_normal((20, 64))
    >>> den = BGAttentionDenoiser(max_epochs=1, module__hidden_size=4, random_state=0).fit(X)
    >>> den.transform(X).shape
    (20, 64)
    """

    def __init__(self, module=BGAttention, *, lr=5e-5, batch_size=40, optimizer=KerasRMSprop,
                 max_epochs=50, train_split=0.1, patience=5, train_in_eval_mode=False,
                 **kwargs):
        super().__init__(module, lr=lr, batch_size=batch_size, optimizer=optimizer,
                         max_epochs=max_epochs, train_split=train_split, patience=patience,
                         train_in_eval_mode=train_in_eval_mode, **kwargs)


class FCNNDenoiser(_PaperDenoiser):
    __doc__ = f"""EEGdenoiseNet's fully-connected denoiser.

    See :class:`sigest.models.eegdenoisenet.FCNN`. Network parameters:
    ``module__n_hidden_layers`` (3), ``module__dropout`` (0.3).

    Parameters
    ----------
    module : type, default=FCNN
{_PARAMS_DOC}
    Examples
    --------
    >>> import numpy as np
    >>> from sigest.estimators.denoisers import FCNNDenoiser
    >>> X = np.random.default_rng(0).standard_normal((20, 64))
    >>> FCNNDenoiser(max_epochs=1, random_state=0).fit(X).transform(X).shape
    (20, 64)
    """

    def __init__(self, module=FCNN, *, lr=5e-5, batch_size=40, optimizer=KerasRMSprop,
                 max_epochs=50, train_split=0.1, patience=5, train_in_eval_mode=False,
                 **kwargs):
        super().__init__(module, lr=lr, batch_size=batch_size, optimizer=optimizer,
                         max_epochs=max_epochs, train_split=train_split, patience=patience,
                         train_in_eval_mode=train_in_eval_mode, **kwargs)


class SimpleCNNDenoiser(_PaperDenoiser):
    __doc__ = f"""EEGdenoiseNet's simple convolutional denoiser.

    See :class:`sigest.models.eegdenoisenet.SimpleCNN`. Network parameters:
    ``module__n_filters`` (64), ``module__n_layers`` (4), ``module__kernel_size`` (3).

    Parameters
    ----------
    module : type, default=SimpleCNN
{_PARAMS_DOC}
    Examples
    --------
    >>> import numpy as np
    >>> from sigest.estimators.denoisers import SimpleCNNDenoiser
    >>> X = np.random.default_rng(0).standard_normal((20, 64))
    >>> SimpleCNNDenoiser(max_epochs=1, random_state=0).fit(X).transform(X).shape
    (20, 64)
    """

    def __init__(self, module=SimpleCNN, *, lr=5e-5, batch_size=40, optimizer=KerasRMSprop,
                 max_epochs=50, train_split=0.1, patience=5, train_in_eval_mode=False,
                 **kwargs):
        super().__init__(module, lr=lr, batch_size=batch_size, optimizer=optimizer,
                         max_epochs=max_epochs, train_split=train_split, patience=patience,
                         train_in_eval_mode=train_in_eval_mode, **kwargs)


class ComplexCNNDenoiser(_PaperDenoiser):
    __doc__ = f"""EEGdenoiseNet's complex (1-D ResNet) convolutional denoiser.

    See :class:`sigest.models.eegdenoisenet.ComplexCNN`. Network parameters:
    ``module__n_filters`` (32), ``module__kernel_sizes`` ((3, 5, 7)),
    ``module__blocks_per_branch`` (2).

    Parameters
    ----------
    module : type, default=ComplexCNN
{_PARAMS_DOC}
    Examples
    --------
    >>> import numpy as np
    >>> from sigest.estimators.denoisers import ComplexCNNDenoiser
    >>> X = np.random.default_rng(0).standard_normal((20, 64))
    >>> ComplexCNNDenoiser(max_epochs=1, random_state=0).fit(X).transform(X).shape
    (20, 64)
    """

    def __init__(self, module=ComplexCNN, *, lr=5e-5, batch_size=40, optimizer=KerasRMSprop,
                 max_epochs=50, train_split=0.1, patience=5, train_in_eval_mode=False,
                 **kwargs):
        super().__init__(module, lr=lr, batch_size=batch_size, optimizer=optimizer,
                         max_epochs=max_epochs, train_split=train_split, patience=patience,
                         train_in_eval_mode=train_in_eval_mode, **kwargs)


class RNNDenoiser(_PaperDenoiser):
    __doc__ = f"""EEGdenoiseNet's LSTM recurrent denoiser.

    See :class:`sigest.models.eegdenoisenet.RNNLSTM`. Network parameters:
    ``module__hidden_size`` (1), ``module__n_hidden_layers`` (2), ``module__dropout`` (0.3).

    Parameters
    ----------
    module : type, default=RNNLSTM
{_PARAMS_DOC}
    Examples
    --------
    >>> import numpy as np
    >>> from sigest.estimators.denoisers import RNNDenoiser
    >>> X = np.random.default_rng(0).standard_normal((20, 64))
    >>> RNNDenoiser(max_epochs=1, random_state=0).fit(X).transform(X).shape
    (20, 64)
    """

    def __init__(self, module=RNNLSTM, *, lr=5e-5, batch_size=40, optimizer=KerasRMSprop,
                 max_epochs=50, train_split=0.1, patience=5, train_in_eval_mode=False,
                 **kwargs):
        super().__init__(module, lr=lr, batch_size=batch_size, optimizer=optimizer,
                         max_epochs=max_epochs, train_split=train_split, patience=patience,
                         train_in_eval_mode=train_in_eval_mode, **kwargs)


class NovelCNNDenoiser(_PaperDenoiser):
    __doc__ = f"""Novel CNN muscle-artifact denoiser (Zhang et al., ICASSP 2021).

    See :class:`sigest.models.novel_cnn.NovelCNN`. Network parameters:
    ``module__n_filters`` (32), ``module__n_stages`` (7), ``module__kernel_size`` (3).

    Parameters
    ----------
    module : type, default=NovelCNN
{_PARAMS_DOC}
    Examples
    --------
    >>> import numpy as np
    >>> from sigest.estimators.denoisers import NovelCNNDenoiser
    >>> X = np.random.default_rng(0).standard_normal((20, 64))
    >>> den = NovelCNNDenoiser(max_epochs=1, module__n_stages=3, random_state=0).fit(X)
    >>> den.transform(X).shape
    (20, 64)
    """

    def __init__(self, module=NovelCNN, *, lr=5e-5, batch_size=40, optimizer=KerasRMSprop,
                 max_epochs=50, train_split=0.1, patience=5, train_in_eval_mode=False,
                 **kwargs):
        super().__init__(module, lr=lr, batch_size=batch_size, optimizer=optimizer,
                         max_epochs=max_epochs, train_split=train_split, patience=patience,
                         train_in_eval_mode=train_in_eval_mode, **kwargs)


_CHECK = {"max_epochs": 2, "batch_size": 16, "verbose": 0}


def register_estimators(register):
    register("bg-attention", BGAttentionDenoiser, task="denoising",
             description="BiGRU + multi-head self-attention EEG denoiser (Wang et al. 2022)",
             check_params={**_CHECK, "module__hidden_size": 2, "module__n_heads": 2})
    register("fcnn", FCNNDenoiser, task="denoising",
             description="EEGdenoiseNet fully-connected denoiser (Zhang et al. 2021)",
             check_params=_CHECK)
    register("simple-cnn", SimpleCNNDenoiser, task="denoising",
             description="EEGdenoiseNet simple CNN denoiser (Zhang et al. 2021)",
             check_params={**_CHECK, "module__n_filters": 4})
    register("complex-cnn", ComplexCNNDenoiser, task="denoising",
             description="EEGdenoiseNet complex CNN (1-D ResNet) denoiser (Zhang et al. 2021)",
             check_params={**_CHECK, "module__n_filters": 4})
    register("rnn-lstm", RNNDenoiser, task="denoising",
             description="EEGdenoiseNet LSTM denoiser (Zhang et al. 2021)",
             check_params=_CHECK)
    register("novel-cnn", NovelCNNDenoiser, task="denoising",
             description="Novel CNN muscle-artifact denoiser (Zhang et al., ICASSP 2021)",
             check_params={**_CHECK, "module__n_filters": 2, "module__n_stages": 3})
