"""Scale: Dask-distributed searches, Accelerate training, out-of-core (memory-mapped) data."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from sigest.datasets import load_sample
from sigest.estimators.tiny import TinyDenoiser

GRID = {"module__n_filters": [4, 8], "lr": [1e-3, 3e-3]}


@pytest.fixture(scope="module")
def clean_eeg():
    """Real clean EEG epochs (EEGdenoiseNet, shipped sample), 256 Hz, 2 s."""
    return load_sample().eeg[:48].astype(np.float32)


def _tiny_denoiser():
    return TinyDenoiser(max_epochs=2, batch_size=16, noise="white", sfreq=256.0, random_state=0)


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("dask.distributed")
    # Two single-threaded workers in this process, talking TCP over loopback: the same
    # scheduler, comms and task serialisation as a multi-machine cluster, without the start-up
    # cost of worker processes on a shared 2-core machine.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


def test_grid_search_on_dask_equals_sequential(clean_eeg, dask_client):
    import joblib

    cv = KFold(2)
    sequential = GridSearchCV(_tiny_denoiser(), GRID, cv=cv, refit=False).fit(clean_eeg)
    with joblib.parallel_backend("dask"):
        distributed = GridSearchCV(_tiny_denoiser(), GRID, cv=cv, refit=False, n_jobs=-1)
        distributed.fit(clean_eeg)
    # the work really went to the cluster's workers
    assert sum(len(log) for log in dask_client.run(lambda dask_worker: dask_worker.state.log)
               .values()) > 0
    for key in ("mean_test_score", "split0_test_score", "split1_test_score"):
        np.testing.assert_array_equal(sequential.cv_results_[key], distributed.cv_results_[key])
    assert sequential.best_params_ == distributed.best_params_


def test_cross_validate_on_dask_equals_sequential(clean_eeg, dask_client):
    import joblib

    sequential = cross_validate(_tiny_denoiser(), clean_eeg, cv=KFold(3))
    with joblib.parallel_backend("dask"):
        distributed = cross_validate(_tiny_denoiser(), clean_eeg, cv=KFold(3), n_jobs=-1)
    np.testing.assert_array_equal(sequential["test_score"], distributed["test_score"])
    assert np.all(np.isfinite(distributed["test_score"]))
