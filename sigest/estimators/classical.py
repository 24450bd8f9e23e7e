"""Classical single-channel denoisers: band-pass (+ notch) filtering and wavelet thresholding.

They are plain scikit-learn transformers (nothing is learned) with the interface of
:class:`sigest.base.SignalDenoiser` (``fit`` / ``transform`` / ``predict`` / ``score`` /
``noisy_pairs``), so benchmarks compare them with the learned denoisers on identical data.
"""

from __future__ import annotations

import numbers

import numpy as np
import pywt
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from ..base import SignalDenoiser
from ..preprocessing import bandpass_array, check_band, check_line_freqs, notch_array
from ..validation import check_sfreq, check_signals, is_mne_data


class _ClassicalDenoiser(TransformerMixin, BaseEstimator):
    """``fit`` checks and remembers the shape; ``transform`` denoises each epoch and channel."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.target_tags.required = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _sfreq(self):
        return None

    def _check_X(self, X, *, reset):
        if not reset:
            check_is_fitted(self, "n_features_in_")
        return check_signals(X, estimator=self, reset=reset, sfreq=self._sfreq())

    def _check_params(self):
        pass

    def fit(self, X, y=None):
        """Check ``X`` and remember its shape; nothing is learned and ``y`` is ignored.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_times) or (n_epochs, n_channels, n_times)
            Signal epochs, or an ``mne.Epochs``.
        y : None, clean targets or labels
            Ignored.

        Returns
        -------
        self
        """
        self._check_params()
        X3, _ = self._check_X(X, reset=True)
        if y is not None and not is_mne_data(y):
            check_consistent_length(X3, y)  # ignored, but a y of another length is a mistake
        return self

    # the output and scoring of the learned denoisers, on the ``_denoise`` of each subclass
    transform = SignalDenoiser.transform
    predict = SignalDenoiser.predict
    noisy_pairs = SignalDenoiser.noisy_pairs
    score = SignalDenoiser.score

    def _scoring_noise(self, X3):
        if self.noise is None:
            raise ValueError(f"{type(self).__name__} with noise=None can only be scored against "
                             "clean targets y of X's shape")
        from ..noise import held_out_noise, make_noise

        return held_out_noise(make_noise(self.noise, sfreq=self._sfreq())).fit(X3)


class BandpassDenoiser(_ClassicalDenoiser):
    """Band-pass (and optional notch) filtering as a denoiser, through :mod:`mne.filter`.

    Parameters
    ----------
    l_freq : float or None, default=1.0
        Lower pass-band edge in Hz (None: low-pass only).
    h_freq : float or None, default=40.0
        Upper pass-band edge in Hz (None: high-pass only).
    notch_freqs : float, tuple of float or None, default=None
        Line-noise frequencies to notch out first, e.g. ``(50.0, 100.0)``.
    sfreq : float, default=256.0
        Sampling rate in Hz; an ``mne`` input must match it.
    method : {"iir", "fir"}, default="iir"
        "iir": 4th-order Butterworth applied forward and backward (zero phase), mne's IIR
        path, which also works on epochs shorter than an FIR filter; "fir": mne's default
        FIR design.
    notch_widths : float, tuple of float or None, default=None
        Notch stop-band widths in Hz; None gives 1 Hz for "iir" and mne's ``freq / 200`` for
        "fir".
    noise : str, NoiseInjector or None, default="white"
        Only for :meth:`score` / :meth:`noisy_pairs` without clean targets: the noise mixed
        into clean ``X``. Nothing is learned.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(512) / 256.0
    >>> clean = np.sin(2 * np.pi * 10 * t)[None].repeat(4, 0)
    >>> noisy = clean + 0.5 * np.sin(2 * np.pi * 50 * t) + 0.5 * t
    >>> den = BandpassDenoiser(l_freq=1.0, h_freq=40.0, notch_freqs=50.0).fit(noisy)
    >>> from sigest.metrics import rrmse_temporal
    >>> print(f"{rrmse_temporal(clean, noisy):.2f} -> {-den.score(noisy, clean):.2f}")
    0.95 -> 0.22
    """

    def __init__(self, l_freq=1.0, h_freq=40.0, notch_freqs=None, sfreq=256.0, method="iir",
                 notch_widths=None, noise="white"):
        self.l_freq = l_freq
        self.h_freq = h_freq
        self.notch_freqs = notch_freqs
        self.sfreq = sfreq
        self.method = method
        self.notch_widths = notch_widths
        self.noise = noise

    def _sfreq(self):
        return check_sfreq(self.sfreq)

    def _check_params(self):
        if self.method not in ("iir", "fir"):
            raise ValueError(f"method must be 'iir' or 'fir'; got {self.method!r}")
        if self.l_freq is None and self.h_freq is None and self.notch_freqs is None:
            raise ValueError("set l_freq, h_freq or notch_freqs; all are None")
        check_band(self.l_freq, self.h_freq, self._sfreq())
        if self.notch_freqs is not None:
            check_line_freqs(self.notch_freqs, self._sfreq(), name="notch_freqs")

    def _denoise(self, X3):
        sfreq = self._sfreq()
        out = X3
        if self.notch_freqs is not None:
            widths = self.notch_widths
            if widths is None and self.method == "iir":
                widths = 1.0
            out = notch_array(out, sfreq, self.notch_freqs, method=self.method,
                              notch_widths=widths)
        if self.l_freq is not None or self.h_freq is not None:
            out = bandpass_array(out, sfreq, self.l_freq, self.h_freq, method=self.method)
        return out


class WaveletDenoiser(_ClassicalDenoiser):
    """Wavelet-threshold denoising (VisuShrink) with PyWavelets.

    Each epoch and channel is decomposed with :func:`pywt.wavedec`; the noise level is the
    median absolute deviation of the finest detail coefficients, ``sigma = median(|d1|) /
    0.6745``; every detail coefficient is thresholded at ``sigma * sqrt(2 ln n_times)`` (the
    universal threshold of Donoho & Johnstone), and the signal rebuilt with
    :func:`pywt.waverec`. The approximation coefficients are kept.

    Parameters
    ----------
    wavelet : str, default="db4"
        Any discrete wavelet name PyWavelets knows (``pywt.wavelist(kind="discrete")``).
    level : int or None, default=None
        Decomposition depth; None uses the deepest useful level
        (:func:`pywt.dwt_max_level`). Epochs too short for one level are returned unchanged.
    mode : {"soft", "hard"}, default="soft"
        Thresholding rule.
    threshold : "universal" or float, default="universal"
        "universal" is ``sqrt(2 ln n_times)``; a float ``k`` thresholds at ``k * sigma``.
    noise : str, NoiseInjector or None, default="white"
        Only for :meth:`score` / :meth:`noisy_pairs` without clean targets.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> clean = np.sin(2 * np.pi * 4 * np.arange(512) / 256.0)[None].repeat(8, 0)
    >>> noisy = clean + 0.3 * rng.standard_normal(clean.shape)
    >>> den = WaveletDenoiser().fit(noisy)
    >>> bool(-den.score(noisy, clean) < np.sqrt(np.mean((noisy - clean) ** 2) / 0.5))
    True
    """

    def __init__(self, wavelet="db4", level=None, mode="soft", threshold="universal",
                 noise="white"):
        self.wavelet = wavelet
        self.level = level
        self.mode = mode
        self.threshold = threshold
        self.noise = noise

    def _check_params(self):
        if self.wavelet not in pywt.wavelist(kind="discrete"):
            raise ValueError(f"wavelet must be a discrete PyWavelets wavelet (e.g. 'db4', "
                             f"'sym8'); got {self.wavelet!r}")
        if self.mode not in ("soft", "hard"):
            raise ValueError(f"mode must be 'soft' or 'hard'; got {self.mode!r}")
        if self.level is not None and (isinstance(self.level, bool) or not isinstance(
                self.level, numbers.Integral) or self.level < 1):
            raise ValueError(f"level must be a positive integer or None; got {self.level!r}")
        if self.threshold != "universal" and (isinstance(self.threshold, bool) or not isinstance(
                self.threshold, numbers.Real) or not self.threshold >= 0):
            raise ValueError(f"threshold must be 'universal' or a number >= 0; got "
                             f"{self.threshold!r}")

    def _denoise(self, X3):
        self._check_params()
        n_times = X3.shape[-1]
        wavelet = pywt.Wavelet(self.wavelet)
        level = self.level
        if level is None:
            level = pywt.dwt_max_level(n_times, wavelet.dec_len)
        if level < 1 or n_times < 2:
            return X3.copy()
        coeffs = pywt.wavedec(X3, wavelet, mode="symmetric", level=level, axis=-1)
        sigma = np.median(np.abs(coeffs[-1]), axis=-1, keepdims=True) / 0.6745
        factor = np.sqrt(2 * np.log(n_times)) if self.threshold == "universal" \
            else float(self.threshold)
        threshold = sigma * factor
        coeffs[1:] = [pywt.threshold(c, threshold, mode=self.mode) for c in coeffs[1:]]
        return pywt.waverec(coeffs, wavelet, mode="symmetric", axis=-1)[..., :n_times]


CHECK_PARAMS = {}


def register_estimators(register):
    register("bandpass", BandpassDenoiser, task="denoising",
             description="Band-pass (+ notch) filter baseline through mne.filter (no training)",
             check_params=CHECK_PARAMS)
    register("wavelet", WaveletDenoiser, task="denoising",
             description="Wavelet-threshold baseline (VisuShrink, PyWavelets; no training)",
             check_params=CHECK_PARAMS)
