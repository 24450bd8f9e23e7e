"""Saving and loading estimators in a file that runs no code when read.

A model file is a zip archive with two members:

- ``sigest.json``: the format, the sigest version, the estimator's class (its registry name
  where it has one), its parameters, its fitted attributes, its training history and the
  SHA-256 of the weights;
- ``weights.pt``: the network's ``state_dict``, read back with
  ``torch.load(weights_only=True)``, which unpickles tensors only.

Parameters that are classes, functions or estimators are stored by their import path and are
only resolved inside the packages in :data:`TRUSTED_PREFIXES`, the packages of registered
estimators (a plugin's network class lives beside its estimator) and the few harmless builtins
of :data:`TRUSTED_BUILTINS`, such as ``print``, the default ``sink`` of skorch's callbacks; the
object reached must itself live there, so a path cannot walk through a trusted module into an
untrusted one. Dictionaries whose keys are not all strings (``class_weight={0: 1.0, 1: 3.0}``)
are stored as ``{"__dict__": [[key, value], ...]}`` with JSON-scalar keys, so the keys keep
their type. Writes go to a temporary file that replaces the target in one step, so a crash
mid-save never loses an earlier model.
"""

from __future__ import annotations

import errno
import hashlib
import importlib
import io
import json
import os
import secrets
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch

FORMAT = "sigest-model"
FORMAT_VERSION = 1
TRUSTED_PREFIXES = ("sigest.", "torch.", "skorch.", "sklearn.", "braindecode.")
# Builtins a parameter may name, by exact path: ``print`` (the default ``sink`` of skorch's
# EarlyStopping and PrintLog) and the scalar types. Never add eval, exec, open, __import__,
# getattr, compile, input, breakpoint or anything else that runs, reads or writes.
TRUSTED_BUILTINS = frozenset({
    "builtins.print", "builtins.bool", "builtins.int", "builtins.float", "builtins.complex",
    "builtins.str",
})
# Keys of the JSON objects that to_json writes for values that are not plain JSON. A string-keyed
# dict holding any of them is written in the ``__dict__`` form, so it cannot be misread.
_MARKERS = frozenset({"__ndarray__", "__list__", "__tuple__", "__import__", "__estimator__",
                      "__dict__"})
_KEY_TYPES = (str, bool, np.bool_, int, np.integer, float, np.floating)


class ModelFileError(ValueError):
    """A model file is unreadable, tampered with, or from an incompatible sigest."""


def _version():
    from . import __version__

    return __version__


def _import_path(obj):
    return f"{obj.__module__}.{obj.__qualname__}"


def _trusted(path):
    return (path in TRUSTED_BUILTINS or path.startswith(TRUSTED_PREFIXES)
            or _is_registered_path(path))


def _is_registered_path(path):
    """Whether ``path`` is a registered estimator class, or lies in the package of one.

    A plugin's estimator and the classes beside it (its network, its callbacks) are trusted
    alike: ``sigest_myplugin.MyNet`` is, because ``sigest_myplugin.MyDenoiser`` is registered.
    The standard library and ``__main__`` are never trusted as a whole, only a registered class
    there by its exact path.
    """
    from .plugins import estimator_entries

    package = path.split(".", 1)[0] if "." in path else None
    for entry in estimator_entries().values():
        home = _import_path(entry.obj)
        if home == path:
            return True
        if package is not None and home.split(".", 1)[0] == package \
                and _may_trust_package(package):
            return True
    return False


def _may_trust_package(package):
    return not (package in sys.stdlib_module_names or package == "__main__"
                or not package.isidentifier())


def _resolve(path):
    if not _trusted(path):
        raise ModelFileError(
            f"the file names {path!r}, which is outside the packages sigest loads from "
            f"({', '.join(p.rstrip('.') for p in TRUSTED_PREFIXES)}, the packages of registered "
            "estimators)"
        )
    module_name, _, attr = path.rpartition(".")
    while module_name:
        try:
            obj = importlib.import_module(module_name)
            break
        except ImportError:
            module_name, _, prefix = module_name.rpartition(".")
            attr = f"{prefix}.{attr}"
    else:
        raise ModelFileError(f"cannot import {path!r}")
    try:
        for part in attr.split("."):
            obj = getattr(obj, part)
        # the object's own home must be trusted too: "torch.os.system" is os.system
        home = _import_path(obj)
    except AttributeError as exc:
        raise ModelFileError(f"cannot import {path!r} ({exc})") from exc
    if "<" in home or not _trusted(home):
        raise ModelFileError(
            f"the file names {path!r}, which is {home!r}: outside the packages sigest loads from"
        )
    return obj


