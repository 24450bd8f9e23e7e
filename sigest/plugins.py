"""Plugin hooks, the plugin manager and the registry of estimators, data sets and noises.

Plugins are modules (or objects) with ``@hookimpl`` functions, found through the ``sigest``
entry-point group. sigest's own estimators, data sets and noises take the same path: they are
declared in sigest's ``pyproject.toml``. A hook receives a ``register`` callable::

    from sigest.plugins import hookimpl

    @hookimpl
    def sigest_register_estimators(register):
        register("my-denoiser", MyDenoiser, task="denoising", description="...")
"""

from __future__ import annotations

import importlib.metadata
import inspect
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import pluggy

PROJECT = "sigest"
ENTRY_POINT_GROUP = "sigest"
TASKS = ("denoising", "classification", "generation")

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class PluginWarning(UserWarning):
    """A plugin failed to load or to register, or one of its entries is invalid; skipped."""


class RegistryError(ValueError):
    """Two plugins registered one name, or a name is unknown."""


class _HookSpecs:
    @hookspec
    def sigest_register_estimators(self, register):
        """Register estimators: ``register(name, cls, task=..., description=...)``.

        ``cls`` must be a scikit-learn estimator class; ``task`` one of
        ``"denoising"``, ``"classification"``, ``"generation"``. ``check_params`` (optional)
        are the parameters under which scikit-learn's estimator checks run on tiny data;
        ``skip_checks="reason"`` (optional) keeps sigest's own test of every registered
        estimator from running them. An invalid entry is reported (a :class:`PluginWarning`)
        and skipped; the others stay.
        """

    @hookspec
    def sigest_register_datasets(self, register):
        """Register data sets: ``register(name, loader, description=...)``."""

    @hookspec
    def sigest_register_noises(self, register):
        """Register noise sources: ``register(name, factory, description=...)``.

        ``factory`` is a :class:`sigest.noise.NoiseSource` subclass, a callable taking no
        arguments that returns a NoiseSource, or a function ``f(n_epochs, n_channels, n_times,
        sfreq, rng)`` returning an array of that shape.
        """


#: sigest's hooks, each called as ``hook(register=...)``.
HOOKS = tuple(name for name in vars(_HookSpecs) if name.startswith("sigest_"))
_SIGNATURES = ", ".join(f"{hook}(register)" for hook in HOOKS)
#: Keyword arguments of an estimator's ``register()`` besides ``task`` and ``description``.
ESTIMATOR_OPTIONS = frozenset({"check_params", "skip_checks"})


@dataclass(frozen=True)
class Entry:
    """One registered thing: an estimator class, a data set loader or a noise source."""

    name: str
    obj: Any
    plugin: str
    description: str = ""
    task: str | None = None
    extra: dict = field(default_factory=dict)


pm = pluggy.PluginManager(PROJECT)
pm.add_hookspecs(_HookSpecs)

#: The distribution whose entry points are sigest's own estimators, data sets and noises.
OWN_DISTRIBUTION = "sigest"
#: Plugin names of sigest's own entry points. A third-party entry point with one of these names
#: (or with a name another installed package uses too) is registered as ``"<package>:<name>"``.
RESERVED_NAMES = frozenset({"estimators", "datasets", "noises"})

_entry_points_loaded = False
_failed: dict[str, str] = {}  # plugins that could not be loaded: name -> why
_load_problems: dict[str, list[str]] = {}  # loaded plugins with hooks never called: name -> why
_problems: dict[str, dict[str, list[str]]] = {}  # hook name -> plugin name -> what was skipped
_cache: dict[str, tuple[tuple, dict[str, Entry]]] = {}


def _normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _package_of(ep):
    """The name of the distribution that declares ``ep`` (its module's name if unknown)."""
    dist = getattr(ep, "dist", None)
    name = dist.metadata["Name"] if dist is not None else None
    value = getattr(ep, "value", None) or ep.name
    return name or value.split(":")[0].split(".")[0]


def _holder(plugin):
    """Who holds a plugin name, for messages: its package, or a plugin registered in-process."""
    for registered, dist in pm.list_plugin_distinfo():
        if registered is plugin:
            return f"package {dist.metadata['Name']!r}"
    return "a plugin registered in-process"


