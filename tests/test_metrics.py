"""Metrics against hand-computed values and edge cases; scorers in GridSearchCV."""

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.signal import welch
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.preprocessing import FunctionTransformer

from sigest import metrics
from sigest.metrics import (
    SCORERS,
    correlation_coefficient,
    get_scorer,
    prd,
    rmse,
    rrmse_spectral,
    rrmse_temporal,
    snr,
    snr_improvement,
)

PAIR_METRICS = [rrmse_temporal, rrmse_spectral, correlation_coefficient, snr, prd, rmse]


# ------------------------------------------------------------------- hand-computed values
def test_rrmse_temporal_by_hand():
    # epoch 1: err (1, 1), RMS 1; ref (2, 2) RMS 2 -> 0.5. epoch 2: err (0, 3) RMS sqrt(4.5);
    # ref (3, 3) RMS 3 -> sqrt(0.5). Mean of both.
    y = [[2.0, 2.0], [3.0, 3.0]]
    p = [[3.0, 1.0], [3.0, 6.0]]
    assert rrmse_temporal(y, p) == pytest.approx((0.5 + np.sqrt(4.5) / 3) / 2)


def test_rrmse_spectral_by_hand():
    rng = np.random.default_rng(0)
    y, p = rng.standard_normal((2, 3, 512))
    expected = []
    for a, b in zip(y, p):
        pa, pb = welch(a, fs=256, nperseg=256)[1], welch(b, fs=256, nperseg=256)[1]
        expected.append(np.sqrt(np.mean((pb - pa) ** 2)) / np.sqrt(np.mean(pa**2)))
    assert rrmse_spectral(y, p, sfreq=256) == pytest.approx(np.mean(expected))
    assert rrmse_spectral(y, p) == pytest.approx(np.mean(expected))  # 256-sample windows
    # the PSD scales with the square of the amplitude: (4 - 1) x
    assert rrmse_spectral(y, 2 * y, method="periodogram") == pytest.approx(3.0)
    with pytest.raises(ValueError, match="method"):
        rrmse_spectral(y, p, method="multitaper")


def test_rrmse_spectral_removes_segment_means_as_documented():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 512))
    # Welch with scipy's detrend="constant": a DC offset is invisible to RRMSE_s ...
    assert rrmse_spectral(x, x + 5.0, sfreq=256) < 1e-12
    assert rrmse_temporal(x, x + 5.0) > 1  # ... but not to RRMSE_t
    # ... and to the raw periodogram
    assert rrmse_spectral(x, x + 5.0, method="periodogram") > 1
    # edge cases: a reference constant in every segment has zero PSD
    zeros, ones = np.zeros((2, 512)), np.ones((2, 512))
    assert rrmse_spectral(zeros, ones) == 0  # both spectra zero
    assert rrmse_spectral(3 * ones, ones) == 0
    assert rrmse_spectral(zeros, x[:2]) == np.inf
    assert rrmse_spectral(ones, x[:2]) == np.inf
    assert rrmse_spectral(zeros, ones, method="periodogram") == np.inf
    assert rrmse_spectral(zeros, zeros, method="periodogram") == 0
    doc = rrmse_spectral.__doc__
    assert 'detrend="constant"' in doc and "offset" in doc
    assert "rrmse_spectral(zeros, ones)" in doc and "rrmse_spectral" in metrics.__doc__


def test_prd_variants():
    y, p = np.array([[3.0, 4.0]]), np.array([[3.0, 3.0]])
    assert prd(y, p) == prd(y, p, remove_mean=False) == pytest.approx(20.0)
    # mean-removed reference: sum (y - 3.5)^2 = 0.5, error energy 1
    assert prd(y, p, remove_mean=True) == pytest.approx(100 * np.sqrt(1 / 0.5))
    rng = np.random.default_rng(0)
    y, p = rng.standard_normal((2, 4, 64)), rng.standard_normal((2, 4, 64))
    expected = np.mean([100 * np.sqrt(np.sum((b - a) ** 2) / np.sum((a - a.mean()) ** 2))
                        for a, b in zip(y.reshape(8, 64), p.reshape(8, 64))])
    assert prd(y, p, remove_mean=True) == pytest.approx(expected)
    # the plain PRD depends on the reference's baseline, the mean-removed one does not
    assert prd(y + 10, p + 10) < prd(y, p) / 5
    assert prd(y + 10, p + 10, remove_mean=True) == pytest.approx(prd(y, p, remove_mean=True))
    assert prd(np.ones((1, 8)), np.zeros((1, 8)), remove_mean=True) == np.inf
    assert "DeepFilter" in prd.__doc__


