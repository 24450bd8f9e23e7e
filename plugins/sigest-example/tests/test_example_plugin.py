import importlib.util

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import sigest


def test_example_plugin_is_registered_through_its_entry_point():
    pytest.importorskip("sigest_example")
    from sigest.plugins import estimator_entries

    entry = estimator_entries()["example-fir-denoiser"]
    assert entry.plugin == "example"
    X = np.sin(np.linspace(0, 60, 256))[None].repeat(16, 0)
    est = sigest.get_estimator("example-fir-denoiser", max_epochs=2, random_state=0).fit(X)
    assert est.transform(X).shape == X.shape


def test_example_estimator_saves_and_loads_without_warnings(tmp_path):
    # the network class (FIRFilter) lives in the plugin's package, beside the registered
    # estimator, so persistence trusts it like the estimator itself
    pytest.importorskip("sigest_example")
    import warnings

    from sigest_example import FIRFilter

    X = np.sin(np.linspace(0, 60, 256))[None].repeat(16, 0)
    est = sigest.get_estimator("example-fir-denoiser", max_epochs=1, random_state=0).fit(X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.save(tmp_path / "ex.sigest")
        loaded = sigest.load(tmp_path / "ex.sigest")
    assert [str(w.message) for w in caught] == []
    assert loaded.module is FIRFilter
    np.testing.assert_allclose(loaded.transform(X), est.transform(X), rtol=1e-5, atol=1e-6)


def _check_instances():
    # the parameters the plugin registered for scikit-learn's checks (check_params)
    if importlib.util.find_spec("sigest_example") is None:
        return []
    from sigest.plugins import estimator_entries

    entry = estimator_entries()["example-fir-denoiser"]
    return [entry.obj(**entry.extra["check_params"])]


@parametrize_with_checks(_check_instances())
def test_sklearn_compatible(estimator, check):
    check(estimator)
