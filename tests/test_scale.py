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


# ------------------------------------------------------------------------------ Accelerate
def test_accelerate_one_process_trains_like_the_plain_estimator(clean_eeg, tmp_path):
    pytest.importorskip("accelerate")
    import pickle

    from sklearn.base import clone

    import sigest
    from sigest.scale import accelerate, unaccelerate

    train, test = clean_eeg[:40], clean_eeg[40:]
    params = dict(max_epochs=8, batch_size=8, lr=3e-3)
    plain = _tiny_denoiser().set_params(**params).fit(train)
    accelerated = accelerate(_tiny_denoiser().set_params(**params), cpu=True)
    assert type(accelerated).__name__ == "AcceleratedTinyDenoiser"
    assert accelerated.get_params()["device"] is None
    accelerated.fit(train)
    # same seed, one process: the same network, the same weights, the same output
    np.testing.assert_allclose(accelerated.transform(test), plain.transform(test), atol=1e-5)
    noisy, clean = accelerated.noisy_pairs(test)
    from sigest.metrics import rrmse_temporal

    assert -accelerated.score(test) < 0.7 * rrmse_temporal(clean, noisy)
    # a module-level class: pickling, cloning and saving work
    restored = pickle.loads(pickle.dumps(accelerated))
    np.testing.assert_allclose(restored.transform(test), accelerated.transform(test))
    assert type(clone(accelerated)) is type(accelerated)
    accelerated.save(tmp_path / "den.zip")
    loaded = sigest.load(tmp_path / "den.zip")
    assert type(loaded).__name__ == "TinyDenoiser"
    np.testing.assert_allclose(loaded.transform(test), accelerated.transform(test), atol=1e-6)
    assert type(unaccelerate(accelerated)).__name__ == "TinyDenoiser"


def test_accelerate_classifier_with_validation_and_early_stopping():
    pytest.importorskip("accelerate")
    from skorch.callbacks import EarlyStopping

    from sigest.estimators.tiny import TinyClassifier
    from sigest.scale import accelerate

    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 2, 64)).astype(np.float32)
    y = np.repeat(["a", "b"], 30)
    X[y == "b"] += 1.0
    clf = accelerate(TinyClassifier(max_epochs=3, train_split=0.2, random_state=0,
                                    callbacks=[EarlyStopping(patience=1, load_best=True)]),
                     cpu=True).fit(X, y)
    assert set(clf.predict(X)) <= {"a", "b"}
    assert "valid_acc" in clf.history[-1]


def test_accelerate_rejects_non_sigest_and_mixed_arguments():
    pytest.importorskip("accelerate")
    from accelerate import Accelerator

    from sigest.scale import accelerate, accelerated_class

    with pytest.raises(TypeError, match="sigest estimator class"):
        accelerated_class(dict)
    with pytest.raises(TypeError, match="not both"):
        accelerate(_tiny_denoiser(), Accelerator(cpu=True), cpu=True)


TWO_PROCESS_SCRIPT = '''
import json, sys
import numpy as np, torch
torch.set_num_threads(1)
from skorch.callbacks import EarlyStopping
from sigest.datasets import load_sample
from sigest.estimators.tiny import TinyDenoiser
from sigest.metrics import rrmse_temporal
from sigest.scale import accelerate

X = load_sample().eeg.astype(np.float32)
train, test = X[:80], X[80:]
den = accelerate(TinyDenoiser(max_epochs=12, batch_size=8, lr=3e-3, noise="white", sfreq=256.0,
                              train_split=0.2, random_state=0,
                              callbacks=[EarlyStopping(patience=3, load_best=True)]))
den.fit(train)
if den.accelerator.is_main_process:
    noisy, clean = den.noisy_pairs(test)
    json.dump({"rrmse": -den.score(test), "noisy_rrmse": float(rrmse_temporal(clean, noisy)),
               "n_processes": den.accelerator.num_processes,
               "steps_per_epoch": len(den.history[0, "batches"])}, open(sys.argv[1], "w"))
'''


