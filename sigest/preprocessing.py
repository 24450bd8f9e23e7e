"""scikit-learn transformers for signal epochs: STFT, filters, resampling, scaling, windowing.

Every transformer takes ``X`` of shape ``(n_epochs, n_times)`` or ``(n_epochs, n_channels,
n_times)`` or an ``mne`` object (validated by :func:`sigest.validation.check_signals`), never
modifies its input, and gives 2-D input back as 2-D (except :class:`STFT`, whose output is
always a 4-D stack of spectrogram images, and :class:`Windower`, which cuts continuous
recordings). Filtering goes through :mod:`mne.filter`; the STFT through
:func:`torch.stft` for float32 input and :func:`scipy.signal.stft` for float64, the faster of
the two for each dtype on one CPU thread for 10,000 x 512 epochs (``benchmarks/
bench_transforms.py``), with identical conventions.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.signal
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._available_if import available_if
from sklearn.utils.validation import check_is_fitted

from .validation import (
    check_sfreq,
    check_signals,
    is_mne_data,
    is_positive_real,
    mne_sfreq,
    restore_rank,
)

__all__ = [
    "STFT",
    "BandpassFilter",
    "EpochScaler",
    "NotchFilter",
    "Resample",
    "Windower",
    "overlap_add",
    "window_starts",
]


class _SignalTransformer(TransformerMixin, BaseEstimator):
    """Shared validation: sampling rate from ``sfreq`` or an mne object, shape checks."""

    _needs_sfreq = True
    _min_times = 1

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _min_times_needed(self):
        return self._min_times

    def _validate(self, X, *, reset):
        if reset:
            sfreq = None if self.sfreq is None else check_sfreq(self.sfreq)
        else:
            check_is_fitted(self, "n_features_in_")
            sfreq = self.sfreq_
        X3, rank = check_signals(X, estimator=self, reset=reset, sfreq=sfreq,
                                 min_times=self._min_times_needed())
        if reset:
            if sfreq is None:
                sfreq = mne_sfreq(X)  # an mne object, or the list scikit-learn's splits make
            if sfreq is None and self._needs_sfreq:
                raise ValueError(
                    f"{type(self).__name__} needs the sampling rate: set sfreq (in Hz) or pass "
                    "an mne object; got sfreq=None and an array."
                )
            self.sfreq_ = sfreq
        return X3, rank

    def _check_params(self):
        pass

    def _fit(self, X3, rank):
        """What a subclass learns from the checked epochs ``X3`` (input rank ``rank``)."""

    def fit(self, X, y=None):
        """Check the parameters and ``X``, and remember its shape and sampling rate.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_times) or (n_epochs, n_channels, n_times)
            Signal epochs, or an ``mne`` object.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self._check_params()
        self._fit(*self._validate(X, reset=True))
        return self


def _as_float64(X3):
    """(float64 array for mne, whether it is already a private copy)."""
    if X3.dtype == np.float64:
        return X3, False
    return X3.astype(np.float64), True


