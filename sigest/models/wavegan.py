"""WaveGAN (Donahue, McAuley & Puckette, ICLR 2019) sized for short EEG epochs.

The generator maps a latent vector through a dense layer to a short multi-channel sequence, then
upsamples it with ``n_layers`` transposed 1-D convolutions (kernel 25, stride 4 in the paper)
and crops the result to ``n_times`` (it is built for the smallest length ``base * stride **
n_layers >= n_times``: 3 layers make 192 samples, cropped to the 178 of a UCI Bonn chunk), or,
with ``random_crop=True``, one coarsest period longer and cropped at a random offset. The
discriminator mirrors it with strided 1-D convolutions, LeakyReLU(0.2) and phase shuffle
between layers, then a dense score. Either side is class-conditional when ``n_classes > 0``
(label embedding in the generator, projection in the discriminator).

Widths follow the reference code (``chrisdonahue/wavegan``): the dense layer makes
``model_size * 2 ** (n_layers - 1)`` feature maps, halved by each upsampling layer. Differences
from it: a linear output instead of tanh (sigest standardises the data, so epochs are not
bounded), a Gaussian latent instead of a uniform one, batch normalisation in the generator by
default (``batch_norm``; the paper has none) and a phase-shuffle shift drawn per epoch instead
of one per batch.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

from ..validation import check_bool
from .gan import (
    LabelProjection,
    LatentWithLabels,
    NoiseFloor,
    PostFilter,
    SpectrumBranch,
    split_latent_tail,
)


def _windows(x, starts, length):
    """``length`` samples of each example of ``x`` (batch, channels, times) from its own start
    sample (``starts``, one integer tensor entry per example), all channels alike."""
    index = torch.arange(length, device=x.device)[None, :] + starts[:, None]  # (batch, length)
    return x.gather(2, index[:, None, :].expand(-1, x.shape[1], -1))


class PhaseShuffle(nn.Module):
    """Shift each example by a random ``-n..n`` samples, reflect-padded (WaveGAN, section 3.3).

    Active only in training mode; an identity in eval mode or when ``n == 0``.
    """

    def __init__(self, n=2):
        super().__init__()
        self.n = n

    def forward(self, x):
        if not self.training or self.n == 0 or x.shape[-1] <= self.n:
            return x
        shifts = torch.randint(-self.n, self.n + 1, (len(x),), device=x.device)
        padded = F.pad(x, (self.n, self.n), mode="reflect")
        return _windows(padded, self.n - shifts, x.shape[-1])


def _channels(model_size, n_layers):
    """Feature widths from the widest (next to the latent) to the narrowest, as in WaveGAN."""
    return [model_size * 2 ** (n_layers - 1 - i) for i in range(n_layers)]


class RandomCrop(nn.Module):
    """Cut ``n_times`` samples from each epoch at an offset in ``0 .. period - 1``.

    The upsampling layers make every position within one period of their coarsest grid
    (``stride ** n_layers`` samples) a different function of the latent vector, so a fixed crop
    gives epochs whose mean and spread depend on the sample's position, unlike a recording. A
    random offset per epoch makes no position special. The offset comes from one latent entry
    (``n_latent``), so sampling stays deterministic under a seed; ``period <= 1`` keeps the
    first ``n_times`` samples and takes no latent entry.
    """

    def __init__(self, n_times, period=0):
        super().__init__()
        self.n_times, self.period = n_times, period
        self.n_latent = 1 if period > 1 else 0

    def forward(self, x, u):
        if not self.n_latent:
            return x[..., : self.n_times]
        offset = (torch.special.ndtr(u[:, 0]) * self.period).long().clamp(0, self.period - 1)
        return _windows(x, offset, self.n_times)


class WaveGANGenerator(nn.Module):
    """Latent (+ label) -> dense -> ``n_layers`` upsampling convolutions -> cropped epoch."""

    def __init__(self, n_channels, n_times, n_classes=0, latent_dim=100, model_size=16,
                 n_layers=3, kernel_size=25, stride=4, upsample="transpose", batch_norm=True,
                 post_filter=0, noise_floor=0, random_crop=False):
        super().__init__()
        if upsample not in ("transpose", "nearest"):
            raise ValueError(f"upsample must be 'transpose' or 'nearest'; got {upsample!r}")
        check_bool(random_crop, "random_crop")
        if upsample == "transpose" and kernel_size < stride - 1:
            # a transposed convolution that multiplies the length by stride exactly needs
            # padding (kernel_size - stride + 1) // 2 >= 0
            raise ValueError(f"upsample='transpose' needs kernel_size >= stride - 1; got "
                             f"kernel_size={kernel_size}, stride={stride}")
        self.n_times = n_times
        period = stride ** n_layers
        self.crop = RandomCrop(n_times, period if random_crop else 0)
        self.base_length = max(1, math.ceil((n_times + self.crop.n_latent * (period - 1))
                                            / period))
        widths = _channels(model_size, n_layers)
        self.first_width = widths[0]  # the paper's dense layer makes 16 * model_size maps
        self.condition = LatentWithLabels(n_classes, min(50, latent_dim))
        self.dense = nn.Linear(latent_dim + self.condition.extra,
                               self.first_width * self.base_length)
        layers = [nn.BatchNorm1d(self.first_width)] if batch_norm else []
        layers += [nn.ReLU()]
        width = self.first_width
        outs = widths[1:] + [n_channels]
        for i, out in enumerate(outs):
            if upsample == "transpose":
                pad = (kernel_size - stride + 1) // 2
                extra = kernel_size - stride - 2 * pad  # so that out = in * stride exactly
                layers += [nn.ConvTranspose1d(width, out, kernel_size, stride, padding=pad,
                                              output_padding=-extra if extra < 0 else 0)]
                if extra > 0:
                    layers += [_Crop(extra)]
            else:
                layers += [nn.Upsample(scale_factor=stride, mode="nearest"),
                           nn.Conv1d(width, out, kernel_size, padding="same")]
            if i < len(outs) - 1:
                if batch_norm:
                    layers += [nn.BatchNorm1d(out)]
                layers += [nn.ReLU()]
            width = out
        self.net = nn.Sequential(*layers)
        self.post_filter = PostFilter(n_channels, post_filter)
        self.noise_floor = NoiseFloor(n_channels, n_times, n_classes, noise_floor)

    @property
    def n_latent(self):
        """Latent entries beyond ``latent_dim``: the crop offset's, then the noise floor's."""
        return self.crop.n_latent + self.noise_floor.n_latent

    def forward(self, z, labels=None):
        z, noise = self.noise_floor.split(z)
        z, offset = split_latent_tail(z, self.crop.n_latent)
        h = self.dense(self.condition(z, labels)).view(len(z), self.first_width,
                                                       self.base_length)
        return self.noise_floor(self.post_filter(self.crop(self.net(h), offset)), noise,
                                labels)


class _Crop(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.n = n

    def forward(self, x):
        return x[..., : x.shape[-1] - self.n]


class WaveGANDiscriminator(nn.Module):
    """Strided 1-D convolutions with LeakyReLU and phase shuffle, then a dense score; with
    ``spectral=True`` a :class:`~sigest.models.gan.SpectrumBranch` also reads each epoch's
    spectrum."""

    def __init__(self, n_channels, n_times, n_classes=0, model_size=16, n_layers=3,
                 kernel_size=25, stride=4, phase_shuffle=2, dropout=0.0, spectral=False):
        super().__init__()
        layers, width, length = [], n_channels, n_times
        for i, out in enumerate(reversed(_channels(model_size, n_layers))):
            layers += [nn.Conv1d(width, out, kernel_size, stride, padding=kernel_size // 2),
                       nn.LeakyReLU(0.2)]
            if dropout:
                layers += [nn.Dropout(dropout)]
            if i < n_layers - 1:
                layers += [PhaseShuffle(phase_shuffle)]
            length = (length + 2 * (kernel_size // 2) - kernel_size) // stride + 1
            width = out
        self.features = nn.Sequential(*layers)
        self.spectrum = SpectrumBranch(n_channels, n_times, dropout=dropout, enabled=spectral)
        self.n_features = width * length + self.spectrum.width
        self.head = nn.Linear(self.n_features, 1)
        self.projection = LabelProjection(n_classes, self.n_features)

    def forward(self, x, labels=None):
        h = self.spectrum(x, self.features(x).flatten(1))
        return self.head(h) + self.projection(h, labels)


class WaveGAN(nn.Module):
    """WaveGAN's generator and discriminator for ``(batch, n_channels, n_times)`` epochs.

    Parameters
    ----------
    n_channels, n_times : int
        Shape of one epoch; any length works (the generator's output is cropped).
    n_classes : int, default=0
        Classes of a conditional model; 0 for an unconditional one.
    latent_dim : int, default=100
        Size of the latent vector (WaveGAN's value).
    model_size : int, default=16
        Width of the narrowest convolution (WaveGAN's ``d``; the paper uses 64 for 16384-sample
        audio); the widest has ``model_size * 2 ** (n_layers - 1)`` channels.
    n_layers : int, default=3
        Upsampling (generator) and strided (discriminator) convolutions; WaveGAN uses 5 for
        16384 samples, 3 suit 178-sample EEG chunks.
    kernel_size : int, default=25
    stride : int, default=4
        Upsampling factor per layer.
    upsample : {"transpose", "nearest"}, default="transpose"
        Transposed convolutions (WaveGAN) or nearest-neighbour upsampling then a convolution
        (fewer checkerboard artefacts).
    phase_shuffle : int, default=2
        Largest random shift of the discriminator's phase shuffle; 0 disables it.
    batch_norm : bool, default=True
        Batch normalisation in the generator (the seed's choice; WaveGAN has none).
    dropout : float, default=0.0
        Dropout in the discriminator.
    post_filter : int, default=0
        Length (odd) of WaveGAN's learned post-processing filter on the generator's output,
        started as the identity; 0 for none (WaveGAN's paper tries 512 taps for audio).
    spectral_critic : bool, default=False
        Give the discriminator a dense branch that reads each epoch's log power spectrum
        (:class:`~sigest.models.gan.SpectrumBranch`).
    noise_floor : int, default=0
        Length (odd) of the learned filter of a coloured noise floor added to the generator's
        output (:class:`~sigest.models.gan.NoiseFloor`); 0 for none. Its white noise extends
        the latent vector, so ``latent_dim`` is then ``latent_dim + n_channels * n_times``.
    random_crop : bool, default=False
        Build the output one period of the coarsest grid (``stride ** n_layers`` samples)
        longer and cut each epoch at a random offset (:class:`RandomCrop`), so that its
        statistics do not depend on the sample's position; the offset takes one more latent
        entry. False crops the first ``n_times`` samples, as WaveGAN does.
    """

    def __init__(self, n_channels, n_times, n_classes=0, latent_dim=100, model_size=16,
                 n_layers=3, kernel_size=25, stride=4, upsample="transpose", phase_shuffle=2,
                 batch_norm=True, dropout=0.0, post_filter=0, spectral_critic=False,
                 noise_floor=0, random_crop=False):
        super().__init__()
        self.generator = WaveGANGenerator(n_channels, n_times, n_classes, latent_dim, model_size,
                                          n_layers, kernel_size, stride, upsample, batch_norm,
                                          post_filter, noise_floor, random_crop)
        self.latent_dim = latent_dim + self.generator.n_latent
        self.discriminator = WaveGANDiscriminator(n_channels, n_times, n_classes, model_size,
                                                  n_layers, kernel_size, stride, phase_shuffle,
                                                  dropout, spectral_critic)

    def forward(self, z, labels=None):
        return self.generator(z, labels)
