"""Sleep stagers: the frequency-cut attention transformer (``freqcut-sleep``)."""

from __future__ import annotations

import numpy as np
import torch

from ..base import SignalClassifier
from ..models.freqcut import FreqCutAttention
from ..validation import check_non_negative_int


def add_context(X3, n_context, groups=None):
    """Stack each epoch with its ``n_context`` neighbours on each side along time.

    Rows are taken as consecutive epochs of a recording; an epoch at the start or end of a
    recording repeats itself where a neighbour is missing. Spectrograms ``(n_epochs,
    n_channels, n_freqs, n_frames)`` are stacked along their frames, the input
    :class:`FreqCutSleepStager` takes with ``spectrogram_input=True, context_stacked=True``.

    Parameters
    ----------
    X3 : ndarray of shape (n_epochs, n_channels, n_times) or (n_epochs, n_channels, n_freqs, \
n_frames)
    n_context : int
    groups : array-like of shape (n_epochs,), optional
        The recording of every row (rows of one recording consecutive and in time order);
        neighbours never cross recordings. None: all rows are one recording.

    Returns
    -------
    X_context : ndarray of shape (n_epochs, n_channels, (2 n_context + 1) n_times), float32
        Or ``(n_epochs, n_channels, n_freqs, (2 n_context + 1) n_frames)`` for spectrograms.

    Examples
    --------
    >>> X = np.arange(3.0).reshape(3, 1, 1)
    >>> add_context(X, 1)[:, 0]
    array([[0., 0., 1.],
           [0., 1., 2.],
           [1., 2., 2.]], dtype=float32)
    """
    n = len(X3)
    if n_context == 0:
        return np.asarray(X3, dtype=np.float32)
    rows = np.arange(n)
    if groups is None:
        first, last = np.zeros(n, dtype=int), np.full(n, n - 1)
    else:
        groups = np.asarray(groups)
        starts = np.r_[True, groups[1:] != groups[:-1]]
        ends = np.r_[groups[1:] != groups[:-1], True]
        first = np.maximum.accumulate(np.where(starts, rows, 0))
        last = np.minimum.accumulate(np.where(ends, rows, n - 1)[::-1])[::-1]
    index = np.clip(rows[:, None] + np.arange(-n_context, n_context + 1), first[:, None],
                    last[:, None])
    out = np.asarray(X3, dtype=np.float32)[index]  # (n, 2k+1, C, [F,] T)
    out = np.moveaxis(out, 1, -2)  # (n, C, [F,] 2k+1, T)
    return np.ascontiguousarray(out.reshape(*out.shape[:-2], -1))


