"""sigest-braindecode: the zoo registers, every model fits a batch, the main ones pass checks."""

import pickle

import numpy as np
import pytest
import sigest_braindecode as sbd
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

import sigest
from sigest.plugins import estimator_entries

# Shapes tried in order until a model builds: (n_channels, n_times, sfreq).
SHAPES = ((1, 500, 100.0), (2, 3000, 100.0), (22, 1000, 250.0))
FAST_MODELS = sbd.MAIN_MODELS
# Models that take more than ~5 s to build and fit one batch here (measured on 2 shared cores).
SLOW_MODELS = {"BENDR", "EEGPT", "CodeBrain", "STEEGFormer", "BrainModule", "EEGInceptionMI",
               "LUNA", "CBraMod", "MEDFormer", "MVPFormer", "EEGDINO", "BIOT", "DeepSleepNet"}
# Per-model parameters for one-batch fits (the defaults of these need longer windows).
FIT_PARAMS = {"AttnSleep": {"module__d_model": 16, "module__n_attn_heads": 4}}


def test_main_models_are_registered_by_name():
    names = sigest.list_estimators(task="classification")
    for model in sbd.MAIN_MODELS:
        assert sbd.estimator_name(model) in names
    clf = sigest.get_estimator("braindecode-eegnet", max_epochs=1)
    assert isinstance(clf, sbd.BraindecodeClassifier)
    assert clf.module is __import__("braindecode").models.EEGNet
    assert estimator_entries()["braindecode-eegnet"].plugin == "braindecode"


def test_every_usable_model_is_registered_and_skips_have_reasons():
    registered = {n for n in estimator_entries() if n.startswith("braindecode-")}
    assert registered == {sbd.estimator_name(m) for m in sbd.usable_models()}
    assert len(registered) >= 30
    assert all(reason for reason in sbd.SKIPPED.values())


def test_descriptions_are_plain_text():
    entries = {n: e for n, e in estimator_entries().items() if n.startswith("braindecode-")}
    for name, entry in entries.items():
        assert entry.description.startswith("braindecode "), name
        for markup in ("]_", "**", "``", "\\ "):
            assert markup not in entry.description, (name, entry.description)
    assert entries["braindecode-eegnet"].description == (
        "braindecode EEGNet: EEGNet model from Lawhern et al (2018).")


def test_classes_clone_and_pickle():
    cls = sbd.ESTIMATORS["ShallowFBCSPNet"]
    est = cls(max_epochs=3, module__n_filters_time=8)
    copy = clone(est)
    assert type(copy) is cls and copy.get_params()["module__n_filters_time"] == 8
    assert pickle.loads(pickle.dumps(est)).get_params()["max_epochs"] == 3


def _fit_one_batch(model_name):
    cls = sbd.ESTIMATORS[model_name]
    rng = np.random.default_rng(0)
    errors = []
    for n_channels, n_times, sfreq in SHAPES:
        X = rng.standard_normal((8, n_channels, n_times)).astype(np.float32)
        y = np.tile([0, 1], 4)
        est = cls(max_epochs=1, batch_size=8, sfreq=sfreq, random_state=0,
                  **FIT_PARAMS.get(model_name, {}))
        try:
            est.fit(X, y)
        except Exception as exc:  # try the next shape
            errors.append(f"{(n_channels, n_times)}: {type(exc).__name__}: {exc}"[:200])
            continue
        proba = est.predict_proba(X[:2])
        assert proba.shape == (2, 2) and np.all(np.isfinite(proba))
        return (n_channels, n_times)
    pytest.fail(f"{model_name} fits none of the shapes {SHAPES}: {errors}")


@pytest.mark.parametrize("model_name", FAST_MODELS)
def test_main_models_fit_one_batch(model_name):
    _fit_one_batch(model_name)


@pytest.mark.slow
@pytest.mark.parametrize("model_name", sorted(set(sbd.usable_models()) - set(FAST_MODELS)))
def test_zoo_model_fits_one_batch(model_name):
    _fit_one_batch(model_name)


def test_shapes_and_sfreq_reach_the_network():
    X = np.random.default_rng(0).standard_normal((8, 1, 500))
    est = sigest.get_estimator("braindecode-sleepstagerchambon2018", max_epochs=1, sfreq=100.0)
    est.fit(X, np.tile(["W", "N2"], 4))
    assert est.module_.n_chans == 1 and est.module_.n_times == 500
    assert est.module_.n_outputs == 2 and est.module_.sfreq == 100.0
    assert list(est.classes_) == ["N2", "W"]


