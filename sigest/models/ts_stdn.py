"""TS-STDN: the two-stream spectral-temporal denoising network (Liu et al., ICONIP 2023).

Liu X.-H., Jiang W.-B., Zheng W.-L., Lu B.-L. "Two-Stream Spectral-Temporal Denoising Network
for End-to-End Robust EEG-Based Emotion Recognition", ICONIP 2023, pp. 186-197.

Two U-Nets of temporal convolutions share one shape: the temporal stream runs over the epoch as
an image ``(1, C, T)``, the spectral stream over the per-channel log-magnitude STFT laid out as
``(1, C, F * frames)``. Each reconstructs its clean input (the signal, the spectrum) from the
noisy one. Their bottlenecks feed depthwise spatial convolutions (``D`` filters per map) and
feature convolutions (``Ft`` / ``Fs`` maps); the feature maps of both streams are embedded to
``d`` dimensions, read by an LSTM as a sequence of ``Ft + Fs`` maps, weighted by attention over
the maps and classified.

Compared with the authors' code, this module infers any ``(C, T)`` (it pads internally to a
multiple of the network's total pooling factor and crops the reconstructions back), embeds the
two streams separately (the authors' code assumes equally long temporal and spectral feature
maps), and uses the log-magnitude of a Hann-windowed STFT (the authors' code takes the logs of
the real and imaginary parts of an unwindowed, rectangular-window STFT).
"""

import torch
import torch.nn.functional as F
from torch import nn

_POOL = 32  # total pooling factor of the bottleneck branch: 2 * 2 (U-Net) * 2 * 4 (features)


