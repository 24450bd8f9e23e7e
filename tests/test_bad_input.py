"""The bad-input catalogue, for every registered estimator and every transformer.

Each case must raise a ValueError or TypeError whose message says what was expected and what
came, never an error from deep inside torch; and no input may be modified.
"""

import numpy as np
import pytest

from sigest.base import SignalDenoiser
from sigest.noise import NoiseInjector
from sigest.plugins import estimator_entries
from sigest.preprocessing import STFT, BandpassFilter, EpochScaler, NotchFilter, Resample

RNG = np.random.default_rng(0)
ENTRIES = sorted(estimator_entries().items())


def _estimator(entry, **params):
    return entry.obj(**{**entry.extra.get("check_params", {}), **params})


def _n_times(est):
    return max(128, getattr(est, "_min_times", 1))


def _good_data(est, task, n=16, n_channels=2):
    X = RNG.standard_normal((n, n_channels, _n_times(est)))
    y = np.arange(n) % 2 if task != "denoising" else None
    return X, y


# (id, X transform, message pattern)
X_CASES = [
    ("nan", lambda X: np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X), "NaN"),
    ("inf", lambda X: np.where(np.arange(X.size).reshape(X.shape) == 3, np.inf, X), "infinity"),
    ("empty", lambda X: X[:0], "0 sample"),
    ("rank-1", lambda X: X[0, 0], "Reshape your data"),
    ("rank-4", lambda X: X[:, :, None, :], r"Expected X of shape .* got a 4-D array"),
    ("complex", lambda X: X.astype(complex), "Complex data not supported"),
    ("strings", lambda X: np.full(X.shape, "abc", dtype=object),
     "could not convert|argument must be"),
]


def _catches_clearly(excinfo, pattern):
    import re

    assert excinfo.type in (ValueError, TypeError) or issubclass(excinfo.type, ValueError)
    assert re.search(pattern, str(excinfo.value)), str(excinfo.value)


@pytest.mark.parametrize("case", X_CASES, ids=[c[0] for c in X_CASES])
@pytest.mark.parametrize("name, entry", ENTRIES, ids=[n for n, _ in ENTRIES])
def test_estimators_reject_bad_X(name, entry, case):
    _, transform, pattern = case
    est = _estimator(entry)
    X, y = _good_data(est, entry.task)
    bad = transform(X)
    y_bad = None if y is None else np.resize(y, len(bad)) if bad.ndim > 1 else y
    with pytest.raises((ValueError, TypeError)) as excinfo:
        est.fit(bad, y_bad)
    _catches_clearly(excinfo, pattern)


@pytest.mark.parametrize("name, entry", ENTRIES, ids=[n for n, _ in ENTRIES])
def test_estimators_reject_bad_y_and_sfreq(name, entry):
    est = _estimator(entry)
    X, y = _good_data(est, entry.task)
    if entry.task == "denoising":
        if isinstance(est, SignalDenoiser):  # learned denoisers need targets or noise
            with pytest.raises(ValueError, match="clean targets"):
                _estimator(entry, noise=None).fit(X, np.arange(len(X)) % 2)
        with pytest.raises(ValueError, match="inconsistent numbers of samples|clean targets"):
            est.fit(X, X[:-1])
    else:
        with pytest.raises(ValueError, match="inconsistent numbers of samples"):
            est.fit(X, y[:-1])
    if entry.task == "classification":
        with pytest.raises(ValueError, match="class"):
            est.fit(X, np.zeros(len(X)))
    if "sfreq" in est.get_params():
        for bad in (0, -5.0):
            with pytest.raises(ValueError, match="sfreq must be a positive number"):
                _estimator(entry, sfreq=bad).fit(X, y)


