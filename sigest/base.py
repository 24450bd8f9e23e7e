"""The three estimator bases: SignalDenoiser, SignalClassifier, SignalGenerator.

Each is a :class:`skorch.NeuralNet` (the classifier a :class:`skorch.NeuralNetClassifier`), so
skorch's parameters keep their meaning (``lr``, ``max_epochs``, ``batch_size``, ``optimizer__*``,
``module__*``, ``callbacks``, ``device``). On top of skorch, the bases

- validate every input in one place (:mod:`sigest.validation`),
- infer the network's shapes from the data at ``fit`` (``n_channels``, ``n_times``,
  ``n_classes`` are passed to the module) and keep them as fitted attributes,
- seed everything from ``random_state``,
- keep the input's rank and float dtype in their outputs,
- save to and load from a file that runs no code when read (:mod:`sigest.persistence`),
- and pass scikit-learn's estimator checks.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import time

import numpy as np
import torch
from sklearn.base import TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._available_if import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, column_or_1d
from skorch import NeuralNet, NeuralNetClassifier
from skorch.callbacks import (
    Callback,
    EpochScoring,
    EpochTimer,
    PassthroughScoring,
    PrintLog,
    ProgressBar,
)
from skorch.dataset import ValidSplit
from skorch.utils import TeeGenerator, to_numpy

from . import persistence
from .models.gan import hann_power
from .validation import (
    check_clean_target,
    check_non_negative,
    check_non_negative_int,
    check_sfreq,
    check_signals,
    is_mne_data,
    mne_sfreq,
    restore_rank,
)

# A standard deviation at most this fraction of the signal's level is float32 rounding of a
# constant: the signal is flat. Relative, so that no unit (volts, tesla, counts) looks flat.
_FLAT = 1e-6


def channel_std(X3, chunk=4096):
    """Per-channel standard deviation over epochs and samples, as an ``(n_channels, 1)`` array.

    Read ``chunk`` epochs at a time in float64, so a memory-mapped ``X3`` is never loaded whole.
    Channels that are constant get 1.0 (nothing to scale).
    """
    n_channels = X3.shape[1]
    total = np.zeros(n_channels)
    squares = np.zeros(n_channels)
    for start in range(0, len(X3), chunk):
        block = np.asarray(X3[start:start + chunk], dtype=np.float64)
        total += block.sum(axis=(0, 2))
        squares += np.square(block).sum(axis=(0, 2))
    count = max(len(X3) * X3.shape[2], 1)
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean ** 2, 0.0))
    return np.where(std <= _FLAT * np.abs(mean), 1.0, std).reshape(-1, 1)


def epoch_scale(x):
    """Each ``(batch, channel)`` row's standard deviation of the tensor ``x``, 1 where the row
    is constant, and that ``flat`` mask; both ``(b, c, 1)``."""
    std = x.std(dim=-1, keepdim=True, correction=0)
    flat = std <= _FLAT * x.abs().amax(dim=-1, keepdim=True)
    return torch.where(flat, torch.ones_like(std), std), flat


class SignalDataset(torch.utils.data.Dataset):
    """``(X, y)`` arrays as a torch Dataset that fetches whole batches by fancy indexing.

    ``X`` (n_epochs, n_channels, n_times) may be a memory-mapped array: only the rows of a batch
    are read. ``y`` may be None, labels, or clean targets of ``X``'s shape.
    """

    def __init__(self, X, y=None):
        if np.ndim(X) != 3:
            hint = "; use X[:, None, :] for single-channel epochs" if np.ndim(X) == 2 else ""
            raise ValueError(f"SignalDataset needs X of shape (n_epochs, n_channels, n_times); "
                             f"got shape {np.shape(X)}{hint}")
        if y is not None and np.ndim(y) > 1 and np.shape(y) != np.shape(X):
            raise ValueError(f"SignalDataset needs clean targets y of X's shape {np.shape(X)}; "
                             f"got shape {np.shape(y)}")
        self.X = X
        self.y = y

    def __len__(self):
        return len(self.X)

    def _rows(self, array, index):
        rows = array[index]
        dtype = np.float32 if array is self.X or rows.dtype.kind == "f" else None
        return torch.from_numpy(np.array(rows, dtype=dtype, copy=True))

    def __getitem__(self, i):
        yi = None if self.y is None else self._rows(self.y, i)
        return self._rows(self.X, i), yi

    def __getitems__(self, indices):
        index = np.asarray(indices)
        yb = None if self.y is None else self._rows(self.y, index)
        return self._rows(self.X, index), yb


def dataset_arrays(dataset):
    """The ``(X, y)`` arrays of a :class:`SignalDataset`, or the rows of one that a (nested)
    ``Subset`` holds: what skorch's callbacks pass to ``predict``, ``transform`` and scorers.
    """
    rows = None
    while isinstance(dataset, torch.utils.data.Subset):
        indices = np.asarray(dataset.indices)
        rows = indices if rows is None else indices[rows]
        dataset = dataset.dataset
    if not isinstance(dataset, SignalDataset):
        raise TypeError(f"sigest's estimators take arrays, mne objects or a SignalDataset (or a "
                        f"Subset of one); got a {type(dataset).__name__}")
    if rows is None:
        return dataset.X, dataset.y
    return dataset.X[rows], None if dataset.y is None else dataset.y[rows]


class DivergenceGuard(Callback):
    """Stop training when the loss becomes NaN or infinite, keeping the last good weights.

    It raises a :class:`FloatingPointError` that names the epoch and suggests a lower ``lr``.
    """

    def on_train_begin(self, net, **kwargs):
        self.good_state_ = None

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        losses = [row.get(key) for key in ("train_loss", "valid_loss") if key in row]
        if all(math.isfinite(loss) for loss in losses):
            self._keep(net.module_.state_dict())
            return
        if self.good_state_ is not None:
            net.module_.load_state_dict(self.good_state_)
        raise FloatingPointError(
            f"{type(net).__name__}: the loss became {losses} at epoch {row['epoch']} "
            f"(lr={net.lr}); training diverged and stopped. The weights of the last good epoch "
            "were kept. Try a lower lr."
        )

    def on_train_end(self, net, **kwargs):
        # the copy guards training only; kept, it would double the weights in memory and pickles
        self.good_state_ = None

    def _keep(self, state):
        # copy into buffers allocated once: a fresh clone every epoch costs an allocation per
        # tensor, measurable on small networks with short epochs
        if self.good_state_ is None or self.good_state_.keys() != state.keys() or any(
                self.good_state_[k].shape != v.shape for k, v in state.items()):
            self.good_state_ = {k: v.detach().clone() for k, v in state.items()}
            return
        with torch.no_grad():
            for k, v in state.items():
                self.good_state_[k].copy_(v)


class TimeBudget(Callback):
    """Stop training at the end of the first epoch that ends ``seconds`` after ``fit`` began.

    skorch ends ``fit`` cleanly (the ``on_train_end`` callbacks run) and the estimator keeps the
    weights of that epoch; ``len(net.history)`` tells how many epochs ran.

    Parameters
    ----------
    seconds : float
        Wall-clock budget in seconds; at least one epoch always runs.

    Examples
    --------
    >>> import numpy as np
    >>> from sigest.base import TimeBudget
    >>> from sigest.estimators.tiny import TinyDenoiser
    >>> X = np.random.default_rng(0).standard_normal((16, 64))
    >>> den = TinyDenoiser(max_epochs=1000, callbacks=[TimeBudget(0.0)]).fit(X)
    >>> len(den.history)
    1
    """

    def __init__(self, seconds):
        self.seconds = seconds

    def on_train_begin(self, net, **kwargs):
        self.start_ = time.perf_counter()

    def on_epoch_end(self, net, **kwargs):
        if time.perf_counter() - self.start_ > self.seconds:
            raise KeyboardInterrupt  # skorch ends fit cleanly on it


def _seed_torch(seed):
    """``torch.manual_seed`` without its CUDA/XPU side when those are not in use.

    ``torch.manual_seed`` also queues a seeding of every lazy accelerator, recording a
    formatted stack trace each time (~2 ms on CPU); per epoch that shows on small networks.
    """
    torch.default_generator.manual_seed(seed)
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.manual_seed_all(seed)
    if hasattr(torch, "xpu") and torch.xpu.is_available() and torch.xpu.is_initialized():
        torch.xpu.manual_seed_all(seed)
    if hasattr(torch, "mps") and torch.backends.mps.is_available():
        torch.mps.manual_seed(seed)


def _batch_collate(batch):
    return batch


class ArrayBatchIterator:
    """Batches of a :class:`SignalDataset` (or a Subset of one) by fancy indexing.

    What ``DataLoader`` does for in-memory arrays, without its per-batch machinery: it is what
    sigest's nets iterate over unless ``iterator_train``/``iterator_valid`` or their
    ``num_workers``, ``sampler`` or ``collate_fn`` are set. Training batches are shuffled
    (``torch.randperm``, seeded per epoch) unless ``iterator_train__shuffle=False``.
    """

    def __init__(self, dataset, batch_size, shuffle, generator=None):
        if isinstance(dataset, torch.utils.data.Subset):
            self.base, self.indices = dataset.dataset, np.asarray(dataset.indices)
        else:
            self.base, self.indices = dataset, np.arange(len(dataset))
        self.batch_size = max(int(batch_size), 1)
        self.shuffle = shuffle
        self.generator = generator  # a callable giving the epoch's torch.Generator, or None

    def __len__(self):
        return math.ceil(len(self.indices) / self.batch_size)

    def __iter__(self):
        order = self.indices
        if self.shuffle:
            generator = self.generator() if self.generator is not None else None
            order = order[torch.randperm(len(order), generator=generator).numpy()]
        for start in range(0, len(order), self.batch_size):
            yield self.base.__getitems__(order[start:start + self.batch_size])


class _SignalNet:
    """What the three bases share; mixed in before the skorch class."""

    _min_times = 1  # shortest epoch the network accepts; raise in subclasses with a receptive field
    # module parameters the estimator sets from the data (_module_shape_kwargs), not the user
    _inferred_module_params = ("n_channels", "n_times", "n_classes")
    _fitted_attrs = ("n_features_in_", "n_channels_in_", "n_times_in_", "sfreq_")

    # skorch keeps these three in public attributes set in __init__, which scikit-learn reads as
    # parameters; sigest stores them privately and keeps skorch's names as properties.
    def _private(name):  # noqa: N805
        key = "_" + name.rstrip("_")

        def getter(self):
            try:
                return self.__dict__[key]
            except KeyError:
                raise AttributeError(name) from None

        def setter(self, value):
            self.__dict__[key] = value

        return property(getter, setter)

    history_ = _private("history_")
    initialized_ = _private("initialized_")
    virtual_params_ = _private("virtual_params_")
    del _private

    def _get_param_names(self):
        return [k for k in self.__dict__ if not k.endswith("_") and not k.startswith("_")]

    def set_params(self, **params):
        """Set parameters; ``name__key`` reaches ``key`` of an estimator-valued parameter
        (e.g. ``noise__snr_db`` of a ``NoiseInjector``), as scikit-learn's nesting rule has it.

        Other ``prefix__key`` parameters are skorch's (``module__``, ``optimizer__``, ...).
        """
        nested = {}
        for key in [k for k in params if "__" in k]:
            name, _, sub = key.partition("__")
            value = params.get(name, self.__dict__.get(name))  # a new value is set first
            if hasattr(value, "set_params") and not isinstance(value, type):
                nested.setdefault(name, {})[sub] = params.pop(key)
            elif name == "noise":
                raise ValueError(f"Invalid parameter {key!r}: noise={value!r} has no "
                                 "parameters of its own; pass noise=NoiseInjector(...) to tune it")
        super().set_params(**params)
        for name, sub_params in nested.items():
            self.__dict__[name].set_params(**sub_params)
        return self

    def __sklearn_is_fitted__(self):
        return bool(self.__dict__.get("_initialized")) and hasattr(self, "n_features_in_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.non_deterministic = False
        return tags

    @property
    def _default_callbacks(self):
        callbacks = [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            ("divergence_guard", DivergenceGuard()),
        ]
        callbacks += self._extra_default_callbacks()
        if self.verbose:
            callbacks += [("print_log", PrintLog()), ("progress_bar", ProgressBar())]
        return callbacks

    def _extra_default_callbacks(self):
        return []

    # ----------------------------------------------------------------------------- validation
    def _check_X(self, X, *, reset):
        if isinstance(X, torch.utils.data.Dataset):
            if reset:
                raise TypeError(f"{type(self).__name__} fits on arrays of epochs (a memory-mapped "
                                f"one for data larger than RAM) or mne objects; got a "
                                f"{type(X).__name__}")
            X = dataset_arrays(X)[0]  # skorch's EpochScoring predicts on its datasets
        if self.sfreq is not None:
            check_sfreq(self.sfreq)
        if not reset:
            self._check_fitted()
        X3, rank = check_signals(X, estimator=self, reset=reset, sfreq=self._sfreq_for_check(),
                                 min_times=self._min_times)
        if reset:
            self.sfreq_ = self._sfreq_of(X)
        return X3, rank

    def _sfreq_for_check(self):
        return self.sfreq if self.sfreq is not None else getattr(self, "sfreq_", None)

    def _sfreq_of(self, X):
        rate = mne_sfreq(X)
        if rate is not None:
            return rate
        return None if self.sfreq is None else float(self.sfreq)

    def _check_fitted(self):
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    # ----------------------------------------------------------------------- seeding / module
    def _seed(self):
        if self.random_state is None:
            return None
        if isinstance(self.random_state, (int, np.integer)):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    @contextlib.contextmanager
    def _seeded(self):
        seed = self._seed()
        self._fit_seed = seed
        self._shuffle_generator = None
        if seed is None:
            self._rng = np.random.default_rng()
            yield
            return
        self._rng = np.random.default_rng(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield

    def _module_shape_kwargs(self):
        return {"n_channels": self.n_channels_in_, "n_times": self.n_times_in_}

    def initialize_module(self):
        user = self.get_params_for("module")
        clash = [name for name in self._inferred_module_params if name in user]
        if clash:
            raise ValueError(
                f"module__{clash[0]} is set by {type(self).__name__} itself at fit, from the data "
                f"and its own parameters ({', '.join(self._inferred_module_params)}); leave it "
                "out (sigest info NAME lists the network parameters to set)"
            )
        kwargs = {**self._module_shape_kwargs(), **user}
        if self.module is None:
            raise ValueError(f"{type(self).__name__} needs a module (an nn.Module class); got None")
        self.module_ = self.initialized_instance(self.module, kwargs)
        return self

    def initialize(self):
        if not hasattr(self, "n_channels_in_"):
            raise NotFittedError(
                f"{type(self).__name__}.initialize() needs the data's shape; call fit(X, y)."
            )
        return super().initialize()

    # ---------------------------------------------------------------------------- data flow
    def get_dataset(self, X, y=None):
        if isinstance(X, torch.utils.data.Dataset):
            return X
        return SignalDataset(X, y)

    def get_iterator(self, dataset, training=False):
        prefix = "iterator_train" if training else "iterator_valid"
        kwargs = self.get_params_for(prefix)
        base = dataset.dataset if isinstance(dataset, torch.utils.data.Subset) else dataset
        plain = set(kwargs) <= {"batch_size", "shuffle"} and not self._needs_data_loader
        if plain and getattr(self, prefix) is torch.utils.data.DataLoader \
                and isinstance(base, SignalDataset):
            batch_size = kwargs.get("batch_size", self.batch_size)
            if batch_size == -1:
                batch_size = len(dataset)
            return ArrayBatchIterator(dataset, batch_size, kwargs.get("shuffle", training),
                                      generator=lambda: self.__dict__.get("_shuffle_generator"))
        if getattr(self, prefix) is torch.utils.data.DataLoader and "collate_fn" not in kwargs \
                and isinstance(base, SignalDataset):
            kwargs["collate_fn"] = _batch_collate
        kwargs.setdefault("batch_size", self.batch_size)
        if kwargs["batch_size"] == -1:
            kwargs["batch_size"] = len(dataset)
        return getattr(self, prefix)(dataset, **kwargs)

    #: True when batches must come from a torch DataLoader rather than sigest's faster
    #: ArrayBatchIterator (Accelerate shards only DataLoaders over processes)
    _needs_data_loader = False

    def get_split_datasets(self, X, y=None, **fit_params):
        dataset = self.get_dataset(X, y)
        split = self.train_split
        if not split:
            return dataset, None
        if isinstance(split, float):
            if not 0 < split < 1:
                raise ValueError(f"train_split as a float must be in (0, 1); got {split}")
            stratified = isinstance(self, NeuralNetClassifier) and y is not None
            split = ValidSplit(split, stratified=stratified, random_state=self._seed())
        if y is None:
            return split(dataset, **fit_params)
        return split(dataset, y, **fit_params)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if not training:  # validation noise is drawn the same way every epoch
            self._valid_rng = np.random.default_rng(self.__dict__.get("_valid_seed", 0))
        elif self.__dict__.get("_fit_seed") is not None:
            # Shuffling, dropout and noise of epoch k depend only on (seed, k), so training
            # resumed from a checkpoint of epoch k repeats an uninterrupted run exactly.
            sequence = np.random.SeedSequence([self._fit_seed, len(self.history)])
            torch_seed = int(sequence.generate_state(1, np.uint64)[0] >> 1)
            _seed_torch(torch_seed)
            # shuffling gets its own generator: fits in parallel threads must not share one
            self._shuffle_generator = torch.Generator().manual_seed(torch_seed)
            self._rng = np.random.default_rng(sequence)
        return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)

    def _set_training(self, training=True):
        # module.train() walks every submodule; skip it when nothing changes (a hot path)
        modules = [getattr(self, name + "_", None) for name in self._modules + self._criteria]
        if any(isinstance(m, torch.nn.Module) and m.training != training for m in modules):
            super()._set_training(training)

    def _noisy_batch(self, Xi, rng):
        """A noisy copy of the batch ``Xi`` (a tensor) from the fitted ``noise_``."""
        noisy = self.noise_.inject(Xi.cpu().numpy(), rng)
        return torch.from_numpy(np.asarray(noisy, dtype=np.float32)).to(Xi.device)

    def _scale_of(self, x):
        """Each epoch's standard deviation (1 for flat epochs) with ``epoch_scaling="std"``."""
        if getattr(self, "epoch_scaling", None) == "std":
            return epoch_scale(x)[0]
        return None

    def _forward_array(self, X3, batch_fn=None):
        """``batch_fn`` (default ``_predict_batch``) of ``X3`` by batches in eval mode, as numpy."""
        batch_fn = self._predict_batch if batch_fn is None else batch_fn
        self.module_.eval()
        outputs = []
        batch_size = self.batch_size if self.batch_size and self.batch_size > 0 else len(X3)
        batch_size = max(batch_size, 256)
        with torch.no_grad():
            for start in range(0, len(X3), batch_size):
                xb = torch.from_numpy(np.array(X3[start:start + batch_size], dtype=np.float32))
                outputs.append(to_numpy(batch_fn(xb.to(self.device))))
        return np.concatenate(outputs) if outputs else np.empty((0,))

    def _predict_batch(self, xb):
        return self.infer(xb)

    # ----------------------------------------------------------------------- training steps
    def _loss_and_output(self, batch, rng, training, fit_params):
        """``(loss, y_pred)`` of one batch; ``rng`` draws the batch's noise.

        Subclasses put their loss here (noise on the fly, scaling, extra terms); the training
        and validation steps, and :mod:`sigest.scale`, call it. The default is skorch's step.
        """
        Xi, yi = batch
        y_pred = self.infer(Xi, **fit_params)
        return self.get_loss(y_pred, yi, X=Xi, training=training), y_pred

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        loss, y_pred = self._loss_and_output(batch, self._rng, True, fit_params)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def validation_step(self, batch, **fit_params):
        self._set_training(False)
        with torch.no_grad():
            loss, y_pred = self._loss_and_output(batch, self._valid_rng, False, fit_params)
        return {"loss": loss, "y_pred": y_pred}

    # ------------------------------------------------------------------------------ fitting
    def _fit_validated(self, X3, y, fit_params, *, partial):
        if "sample_weight" in fit_params:
            raise TypeError(f"{type(self).__name__}.fit does not support sample_weight")
        self._valid_seed = 0 if self._seed() is None else self._seed() + 1
        with self._seeded():
            if not self.initialized_ or (not partial and not self.warm_start):
                self.initialize()
            self.__dict__["_partial_call"] = partial  # callbacks may tell the two apart
            try:
                NeuralNet.partial_fit(self, X3, y, **fit_params)
            finally:
                self.__dict__.pop("_partial_call", None)
        return self

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Train for ``max_epochs`` more epochs without re-initialising the network."""
        reset = not self.__sklearn_is_fitted__()
        X3, y_prepared = self._prepare_fit_or_restore(X, y, reset=reset)
        return self._fit_validated(X3, y_prepared, fit_params, partial=True)

    def _prepare_fit_or_restore(self, X, y, *, reset):
        """:meth:`_prepare_fit`; if it refuses the data or a parameter, the estimator is left
        as it was (a fitted model stays usable, not half reset to the refused data)."""
        state = dict(self.__dict__)
        try:
            return self._prepare_fit(X, y, reset=reset)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(state)
            raise

    def fit(self, X, y=None, **fit_params):
        """Fit the network to ``X`` (and ``y``); the network is re-initialised first.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_times) or (n_epochs, n_channels, n_times)
            Signal epochs, or an ``mne.Epochs``.
        y : array-like, optional
            See the subclass.
        **fit_params : dict
            Passed to the module's forward and to ``train_split``.

        Returns
        -------
        self
        """
        reset = not (self.warm_start and self.__sklearn_is_fitted__())
        X3, y_prepared = self._prepare_fit_or_restore(X, y, reset=reset)
        return self._fit_validated(X3, y_prepared, fit_params, partial=False)

    # ------------------------------------------------------------------------- persistence
    def save(self, path):
        """Save parameters (JSON) and weights to ``path``, atomically.

        The file runs no code when loaded: see :func:`sigest.load`.
        """
        return persistence.save(self, path)

    @classmethod
    def load(cls, path, device="cpu"):
        """Load an estimator saved with :meth:`save`."""
        return persistence.load(path, expected_class=cls, device=device)

    def _restore_fitted(self, fitted):
        """Set fitted attributes read from a file and rebuild the network."""
        for key, value in fitted.items():
            setattr(self, key, value)
        self.initialize()


def _unavailable(method):
    """Hide an inherited skorch method that makes no sense here from ``hasattr``."""
    return available_if(lambda self: False)(method)


class SignalDenoiser(TransformerMixin, _SignalNet, NeuralNet):
    """Base of sigest's denoisers: noisy epochs in, clean epochs out.

    ``fit(X, y)`` takes noisy ``X`` and clean targets ``y`` of the same shape; or clean ``X``
    alone (``y`` None or 1-D labels, which are ignored), in which case ``noise`` makes a new
    noisy copy of every batch in every epoch. ``transform`` and ``predict`` both return the
    denoised epochs, with the input's shape and float dtype, so a denoiser can sit first in a
    classification :class:`~sklearn.pipeline.Pipeline`.

    Parameters
    ----------
    module : type of torch.nn.Module
        The network; it is built with ``n_channels`` and ``n_times`` inferred from the data,
        plus any ``module__*`` parameters, and maps ``(batch, n_channels, n_times)`` to the same.
    criterion : type of torch loss, default=torch.nn.MSELoss
    optimizer : type of torch optimizer, default=torch.optim.Adam
    lr : float, default=1e-3
    max_epochs : int, default=10
    batch_size : int, default=64
    train_split : None, float or callable, default=None
        None trains on all data; a float in (0, 1) holds out that fraction for validation (seeded
        by ``random_state``); or any skorch ``train_split`` callable. When training on noisy
        copies of clean ``X``, a validation set of explicit noisy/clean pairs (skorch's
        ``predefined_split`` of a ``SignalDataset(X_noisy, X_clean)``) is scored as given.
    callbacks : list of skorch callbacks, optional
    noise : str, NoiseInjector or None, default="white"
        How noisy inputs are made from clean ``X`` when ``y`` is not a clean target: the name of
        a registered noise source, or a :class:`sigest.noise.NoiseInjector`. None requires clean
        targets ``y``.
    epoch_scaling : {"std", None}, default="std"
        "std" divides each epoch (and channel) of the noisy input, and its target, by the noisy
        input's standard deviation, and restores the units on output (EEGdenoiseNet's scaling).
    residual : {False, True, "gated"}, default=False
        False: the network outputs the clean signal (the papers' direct mapping). True: it
        estimates the artifact, and the output is the (scaled) input minus it, as in DnCNN and
        CDAE-BAM; at high SNR the network then starts near the identity instead of having to
        rebuild the whole signal. "gated": the output is ``g * input + network(input)``, with a
        weight ``g`` in (0, 1) per epoch and channel learned from the input's relative band
        powers (:class:`sigest.models.gate.GatedResidual`), so the network can pass the input
        through at high SNR and rebuild the signal at low SNR.
    sfreq : float, optional
        Sampling rate in Hz; checked against ``mne`` inputs and given to the noise.
    random_state : int, RandomState or None, default=None
        Seeds weights, shuffling and noise: the same seed gives the same weights on CPU.
    verbose : int, default=0
        1 prints an epoch table and a progress bar.
    device : str, default="cpu"
    warm_start : bool, default=False
    **kwargs
        Other skorch parameters and prefixed ones (``module__*``, ``optimizer__*``, ...).

    Attributes
    ----------
    n_channels_in_, n_times_in_, n_features_in_ : int
        The fitted epoch shape (``n_features_in_`` is ``n_channels * n_times``).
    noise_ : NoiseInjector or None
        The fitted noise used to train.
    module_ : torch.nn.Module
        The trained network.
    """

    _fitted_attrs = _SignalNet._fitted_attrs
    predict_proba = _unavailable(NeuralNet.predict_proba)

    def __init__(self, module=None, *, criterion=torch.nn.MSELoss, optimizer=torch.optim.Adam,
                 lr=1e-3, max_epochs=10, batch_size=64, train_split=None, callbacks=None,
                 noise="white", epoch_scaling="std", residual=False, sfreq=None,
                 random_state=None, verbose=0, device="cpu", warm_start=False, **kwargs):
        super().__init__(module, criterion=criterion, optimizer=optimizer, lr=lr,
                         max_epochs=max_epochs, batch_size=batch_size, train_split=train_split,
                         callbacks=callbacks, verbose=verbose, device=device,
                         warm_start=warm_start, **kwargs)
        self.noise = noise
        self.epoch_scaling = epoch_scaling
        self.residual = residual
        self.sfreq = sfreq
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _prepare_fit(self, X, y, *, reset):
        if self.epoch_scaling not in ("std", None):
            raise ValueError(f"epoch_scaling must be 'std' or None; got {self.epoch_scaling!r}")
        if not (isinstance(self.residual, (bool, np.bool_)) or self.residual == "gated"):
            raise ValueError(f"residual must be False, True or 'gated'; got {self.residual!r}")
        X3, rank = self._check_X(X, reset=reset)
        if y is not None and not is_mne_data(y):
            y = np.asarray(y)
        if y is not None and np.ndim(y) > 1 or is_mne_data(y):
            check_consistent_length(X3, y)
            self._noise_mode = False
            self.noise_ = None
            return X3, check_clean_target(y, X3, rank, owner=type(self).__name__)
        if y is not None:
            y = column_or_1d(y, warn=False)
            check_consistent_length(X3, y)
        self.noise_ = self._fitted_noise(X3)
        self._noise_mode = True
        return X3, None  # batches are cast to float32 as they are drawn (memmaps stay on disk)

    def _fitted_noise(self, X3):
        from .noise import make_noise

        if self.noise is None:
            raise ValueError(
                f"{type(self).__name__} with noise=None needs clean targets y with X's shape; got "
                "y=None or 1-D labels. Pass clean targets, or a noise (e.g. noise='white' or a "
                "NoiseInjector) to train on noisy copies of clean X."
            )
        noise = make_noise(self.noise, sfreq=self._sfreq_for_check())
        return noise.fit(X3)

    def _pair(self, Xi, yi, rng):
        """(noisy input, clean target) for one batch.

        In noise mode a batch that carries clean targets of its own shape (a validation set of
        explicit pairs, e.g. ``train_split=predefined_split(...)``) is used as given.
        """
        if not self.__dict__.get("_noise_mode", False) or (
                yi is not None and tuple(yi.shape) == tuple(Xi.shape)):
            return Xi, yi
        return self._noisy_batch(Xi, rng), Xi

    def _loss_and_output(self, batch, rng, training, fit_params):
        Xi, yi = batch
        Xi = Xi.to(self.device)
        yi = yi.to(self.device) if yi is not None else None
        noisy, clean = self._pair(Xi, yi, rng)
        scale = self._scale_of(noisy)
        if scale is not None:
            noisy, clean = noisy / scale, clean / scale
        y_pred = self.infer(noisy, **fit_params)
        loss = self.get_loss(y_pred, clean, X=noisy, training=training)
        return loss, y_pred

    def initialize_module(self):
        super().initialize_module()
        if self.__dict__.get("residual") == "gated":
            from .models.gate import GatedResidual

            self.module_ = GatedResidual(self.module_, self.n_times_in_)
        return self

    def infer(self, x, **fit_params):
        out = super().infer(x, **fit_params)
        # models saved before the option existed have no attribute
        residual = self.__dict__.get("residual", False)
        return x - out if isinstance(residual, (bool, np.bool_)) and residual else out

    def _predict_batch(self, xb):
        if getattr(self, "epoch_scaling", None) != "std":
            return self.infer(xb)
        scale, flat = epoch_scale(xb)
        # a flat epoch (padding, a disconnected stretch) has nothing to denoise: it passes through
        return torch.where(flat, xb, self.infer(xb / scale) * scale)

    def transform(self, X):
        """Denoise ``X``.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_times) or (n_epochs, n_channels, n_times)
            Noisy epochs, or an ``mne.Epochs``.

        Returns
        -------
        X_denoised : ndarray of the shape and float dtype of ``X``
        """
        X3, rank = self._check_X(X, reset=False)
        return restore_rank(self._denoise(X3).astype(X3.dtype, copy=False), rank)

    def _denoise(self, X3):
        """Denoised checked 3-D epochs; :meth:`transform` restores the input's rank and dtype."""
        return self._forward_array(X3).reshape(X3.shape)

    def predict(self, X):
        """Denoise ``X``; the same as :meth:`transform`."""
        return self.transform(X)

    def noisy_pairs(self, X, y=None, random_state=0):
        """The (noisy, clean) epochs this denoiser is scored on for ``X`` and ``y``.

        With clean targets ``y`` that is ``(X, y)``; otherwise clean ``X`` is mixed under
        ``random_state`` with the noise the denoiser was trained with, drawn from the held-out
        (``split="test"``) part of recorded noise sources, so that a score (``score``, the
        scorers of :mod:`sigest.metrics`, a ``GridSearchCV`` fold) never sees training noise.
        """
        X3, rank = self._check_X(X, reset=False)
        if y is not None and not is_mne_data(y):
            y = np.asarray(y)
        if y is not None and (np.ndim(y) > 1 or is_mne_data(y)):
            return restore_rank(X3, rank), restore_rank(check_clean_target(y, X3, rank), rank)
        noise = self._scoring_noise(X3)
        noisy = noise.inject(X3, np.random.default_rng(random_state)).astype(X3.dtype)
        return restore_rank(noisy, rank), restore_rank(X3, rank)

    def _scoring_noise(self, X3):
        """The noise :meth:`noisy_pairs` mixes into clean ``X3``: the training noise's settings
        on the held-out part of its sources."""
        noise = getattr(self, "noise_", None)
        if noise is None:  # a loaded model, or one fitted on explicit pairs
            noise = self._fitted_noise(X3)
        from .noise import held_out_noise

        return held_out_noise(noise).fit(X3)

    def score(self, X, y=None):
        """Negative temporal RRMSE of the denoised output against the clean epochs.

        Parameters
        ----------
        X : array-like
            Noisy epochs when ``y`` holds clean targets; clean epochs otherwise (they are mixed
            with the noise first, a fixed draw).
        y : array-like of X's shape, 1-D labels or None

        Returns
        -------
        score : float
            ``-rrmse_temporal(clean, denoised)``; higher is better.
        """
        from .metrics import rrmse_temporal

        noisy, clean = self.noisy_pairs(X, y)
        return -float(rrmse_temporal(clean, self.transform(noisy)))


