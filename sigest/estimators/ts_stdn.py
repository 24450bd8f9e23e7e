"""TS-STDN as a scikit-learn classifier that is also a denoiser (``ts-stdn``)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import TransformerMixin

from ..base import SignalClassifier, SignalDataset, SignalDenoiser
from ..models.ts_stdn import TSSTDN
from ..validation import check_clean_target, check_non_negative, is_mne_data, is_mne_list


class _PairedDataset(SignalDataset):
    """Noisy epochs ``X`` with their clean twins; a batch's X is ``(b, 2, C, T)``."""

    def __init__(self, X, y, clean):
        super().__init__(X, y)
        self.clean = clean

    def __getitem__(self, i):
        return self.__getitems__([i])

    def __getitems__(self, indices):
        index = np.asarray(indices)
        noisy, yb = super().__getitems__(index)
        clean = torch.from_numpy(np.array(self.clean[index], dtype=np.float32, copy=True))
        return torch.stack([noisy, clean], dim=1), yb


class TSSTDNClassifier(TransformerMixin, SignalClassifier):
    """Two-stream spectral-temporal denoising network (Liu et al., ICONIP 2023).

    A classifier trained on cross-entropy plus the mean squared errors of two reconstructions
    of the clean input: the temporal stream's (the signal) and the spectral stream's (its
    per-channel log-magnitude STFT)::

        loss = CE(logits, y) + temporal_weight * MSE(x_rec, x_clean)
               + spectral_weight * MSE(s_rec, log|STFT(x_clean)|)

    Two ways to give it clean targets:

    - ``fit(X, y)`` with clean ``X`` and ``noise=`` a noise name or a
      :class:`sigest.noise.NoiseInjector`: every training batch is a new noisy copy of clean
      ``X`` (validation batches a fixed draw), and clean ``X`` is the reconstruction target.
      With ``noise=None`` the network sees clean ``X`` and reconstructs it (an auto-encoder
      regularising the classifier).
    - ``fit(X_noisy, y, X_clean=X_clean)``: explicit noisy/clean pairs (``noise`` must be None).

    ``predict`` / ``predict_proba`` classify; ``transform`` returns the temporal stream's
    reconstruction (the denoised epochs) with the input's shape and dtype.

    Parameters
    ----------
    module : type of torch.nn.Module, default=TSSTDN
        Built with ``n_channels``, ``n_times``, ``n_classes`` from the data; its parameters
        (``D``, ``Fs``, ``Ft``, ``d``, ``n_fft``, ``hop_length``, ``kernel_size``, ``dropout``)
        are reached as ``module__D`` etc. ``module__n_fft`` is the STFT window in samples
        (default 200, the paper's 1 s at 200 Hz).
    temporal_weight : float, default=1.0
        Weight of the temporal reconstruction loss (0 turns it off).
    spectral_weight : float, default=1.0
        Weight of the spectral reconstruction loss (0 turns it off).
    lr : float, default=1e-3
    max_epochs : int, default=30
    batch_size : int, default=32
    optimizer : type of torch optimizer, default=torch.optim.Adam
    train_split : None, float or callable, default=None
        Held-out validation data. Its ``valid_loss`` is the loss above on the validation
        epochs' noisy input (with ``noise``, a fixed noisy copy of each; with ``X_clean``, the
        given pairs); ``valid_acc`` is the accuracy on the validation epochs as given (with
        ``noise``, the clean ones).
    **kwargs
        The parameters of :class:`sigest.base.SignalClassifier` (``noise``, ``epoch_scaling``,
        ``class_weight``, ``sfreq``, ``random_state``, ``callbacks``, ``verbose``, ...).
        With the default ``data_scaling="train-std"`` inputs are divided by the per-channel
        standard deviation of the clean training data (``data_scale_``), so microvolts and
        volts both work; ``epoch_scaling="std"`` in addition standardises each epoch and
        channel by the noisy input's mean and std.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    data_scale_ : ndarray of shape (n_channels, 1)
        Per-channel standard deviation of the clean training data (ones when
        ``data_scaling=None``).
    n_channels_in_, n_times_in_, n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sigest.estimators.ts_stdn import TSSTDNClassifier
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((32, 4, 128)), np.repeat([0, 1], 16)
    >>> clf = TSSTDNClassifier(max_epochs=2, noise="white", module__n_fft=64,
    ...                        random_state=0).fit(X, y)
    >>> clf.predict(X).shape, clf.transform(X).shape
    ((32,), (32, 4, 128))
    """

    def __init__(self, module=TSSTDN, *, temporal_weight=1.0, spectral_weight=1.0, lr=1e-3,
                 max_epochs=30, batch_size=32, optimizer=torch.optim.Adam, train_split=None,
                 **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size,
                         optimizer=optimizer, train_split=train_split, **kwargs)
        self.temporal_weight = temporal_weight
        self.spectral_weight = spectral_weight

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # ------------------------------------------------------------------------------- fitting
    def fit(self, X, y, X_clean=None, **fit_params):
        """Fit to epochs ``X`` and labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_times) or (n_epochs, n_channels, n_times)
            Clean epochs (with ``noise`` or without), or noisy epochs when ``X_clean`` is given.
        y : array-like of shape (n_epochs,)
            Class labels of any type.
        X_clean : array-like of X's shape, optional
            The clean twins of noisy ``X``: the reconstruction targets.
        **fit_params : dict
            Passed on to skorch.

        Returns
        -------
        self
        """
        self._clean_arg = None if X_clean is None else (X_clean, self._rank(X))
        try:
            return super().fit(X, y, **fit_params)
        finally:
            self.__dict__.pop("_clean_arg", None)
            self.__dict__.pop("_clean_train", None)

    def partial_fit(self, X, y=None, classes=None, X_clean=None, **fit_params):
        """Train ``max_epochs`` more epochs without re-initialising; see :meth:`fit`."""
        self._clean_arg = None if X_clean is None else (X_clean, self._rank(X))
        try:
            return super().partial_fit(X, y, classes=classes, **fit_params)
        finally:
            self.__dict__.pop("_clean_arg", None)
            self.__dict__.pop("_clean_train", None)

    @staticmethod
    def _rank(X):
        return 3 if is_mne_data(X) or is_mne_list(X) or np.ndim(X) == 3 else 2

    def _prepare_fit(self, X, y, *, reset):
        # parameters first: a refit that fails must leave the fitted model as it was
        for name in ("temporal_weight", "spectral_weight"):
            check_non_negative(getattr(self, name), name)
        clean_arg = self.__dict__.get("_clean_arg")
        if clean_arg is not None and self.noise is not None:
            raise ValueError(
                f"{type(self).__name__}: pass either X_clean (explicit noisy/clean pairs) or "
                f"noise (noisy copies of clean X), not both; got noise={self.noise!r}"
            )
        X3, y_encoded = super()._prepare_fit(X, y, reset=reset)
        clean = None
        if clean_arg is not None:
            clean = check_clean_target(clean_arg[0], X3, clean_arg[1], owner=type(self).__name__,
                                       name="X_clean").astype(np.float32, copy=False)
        self._clean_train = clean
        if reset and clean is not None:  # the clean reference, not the noisy input
            self.data_scale_ = self._fitted_data_scale(clean)
        return X3, y_encoded

    def get_dataset(self, X, y=None):
        clean = self.__dict__.get("_clean_train")
        if clean is not None and not isinstance(X, torch.utils.data.Dataset):
            return _PairedDataset(X, y, clean)
        return super().get_dataset(X, y)

    # ------------------------------------------------------------------------- the network
    def _scaling(self, noisy):
        """(center, scale) mapping raw epochs to the network's units: (x - center) / scale."""
        scale = torch.as_tensor(self.data_scale_, dtype=noisy.dtype, device=noisy.device)
        center = torch.zeros_like(scale)
        if self.epoch_scaling == "std":
            epoch_scale = self._scale_of(noisy / scale)
            center = noisy.mean(dim=-1, keepdim=True)
            scale = scale * epoch_scale
        elif self.epoch_scaling is not None:
            raise ValueError(f"epoch_scaling must be 'std' or None; got {self.epoch_scaling!r}")
        return center, scale

    def _outputs(self, noisy, **fit_params):
        center, scale = self._scaling(noisy)
        return self.infer((noisy - center) / scale, **fit_params), (center, scale)

    def _logits(self, xb, **fit_params):
        return self._outputs(xb, **fit_params)[0][0]

    def _pair(self, Xi, rng):
        """(noisy input, clean target) of one batch."""
        Xi = Xi.to(self.device)
        if Xi.ndim == 4:  # explicit pairs
            return Xi[:, 0], Xi[:, 1]
        return self._augment(Xi, rng), Xi

    def _loss_and_output(self, batch, rng, training, fit_params):
        Xi, yi = batch
        noisy, clean = self._pair(Xi, rng)
        (logits, x_rec, s_rec), (center, scale) = self._outputs(noisy, **fit_params)
        loss = self.get_loss(logits, yi.to(self.device), X=noisy, training=training)
        clean = (clean - center) / scale
        if self.temporal_weight:
            loss = loss + self.temporal_weight * F.mse_loss(x_rec, clean)
        if self.spectral_weight:
            target = self.module_.spectrum(clean)
            loss = loss + self.spectral_weight * F.mse_loss(s_rec, target)
        return loss, logits

    # -------------------------------------------------------------------------- denoising
    transform = SignalDenoiser.transform  # the temporal stream's reconstruction of X

    def _denoise(self, X3):
        return self._forward_array(X3, self._reconstruction).reshape(X3.shape)

    def _reconstruction(self, xb):
        (_, x_rec, _), (center, scale) = self._outputs(xb)
        return x_rec * scale + center

    def fit_transform(self, X, y=None, **fit_params):
        """Fit, then return the denoised training epochs."""
        return self.fit(X, y, **fit_params).transform(X)


def register_estimators(register):
    register("ts-stdn", TSSTDNClassifier, task="classification",
             description="Two-stream spectral-temporal denoising classifier (TS-STDN, ICONIP "
                         "2023): classifies and denoises (transform)",
             check_params={"max_epochs": 2, "batch_size": 16, "verbose": 0})
