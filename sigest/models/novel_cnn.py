"""Novel CNN for muscle-artifact removal (Zhang et al., ICASSP 2021), in PyTorch.

Zhang H, Wei C, Zhao M, Liu Q, Wu H. "A novel convolutional neural network model to remove
muscle artifacts from EEG", ICASSP 2021. Sizes follow the authors' Keras code,
``ncclabsustech/EEGdenoiseNet``, ``code/Novel_CNN/Novel_CNN.py`` (function ``unet5``): seven
stages of two Conv1d (kernel 3, ReLU, He-normal init) with 32, 64, ..., 2048 filters, a
max-pooling by 2 after each of the first six, then a dense layer from the flattened features to
the epoch length. (The authors used 1024-sample epochs at 512 Hz for EMG.)
"""

import math

import torch.nn.functional as F
from torch import nn

from .eegdenoisenet import ChannelFolded


class NovelCNN(ChannelFolded):
    """Novel CNN: a deepening 1-D convolutional encoder and a dense read-out.

    Epochs whose length is not a multiple of ``2 ** (n_stages - 1)`` are zero-padded on the right
    before the encoder, so any length works.

    Parameters
    ----------
    n_channels, n_times : int
        Epoch shape (channels are processed independently).
    n_filters : int, default=32
        Filters of the first stage; each later stage doubles them (32 ... 2048 by default).
    n_stages : int, default=7
    kernel_size : int, default=3
    """

    def __init__(self, n_channels, n_times, n_filters=32, n_stages=7, kernel_size=3):
        super().__init__()
        if not (isinstance(n_stages, int) and n_stages >= 1):
            raise ValueError(f"n_stages must be an integer >= 1; got {n_stages!r}")
        self.n_times = n_times
        self.factor = 2 ** (n_stages - 1)
        self.padded = math.ceil(n_times / self.factor) * self.factor
        layers, n_in = [], 1
        for stage in range(n_stages):
            n_out = n_filters * 2**stage
            for _ in range(2):
                conv = nn.Conv1d(n_in, n_out, kernel_size, padding="same")
                nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
                nn.init.zeros_(conv.bias)
                layers += [conv, nn.ReLU()]
                n_in = n_out
            if stage < n_stages - 1:
                layers.append(nn.MaxPool1d(2))
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(n_in * (self.padded // self.factor), n_times)

    def denoise_1d(self, x):
        x = F.pad(x, (0, self.padded - x.shape[-1]))
        return self.head(self.features(x.unsqueeze(1)).flatten(1))
