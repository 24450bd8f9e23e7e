"""Noise sources and NoiseInjector: noisy copies of clean epochs at a chosen SNR.

Mixing follows EEGdenoiseNet: ``noisy = x + lam * n`` with ``lam`` chosen per epoch and channel
so that ``10 * log10(RMS(x) / RMS(lam * n))`` equals the target SNR in dB (see
:func:`mix_at_snr`; ``snr_definition="power"`` uses the power ratio instead).

Sources are registered by name through the ``sigest_register_noises`` plugin hook:

- synthetic: ``"white"``, ``"pink"``, ``"powerline"`` (50 Hz + harmonics), ``"powerline-60"``,
  ``"baseline-wander"``;
- recorded: ``"eog"`` (the 101 EOG epochs of the EEGdenoiseNet test set),
  ``"eegdenoisenet-eog"`` / ``"eegdenoisenet-emg"`` (the full ``EOG_all_epochs.npy`` /
  ``EMG_all_epochs.npy`` when you have them), ``"nstdb-ma"`` (muscle), ``"nstdb-bw"`` (baseline
  wander), ``"emgdb"`` (needle EMG, 4 kHz).

Recorded pools are resampled to the signals' ``sfreq`` with :func:`scipy.signal.resample_poly`
(whose anti-aliasing filter band-limits them), split into a train and a test part (continuous
records by time: the first 80 % train, the last 20 % test; epoch pools by epoch, with a fixed
seeded partition) and cached, so :meth:`NoiseInjector.inject` only crops and mixes.

A plugin registers either a :class:`NoiseSource` subclass (or a zero-argument factory returning
one), or a plain function ``f(n_epochs, n_channels, n_times, sfreq, rng) -> ndarray``::

    from sigest.plugins import hookimpl

    @hookimpl
    def sigest_register_noises(register):
        register("my-noise", my_noise_function, description="...")
"""

from __future__ import annotations

import functools
import inspect
import numbers
import os
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .plugins import hookimpl
from .validation import (
    check_sfreq,
    check_signals,
    mne_sfreq,
    restore_rank,
)

#: Fraction of every noise pool used for training; the rest is the test part.
TRAIN_FRACTION = 0.8
#: Seed of the fixed train/test partition of epoch pools (independent of ``random_state``).
SPLIT_SEED = 0
SPLITS = ("train", "test")
SNR_DEFINITIONS = ("rms", "power")


# ------------------------------------------------------------------------------------ mixing
def rms(x, axis=-1):
    """Root mean square along ``axis`` (kept as a length-1 axis)."""
    return np.sqrt(np.mean(np.square(x), axis=axis, keepdims=True))


def mix_at_snr(clean, noise, snr_db, definition="rms"):
    """``clean + lam * noise`` with ``lam`` per epoch and channel to reach ``snr_db``.

    EEGdenoiseNet's rule: ``lam = RMS(clean) / (RMS(noise) * 10 ** (snr_db / 10))``, so that
    ``10 * log10(RMS(clean) / RMS(lam * noise)) == snr_db``. With ``definition="power"`` the
    SNR is the power ratio ``10 * log10(P(clean) / P(lam * noise))`` (= 20 log10 of the RMS
    ratio), the usual definition in ECG denoising.

    Parameters
    ----------
    clean, noise : ndarray of shape (n_epochs, n_channels, n_times) or (n_epochs, n_times)
        Signals and noise of one shape. Neither is modified.
    snr_db : float or array-like of shape (n_epochs,)
        Target SNR per epoch.
    definition : {"rms", "power"}, default="rms"

    Returns
    -------
    noisy : ndarray of clean's shape (float64)
        Where the clean signal or the noise is all zero, the epoch is returned unchanged.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, n = rng.standard_normal((2, 4, 256))
    >>> y = mix_at_snr(x, n, -3.0)
    >>> round(float(10 * np.log10(rms(x[0])[0] / rms(y[0] - x[0])[0])), 6)
    -3.0
    """
    clean = np.asarray(clean, dtype=float)
    noise = np.asarray(noise, dtype=float)
    if clean.shape != noise.shape:
        raise ValueError(f"clean and noise must have one shape; got {clean.shape} and "
                         f"{noise.shape}")
    if definition not in SNR_DEFINITIONS:
        raise ValueError(f"definition must be one of {SNR_DEFINITIONS}; got {definition!r}")
    lead = (-1,) + (1,) * (clean.ndim - 1)
    snr = np.asarray(snr_db, dtype=float).reshape(lead)
    return clean + _lam(rms(clean), rms(noise), snr, definition) * noise


def _rms(x):
    """RMS over the last axis, kept as a length-1 axis, without a squared temporary."""
    return np.sqrt(np.einsum("...t,...t->...", x, x)[..., None] / x.shape[-1])


