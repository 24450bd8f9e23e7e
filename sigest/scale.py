"""Scale: multi-process / multi-GPU training through Accelerate, and data larger than RAM.

Three ways sigest goes beyond one process on in-memory arrays, none of them home-made:

- **Searches and cross-validation on many machines** go through joblib's Dask backend; nothing
  here is needed::

      from dask.distributed import Client
      import joblib
      client = Client("tcp://scheduler-host:8786")
      with joblib.parallel_backend("dask"):
          GridSearchCV(est, grid, n_jobs=-1).fit(X)

- **One network on several GPUs or processes** goes through skorch's
  :class:`skorch.hf.AccelerateMixin` and Hugging Face Accelerate: :func:`accelerate` turns any
  sigest estimator into an accelerated one; run the script with ``accelerate launch``.
- **Data larger than RAM**: every estimator trains from a memory-mapped array
  (``np.load(path, mmap_mode="r")``); batches are read by fancy indexing, so only the rows of
  a batch are loaded (see :func:`open_memmap_epochs`).

See ``docs/scaling.md`` for the commands.
"""

from __future__ import annotations

import contextlib

import numpy as np
from sklearn.base import clone

from .base import SignalClassifier, SignalDenoiser, SignalGenerator

__all__ = ["accelerate", "accelerated_class", "open_memmap_epochs", "unaccelerate"]

_CLASSES = {}


def _accelerate_mixin():
    try:
        from skorch.hf import AccelerateMixin
    except ImportError as exc:  # pragma: no cover - skorch always has it
        raise ImportError("sigest.scale.accelerate needs skorch >= 0.12") from exc
    return AccelerateMixin


def _require_accelerate():
    try:
        import accelerate  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "sigest.scale.accelerate needs Hugging Face Accelerate: pip install "
            "'sigest[accelerate]' (or pip install accelerate)"
        ) from exc


class _SigestAccelerate:
    """What sigest adds on top of skorch's AccelerateMixin (mixed in before it).

    - training steps keep the estimator's own loss (noise on the fly, epoch scaling, extra
      reconstruction terms) and call ``accelerator.backward`` under ``accelerator.autocast``;
    - logged losses are averaged over processes, so early stopping and the divergence guard
      take the same decision in every process (a different one would dead-lock the others);
    - every process draws its own noise (its process index joins the seed);
    - with several processes, batches come from a DataLoader, which Accelerate shards;
    - the network is unwrapped only after all callbacks ran (skorch unwraps before the
      callbacks' ``on_train_end``, and ``EarlyStopping(load_best=True)`` then loads weights
      saved under the wrapper's names);
    - pickling works although the class is made at run time, and :meth:`save` writes a plain
      (non-accelerated) estimator file.
    """

    # ---------------------------------------------------------------- pickling and cloning
    def __reduce__(self):
        return _rebuild, (self._sigest_base,), self.__getstate__()

    # --------------------------------------------------------------------------- devices
    @property
    def _device(self):
        return self.accelerator.device if self.device is None else self.device

    def _forward_array(self, X3, batch_fn=None):
        device, self.device = self.device, self._device
        try:
            return super()._forward_array(X3, batch_fn)
        finally:
            self.device = device

    # --------------------------------------------------------------------------- seeding
    @contextlib.contextmanager
    def _seeded(self):
        with super()._seeded():
            seed = self._seed()
            n_processes = self.accelerator.num_processes
            if seed is not None and n_processes > 1:
                self._rng = np.random.default_rng([seed, self.accelerator.process_index])
            yield

    # ---------------------------------------------------------------------------- steps
    def _training_loss(self, batch, fit_params):
        """(loss, y_pred) of one training batch, exactly as the estimator computes it."""
        device, self.device = self.device, self._device
        try:
            return self._loss_and_output(batch, self._rng, True, fit_params)
        finally:
            self.device = device

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        with self.accelerator.autocast():
            loss, y_pred = self._training_loss(batch, fit_params)
        self.accelerator.backward(loss)
        return {"loss": self._mean_over_processes(loss), "y_pred": y_pred}

    def validation_step(self, batch, **fit_params):
        device, self.device = self.device, self._device
        try:
            step = super().validation_step(batch, **fit_params)
        finally:
            self.device = device
        return {**step, "loss": self._mean_over_processes(step["loss"])}

    @property
    def _needs_data_loader(self):
        # accelerator.prepare shards a DataLoader over the processes and passes any other
        # iterator through, so every process would train on all batches
        return self.accelerator.num_processes > 1

    def _mean_over_processes(self, loss):
        loss = loss.detach()
        if self.accelerator.num_processes == 1:
            return loss
        return self.accelerator.reduce(loss, reduction="mean")

    # ------------------------------------------------------------------ train begin / end
    def initialize(self):
        if isinstance(self, SignalGenerator) and self.accelerator.num_processes > 1:
            raise NotImplementedError(
                f"{type(self).__name__}: multi-process training of generators (two networks, "
                "two optimizers) is not supported by sigest.scale.accelerate; train it in one "
                "process (mixed precision works) or use a denoiser or classifier."
            )
        return super().initialize()

    def _initialize_accelerator(self):
        # skorch prepares every criterion too; DistributedDataParallel refuses a loss without
        # trainable parameters (MSELoss, CrossEntropyLoss), so those stay unprepared.
        criteria = self._criteria
        self._criteria = [name for name in criteria if any(
            p.requires_grad for p in getattr(getattr(self, name + "_", None), "parameters",
                                             lambda: [])())]
        try:
            return super()._initialize_accelerator()
        finally:
            self._criteria = criteria

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self.accelerator.wait_for_everyone()
        AccelerateMixin = _accelerate_mixin()  # noqa: N806
        return super(AccelerateMixin, self).on_train_end(net, X=X, y=y, **kwargs)

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        finally:
            if self.unwrap_after_train:
                self._unwrap_accelerator()

    # ------------------------------------------------------------------------ persistence
    def save(self, path):
        """Save the trained estimator as its plain (non-accelerated) class (main process only).

        Load it with :func:`sigest.load` or the base class's ``load``; wrap it again with
        :func:`accelerate` to keep training.
        """
        self.accelerator.wait_for_everyone()
        if self.accelerator.is_main_process:
            unaccelerate(self).save(path)
        self.accelerator.wait_for_everyone()
        return path