def load_plugins():
    """Load every plugin of the ``sigest`` entry-point group once; report and skip broken ones.

    A plugin is named after its entry point. sigest's own entry points keep their names
    (:data:`RESERVED_NAMES`); a third-party entry point named like one of them, or like an entry
    point of another installed package, is named ``"<package>:<entry point>"`` instead, so that
    every plugin loads and none can hide another.
    """
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    eps = [(ep, _package_of(ep)) for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)]
    packages_using: dict[str, set[str]] = {}
    for ep, package in eps:
        packages_using.setdefault(ep.name, set()).add(_normalize(package))
    # sigest's own first (a stable sort keeps the others in their order)
    for ep, package in sorted(eps, key=lambda pair: _normalize(pair[1]) != OWN_DISTRIBUTION):
        own = _normalize(package) == OWN_DISTRIBUTION
        qualified = f"{package}:{ep.name}"
        clash = not own and (ep.name in RESERVED_NAMES or len(packages_using[ep.name]) > 1)
        name = qualified if clash else ep.name
        if pm.is_blocked(name) or pm.is_blocked(qualified):
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken plugin must never break `import sigest`
            _report(name, f"failed to load ({_why(exc)})")
            continue
        if pm.get_name(plugin) is not None:  # this very module is registered already
            continue
        if pm.get_plugin(name) is not None:  # the name is held by a plugin registered earlier
            name = qualified
        if pm.get_plugin(name) is not None:
            _report(name, f"from package {package!r} was not loaded: its name is taken by "
                          f"{_holder(pm.get_plugin(name))}")
            continue
        try:
            pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:  # e.g. a hook taking other arguments
            _report(name, f"failed to load ({_why(exc)}); sigest's hooks are {_SIGNATURES}")
            continue
        except Exception as exc:
            _report(name, f"failed to load ({_why(exc)})")
            continue
        uncallable = _uncallable_hook(plugin)
        if uncallable is not None:
            pm.unregister(plugin)
            _report(name, f"failed to load: {uncallable}")
            continue
        dist = getattr(ep, "dist", None)
        if dist is not None:
            pm._plugin_distinfo.append((plugin, dist))
        for problem in _hook_problems(plugin):
            _load_problems.setdefault(name, []).append(problem)
            _warn(f"sigest plugin {name!r}: {problem}")


def _uncallable_hook(plugin):
    """Why one of a registered plugin's hooks cannot be called as ``hook(register=...)``."""
    for caller in pm.get_hookcallers(plugin) or ():
        for impl in caller.get_hookimpls():
            if impl.plugin is not plugin or not caller.has_spec():
                continue
            try:
                signature = inspect.signature(impl.function)
            except (TypeError, ValueError):  # no signature to check
                continue
            try:
                signature.bind(register=None)
            except TypeError:
                return (f"its hook is declared as {caller.name}{signature}; sigest calls it as "
                        f"{caller.name}(register)")
    return None


def _hook_problems(plugin):
    """Why hooks of a registered plugin are never called: names that are no sigest hook,
    functions without ``@hookimpl``, or no hook at all (messages; empty if none)."""
    callers = pm.get_hookcallers(plugin) or []
    problems = [f"{caller.name} is not a sigest hook and is never called; sigest's hooks are "
                f"{_SIGNATURES}" for caller in callers if not caller.has_spec()]
    for hook in HOOKS:
        if callable(getattr(plugin, hook, None)) and pm.parse_hookimpl_opts(plugin, hook) is None:
            problems.append(f"{hook} is not marked @hookimpl (from sigest import hookimpl) and "
                            "is never called")
    if not callers and not problems:
        kind = "module" if inspect.ismodule(plugin) else type(plugin).__name__
        what = getattr(plugin, "__qualname__", None) or getattr(plugin, "__name__", None)
        problems.append(f"has no @hookimpl function: its entry point must name a module (or "
                        f"object) with one of {_SIGNATURES}; it names {kind} "
                        f"{what or repr(plugin)}")
    return problems


