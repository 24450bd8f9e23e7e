"""braindecode's model zoo as sigest estimators.

Every braindecode model whose constructor takes ``n_chans``, ``n_outputs`` and ``n_times``
becomes a :class:`sigest.base.SignalClassifier` subclass registered as
``braindecode-<lowercase model name>`` (``braindecode-eegnet``, ``braindecode-shallowfbcspnet``,
``braindecode-sleepstagerchambon2018``, ...). Like every sigest estimator they infer the shapes
from the data at ``fit``: sigest's ``n_channels``, ``n_times``, number of classes and ``sfreq``
become braindecode's ``n_chans``, ``n_times``, ``n_outputs`` and ``sfreq``. The network's own
parameters are reached through ``module__*``::

    import sigest
    clf = sigest.get_estimator("braindecode-eegnet", sfreq=160.0, module__F1=16)

Models that cannot work from shapes alone are left out, each with its reason in
:data:`SKIPPED` (they need channel positions, download files when built, or are not
classifiers).
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import math
import re
import warnings

import numpy as np
import torch
from torch.nn.utils import parametrize

from sigest.base import SignalClassifier
from sigest.plugins import hookimpl

__version__ = "0.1.0"

#: The models tested most (EEG decoding and sleep staging); sklearn's checks run on them.
MAIN_MODELS = ("EEGNet", "ShallowFBCSPNet", "Deep4Net", "SleepStagerChambon2018", "AttnSleep",
               "USleep", "EEGConformer")

#: braindecode models not registered, with the reason.
SKIPPED = {
    "REVE": "downloads channel positions from the internet when built",
    "DANCE": "needs chs_info (channel positions)",
    "DGCNN": "needs chs_info (channel positions)",
    "EEGSym": "needs chs_info (channel positions)",
    "SignalJEPA": "needs chs_info (channel positions)",
    "SignalJEPA_Contextual": "needs chs_info (channel positions)",
    "ZUNA": "needs chs_info (channel locations)",
    "Labram": "needs 200-sample patches and named channels of its canonical montage",
    "EMG2QwertyNet": "fixed 32-channel EMG layout; outputs a sequence, not a class",
    "SensingDynamics": "fixed 16-channel EMG layout; pose regression, not classification",
    "NeuroPose": "pose regression over time, not classification",
    "VEMG2Pose": "pose regression over time, not classification",
    "MetaNeuromotorHand": "EMG frequency bands that need a specific sampling rate and layout",
}

_SHAPE_PARAMS = ("n_chans", "n_outputs", "n_times")


def _model_classes():
    """braindecode's registry of models: name -> class."""
    # braindecode's model modules warn about their own use of mne at import (FutureWarning),
    # on every `sigest list`; nothing a sigest user can act on
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        try:
            from braindecode.models.util import models_dict
        except ImportError:  # older braindecode: every nn.Module class braindecode.models exports
            import braindecode.models as bd_models

            models_dict = {name: obj for name, obj in vars(bd_models).items()
                           if isinstance(obj, type) and issubclass(obj, torch.nn.Module)}
    return dict(sorted(models_dict.items()))


def _accepts(model_class, name):
    return name in inspect.signature(model_class.__init__).parameters


def usable_models():
    """braindecode model classes that can be built from shapes alone, by name."""
    return {name: cls for name, cls in _model_classes().items()
            if name not in SKIPPED and all(_accepts(cls, p) for p in _SHAPE_PARAMS)}


def estimator_name(model_name):
    """The registry name of a braindecode model: ``braindecode-<lowercase name>``."""
    return "braindecode-" + model_name.lower()


#: braindecode 1.8.1's CombinedConv (the first layer of these models) fails on one channel
#: ("self must be a matrix"), and split_first_layer=False fails at init on any number of
#: channels: a single channel is given to them twice, which a spatial filter sees as one
#: channel with summed weights.
MIN_CHANNELS = {"ShallowFBCSPNet": 2, "Deep4Net": 2}


