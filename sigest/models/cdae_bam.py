"""CDAE-BAM: a convolutional denoising autoencoder with batch attention (ECG denoising).

The encoder is a stack of blocks "convolution -> batch norm -> LeakyReLU -> attention -> max-pool
by 2"; the decoder mirrors it with transposed convolutions, and each decoder level adds the
encoder's features of the same length (skip connections, as in Chorney et al.'s CDAE-BAM,
Biomed. Signal Process. Control 87:105242, 2024). The attention re-weights the feature maps.
By default (``attention="channel"``, sigest's choice, with which the shipped weights and the
committed benchmarks were made) it is squeeze-and-excitation channel attention: global average
pooling over time, two dense layers, a sigmoid and a channel-wise product. ``attention="block"``
is the paper's block attention module as the authors' code builds it (``weschorney/ecgdaecopy``,
``utils/dl_models.py``, ``CBAM``): a channel gate (a kernel-3 convolution across the
time-averaged channels, ECA-Net style) followed by a spatial gate (a convolution with a kernel
of the level's length + 1 over the channel-mean and channel-max maps laid end to end, one
weight per time step).

The network is single-channel: a multichannel input is denoised channel by channel, the
channels folded into the batch.
"""

import numbers

import torch
from torch import nn
from torch.nn import functional as F

from .batchnorm import BatchNorm1d


class BatchAttention(nn.Module):
    """Channel attention: global average pooling -> dense -> ReLU -> dense -> sigmoid -> scale.

    Parameters
    ----------
    n_filters : int
        Feature maps of the input ``(batch, n_filters, times)``.
    reduction : int, default=4
        Width of the hidden dense layer is ``max(n_filters // reduction, 2)``.
    """

    def __init__(self, n_filters, reduction=4):
        super().__init__()
        hidden = max(n_filters // reduction, 2)
        self.gate = nn.Sequential(
            nn.Linear(n_filters, hidden), nn.ReLU(), nn.Linear(hidden, n_filters), nn.Sigmoid())

    def forward(self, x):
        weights = self.gate(x.mean(dim=-1))
        return x * weights.unsqueeze(-1)


class BlockAttention(nn.Module):
    """The paper's block attention module: a channel gate, then a spatial gate.

    Channel gate: the time-averaged feature maps, a kernel-3 convolution across channels and a
    sigmoid give one weight per channel. Spatial gate: the mean and the maximum over channels,
    concatenated along time (length ``2 * n_times``), a convolution with a kernel of
    ``n_times + 1`` (so ``n_times`` outputs) and a sigmoid give one weight per time step.

    Parameters
    ----------
    n_times : int
        Length of the feature maps this module sees (the spatial kernel depends on it).
    """

    def __init__(self, n_times):
        super().__init__()
        self.channel = nn.Conv1d(1, 1, 3, padding=1)
        self.spatial = nn.Conv1d(1, 1, n_times + 1)

    def forward(self, x):
        weights = torch.sigmoid(self.channel(x.mean(dim=-1).unsqueeze(1)))  # (B, 1, C)
        x = x * weights.transpose(1, 2)
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=-1)
        return x * torch.sigmoid(self.spatial(pooled))  # (B, 1, T) weights


def _attention(kind, n_filters, reduction, n_times):
    return BatchAttention(n_filters, reduction) if kind == "channel" else BlockAttention(n_times)