# ------------------------------------------------------------------------------------ STFT
class STFT(_SignalTransformer):
    """Short-time Fourier transform of each epoch and channel.

    Parameters
    ----------
    sfreq : float, optional
        Sampling rate in Hz; needed for ``fmax`` and for ``freqs_`` in Hz. Taken from an
        ``mne`` input when None.
    n_fft : int, default=64
        Segment (window) length in samples.
    hop_length : int, optional
        Samples between segments; ``n_fft // 4`` when None.
    window : str or tuple, default="hann"
        Any window :func:`scipy.signal.get_window` knows.
    output : {"log-magnitude", "magnitude", "complex"}, default="log-magnitude"
        ``"log-magnitude"`` is ``log(|Z| + eps)``; ``"complex"`` stacks real parts (channels
        ``0..C-1``) and imaginary parts (channels ``C..2C-1``) as ``2C`` channels.
    fmax : float, optional
        Keep only frequencies up to ``fmax`` Hz (needs ``sfreq``).
    eps : float, default=1e-12
        Added to the magnitude before the log; lower it for signals in volts.
    backend : {"auto", "scipy", "torch"}, default="auto"
        :func:`scipy.signal.stft` or :func:`torch.stft` (same output up to rounding). "auto"
        takes torch for float32 input and scipy for float64, the faster for each dtype on one
        CPU thread (measured in ``benchmarks/bench_transforms.py``).

    Attributes
    ----------
    freqs_ : ndarray of shape (n_freqs,)
        Frequencies of the output rows (Hz, or cycles per sample when ``sfreq`` is None).
    sfreq_ : float or None
    n_channels_in_, n_times_in_, n_features_in_ : int

    Notes
    -----
    The output is 4-D, ``(n_epochs, n_channels, n_freqs, n_frames)`` (``2 * n_channels`` for
    ``"complex"``), also for 2-D input (one channel). Segments are centred: the signal is
    extended by ``n_fft // 2`` mirrored samples at each end and zero-padded to whole segments.
    Magnitudes use scipy's ``"spectrum"`` scaling (a sine of amplitude ``a`` peaks near
    ``a / 2``). :meth:`inverse_transform` exists for ``output="complex"`` only; with ``fmax``
    the cropped bins are taken as zeros.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((10, 512))
    >>> STFT(sfreq=256.0, n_fft=64, fmax=40.0).fit_transform(X).shape
    (10, 1, 11, 33)
    >>> stft = STFT(n_fft=64, output="complex").fit(X)
    >>> np.allclose(stft.inverse_transform(stft.transform(X)), X)
    True
    """

    _needs_sfreq = False
    _outputs = ("log-magnitude", "magnitude", "complex")

    def __init__(self, sfreq=None, n_fft=64, hop_length=None, window="hann",
                 output="log-magnitude", fmax=None, eps=1e-12, backend="auto"):
        self.sfreq = sfreq
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.window = window
        self.output = output
        self.fmax = fmax
        self.eps = eps
        self.backend = backend

    def _min_times_needed(self):
        return self.n_fft if isinstance(self.n_fft, numbers.Integral) else 1

    def _hop(self):
        return max(1, self.n_fft // 4) if self.hop_length is None else self.hop_length

    def _check_params(self):
        if isinstance(self.n_fft, bool) or not isinstance(self.n_fft, numbers.Integral) \
                or self.n_fft < 2:
            raise ValueError(f"n_fft must be an integer >= 2; got {self.n_fft!r}")
        hop = self._hop()
        if isinstance(hop, bool) or not isinstance(hop, numbers.Integral) \
                or not 1 <= hop <= self.n_fft:
            raise ValueError(f"hop_length must be an integer in [1, n_fft={self.n_fft}]; "
                             f"got {self.hop_length!r}")
        if self.output not in self._outputs:
            raise ValueError(f"output must be one of {self._outputs}; got {self.output!r}")
        if self.backend not in ("auto", "scipy", "torch"):
            raise ValueError(f"backend must be 'auto', 'scipy' or 'torch'; got {self.backend!r}")

    def _fit(self, X3, rank):
        self.input_ndim_ = rank
        freqs = np.fft.rfftfreq(self.n_fft, d=1.0 / (self.sfreq_ or 1.0))
        if self.fmax is not None:
            if self.sfreq_ is None:
                raise ValueError("STFT with fmax needs sfreq (in Hz) or an mne input; got "
                                 "sfreq=None")
            fmax = check_sfreq(self.fmax, name="fmax")
            freqs = freqs[freqs <= fmax]
            if len(freqs) == 0:
                raise ValueError(f"fmax={fmax:g} Hz keeps no STFT frequency")
        self.freqs_ = freqs
        self._n_fft_bins = self.n_fft // 2 + 1

    def _stft(self, X3):
        backend = self.backend
        if backend == "auto":
            backend = "torch" if X3.dtype == np.float32 else "scipy"
        if backend == "torch":
            return self._torch_stft(X3)
        hop = self._hop()
        _, _, Z = scipy.signal.stft(X3, window=self.window, nperseg=self.n_fft,
                                    noverlap=self.n_fft - hop, detrend=False,
                                    return_onesided=True, boundary="even", padded=True, axis=-1)
        return Z[:, :, : len(self.freqs_)]

    def _torch_stft(self, X3):
        """torch.stft with scipy's conventions: even extension of n_fft // 2 samples, zero
        padding to whole segments, ``"spectrum"`` scaling (divided by the window's sum)."""
        import torch

        n, n_channels, n_times = X3.shape
        n_fft, hop, half = self.n_fft, self._hop(), self.n_fft // 2
        with warnings.catch_warnings():  # read-only input (e.g. a memmap) is only read
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            x = torch.from_numpy(np.ascontiguousarray(X3))
        x = x.reshape(n * n_channels, 1, n_times)
        x = torch.nn.functional.pad(x, (half, half), mode="reflect")
        extra = -(x.shape[-1] - n_fft) % hop
        if extra:
            x = torch.nn.functional.pad(x, (0, extra))
        window = scipy.signal.get_window(self.window, n_fft)
        window_t = torch.from_numpy((window / window.sum()).astype(X3.dtype))
        with torch.no_grad():
            Z = torch.stft(x[:, 0], n_fft, hop_length=hop, window=window_t, center=False,
                           onesided=True, return_complex=True)
        Z = Z[:, : len(self.freqs_)].numpy()
        return Z.reshape(n, n_channels, *Z.shape[1:])

    def transform(self, X):
        """Spectrogram of every epoch and channel.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_times) or (n_epochs, n_channels, n_times)
            Signal epochs, or an ``mne`` object.

        Returns
        -------
        S : ndarray of shape (n_epochs, n_channels, n_freqs, n_frames)
            ``2 * n_channels`` channels for ``output="complex"``; float dtype of ``X``.
        """
        X3, _ = self._validate(X, reset=False)
        Z = self._stft(X3)
        if self.output == "complex":
            return np.concatenate([Z.real, Z.imag], axis=1)
        magnitude = np.abs(Z)
        if self.output == "log-magnitude":
            magnitude += self.eps
            np.log(magnitude, out=magnitude)
        return magnitude

    def _is_complex(self):
        return self.output == "complex"

    @available_if(_is_complex)
    def inverse_transform(self, S):
        """Signals back from a complex STFT (inverse STFT by weighted overlap-add).

        Parameters
        ----------
        S : array-like of shape (n_epochs, 2 * n_channels, n_freqs, n_frames)
            Output of :meth:`transform` with ``output="complex"``.

        Returns
        -------
        X : ndarray of shape (n_epochs, n_times) or (n_epochs, n_channels, n_times)
            The rank of the data this transformer was fitted on.
        """
        check_is_fitted(self, "freqs_")
        S = np.asarray(S)
        n_channels, n_freqs = self.n_channels_in_, len(self.freqs_)
        if S.ndim != 4 or S.shape[1] != 2 * n_channels or S.shape[2] != n_freqs:
            raise ValueError(
                f"Expected a complex STFT of shape (n_epochs, {2 * n_channels}, {n_freqs}, "
                f"n_frames); got shape {S.shape}."
            )
        Z = S[:, :n_channels] + 1j * S[:, n_channels:]
        if n_freqs < self._n_fft_bins:
            pad = [(0, 0)] * 3 + [(0, 0)]
            pad[2] = (0, self._n_fft_bins - n_freqs)
            Z = np.pad(Z, pad)
        hop = self._hop()
        window = scipy.signal.get_window(self.window, self.n_fft)
        if not scipy.signal.check_NOLA(window, self.n_fft, self.n_fft - hop):
            raise ValueError(
                f"This STFT is not invertible: window={self.window!r} with n_fft={self.n_fft} "
                f"and hop_length={hop} fails the NOLA condition (some samples get zero "
                "weight); use a smaller hop_length (e.g. n_fft // 4).")
        _, x = scipy.signal.istft(Z, window=self.window, nperseg=self.n_fft,
                                  noverlap=self.n_fft - hop, input_onesided=True,
                                  boundary=True, time_axis=-1, freq_axis=-2)
        x = x[..., : self.n_times_in_]
        if x.shape[-1] < self.n_times_in_:
            raise ValueError(f"The STFT has too few frames ({S.shape[-1]}) for "
                             f"{self.n_times_in_} time samples.")
        return restore_rank(x.astype(S.dtype, copy=False), self.input_ndim_)


# --------------------------------------------------------------------------------- filters
def check_band(l_freq, h_freq, sfreq):
    """Raise a ValueError unless ``l_freq`` and ``h_freq`` are None or frequencies in
    (0, Nyquist) Hz with ``l_freq < h_freq`` (mne makes swapped cutoffs a band-stop)."""
    nyquist = sfreq / 2
    for name, value in (("l_freq", l_freq), ("h_freq", h_freq)):
        if value is not None and not (is_positive_real(value) and value < nyquist):
            raise ValueError(
                f"{name} must be frequencies in (0, {nyquist:g}) Hz or None, below the Nyquist "
                f"frequency of sfreq={sfreq:g} Hz; got {value!r}")
    if l_freq is not None and h_freq is not None and l_freq >= h_freq:
        raise ValueError(
            f"l_freq must be below h_freq for a band-pass; got l_freq={l_freq:g} Hz and "
            f"h_freq={h_freq:g} Hz (mne would make that a band-stop; remove a narrow band with "
            "NotchFilter(freqs, notch_widths=...)).")


def check_line_freqs(freqs, sfreq, *, name="freqs", hint=""):
    """Raise a ValueError unless ``freqs`` (one or several) are frequencies in (0, Nyquist) Hz;
    ``name`` and ``hint`` go into the message."""
    nyquist = sfreq / 2
    values = np.atleast_1d(freqs).tolist()
    if not values or not all(is_positive_real(f) and f < nyquist for f in values):
        raise ValueError(
            f"{name} must be frequencies in (0, {nyquist:g}) Hz, below the Nyquist frequency of "
            f"sfreq={sfreq:g} Hz{hint}; got {freqs!r}")


def bandpass_array(X3, sfreq, l_freq, h_freq, *, method="fir", iir_params=None,
                   filter_length="auto"):
    """Zero-phase band-pass of ``X3`` along its last axis with :func:`mne.filter.filter_data`.

    Any float dtype (mne needs float64; the result is cast back); ``X3`` is not modified.

    Parameters
    ----------
    X3 : ndarray of shape (..., n_times)
    sfreq, l_freq, h_freq : float
        As :func:`mne.filter.filter_data` (``l_freq`` or ``h_freq`` None for low/high-pass;
        both None gives a copy of ``X3``).
    method : {"fir", "iir"}, default="fir"
    iir_params : dict, optional
        Copied before mne sees it (mne writes into it).
    filter_length : str or int, default="auto"

    Returns
    -------
    ndarray of ``X3``'s shape and dtype
    """
    import mne

    if l_freq is None and h_freq is None:  # mne would flatten (FIR) or fail (IIR)
        return X3.copy()
    data, private = _as_float64(X3)
    out = mne.filter.filter_data(
        data, sfreq, l_freq, h_freq, method=method, filter_length=filter_length,
        iir_params=None if iir_params is None else dict(iir_params), copy=not private,
        verbose=False)
    return out.astype(X3.dtype, copy=False)


def notch_array(X3, sfreq, freqs, *, method="fir", notch_widths=None, iir_params=None):
    """Notch ``freqs`` out of ``X3`` along its last axis with :func:`mne.filter.notch_filter`.

    Parameters
    ----------
    X3 : ndarray of shape (..., n_times)
    sfreq : float
    freqs : float, sequence of float or None
        Frequencies (Hz) to remove, e.g. ``(50.0, 100.0)``; None only with
        ``method="spectrum_fit"``, which then finds them.
    method : {"fir", "iir", "spectrum_fit"}, default="fir"
    notch_widths : float or sequence of float, optional
        mne's default is ``freqs / 200``.
    iir_params : dict, optional

    Returns
    -------
    ndarray of ``X3``'s shape and dtype
    """
    import mne

    data, private = _as_float64(X3)
    if freqs is not None:  # None: mne's spectrum_fit finds the line frequencies itself
        freqs = np.atleast_1d(np.asarray(freqs, dtype=float))
    # mne's IIR notch takes one stop-band per call
    if method == "iir" and freqs is not None and len(freqs) > 1:
        widths = np.broadcast_to(np.asarray(
            freqs / 200.0 if notch_widths is None else notch_widths, dtype=float), freqs.shape)
        for freq, width in zip(freqs, widths):
            data = notch_array(data, sfreq, freq, method=method, notch_widths=width,
                               iir_params=iir_params)
        return data.astype(X3.dtype, copy=False)
    out = mne.filter.notch_filter(
        data, sfreq, freqs, method=method, notch_widths=notch_widths,
        iir_params=None if iir_params is None else dict(iir_params), copy=not private,
        verbose=False)
    return out.astype(X3.dtype, copy=False)


class BandpassFilter(_SignalTransformer):
    """Zero-phase band-pass (or low-/high-pass) filter through :func:`mne.filter.filter_data`.

    Parameters
    ----------
    l_freq : float or None, default=1.0
        Lower pass-band edge in Hz, below ``h_freq``; None for a low-pass.
    h_freq : float or None, default=40.0
        Upper pass-band edge in Hz, below Nyquist; None for a high-pass (both None: no
        filtering).
    sfreq : float, optional
        Sampling rate in Hz; taken from an ``mne`` input when None (then required at fit).
    method : {"fir", "iir"}, default="fir"
        mne's FIR (long filters: on short epochs mne warns that the filter is longer than the
        signal) or IIR (Butterworth, order 4, forward-backward; suits short epochs).
    iir_params : dict, optional
        Passed to mne for ``method="iir"``.
    filter_length : str or int, default="auto"
        FIR length, as mne.

    Attributes
    ----------
    sfreq_ : float
    n_channels_in_, n_times_in_, n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(2048) / 256.0
    >>> X = np.sin(2 * np.pi * 10 * t) + np.sin(2 * np.pi * 80 * t)
    >>> Xf = BandpassFilter(1.0, 40.0, sfreq=256.0).fit_transform(X[None])
    >>> round(float(np.std(Xf[0, 256:-256]) * np.sqrt(2)), 2)
    1.0
    """

    def __init__(self, l_freq=1.0, h_freq=40.0, sfreq=None, method="fir", iir_params=None,
                 filter_length="auto"):
        self.l_freq = l_freq
        self.h_freq = h_freq
        self.sfreq = sfreq
        self.method = method
        self.iir_params = iir_params
        self.filter_length = filter_length

    def _fit(self, X3, rank):
        check_band(self.l_freq, self.h_freq, self.sfreq_)

    def transform(self, X):
        """Filter ``X``.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_times) or (n_epochs, n_channels, n_times)
            Signal epochs, or an ``mne`` object (its sampling rate must match).

        Returns
        -------
        X_filtered : ndarray of the shape (rank) and float dtype of ``X``
        """
        X3, rank = self._validate(X, reset=False)
        out = bandpass_array(X3, self.sfreq_, self.l_freq, self.h_freq, method=self.method,
                             iir_params=self.iir_params, filter_length=self.filter_length)
        return restore_rank(out, rank)


class NotchFilter(_SignalTransformer):
    """Notch (line-noise) filter through :func:`mne.filter.notch_filter`.

    Parameters
    ----------
    freqs : float or tuple of float, default=50.0
        Frequencies to remove in Hz, e.g. ``(50.0, 100.0)`` or 60.0; None (with
        ``method="spectrum_fit"``) lets mne find them.
    sfreq : float, optional
        Sampling rate in Hz; taken from an ``mne`` input when None.
    method : {"fir", "iir", "spectrum_fit"}, default="fir"
    notch_widths : float or tuple of float, optional
        Stop-band widths in Hz (mne's default ``freqs / 200``).
    iir_params : dict, optional

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(2560) / 256.0
    >>> X = np.sin(2 * np.pi * 50 * t)[None]
    >>> Xf = NotchFilter(50.0, sfreq=256.0).fit_transform(X)
    >>> bool(np.std(Xf[:, 512:-512]) < 0.01)
    True
    """

    def __init__(self, freqs=50.0, sfreq=None, method="fir", notch_widths=None,
                 iir_params=None):
        self.freqs = freqs
        self.sfreq = sfreq
        self.method = method
        self.notch_widths = notch_widths
        self.iir_params = iir_params

    def _fit(self, X3, rank):
        if self.freqs is None and self.method == "spectrum_fit":  # mne finds the frequencies
            return
        check_line_freqs(self.freqs, self.sfreq_, hint=" (None only with method='spectrum_fit')")

    def transform(self, X):
        """Remove the ``freqs`` from ``X``.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_times) or (n_epochs, n_channels, n_times)
            Signal epochs, or an ``mne`` object.

        Returns
        -------
        X_filtered : ndarray of the shape (rank) and float dtype of ``X``
        """
        X3, rank = self._validate(X, reset=False)
        out = notch_array(X3, self.sfreq_, self.freqs, method=self.method,
                          notch_widths=self.notch_widths, iir_params=self.iir_params)
        return restore_rank(out, rank)


class Resample(_SignalTransformer):
    """Change the sampling rate with :func:`mne.filter.resample` (anti-aliased).

    Parameters
    ----------
    sfreq : float, optional
        Sampling rate of the input in Hz; taken from an ``mne`` input when None.
    new_sfreq : float, default=256.0
        Sampling rate of the output in Hz.
    method : {"polyphase", "fft"}, default="polyphase"
        mne's methods: polyphase FIR (:func:`scipy.signal.resample_poly`) or FFT.

    Attributes
    ----------
    n_times_out_ : int
        Samples per epoch of the output.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((4, 2, 720))
    >>> Resample(sfreq=360.0, new_sfreq=256.0).fit_transform(X).shape
    (4, 2, 512)
    """

    def __init__(self, sfreq=None, new_sfreq=256.0, method="polyphase"):
        self.sfreq = sfreq
        self.new_sfreq = new_sfreq
        self.method = method

    def _check_params(self):
        check_sfreq(self.new_sfreq, name="new_sfreq")
        if self.method not in ("polyphase", "fft"):
            raise ValueError(f"method must be 'polyphase' or 'fft'; got {self.method!r}")

    def _fit(self, X3, rank):
        new_sfreq = check_sfreq(self.new_sfreq, name="new_sfreq")
        self.n_times_out_ = max(int(round(self.n_times_in_ * new_sfreq / self.sfreq_)), 1)

    def transform(self, X):
        """Resample ``X`` from ``sfreq`` to ``new_sfreq``.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_times) or (n_epochs, n_channels, n_times)

        Returns
        -------
        X_resampled : ndarray of shape (n_epochs, [n_channels,] ``n_times_out_``)
        """
        import mne

        X3, rank = self._validate(X, reset=False)
        data, _ = _as_float64(X3)
        new_sfreq = float(self.new_sfreq)
        if np.isclose(new_sfreq, self.sfreq_):
            out = data.copy()
        else:
            out = mne.filter.resample(data, up=new_sfreq, down=self.sfreq_, axis=-1,
                                      method=self.method, verbose=False)
        return restore_rank(out.astype(X3.dtype, copy=False), rank)


# --------------------------------------------------------------------------------- scaling
class EpochScaler(_SignalTransformer):
    """Scale each epoch (and channel) by its own statistics, and undo it.

    ``method="zscore"`` subtracts the mean and divides by the standard deviation;
    ``method="std"`` only divides by the standard deviation, as EEGdenoiseNet scales its noisy
    inputs (and their clean targets, by the *noisy* input's std).

    The statistics are per epoch, so they cannot be learned at ``fit``: :meth:`transform`
    computes them from its input and keeps them (``center_``, ``scale_``) so that
    :meth:`inverse_transform` can give, e.g., a denoiser's output back in the units of the noisy
    input that was scaled. Both methods also take explicit ``center=`` / ``scale=`` arrays (as
    :meth:`statistics` returns them), e.g. to scale clean targets by the noisy input's std.

    Parameters
    ----------
    method : {"zscore", "std"}, default="zscore"
    per_channel : bool, default=True
        Statistics per epoch and channel (True) or per epoch over all channels (False).

    Attributes
    ----------
    center_, scale_ : ndarray of shape (n_epochs, n_channels or 1, 1)
        Statistics of the last :meth:`transform` (center is 0 for ``"std"``). A standard
        deviation of 0 (a flat epoch) is replaced by 1.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> clean = rng.standard_normal((8, 256))
    >>> noisy = clean + rng.standard_normal((8, 256))
    >>> scaler = EpochScaler(method="std").fit(noisy)
    >>> Z = scaler.transform(noisy)                  # what a denoiser sees
    >>> center, scale = scaler.statistics(noisy)
    >>> target = scaler.transform(clean, center=center, scale=scale)  # clean, noisy's units
    >>> np.allclose(scaler.inverse_transform(target, center=center, scale=scale), clean)
    True
    >>> np.allclose(scaler.inverse_transform(scaler.transform(noisy)), noisy)
    True
    """

    _needs_sfreq = False
    sfreq = None  # not a parameter; lets the shared validation run

    def __init__(self, method="zscore", per_channel=True):
        self.method = method
        self.per_channel = per_channel

    def _check_params(self):  # nothing is learned at fit: the statistics are per epoch
        if self.method not in ("zscore", "std"):
            raise ValueError(f"method must be 'zscore' or 'std'; got {self.method!r}")

    def statistics(self, X):
        """Per-epoch ``(center, scale)`` of ``X``, each of shape (n_epochs, C or 1, 1).

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_times) or (n_epochs, n_channels, n_times)

        Returns
        -------
        center, scale : ndarray
        """
        X3, _ = self._validate(X, reset=False)
        return self._statistics(X3)

    def _statistics(self, X3):
        axis = -1 if self.per_channel else (1, 2)
        center = X3.mean(axis=axis, keepdims=True)
        if not self.per_channel:
            center = center.reshape(len(X3), 1, 1)
        scale = X3.std(axis=axis, keepdims=True).reshape(center.shape)
        flat = scale <= np.finfo(X3.dtype).eps * np.abs(center)
        scale = np.where(flat | (scale == 0), 1.0, scale).astype(X3.dtype)
        if self.method == "std":
            center = np.zeros_like(center)
        return center, scale

    def _given(self, value, X3, name):
        value = np.asarray(value, dtype=X3.dtype)
        if value.ndim == 2:
            value = value[:, :, None] if value.shape[1] > 1 else value[:, :1, None]
        try:
            np.broadcast_to(value, X3.shape)
        except ValueError:
            raise ValueError(f"{name} of shape {value.shape} does not broadcast to the "
                             f"epochs' shape {X3.shape}; pass what statistics() returns for "
                             "the same epochs.") from None
        if value.ndim != 3 or value.shape[0] != len(X3):
            raise ValueError(f"{name} must have one row per epoch ({len(X3)}); got shape "
                             f"{value.shape}.")
        return value

    def _center_scale(self, X3, center, scale, default):
        """The given ``center`` and ``scale`` (both or neither), else ``default()``'s."""
        if (center is None) != (scale is None):
            raise ValueError("pass both center and scale, or neither")
        if center is None:
            center, scale = default()
        return self._given(center, X3, "center"), self._given(scale, X3, "scale")

    def _last_statistics(self, n_epochs):
        if not hasattr(self, "scale_"):
            raise ValueError("EpochScaler.inverse_transform needs the statistics of a "
                             "previous transform, or center= and scale=")
        if len(self.scale_) != n_epochs:
            raise ValueError(f"the last transform scaled {len(self.scale_)} epochs; got "
                             f"{n_epochs}. Pass center= and scale= for these epochs.")
        return self.center_, self.scale_

    def transform(self, X, center=None, scale=None):
        """Scale ``X`` by its own statistics (default) or by given ones.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_times) or (n_epochs, n_channels, n_times)
        center, scale : ndarray, optional
            Statistics to use instead of ``X``'s (from :meth:`statistics`); both or neither.

        Returns
        -------
        X_scaled : ndarray of the shape and float dtype of ``X``
        """
        X3, rank = self._validate(X, reset=False)
        center, scale = self._center_scale(X3, center, scale, lambda: self._statistics(X3))
        self.center_, self.scale_ = center, scale
        return restore_rank((X3 - center) / scale, rank)

    def inverse_transform(self, X, center=None, scale=None):
        """Give scaled epochs back in the units of the epochs the statistics came from.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_times) or (n_epochs, n_channels, n_times)
            Scaled epochs (e.g. a denoiser's output for the scaled noisy input).
        center, scale : ndarray, optional
            Default: those of the last :meth:`transform`.

        Returns
        -------
        X_unscaled : ndarray of the shape and float dtype of ``X``
        """
        X3, rank = self._validate(X, reset=False)
        center, scale = self._center_scale(X3, center, scale,
                                           lambda: self._last_statistics(len(X3)))
        return restore_rank(X3 * scale + center, rank)


# ------------------------------------------------------------------------------- windowing
def window_starts(n_times, window, step, include_end=False):
    """First sample of every window of ``window`` samples, ``step`` apart.

    Parameters
    ----------
    n_times : int
        Length of the recording.
    window, step : int
    include_end : bool, default=False
        Add a last window that ends at the last sample when the regular ones miss the tail.

    Returns
    -------
    starts : ndarray of int

    Examples
    --------
    >>> window_starts(10, 4, 3).tolist(), window_starts(10, 4, 3, include_end=True).tolist()
    ([0, 3, 6], [0, 3, 6])
    >>> window_starts(11, 4, 3, include_end=True).tolist()
    [0, 3, 6, 7]
    """
    if n_times < window:
        raise ValueError(f"recordings of {n_times} samples are shorter than window={window}")
    starts = np.arange(0, n_times - window + 1, step)
    if include_end and starts[-1] + window < n_times:
        starts = np.append(starts, n_times - window)
    return starts


def overlap_add(windows, starts, n_times):
    """Join windows of a recording back into it by tapered, normalised overlap-add.

    Each window is weighted by ``sin(pi * (k + 0.5) / window) ** 2`` (a Hann taper that is
    never zero), and every sample is divided by the summed weights, so the result is a convex
    combination of the windows covering it: windows that agree give the recording back
    exactly, and windows that differ (e.g. denoised independently) blend without seams.

    Parameters
    ----------
    windows : ndarray of shape (n_windows, ..., window)
    starts : array-like of int, shape (n_windows,)
        First sample of each window.
    n_times : int
        Length of the recording.

    Returns
    -------
    recording : ndarray of shape (..., n_times)
        Samples no window covers are NaN.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(10.0)
    >>> starts = window_starts(10, 4, 2)
    >>> np.allclose(overlap_add(np.stack([x[s:s + 4] for s in starts]), starts, 10), x)
    True
    """
    windows = np.asarray(windows)
    starts = np.asarray(starts, dtype=int)
    if len(windows) != len(starts):
        raise ValueError(f"got {len(windows)} windows but {len(starts)} starts")
    length = windows.shape[-1]
    taper = np.sin(np.pi * (np.arange(length) + 0.5) / length) ** 2
    dtype = np.result_type(windows.dtype, np.float32)
    total = np.zeros(windows.shape[1:-1] + (n_times,), dtype=dtype)
    weight = np.zeros(n_times, dtype=dtype)
    for window, start in zip(windows, starts):
        total[..., start:start + length] += window * taper
        weight[start:start + length] += taper
    with np.errstate(invalid="ignore", divide="ignore"):
        out = total / weight
    out[..., weight == 0] = np.nan
    return out


class Windower(TransformerMixin, BaseEstimator):
    """Cut continuous recordings into epochs of ``window`` samples, ``step`` apart, and back.

    Input is a recording ``(n_times,)``, ``(n_channels, n_times)``, a stack of recordings
    ``(n_recordings, n_channels, n_times)``, or an ``mne`` Raw (one recording) or Epochs (one
    recording per epoch). Output is ``(n_windows, n_channels, window)`` (windows of all
    recordings, recording by recording), or ``(n_windows, window)`` for a 1-D recording.

    Parameters
    ----------
    window : int, default=512
        Window length in samples.
    step : int, optional
        Samples between window starts; ``window`` (no overlap) when None.
    include_end : bool, default=False
        Add a last window ending at the last sample, so that (with ``step <= window``) every
        sample is covered, as rebuilding a whole recording with :meth:`inverse_transform`
        needs.

    Attributes
    ----------
    starts_ : ndarray of int
        Window starts within each recording, for the last :meth:`transform`.
    n_times_ : int
        Length of the recordings of the last :meth:`transform`.
    n_recordings_ : int

    Notes
    -----
    :meth:`inverse_transform` rebuilds the recordings of the last :meth:`transform` from
    (possibly processed) windows by tapered overlap-add (:func:`overlap_add`): use
    ``step < window`` for seam-free joins of independently processed windows.

    Examples
    --------
    >>> import numpy as np
    >>> recording = np.random.default_rng(0).standard_normal((2, 2000))
    >>> win = Windower(window=512, step=256, include_end=True)
    >>> epochs = win.fit_transform(recording)
    >>> epochs.shape
    (7, 2, 512)
    >>> np.allclose(win.inverse_transform(epochs), recording)
    True
    """

    def __init__(self, window=512, step=None, include_end=False):
        self.window = window
        self.step = step
        self.include_end = include_end

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.one_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _step(self):
        return self.window if self.step is None else self.step

    def _check_params(self):
        for name, value in (("window", self.window), ("step", self._step())):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be a positive integer (samples); got {value!r}")

    def _recordings(self, X):
        """(n_recordings, C, T) array and the input's rank (1, 2, 3; mne counts as 3)."""
        if is_mne_data(X):
            return check_signals(X, min_times=self.window, name="recording")[0], 3
        if hasattr(X, "detach") and hasattr(X, "numpy"):  # torch tensor
            X = X.detach().cpu().numpy()
        X = np.asarray(X)
        if X.ndim not in (1, 2, 3):
            raise ValueError("Expected a recording of shape (n_times,), (n_channels, n_times) or "
                             f"(n_recordings, n_channels, n_times); got shape {X.shape}.")
        rank = X.ndim
        X3 = X.reshape((1,) * (3 - rank) + X.shape)
        X3, _ = check_signals(X3, min_times=self.window, name="recording")
        return X3, rank

    def fit(self, X=None, y=None):
        """Check the parameters (and ``X`` if given); nothing is learned.

        Parameters
        ----------
        X : array-like or mne object, optional
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self._check_params()
        if X is not None:
            self.n_channels_in_ = self._recordings(X)[0].shape[1]
        return self

    def transform(self, X):
        """Windows of every recording in ``X``.

        Parameters
        ----------
        X : array-like of shape (n_times,), (n_channels, n_times) or
            (n_recordings, n_channels, n_times), or an mne Raw/Epochs

        Returns
        -------
        windows : ndarray of shape (n_windows, n_channels, window), or (n_windows, window) for
            1-D input
        """
        self._check_params()
        X3, rank = self._recordings(X)
        n_rec, n_channels, n_times = X3.shape
        starts = window_starts(n_times, self.window, self._step(), self.include_end)
        index = starts[:, None] + np.arange(self.window)
        windows = X3[:, :, index]  # (n_rec, C, n_win, window): a copy
        windows = windows.transpose(0, 2, 1, 3).reshape(n_rec * len(starts), n_channels,
                                                         self.window)
        self.starts_, self.n_times_, self.n_recordings_ = starts, n_times, n_rec
        self._input_rank = rank
        return windows[:, 0] if rank == 1 else windows

    def inverse_transform(self, X):
        """Rebuild the recordings of the last :meth:`transform` from its (processed) windows.

        Parameters
        ----------
        X : array-like of shape (n_windows, n_channels, window) or (n_windows, window)

        Returns
        -------
        recordings : ndarray in the shape of the input of the last transform
            (1-D, 2-D or 3-D); samples no window covered are NaN (use ``include_end=True``).
        """
        if not hasattr(self, "starts_"):
            raise ValueError("Windower.inverse_transform rebuilds the recordings of a previous "
                             "transform; call transform first (or use sigest.preprocessing."
                             "overlap_add).")
        X = np.asarray(X)
        if X.ndim == 2:
            X = X[:, None]
        n_win = len(self.starts_)
        if X.ndim != 3 or X.shape[0] != n_win * self.n_recordings_ or \
                X.shape[-1] != self.window:
            raise ValueError(
                f"Expected {n_win * self.n_recordings_} windows of {self.window} samples (the "
                f"last transform's); got shape {X.shape}."
            )
        per_recording = X.reshape(self.n_recordings_, n_win, *X.shape[1:])
        out = np.stack([overlap_add(w, self.starts_, self.n_times_) for w in per_recording])
        if self._input_rank == 1:
            return out[0, 0]
        if self._input_rank == 2:
            return out[0]
        return out