def test_correlation_by_hand():
    # centred y = (-1, 0, 1), centred p = (-1, 1, 0): cov 1, norms sqrt(2) each -> 0.5
    assert correlation_coefficient([[1.0, 2.0, 3.0]], [[0.0, 2.0, 1.0]]) == pytest.approx(0.5)
    assert correlation_coefficient([[1.0, 2.0, 3.0]], [[3.0, 2.0, 1.0]]) == pytest.approx(-1.0)


def test_snr_prd_rmse_by_hand():
    y, p = [[3.0, 4.0]], [[3.0, 3.0]]  # signal energy 25, error energy 1
    assert snr(y, p) == pytest.approx(10 * np.log10(25))
    assert prd(y, p) == pytest.approx(100 * np.sqrt(1 / 25))
    assert rmse(y, p) == pytest.approx(np.sqrt(0.5))
    # noisy error energy 25 (0 dB) -> improvement 10 log10(25)
    assert snr_improvement(y, p, [[0.0, 0.0]]) == pytest.approx(10 * np.log10(25))


def test_channels_are_rows_and_1d_is_one_epoch():
    rng = np.random.default_rng(0)
    y, p = rng.standard_normal((2, 4, 3, 64))
    for metric in PAIR_METRICS:
        assert metric(y, p) == pytest.approx(metric(y.reshape(12, 64), p.reshape(12, 64)))
        assert metric(y[0, 0], p[0, 0]) == pytest.approx(metric(y[:1, :1], p[:1, :1]))


# ---------------------------------------------------------------------------- edge cases
def test_identical_signals():
    y = np.random.default_rng(0).standard_normal((5, 128))
    assert rrmse_temporal(y, y) == 0 and rrmse_spectral(y, y) == 0
    assert prd(y, y) == 0 and rmse(y, y) == 0
    assert correlation_coefficient(y, y) == pytest.approx(1.0)
    assert snr(y, y) == np.inf
    with pytest.warns(RuntimeWarning, match="no noise"):  # no row carries noise: undefined
        assert np.isnan(snr_improvement(y, y, y))


def test_zero_reference():
    z, p = np.zeros((2, 16)), np.ones((2, 16))
    assert rrmse_temporal(z, p) == np.inf and prd(z, p) == np.inf
    assert rrmse_temporal(z, z) == 0 and rmse(z, p) == 1.0
    assert snr(z, p) == -np.inf
    assert np.isnan(snr(z, z))
    assert np.isnan(correlation_coefficient(z, p))  # constant: undefined
    assert rrmse_spectral(z, z) == 0


@pytest.mark.parametrize("value", [0.1, 1 / 3, 7.7, 123.456])
def test_constant_reference_not_exactly_representable(value):
    # A flat channel at 0.1 minus its computed mean is rounding noise, not 0: it must still
    # count as constant (NaN correlation, zero spectrum, infinite PRDN), as documented.
    flat = np.full((2, 512), value)
    other = np.random.default_rng(0).standard_normal((2, 512))
    assert np.isnan(correlation_coefficient(flat, other))
    assert np.isnan(correlation_coefficient(other, flat))
    assert rrmse_spectral(flat, other, sfreq=256) == np.inf
    assert rrmse_spectral(flat, flat + 0.3, sfreq=256) == 0  # both constant: 0, as documented
    assert prd(flat, flat + 1e-3, remove_mean=True) == np.inf
    assert prd(flat, flat, remove_mean=True) == 0