def _rebuild(base):
    cls = accelerated_class(base)
    return cls.__new__(cls)


def accelerated_class(cls):
    """The accelerated subclass of a sigest estimator class (made once, then cached).

    It is ``(sigest additions, skorch.hf.AccelerateMixin, cls)``; it takes ``cls``'s parameters
    plus ``accelerator`` (an :class:`accelerate.Accelerator`) and ``unwrap_after_train``.

    Parameters
    ----------
    cls : type
        A subclass of :class:`~sigest.SignalDenoiser`, :class:`~sigest.SignalClassifier` or
        :class:`~sigest.SignalGenerator`.

    Returns
    -------
    type

    Examples
    --------
    >>> from sigest.estimators.tiny import TinyDenoiser
    >>> accelerated_class(TinyDenoiser).__name__
    'AcceleratedTinyDenoiser'
    """
    if getattr(cls, "_sigest_base", None) is not None:
        return cls
    if not (isinstance(cls, type)
            and issubclass(cls, (SignalDenoiser, SignalClassifier, SignalGenerator))):
        raise TypeError(f"accelerated_class needs a sigest estimator class; got {cls!r}")
    if cls not in _CLASSES:
        name = "Accelerated" + cls.__name__
        _CLASSES[cls] = type(name, (_SigestAccelerate, _accelerate_mixin(), cls), {
            "__module__": __name__, "__qualname__": name, "_sigest_base": cls,
            "__doc__": f"{cls.__name__} trained through Hugging Face Accelerate; "
                       "see :func:`sigest.scale.accelerate`.\n\n" + (cls.__doc__ or ""),
        })
    return _CLASSES[cls]


def accelerate(estimator, accelerator=None, *, unwrap_after_train=True, **accelerator_kwargs):
    """An unfitted copy of ``estimator`` that trains through Hugging Face Accelerate.

    skorch's :class:`~skorch.hf.AccelerateMixin` does the work: the network, optimizer and data
    loaders are ``accelerator.prepare``-d, so the same script trains on one CPU, on several
    GPUs (data-parallel, one process per GPU), with mixed precision or gradient accumulation,
    depending only on how it is launched (``accelerate launch ...``) and on the accelerator's
    settings. The estimator keeps its own loss, noise injection and scaling, its parameters
    (``get_params``, ``clone``, ``GridSearchCV``) and pickling.

    Parameters
    ----------
    estimator : sigest estimator
        Any registered (or custom) sigest denoiser or classifier; generators in one process
        only. Its parameters are copied, its fitted state is not.
    accelerator : accelerate.Accelerator, optional
        Made from ``accelerator_kwargs`` when None.
    unwrap_after_train : bool, default=True
        Give the plain network back after ``fit`` (needed to pickle or save it).
    **accelerator_kwargs
        Passed to :class:`accelerate.Accelerator` (e.g. ``mixed_precision="bf16"``,
        ``gradient_accumulation_steps=4``, ``cpu=True``).

    Returns
    -------
    accelerated : estimator
        An instance of :func:`accelerated_class` ``(type(estimator))`` with ``device=None``
        (the accelerator places the data and the network).

    Examples
    --------
    >>> import numpy as np
    >>> from sigest.estimators.tiny import TinyDenoiser
    >>> from sigest.scale import accelerate
    >>> X = np.random.default_rng(0).standard_normal((32, 128))
    >>> den = accelerate(TinyDenoiser(max_epochs=1, random_state=0), cpu=True).fit(X)
    >>> den.transform(X).shape
    (32, 128)

    Several processes or GPUs: put the same code in ``train.py`` and run
    ``accelerate launch --num_processes 4 train.py`` (``--cpu`` for CPU processes).
    """
    _require_accelerate()
    if accelerator is None:
        from accelerate import Accelerator

        accelerator = Accelerator(**accelerator_kwargs)
    elif accelerator_kwargs:
        raise TypeError("pass either an accelerator or accelerator keyword arguments, not both")
    cls = accelerated_class(getattr(type(estimator), "_sigest_base", type(estimator)))
    return cls(accelerator=accelerator, unwrap_after_train=unwrap_after_train,
               **_copied_params(estimator, device=None))