class BraindecodeClassifier(SignalClassifier):
    """A braindecode model as a sigest classifier; subclasses fix ``module`` per model.

    Parameters
    ----------
    module : type of torch.nn.Module
        A braindecode model class. It is built with ``n_chans``, ``n_times``, ``n_outputs``
        (and ``sfreq`` when the model takes it and it is known) inferred from the data, plus
        ``module__*`` parameters.
    pad_times : int or None, default=None
        Zero-pad shorter epochs at the end to this many samples before the network (for
        networks whose receptive field is longer than the epochs; off by default).
    iterator_train__shuffle : bool, default=True
        Shuffle the training epochs every epoch (skorch's own default is not to).
    **kwargs
        Parameters of :class:`sigest.base.SignalClassifier` (``lr``, ``max_epochs``,
        ``batch_size``, ``sfreq``, ``class_weight``, ``random_state``, ...) and skorch prefixed
        ones.

    Notes
    -----
    Channel counts the defaults do not fit:

    - ShallowFBCSPNet and Deep4Net get a single channel twice (braindecode's first layer
      fails on one channel); their ``module__split_first_layer=False`` does not build in
      braindecode 1.8.1.
    - Models with grouped first convolutions (SleepStagerBlanco2020's ``n_groups=2``, made for
      EEG + EOG pairs) use, unless ``module__n_groups`` is set, the largest divisor of the
      default that divides the channel count (and ``n_conv_chans``): 1 for one channel.

    Examples
    --------
    >>> import numpy as np, sigest
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((32, 2, 256)), np.repeat([0, 1], 16)
    >>> clf = sigest.get_estimator("braindecode-eegnet", max_epochs=1, sfreq=128.0)
    >>> clf.fit(X, y).predict(X[:4]).shape
    (4,)
    """

    def __init__(self, module=None, *, pad_times=None, iterator_train__shuffle=True, **kwargs):
        super().__init__(module, iterator_train__shuffle=iterator_train__shuffle, **kwargs)
        self.pad_times = pad_times

    # Some braindecode models (EEGNet's max-norm constraint, ...) use torch parametrizations,
    # which torch refuses to pickle; such a network is pickled as its state_dict and rebuilt.
    def __getstate__(self):
        module = self.__dict__.get("module_")
        if module is None or not any(parametrize.is_parametrized(m) for m in module.modules()):
            return super().__getstate__()
        weights = {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}
        self.__dict__["module_"] = None
        optimizer = self.__dict__.pop("optimizer_", None)
        try:
            state = super().__getstate__()
        finally:
            self.__dict__["module_"] = module
            if optimizer is not None:
                self.__dict__["optimizer_"] = optimizer
        state["_module_weights"] = weights
        return state

    def __setstate__(self, state):
        weights = state.pop("_module_weights", None)
        super().__setstate__(state)
        if weights is not None:  # the optimizer restarts from its initial state
            self.initialize_module()
            self.module_.load_state_dict(weights)
            self.initialize_optimizer()

    def _check_X(self, X, *, reset):
        X3, rank = super()._check_X(X, reset=reset)
        if self.pad_times is not None and X3.shape[-1] < self.pad_times:
            X3 = np.pad(X3, ((0, 0), (0, 0), (0, int(self.pad_times) - X3.shape[-1])))
        n_min = self._min_channels()
        if X3.shape[1] < n_min:  # cycle the channels up to the minimum
            X3 = X3[:, np.arange(n_min) % X3.shape[1]]
        return X3, rank

    def get_iterator(self, dataset, training=False):
        iterator = super().get_iterator(dataset, training=training)
        return _MergedLastBatch(iterator) if training else iterator

    def _min_channels(self):
        return MIN_CHANNELS.get(getattr(self, "model_name", None), 1)

    # input_window_seconds would contradict the n_times set from the data
    _inferred_module_params = _SHAPE_PARAMS + ("sfreq", "input_window_seconds")

    def _module_shape_kwargs(self):
        n_times = self.n_times_in_
        if self.pad_times is not None:
            n_times = max(n_times, int(self.pad_times))
        n_chans = max(self.n_channels_in_, self._min_channels())
        kwargs = {"n_chans": n_chans, "n_times": n_times,
                  "n_outputs": len(self.classes_)}
        sfreq = getattr(self, "sfreq_", None) or self.sfreq
        if sfreq is not None and _accepts(self.module, "sfreq"):
            kwargs["sfreq"] = float(sfreq)
        n_groups = self._default_groups(n_chans)
        if n_groups is not None:  # module__n_groups, when set, takes precedence
            kwargs["n_groups"] = n_groups
        return kwargs

    def _default_groups(self, n_chans):
        """``n_groups`` for ``n_chans`` channels: the largest divisor of the model's default
        that divides the channel count and ``n_conv_chans`` (None: not a grouped model)."""
        params = inspect.signature(self.module.__init__).parameters
        default = params["n_groups"].default if "n_groups" in params else None
        if not isinstance(default, int) or isinstance(default, bool) or default < 1:
            return None
        groups = math.gcd(default, int(n_chans))
        if "n_conv_chans" in params:
            n_conv = self.get_params_for("module").get("n_conv_chans",
                                                        params["n_conv_chans"].default)
            if isinstance(n_conv, int) and n_conv > 0:
                groups = math.gcd(groups, n_conv)
        return groups

    def initialize_module(self):
        try:
            with _without_notice(_OWN_DEFAULT_DEPRECATED):
                super().initialize_module()
        except (ValueError, RuntimeError) as exc:  # some models run a forward pass when built
            clear = self._clear_error(exc) or self._too_short_error(exc)
            if clear is None:
                raise
            raise clear from exc
        except AttributeError as exc:
            if self.get_params_for("module").get("split_first_layer", True) is False:
                raise ValueError(
                    f"module__split_first_layer=False does not build {self._model_label()} in "
                    f"braindecode {_braindecode_version()} ({type(exc).__name__}: {exc}); "
                    "leave it at its default: one-channel data works with it (sigest gives "
                    "the channel twice)") from exc
            raise
        # a forward pass of two zero epochs: epochs too short for the network fail here, before
        # training, with sigest's error rather than torch's from deep inside forward
        try:
            self._forward_zeros(self.module_, self._module_shape_kwargs()["n_times"])
        except Exception as exc:  # noqa: BLE001 - torch, einops, braindecode: any failure
            raise self._too_short_error(exc) or ValueError(
                f"{self._registry_name()} ({self._model_label()}) fails on epochs of "
                f"n_channels={self.n_channels_in_}, n_times={self.n_times_in_}: "
                f"{type(exc).__name__}: {exc}") from exc
        return self

    def _forward_zeros(self, module, n_times):
        """Run ``module`` on two zero epochs of ``n_times`` samples (eval mode, no gradient)."""
        n_chans = max(self.n_channels_in_, self._min_channels())
        training = module.training
        module.eval()
        try:
            with torch.no_grad():
                module(torch.zeros(2, n_chans, n_times, device=self.device))
        finally:
            module.train(training)

    def _builds_and_runs(self, n_times):
        kwargs = {**self._module_shape_kwargs(), **self.get_params_for("module"),
                  "n_times": n_times}
        try:
            with _without_notice(_OWN_DEFAULT_DEPRECATED), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._forward_zeros(self.module(**kwargs).to(self.device), n_times)
        except Exception:  # noqa: BLE001
            return False
        return True

    def _shortest_times(self, n_times, longest=2**15):
        """The fewest samples (a multiple of the model's ``patch_size``, if it has one) above
        ``n_times`` the network builds and runs on, found by doubling and bisection; None if
        none up to ``longest`` does."""
        step = getattr(self.module_, "patch_size", None) if hasattr(self, "module_") else None
        step = step if isinstance(step, int) and step > 1 else 1
        low = n_times // step  # in steps: low fails, high runs
        high = max(low, 1) * 2
        while not self._builds_and_runs(high * step):
            low, high = high, high * 2
            if high * step > longest:
                return None, step
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (low, middle) if self._builds_and_runs(middle * step) else (middle, high)
        return high * step, step

    def _too_short_error(self, exc):
        """sigest's error naming the shortest epochs the network takes, if longer epochs fix
        ``exc`` (None otherwise)."""
        if not hasattr(self, "n_times_in_"):
            return None
        n_times = self._module_shape_kwargs()["n_times"]
        shortest, step = self._shortest_times(n_times)
        if shortest is None:
            return None
        what = (f"a multiple of {step} time samples (patches), at least {shortest}" if step > 1
                else f"at least {shortest} time samples")
        sfreq = getattr(self, "sfreq_", None) or self.sfreq
        at = f" at sfreq={float(sfreq)} Hz" if sfreq is not None else ""
        padded = f" (zero-padded to pad_times={self.pad_times})" if n_times != self.n_times_in_ \
            else ""
        return ValueError(
            f"{self._registry_name()} ({self._model_label()}) needs epochs of {what}{at} with "
            f"its parameters; got n_times={self.n_times_in_}{padded}, n_channels="
            f"{self.n_channels_in_}. Use longer epochs, or set pad_times={shortest} to "
            f"zero-pad shorter ones (torch says: {type(exc).__name__}: {str(exc)[:200]})")

    def _model_label(self):
        return f"braindecode's {getattr(self.module, '__name__', self.module)}"

    def _clear_error(self, exc):
        """sigest's message for braindecode's or torch's error ``exc`` that a parameter fixes,
        or None."""
        message = str(exc)
        sfreq = getattr(self, "sfreq_", None) or self.sfreq
        # "sfreq could not be inferred ...", "AttnSleep requires at least two of n_times, sfreq
        # and input_window_seconds", ...: with n_times given, what is missing is sfreq
        if sfreq is None and "sfreq" in message and _accepts(self.module, "sfreq"):
            return ValueError(
                f"{type(self).__name__} needs the sampling rate: set sfreq (in Hz), e.g. "
                f"sigest.get_estimator({self._registry_name()!r}, sfreq=100.0), or pass an mne "
                f"object; got sfreq=None and an array ({self._model_label()} sizes its layers "
                "from it)")
        groups = self.get_params_for("module").get("n_groups")
        if "divisible by groups" in message and groups is not None:
            return ValueError(
                f"module__n_groups={groups!r} must divide the number of channels "
                f"({self.n_channels_in_}) and n_conv_chans of {self._model_label()}; torch "
                f"says: {message}. Set module__n_groups to such a divisor (1 always works), or "
                "leave it unset to have one chosen")
        # braindecode's own clear messages, said as sigest parameters under the sigest name
        if "d_model is" in message:
            return ValueError(f"{self._registry_name()} ({self._model_label()}): {message} "
                              "(sigest: module__d_model, module__n_attn_heads; or longer "
                              "epochs)")
        if "must not exceed n_channel_embeddings" in message:
            return ValueError(f"{self._registry_name()} ({self._model_label()}) takes at most "
                              f"as many channels as its channel embeddings; got "
                              f"{self.n_channels_in_} channels: {message}")
        return None

    def _registry_name(self):
        name = getattr(self, "model_name", None)
        return estimator_name(name) if name else type(self).__name__