@pytest.mark.parametrize("metric", PAIR_METRICS)
def test_shape_mismatch_and_bad_values(metric):
    with pytest.raises(ValueError, match="one shape"):
        metric(np.ones((3, 10)), np.ones((3, 11)))
    with pytest.raises(ValueError, match="NaN"):
        metric(np.full((2, 8), np.nan), np.ones((2, 8)))
    with pytest.raises(ValueError, match="at least one"):
        metric(np.ones((0, 8)), np.ones((0, 8)))


def _old_snr_improvement(t, p, x):
    """snr_improvement as committed benchmark results computed it (mean over every row)."""
    t, p, x = (np.asarray(a, dtype=float).reshape(-1, np.shape(a)[-1]) for a in (t, p, x))
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = metrics._snr_rows(t, p) - metrics._snr_rows(t, x)
    return float(np.mean(gain))


def test_snr_improvement_averages_the_contaminated_rows_only():
    from sigest.noise import NoiseInjector

    rng = np.random.default_rng(0)
    clean = rng.standard_normal((40, 3, 128))
    for kw in ({"probability": 0.5}, {"channels": 0.5}):
        noisy = NoiseInjector("white", snr_db=0.0, random_state=0, **kw).fit_transform(clean)
        hit = np.any(noisy != clean, axis=-1)
        assert hit.any() and not hit.all()
        # a denoiser that halves the noise, and passes clean rows through exactly
        out = clean + 0.5 * (noisy - clean)
        gain = snr_improvement(clean, out, noisy)
        assert np.isfinite(gain) and gain == pytest.approx(20 * np.log10(2))
        assert gain == pytest.approx(snr_improvement(clean[hit], out[hit], noisy[hit]))
        assert snr_improvement(clean, noisy, noisy) == 0  # identity: no gain, not NaN
    # every row contaminated: the same number as before, bit for bit
    noisy = clean + 0.3 * rng.standard_normal(clean.shape)
    out = clean + 0.1 * rng.standard_normal(clean.shape)
    assert snr_improvement(clean, out, noisy) == _old_snr_improvement(clean, out, noisy)
    # no row contaminated: undefined, said so
    with pytest.warns(RuntimeWarning, match="no noise"):
        assert np.isnan(snr_improvement(clean, out, clean))


def test_snr_improvement_scorer_with_partly_clean_epochs():
    from sigest.noise import NoiseInjector

    clean = np.random.default_rng(1).standard_normal((20, 2, 64))
    noisy = NoiseInjector("white", snr_db=0.0, probability=0.5,
                          random_state=0).fit_transform(clean)
    identity = FunctionTransformer().fit(noisy)
    assert get_scorer("snr_improvement")(identity, noisy, clean) == 0.0
    # a denoiser scored on clean X mixed with its own noise, half the epochs left clean
    den = _tiny_denoiser(noise=NoiseInjector("white", snr_db=0.0, probability=0.5)).fit(clean)
    noisy, _ = den.noisy_pairs(clean)
    assert 0 < np.mean(np.any(noisy != clean, axis=-1)) < 1
    assert np.isfinite(get_scorer("snr_improvement")(den, clean))


def test_snr_improvement_shape_mismatch():
    with pytest.raises(ValueError, match="x_noisy"):
        snr_improvement(np.ones((2, 8)), np.ones((2, 8)), np.ones((2, 9)))


def test_classification_extras_are_sklearns():
    y, p = [0, 1, 2, 2, 1, 0], [0, 2, 2, 2, 1, 1]
    assert metrics.macro_f1(y, p) == f1_score(y, p, average="macro")
    assert metrics.cohen_kappa_score is __import__("sklearn.metrics").metrics.cohen_kappa_score
    assert metrics.balanced_accuracy_score(y, p) == pytest.approx((0.5 + 0.5 + 1) / 3)


# --------------------------------------------------------------------------- scorers
def _tiny_denoiser(**kw):
    from sigest.estimators.tiny import TinyDenoiser

    return TinyDenoiser(max_epochs=2, batch_size=8, random_state=0, **kw)


@pytest.fixture(scope="module")
def clean():
    t = np.arange(64) / 64
    rng = np.random.default_rng(0)
    return np.sin(2 * np.pi * rng.uniform(2, 5, (24, 1)) * t)


