"""The plugin registry: built-ins, in-process plugins, broken plugins, duplicates."""

import importlib
import importlib.metadata
import re
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pluggy
import pytest

import sigest
from sigest import plugins
from sigest.estimators.tiny import TinyDenoiser
from sigest.plugins import PluginWarning, RegistryError, hookimpl


@pytest.fixture
def in_process_plugin():
    registered = []

    def add(obj, name):
        plugins.pm.register(obj, name=name)
        registered.append(name)

    yield add
    for name in registered:
        plugins.pm.unregister(name=name)


class _Good:
    @hookimpl
    def sigest_register_estimators(self, register):
        register("in-process-denoiser", TinyDenoiser, task="denoising", description="test")


def test_builtins_register_through_the_entry_point_group():
    entries = plugins.estimator_entries()
    for name in ("tiny-conv-denoiser", "tiny-conv-classifier", "tiny-mlp-gan"):
        assert entries[name].plugin == "estimators"
    assert set(sigest.list_estimators(task="generation")) >= {"tiny-mlp-gan"}
    assert "tiny-conv-denoiser" not in sigest.list_estimators(task="classification")


def test_get_estimator_sets_params_and_class_lookup():
    est = sigest.get_estimator("tiny-conv-denoiser", lr=0.5, module__n_filters=4)
    assert isinstance(est, TinyDenoiser)
    assert est.lr == 0.5 and est.get_params()["module__n_filters"] == 4
    assert sigest.get_estimator_class("tiny-conv-denoiser") is TinyDenoiser


def test_unknown_names_and_tasks_are_clear_errors():
    with pytest.raises(RegistryError, match="unknown estimator 'nope'.*tiny-conv-denoiser"):
        sigest.get_estimator("nope")
    with pytest.raises(ValueError, match="task must be one of"):
        sigest.list_estimators(task="regression")


def test_in_process_plugin_is_found(in_process_plugin):
    in_process_plugin(_Good(), "good")
    assert plugins.estimator_entries()["in-process-denoiser"].plugin == "good"
    assert "in-process-denoiser" in sigest.list_estimators()


class _Broken:
    @hookimpl
    def sigest_register_estimators(self, register):
        raise RuntimeError("boom")


def test_plugin_that_raises_is_reported_and_skipped(in_process_plugin):
    in_process_plugin(_Broken(), "broken-plugin")
    with pytest.warns(PluginWarning, match="'broken-plugin' failed in sigest_register_estimators"):
        names = sigest.list_estimators()
    assert "tiny-conv-denoiser" in names


def test_plugin_registering_a_non_estimator_is_reported(in_process_plugin):
    class NotAnEstimator:
        @hookimpl
        def sigest_register_estimators(self, register):
            register("bad", object, task="denoising")

    in_process_plugin(NotAnEstimator(), "not-an-estimator")
    with pytest.warns(PluginWarning, match="must be a scikit-learn estimator class"):
        names = sigest.list_estimators()
    assert "bad" not in names and "tiny-conv-denoiser" in names


def test_two_plugins_one_name_is_an_error_naming_both(in_process_plugin):
    class Dup:
        @hookimpl
        def sigest_register_estimators(self, register):
            register("tiny-conv-denoiser", TinyDenoiser, task="denoising")

    in_process_plugin(Dup(), "duplicate-plugin")
    with pytest.raises(RegistryError, match="'estimators' and 'duplicate-plugin'"):
        sigest.list_estimators()


def test_entry_point_that_fails_to_import_is_reported(monkeypatch):
    class FakeEP:
        name = "exploding"
        dist = None

        def load(self):
            raise ImportError("missing dependency")

    monkeypatch.setattr(plugins, "_entry_points_loaded", False)
    monkeypatch.setattr(plugins.importlib.metadata, "entry_points", lambda group: [FakeEP()])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plugins.load_plugins()
    assert any("'exploding' failed to load (ImportError: missing dependency)" in str(w.message)
               for w in caught)
    assert "tiny-conv-denoiser" in sigest.list_estimators()
    plugins._failed.pop("exploding", None)