@pytest.mark.parametrize("name, entry", ENTRIES, ids=[n for n, _ in ENTRIES])
def test_estimators_reject_mne_epochs_at_another_sfreq(name, entry):
    mne = pytest.importorskip("mne")
    est = _estimator(entry)
    if "sfreq" not in est.get_params():
        pytest.skip(f"{name} has no sfreq parameter")
    X, y = _good_data(est, entry.task)
    own = est.get_params()["sfreq"] or 100.0
    info = mne.create_info(["C3", "C4"], sfreq=own * 2, ch_types="eeg")
    epochs = mne.EpochsArray(X, info, verbose=False)
    with pytest.raises(ValueError, match=r"sfreq=.* Hz but .* has sfreq=.* Hz"):
        _estimator(entry, sfreq=own).fit(epochs, y)


@pytest.mark.parametrize("name, entry", ENTRIES, ids=[n for n, _ in ENTRIES])
def test_estimators_reject_too_short_signals(name, entry):
    est = _estimator(entry)
    min_times = getattr(est, "_min_times", 1)
    if min_times <= 1:
        pytest.skip(f"{name} accepts signals of any length")
    X, y = _good_data(est, entry.task)
    with pytest.raises(ValueError, match=f"needs at least {min_times}"):
        est.fit(X[..., : min_times - 1], y)


@pytest.mark.parametrize("name, entry", ENTRIES, ids=[n for n, _ in ENTRIES])
def test_estimators_never_mutate_their_inputs(name, entry):
    if entry.extra.get("skip_checks"):
        pytest.skip(f"{name}: {entry.extra['skip_checks']}")
    est = _estimator(entry, max_epochs=1) if "max_epochs" in entry.obj().get_params() \
        else _estimator(entry)
    X, y = _good_data(est, entry.task)
    X_before = X.copy()
    y_before = None if y is None else y.copy()
    est.fit(X, y)
    for method in ("transform", "predict", "predict_proba"):
        if hasattr(est, method):
            getattr(est, method)(X)
    np.testing.assert_array_equal(X, X_before)
    if y is not None:
        np.testing.assert_array_equal(y, y_before)


TRANSFORMERS = [
    STFT(sfreq=128.0, n_fft=32),
    BandpassFilter(l_freq=1.0, h_freq=30.0, sfreq=128.0),
    NotchFilter(freqs=50.0, sfreq=128.0),
    Resample(sfreq=128.0, new_sfreq=64.0),
    EpochScaler(),
    NoiseInjector(snr_db=0.0, random_state=0),
]


@pytest.mark.parametrize("case", X_CASES, ids=[c[0] for c in X_CASES])
@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=lambda t: type(t).__name__)
def test_transformers_reject_bad_X(transformer, case):
    _, transform, pattern = case
    X = RNG.standard_normal((8, 2, 256))
    with pytest.raises((ValueError, TypeError)) as excinfo:
        transformer.fit_transform(transform(X))
    _catches_clearly(excinfo, pattern)


@pytest.mark.parametrize("transformer", [t for t in TRANSFORMERS if "sfreq" in t.get_params()],
                         ids=lambda t: type(t).__name__)
def test_transformers_reject_bad_sfreq_and_do_not_mutate(transformer):
    from sklearn.base import clone

    X = RNG.standard_normal((8, 2, 256))
    before = X.copy()
    clone(transformer).fit_transform(X)
    np.testing.assert_array_equal(X, before)
    with pytest.raises(ValueError, match="sfreq"):
        clone(transformer).set_params(sfreq=-1.0).fit_transform(X)


def test_the_base_rejects_epochs_shorter_than_a_declared_receptive_field():
    # Every registered network pads short epochs itself; the base's check is what a network
    # with a hard minimum (``_min_times``) relies on.
    from sigest.estimators.tiny import TinyDenoiser

    class NeedsLongEpochs(TinyDenoiser):
        _min_times = 64

    with pytest.raises(ValueError, match=r"X has 32 time samples \(n_features = 32\), but "
                                         r"NeedsLongEpochs needs at least 64"):
        NeedsLongEpochs(max_epochs=1).fit(RNG.standard_normal((8, 32)))


def test_big_endian_float64_input_keeps_float64():
    # check_array saw '>f8' as another dtype and cast it to float32
    X = np.random.default_rng(0).standard_normal((4, 2, 32)).astype(">f8")
    out = EpochScaler().fit_transform(X)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, EpochScaler().fit_transform(X.astype("<f8")))