def test_scorer_names():
    for name in ["neg_rrmse_temporal", "neg_rrmse_spectral", "cc", "snr", "snr_improvement",
                 "neg_prd", "neg_rmse", "accuracy", "balanced_accuracy", "macro_f1", "kappa"]:
        assert get_scorer(name) is SCORERS[name]
    assert callable(get_scorer("r2"))  # scikit-learn's names still work
    with pytest.raises(ValueError, match="unknown scorer"):
        get_scorer("nope")


def test_grid_search_on_clean_data_with_noise(clean):
    search = GridSearchCV(_tiny_denoiser(noise="white"), {"lr": [1e-3, 1e-2]},
                          scoring=get_scorer("neg_rrmse_temporal"), cv=2)
    search.fit(clean)
    scores = search.cv_results_["mean_test_score"]
    assert scores.shape == (2,) and np.all(np.isfinite(scores)) and np.all(scores < 0)


def test_scorer_values_match_metrics(clean):
    rng = np.random.default_rng(0)
    noisy = clean + 0.5 * rng.standard_normal(clean.shape)
    den = _tiny_denoiser(noise=None).fit(noisy, clean)
    out = den.transform(noisy)
    assert get_scorer("neg_rrmse_temporal")(den, noisy, clean) == -rrmse_temporal(clean, out)
    assert get_scorer("cc")(den, noisy, clean) == correlation_coefficient(clean, out)
    assert get_scorer("snr_improvement")(den, noisy, clean) == snr_improvement(clean, out, noisy)
    # clean X alone: mixed with the fitted noise at a fixed seed -> the same score twice
    den_white = _tiny_denoiser(noise="white").fit(clean)
    a = get_scorer("neg_rmse")(den_white, clean)
    assert a == get_scorer("neg_rmse")(den_white, clean) and a < 0
    result = cross_validate(den, noisy, clean, cv=2, scoring={
        k: SCORERS[k] for k in ("neg_rrmse_temporal", "neg_rrmse_spectral", "snr")})
    assert np.all(np.isfinite(result["test_snr"]))


def test_spectral_scorer_uses_the_estimators_sfreq():
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(0)
    t = np.arange(400) / 100.0
    clean = np.sin(2 * np.pi * rng.uniform(2, 20, (16, 1)) * t)
    noisy = clean + 0.5 * rng.standard_normal(clean.shape)
    scorer = get_scorer("neg_rrmse_spectral")
    for sfreq in (100.0, 256.0):
        den = _tiny_denoiser(noise=None, sfreq=sfreq).fit(noisy, clean)
        out = den.transform(noisy)
        assert scorer(den, noisy, clean) == -rrmse_spectral(clean, out, sfreq=sfreq)
        # a pipeline ending in the denoiser: the last step's rate
        pipe = make_pipeline(FunctionTransformer(), den)
        assert scorer(pipe, noisy, clean) == -rrmse_spectral(clean, out, sfreq=sfreq)
    # 100 Hz: 100-sample windows, another number than the 256-sample default
    assert rrmse_spectral(clean, out, sfreq=100.0) != rrmse_spectral(clean, out)
    # 256 Hz: unchanged from the default
    assert scorer(den, noisy, clean) == -rrmse_spectral(clean, out)
    # no sampling rate known: the metric's default, as before
    den_none = _tiny_denoiser(noise=None).fit(noisy, clean)
    assert den_none.sfreq_ is None
    assert scorer(den_none, noisy, clean) == -rrmse_spectral(clean, den_none.transform(noisy))
    identity = FunctionTransformer().fit(noisy)
    assert scorer(identity, noisy, clean) == -rrmse_spectral(clean, noisy)
    # an sfreq the metric already binds is left alone
    bound = metrics.DenoisingScorer(functools.partial(rrmse_spectral, sfreq=64.0), -1,
                                    name="bound")
    assert bound(den, noisy, clean) == -rrmse_spectral(clean, out, sfreq=64.0)


