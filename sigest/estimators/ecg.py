"""ECG denoisers (CDAE-BAM) and the record-wise helpers their benchmark needs."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.model_selection import GroupShuffleSplit
from sklearn.utils.validation import column_or_1d

from ..base import SignalDenoiser
from ..models.cdae_bam import CDAEBAM
from ..noise import NoiseSource, resolve_source

#: The seed's training noise: NSTDB muscle artifact and baseline wander (train part) and
#: synthetic powerline. NSTDB's electrode-motion record ``em`` is not available offline.
ECG_NOISE_MIXTURE = ("nstdb-ma", "nstdb-bw", "powerline-60")
NOISE_MIXINGS = ("equal", "random")


class RandomMixtureNoise(NoiseSource):
    """A mixture whose proportions change from window to window.

    Each component is scaled to unit RMS per row and weighted by Dirichlet-distributed weights
    drawn per row, so some windows are mostly one noise and others an even blend; a denoiser
    trained on it meets each noise alone as well as mixed.

    Parameters
    ----------
    sources : tuple of str or NoiseSource, default=("nstdb-ma", "nstdb-bw", "powerline-60")
    concentration : float, default=1.0
        Dirichlet concentration: 1 is uniform over the proportions, large values approach the
        equal mixture, small ones single sources.

    Examples
    --------
    >>> import numpy as np
    >>> source = RandomMixtureNoise(("white", "pink")).fit(256.0)
    >>> source.sample(4, 100, np.random.default_rng(0)).shape
    (4, 100)
    """

    needs_sfreq = True

    def __init__(self, sources=ECG_NOISE_MIXTURE, concentration=1.0):
        self.sources = sources
        self.concentration = concentration

    def fit(self, sfreq=None, split="train"):
        super().fit(sfreq, split)
        self.sources_ = [resolve_source(s).fit(sfreq, split) for s in self.sources]
        return self

    def sample(self, n_rows, n_times, rng):
        weights = rng.dirichlet(np.full(len(self.sources_), float(self.concentration)), n_rows)
        total = np.zeros((n_rows, n_times))
        for i, source in enumerate(self.sources_):
            part = np.asarray(source.sample(n_rows, n_times, rng), dtype=float)
            scale = np.sqrt(np.mean(part**2, axis=-1, keepdims=True))
            total += weights[:, i:i + 1] * np.divide(part, scale, out=np.zeros_like(part),
                                                     where=scale > 0)
        return total


class CDAEBAMDenoiser(SignalDenoiser):
    """Convolutional denoising autoencoder with batch attention (CDAE-BAM) for ECG.

    A 1-D convolutional encoder/decoder with skip connections whose feature maps are
    re-weighted by channel attention (global average pooling -> dense -> sigmoid), trained with
    the seed's recipe: MSE, Adam, 50 epochs on 256-sample windows of 360 Hz ECG, with noisy
    copies of clean windows drawn anew every epoch from recorded NSTDB muscle artifact and
    baseline wander plus synthetic powerline.

    The seed also standardises every record (z-score over the whole recording) before cutting
    windows. That needs to know which windows belong to which record, which ``transform`` never
    sees, so it is a preprocessing step of the data (:func:`standardize_records`), not a
    parameter; inside the estimator each window is scaled by its noisy input's standard
    deviation (``epoch_scaling="std"``), so the network is unit-free either way.

    Parameters
    ----------
    module : type of torch.nn.Module, default=CDAEBAM
        The network; its parameters are reached as ``module__n_filters`` (16, 32, 32, 32; the
        number of levels is the depth), ``module__kernel_size`` (9), ``module__reduction`` (4),
        ``module__attention`` ("channel"; "block" is the paper's block attention module) and
        ``module__residual`` (True: the network estimates the noise and subtracts it, so the
        estimator's own ``residual`` option needs ``module__residual=False``).
    lr : float, default=1e-3
        Adam's learning rate.
    batch_size : int, default=64
    max_epochs : int, default=50
    noise : str, tuple of str, NoiseInjector or None, default=("nstdb-ma", "nstdb-bw", \
"powerline-60")
        Noise for training on clean windows: a registered noise name, a tuple (or list) of names
        (their equal-RMS mixture), or a :class:`sigest.noise.NoiseInjector` used as given.
        Names become ``NoiseInjector(source=noise, snr_db=noise_snr_db, sfreq=sfreq, split="train",
        snr_definition="power")``: the recorded noises are drawn from their training part only
        (the first 80 % of each NSTDB record), and the SNR is the power ratio, as in ECG work.
        MIT-BIH was recorded in the USA, hence 60 Hz mains.
    noise_snr_db : float, list or (low, high) tuple, default=(-6.0, 18.0)
        Power SNR in dB of the training mixtures when ``noise`` is given by name: a range drawn
        uniformly per window (``NoiseInjector.snr_db``).
    noise_mixing : {"equal", "random"}, default="equal"
        How a tuple of noise names is mixed: "equal" sums the components at equal RMS (the
        seed's fixed mixture); "random" draws the proportions per window
        (:class:`RandomMixtureNoise`), so the network also learns each noise on its own.
    sfreq : float, default=360.0
        Sampling rate (MIT-BIH's).
    **kwargs
        Other parameters of :class:`sigest.base.SignalDenoiser` and skorch (``optimizer``,
        ``train_split``, ``callbacks``, ``epoch_scaling``, ``random_state``, ``verbose``, ...).

    Examples
    --------
    >>> import numpy as np
    >>> from sigest.estimators.ecg import CDAEBAMDenoiser
    >>> t = np.arange(256) / 360.0
    >>> clean = np.sin(2 * np.pi * 1.2 * t)[None].repeat(32, 0)
    >>> noisy = clean + 0.3 * np.random.default_rng(0).standard_normal(clean.shape)
    >>> den = CDAEBAMDenoiser(max_epochs=2, random_state=0).fit(noisy, clean)
    >>> den.transform(noisy).shape
    (32, 256)
    """

    def __init__(self, module=CDAEBAM, *, lr=1e-3, batch_size=64, optimizer=torch.optim.Adam,
                 max_epochs=50, noise=ECG_NOISE_MIXTURE, noise_snr_db=(-6.0, 18.0),
                 noise_mixing="equal", sfreq=360.0, **kwargs):
        super().__init__(module, lr=lr, batch_size=batch_size, optimizer=optimizer,
                         max_epochs=max_epochs, noise=noise, sfreq=sfreq, **kwargs)
        self.noise_snr_db = noise_snr_db
        self.noise_mixing = noise_mixing

    def _fitted_noise(self, X3):
        if self.noise_mixing not in NOISE_MIXINGS:
            raise ValueError(f"noise_mixing must be one of {NOISE_MIXINGS}; got "
                             f"{self.noise_mixing!r}")
        if isinstance(self.noise, (str, tuple, list)):
            from ..noise import NoiseInjector

            source = tuple(self.noise) if isinstance(self.noise, list) else self.noise
            if isinstance(source, tuple) and len(source) > 1 and self.noise_mixing == "random":
                source = RandomMixtureNoise(sources=source)
            noise = NoiseInjector(source=source, snr_db=self.noise_snr_db,
                                  sfreq=self._sfreq_for_check(), split="train",
                                  snr_definition="power")
            return noise.fit(X3)
        return super()._fitted_noise(X3)

    def initialize_module(self):
        if self.residual is not False and self.get_params_for("module").get("residual", True):
            raise ValueError(
                f"CDAEBAMDenoiser(residual={self.residual!r}): the CDAE-BAM network already "
                "subtracts its output from the input (module__residual=True, the paper's design), "
                "so the estimator's residual would undo it; pass module__residual=False with it, "
                "or leave residual=False"
            )
        return super().initialize_module()


def standardize_records(X, groups):
    """Z-score each record: subtract its mean and divide by its standard deviation.

    The seed's per-record standardisation, done before noise is added so that SNRs stay those
    of the recorded signal.

    Parameters
    ----------
    X : ndarray of shape (n_windows, ...)
        Windows of one or more records.
    groups : array-like of shape (n_windows,)
        The record of each window.

    Returns
    -------
    X_std : ndarray of X's shape
    stats : dict
        ``{record: (mean, std)}`` used, to restore units.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 3.0], [5.0, 7.0], [10.0, 30.0]])
    >>> Xs, stats = standardize_records(X, ["a", "a", "b"])
    >>> bool(np.allclose(Xs[:2].mean(), 0)), bool(np.allclose(Xs[2].std(), 1))
    (True, True)
    """
    X = np.asarray(X, dtype=float)
    groups = column_or_1d(groups)
    if len(groups) != len(X):
        raise ValueError(f"groups must have one entry per window: expected {len(X)}, got "
                         f"{len(groups)}")
    out = np.empty_like(X)
    stats = {}
    for record in np.unique(groups):
        rows = groups == record
        mean, std = X[rows].mean(), X[rows].std()
        std = std if std > 0 else 1.0
        out[rows] = (X[rows] - mean) / std
        stats[record.item() if hasattr(record, "item") else record] = (float(mean), float(std))
    return out, stats


def record_split(groups, *, n_test=None, test_size=0.25, random_state=None):
    """Split windows by record: every record's windows go wholly to train or wholly to test.

    Parameters
    ----------
    groups : array-like of shape (n_windows,)
        The record (or subject) of each window.
    n_test : int, optional
        How many records to test on; overrides ``test_size``.
    test_size : float, default=0.25
        Fraction of the records to test on (at least one), when ``n_test`` is None.
    random_state : int, RandomState or None, default=None

    Returns
    -------
    train_index, test_index : ndarrays of int
        Indices of the windows, sorted.

    Examples
    --------
    >>> train, test = record_split(["100", "100", "101", "102"], n_test=1, random_state=0)
    >>> len(train) + len(test)
    4
    """
    groups = column_or_1d(groups)
    n_records = len(np.unique(groups))
    if n_records < 2:
        raise ValueError(f"a record-wise split needs at least 2 records; got {n_records}")
    if n_test is None:
        if not 0 < test_size < 1:
            raise ValueError(f"test_size must be in (0, 1); got {test_size!r}")
        n_test = min(max(1, int(round(test_size * n_records))), n_records - 1)
    if not 0 < n_test < n_records:
        raise ValueError(f"n_test must be in [1, {n_records - 1}] for {n_records} records; "
                         f"got {n_test}")
    splitter = GroupShuffleSplit(n_splits=1, test_size=int(n_test), random_state=random_state)
    train, test = next(splitter.split(np.zeros(len(groups)), groups=groups))
    return np.sort(train), np.sort(test)


def register_estimators(register):
    register("cdae-bam", CDAEBAMDenoiser, task="denoising",
             description="Convolutional denoising autoencoder with batch attention (ECG, 360 Hz)",
             check_params={"max_epochs": 2, "batch_size": 16, "verbose": 0, "noise": "white"})