def _key_to_json(key):
    if key is None or isinstance(key, _KEY_TYPES):
        return to_json(key)
    raise TypeError(f"dict keys must be str, int, float, bool or None, not {type(key).__name__}")


def _dict_from_json(pairs):
    if not isinstance(pairs, list) or not all(
            isinstance(p, list) and len(p) == 2
            and (p[0] is None or isinstance(p[0], (str, bool, int, float))) for p in pairs):
        raise ModelFileError("a '__dict__' entry must be a list of [key, value] pairs with "
                             "str, int, float, bool or null keys")
    return {k: from_json(v) for k, v in pairs}


def to_json(value):
    """``value`` as JSON-able data; raises TypeError for what cannot be stored safely."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return {"__list__": [to_json(v) for v in value.tolist()]}
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, tuple):
        return {"__tuple__": [to_json(v) for v in value]}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and _MARKERS.isdisjoint(value):
            return {k: to_json(v) for k, v in value.items()}
        return {"__dict__": [[_key_to_json(k), to_json(v)] for k, v in value.items()]}
    if isinstance(value, type) or callable(value) and hasattr(value, "__qualname__") \
            and not hasattr(value, "get_params"):
        path = _import_path(value)
        if "<" in path or not _trusted(path):
            raise TypeError(f"{path} is not importable from a trusted package")
        return {"__import__": path}
    if hasattr(value, "get_params"):
        path = _import_path(type(value))
        if not _trusted(path):
            raise TypeError(f"{path} is not from a trusted package")
        return {"__estimator__": path, "params": to_json(value.get_params(deep=False))}
    raise TypeError(f"cannot store a {type(value).__name__}")


def from_json(value):
    """Inverse of :func:`to_json`."""
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1 and "__dict__" in value:
        return _dict_from_json(value["__dict__"])
    if "__ndarray__" in value:
        return np.asarray(value["__ndarray__"], dtype=np.dtype(value["dtype"]))
    if "__list__" in value:
        out = np.empty(len(value["__list__"]), dtype=object)
        out[:] = [from_json(v) for v in value["__list__"]]
        return out
    if "__tuple__" in value:
        return tuple(from_json(v) for v in value["__tuple__"])
    if "__import__" in value:
        return _resolve(value["__import__"])
    if "__estimator__" in value:
        return _estimator_class(value["__estimator__"])(**from_json(value["params"]))
    return {k: from_json(v) for k, v in value.items()}


def _estimator_class(path):
    """The class at ``path``; only classes with ``get_params`` are ever called when loading."""
    cls = _resolve(path)
    if not (isinstance(cls, type) and hasattr(cls, "get_params")):
        raise ModelFileError(f"the file names {path!r} as an estimator, which it is not")
    return cls


def _registered_name(cls):
    from .plugins import estimator_entries

    for name, entry in estimator_entries().items():
        if entry.obj is cls:
            return name
    return None


def save(estimator, path):
    """Write ``estimator`` (fitted) to ``path`` atomically; return the path."""
    estimator._check_fitted()
    params, dropped = {}, []
    for key, value in estimator.get_params(deep=False).items():
        try:
            params[key] = to_json(value)
        except (TypeError, ValueError):
            dropped.append(key)
    if dropped:
        warnings.warn(
            f"{type(estimator).__name__}.save: parameters {dropped} cannot be stored safely "
            "(not JSON and not importable from a trusted package); the loaded estimator will use "
            "their defaults",
            UserWarning,
            stacklevel=3,
        )
    fitted = {k: to_json(getattr(estimator, k)) for k in estimator._fitted_attrs
              if hasattr(estimator, k)}
    buffer = io.BytesIO()
    torch.save(estimator.module_.state_dict(), buffer)
    weights = buffer.getvalue()
    history = []
    try:
        history = json.loads(json.dumps(estimator.history_.to_list(), default=float))
    except (TypeError, ValueError, AttributeError):
        pass
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sigest_version": _version(),
        "estimator": _registered_name(type(estimator)),
        "class": _import_path(type(estimator)),
        "params": params,
        "dropped_params": dropped,
        "fitted": fitted,
        "history": history,
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
    }

    def write(f):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("sigest.json", json.dumps(header, indent=1))
            zf.writestr("weights.pt", weights)

    return write_atomically(path, write)


def write_atomically(path, write):
    """Call ``write(file)`` on a temporary file beside ``path``, then replace ``path`` with it.

    A crash at any moment leaves either the old file or the new one, never a part of it. A
    missing folder is created; a folder at ``path`` is refused (IsADirectoryError) before any
    write.
    """
    path = Path(path)
    if path.is_dir():  # else os.replace fails at the end, naming the temporary file
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    # mode 0o666 less the umask, as open() gives (mkstemp's 0o600 would hide shared models)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_header(path):
    """The JSON header of a model file, checked for format and version."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    try:
        with zipfile.ZipFile(path) as zf:
            header = json.loads(zf.read("sigest.json"))
            weights = zf.read("weights.pt")
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, OSError, EOFError) as exc:
        raise ModelFileError(
            f"{path} is not a readable sigest model file ({type(exc).__name__}: {exc}); it may "
            "be truncated or not a model saved with sigest's save()"
        ) from exc
    if not isinstance(header, dict):
        raise ModelFileError(f"{path} is not a sigest model file (its sigest.json holds a JSON "
                             f"{type(header).__name__}, not an object)")
    if header.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a sigest model file (format {header.get('format')!r}, "
                             f"expected {FORMAT!r})")
    file_major = str(header.get("sigest_version", "?")).split(".")[0]
    if file_major != _version().split(".")[0]:
        raise ModelFileError(
            f"{path} was saved by sigest {header.get('sigest_version')}, this is sigest "
            f"{_version()}: files from another major version are refused. Load it with that "
            "version and re-train, or re-save with a matching version."
        )
    if hashlib.sha256(weights).hexdigest() != header.get("weights_sha256"):
        raise ModelFileError(f"{path}: the weights do not match their checksum; the file was "
                             "altered or damaged")
    return header, weights


