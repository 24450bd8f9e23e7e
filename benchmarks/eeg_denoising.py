"""EEG denoising benchmark: BG-Attention, EEGdenoiseNet's networks, Novel CNN and classical filters.

Two tasks, EEGdenoiseNet's mixing rule (``noisy = eeg + lam * noise``, SNR = 10 log10 of the RMS
ratio), its scaling (input and target divided by the noisy input's std, inside each estimator)
and its metrics (RRMSE_t, RRMSE_s, CC), on identical data, folds and seeds for every model:

- **EOG** (real EEGdenoiseNet test data, ``eegdenoisenet-eog-test``): the 101 clean EEG / 101 EOG
  epochs split by epoch with a fixed seed (60 train / 20 validation / 21 test). Training pairs
  re-mix training epochs (random pairings, SNR uniform in [-7, 2] dB); validation pairs mix the
  validation epochs at 5 levels; the test uses the official pairs of the 21 test epochs at all 10
  levels (-7..2 dB). Variant ``train_data="+bonn+eegmmidb"``: the same number of training pairs,
  with clean EEG drawn also from Bonn sets Z/O and eegmmidb S001 (training recordings only).
- **EMG** (real EEG + real muscle noise): clean EEG = the 101 EEGdenoiseNet epochs (same epoch
  split), Bonn Z/O segments and eegmmidb S001 runs, resampled to 256 Hz and cut to 2 s, split
  by recording; muscle noise = NSTDB ``ma`` split by time (first 80 % train/validation, last 20 %
  test; ``NoiseInjector(source="nstdb-ma", split=...)``); test at each level -7..2 dB, and again
  with emgdb needle EMG (never seen in training).

Rows: one per model / task / test noise / SNR level / seed (and ``snr_db="all"``), plus
``seed="mean"`` rows with ``*_std`` over seeds. Also fit time (``fit_seconds``), epochs trained
and inference epochs per second. ``--speed`` measures item 5 of issue 5 instead (sigest vs a
plain PyTorch loop for one BG-Attention training epoch; inference at batch 256; latency).

``--protocol paper`` runs EEGdenoiseNet's own protocol on the full data set
(``sigest.datasets.load_eegdenoisenet``: 80/10/10 split, combin_num=10, 50 epochs); the full
``.npy`` files are not on this machine, so that mode was not run here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin, clone

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
from _common import RESULTS, Results, data_dir  # noqa: E402
from _common import merge_parts as merge_results  # noqa: E402

import sigest  # noqa: E402
from sigest.base import SignalDataset  # noqa: E402
from sigest.metrics import correlation_coefficient, rrmse_spectral, rrmse_temporal  # noqa: E402
from sigest.noise import NoiseInjector, mix_at_snr  # noqa: E402
from sigest.resume import Resume  # noqa: E402

MODELS = ("bg-attention", "fcnn", "simple-cnn", "complex-cnn", "rnn-lstm", "novel-cnn")
BASELINES = ("bandpass", "wavelet")
# EMG only, on request (--models): each network trained on the clean halves of the training
# pairs with a new draw of training-split muscle noise (SNR U[-7,2] dB) in every batch, sigest's
# noise= mode, instead of the fixed pairs
AUGMENTED = tuple(f"{m}+noise" for m in MODELS)
# on request (--models): the same network with one estimator option. sigest's residual= (not in
# the papers): +residual estimates the artifact and subtracts it; +gated adds a learned spectral
# gate's share of the input to the network's output. +eval-mode trains with batch norm and
# dropout in eval mode, as the official EEGdenoiseNet code effectively does
OPTIONS = {"residual": {"residual": True}, "gated": {"residual": "gated"},
           "eval-mode": {"train_in_eval_mode": True}}
OPTIONED = tuple(f"{m}+{variant}" for variant in OPTIONS for m in MODELS)
LEVELS = tuple(range(-7, 3))
VALID_LEVELS = (-5, 0)
SFREQ = 256.0
N_TIMES = 512
SPLIT_SEED = 2021  # fixed data split, independent of the training seeds
# --resume: the training state of the running fit, per results file (git-ignored)
CHECKPOINTS = Path(__file__).resolve().parent / "checkpoints"

FULL = dict(seeds=(0, 1, 2), n_pairs=200, max_epochs=4, patience=2, lr=1e-4, extra_seeds=(0,),
            emg_test_per_source=7, extra_models=("fcnn", "rnn-lstm", "simple-cnn", "complex-cnn"))
# the same protocol with 5x the pairs, up to 15 epochs at the papers' lr: sized for a quiet
# 2-core machine (one seed per core, ~35 min per seed for both tasks)
MEDIUM = dict(FULL, n_pairs=1000, max_epochs=15, patience=3, lr=5e-5)
# medium's pairs with room to converge: the small networks stopped at medium's 15-epoch cap after
# a few seconds of training (375 RMSprop steps at lr 5e-5), far from converged
LARGE = dict(MEDIUM, max_epochs=40, patience=4)
# large's rule with the cap lifted: the LSTM (and FCNN on some seeds) ran all 40 epochs of large
# (1,000 RMSprop steps, a few seconds each), so only early stopping ends their training here
XL = dict(LARGE, max_epochs=400)
# xl's rule with 10x the pairs (each clean epoch re-paired with ~13 noise draws; EEGdenoiseNet
# re-pairs 10 times): under xl, FCNN and the LSTM still stop after ~1,000-1,500 RMSprop steps,
# since 4 epochs of patience over 1,000 pairs is only 100 steps
XL_10K = dict(XL, n_pairs=10000)
# xl-10k with patience 30: the validation loss (40 pairs) moves by 0.01-0.02 from epoch to epoch
# while it still falls slowly, so 4 epochs without a new best stop FCNN near epoch 20, far
# before its best epoch (near 40 in an exploratory run)
XL_10K_P30 = dict(XL_10K, patience=30)
XL_P30 = dict(XL, patience=30)  # the same patience at 1,000 pairs, where BG-Attention is affordable
BUDGETS = {"small": FULL, "medium": MEDIUM, "large": LARGE, "xl": XL, "xl-p30": XL_P30,
           "xl-10k": XL_10K, "xl-10k-p30": XL_10K_P30}
QUICK = dict(seeds=(0,), n_pairs=60, max_epochs=2, patience=1, lr=1e-4, extra_seeds=(),
             emg_test_per_source=4, extra_models=())

HELP_EPILOG = """
Full mode (default): seeds 0,1,2; 200 training pairs per fit; at most 4 epochs with early
stopping (patience 2) on 40 validation pairs (20 epochs x 2 SNR levels), best epoch restored;
RMSprop (rho 0.9) lr 1e-4, batch 40; test: EOG 21 official epochs x 10 levels, EMG 21 clean
epochs x 10 levels per test noise; the +bonn+eegmmidb EOG variant with seed 0 and the four fast
EEGdenoiseNet networks only, run last. One torch thread. Measured on the shared 2-core machine
(load ~14): BG-Attention trains at ~3 epochs/s (each batch of 40 takes ~15 s: PyTorch's CPU GRU
runs step by step under autograd), Novel CNN at ~5/s, so the full run takes about 60-75 min.
This deviates from EEGdenoiseNet's protocol (50 epochs over ~27,000 pairs at lr 5e-5, the
estimators' defaults): about 1/1700 of its training steps (20 instead of ~34,000), so every
learned model is undertrained; lr is doubled (1e-4) for all alike (1e-3 blows up the first
RMSprop steps of the networks with a wide flattened dense head: measured RRMSE_t > 10 for
BG-Attention).
--budget medium: the same with 1000 training pairs per fit, at most 15 epochs (patience 3) at
EEGdenoiseNet's lr 5e-5 (the estimators' defaults, RMSprop), into eeg_denoising_medium.json;
measured on a quiet machine, one process per seed: about 35 min per seed for both tasks
(BG-Attention ~34 and Novel CNN ~24 training epochs/s dominate).
--budget large: medium's pairs and lr with at most 40 epochs (patience 4), into
eeg_denoising_large.json; sized for EMG only (--tasks EMG): about 60 min per seed on one core
(BG-Attention ~20 and Novel CNN ~28 min when they run all 40 epochs), so split the models and
seeds over two processes with --models and --part.
--budget xl: large with at most 400 epochs (10,000 RMSprop steps, about 1/3 of EEGdenoiseNet's),
into eeg_denoising_xl.json; for the networks that reached large's cap (FCNN, LSTM: a few minutes
per fit); a network that stopped early under large trains the same epochs here.
--budget xl-10k: xl with 10,000 training pairs, into eeg_denoising_xl-10k.json; FCNN and the
LSTM take 1-5 min per fit, the CNNs about 10x their large-budget time, BG-Attention about 2 h.
--budget xl-10k-p30: xl-10k with patience 30 (eeg_denoising_xl-10k-p30.json); FCNN and the LSTM
take 2-9 min per fit, the others run at least 26 epochs more than under xl-10k; BG-Attention
took 6.1 h for seed 0 (37 epochs, ~6.5 min each beside one other job), so run it with --resume,
whose checkpoints (benchmarks/checkpoints/) must survive until the fit ends.
--budget xl-p30: xl with patience 30 (1,000 pairs; eeg_denoising_xl-p30.json), the same stopping
rule at a size where BG-Attention takes about 20-25 min per seed (about 30 s per epoch).
--models NET+residual / NET+gated: NET with residual=True / residual="gated" (sigest options,
not in the papers), at NET's cost; any task. NET+eval-mode: NET with train_in_eval_mode=True,
the official EEGdenoiseNet code's effective training (batch norm as a fixed scale and shift, no
dropout), at NET's cost.
--quick: 1 seed, 60 pairs, 2 epochs, no variant, smaller EMG test; about 3-5 minutes.
--speed: item 5 (sigest vs plain PyTorch, inference speed); a few minutes.
"""


# --------------------------------------------------------------------------------- data
def _windows(x, n_times=N_TIMES, max_windows=None):
    """Non-overlapping windows of the last axis: (..., T) -> (n_windows, n_times) per row."""
    n = x.shape[-1] // n_times
    if max_windows is not None:
        n = min(n, max_windows)
    return x[..., : n * n_times].reshape(*x.shape[:-1], n, n_times)


def _resample(x, from_sfreq):
    import mne

    return mne.filter.resample(np.asarray(x, dtype=float), up=SFREQ, down=from_sfreq,
                               axis=-1, verbose=False)


def _split_ids(ids, fractions=(0.6, 0.2), seed=SPLIT_SEED):
    """Partition unique ``ids`` into train / valid / test by fixed seeded shuffling."""
    ids = np.unique(ids)
    order = np.random.default_rng(seed).permutation(ids)
    n_tr = int(round(fractions[0] * len(ids)))
    n_va = int(round(fractions[1] * len(ids)))
    return set(order[:n_tr]), set(order[n_tr:n_tr + n_va]), set(order[n_tr + n_va:])


def eegdenoisenet_split(n=101):
    """Epoch indices of the 60 / 20 / 21 split of the EEGdenoiseNet EOG test epochs."""
    order = np.random.default_rng(SPLIT_SEED).permutation(n)
    return np.sort(order[:60]), np.sort(order[60:80]), np.sort(order[80:])


def extra_clean_eeg(path, windows_per_recording=2):
    """Clean EEG of Bonn Z/O and eegmmidb S001, 256 Hz, 2 s, split by recording.

    Returns dict part -> (n, 512) array, and a description of the split.
    """
    from sigest.datasets import load_bonn, load_eegmmidb

    X, _, groups = load_bonn(sets="ZO", path=path)
    bonn = _windows(_resample(X, 173.61), max_windows=windows_per_recording)  # (200, w, 512)
    tr, va, te = _split_ids(groups)
    parts = {p: [bonn[np.isin(groups, list(s))].reshape(-1, N_TIMES)]
             for p, s in (("train", tr), ("valid", va), ("test", te))}
    # eegmmidb S001: runs split train R03-R10 / valid R11-R12 / test R13-R14; a few channels
    # per epoch (channels of one epoch are strongly correlated).
    runs = {"train": range(3, 11), "valid": (11, 12), "test": (13, 14)}
    rng = np.random.default_rng(SPLIT_SEED)
    for part, rr in runs.items():
        Xm, _, _ = load_eegmmidb(subjects=(1,), runs=tuple(rr), path=path, tmin=0.0, tmax=4.0,
                                 include_rest=True)
        w = _windows(_resample(Xm, 160.0), max_windows=1)[:, :, 0]  # (n, 64, 512)
        chans = np.stack([rng.choice(w.shape[1], 2, replace=False) for _ in range(len(w))])
        parts[part].append(np.take_along_axis(w, chans[:, :, None], axis=1).reshape(-1, N_TIMES))
    out = {p: np.concatenate(v) for p, v in parts.items()}
    return out, ("Bonn Z/O split by segment 60/20/20 (2 windows each); eegmmidb S001 runs "
                 "R03-R10 / R11-R12 / R13-R14, 2 random channels per 4-s epoch (first 2 s)")


def eog_task(path, seed, n_pairs, extra=None):
    """Training, validation and test sets of the EOG task for one seed."""
    from sigest.datasets import load_eegdenoisenet_eog_test

    b = load_eegdenoisenet_eog_test(path)
    tr, va, te = eegdenoisenet_split(len(b.clean_eeg))
    rng = np.random.default_rng(seed)
    clean_pool = b.clean_eeg[tr] if extra is None else np.concatenate(
        [b.clean_eeg[tr], extra["train"]])
    ci = rng.integers(0, len(clean_pool), n_pairs)
    ni = rng.choice(tr, n_pairs)
    snr = rng.uniform(-7, 2, n_pairs)
    X_train = mix_at_snr(clean_pool[ci], b.eog[ni], snr)
    y_train = clean_pool[ci]
    v_clean = np.tile(b.clean_eeg[va], (len(VALID_LEVELS), 1))
    v_snr = np.repeat(VALID_LEVELS, len(va))
    X_valid = mix_at_snr(v_clean, np.tile(b.eog[va], (len(VALID_LEVELS), 1)), v_snr)
    test = np.isin(b.epoch, te)
    tests = {"eog": (b.noisy[test], b.clean[test], b.snr_db[test])}
    return (X_train, y_train), (X_valid, v_clean), tests


def emg_training_noise(seed, path=None):
    """Muscle noise of the EMG task's training pairs: NSTDB ma, training split, U[-7, 2] dB."""
    return NoiseInjector("nstdb-ma", snr_db=(-7.0, 2.0), sfreq=SFREQ, split="train",
                         data_path=path, random_state=seed)