def test_plugin_info_lists_builtins():
    rows = {row["name"]: row for row in plugins.plugin_info()}
    assert rows["estimators"]["package"] == "sigest"
    assert "tiny-conv-denoiser" in rows["estimators"]["estimators"]


# --- entry-point names that clash -------------------------------------------------------------

class _FakeDist:
    def __init__(self, name, version="1.0"):
        self.metadata = {"Name": name}
        self.version = version
        self.name = name


class _FakeEntryPoint:
    def __init__(self, name, package, plugin):
        self.name, self.value, self.group = name, plugin.__name__, "sigest"
        self.dist = _FakeDist(package)
        self._plugin = plugin

    def load(self):
        return self._plugin


def _plugin_module(module_name, **estimators):
    """A module object with a ``sigest_register_estimators`` hook registering ``estimators``."""
    module = types.ModuleType(module_name)

    @hookimpl
    def sigest_register_estimators(register):
        for name, cls in estimators.items():
            register(name, cls, task="denoising", description=f"from {module_name}")

    module.sigest_register_estimators = sigest_register_estimators
    return module


@pytest.fixture
def fresh_registry(monkeypatch):
    """An empty plugin manager; ``use(entry_points)`` sets what the entry-point group holds."""
    builtin = [ep for ep in importlib.metadata.entry_points(group="sigest")
               if ep.dist is not None and ep.dist.metadata["Name"] == "sigest"]
    pm = pluggy.PluginManager(plugins.PROJECT)
    pm.add_hookspecs(plugins._HookSpecs)
    monkeypatch.setattr(plugins, "pm", pm)
    monkeypatch.setattr(plugins, "_entry_points_loaded", False)
    monkeypatch.setattr(plugins, "_failed", {})
    monkeypatch.setattr(plugins, "_cache", {})
    monkeypatch.setattr(plugins, "_problems", {})
    monkeypatch.setattr(plugins, "_load_problems", {}, raising=False)

    def use(entry_points):
        monkeypatch.setattr(plugins.importlib.metadata, "entry_points",
                            lambda group: list(entry_points))

    use.builtin = builtin
    return use


@pytest.mark.parametrize("third_party_first", [True, False])
def test_entry_point_name_clashes_keep_every_plugin(fresh_registry, third_party_first):
    # a third-party entry point named like sigest's own ("estimators"), and two third-party
    # packages sharing one entry-point name: all load, under names that cannot clash
    other = _FakeEntryPoint("estimators", "other-pkg",
                            _plugin_module("other_pkg", **{"other-denoiser": TinyDenoiser}))
    shared_a = _FakeEntryPoint("shared", "pkg-a",
                               _plugin_module("pkg_a", **{"a-den": TinyDenoiser}))
    shared_b = _FakeEntryPoint("shared", "pkg-b",
                               _plugin_module("pkg_b", **{"b-den": TinyDenoiser}))
    third = [other, shared_a, shared_b]
    fresh_registry(third + fresh_registry.builtin if third_party_first
                   else fresh_registry.builtin + third)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        entries = plugins.estimator_entries()
    assert not [w for w in caught if issubclass(w.category, PluginWarning)]
    assert entries["tiny-conv-denoiser"].plugin == "estimators"   # built-ins keep their name
    assert entries["other-denoiser"].plugin == "other-pkg:estimators"
    assert entries["a-den"].plugin == "pkg-a:shared"
    assert entries["b-den"].plugin == "pkg-b:shared"
    rows = {row["name"]: row for row in plugins.plugin_info()}
    assert rows["estimators"]["package"] == "sigest"
    assert "tiny-conv-denoiser" in rows["estimators"]["estimators"]
    assert rows["other-pkg:estimators"]["package"] == "other-pkg"
    assert rows["other-pkg:estimators"]["estimators"] == ["other-denoiser"]
    assert rows["pkg-a:shared"]["estimators"] == ["a-den"]
    assert rows["pkg-b:shared"]["estimators"] == ["b-den"]