def _why(exc):
    """An exception on one line: ``"TypeError: ..."``."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _report(plugin_name, message):
    """A plugin that could not be loaded at all."""
    _failed[plugin_name] = message
    _warn(f"sigest plugin {plugin_name!r} {message}; skipped")


def _warn(message):
    warnings.warn(message, PluginWarning, stacklevel=3)


def _collect(hook_name, validate) -> dict[str, Entry]:
    load_plugins()
    hook = getattr(pm.hook, hook_name)
    impls = hook.get_hookimpls()
    key = tuple((impl.plugin_name, id(impl.function)) for impl in impls)
    cached = _cache.get(hook_name)
    if cached is not None and cached[0] == key:
        return cached[1]
    entries: dict[str, Entry] = {}
    problems: dict[str, list[str]] = {}
    for impl in impls:
        plugin_name = impl.plugin_name
        found: dict[str, Entry] = {}

        def register(name, obj, *more, description="", task=None, _plugin=plugin_name,
                     _found=found, **extra):
            # an invalid entry is reported and skipped; the plugin's other entries stay
            try:
                if more:
                    raise TypeError(
                        "register() takes the name and the object positionally and the rest "
                        f"by keyword (task=..., description=...); got {len(more)} more "
                        f"positional argument(s): {', '.join(map(repr, more))}")
                if not isinstance(name, str) or not name or name.split() != [name]:
                    raise ValueError(f"the name must be a non-empty string without spaces; got "
                                     f"{name!r}")
                entry = Entry(name, obj, _plugin, description or _summary(obj), task, extra)
                validate(entry)
                if entry.name in _found:
                    raise RegistryError(f"{entry.name!r} is registered twice; the first is kept")
            except Exception as exc:
                message = f"{name!r} skipped ({_why(exc)})"
                problems.setdefault(_plugin, []).append(message)
                _warn(f"sigest plugin {_plugin!r}: {message}")
                return
            _found[entry.name] = entry

        register.__qualname__ = "register"  # what a TypeError calling it names
        try:
            impl.function(register=register)
        except Exception as exc:
            # the plugin's own code failed: nothing it registered in this hook is trusted
            message = f"failed in {hook_name} ({_why(exc)})"
            problems.setdefault(plugin_name, []).append(message)
            _warn(f"sigest plugin {plugin_name!r} {message}; skipped")
            continue
        for name, entry in found.items():
            if name in entries:
                first, second = entries[name].plugin, entry.plugin
                raise RegistryError(
                    f"{name!r} is registered by two plugins: {first!r} and {second!r} (from "
                    f"{_holder(pm.get_plugin(first))} and {_holder(pm.get_plugin(second))}); "
                    f"uninstall one of them, or block one before using the registry: "
                    f"sigest.plugins.pm.set_blocked({first!r}) or set_blocked({second!r})"
                )
            entries[name] = entry
    _cache[hook_name] = (key, entries)
    _problems[hook_name] = problems
    return entries


def _summary(obj):
    doc = getattr(obj, "__doc__", None) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _validate_estimator(entry: Entry):
    from sklearn.base import BaseEstimator

    if not (isinstance(entry.obj, type) and issubclass(entry.obj, BaseEstimator)):
        raise TypeError(
            f"estimator {entry.name!r} must be a scikit-learn estimator class; got {entry.obj!r}"
        )
    if entry.task not in TASKS:
        raise ValueError(
            f"estimator {entry.name!r}: task must be one of {TASKS}; got {entry.task!r}")
    unknown = sorted(set(entry.extra) - ESTIMATOR_OPTIONS)
    if unknown:
        raise TypeError(f"estimator {entry.name!r}: unknown keyword argument(s) "
                        f"{', '.join(unknown)}; register() takes task, description, "
                        f"{', '.join(sorted(ESTIMATOR_OPTIONS))}")
    check_params = entry.extra.get("check_params", {})
    if not (isinstance(check_params, dict) and all(isinstance(k, str) for k in check_params)):
        raise TypeError(f"estimator {entry.name!r}: check_params must be a dict of parameter "
                        f"names to values; got {check_params!r}")
    reason = entry.extra.get("skip_checks")
    if reason is not None and not (isinstance(reason, str) and reason.strip()):
        raise TypeError(f"estimator {entry.name!r}: skip_checks must be the reason the checks "
                        f"are skipped (a non-empty str); got {reason!r}")


def _validate_callable(entry: Entry):
    if not callable(entry.obj):
        raise TypeError(f"{entry.name!r} must be callable; got {entry.obj!r}")
    unknown = sorted(set(entry.extra) | ({"task"} if entry.task is not None else set()))
    if unknown:
        raise TypeError(f"{entry.name!r}: unknown keyword argument(s) {', '.join(unknown)}; "
                        "register() of a data set or noise source takes only description")


def _validate_noise(entry: Entry):
    _validate_callable(entry)
    from .noise import NoiseSource

    if isinstance(entry.obj, type) and issubclass(entry.obj, NoiseSource):
        return
    try:
        signature = inspect.signature(entry.obj)
    except (TypeError, ValueError):  # no signature to check
        return
    for args in ((), ("n_epochs", "n_channels", "n_times", "sfreq", "rng")):
        try:
            signature.bind(*args)
            return
        except TypeError:
            pass
    raise TypeError(f"noise source {entry.name!r} must be a NoiseSource subclass, a factory "
                    "taking no arguments, or a function f(n_epochs, n_channels, n_times, sfreq, "
                    f"rng); got {getattr(entry.obj, '__qualname__', entry.obj)}{signature}")


def estimator_entries() -> dict[str, Entry]:
    """All registered estimators, by name."""
    return _collect("sigest_register_estimators", _validate_estimator)


def dataset_entries() -> dict[str, Entry]:
    """All registered data set loaders, by name."""
    return _collect("sigest_register_datasets", _validate_callable)


def noise_entries() -> dict[str, Entry]:
    """All registered noise sources, by name."""
    return _collect("sigest_register_noises", _validate_noise)


def _lookup(entries, name, kind):
    try:
        return entries[name]
    except KeyError:
        known = ", ".join(sorted(entries)) or "none"
        raise RegistryError(f"unknown {kind} {name!r}; registered: {known}") from None


def list_estimators(task=None):
    """Names of the registered estimators, sorted; only those of ``task`` if given.

    Examples
    --------
    >>> import sigest
    >>> "tiny-conv-denoiser" in sigest.list_estimators(task="denoising")
    True
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"task must be one of {TASKS} or None; got {task!r}")
    return sorted(n for n, e in estimator_entries().items() if task is None or e.task == task)