@pytest.mark.slow
def test_accelerate_two_cpu_processes_train_to_the_same_quality(tmp_path):
    """``accelerate launch`` with two CPU processes (gloo over loopback) vs one process."""
    pytest.importorskip("accelerate")
    import json
    import os
    import shutil
    import subprocess
    import sys

    script = tmp_path / "train.py"
    script.write_text(TWO_PROCESS_SCRIPT)
    launcher = shutil.which("accelerate", path=os.path.dirname(sys.executable))
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1"}
    subprocess.run([launcher, "launch", "--multi_gpu", "--num_processes", "2",
                    "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                    "--main_process_ip", "127.0.0.1", "--main_process_port", "29533",
                    str(script), str(tmp_path / "two.json")], env=env, check=True,
                   capture_output=True, timeout=900)
    subprocess.run([sys.executable, str(script), str(tmp_path / "one.json")], env=env,
                   check=True, capture_output=True, timeout=900)
    one = json.loads((tmp_path / "one.json").read_text())
    two = json.loads((tmp_path / "two.json").read_text())
    assert (one["n_processes"], two["n_processes"]) == (1, 2)
    assert two["steps_per_epoch"] * 2 == pytest.approx(one["steps_per_epoch"], abs=1)
    for run in (one, two):
        assert run["rrmse"] < 0.5 * run["noisy_rrmse"]
    assert two["rrmse"] == pytest.approx(one["rrmse"], rel=0.15)


def test_unaccelerate_leaves_a_still_wrapped_estimator_wrapped(clean_eeg):
    pytest.importorskip("accelerate")
    from sigest.scale import accelerate, unaccelerate

    den = accelerate(_tiny_denoiser(), unwrap_after_train=False, cpu=True).fit(clean_eeg)
    assert den._wrapped_with_accelerator
    plain = unaccelerate(den)
    # unwrapping here would leave partial_fit training a network outside DistributedDataParallel
    assert den._wrapped_with_accelerator
    np.testing.assert_allclose(plain.transform(clean_eeg), den.transform(clean_eeg), atol=1e-6)


def test_accelerate_refuses_a_non_estimator_with_a_type_error():
    pytest.importorskip("accelerate")
    from sigest.scale import accelerate

    with pytest.raises(TypeError, match="sigest estimator class; got <class 'dict'>"):
        accelerate({"lr": 0.1}, cpu=True)


def test_accelerate_does_not_share_callbacks_with_the_estimator():
    pytest.importorskip("accelerate")
    from skorch.callbacks import EarlyStopping

    from sigest.scale import accelerate

    stopper = EarlyStopping(monitor="train_loss")
    accelerated = accelerate(TinyDenoiser(max_epochs=1, callbacks=[stopper]), cpu=True)
    (copy,) = accelerated.callbacks
    assert isinstance(copy, EarlyStopping) and copy is not stopper


# ----------------------------------------------------------------------- memory-mapped data
def test_open_memmap_epochs_checks_what_it_opens(tmp_path):
    from sigest.scale import open_memmap_epochs

    path = tmp_path / "epochs.npy"
    X = open_memmap_epochs(path, shape=(4, 2, 8), mode="w+")
    X.flush()
    assert open_memmap_epochs(path, shape=(4, 2, 8)).shape == (4, 2, 8)
    with pytest.raises(ValueError, match=r"shape \(4, 2, 8\); expected shape \(4, 1, 8\)"):
        open_memmap_epochs(path, shape=(4, 1, 8))
    with pytest.raises(TypeError, match="shape must be a tuple of ints.*got 5"):
        open_memmap_epochs(tmp_path / "new.npy", shape=5, mode="w+")
    np.savez(tmp_path / "epochs.npz", X=np.zeros((4, 8)))
    with pytest.raises(ValueError, match="not a .npy file of one array; got a NpzFile"):
        open_memmap_epochs(tmp_path / "epochs.npz")


def test_fit_on_a_float64_memmap_larger_than_a_batch_reads_it_in_place(clean_eeg, tmp_path):
    from sigest.scale import open_memmap_epochs

    X = open_memmap_epochs(tmp_path / "x.npy", shape=clean_eeg.shape, dtype=np.float64,
                           mode="w+")
    X[:] = clean_eeg
    X.flush()
    X = open_memmap_epochs(tmp_path / "x.npy")
    before = np.array(X)
    den = _tiny_denoiser().set_params(batch_size=8).fit(X)
    in_ram = _tiny_denoiser().set_params(batch_size=8).fit(before)
    out = den.transform(X)
    assert out.dtype == np.float64 and out.shape == X.shape
    np.testing.assert_array_equal(out, in_ram.transform(before))
    np.testing.assert_array_equal(X, before)  # not written to