def _conv_block(in_maps, out_maps, kernel, groups=1, pool=True):
    """A same-padded (1, kernel) convolution, batch norm, ELU and an optional pooling by 2."""
    layers = [
        nn.ZeroPad2d(((kernel - 1) // 2, kernel // 2, 0, 0)),
        nn.Conv2d(in_maps, out_maps, (1, kernel), groups=groups, bias=False),
        nn.BatchNorm2d(out_maps),
        nn.ELU(),
    ]
    if pool:
        layers.append(nn.AvgPool2d((1, 2)))
    return nn.Sequential(*layers)


class _UNet(nn.Module):
    """The two-level U-Net of temporal convolutions of both streams: (B, 1, C, L) -> same.

    ``L`` must be a multiple of 4. ``forward`` returns the reconstruction and the bottleneck
    ``(B, 4, C, L / 4)``.
    """

    def __init__(self, kernel=64):
        super().__init__()
        half = max(kernel // 2, 1)
        self.down1 = _conv_block(1, 2, kernel)
        self.down2 = _conv_block(2, 4, half)
        self.lowest = _conv_block(4, 4, 1, groups=4, pool=False)
        self.up2 = nn.Sequential(nn.Upsample(scale_factor=(1, 2)),
                                 _conv_block(4, 2, half, groups=2, pool=False))
        self.up1 = nn.Sequential(nn.Upsample(scale_factor=(1, 2)),
                                 _conv_block(4, 2, kernel, groups=2, pool=False))
        pad = ((kernel - 1) // 2, kernel // 2, 0, 0)
        self.decoder = nn.Sequential(
            nn.ZeroPad2d(pad), nn.Conv2d(3, 1, (1, kernel), bias=False), nn.ReLU(),
            nn.ZeroPad2d(pad), nn.Conv2d(1, 1, (1, kernel), bias=False),
        )

    def forward(self, x):
        down1 = self.down1(x)
        down2 = self.down2(down1)
        bottleneck = self.lowest(down2)
        up2 = torch.cat([down1, self.up2(bottleneck)], dim=1)
        up1 = torch.cat([x, self.up1(up2)], dim=1)
        return self.decoder(up1), bottleneck


class _BottleneckFeatures(nn.Module):
    """Depthwise spatial convolution over all channels, then the feature convolution.

    (B, 4, C, L) -> (B, n_maps, L / 32).
    """

    def __init__(self, n_channels, depth, n_maps, kernel=16, dropout=0.5):
        super().__init__()
        self.spatial = nn.Sequential(
            nn.Conv2d(4, 4 * depth, (n_channels, 1), groups=4, bias=False),
            nn.BatchNorm2d(4 * depth), nn.ELU(), nn.AvgPool2d((1, 2)), nn.Dropout(dropout),
        )
        self.feature = nn.Sequential(
            nn.ZeroPad2d(((kernel - 1) // 2, kernel // 2, 0, 0)),
            nn.Conv2d(4 * depth, n_maps, (1, kernel), bias=False),
            nn.BatchNorm2d(n_maps), nn.ELU(), nn.AvgPool2d((1, 4)), nn.Dropout(dropout),
        )

    def forward(self, bottleneck):
        return self.feature(self.spatial(bottleneck)).squeeze(2)


def _padded(length):
    return -(-length // _POOL) * _POOL


class TSSTDN(nn.Module):
    """Two-stream spectral-temporal denoising classifier: (B, C, T) -> logits and reconstructions.

    Parameters
    ----------
    n_channels, n_times, n_classes : int
        Shape of the epochs and number of classes (inferred by the estimator).
    D : int, default=4
        Depth multiplier of the depthwise spatial convolutions (filters per bottleneck map).
    Fs : int, default=16
        Feature maps of the spectral stream's feature convolution.
    Ft : int, default=16
        Feature maps of the temporal stream's feature convolution.
    d : int, default=16
        Embedding (and LSTM hidden) size.
    n_fft : int, default=200
        STFT window in samples (the paper's 1 s at 200 Hz; use the sampling rate for 1-s
        windows). Shorter epochs use a window of their own length.
    hop_length : int or None, default=None
        STFT hop; None means ``n_fft`` (non-overlapping windows, as in the paper).
    kernel_size : int, default=64
        Kernel of the U-Nets' outer convolutions (the inner ones use half of it).
    dropout : float, default=0.5

    Notes
    -----
    ``forward(x)`` returns ``(logits, temporal_reconstruction, spectral_reconstruction)`` of
    shapes ``(B, n_classes)``, ``(B, C, T)`` and ``(B, C, n_freqs, n_frames)``;
    :meth:`spectrum` gives the log-magnitude STFT a spectral reconstruction is compared with.

    Examples
    --------
    >>> net = TSSTDN(n_channels=62, n_times=400, n_classes=3)
    >>> logits, x_rec, s_rec = net(torch.randn(2, 62, 400))
    >>> logits.shape, x_rec.shape, s_rec.shape
    (torch.Size([2, 3]), torch.Size([2, 62, 400]), torch.Size([2, 62, 101, 2]))
    """

    def __init__(self, n_channels, n_times, n_classes, D=4, Fs=16, Ft=16, d=16, n_fft=200,
                 hop_length=None, kernel_size=64, dropout=0.5):
        super().__init__()
        self.n_channels, self.n_times = n_channels, n_times
        self.n_fft = max(1, min(int(n_fft), n_times))
        self.hop_length = self.n_fft if hop_length is None else max(1, int(hop_length))
        self.n_freqs = self.n_fft // 2 + 1
        self.n_frames = (n_times - self.n_fft) // self.hop_length + 1
        self.register_buffer("window", torch.hann_window(self.n_fft, periodic=True)
                             if self.n_fft > 2 else torch.ones(self.n_fft), persistent=False)
        self.spectral_length = self.n_freqs * self.n_frames
        n_maps = Ft + Fs
        self.temporal_unet = _UNet(kernel_size)
        self.spectral_unet = _UNet(kernel_size)
        self.temporal_features = _BottleneckFeatures(n_channels, D, Ft, dropout=dropout)
        self.spectral_features = _BottleneckFeatures(n_channels, D, Fs, dropout=dropout)
        self.temporal_embedding = nn.Linear(_padded(n_times) // _POOL, d)
        self.spectral_embedding = nn.Linear(_padded(self.spectral_length) // _POOL, d)
        self.lstm = nn.LSTM(d, d, batch_first=True)
        self.attention = nn.Sequential(
            nn.Linear(n_maps, max(n_maps // 4, 1)), nn.Tanh(),
            nn.Linear(max(n_maps // 4, 1), n_maps), nn.Softmax(dim=-1),
        )
        self.classifier = nn.Linear(n_maps * d, n_classes)

    def spectrum(self, x):
        """Log-magnitude STFT of every channel: (B, C, T) -> (B, C, n_freqs, n_frames)."""
        b, c, t = x.shape
        spec = torch.stft(x.reshape(b * c, t), n_fft=self.n_fft, hop_length=self.hop_length,
                          window=self.window, center=False, onesided=True, return_complex=True)
        return torch.log(spec.abs() + 1e-6).reshape(b, c, self.n_freqs, self.n_frames)

    @staticmethod
    def _unet(unet, x):
        """Run a U-Net over (B, C, L), zero-padded to a multiple of 32; crop back."""
        length = x.shape[-1]
        padded = F.pad(x, (0, _padded(length) - length)).unsqueeze(1)
        reconstruction, bottleneck = unet(padded)
        return reconstruction[:, 0, :, :length], bottleneck

    def forward(self, x):
        b, c, _ = x.shape
        spec = self.spectrum(x)
        x_rec, x_bottleneck = self._unet(self.temporal_unet, x)
        s_rec, s_bottleneck = self._unet(self.spectral_unet, spec.reshape(b, c, -1))
        temporal = self.temporal_embedding(self.temporal_features(x_bottleneck))
        spectral = self.spectral_embedding(self.spectral_features(s_bottleneck))
        maps, _ = self.lstm(torch.cat([temporal, spectral], dim=1))  # (B, Ft + Fs, d)
        weights = self.attention(maps.mean(dim=-1)).unsqueeze(-1)
        logits = self.classifier((weights * maps).flatten(1))
        return logits, x_rec, s_rec.reshape(spec.shape)