def test_pad_times_pads_short_epochs():
    X = np.random.default_rng(0).standard_normal((8, 2, 40))
    est = sigest.get_estimator("braindecode-eegnet", max_epochs=1, pad_times=128,
                               module__kernel_length=16).fit(X, np.tile([0, 1], 4))
    assert est.module_.n_times == 128 and est.n_times_in_ == 40
    assert est.predict(X).shape == (8,)


# scikit-learn's checks on the main models, under their registered check_params.
# module__* parameters are stored by skorch as attributes, which check_no_attributes_set_in_init
# flags; EEGConformer, USleep and EEGNet need them to take 1-channel toy data quickly.
EXPECTED_FAILURES = {
    name: {"check_no_attributes_set_in_init":
           "skorch keeps module__* parameters as attributes that are not in __init__'s signature"}
    for name in ("EEGNet", "USleep", "EEGConformer")
}
EXPECTED_FAILURES["AttnSleep"] = {"check_methods_subset_invariance": (
    "float32 attention matmuls round differently for a batch of 1 than for a full batch "
    "(differences ~2e-7 > the check's atol 1e-7); not a per-sample dependence")}
EXPECTED_FAILURES["ShallowFBCSPNet"] = {"check_methods_subset_invariance": (
    "float32 convolutions round differently for a batch of 1 than for a full batch "
    "(differences ~2e-7 > the check's atol 1e-7); not a per-sample dependence")}


@pytest.mark.parametrize("model_name", ["braindecode-shallowfbcspnet", "braindecode-deep4net"])
def test_single_channel_reaches_combinedconv_models(model_name):
    # braindecode's CombinedConv fails on one channel; the plugin gives it the channel twice
    X = np.random.default_rng(0).standard_normal((8, 1, 64))
    est = sigest.get_estimator(model_name, max_epochs=1, pad_times=512).fit(X, np.tile([0, 1], 4))
    assert est.n_channels_in_ == 1 and est.module_.n_chans == 2
    assert est.predict_proba(X[:, 0]).shape == (8, 2)


def test_single_channel_does_not_take_split_first_layer_false():
    # braindecode 1.8.1 cannot build these models with it, on any number of channels
    X = np.random.default_rng(0).standard_normal((8, 1, 64))
    est = sigest.get_estimator("braindecode-shallowfbcspnet", max_epochs=1, pad_times=128,
                               module__split_first_layer=False)
    with pytest.raises(ValueError, match="module__split_first_layer=False does not build"):
        est.fit(X, np.tile([0, 1], 4))


@pytest.mark.parametrize("n_channels, groups", [(1, 1), (2, 2), (3, 1)])
def test_blanco2020_groups_fit_the_channels_out_of_the_box(n_channels, groups):
    # Sleep-EDF shaped epochs (sigest.datasets.load_sleep_edf): 5 s of one channel at 100 Hz
    X = np.random.default_rng(0).standard_normal((8, n_channels, 500)).astype(np.float32)
    est = sigest.get_estimator("braindecode-sleepstagerblanco2020", max_epochs=1, sfreq=100.0,
                               random_state=0).fit(X, np.tile([0, 1], 4))
    assert est.module_.feature_extractor[0].groups == groups
    assert est.predict_proba(X[:2]).shape == (2, 2)
    assert "module__n_groups" not in est.get_params()  # the user's choice stays unset


def test_blanco2020_user_groups_are_kept_or_named_in_the_error():
    X = np.random.default_rng(0).standard_normal((8, 1, 500)).astype(np.float32)
    y = np.tile([0, 1], 4)
    est = sigest.get_estimator("braindecode-sleepstagerblanco2020", max_epochs=1, sfreq=100.0,
                               module__n_groups=2)
    with pytest.raises(ValueError, match=r"module__n_groups=2 must divide the number of "
                                         r"channels \(1\)"):
        est.fit(X, y)
    X2 = np.concatenate([X, X], axis=1)
    est = sigest.get_estimator("braindecode-sleepstagerblanco2020", max_epochs=1, sfreq=100.0,
                               module__n_groups=1, module__n_conv_chans=10).fit(X2, y)
    assert est.module_.feature_extractor[0].groups == 1


