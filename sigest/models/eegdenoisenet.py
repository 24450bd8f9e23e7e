"""The four benchmark networks of EEGdenoiseNet, in PyTorch.

Sizes follow the official Keras code, ``ncclabsustech/EEGdenoiseNet``,
``code/benchmark_networks/Network_structure.py`` (functions ``fcNN``, ``simple_CNN``,
``Complex_CNN`` with ``Res_BasicBlock`` / ``BasicBlockall``, and ``RNN_lstm``), described in
Zhang et al., "EEGdenoiseNet: a benchmark dataset for deep learning solutions of EEG denoising",
J. Neural Eng. 18 056057 (2021), arXiv 2009.11662. ``datanum`` there is the epoch length, which
here is ``n_times``.

All four are single-channel networks: ``(batch, channels, times)`` inputs are folded to
``(batch * channels, times)``, denoised, and unfolded.
"""

import torch
from torch import nn

from .batchnorm import BatchNorm1d


class ChannelFolded(nn.Module):
    """Base of single-channel denoisers: runs ``denoise_1d`` on every channel, batched.

    Subclasses implement ``denoise_1d(x)`` mapping ``(n, n_times)`` to ``(n, n_times)``.
    """

    def forward(self, x):
        batch, channels, times = x.shape
        out = self.denoise_1d(x.reshape(batch * channels, times))
        return out.reshape(batch, channels, times)


def _dense_stack(n_times, n_hidden_layers, dropout):
    layers = []
    for _ in range(n_hidden_layers):
        layers += [nn.Linear(n_times, n_times), nn.ReLU(), nn.Dropout(dropout)]
    return layers


class FCNN(ChannelFolded):
    """EEGdenoiseNet's fully-connected network (``fcNN``).

    Three hidden dense layers of ``n_times`` units (ReLU, dropout 0.3) and a linear output layer
    of ``n_times`` units.

    Parameters
    ----------
    n_channels, n_times : int
        Epoch shape (channels are processed independently).
    n_hidden_layers : int, default=3
    dropout : float, default=0.3
    """

    def __init__(self, n_channels, n_times, n_hidden_layers=3, dropout=0.3):
        super().__init__()
        self.net = nn.Sequential(*_dense_stack(n_times, n_hidden_layers, dropout),
                                 nn.Linear(n_times, n_times))

    def denoise_1d(self, x):
        return self.net(x)


def _conv_bn_relu(n_in, n_out, kernel_size):
    return [nn.Conv1d(n_in, n_out, kernel_size, padding="same"), BatchNorm1d(n_out),
            nn.ReLU()]


class SimpleCNN(ChannelFolded):
    """EEGdenoiseNet's simple CNN (``simple_CNN``).

    Four blocks of Conv1d(64 filters, kernel 3, "same") + batch norm + ReLU, then a dense layer
    from the flattened ``64 * n_times`` features to ``n_times`` outputs.

    Parameters
    ----------
    n_channels, n_times : int
    n_filters : int, default=64
    n_layers : int, default=4
    kernel_size : int, default=3
    """

    def __init__(self, n_channels, n_times, n_filters=64, n_layers=4, kernel_size=3):
        super().__init__()
        layers = []
        for i in range(n_layers):
            layers += _conv_bn_relu(1 if i == 0 else n_filters, n_filters, kernel_size)
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(n_filters * n_times, n_times)

    def denoise_1d(self, x):
        return self.head(self.features(x.unsqueeze(1)).flatten(1))


class _ResBlock(nn.Module):
    """``Res_BasicBlock``: conv 32 -> conv 16 -> conv 32 (each + BN + ReLU) plus identity."""

    def __init__(self, n_filters, kernel_size):
        super().__init__()
        self.body = nn.Sequential(*_conv_bn_relu(n_filters, n_filters, kernel_size),
                                  *_conv_bn_relu(n_filters, n_filters // 2, kernel_size),
                                  *_conv_bn_relu(n_filters // 2, n_filters, kernel_size))

    def forward(self, x):
        return self.body(x) + x


class ComplexCNN(ChannelFolded):
    """EEGdenoiseNet's complex CNN (``Complex_CNN``), a 1-D ResNet with three kernel sizes.

    Conv1d(32, kernel 5) + BN + ReLU; three parallel branches of two residual blocks with
    kernels 3, 5 and 7 (``BasicBlockall``), concatenated (96 channels); Conv1d(32, kernel 1) +
    BN + ReLU; a dense layer from ``32 * n_times`` to ``n_times``.

    Parameters
    ----------
    n_channels, n_times : int
    n_filters : int, default=32
    kernel_sizes : tuple of int, default=(3, 5, 7)
    blocks_per_branch : int, default=2
    """

    def __init__(self, n_channels, n_times, n_filters=32, kernel_sizes=(3, 5, 7),
                 blocks_per_branch=2):
        super().__init__()
        self.stem = nn.Sequential(*_conv_bn_relu(1, n_filters, 5))
        self.branches = nn.ModuleList(
            nn.Sequential(*[_ResBlock(n_filters, k) for _ in range(blocks_per_branch)])
            for k in kernel_sizes)
        self.merge = nn.Sequential(*_conv_bn_relu(n_filters * len(kernel_sizes), n_filters, 1))
        self.head = nn.Linear(n_filters * n_times, n_times)

    def denoise_1d(self, x):
        h = self.stem(x.unsqueeze(1))
        h = torch.cat([branch(h) for branch in self.branches], dim=1)
        return self.head(self.merge(h).flatten(1))


class RNNLSTM(ChannelFolded):
    """EEGdenoiseNet's recurrent network (``RNN_lstm``).

    An LSTM with ``hidden_size`` (1) units over the samples, its output sequence flattened, then
    two dense layers of ``n_times`` units (ReLU, dropout 0.3) and a linear one of ``n_times``.

    Parameters
    ----------
    n_channels, n_times : int
    hidden_size : int, default=1
    n_hidden_layers : int, default=2
    dropout : float, default=0.3
    """

    def __init__(self, n_channels, n_times, hidden_size=1, n_hidden_layers=2, dropout=0.3):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden_size, batch_first=True)
        dense = [nn.Linear(hidden_size * n_times, n_times), nn.ReLU(), nn.Dropout(dropout)]
        dense += _dense_stack(n_times, n_hidden_layers - 1, dropout)
        self.head = nn.Sequential(*dense, nn.Linear(n_times, n_times))

    def denoise_1d(self, x):
        h, _ = self.lstm(x.unsqueeze(-1))
        return self.head(h.flatten(1))