def load(path, expected_class=None, device="cpu"):
    """Read an estimator written by its ``save`` method (``est.save(path)``, which calls
    :func:`save`). Reading runs no code from the file.

    Parameters
    ----------
    path : str or Path
    expected_class : type, optional
        When given, the file's estimator must be this class or a subclass of it.
    device : str, default="cpu"

    Returns
    -------
    estimator : a fitted sigest estimator
    """
    header, weights = read_header(path)
    cls = _class_of(header)
    if expected_class is not None and not issubclass(cls, expected_class):
        raise ModelFileError(f"{path} holds a {cls.__name__}, not a {expected_class.__name__}")
    try:
        params = {**from_json(header["params"]), "device": device}
        estimator = cls(**params)
        try:
            state = torch.load(io.BytesIO(weights), weights_only=True, map_location=device)
        except Exception as exc:
            raise ModelFileError(f"{path}: the weights cannot be read safely ({exc})") from exc
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator._restore_fitted(from_json(header["fitted"]))
        estimator.module_.load_state_dict(state)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as exc:
        # a parameter the class no longer takes, a network whose shape changed, a damaged header
        raise ModelFileError(
            f"{path}: cannot rebuild the {cls.__name__} it holds (saved by sigest "
            f"{header.get('sigest_version')}, this is sigest {_version()}; did the estimator's "
            f"parameters or network change since?): {type(exc).__name__}: {exc}"
        ) from exc
    from skorch.history import History

    estimator.history_ = History(header.get("history") or [])
    return estimator


def _class_of(header):
    from .plugins import estimator_entries

    name = header.get("estimator")
    entries = estimator_entries()
    if name is not None:
        if name not in entries:
            raise ModelFileError(
                f"the file holds estimator {name!r}, which is not registered here (is its plugin "
                "installed?)"
            )
        return entries[name].obj
    return _estimator_class(str(header.get("class")))
