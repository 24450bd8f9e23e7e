"""Resume: an interrupted fit continued from its state file equals an uninterrupted one."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sigest.estimators.denoisers import FCNNDenoiser
from sigest.estimators.tiny import TinyDenoiser, TinyGANGenerator
from sigest.resume import Resume

from .test_base import sines


class Interrupt(Callback):
    """Raise KeyboardInterrupt after ``epochs`` epochs, as a killed job would stop."""

    def __init__(self, epochs):
        self.epochs = epochs

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epochs:
            raise KeyboardInterrupt


def weights(est):
    return np.concatenate([p.detach().numpy().ravel() for p in est.module_.parameters()])


def early_stopped(**kwargs):
    # lr high enough that the validation loss stalls and early stopping ends the run
    return FCNNDenoiser(module__n_hidden_layers=1, max_epochs=12, patience=2, lr=1e-2,
                        batch_size=8, random_state=0, **kwargs)


def test_resume_with_early_stopping_equals_an_uninterrupted_run(tmp_path):
    X = sines(48, n_times=64)
    full = early_stopped().fit(X)
    n_epochs = len(full.history)
    assert n_epochs < 12  # early stopping ended it, so its counters matter below
    best = int(np.argmin(full.history[:, "valid_loss"]))
    assert best < n_epochs - 1  # the final weights are an earlier epoch's, restored
    for stop in range(1, n_epochs):
        path = tmp_path / f"state-{stop}.pt"
        early_stopped(callbacks=[Resume(path), Interrupt(stop)]).fit(X)
        resumed = early_stopped(callbacks=[Resume(path)]).fit(X)
        assert resumed.callbacks[0].resumed_epochs_ == stop
        np.testing.assert_array_equal(resumed.history[:, "valid_loss"],
                                      full.history[:, "valid_loss"])
        np.testing.assert_array_equal(weights(resumed), weights(full))


def test_max_epochs_counts_the_resumed_epochs(tmp_path):
    X = sines(32)
    path = tmp_path / "state.pt"
    TinyDenoiser(max_epochs=3, random_state=0, callbacks=[Resume(path)]).fit(X)
    den = TinyDenoiser(max_epochs=3, random_state=0, callbacks=[Resume(path)]).fit(X)
    assert len(den.history) == 3  # done already: no epoch more
    den = TinyDenoiser(max_epochs=5, random_state=0, callbacks=[Resume(path)]).fit(X)
    full = TinyDenoiser(max_epochs=5, random_state=0).fit(X)
    assert len(den.history) == 5
    np.testing.assert_array_equal(weights(den), weights(full))


def test_a_state_with_more_epochs_than_max_epochs_says_it_keeps_them(tmp_path):
    X = sines(32)
    path = tmp_path / "state.pt"
    TinyDenoiser(max_epochs=4, random_state=0, callbacks=[Resume(path)]).fit(X)
    with pytest.warns(UserWarning, match=r"holds 4 trained epochs, more than max_epochs=2; the "
                                         r"fit keeps all of them"):
        den = TinyDenoiser(max_epochs=2, random_state=0, callbacks=[Resume(path)]).fit(X)
    assert len(den.history) == 4


def test_resume_restores_every_optimizer_of_a_gan(tmp_path):
    X = sines(64, n_times=32)
    full = TinyGANGenerator(max_epochs=4, random_state=0).fit(X)
    path = tmp_path / "state.pt"
    TinyGANGenerator(max_epochs=4, random_state=0, callbacks=[Resume(path), Interrupt(2)]).fit(X)
    resumed = TinyGANGenerator(max_epochs=4, random_state=0, callbacks=[Resume(path)]).fit(X)
    np.testing.assert_array_equal(weights(resumed), weights(full))


def test_a_state_of_another_fit_is_refused_naming_the_difference(tmp_path):
    X = sines(32)
    path = tmp_path / "state.pt"
    TinyDenoiser(max_epochs=1, random_state=0, callbacks=[Resume(path)]).fit(X)
    with pytest.raises(ValueError, match="not a training state of a FCNNDenoiser.*TinyDenoiser"):
        FCNNDenoiser(max_epochs=1, random_state=0, callbacks=[Resume(path)]).fit(X)
    with pytest.raises(ValueError, match=r"other parameters.*'lr': \(0.001, 0.01\)"):
        TinyDenoiser(max_epochs=2, lr=0.01, random_state=0, callbacks=[Resume(path)]).fit(X)
    with pytest.raises(ValueError, match="other data"):
        TinyDenoiser(max_epochs=2, random_state=0, callbacks=[Resume(path)]).fit(X[:-1])
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="not a training state.*None"):
        TinyDenoiser(max_epochs=1, callbacks=[Resume(path)]).fit(X)
    path.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="cannot be read as a training state"):
        TinyDenoiser(max_epochs=1, callbacks=[Resume(path)]).fit(X)


def test_free_parameters_may_change_between_the_two_fits(tmp_path):
    X = sines(32)
    path = tmp_path / "state.pt"
    TinyDenoiser(max_epochs=1, random_state=0, callbacks=[Resume(path)]).fit(X)
    den = TinyDenoiser(max_epochs=2, random_state=0, verbose=1, warm_start=True,
                       callbacks=[Resume(path)]).fit(X)
    assert den.callbacks[0].resumed_epochs_ == 1


def test_a_failed_save_keeps_the_last_complete_state(tmp_path, monkeypatch):
    X = sines(32)
    path = tmp_path / "state.pt"
    TinyDenoiser(max_epochs=2, random_state=0, callbacks=[Resume(path)]).fit(X)
    before = path.read_bytes()

    def broken_save(obj, f):
        f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        TinyDenoiser(max_epochs=4, random_state=0, callbacks=[Resume(path)]).fit(X)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["state.pt"]  # no temporary file left


def test_a_state_fitted_with_other_noise_settings_is_refused(tmp_path):
    from sigest.noise import NoiseInjector

    X = sines(32)
    path = tmp_path / "state.pt"
    TinyDenoiser(max_epochs=1, random_state=0, noise=NoiseInjector(snr_db=(-7.0, 2.0)),
                 callbacks=[Resume(path)]).fit(X)
    with pytest.raises(ValueError, match=r"other parameters.*'noise__snr_db'"):
        TinyDenoiser(max_epochs=2, random_state=0, noise=NoiseInjector(snr_db=-20.0),
                     callbacks=[Resume(path)]).fit(X)
    den = TinyDenoiser(max_epochs=2, random_state=0, noise=NoiseInjector(snr_db=(-7.0, 2.0)),
                       callbacks=[Resume(path)]).fit(X)
    assert den.callbacks[0].resumed_epochs_ == 1


def test_partial_fit_with_resume_is_refused(tmp_path):
    X = sines(32)
    den = TinyDenoiser(max_epochs=1, random_state=0, callbacks=[Resume(tmp_path / "s.pt")]).fit(X)
    with pytest.raises(ValueError, match="partial_fit trains more epochs in memory"):
        den.partial_fit(X)


def test_temporary_files_of_a_killed_save_are_swept(tmp_path):
    X = sines(32)
    path = tmp_path / "state.pt"
    stale = tmp_path / ".state.pt.0123456789ab.tmp"
    stale.write_bytes(b"half a state")
    other = tmp_path / ".other.pt.0123456789ab.tmp"
    other.write_bytes(b"another fit's")
    TinyDenoiser(max_epochs=1, random_state=0, callbacks=[Resume(path)]).fit(X)
    assert not stale.exists() and other.exists() and path.exists()


def test_a_rerun_of_an_early_stopped_fit_trains_no_epoch(tmp_path):
    # early stopping ends the last epoch by raising before Resume (a user callback) saves it
    X = sines(48, n_times=64)
    path = tmp_path / "state.pt"
    full = early_stopped(callbacks=[Resume(path)]).fit(X)
    n_epochs = len(full.history)
    assert n_epochs < 12
    saved = torch.load(path, weights_only=True)
    assert len(saved["history"].split('"epoch"')) - 1 == n_epochs  # the last epoch is in
    rerun = early_stopped(callbacks=[Resume(path), Interrupt(n_epochs + 1)]).fit(X)
    assert rerun.callbacks[0].resumed_epochs_ == n_epochs
    assert len(rerun.history) == n_epochs  # no epoch trained again
    np.testing.assert_array_equal(rerun.history[:, "valid_loss"], full.history[:, "valid_loss"])
    np.testing.assert_array_equal(weights(rerun), weights(full))  # the best epoch's, restored


def test_an_early_stopping_listed_after_resume_gets_its_best_weights_saved(tmp_path):
    # a user EarlyStopping after Resume records an epoch's best weights after Resume saved it
    from skorch.callbacks import EarlyStopping

    def fit(*callbacks):
        return FCNNDenoiser(module__n_hidden_layers=1, max_epochs=12, lr=1e-2, batch_size=8,
                            train_split=0.2, random_state=0, callbacks=list(callbacks)).fit(X)

    X = sines(48, n_times=64)
    full = fit(EarlyStopping(patience=2, load_best=True))
    n_epochs = len(full.history)
    assert n_epochs < 12
    for stop in range(1, n_epochs):
        path = tmp_path / f"state-{stop}.pt"
        fit(Resume(path), EarlyStopping(patience=2, load_best=True), Interrupt(stop))
        resumed = fit(Resume(path), EarlyStopping(patience=2, load_best=True))
        assert len(resumed.history) == n_epochs
        np.testing.assert_array_equal(weights(resumed), weights(full))


def test_a_folder_keeps_one_state_per_fit_of_a_cross_validation(tmp_path):
    from sklearn.model_selection import KFold, cross_validate

    X = sines(48)
    folder = tmp_path / "states"
    folder.mkdir()

    def run(max_epochs, callbacks, n_jobs=None):
        den = TinyDenoiser(max_epochs=max_epochs, random_state=0, callbacks=callbacks)
        return cross_validate(den, X, cv=KFold(3), n_jobs=n_jobs, return_estimator=True,
                              error_score="raise")

    run(1, [Resume(folder)])
    assert len(list(folder.iterdir())) == 3  # one state per fold
    resumed = run(2, [Resume(folder)], n_jobs=2)
    full = run(2, None)
    assert [est.callbacks[0].resumed_epochs_ for est in resumed["estimator"]] == [1, 1, 1]
    np.testing.assert_array_equal(resumed["test_score"], full["test_score"])
    # a path ending in "/" is a folder too, created if missing
    den = TinyDenoiser(max_epochs=1, random_state=0,
                       callbacks=[Resume(f"{tmp_path}/new/")]).fit(X)
    assert den.callbacks[0].state_path_.parent == tmp_path / "new"
    assert den.callbacks[0].state_path_.is_file()


def test_an_unwritable_folder_is_refused_before_training(tmp_path, monkeypatch):
    import os

    import sigest.resume

    folder = tmp_path / "read-only"
    folder.mkdir()
    real_access = os.access
    monkeypatch.setattr(sigest.resume.os, "access",
                        lambda p, mode: False if str(p) == str(folder) else real_access(p, mode))
    den = TinyDenoiser(max_epochs=2, random_state=0, callbacks=[Resume(folder / "state.pt")])
    with pytest.raises(PermissionError, match="read-only is not writable"):
        den.fit(sines(32))
    assert len(den.history) == 0  # no epoch trained for nothing