def test_unique_third_party_entry_point_keeps_its_plain_name(fresh_registry):
    mine = _FakeEntryPoint("mine", "sigest-mine", _plugin_module("mine", **{"m": TinyDenoiser}))
    fresh_registry(fresh_registry.builtin + [mine])
    assert plugins.estimator_entries()["m"].plugin == "mine"


def test_entry_point_whose_names_are_all_taken_is_reported_naming_both(fresh_registry):
    holder = _plugin_module("holder", **{"h": TinyDenoiser})
    plugins.pm.register(holder, name="taken")
    plugins.pm.register(_plugin_module("holder2"), name="pkg-c:taken")
    late = _FakeEntryPoint("taken", "pkg-c", _plugin_module("late", **{"late": TinyDenoiser}))
    fresh_registry(fresh_registry.builtin + [late])
    with pytest.warns(PluginWarning, match="'pkg-c:taken' from package 'pkg-c'.*taken by"):
        entries = plugins.estimator_entries()
    assert entries["h"].plugin == "taken" and "tiny-conv-denoiser" in entries


# --- one bad register() call ------------------------------------------------------------------

def test_invalid_register_call_skips_only_that_entry(in_process_plugin, capsys):
    from sigest.cli import main

    class Partly:
        @hookimpl
        def sigest_register_estimators(self, register):
            register("bad-good", TinyDenoiser, task="denoising", description="fine")
            register("bad-notanestimator", object, task="denoising", description="not fine")
            register("bad-good2", TinyDenoiser, task="denoising", description="fine too")

    in_process_plugin(Partly(), "partly-bad")
    with pytest.warns(PluginWarning, match="'partly-bad'.*'bad-notanestimator'.*skipped"):
        names = sigest.list_estimators()
    assert {"bad-good", "bad-good2"} <= set(names) and "bad-notanestimator" not in names
    rows = [row for row in plugins.plugin_info() if row["name"] == "partly-bad"]
    assert len(rows) == 1
    assert rows[0]["estimators"] == ["bad-good", "bad-good2"] and "error" not in rows[0]
    assert any("bad-notanestimator" in p for p in rows[0]["problems"])
    main(["plugins"])
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("partly-bad ")]
    assert len(lines) == 1 and "bad-good, bad-good2" in lines[0]


def test_plugin_whose_hook_raises_is_listed_once_with_its_error(in_process_plugin):
    in_process_plugin(_Broken(), "broken-once")
    with pytest.warns(PluginWarning, match="'broken-once' failed in sigest_register_estimators"):
        rows = [row for row in plugins.plugin_info() if row["name"] == "broken-once"]
    assert len(rows) == 1 and "RuntimeError: boom" in rows[0]["error"]


def test_a_name_registered_twice_by_one_plugin_keeps_the_first(in_process_plugin):
    class Twice:
        @hookimpl
        def sigest_register_estimators(self, register):
            register("twice-den", TinyDenoiser, task="denoising", description="first")
            register("twice-den", TinyDenoiser, task="denoising", description="second")

    in_process_plugin(Twice(), "twice")
    with pytest.warns(PluginWarning, match="'twice'.*'twice-den'.*registered twice"):
        entries = plugins.estimator_entries()
    assert entries["twice-den"].description == "first"


def test_register_calls_with_wrong_arguments_skip_only_that_entry(in_process_plugin):
    class Wrong:
        @hookimpl
        def sigest_register_estimators(self, register):
            register("wrong-typo", TinyDenoiser, task="denoising", desciption="a typo")
            register("wrong-positional", TinyDenoiser, "denoising")
            register("wrong-check-params", TinyDenoiser, task="denoising",
                     check_params=[("max_epochs", 2)])
            register("wrong skip", TinyDenoiser, task="denoising")
            register("", TinyDenoiser, task="denoising")
            register("wrong-ok", TinyDenoiser, task="denoising", check_params={"max_epochs": 2},
                     skip_checks="a reason given by the plugin")

    in_process_plugin(Wrong(), "wrong-args")
    with pytest.warns(PluginWarning) as record:
        entries = plugins.estimator_entries()
    messages = " | ".join(str(w.message) for w in record)
    assert "'wrong-typo' skipped (TypeError: estimator 'wrong-typo': unknown keyword argument(s) " \
           "desciption; register() takes task, description, check_params, skip_checks" in messages
    assert "'wrong-positional' skipped (TypeError: register() takes the name and the object " \
           "positionally" in messages and "got 1 more positional argument(s): 'denoising'" \
           in messages
    assert "check_params must be a dict of parameter names to values; got [(" in messages
    assert "'wrong skip' skipped (ValueError: the name must be a non-empty string" in messages
    assert "'' skipped (ValueError" in messages
    assert [n for n in entries if n.startswith("wrong")] == ["wrong-ok"]
    assert entries["wrong-ok"].extra == {"check_params": {"max_epochs": 2},
                                         "skip_checks": "a reason given by the plugin"}


