"""A learned pass-through gate for denoisers: ``gate(x) * x + network(x)``.

A network trained to output the clean signal (the papers' direct mapping) must rebuild all of
it, which costs detail at high SNR; one trained to output the artifact (residual learning, as
DnCNN) must rebuild all of the noise, which costs at low SNR. The gate lets the input's own
spectrum decide, per epoch and channel, how much of the input passes through.
"""

import numpy as np
import torch
from torch import nn


class SpectralGate(nn.Module):
    """A weight in (0, 1) per epoch and channel, from the input's relative band powers.

    The features are the log power of ``n_bands`` log-spaced frequency bands, relative to the
    epoch's mean power, so they describe the spectrum's shape and not the signal's units.

    Parameters
    ----------
    n_times : int
        Samples per epoch.
    n_bands : int, default=16
        Number of log-spaced bands between the first FFT bin and the Nyquist frequency; fewer
        on short epochs, where bands narrower than one bin merge.
    gain : float, default=100.0
        Multiplies the gate's logit. Adaptive optimizers (RMSprop, Adam) move each weight by
        about ``lr`` per step whatever its gradient, and the denoisers' ``lr`` (5e-5) would
        leave a plain linear gate near its initial 0.5 for thousands of steps.
    """

    def __init__(self, n_times, n_bands=16, gain=100.0):
        super().__init__()
        n_bins = n_times // 2  # rfft bins after the DC bin
        if n_bins < 1:
            raise ValueError(f"SpectralGate needs n_times >= 2; got {n_times}")
        edges = np.unique(np.geomspace(1, n_bins + 1, n_bands + 1).astype(int)) - 1
        bands = torch.zeros(len(edges) - 1, n_bins)
        for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
            bands[i, lo:hi] = 1.0 / (hi - lo)
        self.register_buffer("bands", bands)  # (n_bands, n_bins) averaging weights
        self.gain = gain
        self.head = nn.Linear(len(bands), 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x):
        power = torch.fft.rfft(x, dim=-1).abs().pow(2)[..., 1:1 + self.bands.shape[1]]
        relative = power @ self.bands.T / (power.mean(-1, keepdim=True) + 1e-12)
        return torch.sigmoid(self.gain * self.head(torch.log(relative + 1e-6)))


class GatedResidual(nn.Module):
    """``SpectralGate(x) * x + network(x)``: the network adds what the gated input lacks.

    Parameters
    ----------
    network : nn.Module
        Maps ``(batch, channels, times)`` to the same shape.
    n_times : int
        Samples per epoch.
    n_bands, gain
        See :class:`SpectralGate`.
    """

    def __init__(self, network, n_times, n_bands=16, gain=100.0):
        super().__init__()
        self.network = network
        self.gate = SpectralGate(n_times, n_bands=n_bands, gain=gain)

    def forward(self, x):
        return self.gate(x) * x + self.network(x)