class _EncoderBlock(nn.Module):
    def __init__(self, n_in, n_out, kernel_size, attention):
        super().__init__()
        self.conv = nn.Conv1d(n_in, n_out, kernel_size, padding=kernel_size // 2)
        self.norm = BatchNorm1d(n_out)
        self.attention = attention

    def forward(self, x):
        h = self.attention(F.leaky_relu(self.norm(self.conv(x)), 0.2))
        return F.max_pool1d(h, 2, ceil_mode=True)


class _DecoderBlock(nn.Module):
    def __init__(self, n_in, n_out, kernel_size, attention):
        super().__init__()
        self.up = nn.ConvTranspose1d(n_in, n_out, 4, stride=2, padding=1)
        self.conv = nn.Conv1d(n_out, n_out, kernel_size, padding=kernel_size // 2)
        self.norm = BatchNorm1d(n_out)
        self.attention = attention

    def forward(self, x, n_times):
        h = self.up(x)[..., :n_times]
        return self.attention(F.leaky_relu(self.norm(self.conv(h)), 0.2))


class CDAEBAM(nn.Module):
    """Convolutional denoising autoencoder with batch attention: (B, C, T) -> (B, C, T).

    Parameters
    ----------
    n_channels : int
        Signal channels; each is denoised by the same single-channel network.
    n_times : int
        Samples per epoch (256 at 360 Hz in the seed); any length works, the decoder crops its
        upsampled maps to the encoder's lengths.
    n_filters : tuple of int, default=(16, 32, 32, 32)
        Feature maps of each encoder level, so ``len(n_filters)`` is the depth (each level halves
        the time axis); the decoder mirrors them. Chorney et al. use (16, 32, 64, 64) with
        kernels of 16; the narrower default denoised as well in a short test on MIT-BIH and
        runs about twice as fast (the 1000x real-time target on one core).
    kernel_size : int, default=9
        Length of the convolution kernels (odd keeps the output aligned).
    reduction : int, default=4
        Reduction ratio of the channel attention's hidden dense layer.
    attention : {"channel", "block"}, default="channel"
        Squeeze-and-excitation channel attention (sigest's default), or the paper's block
        attention module (:class:`BlockAttention`, channel then spatial gates).
    residual : bool, default=True
        Predict the noise and subtract it from the input (True), or predict the clean signal
        directly (False, the classic autoencoder).
    """

    def __init__(self, n_channels, n_times, n_filters=(16, 32, 32, 32), kernel_size=9,
                 reduction=4, attention="channel", residual=True):
        super().__init__()
        if attention not in ("channel", "block"):
            raise ValueError(f"attention must be 'channel' or 'block'; got {attention!r}")
        n_filters = tuple(int(f) for f in n_filters)
        if not n_filters:
            raise ValueError("n_filters needs at least one level")
        if isinstance(kernel_size, bool) or not isinstance(kernel_size, numbers.Integral) \
                or kernel_size < 1 or kernel_size % 2 == 0:
            # an even kernel shifts each level by half a sample, and the skips stop lining up
            raise ValueError(f"kernel_size must be an odd positive integer; got {kernel_size!r}")
        self.residual = residual
        widths = (1,) + n_filters
        lengths = [n_times]  # of each encoder level's input; pooling rounds up
        for _ in n_filters[1:]:
            lengths.append(-(-lengths[-1] // 2))
        self.encoder = nn.ModuleList(
            _EncoderBlock(widths[i], widths[i + 1], kernel_size,
                          _attention(attention, widths[i + 1], reduction, lengths[i]))
            for i in range(len(n_filters)))
        # decoder level i maps features of encoder level i + 1 back to encoder level i's length
        self.decoder = nn.ModuleList(
            _DecoderBlock(widths[i + 1], widths[i] if i else n_filters[0], kernel_size,
                          _attention(attention, widths[i] if i else n_filters[0], reduction,
                                     lengths[i]))
            for i in reversed(range(len(n_filters))))
        self.head = nn.Conv1d(n_filters[0], 1, kernel_size, padding=kernel_size // 2)

    def forward(self, x):
        batch, n_channels, n_times = x.shape
        h = x.reshape(batch * n_channels, 1, n_times)
        skips, lengths = [], []
        for block in self.encoder:
            lengths.append(h.shape[-1])
            h = block(h)
            skips.append(h)
        skips.pop()  # the bottleneck is not added to itself
        for block in self.decoder:
            h = block(h, lengths.pop())
            if skips:
                h = h + skips.pop()
        out = self.head(h).reshape(batch, n_channels, n_times)
        return x - out if self.residual else out