def emg_task(path, seed, n_pairs, extra, test_per_source):
    """Training, validation and test sets of the EMG task for one seed."""
    from sigest.datasets import load_eegdenoisenet_eog_test

    b = load_eegdenoisenet_eog_test(path)
    tr, va, te = eegdenoisenet_split(len(b.clean_eeg))
    rng = np.random.default_rng(seed)
    pool = np.concatenate([b.clean_eeg[tr], extra["train"]])
    clean = pool[rng.integers(0, len(pool), n_pairs)]
    X_train = emg_training_noise(seed, path).fit_transform(clean)
    v_pool = np.concatenate([b.clean_eeg[va], extra["valid"]])
    v_clean = v_pool[np.random.default_rng(SPLIT_SEED).choice(len(v_pool), 20, replace=False)]
    v_clean = np.tile(v_clean, (len(VALID_LEVELS), 1))
    valid_noise = NoiseInjector("nstdb-ma", snr_db=0.0, sfreq=SFREQ, split="train",
                                data_path=path).fit(v_clean)
    X_valid = valid_noise.inject(v_clean[:, None], np.random.default_rng(SPLIT_SEED + 1))[:, 0]
    X_valid = _set_snr(v_clean, X_valid, np.repeat(VALID_LEVELS, 20))
    # test: the same clean epochs and noise draws for every seed and model
    t_rng = np.random.default_rng(SPLIT_SEED + 2)
    t_parts = [b.clean_eeg[te][:test_per_source]]
    for source in np.array_split(extra["test"], 2):
        t_parts.append(source[t_rng.choice(len(source), min(test_per_source, len(source)),
                                           replace=False)])
    t_clean = np.concatenate(t_parts)
    tests = {}
    for noise_name in ("nstdb-ma", "emgdb"):
        inj = NoiseInjector(noise_name, snr_db=0.0, sfreq=SFREQ, split="test"
                            if noise_name == "nstdb-ma" else "train", data_path=path).fit(t_clean)
        clean_rep = np.tile(t_clean, (len(LEVELS), 1))
        snr = np.repeat(LEVELS, len(t_clean)).astype(float)
        noisy0 = inj.inject(clean_rep[:, None], np.random.default_rng(SPLIT_SEED + 3))[:, 0]
        tests[noise_name] = (_set_snr(clean_rep, noisy0, snr), clean_rep, snr)
    return (X_train, clean), (X_valid, v_clean), tests