class _MergedLastBatch:
    """Training batches with a last batch of one epoch merged into the one before: BatchNorm
    cannot train on a single epoch once a network has pooled time away (TCFormer, ...)."""

    def __init__(self, batches):
        self.batches = batches

    def __len__(self):
        n_batches = len(self.batches)
        size = getattr(self.batches, "batch_size", None)
        n_epochs = len(getattr(self.batches, "indices", getattr(self.batches, "dataset", ())))
        return n_batches - (n_batches > 1 and bool(size) and n_epochs % size == 1)

    def __iter__(self):
        previous = None
        for batch in self.batches:
            if previous is not None and _single(batch) and not _single(previous):
                batch = tuple(a if a is None else torch.cat([a, b])  # the last batch
                              for a, b in zip(previous, batch, strict=True))
            elif previous is not None:
                yield previous
            previous = batch
        if previous is not None:
            yield previous


def _single(batch):
    """Whether ``batch`` is ``(X, y)`` tensors of one epoch."""
    return isinstance(batch, (tuple, list)) and torch.is_tensor(batch[0]) and len(batch[0]) == 1


def _braindecode_version():
    import braindecode

    return getattr(braindecode, "__version__", "?")


def _make_class(model_name, model_class):
    class_name = "Braindecode" + re.sub(r"\W", "", model_name)

    def __init__(self, module=model_class, **kwargs):  # noqa: N807
        BraindecodeClassifier.__init__(self, module, **kwargs)

    summary = (model_class.__doc__ or "").strip().splitlines()
    doc = (f"braindecode's ``{model_name}`` as a sigest classifier "
           f"(``{estimator_name(model_name)}``).\n\n"
           f"{summary[0] if summary else ''}\n\n"
           f"See :class:`BraindecodeClassifier` for the parameters and "
           f":class:`braindecode.models.{model_name}` for the ``module__*`` ones.\n")
    cls = type(class_name, (BraindecodeClassifier,),
               {"__init__": __init__, "__doc__": doc, "__module__": __name__,
                "__qualname__": class_name, "model_name": model_name})
    __init__.__qualname__ = f"{class_name}.__init__"
    return cls