class FreqCutSleepStager(SignalClassifier):
    """Parallel frequency-cut attention sleep stager (after Chen et al., IEEE TNSRE 2023).

    Raw EEG epochs (one or more channels) become a log-magnitude spectrogram with 1-s time bins
    up to 30 Hz, cut into patches of 4 frequency bins x 1 s that a pre-norm vision transformer
    reads (see :class:`sigest.models.freqcut.FreqCutAttention`). With ``n_context > 0`` the
    sequence variant stages each epoch from itself and its neighbours; the rows of ``X`` must
    then be consecutive epochs of a night (at a recording boundary the neighbour comes from the
    adjacent row), or, with ``context_stacked=True``, each row already holds the epoch with its
    neighbours, as made by :func:`add_context` (so that training rows can be subsampled).

    Parameters
    ----------
    module : type of torch.nn.Module, default=FreqCutAttention
        Architecture parameters go through ``module__*`` (``module__dim=128``,
        ``module__depth=8``, ``module__heads=12``, ``module__dim_head=16``,
        ``module__mlp_dim=256``, ``module__freq_patch=4``, ``module__fmax=30.0``, ...).
    spectrogram_input : bool, default=False
        False: ``X`` holds raw epochs ``(n_epochs, n_channels, n_times)`` and the network
        computes their spectrogram. True: ``X`` is a spectrogram ``(n_epochs, n_channels,
        n_freqs, n_frames)`` with 1-s frames, e.g. from :class:`sigest.preprocessing.STFT` in a
        pipeline.
    n_context : int, default=0
        Neighbouring epochs on each side for the sequence variant (0: single epoch).
    context_stacked : bool, default=False
        With ``n_context > 0``: True if every row of ``X`` already holds ``2 n_context + 1``
        epochs along time (:func:`add_context`; spectrograms along their frames); False stacks
        neighbouring rows.
    class_weight : None, "balanced" or dict, default="balanced"
        Weights of the stages in the cross-entropy loss (sleep stages are imbalanced).
    optimizer : type of torch optimizer, default=torch.optim.AdamW
    lr : float, default=5e-4
    max_epochs : int, default=30
    batch_size : int, default=64
    train_split : None, float or callable, default=None
    sfreq : float, default=100.0
        Sampling rate of the raw epochs (Sleep-EDF's 100 Hz by default).
    iterator_train__shuffle : bool, default=True
        Shuffle the training epochs every epoch (skorch's default is not to; consecutive sleep
        epochs share their stage, so unshuffled batches train badly).
    **kwargs
        Other parameters of :class:`sigest.base.SignalClassifier` (``noise``, ``random_state``,
        ``callbacks``, ``verbose``, ``device``, ``warm_start``) and skorch prefixed ones.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    spectrogram_shape_ : tuple of int or None
        ``(n_freqs, n_frames)`` of a spectrogram input.

    Examples
    --------
    >>> import numpy as np
    >>> from sigest.estimators.sleep import FreqCutSleepStager
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((40, 1, 500)), np.repeat([0, 1], 20)
    >>> stager = FreqCutSleepStager(max_epochs=1, module__depth=1, random_state=0).fit(X, y)
    >>> stager.predict_proba(X[:2]).shape
    (2, 2)
    """

    _fitted_attrs = SignalClassifier._fitted_attrs + ("spectrogram_shape_",)

    def __init__(self, module=FreqCutAttention, *, spectrogram_input=False, n_context=0,
                 context_stacked=False, class_weight="balanced", optimizer=torch.optim.AdamW,
                 lr=5e-4, max_epochs=30, batch_size=64, train_split=None, sfreq=100.0,
                 iterator_train__shuffle=True, **kwargs):
        super().__init__(module, class_weight=class_weight, optimizer=optimizer, lr=lr,
                         max_epochs=max_epochs, batch_size=batch_size, train_split=train_split,
                         sfreq=sfreq, iterator_train__shuffle=iterator_train__shuffle, **kwargs)
        self.spectrogram_input = spectrogram_input
        self.n_context = n_context
        self.context_stacked = context_stacked

    def _prepare_fit(self, X, y, *, reset):
        if self.spectrogram_input and self.noise is not None:
            raise ValueError(
                f"{type(self).__name__}: noise={self.noise!r} adds noise to signals, but with "
                "spectrogram_input=True X holds spectrograms; give the stager signals "
                "(spectrogram_input=False) to train with noise=, or add the noise to the "
                "signals before computing their spectrograms")
        return super()._prepare_fit(X, y, reset=reset)

    @property
    def _min_times(self):
        if self.spectrogram_input or self.sfreq is None:
            return 1
        window = self.get_params_for("module").get("window_seconds", 1.0)
        return max(int(round(float(self.sfreq) * window)), 2)

    def _check_X(self, X, *, reset):
        check_non_negative_int(self.n_context, "n_context")
        spectrogram_shape = None
        if self.spectrogram_input:
            X = np.asarray(X) if not hasattr(X, "shape") else X
            if X.ndim != 4:
                raise ValueError(
                    f"{type(self).__name__}(spectrogram_input=True) expects X of shape "
                    f"(n_epochs, n_channels, n_freqs, n_frames); got shape {tuple(X.shape)}")
            spectrogram_shape = tuple(int(s) for s in X.shape[2:])
            if not reset and spectrogram_shape != self.spectrogram_shape_:
                raise ValueError(f"X has spectrograms of shape {spectrogram_shape} (n_freqs, "
                                 f"n_frames); fitted on {self.spectrogram_shape_}")
            X = X.reshape(X.shape[0], X.shape[1], -1)
        X3, rank = super()._check_X(X, reset=reset)
        if reset:
            self.spectrogram_shape_ = spectrogram_shape
        n_seq = 2 * int(self.n_context) + 1
        if self.context_stacked:
            spectrogram = self.spectrogram_shape_ is not None
            length = self.spectrogram_shape_[1] if spectrogram else self.n_times_in_
            if length % n_seq:
                raise ValueError(f"with context_stacked=True and n_context={self.n_context}, "
                                 f"epochs must hold {n_seq} epochs of equal length; got "
                                 f"{length} {'frames' if spectrogram else 'samples'}")
            X3 = X3.astype(np.float32, copy=False)
            if spectrogram and n_seq > 1:  # (C, F, n_seq * t) -> the network's (C, n_seq * F * t)
                n, c = X3.shape[:2]
                X3 = X3.reshape(n, c, self.spectrogram_shape_[0], n_seq, -1)
                X3 = X3.transpose(0, 1, 3, 2, 4).reshape(n, c, -1)
            return X3, rank
        return add_context(X3, int(self.n_context)), rank

    _inferred_module_params = SignalClassifier._inferred_module_params + (
        "n_context", "sfreq", "spectrogram_shape")

    def _module_shape_kwargs(self):
        kwargs = super()._module_shape_kwargs()
        kwargs["n_context"] = int(self.n_context)
        if self.context_stacked:
            kwargs["n_times"] = self.n_times_in_ // (2 * int(self.n_context) + 1)
        if self.spectrogram_shape_ is not None:
            n_freqs, n_frames = self.spectrogram_shape_
            if self.context_stacked:
                n_frames //= 2 * int(self.n_context) + 1
            kwargs["spectrogram_shape"] = (n_freqs, n_frames)
        elif self.sfreq_ is not None:
            kwargs["sfreq"] = self.sfreq_
        return kwargs


# sklearn's check data has 1-20 samples per epoch: at sfreq=2 a spectrogram bin is 2 samples.
# (module__* parameters would be flagged by check_no_attributes_set_in_init.)
CHECK_PARAMS = {"max_epochs": 2, "batch_size": 16, "verbose": 0, "sfreq": 2.0}


def register_estimators(register):
    register("freqcut-sleep", FreqCutSleepStager, task="classification",
             description="Parallel frequency-cut attention sleep stager (Chen et al. 2023)",
             check_params=CHECK_PARAMS)


__all__ = ["FreqCutSleepStager", "add_context"]