def _set_snr(clean, noisy, snr):
    """Re-mix ``noisy - clean`` with ``clean`` at ``snr`` (EEGdenoiseNet's rule)."""
    return mix_at_snr(clean, noisy - clean, snr)


# ----------------------------------------------------------------------------- scoring
def score(clean, denoised):
    return {"rrmse_temporal": rrmse_temporal(clean, denoised),
            "rrmse_spectral": rrmse_spectral(clean, denoised, sfreq=SFREQ),
            "cc": correlation_coefficient(clean, denoised)}


class TrainOnTargets(TransformerMixin, BaseEstimator):
    """Fits ``denoiser`` on the clean targets ``y`` only, its ``noise`` making the noisy copies.

    Glue for one ``GridSearchCV`` over pair-trained and noise-trained configurations on the
    same (noisy, clean) training and validation pairs.
    """

    def __init__(self, denoiser):
        self.denoiser = denoiser

    def fit(self, X, y):
        self.denoiser_ = clone(self.denoiser).fit(y)
        return self

    def transform(self, X):
        return self.denoiser_.transform(X)

    @property
    def history_(self):
        return self.denoiser_.history_

    history = history_


def make_model(name, seed, cfg, valid, **params):
    if name in AUGMENTED:  # fresh noise in every batch; validated on the fixed pairs
        return TrainOnTargets(make_model(name.removesuffix("+noise"), seed, cfg, valid,
                                         noise=emg_training_noise(seed), **params))
    if name in OPTIONED:
        base, _, variant = name.partition("+")
        return make_model(base, seed, cfg, valid, **OPTIONS[variant], **params)
    if name in BASELINES:
        return sigest.get_estimator(name, sfreq=SFREQ) if name == "bandpass" else \
            sigest.get_estimator(name)
    from skorch.helper import predefined_split

    X_valid, y_valid = valid
    valid_ds = SignalDataset(X_valid[:, None].astype(np.float32),
                             y_valid[:, None].astype(np.float32))
    return sigest.get_estimator(name, lr=cfg["lr"], max_epochs=cfg["max_epochs"],
                                patience=cfg["patience"], train_split=predefined_split(valid_ds),
                                random_state=seed, sfreq=SFREQ, verbose=cfg.get("verbose", 0),
                                **params)


