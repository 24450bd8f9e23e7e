"""How close synthetic epochs are to real ones, and how useful they are.

- :func:`psd_distance` — mean Welch spectra per band (delta..gamma), distance in dB.
- :func:`sliced_wasserstein_distance` — the data distributions along random directions.
- :func:`frechet_distance` — Gaussians fitted to the embeddings of a classifier trained on real
  data (:class:`EmbeddingClassifier`), like the Frechet inception distance.
- :func:`c2st_auc` — classifier two-sample test: cross-validated ROC AUC of a classifier told to
  separate real from synthetic epochs (0.5 = indistinguishable).
- :func:`tstr_trtr` — train on synthetic / test on real against train on real / test on real.

All take epochs as ``(n, n_times)`` or ``(n, n_channels, n_times)`` arrays.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
import scipy.signal
import scipy.stats
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.utils import check_random_state

#: EEG bands in Hz (gamma up to 45 Hz, as most EEG is low-passed there).
EEG_BANDS = {"delta": (0.5, 4.0), "theta": (4.0, 8.0), "alpha": (8.0, 13.0),
             "beta": (13.0, 30.0), "gamma": (30.0, 45.0)}


def _epochs(X, name="X"):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 2:
        X = X[:, None, :]
    if X.ndim != 3:
        raise ValueError(f"{name} must be (n_epochs, n_times) or (n_epochs, n_channels, n_times);"
                         f" got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return X


def _pair(X_real, X_fake):
    real, fake = _epochs(X_real, "X_real"), _epochs(X_fake, "X_fake")
    if real.shape[1:] != fake.shape[1:]:
        raise ValueError(f"X_real and X_fake epochs differ in shape: {real.shape[1:]} vs "
                         f"{fake.shape[1:]}")
    if len(real) < 2 or len(fake) < 2:
        raise ValueError("need at least 2 real and 2 synthetic epochs")
    return real, fake


def welch_psd(X, sfreq, nperseg=None):
    """Welch power spectral density of every epoch and channel.

    Parameters
    ----------
    X : array-like of shape (n_epochs, n_times) or (n_epochs, n_channels, n_times)
    sfreq : float
        Sampling frequency in Hz.
    nperseg : int, optional
        Welch segment length; default ``min(n_times, 256)``.

    Returns
    -------
    freqs : ndarray of shape (n_freqs,)
    psd : ndarray of shape (n_epochs, n_channels, n_freqs)
    """
    X = _epochs(X)
    nperseg = min(X.shape[-1], 256) if nperseg is None else nperseg
    return scipy.signal.welch(X, fs=sfreq, nperseg=nperseg, axis=-1)


def band_powers(X, sfreq, bands=None, nperseg=None):
    """Power per band (sum of Welch PSD bins times the bin width) of every epoch and channel.

    Returns
    -------
    powers : ndarray of shape (n_epochs, n_channels, n_bands)
        Bands in the order of ``bands`` (default :data:`EEG_BANDS`).
    """
    bands = EEG_BANDS if bands is None else bands
    freqs, psd = welch_psd(X, sfreq, nperseg)
    df = freqs[1] - freqs[0]
    out = []
    for name, (lo, hi) in bands.items():
        mask = (freqs >= lo) & (freqs < hi)
        if not mask.any():
            raise ValueError(f"band {name} ({lo}-{hi} Hz) holds no frequency bin at "
                             f"sfreq={sfreq} with {len(freqs)} bins")
        out.append(psd[..., mask].sum(axis=-1) * df)
    return np.stack(out, axis=-1)


def psd_distance(X_real, X_fake, sfreq, bands=None, per_band=False, nperseg=None):
    """Distance between the mean power spectra of real and synthetic epochs, per band, in dB.

    For each band, ``|10 log10(P_fake / P_real)|`` where ``P`` is the band power of the
    Welch spectrum averaged over epochs (and channels); 0 means identical mean spectra.

    Parameters
    ----------
    X_real, X_fake : array-like of shape (n, n_times) or (n, n_channels, n_times)
    sfreq : float
    bands : dict of name -> (low, high) Hz, optional
        Default :data:`EEG_BANDS` (delta 0.5-4, theta 4-8, alpha 8-13, beta 13-30, gamma 30-45).
    per_band : bool, default=False
        Return a dict ``{band: dB}`` (plus ``"mean"``) instead of the mean over bands.
    nperseg : int, optional
        Welch segment length; default ``min(n_times, 256)``.

    Returns
    -------
    float or dict

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.standard_normal((50, 256)), rng.standard_normal((50, 256))
    >>> psd_distance(a, b, sfreq=128.0) < 0.5
    True
    >>> bool(5.5 < psd_distance(a, 2 * b, sfreq=128.0) < 6.5)  # twice the amplitude: ~6 dB
    True
    """
    real, fake = _pair(X_real, X_fake)
    bands = EEG_BANDS if bands is None else bands
    p_real = band_powers(real, sfreq, bands, nperseg).mean(axis=(0, 1))
    p_fake = band_powers(fake, sfreq, bands, nperseg).mean(axis=(0, 1))
    tiny = np.finfo(float).tiny
    db = np.abs(10 * np.log10(np.maximum(p_fake, tiny) / np.maximum(p_real, tiny)))
    if not per_band:
        return float(db.mean())
    return {**{name: float(v) for name, v in zip(bands, db)}, "mean": float(db.mean())}


def sliced_wasserstein_distance(X_real, X_fake, n_projections=256, standardize=True,
                                random_state=None):
    """Sliced Wasserstein-1 distance between real and synthetic epochs (flattened).

    The mean, over ``n_projections`` random unit directions, of the 1-D Wasserstein distance
    between the projections (EEG-GAN, Hartmann et al. 2018, uses the same statistic on
    Laplacian-pyramid patches; this is the plain whole-epoch version).

    Parameters
    ----------
    X_real, X_fake : array-like of shape (n, n_times) or (n, n_channels, n_times)
    n_projections : int, default=256
    standardize : bool, default=True
        Divide both by the real data's overall standard deviation (per channel) first, so the
        value does not depend on units.
    random_state : int, RandomState or None
        Seeds the directions.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.standard_normal((200, 32)), rng.standard_normal((200, 32))
    >>> near = sliced_wasserstein_distance(a, b, random_state=0)
    >>> far = sliced_wasserstein_distance(a, b + 1.0, random_state=0)
    >>> bool(near < far)
    True
    """
    real, fake = _pair(X_real, X_fake)
    if int(n_projections) < 1:
        raise ValueError(f"n_projections must be a positive integer; got {n_projections!r}")
    n_projections = int(n_projections)
    if standardize:
        scale = np.maximum(real.std(axis=(0, 2), keepdims=True), 1e-12)
        real, fake = real / scale, fake / scale
    real, fake = real.reshape(len(real), -1), fake.reshape(len(fake), -1)
    rs = check_random_state(random_state)
    directions = rs.standard_normal((real.shape[1], n_projections))
    directions /= np.linalg.norm(directions, axis=0, keepdims=True)
    pr, pf = real @ directions, fake @ directions
    return float(np.mean([scipy.stats.wasserstein_distance(pr[:, k], pf[:, k])
                          for k in range(n_projections)]))


def _features_of(embedding, X):
    if embedding is None:
        return X.reshape(len(X), -1)
    if hasattr(embedding, "transform"):
        return np.asarray(embedding.transform(X), dtype=np.float64)
    return np.asarray(embedding(X), dtype=np.float64)


def frechet_distance(X_real, X_fake, embedding=None):
    """Frechet distance between Gaussians fitted to embeddings of real and synthetic epochs.

    ``|mu_r - mu_f|^2 + Tr(C_r + C_f - 2 (C_r C_f)^(1/2))``, the statistic of the Frechet
    inception distance, here on the embedding of a classifier trained on real epochs.

    Parameters
    ----------
    X_real, X_fake : array-like of shape (n, n_times) or (n, n_channels, n_times)
    embedding : object with ``transform``, callable or None
        Maps epochs to ``(n, n_features)`` features, e.g. a fitted
        :class:`EmbeddingClassifier`; None uses the flattened epochs themselves.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.standard_normal((500, 4)), rng.standard_normal((500, 4))
    >>> bool(frechet_distance(a, b) < frechet_distance(a, b + 1.0))
    True
    """
    real, fake = _pair(X_real, X_fake)
    fr, ff = _features_of(embedding, real), _features_of(embedding, fake)
    mu_r, mu_f = fr.mean(axis=0), ff.mean(axis=0)
    cov_r = np.atleast_2d(np.cov(fr, rowvar=False))
    cov_f = np.atleast_2d(np.cov(ff, rowvar=False))
    with warnings.catch_warnings():  # near-singular covariances are handled just below
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        covmean = scipy.linalg.sqrtm(cov_r @ cov_f)
        if not np.all(np.isfinite(covmean)):  # regularise as the FID reference code does
            offset = np.eye(len(cov_r)) * 1e-6
            covmean = scipy.linalg.sqrtm((cov_r + offset) @ (cov_f + offset))
    covmean = np.real(covmean)
    value = np.sum((mu_r - mu_f) ** 2) + np.trace(cov_r + cov_f - 2 * covmean)
    return float(max(value, 0.0))


# ------------------------------------------------------------------------- feature classifiers
class SpectralFeatures(TransformerMixin, BaseEstimator):
    """Per-channel log Welch spectrum up to ``fmax`` plus amplitude statistics, as features.

    Statistics: standard deviation, skewness, kurtosis, line length, range, zero-crossing rate.
    A strong, cheap input for real-vs-synthetic and class tests.

    Parameters
    ----------
    sfreq : float
    fmax : float, default=60.0
    nperseg : int or None, default=None
        Welch segment length (default ``min(n_times, 128)``).
    features : {"all", "spectrum", "stats"}, default="all"
        Both groups, or one: the log spectrum only or the amplitude statistics only (to see
        which of them tells two sets apart).
    """

    def __init__(self, sfreq, fmax=60.0, nperseg=None, features="all"):
        self.sfreq = sfreq
        self.fmax = fmax
        self.nperseg = nperseg
        self.features = features

    def fit(self, X, y=None):
        if self.features not in ("all", "spectrum", "stats"):
            raise ValueError(f"features must be 'all', 'spectrum' or 'stats'; got "
                             f"{self.features!r}")
        self.n_features_in_ = _epochs(X).shape[-1]
        return self

    def transform(self, X):
        X = _epochs(X)
        groups = []
        if self.features in ("all", "spectrum"):
            nperseg = min(X.shape[-1], 128) if self.nperseg is None else self.nperseg
            freqs, psd = welch_psd(X, self.sfreq, nperseg)
            groups.append(np.log10(psd[..., freqs <= self.fmax] + 1e-12))
        if self.features in ("all", "stats"):
            groups.append(self._stats(X))
        return np.nan_to_num(np.concatenate(groups, axis=-1).reshape(len(X), -1))

    @staticmethod
    def _stats(X):
        diff = np.diff(X, axis=-1)
        centred = X - X.mean(axis=-1, keepdims=True)
        return np.stack([
            np.log10(X.std(axis=-1) + 1e-12),
            scipy.stats.skew(X, axis=-1),
            scipy.stats.kurtosis(X, axis=-1),
            np.log10(np.abs(diff).mean(axis=-1) + 1e-12),
            np.log10(np.ptp(X, axis=-1) + 1e-12),
            (np.diff(np.sign(centred), axis=-1) != 0).mean(axis=-1),
        ], axis=-1)


def feature_classifier(sfreq, random_state=None, features="all"):
    """The default classifier of :func:`c2st_auc` and :func:`tstr_trtr`.

    :class:`SpectralFeatures` (``features`` as there) then scikit-learn's
    ``HistGradientBoostingClassifier``. It uses OpenMP threads: on a busy machine wrap calls in
    ``threadpoolctl.threadpool_limits(1)``.
    """
    return make_pipeline(SpectralFeatures(sfreq, features=features),
                         HistGradientBoostingClassifier(max_iter=100, random_state=random_state))


#: Fewest training epochs :func:`feature_classifier` can learn from: its gradient boosting
#: needs ``min_samples_leaf=20`` epochs on each side of a split. With fewer it predicts the
#: class prior for every epoch (an AUC of exactly 0.5, "indistinguishable", whatever the data).
MIN_DEFAULT_TRAIN = 40


def _check_default_train_size(n_train, what):
    if n_train < MIN_DEFAULT_TRAIN:
        raise ValueError(
            f"{what}: the default classifier cannot learn from {n_train} training epochs (it "
            f"needs at least {MIN_DEFAULT_TRAIN}) and would score chance whatever the data; "
            "pass more epochs, or a classifier= suited to few epochs"
        )


def c2st_auc(X_real, X_fake, sfreq=None, classifier=None, cv=5, random_state=None):
    """Classifier two-sample test: cross-validated ROC AUC of real vs synthetic epochs.

    0.5 means the classifier cannot tell them apart; 1.0 that it always can. The two sets are
    first cut to the same size.

    Parameters
    ----------
    X_real, X_fake : array-like of shape (n, n_times) or (n, n_channels, n_times)
    sfreq : float, optional
        Needed by the default classifier (:func:`feature_classifier`), which needs at least
        :data:`MIN_DEFAULT_TRAIN` (40) epochs in every training fold: fewer raise ValueError.
    classifier : scikit-learn classifier, optional
        Any estimator with ``predict_proba`` taking the epochs as given; cloned.
    cv : int, default=5
        Stratified folds.
    random_state : int or None

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.standard_normal((60, 32)), rng.standard_normal((60, 32))
    >>> clf = make_pipeline(SpectralFeatures(sfreq=32.0), LogisticRegression())
    >>> bool(c2st_auc(a, b, classifier=clf, cv=3, random_state=0) < 0.75)
    True
    >>> bool(c2st_auc(a, 3 * b, classifier=clf, cv=3, random_state=0) > 0.95)
    True
    """
    real, fake = _pair(X_real, X_fake)
    rs = check_random_state(random_state)
    n = min(len(real), len(fake))
    real = real[rs.choice(len(real), n, replace=False)]
    fake = fake[rs.choice(len(fake), n, replace=False)]
    if classifier is None:
        if sfreq is None:
            raise ValueError("c2st_auc needs sfreq for its default classifier")
        classifier = feature_classifier(sfreq, random_state=random_state)
        # the smallest training part of the stratified folds
        _check_default_train_size(2 * n - 2 * (-(-n // cv)), f"c2st_auc with cv={cv}")
    X = np.concatenate([real, fake])
    y = np.repeat([0, 1], n)
    folds = StratifiedKFold(cv, shuffle=True, random_state=rs.randint(2**31 - 1))
    proba = cross_val_predict(clone(classifier), X, y, cv=folds, method="predict_proba")
    return float(roc_auc_score(y, proba[:, 1]))


def tstr_trtr(X_train, y_train, X_synth, y_synth, X_test, y_test, sfreq=None, classifier=None):
    """Train on synthetic, test on real (TSTR) against train on real, test on real (TRTR).

    Parameters
    ----------
    X_train, y_train : real training epochs and labels, or None
        None skips TRTR (e.g. when it was computed once for several generators).
    X_synth, y_synth : synthetic epochs and labels (e.g. ``gen.sample(n, return_y=True)``)
    X_test, y_test : real held-out epochs and labels
    sfreq : float, optional
        Needed by the default classifier (:func:`feature_classifier`), which needs at least
        :data:`MIN_DEFAULT_TRAIN` (40) training epochs: fewer raise ValueError.
    classifier : scikit-learn classifier, optional
        Cloned for each of the two fits.

    Returns
    -------
    dict
        ``tstr_accuracy``, ``trtr_accuracy``, ``tstr_balanced_accuracy``,
        ``trtr_balanced_accuracy`` (no ``trtr_*`` when ``X_train`` is None).
    """
    default = classifier is None
    if default:
        if sfreq is None:
            raise ValueError("tstr_trtr needs sfreq for its default classifier")
        classifier = feature_classifier(sfreq, random_state=0)
    out = {}
    fits = {"tstr": (X_synth, y_synth), "trtr": (X_train, y_train)}
    for name, (X, y) in fits.items():
        if X is None:
            continue
        if default:
            _check_default_train_size(len(X), f"tstr_trtr ({name})")
        pred = clone(classifier).fit(_epochs(X), np.asarray(y)).predict(_epochs(X_test))
        out[f"{name}_accuracy"] = float(accuracy_score(y_test, pred))
        out[f"{name}_balanced_accuracy"] = float(balanced_accuracy_score(y_test, pred))
    return out


# ----------------------------------------------------------------------- embedding classifier
class _EmbeddingNet(torch.nn.Module):
    def __init__(self, n_channels, n_classes, width=32, embed_dim=64):
        super().__init__()
        layers, c_in = [], n_channels
        for c_out in (width, width, 2 * width):
            layers += [torch.nn.Conv1d(c_in, c_out, 7, stride=2, padding=3),
                       torch.nn.BatchNorm1d(c_out), torch.nn.ReLU()]
            c_in = c_out
        self.features = torch.nn.Sequential(*layers)
        self.embed = torch.nn.Sequential(torch.nn.Linear(2 * c_in, embed_dim), torch.nn.ReLU())
        self.head = torch.nn.Linear(embed_dim, n_classes)

    def embedding(self, x):
        h = self.features(x)
        return self.embed(torch.cat([h.mean(dim=-1), h.amax(dim=-1)], dim=1))

    def forward(self, x):
        return self.head(self.embedding(x))


class EmbeddingClassifier(ClassifierMixin, TransformerMixin, BaseEstimator):
    """A small 1-D CNN classifier; its penultimate layer embeds epochs for :func:`frechet_distance`.

    Three strided convolutions (batch norm, ReLU), mean and max pooling, a 64-d embedding and a
    linear head, trained with Adam on standardised real epochs. ``transform`` returns the
    embedding.

    Parameters
    ----------
    max_epochs : int, default=15
    batch_size : int, default=64
    lr : float, default=1e-3
    width : int, default=32
    embed_dim : int, default=64
    random_state : int or None, default=0
    """

    def __init__(self, max_epochs=15, batch_size=64, lr=1e-3, width=32, embed_dim=64,
                 random_state=0):
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.width = width
        self.embed_dim = embed_dim
        self.random_state = random_state

    def _tensor(self, X):
        X = _epochs(X)
        if X.shape[1] != self.mean_.shape[1]:  # (n, n_times) is one channel
            raise ValueError(f"X has {X.shape[1]} channel(s) (shape {X.shape}); this "
                             f"EmbeddingClassifier was fitted on {self.mean_.shape[1]}")
        return torch.as_tensor((X - self.mean_) / self.std_, dtype=torch.float32)

    def fit(self, X, y):
        X3 = _epochs(X)
        self.classes_, y_idx = np.unique(np.asarray(y), return_inverse=True)
        self.mean_ = X3.mean(axis=(0, 2), keepdims=True)
        self.std_ = np.maximum(X3.std(axis=(0, 2), keepdims=True), 1e-12)
        rs = check_random_state(self.random_state)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(rs.randint(2**31 - 1))
            self.net_ = _EmbeddingNet(X3.shape[1], len(self.classes_), self.width,
                                      self.embed_dim)
            opt = torch.optim.Adam(self.net_.parameters(), lr=self.lr)
            Xt, yt = self._tensor(X3), torch.as_tensor(y_idx, dtype=torch.int64)
            self.net_.train()
            for _ in range(self.max_epochs):
                order = rs.permutation(len(Xt))
                for start in range(0, len(order) - 1, self.batch_size):
                    idx = order[start:start + self.batch_size]
                    if len(idx) < 2:
                        continue
                    opt.zero_grad()
                    loss = torch.nn.functional.cross_entropy(self.net_(Xt[idx]), yt[idx])
                    loss.backward()
                    opt.step()
        self.net_.eval()
        return self

    def _batched(self, X, fn):
        Xt = self._tensor(X)
        with torch.no_grad():
            return np.concatenate([fn(Xt[i:i + 1024]).numpy() for i in range(0, len(Xt), 1024)])

    def transform(self, X):
        """The ``embed_dim``-d embedding of each epoch."""
        return self._batched(X, self.net_.embedding).astype(np.float64)

    def predict_proba(self, X):
        return self._batched(X, lambda x: torch.softmax(self.net_(x), dim=1)).astype(np.float64)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


__all__ = ["EEG_BANDS", "EmbeddingClassifier", "SpectralFeatures", "band_powers", "c2st_auc",
           "feature_classifier", "frechet_distance", "psd_distance",
           "sliced_wasserstein_distance", "tstr_trtr", "welch_psd"]