def test_noise_sources_of_the_wrong_form_are_reported_at_registration(in_process_plugin):
    from sigest.noise import NoiseInjector, WhiteNoise

    def two_args(n, m):
        return None

    class Noises:
        @hookimpl
        def sigest_register_noises(self, register):
            register("bad-noise-signature", two_args, description="x")
            register("bad-noise-task", WhiteNoise, task="denoising")
            register("good-noise-function",
                     lambda n_epochs, n_channels, n_times, sfreq, rng:
                     rng.standard_normal((n_epochs, n_channels, n_times)), description="x")
            register("good-noise-factory", lambda: WhiteNoise(), description="x")

    in_process_plugin(Noises(), "noises-plugin")
    with pytest.warns(PluginWarning) as record:
        names = sigest.list_noises()
    messages = " | ".join(str(w.message) for w in record)
    assert re.search(r"'bad-noise-signature' skipped \(TypeError: noise source "
                     r"'bad-noise-signature' must be .* f\(n_epochs, n_channels, n_times, sfreq, "
                     r"rng\); got .*two_args\(n, m\)\)", messages)
    assert "'bad-noise-task': unknown keyword argument(s) task" in messages
    assert {"good-noise-function", "good-noise-factory", "white"} <= set(names)
    assert not {"bad-noise-signature", "bad-noise-task"} & set(names)
    X = np.zeros((4, 1, 32))
    noisy = NoiseInjector(source="good-noise-function", snr_db=0.0, random_state=0).fit_transform(
        X + 1.0)
    assert noisy.shape == X.shape


def test_two_plugins_one_name_error_names_packages_and_how_to_block_either():
    class Dup:
        @hookimpl
        def sigest_register_estimators(self, register):
            register("tiny-conv-denoiser", TinyDenoiser, task="denoising")

    plugins.pm.register(Dup(), name="duplicate-2")
    try:
        with pytest.raises(RegistryError) as info:
            sigest.list_estimators()
        message = str(info.value)
        assert "by two plugins: 'estimators' and 'duplicate-2' (from package 'sigest' and a " \
               "plugin registered in-process)" in message
        assert "sigest.plugins.pm.set_blocked('estimators') or set_blocked('duplicate-2')" \
            in message
        plugins.pm.set_blocked("duplicate-2")  # what the message says works
        assert sigest.get_estimator_class("tiny-conv-denoiser") is TinyDenoiser
    finally:
        if plugins.pm.is_blocked("duplicate-2"):
            plugins.pm.unblock("duplicate-2")
        else:
            plugins.pm.unregister(name="duplicate-2")


# --- hooks that cannot be called, or are never called -----------------------------------------

def _module(module_name, source):
    module = types.ModuleType(module_name)
    exec(source, module.__dict__)
    return module