def add_scores(results, common, clean, denoised, snr, **overall):
    """One ``snr_db="all"`` row (with ``overall`` columns) and one row per SNR level."""
    results.add(**common, snr_db="all", **score(clean, denoised), **overall)
    for level in LEVELS:
        sel = np.isclose(snr, level)
        results.add(**common, snr_db=level, **score(clean[sel], denoised[sel]))


def run_model(results, name, seed, cfg, train, valid, tests, conditions, examples, state=None):
    """Fit, test and add the rows of one model; ``state``: a :class:`Resume` file to continue
    an interrupted fit from (deleted once the rows are in)."""
    t0 = time.perf_counter()
    earlier_seconds = 0.0
    if name == "noisy":
        est, epochs = None, 0
    else:
        learned = state is not None and name not in BASELINES
        est = make_model(name, seed, cfg, valid, **({"callbacks": [Resume(state)]}
                                                   if learned else {}))
        est.fit(*train)
        epochs = len(est.history) if hasattr(est, "history_") else 0
        if learned:  # the epochs trained by the processes before this one count too
            resumed = _resume_callback(est).resumed_epochs_
            earlier_seconds = float(sum(est.history[:resumed, "dur"])) if resumed else 0.0
    fit_seconds = time.perf_counter() - t0 + earlier_seconds
    for test_noise, (noisy, clean, snr) in tests.items():
        t1 = time.perf_counter()
        denoised = noisy if est is None else est.transform(noisy)
        infer = time.perf_counter() - t1
        common = dict(model=name, **conditions, test_noise=test_noise, seed=seed)
        timing = dict(fit_seconds=fit_seconds, epochs_trained=epochs,
                      infer_epochs_per_s=len(noisy) / infer if est is not None else None)
        add_scores(results, common, clean, denoised, snr, **timing)
        if seed == 0 and conditions.get("train_data") == "eegdenoisenet":
            examples.setdefault((conditions["artifact"], test_noise), {})[name] = denoised
            examples[(conditions["artifact"], test_noise)]["_clean"] = (clean, noisy, snr)
    print(f"  {name:13s} {conditions} seed {seed}: fit {fit_seconds:6.1f}s, {epochs} epochs, "
          f"RRMSE_t {results.rows[-len(LEVELS) - 1]['rrmse_temporal']:.3f}", flush=True)


def _resume_callback(est):
    net = getattr(est, "denoiser_", est)  # TrainOnTargets fits a clone
    return next(cb for _, cb in net.callbacks_ if isinstance(cb, Resume))


# ------------------------------------------------------------------- stretch: tuned config
TUNE_GRIDS = {
    # cheap networks only: the search fits in minutes per task on one core
    "cheap": (
        {"den": ["fcnn"], "den__lr": [5e-5, 3e-4], "den__module__n_hidden_layers": [3, 5]},
        {"den": ["rnn-lstm"], "den__lr": [5e-5, 3e-4]},
        {"den": ["simple-cnn", "complex-cnn"], "den__lr": [5e-5, 3e-4]},
    ),
    # BG-Attention's own learning rate, its default (5e-5) included: ~8 min per fit
    "bg-attention": ({"den": ["bg-attention"], "den__lr": [5e-5, 1.5e-4, 4e-4]},),
    # its training length (early stopping still applies): the default 15 or twice that
    "bg-attention-epochs": ({"den": ["bg-attention"], "den__max_epochs": [15, 30]},),
    # wider: BG-Attention at 2x and 4x its default width (hidden_size 16; the default is not in
    # this grid: its validation score is in the bg-attention grid's run), and Novel CNN (built
    # for muscle) at a higher lr
    "wide": ({"den": ["bg-attention"], "den__module__hidden_size": [32, 64]},
             {"den": ["novel-cnn"], "den__lr": [3e-4]}),
    # regularisation: on EMG a higher lr and a wider network both scored worse on validation
    # than the defaults, as if the net fitted the few training recordings; default 0.0 included
    "dropout": ({"den": ["bg-attention"], "den__module__dropout": [0.0, 0.2]},),
    # EMG only: the fixed training pairs or a new noise draw in every batch (sigest's noise=
    # mode, the same clean epochs and training-split noise)
    "noise": ({"den": ["bg-attention", "bg-attention+noise"]},),
}
TUNED_MODEL = {"cheap": "gridsearch-best", "bg-attention": "gridsearch-bg-attention",
               "bg-attention-epochs": "gridsearch-bg-attention-epochs", "wide": "gridsearch-wide",
               "dropout": "gridsearch-dropout", "noise": "gridsearch-noise"}


