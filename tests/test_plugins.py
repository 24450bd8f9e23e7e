"""The plugin registry: built-ins, in-process plugins, broken plugins, duplicates."""

import warnings

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


def test_plugin_that_raises_is_reported_and_skipped(in_process_plugin):
    class Broken:
        @hookimpl
        def sigest_register_estimators(self, register):
            raise RuntimeError("boom")

    in_process_plugin(Broken(), "broken-plugin")
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
