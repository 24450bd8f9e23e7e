"""The seed's dense GAN: a fully-connected generator and discriminator, optionally conditional.

The seed project (Keras, Bonn / UCI epileptic seizure data, 178-sample chunks) maps a 100-d latent
vector through dense layers with LeakyReLU to one epoch, and judges epochs with a dense
discriminator. Here the output is linear (the estimator trains on standardised data), the
generator's hidden layers are batch-normalised, and the discriminator has no batch
normalisation, so the same network also serves as a WGAN-GP critic.
"""

import numpy as np
import torch
from torch import nn

from ..validation import check_bool, is_positive_real


class LabelProjection(nn.Module):
    """Projection-discriminator conditioning (Miyato & Koyama 2018): ``<embed(y), h>``.

    Adds a class-dependent term to the score of a discriminator whose last hidden features are
    ``h``; zero when unconditional.
    """

    def __init__(self, n_classes, n_features):
        super().__init__()
        self.embed = nn.Embedding(n_classes, n_features) if n_classes else None
        if self.embed is not None:
            nn.init.normal_(self.embed.weight, std=0.02)

    def forward(self, h, labels):
        if self.embed is None or labels is None:
            return h.new_zeros(len(h), 1)
        return (self.embed(labels) * h).sum(dim=1, keepdim=True)


class LatentWithLabels(nn.Module):
    """Concatenate a learned label embedding to the latent vector when conditional."""

    def __init__(self, n_classes, embed_dim):
        super().__init__()
        self.embed = nn.Embedding(n_classes, embed_dim) if n_classes else None
        self.extra = embed_dim if n_classes else 0

    def forward(self, z, labels):
        if self.embed is None:
            return z
        if labels is None:
            raise ValueError("this generator is conditional: give it labels")
        return torch.cat([z, self.embed(labels)], dim=1)


def _check_filter_length(length, name, zero_means):
    if isinstance(length, bool) or not isinstance(length, int) or length < 0 or (
            length and length % 2 == 0):
        raise ValueError(f"{name} must be 0 ({zero_means}) or an odd filter length; got "
                         f"{length!r}")


def split_latent_tail(z, n_tail):
    """``z`` as (its first entries, its last ``n_tail``): a layer's noise rides at the end of
    the latent vector so that ``sample(random_state=)`` draws it too."""
    return z[:, : z.shape[1] - n_tail], z[:, z.shape[1] - n_tail:]