def _lam(rms_clean, rms_noise, snr_db, definition):
    exponent = snr_db / (10.0 if definition == "rms" else 20.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = rms_clean / (rms_noise * 10.0**exponent)
    return np.where(rms_noise > 0, lam, 0.0)


# ------------------------------------------------------------------------------ the sources
class NoiseSource(BaseEstimator):
    """Base class of noise sources: ``fit(sfreq, split)`` then ``sample(n_rows, n_times, rng)``.

    Subclasses set ``needs_sfreq`` and implement :meth:`sample`; recorded sources derive from
    :class:`RecordedNoise` instead. ``sample`` returns ``n_rows`` independent noise segments
    of ``n_times`` samples as a float array ``(n_rows, n_times)``; their scale does not matter
    (mixing rescales them).
    """

    needs_sfreq = False
    _fresh_output = False  # True where sample() returns a new float64 array each call

    def fit(self, sfreq=None, split="train"):
        """Check ``sfreq`` and ``split``; recorded sources load and cache their pool here."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}; got {split!r}")
        if sfreq is None and self.needs_sfreq:
            raise ValueError(
                f"noise source {type(self).__name__} needs sfreq (the signals' sampling rate in "
                "Hz) to generate or resample its noise; got sfreq=None. Set sfreq on the "
                "NoiseInjector or on the estimator."
            )
        self.sfreq_ = None if sfreq is None else check_sfreq(sfreq)
        self.split_ = split
        return self

    def sample(self, n_rows, n_times, rng):  # pragma: no cover - abstract
        raise NotImplementedError


class WhiteNoise(NoiseSource):
    """Gaussian white noise."""

    _fresh_output = True

    def sample(self, n_rows, n_times, rng):
        return rng.standard_normal((n_rows, n_times))


class PinkNoise(NoiseSource):
    """Pink (1/f power) Gaussian noise, shaped in the frequency domain; zero mean."""

    _fresh_output = True

    def sample(self, n_rows, n_times, rng):
        if n_times < 2:
            return rng.standard_normal((n_rows, n_times))
        n_freqs = n_times // 2 + 1
        spectrum = rng.standard_normal((n_rows, n_freqs)) + 1j * rng.standard_normal(
            (n_rows, n_freqs))
        freqs = np.arange(n_freqs, dtype=float)
        freqs[0] = np.inf  # no DC
        return np.fft.irfft(spectrum / np.sqrt(freqs), n=n_times, axis=-1)


class PowerlineNoise(NoiseSource):
    """Powerline interference: ``line_freq`` and its harmonics below Nyquist, random phases.

    Parameters
    ----------
    line_freq : float, default=50.0
        Mains frequency (50 Hz in Europe/Asia, 60 Hz in the Americas).
    n_harmonics : int, default=3
        Components ``line_freq * k`` for ``k = 1..n_harmonics`` (amplitude ``1 / k``); those at
        or above Nyquist are left out.
    freq_jitter : float, default=0.1
        Each epoch's mains frequency deviates uniformly by up to this many Hz, as real mains do.
    """

    needs_sfreq = True
    _fresh_output = True

    def __init__(self, line_freq=50.0, n_harmonics=3, freq_jitter=0.1):
        self.line_freq = line_freq
        self.n_harmonics = n_harmonics
        self.freq_jitter = freq_jitter

    def fit(self, sfreq=None, split="train"):
        super().fit(sfreq, split)
        nyquist = self.sfreq_ / 2
        harmonics = np.arange(1, int(self.n_harmonics) + 1, dtype=float)
        self.harmonics_ = harmonics[(harmonics * (self.line_freq + self.freq_jitter)) < nyquist]
        if not len(self.harmonics_):
            raise ValueError(
                f"powerline noise at {self.line_freq:g} Hz is not below the Nyquist frequency "
                f"({nyquist:g} Hz) of sfreq={self.sfreq_:g} Hz: it cannot be represented"
            )
        return self

    def sample(self, n_rows, n_times, rng):
        t = np.arange(n_times) / self.sfreq_
        f0 = self.line_freq + rng.uniform(-self.freq_jitter, self.freq_jitter, size=(n_rows, 1))
        phases = rng.uniform(0, 2 * np.pi, size=(n_rows, len(self.harmonics_)))
        out = np.zeros((n_rows, n_times))
        for i, k in enumerate(self.harmonics_):
            out += np.sin(2 * np.pi * k * f0 * t + phases[:, i:i + 1]) / k
        return out


class BaselineWanderNoise(NoiseSource):
    """Synthetic baseline wander: a sum of slow sinusoids (random frequencies, phases, sizes).

    Parameters
    ----------
    freq_range : (float, float), default=(0.05, 0.5)
        Frequencies in Hz, drawn uniformly per component (respiration and movement range).
    n_components : int, default=3
    """

    needs_sfreq = True
    _fresh_output = True

    def __init__(self, freq_range=(0.05, 0.5), n_components=3):
        self.freq_range = freq_range
        self.n_components = n_components

    def sample(self, n_rows, n_times, rng):
        t = np.arange(n_times) / self.sfreq_
        k = int(self.n_components)
        freqs = rng.uniform(*self.freq_range, size=(n_rows, k, 1))
        phases = rng.uniform(0, 2 * np.pi, size=(n_rows, k, 1))
        amps = rng.uniform(0.5, 1.0, size=(n_rows, k, 1))
        return np.sum(amps * np.sin(2 * np.pi * freqs * t + phases), axis=1)


class FunctionNoise(NoiseSource):
    """A plugin's plain function ``func(n_epochs, n_channels, n_times, sfreq, rng)`` as a source."""

    _fresh_output = True  # copied in sample()

    def __init__(self, func=None):
        self.func = func

    def sample(self, n_rows, n_times, rng):
        out = np.array(self.func(n_rows, 1, n_times, self.sfreq_, rng), dtype=float, copy=True)
        if out.size != n_rows * n_times:
            name = getattr(self.func, "__qualname__", repr(self.func))
            raise ValueError(f"noise function {name} returned an array of shape {out.shape}; "
                             f"expected ({n_rows}, 1, {n_times}), the (n_epochs, n_channels, "
                             "n_times) it was asked for")
        return out.reshape(n_rows, n_times)


# ------------------------------------------------------------------------- recorded sources
class _Pool:
    """Tracks (1-D arrays at the target sfreq) concatenated, with where each came from.

    ``info[i]`` describes track ``i``: ``record``, ``channel`` or ``epoch``, and ``start_s`` /
    ``stop_s``, the time span it covers in the original recording.
    """

    def __init__(self, tracks, info, kind):
        self.lengths = np.array([len(t) for t in tracks], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)
        self.data = np.concatenate(tracks).astype(float)
        self.data.setflags(write=False)
        self.info = info
        self.kind = kind

    def crop(self, n_rows, n_times, rng):
        """Random crops of ``n_times`` samples: (segments, track ids, start within track)."""
        valid = self.lengths - n_times + 1
        if self.kind == "epochs" and valid.max() <= 0:
            return self._concatenated(n_rows, n_times, rng)
        if valid.max() <= 0:
            raise ValueError(
                f"noise records are shorter ({self.lengths.max()} samples) than the requested "
                f"{n_times} samples; use shorter epochs or another noise source"
            )
        valid = np.maximum(valid, 0)
        cum = np.cumsum(valid)
        draw = rng.integers(0, cum[-1], size=n_rows)
        track = np.searchsorted(cum, draw, side="right")
        start = draw - (cum[track] - valid[track])
        index = (self.offsets[track] + start)[:, None] + np.arange(n_times)
        return self.data[index], track, start

    def _concatenated(self, n_rows, n_times, rng):
        # Epoch pools shorter than the signal: random epochs back to back, then a random crop.
        length = int(self.lengths.min())
        k = -(-n_times // length) + 1
        tracks = rng.integers(0, len(self.lengths), size=(n_rows, k))
        start = rng.integers(0, k * length - n_times + 1, size=n_rows)
        pos = start[:, None] + np.arange(n_times)
        which = np.take_along_axis(tracks, pos // length, axis=1)
        return self.data[self.offsets[which] + pos % length], tracks[:, 0], start


_POOL_CACHE: dict = {}
_POOL_CACHE_SIZE = 16


def _resample(x, from_sfreq, to_sfreq):
    """Resample along the last axis with a polyphase filter (anti-aliased, band-limited)."""
    if np.isclose(from_sfreq, to_sfreq):
        return np.asarray(x, dtype=float)
    ratio = Fraction(float(to_sfreq) / float(from_sfreq)).limit_denominator(1000)
    return resample_poly(np.asarray(x, dtype=float), ratio.numerator, ratio.denominator, axis=-1)


class RecordedNoise(NoiseSource):
    """Base of noise taken from recordings: subclasses implement ``_load(path)``.

    ``_load`` returns ``(signals, sfreq, kind, names)``: ``kind="continuous"`` with a list of 1-D
    records (split by time) or ``kind="epochs"`` with a 2-D array of epochs (split by epoch).
    The pool is resampled to the signals' ``sfreq`` and cached per process.
    """

    needs_sfreq = True
    _fresh_output = True

    def fit(self, sfreq=None, split="train"):
        super().fit(sfreq, split)
        key = (type(self).__name__, repr(sorted(self.get_params().items())), self.sfreq_, split,
               os.environ.get("SIGEST_DATA"))
        pool = _POOL_CACHE.get(key)
        if pool is None:
            pool = self._build_pool(split)
            if len(_POOL_CACHE) >= _POOL_CACHE_SIZE:
                _POOL_CACHE.pop(next(iter(_POOL_CACHE)))
            _POOL_CACHE[key] = pool
        self.pool_ = pool
        return self

    def _build_pool(self, split):
        signals, src_sfreq, kind, names = self._load(getattr(self, "path", None))
        tracks, info = [], []
        if kind == "epochs":
            signals = np.asarray(signals, dtype=float)
            ids = epoch_split(len(signals), split)
            resampled = _resample(signals[ids], src_sfreq, self.sfreq_)
            for i, row in zip(ids, resampled):
                tracks.append(row)
                info.append({"record": names[0], "epoch": int(i)})
        else:
            for name, record in zip(names, signals):
                record = np.asarray(record, dtype=float)
                lo, hi = time_split(len(record), split)
                part = record[lo:hi] - record[lo:hi].mean()
                tracks.append(_resample(part, src_sfreq, self.sfreq_))
                info.append({"record": name, "start_s": lo / src_sfreq, "stop_s": hi / src_sfreq})
        return _Pool(tracks, info, kind)

    def sample(self, n_rows, n_times, rng):
        return self.sample_with_origin(n_rows, n_times, rng)[0]

    def sample_with_origin(self, n_rows, n_times, rng):
        """Like :meth:`sample`, plus the pool track of each row and its start sample in it."""
        if "pool_" not in self.__dict__:  # unpickled: the pool is rebuilt (from the cache)
            self.fit(self.sfreq_, self.split_)
        return self.pool_.crop(n_rows, n_times, rng)

    def __getstate__(self):
        # Pickles stay small: the pool is re-read from its files (or the cache) when needed.
        state = super().__getstate__()
        state.pop("pool_", None)
        return state

    def _load(self, path):  # pragma: no cover - abstract
        raise NotImplementedError


def time_split(n_samples, split):
    """``(start, stop)`` sample range of ``split`` in a continuous record: 80 % / last 20 %."""
    cut = int(round(TRAIN_FRACTION * n_samples))
    return (0, cut) if split == "train" else (cut, n_samples)


def epoch_split(n_epochs, split):
    """Sorted epoch indices of ``split``: a fixed seeded 80/20 partition of ``n_epochs``."""
    order = np.random.default_rng(SPLIT_SEED).permutation(n_epochs)
    cut = int(round(TRAIN_FRACTION * n_epochs))
    return np.sort(order[:cut] if split == "train" else order[cut:])


def _find_file(name, folder, path):
    """``name`` in ``path`` (a file, its folder or the root holding ``folder``) or SIGEST_DATA."""
    roots = [Path(path).expanduser()] if path is not None else []
    if path is None and os.environ.get("SIGEST_DATA"):
        roots.append(Path(os.environ["SIGEST_DATA"]).expanduser())
    looked = []
    for root in roots:
        if root.is_file() and root.name == name:
            return root
        for cand in (root / name, root / folder / name):
            looked.append(str(cand))
            if cand.is_file():
                return cand
    where = "; ".join(looked) or "nowhere (no path given and $SIGEST_DATA is not set)"
    raise FileNotFoundError(f"noise data file {name!r} not found. Looked in: {where}. Pass "
                            f"path=... (or data_path on NoiseInjector) or set $SIGEST_DATA.")


def _datasets_loader(name):
    try:
        from . import datasets
    except ImportError:  # pragma: no cover - datasets always ships
        return None
    return getattr(datasets, name, None)


def _read_eog_test_set(path):
    # Private fallback while sigest.datasets.load_eegdenoisenet_eog_test is absent: the EOG
    # epochs are (noisy input - clean target) of the first SNR level.
    noisy = np.load(_find_file("EOG_data_input.npy", "eegdenoisenet-eog-test", path),
                    allow_pickle=False)
    clean = np.load(_find_file("EOG_data_output.npy", "eegdenoisenet-eog-test", path),
                    allow_pickle=False)
    return (noisy[0] - clean[0]), 256.0


def _read_wfdb(record, folder, path):
    import wfdb

    header = _find_file(record + ".hea", folder, path)
    rec = wfdb.rdrecord(str(header.with_suffix("")))
    return rec.p_signal.T, float(rec.fs)


class EOGTestSetNoise(RecordedNoise):
    """The 101 real EOG epochs of the EEGdenoiseNet test set (256 Hz, 2 s), split by epoch.

    Read with :func:`sigest.datasets.load_eegdenoisenet_eog_test` from ``path`` or
    ``$SIGEST_DATA``; when those files are absent the same 101 epochs shipped in
    :func:`sigest.datasets.load_sample` are used.
    """

    def __init__(self, path=None):
        self.path = path

    def _load(self, path):
        loader = _datasets_loader("load_eegdenoisenet_eog_test")
        try:
            if loader is None:
                eog, sfreq = _read_eog_test_set(path)
            else:
                bunch = loader(path=path)
                eog, sfreq = bunch.eog, bunch.sfreq
        except FileNotFoundError:
            sample = _datasets_loader("load_sample")
            if path is not None or sample is None:
                raise
            bunch = sample()
            eog, sfreq = bunch.eog, bunch.sfreq
        return np.asarray(eog, dtype=float), float(sfreq), "epochs", ["eegdenoisenet-eog-test"]


class EEGdenoiseNetNoise(RecordedNoise):
    """EEGdenoiseNet's full artifact pools: ``EOG_all_epochs.npy`` or ``EMG_all_epochs.npy``.

    These files are not shipped; point ``path`` (or ``NoiseInjector(data_path=...)``) at the
    file or its folder. Epochs are 2 s long, so the sampling rate is ``n_samples / 2``
    (256 Hz for the standard files, 512 Hz for ``EMG_all_epochs_512hz.npy``).

    Parameters
    ----------
    artifact : {"EOG", "EMG"}, default="EOG"
    path : str or Path, optional
    filename : str, optional
        Default ``"<artifact>_all_epochs.npy"``.
    """

    def __init__(self, artifact="EOG", path=None, filename=None):
        self.artifact = artifact
        self.path = path
        self.filename = filename

    def _load(self, path):
        if self.artifact not in ("EOG", "EMG"):
            raise ValueError(f"artifact must be 'EOG' or 'EMG'; got {self.artifact!r}")
        name = self.filename or f"{self.artifact}_all_epochs.npy"
        epochs = np.load(_find_file(name, "eegdenoisenet", path), allow_pickle=False)
        if epochs.ndim != 2:
            raise ValueError(f"{name} must be a 2-D array (n_epochs, n_samples); got shape "
                             f"{epochs.shape}")
        return epochs, epochs.shape[1] / 2.0, "epochs", [name]


class NSTDBNoise(RecordedNoise):
    """A noise record of the MIT-BIH Noise Stress Test Database: ``"ma"`` or ``"bw"``.

    Both channels (30 min each at 360 Hz) form the pool, split by time. Read with
    :func:`sigest.datasets.load_nstdb` from ``path`` or ``$SIGEST_DATA``; when no ``path`` is
    given and the files are absent, ``"ma"`` falls back (with a warning) to the 5 min shipped
    in :func:`sigest.datasets.load_sample`.

    Parameters
    ----------
    record : {"ma", "bw"}, default="ma"
        ``ma``: muscle artifact; ``bw``: baseline wander.
    path : str or Path, optional
    """

    def __init__(self, record="ma", path=None):
        self.record = record
        self.path = path

    def _load(self, path):
        if self.record not in ("ma", "bw"):
            raise ValueError(f"record must be 'ma' or 'bw'; got {self.record!r}")
        loader = _datasets_loader("load_nstdb")
        try:
            if loader is None:
                signal, sfreq = _read_wfdb(self.record, "nstdb", path)
            else:
                signal, sfreq = loader(self.record, path=path)
        except FileNotFoundError as exc:
            sample = _datasets_loader("load_sample")
            if path is not None or self.record != "ma" or sample is None:
                raise
            warnings.warn(f"{exc} Using the 5 min of NSTDB 'ma' shipped with sigest instead "
                          "(sigest.datasets.load_sample).", UserWarning, stacklevel=2)
            bunch = sample()
            signal, sfreq = bunch.ma[None], bunch.ma_sfreq
        signal = np.asarray(signal, dtype=float)
        names = [f"nstdb-{self.record}:{i}" for i in range(len(signal))]
        return list(signal), float(sfreq), "continuous", names


class EMGdbNoise(RecordedNoise):
    """Needle EMG of PhysioNet's emgdb (4 kHz), resampled and band-limited to ``sfreq``.

    Parameters
    ----------
    kind : {"all", "healthy", "myopathy", "neuropathy"}, default="all"
    path : str or Path, optional
    """

    KINDS = ("healthy", "myopathy", "neuropathy")

    def __init__(self, kind="all", path=None):
        self.kind = kind
        self.path = path

    def _load(self, path):
        kinds = self.KINDS if self.kind == "all" else (self.kind,)
        if any(k not in self.KINDS for k in kinds):
            raise ValueError(f"kind must be 'all' or one of {self.KINDS}; got {self.kind!r}")
        loader = _datasets_loader("load_emgdb")
        records, sfreq = [], 4000.0
        for kind in kinds:
            if loader is None:
                signal, sfreq = _read_wfdb(f"emg_{kind}", "emgdb", path)
            else:
                signal, sfreq = loader(kind, path=path)
            records.append(np.asarray(signal, dtype=float).reshape(-1))
        return records, float(sfreq), "continuous", [f"emgdb-{k}" for k in kinds]


def resolve_source(spec, path=None):
    """A new :class:`NoiseSource` from a registered name or a NoiseSource (cloned)."""
    if isinstance(spec, NoiseSource):
        return clone(spec)
    if not isinstance(spec, str):
        raise TypeError(f"a noise source must be a registered name or a NoiseSource; got "
                        f"{spec!r}")
    from .plugins import get_noise_source

    factory = get_noise_source(spec)
    if isinstance(factory, type) and issubclass(factory, NoiseSource):
        source = factory()
    elif _takes_no_arguments(factory):
        source = factory()
        if not isinstance(source, NoiseSource):
            raise TypeError(f"noise factory {spec!r} returned {source!r}, not a NoiseSource")
    else:
        source = FunctionNoise(factory)
    if path is not None and "path" in source.get_params() and source.get_params()["path"] is None:
        source.set_params(path=path)
    return source


def _takes_no_arguments(func):
    try:
        inspect.signature(func).bind()
    except TypeError:
        return False
    except ValueError:  # builtins without a signature
        return False
    return True


# ---------------------------------------------------------------------------- the injector
class NoiseInjector(TransformerMixin, BaseEstimator):
    """Add noise to clean epochs at a target SNR (EEGdenoiseNet's mixing rule).

    Estimators take a NoiseInjector as their ``noise`` parameter and call :meth:`inject` on
    every training batch; as a transformer, :meth:`transform` makes one noisy copy seeded by
    ``random_state``.

    Parameters
    ----------
    source : str, NoiseSource or tuple of them, default="white"
        A registered noise source (``sigest.list_noises()``), a :class:`NoiseSource` instance,
        or a tuple of them: a mixture, where each component is scaled to unit RMS per epoch and
        channel, weighted by ``weights`` and summed before the sum is scaled to the SNR (e.g.
        ``("nstdb-ma", "nstdb-bw", "powerline-60")`` for ECG).
    snr_db : float, list of float or (low, high) tuple, default=(-7.0, 2.0)
        A fixed SNR; a list of levels, one drawn at random per epoch; or a tuple ``(low,
        high)`` sampled uniformly per epoch (EEGdenoiseNet trains on ``(-7, 2)``).
    sfreq : float, optional
        Sampling rate of the signals in Hz. Needed by every source but white and pink noise;
        taken from an ``mne`` object given to :meth:`fit` when None.
    channels : "all", float, list of int, list of lists of int, or dict, default="all"
        Which channels are contaminated: all; a fraction of them (that many channels, at
        least one, drawn per epoch); a list of channel indices; or channel groups (a list of
        index lists, or a dict name -> index list), of which ``n_groups`` are drawn per epoch.
    n_groups : int, optional
        How many groups (or listed channels) to contaminate per epoch; None contaminates all
        of them. TS-STDN contaminates 6 of 10 electrode groups: ``channels=groups, n_groups=6``.
    split : {"train", "test"}, default="train"
        Which part of every recorded pool to draw from: continuous records by time (first
        80 % / last 20 %), epoch pools by a fixed seeded 80/20 partition of the epochs. Use
        ``"test"`` to make test data with noise never seen in training. Synthetic sources make
        new noise either way.
    weights : tuple of float, optional
        Relative RMS of the components of a mixture; equal by default.
    snr_definition : {"rms", "power"}, default="rms"
        ``"rms"``: EEGdenoiseNet's ``10 log10(RMS(x) / RMS(noise))``; ``"power"``:
        ``10 log10(P(x) / P(noise))``, the usual definition in ECG work (and in
        :func:`sigest.metrics.snr`).
    data_path : str or Path, optional
        Where recorded sources look for their files (default ``$SIGEST_DATA``).
    random_state : int, RandomState, numpy Generator or None, default=None
        Seeds :meth:`transform` the scikit-learn way: an int gives the same draw on every
        call; a ``RandomState`` instance is drawn from, so it advances (successive calls give
        new draws, and the caller's instance moves on, as in scikit-learn); None gives fresh
        noise on every call. A numpy ``Generator`` gives the draw of its seed sequence on
        every call, like an int (the Generator itself is not advanced). Estimators pass their
        own generator to :meth:`inject`.
    probability : float, default=1.0
        Chance that an epoch is contaminated, drawn independently per epoch; the others pass
        through clean. Below 1, an estimator trained with noise sees clean epochs as well
        (with 1 it never sees one, and a classifier can lose accuracy on clean data).

    Attributes
    ----------
    sources_ : list of NoiseSource
        The fitted sources, with their cached pools.
    n_channels_in_ : int or None
        Channels of the data seen at ``fit`` (None when fitted without data).
    sfreq_ : float or None
        The sampling rate the pools were prepared at.

    Notes
    -----
    Each contaminated channel gets its own independent noise segment; the SNR is drawn per
    epoch and reached on every contaminated channel. Epochs (or channels) that are all zero
    are left unchanged: no SNR can be defined for them.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.sin(np.linspace(0, 20, 512))[None].repeat(3, 0)
    >>> noisy = NoiseInjector(snr_db=0.0, random_state=0).fit_transform(X)
    >>> noisy.shape
    (3, 512)
    >>> ecg_noise = NoiseInjector(("nstdb-ma", "nstdb-bw", "powerline-60"), snr_db=[0, 6],
    ...                           sfreq=360.0)
    """

    def __init__(self, source="white", snr_db=(-7.0, 2.0), sfreq=None, channels="all",
                 n_groups=None, split="train", weights=None, snr_definition="rms",
                 data_path=None, random_state=None, probability=1.0):
        self.source = source
        self.snr_db = snr_db
        self.sfreq = sfreq
        self.channels = channels
        self.n_groups = n_groups
        self.split = split
        self.weights = weights
        self.snr_definition = snr_definition
        self.data_path = data_path
        self.random_state = random_state
        self.probability = probability

    # ------------------------------------------------------------------------------- fit
    def fit(self, X=None, y=None):
        """Prepare the noise pools at ``sfreq``; ``X`` (optional) is checked.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_times) or (n_epochs, n_channels, n_times), optional
            Clean epochs; only their shape is used (to check channel groups).
        y : ignored

        Returns
        -------
        self
        """
        sfreq = None if self.sfreq is None else check_sfreq(self.sfreq)
        if sfreq is None and X is not None:
            sfreq = mne_sfreq(X)  # an mne object, or the list scikit-learn's splits make
        if X is not None:
            X3, _ = check_signals(X, sfreq=sfreq, owner="NoiseInjector")
            self.n_channels_in_ = int(X3.shape[1])
            self.n_features_in_ = int(X3.shape[1] * X3.shape[2])
        else:
            self.n_channels_in_ = None
            self.__dict__.pop("n_features_in_", None)  # a previous fit's shape no longer holds
        if isinstance(self.probability, bool) or not isinstance(
                self.probability, numbers.Real) or not 0 <= self.probability <= 1:
            raise ValueError(f"probability must be a number in [0, 1]; got {self.probability!r}")
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}; got {self.split!r}")
        if self.snr_definition not in SNR_DEFINITIONS:
            raise ValueError(f"snr_definition must be one of {SNR_DEFINITIONS}; got "
                             f"{self.snr_definition!r}")
        self._snr_spec = _snr_spec(self.snr_db)
        specs = self.source if isinstance(self.source, tuple) else (self.source,)
        if not specs:
            raise ValueError("source must name at least one noise source; got ()")
        self.sources_ = [resolve_source(s, self.data_path).fit(sfreq, self.split) for s in specs]
        self.sfreq_ = sfreq
        self.weights_ = _check_weights(self.weights, len(specs))
        self._groups = _channel_groups(self.channels, self.n_channels_in_)
        if self.n_groups is not None:
            if self._groups is None or not isinstance(self.n_groups, numbers.Integral) or not (
                    1 <= self.n_groups <= len(self._groups)):
                limit = "a list of channels or groups" if self._groups is None else (
                    f"an int in [1, {len(self._groups)}]")
                raise ValueError(f"n_groups must be {limit} (channels={self.channels!r}); got "
                                 f"{self.n_groups!r}")
        return self

    # ---------------------------------------------------------------------------- inject
    def inject(self, X3, rng):
        """A noisy copy of ``X3`` of shape (n_epochs, n_channels, n_times).

        The hot path estimators call per training batch: vectorised, no validation beyond
        shapes. ``X3`` is not modified; the copy has ``X3``'s float dtype.

        Parameters
        ----------
        X3 : ndarray of shape (n_epochs, n_channels, n_times)
        rng : numpy.random.Generator

        Returns
        -------
        noisy : ndarray of X3's shape
        """
        if "sources_" not in self.__dict__:  # check_is_fitted is too slow for the hot path
            check_is_fitted(self, "sources_")
        X3 = np.asarray(X3)
        if X3.ndim != 3:
            raise ValueError(f"inject expects X3 of shape (n_epochs, n_channels, n_times); got "
                             f"shape {X3.shape}")
        n, c, t = X3.shape
        dtype = X3.dtype if X3.dtype in (np.float32, np.float64) else np.float64
        snr = _draw_snr(self._snr_spec, n, rng)
        mask = self._channel_mask(n, c, rng)
        if self.probability < 1:  # drawn only then: runs with probability=1 stay reproducible
            contaminated = rng.random(n) < self.probability
            mask = contaminated[:, None] & (np.ones((n, c), dtype=bool) if mask is None else mask)
        X = np.asarray(X3, dtype=np.float64)  # a view for float64 input: never written to
        if mask is None:  # every channel: no gather / scatter
            noise = self._sample(n * c, t, rng).reshape(n, c, t)
            noise *= _lam(_rms(X), _rms(noise), snr[:, None, None], self.snr_definition)
            noise += X
            return noise.astype(dtype, copy=False)
        out = np.array(X, dtype=np.float64, copy=True)
        epochs, chans = np.nonzero(mask)
        if len(epochs):
            clean = out[epochs, chans]
            noise = self._sample(len(epochs), t, rng)
            noise *= _lam(_rms(clean), _rms(noise), snr[epochs, None], self.snr_definition)
            out[epochs, chans] = clean + noise
        return out.astype(dtype, copy=False)

    def _sample(self, n_rows, n_times, rng):
        if len(self.sources_) == 1:
            source = self.sources_[0]
            noise = source.sample(n_rows, n_times, rng)
            # mixing works in place: copy what a third-party source may still hold
            return noise if source._fresh_output else np.array(noise, dtype=float, copy=True)
        total = np.zeros((n_rows, n_times))
        for source, weight in zip(self.sources_, self.weights_):
            part = source.sample(n_rows, n_times, rng)
            scale = _rms(part)
            total += weight * np.divide(part, scale, out=np.zeros_like(part), where=scale > 0)
        return total

    def _channel_mask(self, n, c, rng):
        groups, channels = self._groups, self.channels
        if groups is None:
            if isinstance(channels, str):  # "all"
                return None
            k = max(1, int(round(float(channels) * c)))
            if k >= c:
                return None
            chosen = np.argsort(rng.random((n, c)), axis=1)[:, :k]
            mask = np.zeros((n, c), dtype=bool)
            np.put_along_axis(mask, chosen, True, axis=1)
            return mask
        membership = np.zeros((len(groups), c), dtype=bool)
        for g, members in enumerate(groups):
            if max(members) >= c:
                raise ValueError(f"channel group {members} refers to channel {max(members)}, but "
                                 f"the data has {c} channels")
            membership[g, members] = True
        if self.n_groups is None or self.n_groups >= len(groups):
            every = membership.any(axis=0)
            return None if every.all() else np.broadcast_to(every, (n, c))
        chosen = np.argsort(rng.random((n, len(groups))), axis=1)[:, :self.n_groups]
        group_mask = np.zeros((n, len(groups)), dtype=bool)
        np.put_along_axis(group_mask, chosen, True, axis=1)
        return (group_mask.astype(np.int64) @ membership.astype(np.int64)) > 0

    # ------------------------------------------------------------------------- transform
    def transform(self, X):
        """A noisy copy of ``X``, drawn under ``random_state``.

        An int seed (or a numpy Generator) gives the same draw on every call; a
        ``RandomState`` instance is advanced by every call, so successive calls differ (as
        scikit-learn treats RandomState instances); None draws fresh noise each call.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_times) or (n_epochs, n_channels, n_times)
            Clean epochs, or an ``mne.Epochs`` (its sfreq must equal ``sfreq``).

        Returns
        -------
        X_noisy : ndarray of X's shape and float dtype
        """
        check_is_fitted(self, "sources_")
        X3, rank = check_signals(X, sfreq=self.sfreq_, owner="NoiseInjector")
        if getattr(self, "n_features_in_", None) is not None and (
                X3.shape[1] * X3.shape[2] != self.n_features_in_):
            raise ValueError(f"X has {X3.shape[1] * X3.shape[2]} features, but NoiseInjector "
                             f"is expecting {self.n_features_in_} features as input.")
        return restore_rank(self.inject(X3, _generator(self.random_state)), rank)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.requires_fit = True
        tags.non_deterministic = self.random_state is None or isinstance(
            self.random_state, np.random.RandomState)
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _generator(random_state):
    """A fresh numpy Generator from an int, a RandomState, a Generator or None.

    An int or a Generator (through its seed sequence) gives the same stream every time and
    leaves the Generator untouched; a RandomState instance is consumed (one draw seeds the
    stream, so every call differs and the caller's instance advances, as in scikit-learn);
    None gives fresh entropy.
    """
    if isinstance(random_state, np.random.Generator):
        return np.random.default_rng(random_state.bit_generator.seed_seq)
    if random_state is None or isinstance(random_state, (numbers.Integral, np.integer)):
        return np.random.default_rng(random_state)
    return np.random.default_rng(check_random_state(random_state).randint(2**31 - 1))


def _snr_spec(snr_db):
    """Validate ``snr_db``: ("uniform", low, high), ("levels", array) or ("fixed", value)."""
    if isinstance(snr_db, tuple):
        if len(snr_db) != 2:
            raise ValueError(f"snr_db as a tuple must be (low, high); got {snr_db!r}")
        low, high = (float(v) for v in snr_db)
        if not (np.isfinite(low) and np.isfinite(high)) or low > high:
            raise ValueError(f"snr_db=(low, high) needs finite low <= high; got {snr_db!r}")
        return ("uniform", low, high)
    if isinstance(snr_db, (list, np.ndarray)):
        levels = np.asarray(snr_db, dtype=float).ravel()
        if not len(levels) or not np.all(np.isfinite(levels)):
            raise ValueError(f"snr_db as a list needs finite levels; got {snr_db!r}")
        return ("levels", levels)
    if isinstance(snr_db, numbers.Real) and not isinstance(snr_db, bool) and np.isfinite(snr_db):
        return ("fixed", float(snr_db))
    raise ValueError(f"snr_db must be a number, a list of levels or a (low, high) tuple; got "
                     f"{snr_db!r}")


def _draw_snr(spec, n, rng):
    if spec[0] == "uniform":
        return rng.uniform(spec[1], spec[2], size=n)
    if spec[0] == "levels":
        return spec[1][rng.integers(0, len(spec[1]), size=n)]
    return np.full(n, spec[1])


def _check_weights(weights, n_sources):
    if weights is None:
        return np.ones(n_sources)
    weights = np.asarray(weights, dtype=float).ravel()
    if len(weights) != n_sources or np.any(weights < 0) or not np.any(weights > 0):
        raise ValueError(f"weights must be {n_sources} non-negative numbers (one per source), "
                         f"not all zero; got {weights.tolist()}")
    return weights


def _channel_groups(channels, n_channels):
    """None for "all" or a fraction; else a list of channel-index lists (one per group)."""
    if isinstance(channels, str):
        if channels != "all":
            raise ValueError(f"channels must be 'all', a fraction, channel indices or groups; "
                             f"got {channels!r}")
        return None
    if isinstance(channels, numbers.Real) and not isinstance(channels, bool):
        if not 0 < channels <= 1:
            raise ValueError(f"channels as a fraction must be in (0, 1]; got {channels!r}")
        return None
    values = list(channels.values()) if isinstance(channels, dict) else list(channels)
    if not values:
        raise ValueError("channels must not be empty")
    groups = []
    for item in values:
        members = [item] if isinstance(item, numbers.Integral) else list(item)
        if not members or not all(isinstance(m, numbers.Integral) and m >= 0 for m in members):
            raise ValueError(f"channels: every group must be non-negative channel indices; got "
                             f"{item!r}")
        if n_channels is not None and max(members) >= n_channels:
            raise ValueError(f"channel group {members} refers to channel {max(members)}, but "
                             f"the data has {n_channels} channels")
        groups.append([int(m) for m in members])
    return groups


def make_noise(spec, sfreq=None):
    """A new, unfitted NoiseInjector from a source name, a tuple of names or a NoiseInjector.

    A NoiseInjector is cloned; its ``sfreq`` is set to ``sfreq`` when it has none, and a
    different ``sfreq`` is an error (sigest never resamples silently).

    Examples
    --------
    >>> make_noise("pink", sfreq=256.0).sfreq
    256.0
    """
    if isinstance(spec, (str, NoiseSource)) or (
            isinstance(spec, tuple) and all(isinstance(s, (str, NoiseSource)) for s in spec)):
        return NoiseInjector(source=spec, sfreq=sfreq)
    if isinstance(spec, NoiseInjector):
        noise = clone(spec)
        if noise.sfreq is None and sfreq is not None:
            noise.set_params(sfreq=sfreq)
        elif noise.sfreq is not None and sfreq is not None and not np.isclose(
                float(noise.sfreq), float(sfreq)):
            raise ValueError(f"the NoiseInjector has sfreq={noise.sfreq:g} Hz but the data have "
                             f"sfreq={float(sfreq):g} Hz; make them agree")
        return noise
    raise TypeError(f"noise must be a registered noise name, a tuple of them or a "
                    f"NoiseInjector; got {spec!r}")


def held_out_noise(noise):
    """An unfitted copy of the NoiseInjector ``noise`` that draws from the held-out (test) part
    of its recorded sources: the noise to score a denoiser with."""
    return clone(noise).set_params(split="test")


def white_noise(n_epochs, n_channels, n_times, sfreq, rng):
    """Gaussian white noise of shape (n_epochs, n_channels, n_times)."""
    return rng.standard_normal((n_epochs, n_channels, n_times))


@hookimpl
def sigest_register_noises(register):
    register("white", WhiteNoise, description="Gaussian white noise")
    register("pink", PinkNoise, description="Pink (1/f) Gaussian noise")
    register("powerline", PowerlineNoise,
             description="Powerline interference, 50 Hz + harmonics below Nyquist")
    register("powerline-60", functools.partial(PowerlineNoise, line_freq=60.0),
             description="Powerline interference, 60 Hz + harmonics below Nyquist")
    register("baseline-wander", BaselineWanderNoise,
             description="Synthetic baseline wander (slow sinusoids, 0.05-0.5 Hz)")
    register("eog", EOGTestSetNoise,
             description="Real EOG: the 101 epochs of the EEGdenoiseNet test set (256 Hz)")
    register("eegdenoisenet-eog", functools.partial(EEGdenoiseNetNoise, artifact="EOG"),
             description="EEGdenoiseNet EOG_all_epochs.npy (3400 epochs; user-provided file)")
    register("eegdenoisenet-emg", functools.partial(EEGdenoiseNetNoise, artifact="EMG"),
             description="EEGdenoiseNet EMG_all_epochs.npy (5598 epochs; user-provided file)")
    register("nstdb-ma", functools.partial(NSTDBNoise, record="ma"),
             description="MIT-BIH NSTDB muscle artifact record 'ma' (360 Hz)")
    register("nstdb-bw", functools.partial(NSTDBNoise, record="bw"),
             description="MIT-BIH NSTDB baseline wander record 'bw' (360 Hz)")
    register("emgdb", EMGdbNoise,
             description="PhysioNet emgdb needle EMG (4 kHz), resampled and band-limited")


__all__ = [
    "BaselineWanderNoise", "EEGdenoiseNetNoise", "EMGdbNoise", "EOGTestSetNoise", "FunctionNoise",
    "NSTDBNoise", "NoiseInjector", "NoiseSource", "PinkNoise", "PowerlineNoise", "RecordedNoise",
    "WhiteNoise", "epoch_split", "held_out_noise", "make_noise", "mix_at_snr", "rms", "time_split",
    "white_noise",
]
