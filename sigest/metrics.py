"""Signal-quality metrics (EEGdenoiseNet's RRMSE and CC, SNR, PRD, ...) and their scorers.

Every metric takes ``(y_true, y_pred)`` of one shape: ``(n_epochs, n_times)``,
``(n_epochs, n_channels, n_times)`` or a single ``(n_times,)`` signal. It is computed along the
time axis for every epoch and channel, then averaged. Undefined cases follow the mathematics:
a reference that is all zero gives an infinite relative error (0 when the prediction is zero
too), a constant signal an undefined (NaN) correlation. :func:`rrmse_spectral` compares
Welch spectra of the mean-removed segments, so for it "all zero" means "constant in every
Welch segment": a constant reference gives inf unless the prediction is constant too (0, even
when the two constants differ); see its docstring. :func:`snr_improvement` averages over the
epochs and channels that carry noise only.

Scorers (``get_scorer(name)``, :data:`SCORERS`) plug into ``GridSearchCV(scoring=...)`` and
``cross_validate``; for denoisers they score the denoised output of the (noisy, clean) pairs
given by ``estimator.noisy_pairs(X, y)``, so both ``fit(X_noisy, X_clean)`` and
``fit(X_clean)`` searches work. Metrics taking ``sfreq`` (:func:`rrmse_spectral`) get the
estimator's sampling rate (the fitted ``sfreq_``, else ``sfreq``) when it has one.
"""

from __future__ import annotations

import functools
import inspect
import warnings

import numpy as np
from scipy.signal import welch
from sklearn.metrics import balanced_accuracy_score, cohen_kappa_score, f1_score, make_scorer
from sklearn.metrics import get_scorer as _sklearn_get_scorer

from .validation import model_sfreq_of

__all__ = [
    "CLASSIFICATION_SCORERS", "DENOISING_SCORERS", "SCORERS", "balanced_accuracy_score",
    "cohen_kappa_score", "correlation_coefficient", "get_scorer", "macro_f1", "prd",
    "rmse", "rrmse_spectral", "rrmse_temporal", "snr", "snr_improvement",
]


def _rows(*arrays, names=("y_true", "y_pred", "x_noisy")):
    """The arrays as float (rows, n_times) after checking they share one shape."""
    arrays = [np.asarray(a, dtype=float) for a in arrays]
    shape = arrays[0].shape
    for name, a in zip(names[1:], arrays[1:]):
        if a.shape != shape:
            raise ValueError(f"{names[0]} and {name} must have one shape; got {shape} and "
                             f"{a.shape}")
    if arrays[0].ndim not in (1, 2, 3) or arrays[0].size == 0:
        raise ValueError(f"expected signals of shape (n_times,), (n_epochs, n_times) or "
                         f"(n_epochs, n_channels, n_times) with at least one sample; got {shape}")
    for name, a in zip(names, arrays):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or infinity")
    return [a.reshape(-1, shape[-1]) for a in arrays]