def test_scorer_on_plain_transformer_needs_clean_targets(clean):
    identity = FunctionTransformer().fit(clean)
    noisy = clean + 1.0
    assert get_scorer("neg_rmse")(identity, noisy, clean) == pytest.approx(-1.0)
    with pytest.raises(TypeError, match="clean targets"):
        get_scorer("neg_rmse")(identity, noisy)
    # weights were silently ignored: the score looked weighted and was not
    with pytest.raises(ValueError, match="does not take sample_weight"):
        get_scorer("neg_rmse")(identity, noisy, clean, sample_weight=np.ones(len(clean)))


def test_classification_scorer(clean):
    from sigest.estimators.tiny import TinyClassifier

    y = np.repeat([0, 1], 12)
    clf = TinyClassifier(max_epochs=1, random_state=0).fit(clean, y)
    assert get_scorer("kappa")(clf, clean, y) == pytest.approx(
        metrics.cohen_kappa_score(y, clf.predict(clean)))
    assert get_scorer("accuracy")(clf, clean, y) == accuracy_score(y, clf.predict(clean))


# -------------------------------------------------------------------- property tests
signals = hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(4, 40)),
                     elements=st.floats(-1e3, 1e3, allow_nan=False, width=64))


@settings(max_examples=25, deadline=None)
@given(y=signals, seed=st.integers(0, 2**16), scale=st.floats(0.01, 100))
def test_property_metrics(y, seed, scale):
    p = y + np.random.default_rng(seed).standard_normal(y.shape)
    assert rrmse_temporal(y, y) == 0 and rmse(y, y) == 0
    assert prd(y, p) == pytest.approx(100 * rrmse_temporal(y, p))
    assert rrmse_temporal(scale * y, scale * p) == pytest.approx(rrmse_temporal(y, p),
                                                                 rel=1e-9)
    cc = correlation_coefficient(y, p)
    assert np.isnan(cc) or -1 <= cc <= 1
    assert rmse(y, p) >= 0 and rrmse_spectral(y, p) >= 0
    if np.all(np.sum(y**2, -1) > 0):
        assert snr_improvement(y, p, p) == 0


# ------------------------------------------------------------------- generative metrics
def test_c2st_and_tstr_default_classifier_refuse_too_few_epochs():
    # With under 40 training epochs the gradient boosting cannot split and predicts the class
    # prior: C2ST came out exactly 0.5 ("indistinguishable") for sets that differ 3-fold.
    from sigest.generative_metrics import c2st_auc, tstr_trtr

    rng = np.random.default_rng(0)
    real, fake = rng.standard_normal((20, 256)), 3 * rng.standard_normal((20, 256))
    with pytest.raises(ValueError, match="32 training epochs"):
        c2st_auc(real, fake, sfreq=128.0, random_state=0)
    y = np.repeat([0, 1], 10)
    with pytest.raises(ValueError, match="20 training epochs"):
        tstr_trtr(None, None, fake, y, real, y, sfreq=128.0)


def test_c2st_default_classifier_separates_just_enough_epochs():
    from sigest.generative_metrics import c2st_auc

    rng = np.random.default_rng(0)
    real, fake = rng.standard_normal((25, 256)), 3 * rng.standard_normal((25, 256))
    assert c2st_auc(real, fake, sfreq=128.0, random_state=0) > 0.9  # 40 training epochs


def test_embedding_classifier_refuses_another_channel_count():
    # 2-D epochs given to a model fitted on 2 channels were broadcast to both channels.
    from sigest.generative_metrics import EmbeddingClassifier, frechet_distance

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 2, 64)), np.repeat([0, 1], 8)
    emb = EmbeddingClassifier(max_epochs=1).fit(X, y)
    assert emb.transform(X).shape == (16, 64)
    for bad in (X[:, 0], rng.standard_normal((16, 3, 64))):
        with pytest.raises(ValueError, match="fitted on 2"):
            frechet_distance(bad, bad, embedding=emb)


def test_sliced_wasserstein_needs_a_projection():
    from sigest.generative_metrics import sliced_wasserstein_distance

    x = np.random.default_rng(0).standard_normal((10, 8))
    with pytest.raises(ValueError, match="n_projections"):
        sliced_wasserstein_distance(x, x, n_projections=0)
