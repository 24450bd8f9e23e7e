"""Resume an interrupted ``fit`` where it stopped, early stopping included."""

import glob
import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping
from skorch.history import History

from .persistence import write_atomically

FORMAT = "sigest-training-state"
# parameters that may differ between the interrupted fit and the one that continues it
FREE_PARAMS = {"callbacks", "max_epochs", "verbose", "warm_start", "device"}


class Resume(Callback):
    """Save the training state after every epoch; a later ``fit`` continues from it.

    The state is one file, replaced atomically after each epoch: the weights, the optimizer's
    state, the history and, for every ``EarlyStopping`` callback, its best weights. An
    interruption at any moment (a crash, a killed job, the end of a session) leaves the last
    complete epoch. ``fit`` with the same estimator parameters and data then loads the file,
    rebuilds early stopping's counters from the history and trains until ``max_epochs``
    epochs in all, or until early stopping ends training. With an integer ``random_state``
    the result equals an uninterrupted run's: shuffling, dropout and noise of epoch *k* depend
    only on ``(random_state, k)``.

    Without the file, training starts from scratch. Delete the file to start over. A file
    written by a fit with other parameters (numbers, strings, classes; ``max_epochs``,
    ``callbacks``, ``verbose``, ``warm_start`` and ``device`` may change) or on other data is
    refused with an error naming the difference, so fits can never continue each other's
    training. A search or a cross-validation fits many clones on one ``path``: give it a
    folder, and every fit keeps its own state file there, named by its parameters and data.

    Parameters
    ----------
    path : str or Path
        The state file (a ``torch.save`` file; loaded with ``weights_only=True``), or a folder
        (an existing one, or a path ending in ``/``) for one state file per fit.

    Attributes
    ----------
    resumed_epochs_ : int
        Epochs loaded from the file at the start of the last ``fit`` (0 when it was absent).
    state_path_ : Path
        The state file of the last ``fit``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from sigest.estimators.tiny import TinyDenoiser
    >>> from sigest.resume import Resume
    >>> X = np.random.default_rng(0).standard_normal((32, 64))
    >>> path = Path(tempfile.mkdtemp()) / "state.pt"
    >>> den = TinyDenoiser(max_epochs=2, random_state=0, callbacks=[Resume(path)]).fit(X)
    >>> den.set_params(max_epochs=5).fit(X).callbacks[0].resumed_epochs_
    2
    >>> len(den.history)
    5
    """

    def __init__(self, path):
        self.path = path

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if net.__dict__.get("_partial_call"):
            raise ValueError("Resume continues a fit() up to max_epochs from its state file; "
                             "partial_fit trains more epochs in memory, so use one or the other")
        self.resumed_epochs_ = self._saved_epochs = 0
        self._best_weights = None  # early stopping's, set once a state is loaded
        self._fit_id = {"params": _simple_params(net), "data": _digest(X, y)}
        path = self.state_path_ = self._state_path(net)
        # fail now, not after the first epoch's training
        path.parent.mkdir(parents=True, exist_ok=True)
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise PermissionError(f"Resume cannot write its state file {path}: the folder "
                                  f"{path.parent} is not writable; pass a path in a writable "
                                  "folder")
        # temporary files of saves that were killed midway (write_atomically's names); a state
        # path serves one fit at a time, so none of them is being written now
        for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
            stale.unlink(missing_ok=True)
        if not path.exists():
            return
        try:
            state = torch.load(path, map_location=net.device, weights_only=True)
        except Exception as error:  # a foreign or damaged file: say which and what to do
            raise ValueError(f"{path} cannot be read as a training state ({error}); delete it "
                             "to start afresh, or pass another path") from error
        if not isinstance(state, dict) or state.get("format") != FORMAT \
                or state.get("estimator") != type(net).__name__:
            found = state.get("estimator") if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"{path} is not a training state of a {type(net).__name__} "
                             f"(it holds {found!r}); delete it to start afresh, or pass another "
                             "path")
        _check_same_fit(path, json.loads(state["fit"]), self._fit_id)
        try:
            for kind in ("modules", "criteria", "optimizers"):
                for name, state_dict in state[kind].items():
                    getattr(net, name + "_").load_state_dict(state_dict)
        except (AttributeError, KeyError, RuntimeError, ValueError) as error:
            raise ValueError(f"{path} holds the training state of a {type(net).__name__} built "
                             f"differently (other data shape or module parameters?): {error}"
                             ) from error
        net.history = History(json.loads(state["history"]))
        self.resumed_epochs_ = self._saved_epochs = len(net.history)
        self._best_weights = state["best_weights"]
        if len(net.history) > net.max_epochs:
            warnings.warn(f"{path} holds {len(net.history)} trained epochs, more than "
                          f"max_epochs={net.max_epochs}; the fit keeps all of them (delete the "
                          f"file to train {net.max_epochs} epochs afresh)", UserWarning,
                          stacklevel=2)

    def _state_path(self, net):
        path = Path(self.path)
        if not (path.is_dir() or str(self.path).endswith(("/", os.sep))):
            return path
        fit = json.dumps(self._fit_id, sort_keys=True).encode()
        return path / f"{type(net).__name__}-{hashlib.blake2b(fit, digest_size=8).hexdigest()}.pt"

    def on_epoch_begin(self, net, **kwargs):
        if self._best_weights is not None:
            # here, not in on_train_begin: every callback has reset itself by now
            for name, callback in _early_stoppers(net):
                _replay(callback, net.history[:-1])
                if callback.load_best and name in self._best_weights:
                    callback.best_model_weights_ = self._best_weights[name]
            self._best_weights = None
            if _stopped_early(net):  # the saved fit had ended: nothing left to train
                del net.history[-1]
                raise KeyboardInterrupt
        if len(net.history) > net.max_epochs:  # the row of the epoch about to start is in
            del net.history[-1]
            raise KeyboardInterrupt  # skorch ends fit cleanly on it

    def on_epoch_end(self, net, **kwargs):
        self._save(net, epoch_end=True)

    def on_train_end(self, net, **kwargs):
        # early stopping (a default callback, so notified before this one) ended the last
        # epoch by raising in its on_epoch_end, before ours could save it; the epoch is
        # complete, so save it now, else a rerun of the finished job would train it again.
        # A fit interrupted in mid-epoch leaves no stopper at its patience, and is not saved.
        if len(net.history) > self._saved_epochs and _stopped_early(net):
            self._save(net)

    def _save(self, net, epoch_end=False):
        best_weights = {name: callback.best_model_weights_
                        for name, callback in _early_stoppers(net)
                        if callback.best_model_weights_ is not None}
        if epoch_end:
            # an early stopping listed after this callback has not seen the epoch yet: save
            # the best weights it is about to keep
            callbacks = [callback for _, callback in net.callbacks_]
            after = callbacks[callbacks.index(self) + 1:]
            for name, callback in _early_stoppers(net):
                score = net.history[-1].get(callback.monitor)
                if (callback in after and callback.load_best and score is not None
                        and callback._is_score_improved(score)):
                    best_weights[name] = net.module_.state_dict()
        state = {
            "format": FORMAT,
            "estimator": type(net).__name__,
            "fit": json.dumps(self._fit_id),
            **{kind: {name: getattr(net, name + "_").state_dict() for name in names}
               for kind, names in (("modules", net._modules), ("criteria", net._criteria),
                                   ("optimizers", net._optimizers))},
            "history": json.dumps(net.history.to_list(), default=float),
            "best_weights": best_weights,
        }
        write_atomically(self.state_path_, lambda f: torch.save(state, f))
        self._saved_epochs = len(net.history)