def _copied_params(estimator, device):
    """``estimator``'s parameters without the accelerator's, copied as :func:`sklearn.base.clone`
    copies them (so two estimators never share callback objects), on ``device``."""
    params = estimator.get_params(deep=False)
    for key in ("accelerator", "unwrap_after_train", "callbacks__print_log__sink"):
        params.pop(key, None)
    return {**{key: clone(value, safe=False) for key, value in params.items()},
            "device": device}


def unaccelerate(estimator):
    """The plain (non-accelerated) estimator of an accelerated one, with its trained weights.

    Parameters
    ----------
    estimator : accelerated estimator
        Made by :func:`accelerate`; fitted or not. It is left as it is (still wrapped for
        more training with ``unwrap_after_train=False``).

    Returns
    -------
    plain : estimator of the original class
        With ``device="cpu"``; fitted (same weights) if ``estimator`` was.
    """
    base = getattr(type(estimator), "_sigest_base", None)
    if base is None:
        return estimator
    plain = base(**_copied_params(estimator, device="cpu"))
    if estimator.__sklearn_is_fitted__():
        fitted = {key: getattr(estimator, key) for key in type(estimator)._fitted_attrs
                  if hasattr(estimator, key)}
        plain._restore_fitted(fitted)
        module = estimator.accelerator.unwrap_model(estimator.module_, keep_fp32_wrapper=False)
        plain.module_.load_state_dict({k: v.cpu() for k, v in module.state_dict().items()})
        for key in ("noise_", "_noise_mode", "data_scale_"):
            if key in estimator.__dict__:
                plain.__dict__[key] = estimator.__dict__[key]
    return plain


def open_memmap_epochs(path, *, shape=None, dtype=np.float32, mode="r"):
    """Open (or, with ``mode="w+"``, create) a ``.npy`` file of epochs as a memory map.

    Training from the returned array reads only the rows of each batch: the file can be much
    larger than RAM. ``fit`` checks the whole array for NaN/Inf once (a streaming sum, no copy).

    Parameters
    ----------
    path : str or path-like
        A ``.npy`` file.
    shape : tuple of int, optional
        ``(n_epochs, n_channels, n_times)`` (or 2-D) when creating the file; when opening
        one, the shape it must have.
    dtype : dtype, default=float32
        When creating; float32 avoids a conversion per batch.
    mode : {"r", "r+", "w+"}, default="r"

    Returns
    -------
    X : numpy.memmap

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "epochs.npy")
    >>> X = open_memmap_epochs(path, shape=(4, 2, 8), mode="w+")
    >>> X[:] = 1.0; X.flush()
    >>> open_memmap_epochs(path).shape
    (4, 2, 8)
    """
    if shape is not None and (isinstance(shape, (str, bytes)) or not np.iterable(shape)):
        raise TypeError(f"shape must be a tuple of ints such as (n_epochs, n_channels, "
                        f"n_times); got {shape!r}")
    if mode == "w+":
        if shape is None:
            raise ValueError("open_memmap_epochs(mode='w+') needs the shape of the file")
        return np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=tuple(shape))
    if mode not in ("r", "r+"):
        raise ValueError(f"mode must be 'r', 'r+' or 'w+'; got {mode!r}")
    X = np.load(path, mmap_mode=mode)
    if not isinstance(X, np.ndarray):  # an .npz archive (np.load ignores mmap_mode for it)
        X.close()
        raise ValueError(f"{path} is not a .npy file of one array; got a "
                         f"{type(X).__name__} (save the epochs with np.save)")
    if shape is not None and X.shape != tuple(shape):
        raise ValueError(f"{path} holds an array of shape {X.shape}; expected shape "
                         f"{tuple(shape)}")
    return X
