"""The three bases through their tiny estimators: shapes, seeds, pipelines, CV, bad input."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline

from sigest.estimators.tiny import TinyClassifier, TinyDenoiser, TinyGANGenerator

RNG = np.random.default_rng(0)


def sines(n=48, n_channels=None, n_times=128, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n_times) / 64
    freqs = rng.uniform(2, 8, size=(n, 1 if n_channels is None else n_channels, 1))
    X = np.sin(2 * np.pi * freqs * t + rng.uniform(0, 6, freqs.shape))
    return X[:, 0] if n_channels is None else X


def labelled(n=60, n_channels=2, n_times=64, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(["rest", "task"], n // 2)
    X = rng.standard_normal((n, n_channels, n_times))
    X[y == "task", :, :] += np.sin(np.arange(n_times) / 3)
    return X, y


@pytest.mark.parametrize("shape", [(40, 128), (40, 3, 128)])
def test_denoiser_infers_shapes_and_keeps_rank_and_dtype(shape):
    X = sines(shape[0], None if len(shape) == 2 else shape[1], shape[-1])
    den = TinyDenoiser(max_epochs=2, random_state=0).fit(X)
    assert den.n_channels_in_ == (1 if len(shape) == 2 else shape[1])
    assert den.n_times_in_ == shape[-1]
    assert den.module_.net[0].in_channels == den.n_channels_in_
    out = den.transform(X)
    assert out.shape == X.shape and out.dtype == np.float64
    assert den.transform(X.astype(np.float32)).dtype == np.float32


def test_denoiser_learns_from_clean_data_with_noise():
    X = sines(128, n_times=128)
    den = TinyDenoiser(max_epochs=15, lr=1e-2, batch_size=32, random_state=0)
    noisy, clean = den.fit(X).noisy_pairs(X)
    from sigest.metrics import rrmse_temporal

    assert rrmse_temporal(clean, den.transform(noisy)) < 0.8 * rrmse_temporal(clean, noisy)


def test_noise_is_drawn_anew_every_epoch():
    X = sines(16, n_times=64)
    den = TinyDenoiser(max_epochs=1, random_state=0).fit(X)
    draws = [den._pair(*den.get_dataset(X.reshape(16, 1, 64).astype(np.float32))
                       .__getitems__(range(16)), den._rng)[0].numpy() for _ in range(2)]
    assert not np.allclose(draws[0], draws[1])


def test_noise_mode_scores_a_predefined_validation_set_of_pairs_as_given():
    from skorch.helper import predefined_split

    from sigest.base import SignalDataset

    clean = sines(40, n_times=64).astype(np.float32)
    v_clean = sines(8, n_times=64, seed=1).astype(np.float32)
    v_noisy = v_clean + 0.5 * RNG.standard_normal(v_clean.shape).astype(np.float32)
    valid = SignalDataset(v_noisy[:, None], v_clean[:, None])
    den = TinyDenoiser(max_epochs=2, random_state=0, train_split=predefined_split(valid))
    den.fit(clean)
    batch = valid.__getitems__(range(8))
    noisy, target = den._pair(*batch, den._rng)
    np.testing.assert_array_equal(noisy.numpy(), v_noisy[:, None])
    np.testing.assert_array_equal(target.numpy(), v_clean[:, None])
    expected = np.mean((den.transform(v_noisy) / v_noisy.std(axis=-1, keepdims=True)
                        - v_clean / v_noisy.std(axis=-1, keepdims=True)) ** 2)
    np.testing.assert_allclose(den.history[-1, "valid_loss"], expected, rtol=1e-3)


def test_denoiser_with_explicit_pairs_and_wrong_targets():
    clean = sines(30)
    noisy = clean + 0.3 * RNG.standard_normal(clean.shape)
    den = TinyDenoiser(max_epochs=2, noise=None, random_state=0).fit(noisy, clean)
    assert den.noise_ is None
    with pytest.raises(ValueError, match=r"clean targets y must have X's shape \(30, 128\); got"):
        TinyDenoiser(max_epochs=1).fit(noisy, clean[:, :64])
    with pytest.raises(ValueError, match="noise=None needs clean targets"):
        TinyDenoiser(noise=None).fit(noisy, np.zeros(30))


def test_same_random_state_same_weights_different_state_different():
    X = sines(32)

    def weights(seed):
        den = TinyDenoiser(max_epochs=2, random_state=seed).fit(X)
        return np.concatenate([p.detach().numpy().ravel() for p in den.module_.parameters()])

    np.testing.assert_array_equal(weights(3), weights(3))
    assert not np.allclose(weights(3), weights(4))


def test_fit_does_not_mutate_inputs_or_params():
    X, y = labelled()
    X_copy, y_copy = X.copy(), y.copy()
    clf = TinyClassifier(max_epochs=1, random_state=0)
    params = clf.get_params()
    clf.fit(X, y)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)
    assert clf.get_params().keys() == params.keys()


def test_classifier_string_labels_proba_and_score():
    X, y = labelled()
    clf = TinyClassifier(max_epochs=30, lr=1e-2, random_state=0).fit(X, y)
    assert list(clf.classes_) == ["rest", "task"]
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert set(clf.predict(X)) <= {"rest", "task"}
    assert clf.score(X, y) > 0.8


def test_classifier_is_unit_free_by_default_and_data_scaling_none_is_not():
    X, y = labelled()
    X_volts = X * 1e-6
    fit = TinyClassifier(max_epochs=5, lr=1e-2, random_state=0).fit(X, y)
    fit_volts = TinyClassifier(max_epochs=5, lr=1e-2, random_state=0).fit(X_volts, y)
    np.testing.assert_allclose(fit_volts.data_scale_, X_volts.std(axis=(0, 2))[:, None],
                               rtol=1e-6)
    np.testing.assert_allclose(fit_volts.predict_proba(X_volts), fit.predict_proba(X),
                               atol=1e-4)
    raw = TinyClassifier(max_epochs=5, lr=1e-2, random_state=0, data_scaling=None)
    raw.fit(X_volts, y)
    np.testing.assert_array_equal(raw.data_scale_, np.ones((2, 1)))
    assert not np.allclose(raw.predict_proba(X_volts), fit.predict_proba(X), atol=1e-2)
    with pytest.raises(ValueError, match="data_scaling must be 'train-std' or None; got 'z'"):
        TinyClassifier(max_epochs=1, data_scaling="z").fit(X, y)


def test_channel_std_reads_in_chunks_and_guards_constant_channels():
    from sigest.base import channel_std

    X = RNG.standard_normal((50, 3, 20)) * [[[1.0], [5.0], [0.0]]] + 7.0
    np.testing.assert_allclose(channel_std(X, chunk=7)[:2, 0], X[:, :2].std(axis=(0, 2)))
    assert channel_std(X, chunk=7)[2, 0] == 1.0


def test_classifier_class_weight_and_validation_split():
    X, y = labelled(n=80)
    clf = TinyClassifier(max_epochs=2, class_weight="balanced", train_split=0.25, random_state=0)
    clf.fit(X[:70], y[:70])
    assert clf.criterion_.weight is not None
    assert "valid_acc" in clf.history[-1]
    with pytest.raises(ValueError, match="class_weight must be"):
        TinyClassifier(max_epochs=1, class_weight="some").fit(X, y)


def test_gridsearch_over_lr_and_module_param_in_pipeline():
    from sklearn.preprocessing import FunctionTransformer

    X, y = labelled(n=40)
    pipe = make_pipeline(FunctionTransformer(), TinyClassifier(max_epochs=2, random_state=0))
    grid = GridSearchCV(pipe, {"tinyclassifier__lr": [1e-3, 1e-2],
                               "tinyclassifier__module__n_filters": [2, 4]}, cv=2)
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_estimator_[-1].module_.head.in_features in (4, 8)


def test_gridsearch_on_a_denoiser_without_targets_uses_its_score():
    X = sines(40)
    grid = GridSearchCV(TinyDenoiser(max_epochs=2, random_state=0),
                        {"module__n_filters": [2, 4]}, cv=2).fit(X)
    assert np.all(grid.cv_results_["mean_test_score"] < 0)


def test_cross_validate_with_groups():
    X, y = labelled(n=60)
    groups = np.repeat(np.arange(6), 10)
    res = cross_validate(TinyClassifier(max_epochs=1, random_state=0), X, y, groups=groups,
                         cv=GroupKFold(n_splits=3))
    assert len(res["test_score"]) == 3


def test_denoiser_first_in_a_classification_pipeline():
    X, y = labelled(n=40)
    pipe = make_pipeline(TinyDenoiser(max_epochs=1, random_state=0),
                         TinyClassifier(max_epochs=1, random_state=0))
    assert pipe.fit(X, y).predict(X).shape == (40,)


def test_clone_and_pickle_round_trip():
    X, y = labelled(n=30)
    clf = TinyClassifier(max_epochs=1, random_state=0, module__n_filters=3).fit(X, y)
    fresh = clone(clf)
    assert fresh.get_params()["module__n_filters"] == 3 and not hasattr(fresh, "classes_")
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_partial_fit_continues_training():
    X = sines(32)
    den = TinyDenoiser(max_epochs=2, random_state=0).fit(X)
    den.partial_fit(X)
    assert len(den.history) == 4


def test_generator_sample_is_deterministic_and_conditional():
    X, y = labelled(n=40, n_channels=1, n_times=32)
    gen = TinyGANGenerator(max_epochs=2, random_state=0).fit(X, y)
    a, b = gen.sample(5, random_state=1), gen.sample(5, random_state=1)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (5, 1, 32)
    _, labels = gen.sample(6, y="task", random_state=0, return_y=True)
    assert set(labels) == {"task"}
    assert "train_loss_d" in gen.history[-1]
    with pytest.raises(ValueError, match="not in classes_"):
        gen.sample(2, y="unknown")


def test_fit_resample_balances_and_keeps_real_data():
    X, y = labelled(n=40, n_channels=1, n_times=32)
    X, y = X[:26], y[:26]  # 20 rest, 6 task
    X_copy = X.copy()
    X_res, y_res = TinyGANGenerator(max_epochs=1, random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(X_res[:26], X_copy)
    np.testing.assert_array_equal(X, X_copy)
    values, counts = np.unique(y_res, return_counts=True)
    assert dict(zip(values, counts)) == {"rest": 20, "task": 20}


def test_discriminator_learning_rate_can_differ():
    X, y = labelled(n=40, n_channels=1, n_times=32)
    gen = TinyGANGenerator(max_epochs=1, lr=1e-4, lr_discriminator=4e-4, random_state=0)
    gen.fit(X, y)
    assert gen.optimizer_.param_groups[0]["lr"] == 1e-4
    assert gen.optimizer_discriminator_.param_groups[0]["lr"] == 4e-4
    same = TinyGANGenerator(max_epochs=1, lr=1e-4, random_state=0).fit(X, y)
    assert same.optimizer_discriminator_.param_groups[0]["lr"] == 1e-4
    with pytest.raises(ValueError, match="lr_discriminator must be a positive number"):
        TinyGANGenerator(max_epochs=1, lr_discriminator=-1.0).fit(X, y)


BAD_INPUTS = [
    (np.full((10, 32), np.nan), "NaN"),
    (np.full((10, 32), np.inf), "infinity"),
    (np.zeros((0, 32)), "0 sample"),
    (np.zeros(32), "Reshape your data"),
    (np.zeros((2, 2, 2, 32)), r"Expected X of shape .*got a 4-D array"),
    (np.zeros((10, 32), dtype=complex), "Complex data not supported"),
    (np.array([["a"] * 32] * 10, dtype=object), "could not convert|argument must be"),
]


@pytest.mark.parametrize("est", [TinyDenoiser(max_epochs=1), TinyClassifier(max_epochs=1),
                                 TinyGANGenerator(max_epochs=1)], ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("X, message", BAD_INPUTS)
def test_bad_input_gives_clear_errors(est, X, message):
    with pytest.raises((ValueError, TypeError), match=message):
        est.fit(X, np.arange(len(X)) % 2)


def test_mismatched_lengths_one_class_and_sfreq_errors():
    X, y = labelled(n=20)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        TinyClassifier(max_epochs=1).fit(X, y[:-1])
    with pytest.raises(ValueError, match="at least 2 classes"):
        TinyClassifier(max_epochs=1).fit(X, np.zeros(20))
    with pytest.raises(ValueError, match="sfreq must be a positive number"):
        TinyDenoiser(max_epochs=1, sfreq=-1).fit(X)
    with pytest.raises(TypeError, match="sfreq must be a positive number"):
        TinyDenoiser(max_epochs=1, sfreq="fast").fit(X)


def test_predict_before_fit_and_wrong_shape_after_fit():
    from sklearn.exceptions import NotFittedError

    X, y = labelled(n=20)
    with pytest.raises(NotFittedError):
        TinyClassifier().predict(X)
    clf = TinyClassifier(max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match=r"n_channels=3.*expecting.*n_channels=2"):
        clf.predict(np.zeros((2, 3, 64)))


def test_mne_epochs_input_and_sfreq_mismatch():
    mne = pytest.importorskip("mne")
    X = sines(20, n_channels=2, n_times=128)
    info = mne.create_info(["C3", "C4"], sfreq=64.0, ch_types="eeg")
    epochs = mne.EpochsArray(X, info, verbose=False)
    den = TinyDenoiser(max_epochs=1, random_state=0).fit(epochs)
    assert den.sfreq_ == 64.0 and den.transform(epochs).shape == X.shape
    with pytest.raises(ValueError, match="sfreq=64 Hz but TinyDenoiser has sfreq=100 Hz"):
        TinyDenoiser(max_epochs=1, sfreq=100.0).fit(epochs)


def test_diverging_loss_stops_with_clear_error_and_keeps_good_weights():
    X = sines(32)
    den = TinyDenoiser(max_epochs=1, random_state=0).fit(X)
    good = {k: v.clone() for k, v in den.module_.state_dict().items()}
    den.set_params(warm_start=True, max_epochs=3, lr=1e30)
    with pytest.raises(FloatingPointError, match=r"epoch \d.*lower lr"):
        den.fit(X)
    state = den.module_.state_dict()
    assert all(np.isfinite(v.numpy()).all() for v in state.values())
    del good


def test_keyboard_interrupt_leaves_a_usable_model():
    from skorch.callbacks import Callback

    class Interrupt(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                raise KeyboardInterrupt

    X = sines(32)
    den = TinyDenoiser(max_epochs=10, callbacks=[Interrupt()], random_state=0).fit(X)
    assert len(den.history) == 2
    assert den.transform(X).shape == X.shape


def test_time_budget_stops_at_the_end_of_the_first_epoch_past_it():
    from sigest.base import TimeBudget

    X = sines(32)
    den = TinyDenoiser(max_epochs=50, callbacks=[("budget", TimeBudget(0.0))],
                       random_state=0).fit(X)
    assert len(den.history) == 1  # the budget is checked once an epoch has run
    assert den.transform(X).shape == X.shape
    assert clone(den).get_params()["callbacks"][0][1].get_params() == {"seconds": 0.0}
    den = TinyDenoiser(max_epochs=3, callbacks=[TimeBudget(1e9)], random_state=0).fit(X)
    assert len(den.history) == 3  # a budget never reached lets max_epochs decide


def test_checkpoint_and_resume_equals_an_uninterrupted_run(tmp_path):
    from skorch.callbacks import Checkpoint, LoadInitState

    X = sines(48)

    def weights(est):
        return np.concatenate([p.detach().numpy().ravel() for p in est.module_.parameters()])

    full = TinyDenoiser(max_epochs=4, random_state=0).fit(X)
    checkpoint = Checkpoint(dirname=str(tmp_path), monitor=None)
    TinyDenoiser(max_epochs=2, random_state=0, callbacks=[checkpoint]).fit(X)
    resumed = TinyDenoiser(max_epochs=2, random_state=0,
                           callbacks=[LoadInitState(Checkpoint(dirname=str(tmp_path)))]).fit(X)
    assert len(resumed.history) == 4
    np.testing.assert_array_equal(weights(resumed), weights(full))


def test_same_seed_bit_identical_predictions_across_processes(tmp_path):
    import subprocess
    import sys

    script = (
        "import numpy as np, torch, hashlib\n"
        "torch.set_num_threads(1)\n"
        "from sigest.estimators.tiny import TinyDenoiser\n"
        "X = np.sin(np.linspace(0, 60, 128))[None].repeat(32, 0)\n"
        "out = TinyDenoiser(max_epochs=3, random_state=7).fit(X).transform(X)\n"
        "print(hashlib.sha256(out.tobytes()).hexdigest())\n"
    )
    digests = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              check=True).stdout.strip() for _ in range(2)]
    assert digests[0] == digests[1] and len(digests[0]) == 64


def test_set_params_reaches_the_noise_injector_and_grid_search_tunes_it():
    from sigest.metrics import get_scorer
    from sigest.noise import NoiseInjector

    X = sines(24, n_times=64)
    den = TinyDenoiser(max_epochs=1, noise=NoiseInjector("white", snr_db=0.0), random_state=0)
    assert den.get_params()["noise__snr_db"] == 0.0
    den.set_params(noise__snr_db=(-3.0, 3.0), max_epochs=2)
    assert den.noise.snr_db == (-3.0, 3.0) and den.max_epochs == 2
    assert "noise__snr_db" not in vars(den)
    assert clone(den).noise.snr_db == (-3.0, 3.0)
    grid = GridSearchCV(den, {"noise__snr_db": [0.0, 5.0]}, cv=2, error_score="raise",
                        scoring=get_scorer("neg_rrmse_temporal")).fit(X)
    assert grid.best_estimator_.noise.snr_db in (0.0, 5.0)
    with pytest.raises(ValueError, match="noise='white' has no parameters of its own"):
        TinyDenoiser(noise="white").set_params(noise__snr_db=0.0)
    # a new noise and its setting in one call, as a grid over both sends them
    fresh = NoiseInjector("pink")
    den.set_params(noise__snr_db=-1.0, noise=fresh)
    assert den.noise is fresh and fresh.snr_db == -1.0


def test_2d_input_to_a_multichannel_model_is_refused_with_the_fitted_shape():
    X, y = labelled(n=20, n_channels=2, n_times=64)
    clf = TinyClassifier(max_epochs=1, random_state=0).fit(X, y)
    den = TinyDenoiser(max_epochs=1, random_state=0).fit(X)
    message = (r"X is 2-D, of shape \(20, 128\): one channel per epoch.*n_channels=2, "
               r"n_times=64.*\(n_epochs, 2, 64\)")
    for est, method in ((clf, "predict_proba"), (den, "transform")):
        with pytest.raises(ValueError, match=message):
            getattr(est, method)(X.reshape(20, 128))
        with pytest.raises(ValueError, match=r"shape \(2, 64\)"):
            getattr(est, method)(X[0])


@pytest.mark.parametrize("unit", [1e-6, 1e-9, 1e-13])
def test_denoiser_output_does_not_depend_on_the_unit(unit):
    X = sines(24, n_times=64)
    den = TinyDenoiser(max_epochs=2, random_state=0).fit(X)
    np.testing.assert_allclose(den.transform(X * unit), den.transform(X) * unit,
                               rtol=1e-4, atol=1e-6 * unit)


def test_flat_epochs_pass_through_the_denoiser_in_any_unit():
    X = sines(8, n_times=64)
    den = TinyDenoiser(max_epochs=1, random_state=0).fit(X)
    flat = np.vstack([np.zeros(64), np.full(64, 3e-5), np.full(64, -2.0)])
    np.testing.assert_allclose(den.transform(flat), flat, rtol=1e-7)  # float32 inside
    mixed = np.vstack([flat, X[:2] * 1e-5])
    out = den.transform(mixed)
    np.testing.assert_allclose(out[:3], flat, rtol=1e-7)
    np.testing.assert_allclose(out[3:], den.transform(X[:2]) * 1e-5, rtol=1e-4, atol=1e-11)


def test_channel_std_scales_any_unit_and_only_constant_channels_get_one():
    from sigest.base import channel_std

    X = RNG.standard_normal((30, 2, 40))
    np.testing.assert_allclose(channel_std(X * 1e-13)[:, 0], (X * 1e-13).std(axis=(0, 2)),
                               rtol=1e-9)
    np.testing.assert_allclose(channel_std(X + 1e4, chunk=7)[:, 0], X.std(axis=(0, 2)),
                               rtol=1e-6)
    assert channel_std(np.full((5, 1, 8), 1e-13))[0, 0] == 1.0
    assert channel_std(np.full((5, 1, 8), 0.7, dtype=np.float32))[0, 0] == 1.0


def test_classifier_partial_fit_takes_classes_on_the_first_call():
    X, y = labelled(n=20)
    clf = TinyClassifier(max_epochs=1, random_state=0)
    clf.partial_fit(X[:10], y[:10], classes=["rest", "task"])  # the first 10 are all "rest"
    assert list(clf.classes_) == ["rest", "task"] and clf.predict_proba(X).shape == (20, 2)
    clf.partial_fit(X[10:], y[10:])
    clf.partial_fit(X, y, classes=["task", "rest"])  # the same set, any order
    with pytest.raises(ValueError, match=r"classes=\['a', 'rest'\] differs from classes_"):
        clf.partial_fit(X, y, classes=["rest", "a"])
    with pytest.raises(ValueError, match="needs at least 2 classes"):
        TinyClassifier(max_epochs=1).partial_fit(X[:10], y[:10])


def test_signal_dataset_refuses_2d_epochs_and_mismatched_targets():
    from sigest.base import SignalDataset

    with pytest.raises(ValueError, match=r"got shape \(4, 64\); use X\[:, None, :\]"):
        SignalDataset(np.zeros((4, 64)), np.zeros((4, 64)))
    with pytest.raises(ValueError, match=r"clean targets y of X's shape \(4, 1, 64\); got shape "
                                         r"\(4, 64\)"):
        SignalDataset(np.zeros((4, 1, 64)), np.zeros((4, 64)))
    assert len(SignalDataset(np.zeros((4, 1, 64)), np.arange(4))) == 4


def test_scores_mix_in_the_held_out_part_of_recorded_noise(shared_data):
    from sigest.estimators.classical import BandpassDenoiser
    from sigest.noise import NoiseInjector

    X = sines(12, n_times=512)
    eog = NoiseInjector("eog", snr_db=(-5.0, 0.0), data_path=shared_data)
    held_out = clone(eog).set_params(sfreq=256.0, split="test").fit(X)
    expected = held_out.inject(X[:, None], np.random.default_rng(0))[:, 0]
    for den in (TinyDenoiser(max_epochs=1, random_state=0, sfreq=256.0, noise=eog),
                BandpassDenoiser(sfreq=256.0, noise=eog)):
        den.fit(X)
        assert getattr(den, "noise_", eog).split == "train"
        assert den._scoring_noise(X[:, None]).split == "test"
        noisy, clean = den.noisy_pairs(X)
        np.testing.assert_allclose(noisy, expected)
        np.testing.assert_array_equal(clean, X)


def test_predict_proba_rows_sum_to_one_in_float64_so_log_loss_does_not_warn():
    import warnings

    from sklearn.metrics import log_loss

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((60, 1, 32)), np.repeat([10, 20, 30], 20)
    clf = TinyClassifier(max_epochs=2, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log_loss(y, proba, labels=clf.classes_)


@pytest.mark.parametrize("y_first, y_next, message", [
    (None, np.repeat(["a", "b"], 16), "fitted without labels"),
    (np.repeat(["a", "b"], 16), None, r"conditional.*needs y"),
    (np.repeat(["a", "c"], 16), np.repeat(["a", "b"], 16), r"labels \['b'\] not in classes_"),
])
@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
def test_generator_continued_training_checks_labels_against_the_first_fit(y_first, y_next,
                                                                           message, how):
    X = sines(32, n_channels=1, n_times=32)
    gen = TinyGANGenerator(max_epochs=1, random_state=0, warm_start=how == "warm_start")
    gen.fit(X, y_first)
    with pytest.raises(ValueError, match=message):
        getattr(gen, "partial_fit" if how == "partial_fit" else "fit")(X, y_next)


def test_cross_validate_on_mne_epochs_which_sklearn_splits_into_lists():
    mne = pytest.importorskip("mne")
    X, y = labelled(n=24)
    info = mne.create_info(["C3", "C4"], sfreq=64.0, ch_types="eeg")
    epochs = mne.EpochsArray(X, info, verbose=False)
    data = epochs.get_data().copy()
    pipe = make_pipeline(TinyDenoiser(max_epochs=1, random_state=0),
                         TinyClassifier(max_epochs=1, random_state=0))
    res = cross_validate(pipe, epochs, y, groups=np.tile([0, 1, 2], 8), cv=GroupKFold(3),
                         error_score="raise", return_estimator=True)
    assert len(res["test_score"]) == 3
    assert res["estimator"][0][0].sfreq_ == 64.0
    np.testing.assert_array_equal(epochs.get_data(), data)
    with pytest.raises(ValueError, match="sfreq=64 Hz but TinyClassifier has sfreq=100 Hz"):
        TinyClassifier(max_epochs=1, sfreq=100.0).fit([epochs[i] for i in range(24)], y)


def test_skorch_epoch_scoring_with_sklearn_scorers_on_classifiers():
    from skorch.callbacks import EpochScoring

    X, _ = labelled(n=60)
    y = np.repeat([3, 7, 9], 20)  # skorch's scorers see encoded targets 0, 1, 2
    callbacks = [EpochScoring("accuracy", name="va"), EpochScoring("f1_macro", name="vf1"),
                 EpochScoring("neg_log_loss", name="vll"),
                 EpochScoring("accuracy", name="ta", on_train=True)]
    clf = TinyClassifier(max_epochs=3, lr=1e-2, train_split=0.25, random_state=0,
                         callbacks=callbacks).fit(X, y)
    np.testing.assert_allclose(clf.history[:, "va"], clf.history[:, "valid_acc"])
    assert all(0 <= s <= 1 for s in clf.history[:, "vf1"] + clf.history[:, "ta"])
    assert all(s < 0 for s in clf.history[:, "vll"])


@pytest.mark.parametrize("pairs", [False, True])
def test_skorch_epoch_scoring_with_sigest_scorers_on_denoisers(pairs):
    from skorch.callbacks import EpochScoring

    from sigest.metrics import get_scorer

    X = sines(40, n_channels=2, n_times=64)
    scoring = EpochScoring(get_scorer("neg_rrmse_temporal"), name="v_rrmse",
                           lower_is_better=False)
    den = TinyDenoiser(max_epochs=2, train_split=0.25, random_state=0, callbacks=[scoring],
                       noise=None if pairs else "white")
    den.fit(X + 0.3 * RNG.standard_normal(X.shape), X) if pairs else den.fit(X)
    assert all(np.isfinite(s) and s < 0 for s in den.history[:, "v_rrmse"])


def test_fitted_model_keeps_no_spare_copy_of_its_weights():
    den = TinyDenoiser(max_epochs=2, random_state=0).fit(sines(16))
    guard = dict(den.callbacks_)["divergence_guard"]
    assert guard.good_state_ is None  # the copy is only needed while training


def test_fit_on_a_torch_dataset_is_refused_clearly():
    import torch

    from sigest.base import SignalDataset

    X = sines(16, n_channels=2, n_times=64).astype(np.float32)
    for dataset in (SignalDataset(X, X), torch.utils.data.TensorDataset(torch.from_numpy(X))):
        with pytest.raises(TypeError, match="fits on arrays of epochs .* got a"):
            TinyDenoiser(max_epochs=1).fit(dataset)


def test_transformers_noise_and_ts_stdn_take_the_rate_of_split_mne_epochs():
    # scikit-learn's splitters cut an mne.Epochs into a list of Epochs; the transformers and
    # the NoiseInjector read the rate from a single mne object only ("needs the sampling rate")
    mne = pytest.importorskip("mne")
    from sigest.estimators.ts_stdn import TSSTDNClassifier
    from sigest.noise import NoiseInjector
    from sigest.preprocessing import BandpassFilter

    X, y = labelled(n=24, n_times=128)
    epochs = mne.EpochsArray(X, mne.create_info(["C3", "C4"], sfreq=64.0, ch_types="eeg"),
                             verbose=False)
    pipe = make_pipeline(BandpassFilter(1.0, 20.0), TinyClassifier(max_epochs=1, random_state=0))
    res = cross_validate(pipe, epochs, y, groups=np.tile([0, 1, 2], 8), cv=GroupKFold(3),
                         error_score="raise", return_estimator=True)
    assert res["estimator"][0][0].sfreq_ == 64.0
    split = [epochs[i] for i in range(0, 24, 3)]
    assert NoiseInjector("white").fit(split).sfreq_ == 64.0
    ts = TSSTDNClassifier(max_epochs=1, module__n_fft=32, random_state=0).fit(split, y[::3])
    assert ts.transform(split).shape == (8, 2, 128)  # a list of Epochs is 3-D, not 2-D


@pytest.mark.parametrize("class_weight,message", [
    ({"rest": 1.0, "sleep": 2.0}, r"class_weight has classes \['sleep'\] not in classes_ "
                                  r"\['rest', 'task'\]"),
    ({"rest": -1.0}, "class_weight values must be finite numbers >= 0"),
    ({"rest": float("nan")}, "class_weight values must be finite numbers >= 0"),
    ({"rest": "heavy"}, "class_weight values must be finite numbers >= 0"),
    (np.array([1.0, 2.0]), "class_weight must be None, 'balanced' or a dict"),
])
def test_classifier_refuses_bad_class_weights(class_weight, message):
    X, y = labelled(n=20)
    with pytest.raises(ValueError, match=message):
        TinyClassifier(max_epochs=1, class_weight=class_weight).fit(X, y)


def test_a_refused_refit_leaves_the_fitted_model_as_it_was():
    X, y = labelled(n=20)
    clf = TinyClassifier(max_epochs=1, random_state=0).fit(X, y)
    before = clf.predict_proba(X)
    with pytest.raises(ValueError, match="data_scaling must be"):
        clf.set_params(data_scaling="max").fit(X[:, :1], y)  # other shape, bad parameter
    clf.set_params(data_scaling="train-std")
    assert clf.n_channels_in_ == 2
    np.testing.assert_array_equal(clf.predict_proba(X), before)