def tune(seed, cfg, train, valid, grid_name="cheap", n_jobs=None):
    """``GridSearchCV`` over registered denoisers and their lr on the VALIDATION split only
    (``PredefinedSplit``: fit on the training pairs, score on the validation pairs); returns
    the best configuration refitted on the training pairs, early-stopped like every model."""
    from sklearn.model_selection import GridSearchCV, PredefinedSplit
    from sklearn.pipeline import Pipeline

    from sigest.metrics import SCORERS

    grid = [{**g, "den": [make_model(n, seed, cfg, valid) for n in g["den"]]}
            for g in TUNE_GRIDS[grid_name]]
    X = np.concatenate([train[0], valid[0]])
    y = np.concatenate([train[1], valid[1]])
    fold = np.r_[np.full(len(train[0]), -1), np.zeros(len(valid[0]), int)]
    search = GridSearchCV(Pipeline([("den", grid[0]["den"][0])]), grid,
                          scoring=SCORERS["neg_rrmse_temporal"], cv=PredefinedSplit(fold),
                          refit=False, n_jobs=n_jobs).fit(X, y)
    best = dict(search.best_params_)
    est = best.pop("den").set_params(**{k.removeprefix("den__"): v for k, v in best.items()})
    name = (f"{type(est.denoiser).__name__} trained with noise= (a new draw per batch)"
            if isinstance(est, TrainOnTargets) else type(est).__name__)
    config = f"{name} " + " ".join(f"{k}={v}" for k, v in best.items())
    return est.fit(*train), config, -search.best_score_


def run_tuned(results, seed, cfg, train, valid, tests, conditions, grid_name="cheap",
              n_jobs=None):
    t0 = time.perf_counter()
    est, config, valid_rrmse = tune(seed, cfg, train, valid, grid_name, n_jobs)
    fit_seconds = time.perf_counter() - t0
    for test_noise, (noisy, clean, snr) in tests.items():
        denoised = est.transform(noisy)
        common = dict(model=TUNED_MODEL[grid_name], **conditions, test_noise=test_noise, seed=seed)
        add_scores(results, common, clean, denoised, snr, fit_seconds=fit_seconds,
                   epochs_trained=len(est.history), tuned_config=config,
                   valid_rrmse_temporal=valid_rrmse)
    print(f"  gridsearch    {conditions} seed {seed}: {config} (validation RRMSE_t "
          f"{valid_rrmse:.3f}), search + refit {fit_seconds:.0f}s, test RRMSE_t "
          f"{results.rows[-len(LEVELS) - 1]['rrmse_temporal']:.3f}", flush=True)