# braindecode's EEGNet calls its own default deprecated, on every build: noise that a user of
# the default can do nothing about
_OWN_DEFAULT_DEPRECATED = "Parameter 'final_layer_with_constraint=False' is deprecated"


@contextlib.contextmanager
def _without_notice(start):
    """Drop the warnings starting with ``start``, which mne's ``warn`` (braindecode's) sends both
    to :mod:`warnings` and to the ``mne`` logger."""
    def keep(record):
        return not record.getMessage().startswith(start)

    logger = logging.getLogger("mne")
    logger.addFilter(keep)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", re.escape(start))
            yield
    finally:
        logger.removeFilter(keep)


def _build_classes():
    classes = {}
    for model_name, model_class in usable_models().items():
        cls = _make_class(model_name, model_class)
        globals()[cls.__name__] = cls  # importable by name: pickling and sigest.load find it
        classes[model_name] = cls
    return classes


#: model name -> estimator class
ESTIMATORS = _build_classes()

#: Parameters under which scikit-learn's checks run on tiny data (2-20 samples per epoch):
#: ``pad_times`` gives the networks epochs they can take; small sizes keep the checks fast.
CHECK_PARAMS = {
    "EEGNet": {"pad_times": 128, "module__kernel_length": 16},
    "ShallowFBCSPNet": {"pad_times": 128},
    "Deep4Net": {"pad_times": 512},
    "SleepStagerChambon2018": {"pad_times": 64, "sfreq": 64.0},
    "AttnSleep": {"pad_times": 3000, "sfreq": 100.0},
    "USleep": {"pad_times": 128, "sfreq": 128.0, "module__depth": 4},
    "EEGConformer": {"pad_times": 128, "module__n_filters_time": 8, "module__num_layers": 1,
                     "module__num_heads": 2},
}