def _ratio(num, den):
    """num / den with 0 / 0 = 0 and x / 0 = inf."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.where(num > 0, np.inf, 0.0))


def _rms(x):
    return np.sqrt(np.mean(np.square(x), axis=-1))


def _flat(rows):
    """Rows that are exactly constant: their mean-removed values are rounding noise (a constant
    0.1 minus its computed mean is ~1e-17, not 0), so they must be found before centring."""
    return np.ptp(rows, axis=-1) == 0


def rrmse_temporal(y_true, y_pred):
    """Relative RMSE in time, EEGdenoiseNet's RRMSE_t: mean of RMS(y_pred - y_true) / RMS(y_true).

    Parameters
    ----------
    y_true : array-like of shape (n_epochs, n_times) or (n_epochs, n_channels, n_times)
        Clean reference.
    y_pred : array-like of y_true's shape
        Denoised signal.

    Returns
    -------
    float
        0 for a perfect prediction; inf where the reference is all zero and the prediction not.

    Examples
    --------
    >>> rrmse_temporal([[1.0, -1.0]], [[0.5, -0.5]])
    0.5
    """
    t, p = _rows(y_true, y_pred)
    return float(np.mean(_ratio(_rms(p - t), _rms(t))))


def _psd(rows, sfreq, nperseg, method):
    fs = 1.0 if sfreq is None else float(sfreq)
    if method == "periodogram":
        return np.abs(np.fft.rfft(rows, axis=-1)) ** 2 / (fs * rows.shape[-1])
    if method != "welch":
        raise ValueError(f"method must be 'welch' or 'periodogram'; got {method!r}")
    if nperseg is None:
        nperseg = 256 if sfreq is None else int(round(fs))  # 1-s windows
    nperseg = int(min(nperseg, rows.shape[-1]))
    psd = welch(rows, fs=fs, nperseg=nperseg, axis=-1)[1]
    psd[_welch_flat(rows, nperseg)] = 0.0
    return psd


def _welch_flat(rows, nperseg):
    """Rows constant within every Welch segment (scipy's default overlap of ``nperseg // 2``):
    their detrended PSD is exactly zero, but computes to rounding noise."""
    step = nperseg - nperseg // 2
    segments = np.lib.stride_tricks.sliding_window_view(rows, nperseg, axis=-1)[:, ::step]
    return np.all(np.ptp(segments, axis=-1) == 0, axis=-1)


def rrmse_spectral(y_true, y_pred, sfreq=None, nperseg=None, method="welch"):
    """Relative RMSE of the power spectral density, EEGdenoiseNet's RRMSE_s.

    ``RMS(PSD(y_pred) - PSD(y_true)) / RMS(PSD(y_true))`` per epoch and channel (RMS over the
    frequency bins), averaged. By default the PSD is Welch's, exactly
    ``scipy.signal.welch(x, fs=sfreq, nperseg=nperseg)`` with scipy's other defaults: Hann
    windows of ``nperseg`` samples, 50 % overlap, trailing samples that do not fill a window
    dropped, and ``detrend="constant"``: **the mean of every segment is removed before its
    periodogram**, then the periodograms are averaged. RRMSE_s therefore measures the error of
    the spectral *shape* above DC and is blind to a constant offset (and to any part of the
    signal that is constant within every segment): ``rrmse_spectral(x, x + 5)`` is 0, where
    :func:`rrmse_temporal` sees the offset. The ratio does not depend on ``sfreq`` itself, only
    on the window length it implies.

    Edge cases (Welch): the reference's PSD is zero exactly when it is constant within every
    segment (e.g. all zero, or constant); the result is then inf, or 0 when the prediction's
    PSD is zero too (``rrmse_spectral(zeros, ones)`` is 0). With ``method="periodogram"``
    nothing is removed: an all-zero reference gives inf unless the prediction is all zero
    too, and an offset counts.

    Parameters
    ----------
    y_true, y_pred : array-like of one shape
    sfreq : float, optional
        Sampling rate; it sets the default window to 1 s (``nperseg = round(sfreq)``). The
        ``"neg_rrmse_spectral"`` scorer passes the estimator's ``sfreq`` / ``sfreq_``.
    nperseg : int, optional
        Welch window length in samples; default 1 s at ``sfreq``, else 256 (1 s at
        EEGdenoiseNet's 256 Hz), capped at the epoch length.
    method : {"welch", "periodogram"}, default="welch"
        ``"periodogram"``: one raw periodogram (``|rfft|^2``) over the whole epoch, no window
        and no detrending.

    Returns
    -------
    float

    Examples
    --------
    >>> x = np.sin(np.linspace(0, 40 * np.pi, 512))[None]
    >>> round(rrmse_spectral(x, 2 * x, sfreq=256), 6)  # the PSD scales by 4: error 3 x PSD
    3.0
    >>> rrmse_spectral(x, x + 5.0, sfreq=256) < 1e-12  # segment means are removed
    True
    """
    t, p = _rows(y_true, y_pred)
    pt, pp = _psd(t, sfreq, nperseg, method), _psd(p, sfreq, nperseg, method)
    return float(np.mean(_ratio(_rms(pp - pt), _rms(pt))))


def correlation_coefficient(y_true, y_pred):
    """Mean Pearson correlation of ``y_pred`` with ``y_true`` (EEGdenoiseNet's CC).

    Returns NaN when an epoch is constant in either signal (the correlation is undefined).

    Examples
    --------
    >>> correlation_coefficient([[1.0, 2.0, 3.0]], [[2.0, 4.0, 6.5]])  # doctest: +ELLIPSIS
    0.99...
    """
    t, p = _rows(y_true, y_pred)
    defined = ~(_flat(t) | _flat(p))
    t = t - t.mean(axis=-1, keepdims=True)
    p = p - p.mean(axis=-1, keepdims=True)
    den = np.sqrt(np.sum(t**2, axis=-1) * np.sum(p**2, axis=-1))
    defined &= den > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        cc = np.where(defined, np.sum(t * p, axis=-1) / np.where(defined, den, 1.0), np.nan)
    return float(np.mean(np.clip(cc, -1.0, 1.0)))


def _snr_rows(t, p):
    signal, error = np.sum(t**2, axis=-1), np.sum((t - p) ** 2, axis=-1)
    ratio = _ratio(signal, error)  # error 0: inf (0/0 = 0 is wrong here: handled below)
    with np.errstate(divide="ignore"):
        out = 10 * np.log10(ratio)
    return np.where((signal == 0) & (error == 0), np.nan, out)


def snr(y_true, y_pred):
    """Mean SNR in dB of ``y_pred`` against the reference: ``10 log10(sum y_true^2 / sum err^2)``.

    The power definition used in ECG denoising (CDAE-BAM, DeepFilter). EEGdenoiseNet's mixing
    SNR is ``10 log10`` of the RMS ratio: half of this number in dB (see
    :func:`sigest.noise.mix_at_snr`). +inf for a perfect prediction, -inf for an all-zero
    reference, NaN when both are zero.

    Examples
    --------
    >>> round(snr([[1.0, -1.0]], [[1.1, -0.9]]), 6)
    20.0
    """
    t, p = _rows(y_true, y_pred)
    return float(np.mean(_snr_rows(t, p)))


def snr_improvement(y_true, y_pred, x_noisy):
    """Mean SNR gain in dB: ``snr(y_true, y_pred) - snr(y_true, x_noisy)`` per epoch, averaged.

    Only epochs (and channels) that carry noise count: rows where ``x_noisy`` differs from
    ``y_true`` (noise energy ``sum (x_noisy - y_true)^2 > 0``). A row left clean (e.g. by
    ``NoiseInjector(probability=0.5)`` or ``channels=0.5``) has an infinite input SNR and no
    defined gain (-inf, or NaN when the output equals the input), so it is left out of the
    mean. When every row is contaminated this is the plain mean over all rows.

    Returns
    -------
    float
        NaN, with a :class:`RuntimeWarning`, when no row carries noise (``x_noisy`` equals
        ``y_true``): the gain is undefined. NaN rather than an error, so that a
        ``GridSearchCV`` fold scores NaN (ranked last, with scikit-learn's warning) instead of
        stopping the search. +inf where the output is perfect on a noisy row.

    Examples
    --------
    >>> round(snr_improvement([[1.0, -1.0]], [[1.1, -0.9]], [[2.0, 0.0]]), 6)
    20.0
    >>> # the second epoch had no noise: only the first counts
    >>> round(snr_improvement([[1.0, -1.0], [1.0, 1.0]], [[1.1, -0.9], [1.0, 1.0]],
    ...                       [[2.0, 0.0], [1.0, 1.0]]), 6)
    20.0
    """
    t, p, x = _rows(y_true, y_pred, x_noisy)
    noisy = np.sum((x - t) ** 2, axis=-1) > 0
    if not noisy.any():
        warnings.warn("snr_improvement: x_noisy equals y_true in every epoch and channel (no "
                      "noise was added), so the SNR gain is undefined; returning nan",
                      RuntimeWarning, stacklevel=2)
        return float("nan")
    if not noisy.all():
        t, p, x = t[noisy], p[noisy], x[noisy]
    with np.errstate(invalid="ignore"):
        return float(np.mean(_snr_rows(t, p) - _snr_rows(t, x)))


def prd(y_true, y_pred, *, remove_mean=False):
    """Mean percentage root-mean-square difference (PRD) per epoch and channel, in %.

    Default: ``100 * sqrt(sum_t (y_pred - y_true)^2 / sum_t y_true^2)`` for every epoch and
    channel, then the mean over them (``100 * rrmse_temporal(y_true, y_pred)``). The
    reference is **not** mean-removed, so the value depends on the reference's baseline: a DC
    offset in ``y_true`` (e.g. ECG in mV on a baseline) enlarges the denominator and lowers
    the PRD. Papers use different variants, so compare only with numbers computed the same
    way. DeepFilter (``fperdigon/DeepFilter``, ``utils/metrics.py``) uses
    ``100 * sqrt(sum (y_pred - y)^2 / sum (y_pred - mean(y))^2)``, with the prediction in the
    denominator and ``mean(y)`` taken over the whole test array, not per epoch; ECG
    compression work often uses the mean-removed PRD ("PRDN", ``remove_mean=True``).

    Parameters
    ----------
    y_true, y_pred : array-like of one shape
    remove_mean : bool, default=False
        True: ``100 * sqrt(sum_t (y_pred - y_true)^2 / sum_t (y_true - mean_t(y_true))^2)``,
        the reference mean removed per epoch and channel (PRDN), insensitive to the
        reference's offset; inf for a constant reference unless the prediction equals it.

    Examples
    --------
    >>> prd([[3.0, 4.0]], [[3.0, 3.0]])
    20.0
    >>> prd([[3.0, 4.0]], [[3.0, 3.0]], remove_mean=True)  # sum (y - 3.5)^2 = 0.5
    141.4213562373095
    """
    t, p = _rows(y_true, y_pred)
    ref = t
    if remove_mean:
        ref = np.where(_flat(t)[:, None], 0.0, t - t.mean(axis=-1, keepdims=True))
    return float(np.mean(100.0 * _ratio(_rms(p - t), _rms(ref))))


def rmse(y_true, y_pred):
    """Mean over epochs (and channels) of the root mean square error.

    Examples
    --------
    >>> rmse([[0.0, 0.0], [1.0, 1.0]], [[3.0, 4.0], [1.0, 1.0]])  # (sqrt(12.5) + 0) / 2
    1.7677669529663689
    """
    t, p = _rows(y_true, y_pred)
    return float(np.mean(_rms(p - t)))


def macro_f1(y_true, y_pred, **kwargs):
    """Macro-averaged F1 score (:func:`sklearn.metrics.f1_score` with ``average="macro"``)."""
    return f1_score(y_true, y_pred, average="macro", **kwargs)


# ------------------------------------------------------------------------------ scorers
def _estimator_sfreq(estimator):
    """The sampling rate a fitted estimator works at, or None; for a
    :class:`~sklearn.pipeline.Pipeline`, that of its last step when it has none itself."""
    sfreq = model_sfreq_of(estimator)
    steps = getattr(estimator, "steps", None)
    if sfreq is None and isinstance(steps, list) and steps and isinstance(steps[-1], tuple):
        sfreq = model_sfreq_of(steps[-1][-1])
    return sfreq


def _takes_sfreq(metric):
    """Whether ``metric`` accepts an ``sfreq`` keyword that is not already bound."""
    if isinstance(metric, functools.partial) and "sfreq" in metric.keywords:
        return False
    try:
        return "sfreq" in inspect.signature(metric).parameters
    except (TypeError, ValueError):
        return False


class DenoisingScorer:
    """Score a denoiser's output with a signal metric: ``scorer(estimator, X, y=None)``.

    The (noisy, clean) pairs come from ``estimator.noisy_pairs(X, y)`` when the estimator has
    it (sigest's denoisers: ``y`` clean targets, or clean ``X`` mixed at a fixed seed with the
    training noise's kind, drawn from the held-out part of recorded sources); otherwise ``y``
    must be the clean targets of noisy ``X``.

    A metric with an ``sfreq`` parameter (:func:`rrmse_spectral`) gets the estimator's
    sampling rate: its fitted ``sfreq_``, else its ``sfreq`` parameter (the last step's for a
    pipeline). An estimator without one (``sfreq=None`` on arrays) leaves the metric's default
    (for :func:`rrmse_spectral`, 256-sample Welch windows, i.e. 1 s at 256 Hz).

    Parameters
    ----------
    metric : callable
        ``metric(clean, denoised)``, or ``metric(clean, denoised, noisy)`` when ``needs_noisy``.
    sign : {1, -1}
        -1 for errors, so that greater is better as scikit-learn requires.
    needs_noisy : bool
    name : str
    """

    def __init__(self, metric, sign=1, needs_noisy=False, name=None):
        self.metric = metric
        self.sign = sign
        self.needs_noisy = needs_noisy
        self.name = name or metric.__name__

    def __call__(self, estimator, X, y=None, **kwargs):
        if kwargs.get("sample_weight") is not None:  # silently ignored, it would mislead
            raise ValueError(f"scorer {self.name!r} weighs every epoch equally; it does not take "
                             "sample_weight")
        if hasattr(estimator, "noisy_pairs"):
            noisy, clean = estimator.noisy_pairs(X, y)
        elif y is not None and np.shape(y) == np.shape(X):
            noisy, clean = X, y
        else:
            raise TypeError(
                f"scorer {self.name!r} needs a denoiser with noisy_pairs (sigest's denoisers) or "
                f"clean targets y with X's shape {np.shape(X)}; got {type(estimator).__name__} "
                f"and y of shape {np.shape(y) if y is not None else None}"
            )
        denoised = estimator.transform(noisy)
        args = (clean, denoised, noisy) if self.needs_noisy else (clean, denoised)
        options = {}
        if _takes_sfreq(self.metric):
            sfreq = _estimator_sfreq(estimator)
            if sfreq is not None:
                options["sfreq"] = sfreq
        return self.sign * self.metric(*args, **options)

    def __repr__(self):
        return f"DenoisingScorer({self.name!r})"


DENOISING_SCORERS = {
    "neg_rrmse_temporal": DenoisingScorer(rrmse_temporal, -1, name="neg_rrmse_temporal"),
    "neg_rrmse_spectral": DenoisingScorer(rrmse_spectral, -1, name="neg_rrmse_spectral"),
    "cc": DenoisingScorer(correlation_coefficient, name="cc"),
    "snr": DenoisingScorer(snr, name="snr"),
    "snr_improvement": DenoisingScorer(snr_improvement, needs_noisy=True, name="snr_improvement"),
    "neg_prd": DenoisingScorer(prd, -1, name="neg_prd"),
    "neg_rmse": DenoisingScorer(rmse, -1, name="neg_rmse"),
}
DENOISING_SCORERS["correlation_coefficient"] = DENOISING_SCORERS["cc"]

CLASSIFICATION_SCORERS = {
    "accuracy": _sklearn_get_scorer("accuracy"),
    "balanced_accuracy": make_scorer(balanced_accuracy_score),
    "macro_f1": make_scorer(macro_f1),
    "kappa": make_scorer(cohen_kappa_score),
}

#: Every sigest scorer by name (denoising and classification).
SCORERS = {**DENOISING_SCORERS, **CLASSIFICATION_SCORERS}


def get_scorer(name):
    """A scorer ``(estimator, X, y)`` by name, for ``GridSearchCV(scoring=...)``.

    sigest's names (:data:`SCORERS`): ``"neg_rrmse_temporal"``, ``"neg_rrmse_spectral"``,
    ``"cc"``, ``"snr"``, ``"snr_improvement"``, ``"neg_prd"``, ``"neg_rmse"`` for denoisers;
    ``"accuracy"``, ``"balanced_accuracy"``, ``"macro_f1"``, ``"kappa"`` for classifiers. Other
    names are looked up with :func:`sklearn.metrics.get_scorer`.

    Examples
    --------
    >>> get_scorer("neg_rrmse_temporal")
    DenoisingScorer('neg_rrmse_temporal')
    """
    if callable(name):
        return name
    if name in SCORERS:
        return SCORERS[name]
    try:
        return _sklearn_get_scorer(name)
    except ValueError:
        raise ValueError(f"unknown scorer {name!r}; sigest's are {sorted(SCORERS)}, and every "
                         "scikit-learn scorer name works too") from None


# Metrics of generated data live in their own module (they train small models); re-exported here
# so every metric is reachable from sigest.metrics.
from .generative_metrics import (  # noqa: E402, F401
    EEG_BANDS,
    EmbeddingClassifier,
    c2st_auc,
    frechet_distance,
    psd_distance,
    sliced_wasserstein_distance,
    tstr_trtr,
)