def _simple_params(net):
    """The parameters a continued fit must share: numbers, strings, classes and sequences of
    them, by name, with those of estimator-valued parameters (``noise__snr_db``)."""
    params = {}
    for key, value in sorted(net.get_params(deep=False).items()):
        if key in FREE_PARAMS:
            continue
        if hasattr(value, "get_params") and not isinstance(value, type):
            params[key] = type(value).__qualname__
            nested = sorted(value.get_params(deep=True).items())
            params.update((f"{key}__{sub}", _simple(v)) for sub, v in nested
                          if _simple(v) is not _SKIP)
        elif _simple(value) is not _SKIP:
            params[key] = _simple(value)
    return params


_SKIP = object()


def _simple(value):
    """``value`` as JSON (lists for tuples, import paths for classes), or ``_SKIP``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, (tuple, list)):
        items = [_simple(v) for v in value]
        return _SKIP if any(v is _SKIP for v in items) else items
    if isinstance(value, type) or hasattr(value, "__qualname__"):
        return f"{value.__module__}.{value.__qualname__}"
    return _SKIP


def _digest(*arrays):
    digest = hashlib.blake2b(digest_size=16)
    for array in arrays:
        if not isinstance(array, np.ndarray):
            digest.update(repr((type(array).__name__, getattr(array, "__len__", None) and
                                len(array))).encode())
            continue
        array = np.atleast_1d(array)
        digest.update(f"{array.shape}{array.dtype}".encode())
        for start in range(0, len(array), 4096):  # chunks: memory-mapped data
            digest.update(np.ascontiguousarray(array[start:start + 4096]).tobytes())
    return digest.hexdigest()


def _check_same_fit(path, saved, current):
    changed = {key: (saved["params"].get(key), current["params"].get(key))
               for key in saved["params"].keys() | current["params"].keys()
               if saved["params"].get(key) != current["params"].get(key)}
    if changed:
        raise ValueError(f"{path} was written by a fit with other parameters "
                         f"{{name: (then, now)}} = {changed}; delete it to start afresh, or "
                         "pass another path")
    if saved["data"] != current["data"]:
        raise ValueError(f"{path} was written by a fit on other data (X, y differ); delete it "
                         "to start afresh, or pass another path")


def _early_stoppers(net):
    return [(name, cb) for name, cb in net.callbacks_ if isinstance(cb, EarlyStopping)]


def _stopped_early(net):
    """Whether an early stopping callback has reached its patience (and so ended the fit)."""
    return any(callback.misses_ >= callback.patience for _, callback in _early_stoppers(net))


def _replay(early_stopping, history):
    """Set ``early_stopping``'s counters as its ``on_epoch_end`` left them after ``history``."""
    for row in history:
        score = row.get(early_stopping.monitor)
        if score is None:
            continue
        if early_stopping._is_score_improved(score):
            early_stopping.misses_ = 0
            early_stopping.dynamic_threshold_ = early_stopping._calc_new_threshold(score)
            early_stopping.best_epoch_ = row["epoch"]
        else:
            early_stopping.misses_ += 1