#: Why sigest's core test of every registered estimator skips these: the plugin's own tests
#: (plugins/sigest-braindecode/tests) run scikit-learn's checks on MAIN_MODELS under
#: CHECK_PARAMS, with their expected failures.
SKIP_CHECKS_REASON = ("scikit-learn's checks use 2-20-sample epochs that most of braindecode's "
                      "zoo cannot take; sigest-braindecode's own tests check "
                      + ", ".join(MAIN_MODELS))


def _summary(cls):
    """The first paragraph of a braindecode model's docstring as plain text (no reST)."""
    paragraphs = (cls.__doc__ or "").split("\n\n")
    text = paragraphs[1] if len(paragraphs) > 1 else ""
    text = re.sub(r"from \[(\w+)\]_", r"from \1", text)  # a citation as the only source
    text = re.sub(r"\s*\[[^\]]+\]_", "", text)  # other citations: [Lawhern2018]_
    text = text.replace("\\ ", "").replace("**", "").replace("``", "")
    return " ".join(text.split()).rstrip(".") + "." if text.strip() else ""


@hookimpl
def sigest_register_estimators(register):
    for model_name, cls in ESTIMATORS.items():
        extra = {"skip_checks": SKIP_CHECKS_REASON}
        if model_name in CHECK_PARAMS:
            extra["check_params"] = {"max_epochs": 1, "batch_size": 16, "verbose": 0,
                                     **CHECK_PARAMS[model_name]}
        register(estimator_name(model_name), cls, task="classification",
                 description=f"braindecode {model_name}: {_summary(cls)}"[:200], **extra)


__all__ = ["BraindecodeClassifier", "ESTIMATORS", "MAIN_MODELS", "SKIPPED", "estimator_name",
           "usable_models"]