# ----------------------------------------------------------------------------- figures
def figures(results, stem, examples):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in results.rows if r.get("seed") == "mean" and r.get("snr_db") != "all"]
    conds = sorted({(r["artifact"], r["test_noise"], r["train_data"]) for r in rows})
    metrics = ("rrmse_temporal", "rrmse_spectral", "cc")
    if conds:
        fig, axes = plt.subplots(len(conds), 3, figsize=(14, 3.2 * len(conds)), squeeze=False)
        for i, cond in enumerate(conds):
            for j, metric in enumerate(metrics):
                ax = axes[i, j]
                for model in ("noisy",) + BASELINES + MODELS + AUGMENTED + OPTIONED:
                    pts = sorted((r["snr_db"], r[metric], r.get(f"{metric}_std", 0)) for r in rows
                                 if (r["artifact"], r["test_noise"], r["train_data"]) == cond
                                 and r["model"] == model)
                    if pts:
                        x, y, s = map(np.array, zip(*pts))
                        ax.errorbar(x, y, yerr=s, label=model, **_line_style(model))
                ax.set_title(f"{cond[0]} / test noise {cond[1]} / train {cond[2]}", fontsize=8)
                ax.set_xlabel("SNR (dB)")
                ax.set_ylabel(metric)
        handles = {}
        for ax in axes.ravel():  # every model once, outside the panels
            lines, labels = ax.get_legend_handles_labels()
            handles.update(zip(labels, lines))
        fig.legend(handles.values(), handles.keys(), loc="center right", fontsize=7)
        fig.tight_layout(rect=(0, 0, 0.84, 1))
        fig.savefig(RESULTS / f"{stem}_metrics_vs_snr.png", dpi=90)
        plt.close(fig)
    for (artifact, test_noise), den in examples.items():
        if test_noise == "emgdb":
            continue
        clean, noisy, snr = den["_clean"]
        k = int(np.flatnonzero(np.isclose(snr, -3))[0])
        t = np.arange(clean.shape[-1]) / SFREQ
        fig, ax = plt.subplots(figsize=(10, 3.5))
        ax.plot(t, noisy[k], color="0.7", lw=0.8, label="noisy input (-3 dB)")
        ax.plot(t, clean[k], color="k", lw=1.0, label="clean")
        for model in ("bg-attention", "wavelet"):
            if model in den:
                ax.plot(t, den[model][k], lw=1.0, label=f"denoised: {model}")
        ax.set_xlabel("time (s)")
        ax.set_title(f"{artifact}: one test epoch (units of the noisy input's std)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(RESULTS / f"{stem}_example_{artifact}.png", dpi=90)
        plt.close(fig)


def _line_style(model):
    """One colour per network (its variants share it), one line style per variant."""
    base, _, variant = model.partition("+")
    names = ("noisy",) + BASELINES + MODELS
    color = f"C{names.index(base) % 10}" if base in names else "k"
    if base in ("noisy",) + BASELINES:
        return dict(color=color, ls="--", marker="o", ms=3)
    styles = {"": "-", "noise": ":", "residual": (0, (5, 1, 1, 1)), "gated": "-.",
              "eval-mode": (0, (1, 1))}
    return dict(color=color, ls=styles.get(variant, "-"), marker="o" if not variant else "^",
                ms=3)


def summary_md(results):
    rows = [r for r in results.rows if r.get("seed") == "mean" and r.get("snr_db") == "all"]
    keys = ["artifact", "train_data", "test_noise", "model", "n", "rrmse_temporal",
            "rrmse_temporal_std", "rrmse_spectral", "rrmse_spectral_std", "cc", "cc_std",
            "fit_seconds", "epochs_trained", "infer_epochs_per_s"]
    rows = sorted(rows, key=lambda r: (r["artifact"], r["train_data"], r["test_noise"],
                                       r["rrmse_temporal"]))
    return ("\n## Overall (mean +- std over seeds; all SNR levels)\n\n"
            + _common.markdown_table(rows, keys) + "\n")


# ---------------------------------------------------------------------------------- main
def run_benchmark(args, cfg):
    path = Path(args.data) if args.data else data_dir()
    extra, extra_desc = extra_clean_eeg(path)
    sizes = {k: len(v) for k, v in extra.items()}
    protocol = (f"EOG: EEGdenoiseNet EOG test epochs split 60/20/21 by epoch (seed {SPLIT_SEED}); "
                f"EMG: EEGdenoiseNet clean + Bonn Z/O + eegmmidb S001 ({extra_desc}; extra "
                f"windows {sizes}) + NSTDB ma split by time 80/20; {cfg['n_pairs']} training "
                f"pairs per fit (SNR U[-7,2] dB), <= {cfg['max_epochs']} epochs, early stopping "
                f"patience {cfg['patience']} on validation pairs at {VALID_LEVELS} dB, lr "
                f"{cfg['lr']}, batch 40, RMSprop rho 0.9; test at {LEVELS[0]}..{LEVELS[-1]} dB; "
                f"seeds {cfg['seeds']}")
    notes = ("Deviations from EEGdenoiseNet's 50-epoch protocol: see `--help` (CPU budget). "
             "Published tables were not reachable offline; nothing here is a published number.")
    name = _base_name(args) if not args.part else f"{_base_name(args)}_part-{args.part}"
    results = Results(name, data=f"{path} (eegdenoisenet-eog-test, bonn-eeg, "
                      "eegmmidb, nstdb, emgdb)", protocol=protocol, quick=args.quick, notes=notes)
    models = ["noisy", *BASELINES, *[m for m in MODELS if args.models is None
                                     or m in args.models],
              *[m for m in AUGMENTED + OPTIONED if args.models and m in args.models]]
    examples = {}
    done = _resume_rows(results) if args.resume else set()
    seeds = cfg["seeds"] if args.seeds is None else tuple(args.seeds)
    jobs = [(artifact, "eegdenoisenet", seed) for seed in seeds for artifact in args.tasks]
    if args.variant != "no":
        jobs += [("EOG", "+bonn+eegmmidb", seed) for seed in cfg["extra_seeds"]]
    if args.variant == "only":
        jobs = jobs[-len(cfg["extra_seeds"]):]
    for artifact, train_data, seed in jobs:
        if artifact == "EOG":
            data = eog_task(path, seed, cfg["n_pairs"],
                            extra=None if train_data == "eegdenoisenet" else extra)
        else:
            data = emg_task(path, seed, cfg["n_pairs"], extra, cfg["emg_test_per_source"])
        conditions = dict(artifact=artifact, train_data=train_data)
        job_models = models if train_data == "eegdenoisenet" else [
            m for m in models if m not in MODELS or m in cfg["extra_models"]]
        if artifact != "EMG":
            job_models = [m for m in job_models if m not in AUGMENTED]
        for name in job_models:
            if (name, artifact, train_data, seed) in done:
                continue
            state = (CHECKPOINTS / results.stem / f"{artifact}-{train_data}-{name}-s{seed}.pt"
                     if args.resume else None)
            run_model(results, name, seed, cfg, *data, conditions, examples, state=state)
            results.write()
            if state is not None:
                state.unlink(missing_ok=True)
        if args.tune and train_data == "eegdenoisenet":
            for grid_name in args.tune:
                if artifact != "EMG" and any(name in AUGMENTED for grid in TUNE_GRIDS[grid_name]
                                             for name in grid["den"]):
                    continue  # the +noise models' training noise is muscle noise
                run_tuned(results, seed, cfg, *data, conditions, grid_name, args.tune_jobs)
            results.write()
        finalize(results, examples)  # after every task/seed, so partial runs are usable


def finalize(results, examples):
    """Write the results with mean rows over the seeds done so far, the table and figures."""
    import copy

    done = copy.copy(results)
    done.rows = [r for r in results.rows if r.get("seed") != "mean"]
    done.add_mean_rows(["model", "artifact", "train_data", "test_noise", "snr_db"],
                       ["rrmse_temporal", "rrmse_spectral", "cc", "fit_seconds",
                        "epochs_trained", "infer_epochs_per_s"])
    done.write()
    means = [r for r in done.rows if r.get("seed") == "mean" and r.get("snr_db") != "all"]
    keys = ["artifact", "train_data", "test_noise", "model", "snr_db", "n", "rrmse_temporal",
            "rrmse_temporal_std", "rrmse_spectral", "cc", "cc_std"]
    text = done.markdown(keys, rows=[]).replace("(no rows yet)", "")
    text += summary_md(done) + "\n## Per SNR level (mean over seeds)\n\n"
    text += _common.markdown_table(means, keys) + "\n"
    _common._atomic_write(RESULTS / f"{done.stem}.md", text)
    figures(done, done.stem, examples)
    print(summary_md(done), flush=True)


def _resume_rows(results):
    """Keep the rows an interrupted run of the same command wrote; their keys, to skip."""
    path = RESULTS / f"{results.stem}.json"
    if not path.exists():
        return set()
    previous = json.loads(path.read_text())
    results.rows = [r for r in previous["rows"] if r.get("seed") != "mean"]
    results.notes += (f" Continued with --resume: {len(results.rows)} rows from the run of "
                      f"{previous.get('date')} (git {str(previous.get('git'))[:10]}).")
    return {(r["model"], r["artifact"], r["train_data"], r["seed"]) for r in results.rows}


def _base_name(args):
    return "eeg_denoising" if args.budget == "small" else f"eeg_denoising_{args.budget}"


BUDGET_NOTES = {
    "small": "200 training pairs, <= 4 epochs (20 RMSprop steps), lr 1e-4 (CPU budget on a "
             "2-core machine shared by ~8 engineers, load 20-30), so every learned model is "
             "heavily undertrained",
    "medium": "1000 training pairs, <= 15 epochs (<= 375 RMSprop steps) with early stopping, "
              "EEGdenoiseNet's lr 5e-5: still about 1/90 of its ~34,000 steps",
    "large": "1000 training pairs, <= 40 epochs (<= 1000 RMSprop steps) with early stopping "
             "(patience 4), EEGdenoiseNet's lr 5e-5: about 1/34 of its ~34,000 steps",
    "xl": "1000 training pairs, <= 400 epochs (<= 10,000 RMSprop steps) with early stopping "
          "(patience 4), EEGdenoiseNet's lr 5e-5: up to about 1/3 of its ~34,000 steps",
    "xl-p30": "1000 training pairs, <= 400 epochs with early stopping (patience 30), "
              "EEGdenoiseNet's lr 5e-5",
    "xl-10k": "10,000 training pairs, <= 400 epochs with early stopping (patience 4), "
              "EEGdenoiseNet's lr 5e-5",
    "xl-10k-p30": "10,000 training pairs, <= 400 epochs with early stopping (patience 30), "
                  "EEGdenoiseNet's lr 5e-5",
}


def merge_parts(args):
    """Merge ``<base>_part-*.json`` (runs split over processes) with ``<base>.json``,
    recompute the mean rows, rewrite the table and the metric figure.

    The parts come first, so a rerun part wins over the rows an earlier merge copied into the
    main file; the main file still contributes the rows of a run that wrote it directly."""
    base = _base_name(args)
    main_file = RESULTS / f"{base}.json"
    files = sorted(RESULTS.glob(f"{base}_part-*.json")) + [main_file] * main_file.exists()
    results = merge_results(
        base, ("model", "artifact", "train_data", "test_noise", "snr_db", "seed"),
        files=files, merge_command="python benchmarks/eeg_denoising.py --merge" + (
            f" --budget {args.budget}" if args.budget != "small" else ""),
        notes=f"Merged from {[f.name for f in files]} (one process each, 1 torch "
        "thread each). `n` = seeds done per row: runs that did not finish before "
        "the deadline are missing, nothing is filled in. Deviations from "
        f"EEGdenoiseNet's 50-epoch protocol: {BUDGET_NOTES[args.budget]}; see "
        "`--help`. Published tables were not reachable offline.")
    finalize(results, {})


def run_paper_protocol(args):
    """EEGdenoiseNet's own protocol on the full data set (files absent on this machine)."""
    from sigest.datasets import load_eegdenoisenet

    path = Path(args.data) if args.data else data_dir()
    results = Results("eeg_denoising_paper", data=str(path), quick=args.quick,
                      protocol="EEGdenoiseNet: 80/10/10, combin_num=10, 50 epochs, lr 5e-5")
    for artifact in ("EOG", "EMG"):
        for seed in (0, 1, 2):
            d = load_eegdenoisenet(path, artifact=artifact, random_state=seed)
            tests = {artifact.lower(): (d.X_test, d.y_test, d.snr_test)}
            cfg = dict(lr=5e-5, max_epochs=50, patience=None)
            for name in ["noisy", *BASELINES, *MODELS]:
                run_model(results, name, seed, cfg, (d.X_train, d.y_train),
                          (d.X_val, d.y_val), tests,
                          dict(artifact=artifact, train_data="eegdenoisenet"), {})
                results.write()
    results.add_mean_rows(["model", "artifact", "train_data", "test_noise", "snr_db"],
                          ["rrmse_temporal", "rrmse_spectral", "cc", "fit_seconds"])
    results.write(extra_md=summary_md(results))


# ------------------------------------------------------------------------- speed (item 5)
def _plain_epoch(module, optimizer, X, y, batch_size, rng):
    """One training epoch of a plain PyTorch loop doing what sigest does per batch.

    Shuffle, the same std scaling of input and target, forward, MSE, backward, step.
    """
    module.train()
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size]
        xb, yb = torch.from_numpy(X[idx]), torch.from_numpy(y[idx])
        scale = xb.std(dim=-1, keepdim=True, correction=0).clamp_min(1e-8)
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(module(xb / scale), yb / scale)
        loss.backward()
        optimizer.step()