class PostFilter(nn.Module):
    """A learned FIR filter per channel on the generator's output (WaveGAN's post-processing
    filter), started as the identity; ``length=0`` is no filter.

    A long linear filter can remove a band the data do not have (e.g. above a recording's
    low-pass) in one step, where the upsampling layers would have to learn to cancel it.
    """

    def __init__(self, n_channels, length=0):
        super().__init__()
        _check_filter_length(length, "post_filter", "no filter")
        self.conv = None
        if length:
            self.conv = nn.Conv1d(n_channels, n_channels, length, padding=length // 2,
                                  groups=n_channels, bias=False)
            with torch.no_grad():
                self.conv.weight.zero_()
                self.conv.weight[:, 0, length // 2] = 1.0

    def forward(self, x):
        return x if self.conv is None else self.conv(x)


class NoiseFloor(nn.Module):
    """Coloured noise added to the generator's output, independent of the signal it makes:
    white noise through a learned FIR filter per channel (per class when conditional), started
    at zero; ``length=0`` is none.

    A recording's amplifier and electrode noise has a level and spectrum that do not follow the
    EEG's loudness (e.g. the nearly constant floor above Bonn's 40-Hz low-pass), which a
    generator that makes every frequency from one latent vector does not reproduce. The white
    noise is the last ``n_channels * n_times`` entries of the latent vector (``n_latent``), so
    sampling stays deterministic under a seed.
    """

    def __init__(self, n_channels, n_times, n_classes=0, length=0):
        super().__init__()
        _check_filter_length(length, "noise_floor", "none")
        self.shape, self.length = (n_channels, n_times), length
        self.n_latent = n_channels * n_times if length else 0
        self.taps = None
        if length:
            self.taps = nn.Embedding(max(n_classes, 1), n_channels * length)
            nn.init.zeros_(self.taps.weight)

    def split(self, z):
        """The generator's own latent entries and the noise floor's white noise."""
        return split_latent_tail(z, self.n_latent)

    def forward(self, x, noise, labels=None):
        if self.taps is None:
            return x
        n, (n_channels, n_times) = len(x), self.shape
        rows = labels if labels is not None and self.taps.num_embeddings > 1 else \
            x.new_zeros(n, dtype=torch.long)
        taps = self.taps(rows).view(n * n_channels, 1, self.length)
        floor = nn.functional.conv1d(noise.reshape(1, n * n_channels, n_times), taps,
                                     padding=self.length // 2, groups=n * n_channels)
        return x + floor.view(n, n_channels, n_times)


class SpectralSynthesis(nn.Module):
    """The generator's last layer when ``synthesis="spectral"``: features -> an amplitude
    spectrum and a mean per epoch and channel -> a Gaussian-process draw with that spectrum.

    The complex coefficients are the amplitudes times complex Gaussian noise (the last
    ``n_latent`` entries of the latent vector, so sampling stays deterministic under a seed).
    The epoch is synthesised ``extend`` times longer than asked and its middle kept, so it does
    not wrap around its ends as a single period would. Every epoch's spectrum then varies
    around the one the network chose, as a recording's periodogram does, and power the network
    did not ask for (a dense layer's broadband residue) cannot appear.
    """

    def __init__(self, width, n_channels, n_times, extend=4):
        super().__init__()
        self.shape, self.length = (n_channels, n_times), extend * n_times
        n_knots, self.n_bins = n_times // 2 + 1, self.length // 2 + 1
        self.n_latent = 2 * n_channels * self.n_bins
        self.log_amplitude = nn.Linear(width, n_channels * n_knots)
        self.mean = nn.Linear(width, n_channels)
        # the long synthesis has extend x the bins: interpolate the n_knots amplitudes linearly
        # (row k: where knot k's amplitude goes)
        pos = np.linspace(0, n_knots - 1, self.n_bins)
        interp = np.stack([np.interp(pos, np.arange(n_knots), row) for row in np.eye(n_knots)])
        self.register_buffer("interp", torch.tensor(interp, dtype=torch.float32),
                             persistent=False)

    def forward(self, h, noise):
        n, (n_channels, n_times) = len(h), self.shape
        amplitude = torch.exp(self.log_amplitude(h).view(n, n_channels, -1) @ self.interp)
        noise = noise.reshape(n, n_channels, self.n_bins, 2)
        coef = amplitude * torch.complex(noise[..., 0], noise[..., 1])
        # irfft's 1 / length: scale so unit amplitudes give about unit variance
        x = torch.fft.irfft(coef, n=self.length) * np.sqrt(self.length / 2)
        start = (self.length - n_times) // 2
        return x[..., start:start + n_times] + self.mean(h).unsqueeze(-1)


class LineNoise(nn.Module):
    """Mains interference added to the generator's output: a sinusoid at each of ``cycles``
    (frequencies in cycles per sample), its amplitude per channel chosen by the generator from
    its features, its phase random per epoch and shared by the channels (one supply feeds
    them all); ``cycles=()`` is none.

    A recording's line interference is a steady sinusoid. A generator that draws every
    frequency at random (:class:`SpectralSynthesis`) would give it a random amplitude instead,
    and one that maps the latent vector to the samples has to learn a phase-free sinusoid
    through a dense layer. The phase comes from two latent entries per frequency (``n_latent``),
    so sampling stays deterministic under a seed.
    """

    def __init__(self, width, n_channels, n_times, cycles=()):
        super().__init__()
        cycles = tuple(cycles)
        if not all(is_positive_real(c) for c in cycles):
            raise ValueError(f"line_cycles must be positive frequencies in cycles per sample; "
                             f"got {cycles!r}")
        self.n_channels, self.n_freqs = n_channels, len(cycles)
        self.n_latent = 2 * len(cycles)
        self.log_amplitude = None
        if cycles:
            self.log_amplitude = nn.Linear(width, n_channels * len(cycles))
            with torch.no_grad():  # start faint: 5% of the data's standard deviation
                self.log_amplitude.weight.zero_()
                self.log_amplitude.bias.fill_(-3.0)
            angle = 2 * np.pi * np.outer(cycles, np.arange(n_times))
            self.register_buffer("angle", torch.tensor(angle, dtype=torch.float32),
                                 persistent=False)

    def forward(self, x, h, noise):
        if self.log_amplitude is None:
            return x
        n = len(h)
        phase = torch.atan2(noise[:, 1::2], noise[:, 0::2]).unsqueeze(-1)
        waves = torch.sin(self.angle + phase)  # (n, n_freqs, n_times)
        amplitude = torch.exp(self.log_amplitude(h)).view(n, self.n_channels, self.n_freqs)
        return x + amplitude @ waves


class DenseGenerator(nn.Module):
    """Latent vector (+ label) -> dense layers -> ``(batch, n_channels, n_times)``, the last
    layer a linear map to the samples (``synthesis="waveform"``) or a
    :class:`SpectralSynthesis` (``"spectral"``), plus an optional :class:`LineNoise`."""

    def __init__(self, n_channels, n_times, n_classes=0, latent_dim=100,
                 hidden=(256, 512, 1024), batch_norm=True, post_filter=0, noise_floor=0,
                 synthesis="waveform", line_cycles=()):
        super().__init__()
        if synthesis not in ("waveform", "spectral"):
            raise ValueError(f"synthesis must be 'waveform' or 'spectral'; got {synthesis!r}")
        self.out_shape = (n_channels, n_times)
        self.post_filter = PostFilter(n_channels, post_filter)
        self.noise_floor = NoiseFloor(n_channels, n_times, n_classes, noise_floor)
        self.condition = LatentWithLabels(n_classes, min(50, latent_dim))
        layers, width = [], latent_dim + self.condition.extra
        for size in hidden:
            layers += [nn.Linear(width, size)]
            if batch_norm:
                layers += [nn.BatchNorm1d(size)]
            layers += [nn.LeakyReLU(0.2)]
            width = size
        self.spectral = SpectralSynthesis(width, n_channels, n_times) \
            if synthesis == "spectral" else None
        self.line = LineNoise(width, n_channels, n_times, line_cycles)
        if self.spectral is None:
            layers += [nn.Linear(width, n_channels * n_times)]
        self.net = nn.Sequential(*layers)
        # latent entries used as noise, after the network's own: the line's phases, the
        # synthesis's, the floor's
        self.n_latent = self.noise_floor.n_latent + self.line.n_latent + (
            self.spectral.n_latent if self.spectral else 0)

    def forward(self, z, labels=None):
        z, floor_noise = self.noise_floor.split(z)
        z, noise = split_latent_tail(z, self.spectral.n_latent if self.spectral else 0)
        own, phases = split_latent_tail(z, self.line.n_latent)
        features = self.condition(own, labels)
        if self.spectral is None:
            h = self.net[:-1](features)
            out = self.net[-1](h).view(len(z), *self.out_shape)
        else:
            h = self.net(features)
            out = self.spectral(h, noise)
        out = self.line(out, h, phases)
        return self.noise_floor(self.post_filter(out), floor_noise, labels)


def hann_power(x, window):
    """Power spectrum of each epoch of ``(..., n_times)`` through ``window`` (a Hann window),
    plus a small floor so its log is finite."""
    return torch.fft.rfft(x * window).abs() ** 2 + 1e-6


class LogSpectrum(nn.Module):
    """``(batch, n_channels, n_times)`` -> flattened log power spectrum of each epoch
    (Hann window), so a critic judges each epoch's spectrum, not only its waveform."""

    def __init__(self, n_times):
        super().__init__()
        self.register_buffer("window", torch.hann_window(n_times), persistent=False)

    def forward(self, x):
        return torch.log(hann_power(x, self.window)).flatten(1)


def _dense_stack(width, hidden, dropout):
    layers = []
    for size in hidden:
        layers += [nn.Linear(width, size), nn.LeakyReLU(0.2)]
        if dropout:
            layers += [nn.Dropout(dropout)]
        width = size
    return nn.Sequential(*layers), width


class SpectrumBranch(nn.Module):
    """A critic's second branch: each epoch's log power spectrum (:class:`LogSpectrum`) through
    dense layers, its features appended to the critic's own; off (``width == 0``, an identity)
    unless ``enabled``."""

    def __init__(self, n_channels, n_times, hidden=(512, 256), dropout=0.0, enabled=False):
        super().__init__()
        check_bool(enabled, "spectral_critic")
        self.net, self.width = None, 0
        if enabled:
            stack, self.width = _dense_stack(n_channels * (n_times // 2 + 1), hidden, dropout)
            self.net = nn.Sequential(LogSpectrum(n_times), stack)

    def forward(self, x, h):
        return h if self.net is None else torch.cat([h, self.net(x)], dim=1)


class DenseDiscriminator(nn.Module):
    """``(batch, n_channels, n_times)`` (+ label) -> dense layers -> one score per epoch; with
    ``spectral=True`` a :class:`SpectrumBranch` of the same widths reads each epoch's spectrum."""

    def __init__(self, n_channels, n_times, n_classes=0, hidden=(512, 256), dropout=0.3,
                 spectral=False):
        super().__init__()
        self.features, width = _dense_stack(n_channels * n_times, hidden, dropout)
        self.spectrum = SpectrumBranch(n_channels, n_times, hidden, dropout, spectral)
        self.head = nn.Linear(width + self.spectrum.width, 1)
        self.projection = LabelProjection(n_classes, width + self.spectrum.width)

    def forward(self, x, labels=None):
        h = self.spectrum(x, self.features(x.flatten(1)))
        return self.head(h) + self.projection(h, labels)


class DenseGAN(nn.Module):
    """The seed's dense GAN: :class:`DenseGenerator` and :class:`DenseDiscriminator`.

    Parameters
    ----------
    n_channels, n_times : int
        Shape of one epoch.
    n_classes : int, default=0
        Number of classes of a conditional model (label embedding in the generator, projection
        in the discriminator); 0 for an unconditional one.
    latent_dim : int, default=100
        Size of the latent vector (the seed's value).
    hidden_g : tuple of int, default=(256, 512, 1024)
        Widths of the generator's hidden layers.
    hidden_d : tuple of int, default=(512, 256)
        Widths of the discriminator's hidden layers.
    dropout : float, default=0.3
        Dropout in the discriminator.
    batch_norm : bool, default=True
        Batch normalisation in the generator.
    post_filter : int, default=0
        Length (odd) of a learned FIR filter per channel on the generator's output, started
        as the identity (:class:`PostFilter`); 0 for none.
    spectral_critic : bool, default=False
        Give the discriminator a second branch that reads each epoch's log power spectrum
        (:class:`SpectrumBranch`), so it can reject epochs whose spectrum is off even when their
        waveform statistics match.
    noise_floor : int, default=0
        Length (odd) of the learned filter of a coloured noise floor added to the generator's
        output (:class:`NoiseFloor`), started at zero; 0 for none. Its white noise extends the
        latent vector, so ``latent_dim`` is then ``latent_dim + n_channels * n_times``.
    synthesis : {"waveform", "spectral"}, default="waveform"
        How the generator's last layer makes an epoch: the seed's linear map to the samples, or
        an amplitude spectrum per epoch turned into a Gaussian-process draw
        (:class:`SpectralSynthesis`). Its complex noise also extends the latent vector.
    line_cycles : tuple of float, default=()
        Frequencies, in cycles per sample, of mains interference added to the output
        (:class:`LineNoise`), e.g. ``(50 / sfreq,)``; () for none. ``GANGenerator(line_freq=)``
        sets it in Hz. Two latent entries per frequency draw the phase.
    """

    def __init__(self, n_channels, n_times, n_classes=0, latent_dim=100,
                 hidden_g=(256, 512, 1024), hidden_d=(512, 256), dropout=0.3, batch_norm=True,
                 post_filter=0, spectral_critic=False, noise_floor=0, synthesis="waveform",
                 line_cycles=()):
        super().__init__()
        self.generator = DenseGenerator(n_channels, n_times, n_classes, latent_dim,
                                        tuple(hidden_g), batch_norm, post_filter, noise_floor,
                                        synthesis, line_cycles)
        self.latent_dim = latent_dim + self.generator.n_latent
        self.discriminator = DenseDiscriminator(n_channels, n_times, n_classes,
                                                tuple(hidden_d), dropout, spectral_critic)

    def forward(self, z, labels=None):
        return self.generator(z, labels)
