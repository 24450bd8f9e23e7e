"""Noise sources and NoiseInjector: noisy copies of clean epochs at a chosen SNR.

Mixing follows EEGdenoiseNet: ``noisy = x + lam * n`` with ``lam`` chosen so that
``10 * log10(RMS(x) / RMS(lam * n))`` equals the target SNR in dB.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone

from .plugins import hookimpl
from .validation import check_signals, restore_rank


def white_noise(n_epochs, n_channels, n_times, sfreq, rng):
    """Gaussian white noise of shape (n_epochs, n_channels, n_times)."""
    return rng.standard_normal((n_epochs, n_channels, n_times))


def rms(x, axis=-1):
    """Root mean square along ``axis`` (kept as a length-1 axis)."""
    return np.sqrt(np.mean(np.square(x), axis=axis, keepdims=True))


def mix_at_snr(clean, noise, snr_db):
    """``clean + lam * noise`` with ``lam`` per epoch and channel to reach ``snr_db``.

    ``snr_db`` broadcasts against ``(n_epochs, 1, 1)``.
    """
    snr = np.asarray(snr_db, dtype=float).reshape(-1, 1, 1)
    lam = rms(clean) / (np.maximum(rms(noise), 1e-12) * 10 ** (snr / 10))
    return clean + lam * noise


class NoiseInjector(TransformerMixin, BaseEstimator):
    """Add noise to clean epochs at a target SNR.

    Parameters
    ----------
    source : str, default="white"
        A registered noise source (``sigest.plugins.list_noises()``).
    snr_db : float, list of float or (low, high) tuple, default=(-7.0, 2.0)
        A fixed SNR, levels drawn at random per epoch, or a range sampled uniformly per epoch.
    sfreq : float, optional
        Sampling rate of the signals.
    random_state : int, RandomState or None, default=None
        Seeds :meth:`transform`; estimators pass their own generator to :meth:`inject`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.sin(np.linspace(0, 20, 512))[None].repeat(3, 0)
    >>> NoiseInjector(snr_db=0.0, random_state=0).fit_transform(X).shape
    (3, 512)
    """

    def __init__(self, source="white", snr_db=(-7.0, 2.0), sfreq=None, random_state=None):
        self.source = source
        self.snr_db = snr_db
        self.sfreq = sfreq
        self.random_state = random_state

    def fit(self, X=None, y=None):
        """Resolve the noise source; ``X`` is only checked."""
        from .plugins import get_noise_source

        if X is not None:
            check_signals(X)
        self.source_ = get_noise_source(self.source)
        return self

    def _draw_snr(self, n, rng):
        snr = self.snr_db
        if isinstance(snr, tuple):
            low, high = snr
            return rng.uniform(low, high, size=n)
        if isinstance(snr, list):
            return rng.choice(np.asarray(snr, dtype=float), size=n)
        return np.full(n, float(snr))

    def inject(self, X3, rng):
        """Noisy copy of ``X3`` (n_epochs, n_channels, n_times) using generator ``rng``."""
        n, c, t = X3.shape
        noise = self.source_(n, c, t, self.sfreq, rng)
        return mix_at_snr(np.asarray(X3, dtype=float), noise, self._draw_snr(n, rng)).astype(
            X3.dtype, copy=False)

    def transform(self, X):
        """Noisy copy of ``X``, seeded by ``random_state``."""
        X3, rank = check_signals(X, sfreq=self.sfreq)
        rng = np.random.default_rng(
            self.random_state if isinstance(self.random_state, (int, np.integer)) else None)
        return restore_rank(self.inject(X3, rng), rank)


def make_noise(spec, sfreq=None):
    """A new, unfitted NoiseInjector from a source name or a NoiseInjector (copied)."""
    if isinstance(spec, str):
        return NoiseInjector(source=spec, sfreq=sfreq)
    if isinstance(spec, NoiseInjector):
        noise = clone(spec)
        if noise.sfreq is None and sfreq is not None:
            noise.set_params(sfreq=sfreq)
        return noise
    raise TypeError(f"noise must be a registered noise name or a NoiseInjector; got {spec!r}")


@hookimpl
def sigest_register_noises(register):
    register("white", white_noise, description="Gaussian white noise")