def run_speed(args):
    """sigest vs a plain PyTorch loop, one training epoch, interleaved repeats; inference."""
    import statistics

    path = Path(args.data) if args.data else data_dir()
    n_pairs = {"bg-attention": 40 if args.quick else 120, "fcnn": 400 if args.quick else 2000}
    (X_all, y_all), _, tests = eog_task(path, 0, max(n_pairs.values()))
    n_infer = 256 if args.quick else 512
    test_noisy = np.tile(tests["eog"][0], (3, 1))[:n_infer][:, None].astype(np.float32)
    repeats = 2 if args.quick else 7
    n_latency = 5 if args.quick else 20
    results = Results("eeg_denoising_speed", data=str(path), quick=args.quick,
                      protocol=f"one training epoch over {n_pairs} EOG pairs (batch 40), "
                      f"{repeats} interleaved repeats, median of process CPU time; inference "
                      f"(after a warm-up call, interleaved, CPU time) on {len(test_noisy)} "
                      f"epochs at batch 256; latency = median of {n_latency} single-epoch calls; "
                      "1 torch thread")
    for name in ("bg-attention", "fcnn"):
        X = X_all[:n_pairs[name], None].astype(np.float32)
        y = y_all[:n_pairs[name], None].astype(np.float32)
        est = sigest.get_estimator(name, max_epochs=1, train_split=None, patience=None,
                                   random_state=0, verbose=0)
        est.fit(X, y)  # builds the network; the timed epochs below are partial_fit epochs
        module = type(est.module_)(n_channels=1, n_times=N_TIMES)
        module.load_state_dict(est.module_.state_dict())
        optimizer = est.optimizer(module.parameters(), lr=est.lr)
        rng = np.random.default_rng(0)
        times = {"sigest": [], "plain": []}
        # CPU time of this one-threaded process, sides alternating: other jobs on the machine
        # disturb both alike
        for r in range(repeats):
            for side in (("plain", "sigest") if r % 2 == 0 else ("sigest", "plain")):
                t = time.process_time()
                if side == "plain":
                    _plain_epoch(module, optimizer, X, y, est.batch_size, rng)
                else:
                    est.partial_fit(X, y)
                times[side].append(time.process_time() - t)
        sps = {k: len(X) / statistics.median(v) for k, v in times.items()}

        def plain_infer(module=module):
            module.eval()
            with torch.no_grad():
                for start in range(0, len(test_noisy), 256):
                    xb = torch.from_numpy(test_noisy[start:start + 256])
                    scale = xb.std(dim=-1, keepdim=True, correction=0).clamp_min(1e-8)
                    (module(xb / scale) * scale).numpy()

        infer = {"sigest": [], "plain": []}
        est.transform(test_noisy), plain_infer()  # warm-up
        for r in range(repeats):
            for side in (("plain", "sigest") if r % 2 == 0 else ("sigest", "plain")):
                t = time.process_time()
                plain_infer() if side == "plain" else est.transform(test_noisy)
                infer[side].append(time.process_time() - t)
        infer_sigest = len(test_noisy) / statistics.median(infer["sigest"])
        infer_plain = len(test_noisy) / statistics.median(infer["plain"])
        with torch.no_grad():
            lat_plain = []
            for _ in range(n_latency):
                t = time.perf_counter()
                module(torch.from_numpy(test_noisy[:1]))
                lat_plain.append(time.perf_counter() - t)
        lat_sigest = []
        for _ in range(n_latency):
            t = time.perf_counter()
            est.transform(test_noisy[:1, 0])
            lat_sigest.append(time.perf_counter() - t)
        for runner in ("sigest", "plain_torch"):
            key = "sigest" if runner == "sigest" else "plain"
            results.add(model=name, runner=runner, phase="train", samples_per_s=sps[key],
                        epoch_seconds_runs=[round(v, 3) for v in times[key]],
                        ratio_to_plain_torch=sps[key] / sps["plain"])
            results.add(model=name, runner=runner, phase="inference", batch_size=256,
                        samples_per_s=infer_sigest if key == "sigest" else infer_plain,
                        latency_ms_one_epoch=1000 * statistics.median(
                            lat_sigest if key == "sigest" else lat_plain))
        print(f"{name}: train sigest {sps['sigest']:.1f}/s, plain {sps['plain']:.1f}/s, ratio "
              f"{sps['sigest'] / sps['plain']:.3f}; inference {infer_sigest:.1f}/s vs "
              f"{infer_plain:.1f}/s", flush=True)
        results.write()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=HELP_EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run (< 5 min)")
    parser.add_argument("--speed", action="store_true", help="only item 5: speed measurements")
    parser.add_argument("--protocol", choices=("here", "paper"), default="here")
    parser.add_argument("--models", nargs="*", choices=MODELS + AUGMENTED + OPTIONED,
                        metavar="MODEL", help="subset of learned models: %(choices)s")
    parser.add_argument("--data", help="data folder (default $SIGEST_DATA or ../shared/data)")
    parser.add_argument("--seeds", type=int, nargs="*", help="run only these seeds")
    parser.add_argument("--variant", choices=("yes", "no", "only"), default="yes",
                        help="the +bonn+eegmmidb EOG variant")
    parser.add_argument("--tasks", nargs="*", default=("EOG", "EMG"), choices=("EOG", "EMG"))
    parser.add_argument("--tune", nargs="*", choices=tuple(TUNE_GRIDS),
                        help="also the stretch rows: GridSearchCV on the validation split "
                             "over TUNE_GRIDS (default: cheap), refitted, tested")
    parser.add_argument("--tune-jobs", type=int, default=None,
                        help="GridSearchCV n_jobs for --tune (one torch thread per job)")
    parser.add_argument("--budget", choices=tuple(BUDGETS), default="small",
                        help="training budget: small (default; eeg_denoising.json) or another "
                             "(eeg_denoising_<budget>.json); see below")
    parser.add_argument("--part", help="write <results>_part-PART.json (for --merge)")
    parser.add_argument("--merge", action="store_true",
                        help="merge eeg_denoising.json with the part files")
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted run of the same command: keep the rows "
                             "its results file has, skip those fits, and continue the fit that "
                             "was running from its last complete epoch (sigest.resume.Resume; "
                             "states in benchmarks/checkpoints/, deleted once a fit's rows are "
                             "written); the result equals an uninterrupted run's")
    parser.add_argument("--verbose", action="store_true",
                        help="print every training epoch (loss, validation loss, seconds): "
                             "progress of the long fits")
    args = parser.parse_args(argv)
    if args.resume and args.tune is not None:
        parser.error("--resume continues the fits of the model list, not --tune searches; "
                     "got both")
    if args.tune == []:
        args.tune = ["cheap"]
    torch.set_num_threads(1)
    os.environ.setdefault("SIGEST_DATA", str(Path(args.data) if args.data else data_dir()))
    if args.speed:
        return run_speed(args)
    if args.merge:
        return merge_parts(args)
    if args.protocol == "paper":
        return run_paper_protocol(args)
    cfg = QUICK if args.quick else BUDGETS[args.budget]
    return run_benchmark(args, dict(cfg, verbose=int(args.verbose)))


if __name__ == "__main__":
    main()