@pytest.mark.parametrize("signature", ["(reg)", "()", "(register, extra)"])
def test_hook_with_a_wrong_signature_is_reported_with_the_expected_one(fresh_registry,
                                                                       signature):
    module = _module("wrongsig", "from sigest import hookimpl\n@hookimpl\n"
                                 f"def sigest_register_estimators{signature}:\n    pass\n")
    fresh_registry(fresh_registry.builtin
                   + [_FakeEntryPoint("wrongsig", "sigest-wrongsig", module)])
    with pytest.warns(PluginWarning) as record:
        entries = plugins.estimator_entries()
    messages = [str(w.message) for w in record if "'wrongsig'" in str(w.message)]
    assert len(messages) == 1, messages
    assert "failed to load" in messages[0]
    assert f"sigest_register_estimators{signature}" in messages[0]  # what came
    assert "sigest_register_estimators(register)" in messages[0]  # what was expected
    assert "tiny-conv-denoiser" in entries
    row = {row["name"]: row for row in plugins.plugin_info()}["wrongsig"]
    assert "sigest_register_estimators(register)" in row["error"]
    assert "\n" not in row["error"]  # one line in the table of `sigest plugins`


@pytest.mark.parametrize("source, expected", [
    ("from sigest import hookimpl\n@hookimpl\ndef sigest_register_estimator(register):\n"
     "    register('never', object)\n",
     "sigest_register_estimator is not a sigest hook and is never called; sigest's hooks are "
     "sigest_register_estimators(register), sigest_register_datasets(register), "
     "sigest_register_noises(register)"),
    ("def sigest_register_estimators(register):\n    register('never', object)\n",
     "sigest_register_estimators is not marked @hookimpl (from sigest import hookimpl)"),
], ids=["misspelled-hook", "no-hookimpl"])
def test_hooks_that_are_never_called_are_reported(fresh_registry, source, expected):
    module = _module("nevercalled", source)
    fresh_registry(fresh_registry.builtin
                   + [_FakeEntryPoint("nevercalled", "sigest-nevercalled", module)])
    with pytest.warns(PluginWarning, match=re.escape(f"'nevercalled': {expected}")):
        plugins.estimator_entries()
    row = {row["name"]: row for row in plugins.plugin_info()}["nevercalled"]
    assert row["package"] == "sigest-nevercalled" and expected in row["error"]


def test_entry_point_naming_a_function_is_reported(fresh_registry):
    module = _module("sigest_func", "from sigest import hookimpl\n@hookimpl\n"
                                    "def sigest_register_estimators(register):\n    pass\n")
    fresh_registry(fresh_registry.builtin
                   + [_FakeEntryPoint("func", "sigest-func", module.sigest_register_estimators)])
    with pytest.warns(PluginWarning, match="'func': has no @hookimpl function: its entry point "
                                           "must name a module .* it names function "
                                           "sigest_register_estimators"):
        plugins.estimator_entries()