@pytest.mark.parametrize("name", ["braindecode-sleepstagerchambon2018", "braindecode-usleep",
                                  "braindecode-attnsleep"])
def test_missing_sfreq_is_sigests_error_naming_the_parameter(name):
    X = np.random.default_rng(0).standard_normal((8, 1, 500)).astype(np.float32)
    with pytest.raises(ValueError, match=r"needs the sampling rate: set sfreq \(in Hz\)") as info:
        sigest.get_estimator(name, max_epochs=1).fit(X, np.tile([0, 1], 4))
    assert f"get_estimator({name!r}, sfreq=" in str(info.value)
    assert "could not be inferred" not in str(info.value)


def _check_instances():
    for model_name in sbd.MAIN_MODELS:
        params = estimator_entries()[sbd.estimator_name(model_name)].extra["check_params"]
        yield sbd.ESTIMATORS[model_name](**params)


def _expected(estimator):
    return EXPECTED_FAILURES.get(type(estimator).model_name, {})


@pytest.mark.slow
@parametrize_with_checks(list(_check_instances()), expected_failed_checks=_expected)
def test_sklearn_checks_main_models(estimator, check):
    check(estimator)


def test_fitted_parametrized_network_pickles():
    # EEGNet's max-norm constraint is a torch parametrization, which torch cannot pickle
    X = np.random.default_rng(0).standard_normal((16, 2, 40))
    est = sigest.get_estimator("braindecode-eegnet", max_epochs=1, pad_times=128,
                               module__kernel_length=16).fit(X, np.tile([0, 1], 8))
    copy = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(copy.predict_proba(X), est.predict_proba(X), rtol=1e-6)


@pytest.mark.parametrize("name, n_times, shortest", [
    ("braindecode-sleepstagerchambon2018", 128, 239),  # fails in forward, at the first step
    ("braindecode-eegconformer", 64, 99),  # fails when braindecode builds it
    ("braindecode-luna", 100, 120),  # patches of 40 samples
])
def test_too_short_epochs_are_sigests_error_naming_the_minimum(name, n_times, shortest):
    X = np.random.default_rng(0).standard_normal((8, 2, n_times))
    y = np.tile([0, 1], 4)
    est = sigest.get_estimator(name, max_epochs=1, sfreq=100.0 if n_times == 100 else 128.0)
    with pytest.raises(ValueError, match=rf"{name} \(braindecode's \w+\) needs epochs of .*at "
                                         rf"least {shortest}\b.*got n_times={n_times}, "
                                         r"n_channels=2.*pad_times=") as info:
        est.fit(X, y)
    assert "Traceback" not in str(info.value)
    est.set_params(pad_times=shortest).fit(X, y)  # the advice works
    assert est.predict_proba(X[:2]).shape == (2, 2)


def test_last_training_batch_of_one_epoch_trains():
    # TCFormer pools 64 samples down to one step before a BatchNorm, which cannot train on a
    # batch of one epoch: 9 epochs in batches of 8 leave one; it joins the batch before
    X = np.random.default_rng(0).standard_normal((9, 2, 64))
    est = sigest.get_estimator("braindecode-tcformer", max_epochs=1, batch_size=8, sfreq=128.0,
                               random_state=0).fit(X, np.arange(9) % 2)
    assert est.predict(X).shape == (9,)
    assert len(est.history[-1]["batches"]) == 1


@pytest.mark.parametrize("name, sfreq, shape, message", [
    ("braindecode-attnsleep", 100.0, (8, 1, 200),
     r"braindecode-attnsleep \(braindecode's AttnSleep\): d_model is .* \(sigest: "
     r"module__d_model, module__n_attn_heads; or longer epochs\)"),
    ("braindecode-eegdino", 128.0, (8, 22, 256),
     r"braindecode-eegdino \(braindecode's EEGDINO\) takes at most as many channels as its "
     r"channel embeddings; got 22 channels"),
])
def test_braindecodes_own_shape_errors_carry_the_sigest_name(name, sfreq, shape, message):
    X = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    with pytest.raises(ValueError, match=message):
        sigest.get_estimator(name, max_epochs=1, sfreq=sfreq).fit(X, np.tile([0, 1], 4))