class SignalClassifier(_SignalNet, NeuralNetClassifier):
    """Base of sigest's classifiers: epochs in, labels out.

    Labels may be of any type (``classes_`` as in scikit-learn); the module gets
    ``n_channels``, ``n_times`` and ``n_classes`` inferred from the data and returns logits.

    Parameters
    ----------
    module : type of torch.nn.Module
    criterion : type of torch loss, default=torch.nn.CrossEntropyLoss
    optimizer : type of torch optimizer, default=torch.optim.Adam
    lr : float, default=1e-3
    max_epochs : int, default=10
    batch_size : int, default=64
    train_split : None, float or callable, default=None
        As for :class:`SignalDenoiser`; a float split is stratified.
    callbacks : list of skorch callbacks, optional
    noise : str, NoiseInjector or None, default=None
        Noise augmentation: when given, every training batch is a new noisy copy.
    epoch_scaling : {"std", None}, default=None
        "std" z-scores each epoch and channel before the network.
    data_scaling : {"train-std", None}, default="train-std"
        "train-std" divides every input by the per-channel standard deviation of the training
        epochs (``data_scale_``, fitted once), so the network sees the signal near unit scale
        whether it comes in volts or microvolts; None passes it as given.
    class_weight : None, "balanced" or dict, default=None
        Weights of the classes in the cross-entropy loss.
    sfreq : float, optional
    random_state : int, RandomState or None, default=None
    verbose : int, default=0
    device : str, default="cpu"
    warm_start : bool, default=False
    **kwargs
        Other skorch parameters and prefixed ones.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    data_scale_ : ndarray of shape (n_channels, 1)
        The divisor of ``data_scaling`` (ones when it is None).
    n_channels_in_, n_times_in_, n_features_in_ : int
    """

    _fitted_attrs = _SignalNet._fitted_attrs + ("classes_", "data_scale_")

    def __init__(self, module=None, *, criterion=torch.nn.CrossEntropyLoss,
                 optimizer=torch.optim.Adam, lr=1e-3, max_epochs=10, batch_size=64,
                 train_split=None, callbacks=None, noise=None, epoch_scaling=None,
                 data_scaling="train-std", class_weight=None, sfreq=None, random_state=None,
                 verbose=0, device="cpu", warm_start=False, **kwargs):
        super().__init__(module, criterion=criterion, optimizer=optimizer, lr=lr,
                         max_epochs=max_epochs, batch_size=batch_size, train_split=train_split,
                         callbacks=callbacks, verbose=verbose, device=device,
                         warm_start=warm_start, **kwargs)
        self.noise = noise
        self.epoch_scaling = epoch_scaling
        self.data_scaling = data_scaling
        self.class_weight = class_weight
        self.sfreq = sfreq
        self.random_state = random_state

    @property
    def classes_(self):
        try:
            return self.__dict__["_classes"]
        except KeyError:
            raise AttributeError("classes_") from None

    @classes_.setter
    def classes_(self, value):
        self.__dict__["_classes"] = np.asarray(value)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags

    def _extra_default_callbacks(self):
        return [("valid_acc", EpochScoring(_encoded_accuracy, name="valid_acc",
                                           lower_is_better=False))]

    def _module_shape_kwargs(self):
        return {**super()._module_shape_kwargs(), "n_classes": len(self.classes_)}

    def check_data(self, X, y):
        pass

    def _prepare_fit(self, X, y, *, reset):
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is "
                             "None; pass class labels")
        X3, _ = self._check_X(X, reset=reset)
        y = column_or_1d(y, warn=True)
        check_consistent_length(X3, y)
        check_classification_targets(y)
        if reset:
            labels = self.__dict__.get("_partial_classes")
            if labels is None:
                labels = self.classes if self.classes is not None else y
            encoder = LabelEncoder().fit(labels)
            if len(encoder.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs at least 2 classes in y; got 1 class "
                    f"({encoder.classes_[0]!r})"
                )
            self.classes_ = encoder.classes_
        unknown = np.setdiff1d(y, self.classes_)
        if len(unknown):
            raise ValueError(f"y has labels {unknown[:5].tolist()} not in classes_ "
                             f"{self.classes_.tolist()}")
        y_encoded = np.searchsorted(self.classes_, y).astype(np.int64)
        self.noise_ = None if self.noise is None else self._fitted_noise(X3)
        if self.data_scaling not in ("train-std", None):
            raise ValueError(f"data_scaling must be 'train-std' or None; got "
                             f"{self.data_scaling!r}")
        if reset:
            self.data_scale_ = self._fitted_data_scale(X3)
        self._class_weight_tensor()  # refuses bad class weights before any training
        return X3, y_encoded

    def _fitted_data_scale(self, reference):
        """``data_scale_`` from the training epochs ``reference``."""
        if self.data_scaling is None or len(reference) == 0:
            return np.ones((reference.shape[1], 1))
        return channel_std(reference)

    _fitted_noise = SignalDenoiser._fitted_noise

    def initialize_criterion(self):
        kwargs = self.get_params_for("criterion")
        weight = self._class_weight_tensor()
        if weight is not None and "weight" not in kwargs:
            kwargs["weight"] = weight
        self.criterion_ = self.initialized_instance(self.criterion, kwargs)
        return self

    def _class_weight_tensor(self):
        if self.class_weight is None:
            return None
        classes = self.classes_
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            counts = getattr(self, "_class_counts", None)
            if counts is None:
                return None
            weights = counts.sum() / (len(classes) * np.maximum(counts, 1))
        elif isinstance(self.class_weight, dict):
            known = set(classes.tolist())
            unknown = [c for c in self.class_weight if c not in known]
            if unknown:
                raise ValueError(f"class_weight has classes {unknown} not in classes_ "
                                 f"{classes.tolist()}")
            try:
                weights = np.array([float(self.class_weight.get(c, 1.0)) for c in classes])
            except (TypeError, ValueError):
                weights = np.array([np.nan])
            if not np.all(np.isfinite(weights) & (weights >= 0)):
                raise ValueError(f"class_weight values must be finite numbers >= 0; got "
                                 f"{self.class_weight!r}")
        else:
            raise ValueError(
                f"class_weight must be None, 'balanced' or a dict; got {self.class_weight!r}"
            )
        return torch.as_tensor(weights, dtype=torch.float32)

    def fit(self, X, y, **fit_params):
        """Fit the classifier to epochs ``X`` and labels ``y`` (any label type)."""
        return super().fit(X, y, **fit_params)

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Train ``max_epochs`` more epochs without re-initialising the network.

        ``classes``, every label ``y`` may take, sets ``classes_`` on the first call, whose
        ``y`` may lack some of them (scikit-learn's convention); later calls check it.
        """
        if classes is not None:
            classes = np.unique(column_or_1d(classes))
            if self.__sklearn_is_fitted__() and not np.array_equal(classes, self.classes_):
                raise ValueError(f"classes={classes.tolist()} differs from classes_ "
                                 f"{self.classes_.tolist()} of the first partial_fit call")
            self.__dict__["_partial_classes"] = classes
        try:
            return super().partial_fit(X, y, **fit_params)
        finally:
            self.__dict__.pop("_partial_classes", None)

    def _fit_validated(self, X3, y, fit_params, *, partial):
        self._class_counts = np.bincount(y, minlength=len(self.classes_)).astype(float)
        return super()._fit_validated(X3, y, fit_params, partial=partial)

    def _augment(self, Xi, rng):
        if getattr(self, "noise_", None) is None:
            return Xi
        return self._noisy_batch(Xi, rng)

    def _logits(self, xb, **fit_params):
        data_scale = getattr(self, "data_scale_", None)  # absent from files saved before it
        if data_scale is not None:
            xb = xb / torch.as_tensor(data_scale, dtype=xb.dtype, device=xb.device)
        scale = self._scale_of(xb)
        if scale is not None:
            xb = (xb - xb.mean(dim=-1, keepdim=True)) / scale
        return self.infer(xb, **fit_params)

    def _loss_and_output(self, batch, rng, training, fit_params):
        Xi, yi = batch
        Xi = Xi.to(self.device)
        if training:  # noise augments training batches only
            Xi = self._augment(Xi, rng)
        y_pred = self._logits(Xi, **fit_params)
        return self.get_loss(y_pred, yi.to(self.device), X=Xi, training=training), y_pred

    def _predict_batch(self, xb):
        return torch.softmax(self._logits(xb), dim=-1)

    def evaluation_step(self, batch, training=False):
        # skorch's forward/forward_iter (and so its predict_proba on a dataset) see the logits
        # of the scaled input, as training does
        self.check_is_fitted()
        Xi, _ = batch
        with torch.set_grad_enabled(training):
            self._set_training(training)
            return self._logits(Xi.to(self.device))

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_times) or (n_epochs, n_channels, n_times)
            Or a torch Dataset, as skorch's ``EpochScoring`` passes its data; it goes through
            skorch's ``forward_iter``, whose cached outputs the callback serves.

        Returns
        -------
        proba : ndarray of shape (n_epochs, n_classes)
        """
        if isinstance(X, torch.utils.data.Dataset):
            proba = NeuralNetClassifier.predict_proba(self, X).astype(np.float64)
        else:
            X3, _ = self._check_X(X, reset=False)
            proba = self._forward_array(X3).reshape(len(X3), -1).astype(np.float64)
        # a float32 softmax sums to 1 only to ~1e-7, which scikit-learn's log_loss warns about
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Predicted labels, of the type of the training labels.

        A torch Dataset (skorch's ``EpochScoring`` passes one, with its encoded targets) gets
        skorch's encoded labels, ``0 .. n_classes - 1``, the positions in ``classes_``.
        """
        proba = self.predict_proba(X)
        if isinstance(X, torch.utils.data.Dataset):
            return proba.argmax(axis=1)
        return self.classes_[proba.argmax(axis=1)]

    def score(self, X, y, sample_weight=None):
        """Accuracy on ``X`` and ``y``."""
        from sklearn.metrics import accuracy_score

        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)


def _encoded_accuracy(net, X, y):
    """Validation accuracy on skorch's encoded labels (ints), whatever the original labels."""
    if y is None:
        return float("nan")
    if isinstance(X, torch.utils.data.Subset):
        X_arr = X.dataset.X[np.asarray(X.indices)]
    else:
        X_arr = X.X if isinstance(X, SignalDataset) else X
    proba = net._forward_array(np.asarray(X_arr, dtype=np.float32))
    return float(np.mean(proba.argmax(axis=1) == to_numpy(y)))


class SignalGenerator(_SignalNet, NeuralNet):
    """Base of sigest's generators of synthetic epochs (GANs).

    The module has a ``generator(z, labels)`` mapping latent vectors of size
    ``module.latent_dim`` to ``(batch, n_channels, n_times)`` and a
    ``discriminator(x, labels)`` returning one logit (or critic score) per epoch; ``labels`` is
    None unless the model is conditional (``fit`` given ``y``). ``train_step`` alternates
    discriminator and generator updates; both losses are in the history (``train_loss`` is the
    generator's, ``train_loss_d`` the discriminator's).

    Parameters
    ----------
    module : type of torch.nn.Module
        Built with ``n_channels``, ``n_times`` and ``n_classes`` (0 when unconditional).
    criterion : type of torch loss, default=torch.nn.BCEWithLogitsLoss
        Used by ``loss="gan"``.
    optimizer : type of torch optimizer, default=torch.optim.Adam
        One instance for the generator (``optimizer__*``) and one for the discriminator.
    lr : float, default=2e-4
        Learning rate of the generator's optimizer, and of the discriminator's unless
        ``lr_discriminator`` is given.
    lr_discriminator : float, optional
        A separate learning rate for the discriminator (the two time-scale update rule of
        Heusel et al. 2017; e.g. ``lr=1e-4, lr_discriminator=4e-4``). skorch's ``LRScheduler``
        schedules ``optimizer_``, the generator's; the discriminator's rate stays fixed.
    max_epochs : int, default=50
    batch_size : int, default=64
    train_split : None, default=None
        Generators train on all data.
    callbacks : list of skorch callbacks, optional
        Gradient callbacks (``GradientNormClipping``) act on the discriminator's gradients
        after each critic step and on the generator's after each generator step.
    loss : {"gan", "wgan-gp"}, default="gan"
        Non-saturating GAN loss, or the Wasserstein loss with gradient penalty.
    n_critic : int or None, default=None
        Discriminator updates per generator update; None: 1 for ``loss="gan"``, 5 for
        ``"wgan-gp"`` (Gulrajani et al. 2017). Each update reuses the batch's real epochs with
        fresh synthetic ones (WGAN-GP's paper draws new real epochs too), so an epoch is
        ``n_critic`` critic passes over the data.
    gp_weight : float, default=10.0
        Weight of the gradient penalty (``loss="wgan-gp"``).
    spectral_weight : float, default=0.0
        Weight of a spectral term added to the generator's loss: the squared distances between
        the log mean periodogram, the mean log periodogram and the standard deviations of the
        log periodogram (per channel and frequency, per class when conditional) of the
        synthetic batch and of the real one (a spectral regulariser in the spirit of Durall et
        al., CVPR 2020); it is part of ``train_loss``. The log of the mean follows the loudest
        epochs, the mean of the log the typical one. 0 trains on the adversarial loss alone.
    spectral_bands : int, default=0
        With ``spectral_weight > 0``, also match the mean and the covariance of each epoch's log
        power in up to this many log-spaced frequency bands (fewer when the lowest would be
        narrower than a bin; per channel, per class when conditional). They capture how each
        epoch's spectrum varies from epoch to epoch, which the per-frequency terms, dominated
        by the periodogram's own noise, barely constrain. 0 for none.
    sampling_strategy : str, float or dict, default="auto"
        Target class counts of :meth:`fit_resample`, in imbalanced-learn's convention:
        ``"minority"``, ``"not minority"``, ``"not majority"`` (= ``"auto"``) or ``"all"`` bring
        those classes up to the majority's count; a float in (0, 1] is the minority/majority
        ratio wanted (two classes); a dict maps a class to its wanted count; a callable takes
        ``y`` and returns such a dict. As in imbalanced-learn, a ratio or a count below the
        present one is an error (over-sampling never removes epochs).
    sfreq : float, optional
    random_state : int, RandomState or None, default=None
    verbose : int, default=0
    device : str, default="cpu"
    warm_start : bool, default=False
    **kwargs
        Other skorch parameters and prefixed ones.

    Attributes
    ----------
    classes_ : ndarray or None
        The labels of a conditional model.
    data_mean_, data_std_ : ndarray of shape (n_channels, 1)
        The standardisation the networks were trained in.
    """

    _fitted_attrs = _SignalNet._fitted_attrs + ("classes_", "class_prior_", "data_mean_",
                                                "data_std_", "output_rank_")

    def __init__(self, module=None, *, criterion=torch.nn.BCEWithLogitsLoss,
                 optimizer=torch.optim.Adam, lr=2e-4, max_epochs=50, batch_size=64,
                 train_split=None, callbacks=None, loss="gan", n_critic=None, gp_weight=10.0,
                 sampling_strategy="auto", sfreq=None, random_state=None, verbose=0, device="cpu",
                 warm_start=False, lr_discriminator=None, spectral_weight=0.0, spectral_bands=0,
                 **kwargs):
        super().__init__(module, criterion=criterion, optimizer=optimizer, lr=lr,
                         max_epochs=max_epochs, batch_size=batch_size, train_split=train_split,
                         callbacks=callbacks, verbose=verbose, device=device,
                         warm_start=warm_start, **kwargs)
        self.loss = loss
        self.n_critic = n_critic
        self.lr_discriminator = lr_discriminator
        self.gp_weight = gp_weight
        self.spectral_weight = spectral_weight
        self.spectral_bands = spectral_bands
        self.sampling_strategy = sampling_strategy
        self.sfreq = sfreq
        self.random_state = random_state

    predict = _unavailable(NeuralNet.predict)
    predict_proba = _unavailable(NeuralNet.predict_proba)

    def _extra_default_callbacks(self):
        return [("train_loss_d", PassthroughScoring(name="train_loss_d", on_train=True))]

    def _module_shape_kwargs(self):
        n_classes = 0 if self.classes_ is None else len(self.classes_)
        return {**super()._module_shape_kwargs(), "n_classes": n_classes}

    def initialize_optimizer(self, triggered_directly=None):
        kwargs = self.get_params_for("optimizer")
        kwargs.setdefault("lr", self.lr)
        if self.optimizer in (torch.optim.Adam, torch.optim.AdamW):
            # the usual GAN setting, and WGAN-GP's (Gulrajani et al. 2017)
            kwargs.setdefault("betas", (0.5, 0.9) if self.loss == "wgan-gp" else (0.5, 0.999))
        self.optimizer_ = self.optimizer(self.module_.generator.parameters(), **kwargs)
        if self.lr_discriminator is not None:
            kwargs["lr"] = self.lr_discriminator
        self.optimizer_discriminator_ = self.optimizer(
            self.module_.discriminator.parameters(), **kwargs)
        return self

    def _prepare_fit(self, X, y, *, reset):
        if self.loss not in ("gan", "wgan-gp"):
            raise ValueError(f"loss must be 'gan' or 'wgan-gp'; got {self.loss!r}")
        if self.n_critic is not None and not (
                isinstance(self.n_critic, (int, np.integer)) and not isinstance(self.n_critic, bool)
                and self.n_critic >= 1):
            raise ValueError(f"n_critic must be a positive integer or None; got "
                             f"{self.n_critic!r}")
        lr_d = self.lr_discriminator
        if lr_d is not None and not (isinstance(lr_d, (int, float, np.number))
                                     and not isinstance(lr_d, bool) and lr_d > 0):
            raise ValueError(f"lr_discriminator must be a positive number or None; got {lr_d!r}")
        check_non_negative(self.spectral_weight, "spectral_weight")
        check_non_negative(self.gp_weight, "gp_weight")
        check_non_negative_int(self.spectral_bands, "spectral_bands")
        if self.spectral_bands and not self.spectral_weight:
            raise ValueError(f"spectral_bands={self.spectral_bands} needs spectral_weight > 0 "
                             f"(it adds to the spectral term); got spectral_weight="
                             f"{self.spectral_weight!r}")
        X3, rank = self._check_X(X, reset=reset)
        if self.spectral_bands and X3.shape[-1] < 2:
            raise ValueError(f"spectral_bands needs epochs of at least 2 samples (a band above "
                             f"DC); got n_times={X3.shape[-1]}")
        if reset:
            self.output_rank_ = rank
            self.data_mean_ = X3.mean(axis=(0, 2), keepdims=True)[0]
            self.data_std_ = channel_std(X3)
        if not reset:
            self._check_labels_of_first_fit(y)
        y_encoded = None
        if y is not None:
            y = column_or_1d(y, warn=True)
            check_consistent_length(X3, y)
            check_classification_targets(y)
            if reset:
                self.classes_, counts = np.unique(y, return_counts=True)
                self.class_prior_ = counts / counts.sum()
            self._check_known_labels(y, " of the first fit")
            y_encoded = np.searchsorted(self.classes_, y).astype(np.int64)
        elif reset:
            self.classes_, self.class_prior_ = None, None
        Xs = ((X3 - self.data_mean_) / self.data_std_).astype(np.float32)
        return Xs, y_encoded

    def _check_labels_of_first_fit(self, y):
        """Continued training (``partial_fit``, ``warm_start``) keeps the first fit's kind of
        model: conditional on labels or not."""
        if y is not None and self.classes_ is None:
            raise ValueError(f"{type(self).__name__} was fitted without labels (unconditional); "
                             "continue training it with y=None, or fit a new one with y")
        if y is None and self.classes_ is not None:
            raise ValueError(f"{type(self).__name__} is conditional (fitted with classes_ "
                             f"{self.classes_.tolist()}); continued training needs y")

    def _check_known_labels(self, y, where=""):
        try:
            unknown = np.setdiff1d(y, self.classes_)
        except TypeError:  # labels numpy cannot compare with classes_ (None, mixed types)
            known = set(self.classes_)
            unknown = np.array([v for v in y if v not in known], dtype=object)
        if len(unknown):
            raise ValueError(f"y has labels {unknown[:5].tolist()} not in classes_ "
                             f"{self.classes_.tolist()}{where}")

    def _labels(self, yi):
        return None if yi is None or self.classes_ is None else yi.to(self.device)

    def _d_loss(self, real, fake, labels):
        d_real = self.module_.discriminator(real, labels).reshape(-1)
        d_fake = self.module_.discriminator(fake, labels).reshape(-1)
        if self.loss == "gan":
            return (self.criterion_(d_real, torch.ones_like(d_real))
                    + self.criterion_(d_fake, torch.zeros_like(d_fake)))
        alpha = torch.rand(real.shape[0], 1, 1, device=real.device)
        mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        d_mixed = self.module_.discriminator(mixed, labels).reshape(-1)
        grad, = torch.autograd.grad(d_mixed.sum(), mixed, create_graph=True)
        penalty = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
        return d_fake.mean() - d_real.mean() + self.gp_weight * penalty

    def _g_loss(self, fake, labels):
        d_fake = self.module_.discriminator(fake, labels).reshape(-1)
        if self.loss == "gan":
            return self.criterion_(d_fake, torch.ones_like(d_fake))
        return -d_fake.mean()

    def _spectral_loss(self, real, fake, labels):
        window = torch.hann_window(real.shape[-1], device=real.device)
        p_real, p_fake = hann_power(real, window), hann_power(fake, window)
        groups = [slice(None)] if labels is None else [labels == k for k in labels.unique()]
        loss = 0.0
        for g in groups:
            r, f = p_real[g], p_fake[g]
            log_r, log_f = r.log(), f.log()
            # the mean spectrum (what a PSD distance compares, dominated by the loudest epochs),
            # the typical epoch's log power (what a classifier on log spectra compares) and its
            # spread
            loss = loss + ((r.mean(0).log() - f.mean(0).log()) ** 2).mean()
            loss = loss + ((log_r.mean(0) - log_f.mean(0)) ** 2).mean()
            if len(r) > 1:
                loss = loss + ((log_r.std(0) - log_f.std(0)) ** 2).mean()
                if self.spectral_bands:
                    br, bf = self._band_log_power(r), self._band_log_power(f)
                    loss = loss + ((br.mean(0) - bf.mean(0)) ** 2).mean() + (
                        (torch.cov(br.T) - torch.cov(bf.T)) ** 2).mean()
        return loss / len(groups)

    def _band_log_power(self, power):
        """``(batch, channels, bins)`` -> ``(batch, channels * bands)`` log band powers."""
        n_bins = power.shape[-1]
        edges = np.unique(np.geomspace(1, n_bins, self.spectral_bands + 1).astype(int))
        bands = [power[..., a:b].mean(-1) for a, b in zip(edges[:-1], edges[1:])]
        return torch.stack(bands, dim=-1).log().flatten(1)

    def _latent(self, n, generator=None):
        return torch.randn(n, self.module_.latent_dim, generator=generator, device=self.device)

    def train_step(self, batch, **fit_params):
        self._set_training(True)
        real, yi = batch
        real = real.to(self.device)
        labels = self._labels(yi)
        n_critic = self.n_critic or (5 if self.loss == "wgan-gp" else 1)
        for _ in range(n_critic):
            self.optimizer_discriminator_.zero_grad()
            with torch.no_grad():
                fake = self.module_.generator(self._latent(len(real)), labels)
            loss_d = self._d_loss(real, fake, labels)
            loss_d.backward()
            self.notify("on_grad_computed", batch=batch, named_parameters=TeeGenerator(
                self.module_.discriminator.named_parameters()))
            self.optimizer_discriminator_.step()
        self.optimizer_.zero_grad()
        fake = self.module_.generator(self._latent(len(real)), labels)
        loss_g = self._g_loss(fake, labels)
        if self.spectral_weight:
            loss_g = loss_g + self.spectral_weight * self._spectral_loss(real, fake, labels)
        loss_g.backward()
        self.notify("on_grad_computed", batch=batch,
                    named_parameters=TeeGenerator(self.module_.generator.named_parameters()))
        self.optimizer_.step()
        self.history.record_batch("train_loss_d", loss_d.item())
        return {"loss": loss_g.detach(), "y_pred": fake.detach()}

    def check_data(self, X, y=None):
        pass

    def sample(self, n_samples, y=None, random_state=None, return_y=False):
        """Draw synthetic epochs.

        Parameters
        ----------
        n_samples : int
            How many epochs.
        y : label, array-like of shape (n_samples,) or None
            The class of each epoch (conditional models only); None draws classes by their
            frequency in the training data.
        random_state : int, RandomState or None
            The same value gives the same epochs.
        return_y : bool, default=False
            Also return the labels.

        Returns
        -------
        X : ndarray of shape (n_samples, n_times) or (n_samples, n_channels, n_times)
            In the units and rank of the training data.
        y : ndarray of shape (n_samples,) or None, only if ``return_y``
            None for a generator fitted without labels.
        """
        self._check_fitted()
        check_non_negative_int(n_samples, "n_samples")
        rs = check_random_state(random_state)
        gen = torch.Generator(device=self.device).manual_seed(int(rs.randint(2**31 - 1)))
        labels_out = None
        labels = None
        if self.classes_ is not None:
            if y is None:
                idx = rs.choice(len(self.classes_), size=n_samples, p=self.class_prior_)
            else:
                y_arr = np.full(n_samples, y) if np.ndim(y) == 0 else column_or_1d(y)
                if len(y_arr) != n_samples:
                    raise ValueError(f"y must have n_samples={n_samples} labels; got {len(y_arr)}")
                self._check_known_labels(y_arr)
                idx = np.searchsorted(self.classes_, y_arr)
            labels_out = self.classes_[idx]
            labels = torch.as_tensor(idx, dtype=torch.int64, device=self.device)
        elif y is not None:
            raise ValueError("this generator was fitted without labels; sample it with y=None")
        self.module_.eval()
        chunks = []
        with torch.no_grad():
            for start in range(0, n_samples, 1024):
                stop = min(start + 1024, n_samples)
                z = self._latent(stop - start, generator=gen)
                lab = None if labels is None else labels[start:stop]
                chunks.append(to_numpy(self.module_.generator(z, lab)))
        shape = (0, self.n_channels_in_, self.n_times_in_)
        X3 = np.concatenate(chunks) if chunks else np.empty(shape, dtype=np.float32)
        dtype = self.data_mean_.dtype  # the training data's float dtype
        X3 = (X3.astype(np.float64) * self.data_std_ + self.data_mean_).astype(dtype, copy=False)
        X_out = restore_rank(X3, self.output_rank_)
        return (X_out, labels_out) if return_y else X_out

    def fit_resample(self, X, y):
        """Fit a conditional generator to ``(X, y)`` and add synthetic epochs of minority classes.

        The real epochs come first, untouched (copied); synthetic ones follow, as many per class
        as ``sampling_strategy`` asks.

        Returns
        -------
        X_resampled, y_resampled : ndarrays
        """
        if y is None:
            raise ValueError("fit_resample needs the class labels y of X; got y=None")
        targets = _sampling_targets(self.sampling_strategy, column_or_1d(y))  # before training
        self.fit(X, y)
        X3, rank = check_signals(X, sfreq=self._sfreq_for_check())
        y = column_or_1d(y)
        X_parts, y_parts = [restore_rank(X3.copy(), rank)], [y.copy()]
        for offset, (label, n_new) in enumerate(sorted(targets.items(), key=lambda kv: str(kv))):
            if n_new > 0:
                seed = None if self._seed() is None else self._seed() + offset
                X_parts.append(self.sample(n_new, y=label, random_state=seed).astype(X3.dtype))
                y_parts.append(np.full(n_new, label, dtype=y.dtype))
        return np.concatenate(X_parts), np.concatenate(y_parts)


_STRATEGIES = ("auto", "not majority", "not minority", "minority", "all")


def _sampling_targets(strategy, y):
    """How many synthetic epochs per class, under imbalanced-learn's ``sampling_strategy``."""
    counts = dict(zip(*np.unique(y, return_counts=True)))
    if len(counts) < 2:
        raise ValueError(f"fit_resample needs at least 2 classes in y; got {len(counts)}")
    majority = max(counts.values())
    minority = min(counts, key=counts.get)
    if callable(strategy):
        strategy = strategy(y)
        if not isinstance(strategy, dict):
            raise ValueError(f"a callable sampling_strategy must return a dict of class counts; "
                             f"got {strategy!r}")
    if isinstance(strategy, str) and strategy in _STRATEGIES:
        # the classes to bring up to the majority's count (the majority itself needs none)
        chosen = {"minority": [minority],
                  "not minority": [c for c in counts if c != minority]}.get(strategy, counts)
        return {c: majority - counts[c] for c in chosen}
    if isinstance(strategy, numbers.Real) and not isinstance(strategy, bool):
        if len(counts) != 2:
            raise ValueError("a float sampling_strategy is for two classes only")
        if not 0 < strategy <= 1:
            raise ValueError(f"a float sampling_strategy is a minority/majority ratio in (0, 1]; "
                             f"got {strategy!r}")
        wanted = int(strategy * majority)
        if wanted < counts[minority]:
            raise ValueError(f"sampling_strategy={strategy!r} asks {wanted} epochs of class "
                             f"{minority!r}, which has {counts[minority]}; over-sampling never "
                             "removes epochs, so increase the ratio")
        return {minority: wanted - counts[minority]}
    if isinstance(strategy, dict):
        unknown = set(strategy) - set(counts)
        if unknown:
            raise ValueError(f"sampling_strategy names classes not in y: {sorted(unknown)}")
        fewer = {c: (int(n), counts[c]) for c, n in strategy.items() if int(n) < counts[c]}
        if fewer:
            raise ValueError(f"sampling_strategy asks fewer epochs than a class has "
                             f"{{class: (asked, present)}} = {fewer}; over-sampling never "
                             "removes epochs")
        return {c: int(n) - counts[c] for c, n in strategy.items()}
    raise ValueError(
        f"sampling_strategy must be one of {', '.join(map(repr, _STRATEGIES))}, a float, a dict "
        f"or a callable; got {strategy!r}"
    )