def get_estimator_class(name):
    """The estimator class registered under ``name``."""
    return _lookup(estimator_entries(), name, "estimator").obj


def get_estimator(name, pretrained=None, **params):
    """A new estimator registered under ``name``, with ``params`` set.

    Parameters
    ----------
    name : str
        A registered name (``sigest list``).
    pretrained : str, optional
        The tag of weights shipped with sigest (``sigest.pretrained.available()``), e.g.
        ``"eegdenoisenet-emg"``: the estimator comes back fitted with them.
    **params
        Parameters to set. With ``pretrained``, parameters that would rebuild the network
        (``module``, ``module__*``, ``compile__*``) are refused: the shipped weights fit only
        the network they were trained in.

    Examples
    --------
    >>> import sigest
    >>> est = sigest.get_estimator("tiny-conv-denoiser", max_epochs=2)
    >>> est.max_epochs
    2
    """
    if pretrained is not None:
        from .pretrained import load_pretrained

        estimator = load_pretrained(name, pretrained)
        # skorch builds a new network, with random weights, when one of these is set
        rebuild = sorted(k for k in params if k.startswith("compile__")
                         or k.partition("__")[0] in getattr(estimator, "_modules", ["module"]))
        if rebuild:
            raise ValueError(
                f"{', '.join(rebuild)} would rebuild the network of {name} with random "
                f"weights, and the shipped weights {name}:{pretrained} would be lost (they fit "
                "only the network they were trained in, see sigest.pretrained.model_card); to "
                f"train that network, call get_estimator({name!r}, ...) without pretrained and "
                "fit it")
        return estimator.set_params(**params) if params else estimator
    return get_estimator_class(name)(**params)


def list_datasets():
    """Names of the registered data sets, sorted."""
    return sorted(dataset_entries())


def get_dataset_loader(name):
    """The loader function registered under ``name``."""
    return _lookup(dataset_entries(), name, "data set").obj


def list_noises():
    """Names of the registered noise sources, sorted."""
    return sorted(noise_entries())


def get_noise_source(name):
    """The noise source factory registered under ``name``."""
    return _lookup(noise_entries(), name, "noise source").obj


def plugin_info():
    """One dict per plugin: name, package, version, and the names it registers.

    Each plugin is listed once. ``"problems"`` lists what was reported and skipped (entries that
    failed validation, a registering hook that raised, hooks that are never called); ``"error"``
    is set when the plugin contributes nothing because it failed to load or to register.
    """
    load_plugins()
    dists = {id(p): d for p, d in pm.list_plugin_distinfo()}
    kinds = {"estimators": estimator_entries, "datasets": dataset_entries, "noises": noise_entries}
    registered = {kind: entries_of() for kind, entries_of in kinds.items()}
    problems = {name: list(messages) for name, messages in _load_problems.items()}
    for per_plugin in _problems.values():
        for plugin_name, messages in per_plugin.items():
            problems.setdefault(plugin_name, []).extend(messages)
    rows = []
    for name, plugin in pm.list_name_plugin():  # in the order they were registered
        if plugin is None:  # blocked
            continue
        dist = dists.get(id(plugin))
        row = {
            "name": name,
            "package": dist.metadata["Name"] if dist else "",
            "version": dist.version if dist else "",
        }
        for kind, entries in registered.items():
            row[kind] = sorted(n for n, e in entries.items() if e.plugin == name)
        if name in problems:
            row["problems"] = problems[name]
            if not any(row[kind] for kind in kinds):
                row["error"] = "; ".join(problems[name])
        rows.append(row)
    for name, message in _failed.items():
        if not pm.has_plugin(name):
            rows.append({"name": name, "package": "", "version": "", "error": message})
    return rows