def test_the_plugin_of_the_docs_builds_and_registers(tmp_path, monkeypatch, fresh_registry):
    from setuptools.config.pyprojecttoml import read_configuration

    page = (Path(__file__).parents[1] / "docs" / "user_guide" / "plugins.md").read_text()
    toml = re.search(r"```toml\n(.*?)```", page, re.S).group(1)
    source = re.search(r"```python\n(.*?)```", page, re.S).group(1)
    (tmp_path / "pyproject.toml").write_text(toml)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # setuptools' notices about its own config
        config = read_configuration(tmp_path / "pyproject.toml", expand=False)
    project = config["project"]
    assert project["version"] and config.get("build-system", {}).get("build-backend")
    ((plugin_name, module_name),) = project["entry-points"]["sigest"].items()
    (tmp_path / module_name).mkdir()
    (tmp_path / module_name / "__init__.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    installed = sys.modules.pop(module_name, None)  # a plugin of that name may be installed
    try:
        module = importlib.import_module(module_name)
        fresh_registry(fresh_registry.builtin
                       + [_FakeEntryPoint(plugin_name, project["name"], module)])
        with warnings.catch_warnings():
            warnings.simplefilter("error", PluginWarning)
            entry = plugins.estimator_entries()["my-denoiser"]
        assert entry.plugin == plugin_name
        assert entry.extra == {"check_params": {"max_epochs": 2}}
        assert sigest.get_estimator("my-denoiser", max_epochs=1).max_epochs == 1
    finally:
        sys.modules.pop(module_name, None)
        if installed is not None:
            sys.modules[module_name] = installed


# --- persistence trusts the package of a registered plugin estimator --------------------------

_PLUGIN_SOURCE = '''
import os  # noqa: F401  (so that "<package>.os.system" exists and must still be refused)

from torch import nn

from sigest import SignalDenoiser, hookimpl


class Net(nn.Module):
    def __init__(self, n_channels, n_times, width=4):
        super().__init__()
        self.conv = nn.Conv1d(n_channels, n_channels, 3, padding=1)

    def forward(self, x):
        return self.conv(x)


class Denoiser(SignalDenoiser):
    """A plugin denoiser."""

    def __init__(self, module=Net, **kwargs):
        super().__init__(module, **kwargs)


@hookimpl
def sigest_register_estimators(register):
    register("trustplug-denoiser", Denoiser, task="denoising", description="test")
'''


@pytest.fixture
def plugin_package(tmp_path, monkeypatch, in_process_plugin):
    """A plugin package on disk, registered in-process; and an unrelated package beside it."""
    for name in ("sigest_trustplug", "trustplug_other"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(_PLUGIN_SOURCE.replace(
            "trustplug-denoiser", f"{name}-denoiser"))
    monkeypatch.syspath_prepend(str(tmp_path))
    package = importlib.import_module("sigest_trustplug")
    other = importlib.import_module("trustplug_other")
    in_process_plugin(package, "trustplug")
    yield package, other
    for name in ("sigest_trustplug", "trustplug_other"):
        sys.modules.pop(name, None)


def test_plugin_estimator_with_its_own_network_saves_and_loads_without_warnings(
        plugin_package, tmp_path):
    from sigest.persistence import ModelFileError, _resolve, _trusted, load

    package, other = plugin_package
    plugins.estimator_entries()  # load every plugin before recording warnings
    X = np.sin(np.linspace(0, 30, 64))[None].repeat(8, 0).astype("float32")
    est = package.Denoiser(max_epochs=1, batch_size=8, random_state=0).fit(X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.save(tmp_path / "m.sigest")
        loaded = load(tmp_path / "m.sigest")
    assert [str(w.message) for w in caught] == []
    assert loaded.module is package.Net
    np.testing.assert_allclose(loaded.transform(X), est.transform(X), rtol=1e-5, atol=1e-6)

    # other packages stay untrusted, and so do names that merely share a prefix
    assert not _trusted("trustplug_other.Net") and not _trusted("sigest_trustplugx.Net")
    with pytest.warns(UserWarning, match=r"parameters \['module'\] cannot be stored safely"):
        package.Denoiser(module=other.Net, max_epochs=1, batch_size=8).fit(X).save(
            tmp_path / "other.sigest")
    with pytest.raises(ModelFileError, match="outside the packages sigest loads from"):
        _resolve("trustplug_other.Net")
    # the home of the object reached must be trusted too: os.system lives in posix
    with pytest.raises(ModelFileError, match="outside the packages sigest loads from"):
        _resolve("sigest_trustplug.os.system")


def test_standard_library_and_main_are_never_trusted_wholesale(in_process_plugin):
    from sigest.persistence import _trusted

    class Reg:
        @hookimpl
        def sigest_register_estimators(self, register):
            for module in ("os", "__main__", "builtins"):
                cls = type("Sneaky", (TinyDenoiser,), {"__module__": module})
                register(f"sneaky-{module}", cls, task="denoising")

    in_process_plugin(Reg(), "sneaky")
    assert _trusted("os.Sneaky")  # the registered class itself, by its exact path
    assert not _trusted("os.system") and not _trusted("__main__.anything")
    assert not _trusted("builtins.eval")


class _DataPlugin:
    @hookimpl
    def sigest_register_datasets(self, register):
        register("my-epochs", lambda: (np.zeros((4, 1, 8)), None, np.arange(4)),
                 description="four flat epochs")


def test_sigest_datasets_lists_a_plugins_data_sets(in_process_plugin, capsys):
    from sigest.cli import main

    in_process_plugin(_DataPlugin(), "data-plugin")
    assert main(["datasets"]) == 0
    line = next(li for li in capsys.readouterr().out.splitlines() if li.startswith("my-epochs"))
    assert "n/a" in line and "plugin data-plugin: four flat epochs" in line
