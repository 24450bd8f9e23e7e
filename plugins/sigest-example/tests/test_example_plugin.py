import numpy as np
import pytest

import sigest


def test_example_plugin_is_registered_through_its_entry_point():
    pytest.importorskip("sigest_example")
    from sigest.plugins import estimator_entries

    entry = estimator_entries()["example-fir-denoiser"]
    assert entry.plugin == "example"
    X = np.sin(np.linspace(0, 60, 256))[None].repeat(16, 0)
    est = sigest.get_estimator("example-fir-denoiser", max_epochs=2, random_state=0).fit(X)
    assert est.transform(X).shape == X.shape
