"""EEG synthesis on the Bonn epilepsy data (UCI 178-sample layout): fidelity and usefulness.

Data: ``sigest.datasets.load_bonn(layout="uci")`` — 500 segments x 23 chunks of 178 samples
(173.61 Hz), 5 classes (1 = seizure S, 2 = F, 3 = N, 4 = O, 5 = Z). One split by source segment,
stratified by set: 70 % of the segments of each set train, 30 % test, so the chunks of one segment
never fall on both sides.

Fidelity: each generator config is trained class-conditionally on all training chunks under the
same wall-clock budget (``--budget`` seconds, one thread; epochs reached are reported), then as
many synthetic chunks as real test chunks, with the test labels, are compared with the real test
chunks: ``psd_distance`` (dB, mean over delta..gamma and the 5 classes; per band too), ``swd``,
``fd`` (Frechet distance on the embedding of a CNN trained on real training chunks), ``c2st_auc``
(5-fold, real vs synthetic, HistGradientBoosting on spectral features; also on the log spectrum
alone, the amplitude statistics alone and per set: ``c2st_auc_S`` .. ``c2st_auc_Z``) and TSTR vs
TRTR (5-class accuracy, same classifier). A ``real-train`` row measures the real training chunks
the same way: the floor each metric can reach.

Usefulness: seizure (S) vs rest. Per seed, 5 % of the non-seizure training segments and 16
seizure chunks drawn from 4 seizure segments (seizure about 5 % of the chunks) train a small
classifier, as is, with random oversampling, or with ``fit_resample`` of a generator fitted on
that small set (``--small-budget`` seconds); balanced accuracy on all real test chunks.

Full mode (``python benchmarks/eeg_synthesis.py``): the seed's two architectures with the plain
and the WGAN-GP loss, WaveGAN (WGAN-GP) with the random crop, and the best sigest config (dense
WGAN-GP generator with spectral synthesis, mains line, weight averaging and band-power loss),
6 configs x ``--budget`` 600 s + metrics, then
3 seeds x the same plain-loss pair and the best config x 90 s: 76 min measured (one thread,
beside one other benchmark process on the 2 cores). The other configs of ``CONFIGS`` are the
ablations that led there; name them with ``--configs``.
``--configs`` / ``--no-usefulness`` / ``--no-fidelity`` / ``--part`` run a subset into
``eeg_synthesis_<part>.json``; ``--useful-configs`` picks the generators of the usefulness test.
``--generator-seed N`` repeats a fidelity run with another generator; ``--merge PART ...
--part NAME`` then puts the runs' fidelity rows in one file, with mean and std per config.
``--quick``: 15 s / 8 s budgets, 1 seed, subsampled metrics: a few minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # HistGradientBoosting: one thread, like torch

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import balanced_accuracy_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, Results, data_dir, markdown_table, merge_parts  # noqa: E402

from sigest.base import TimeBudget  # noqa: E402
from sigest.datasets import load_bonn  # noqa: E402
from sigest.estimators.generators import (  # noqa: E402
    GANGenerator,
    GeneratorEMA,
    WaveGANGenerator,
)
from sigest.estimators.tiny import TinyClassifier  # noqa: E402
from sigest.generative_metrics import (  # noqa: E402
    EEG_BANDS,
    EmbeddingClassifier,
    SpectralFeatures,
    c2st_auc,
    feature_classifier,
    frechet_distance,
    psd_distance,
    sliced_wasserstein_distance,
    tstr_trtr,
    welch_psd,
)

CHECKPOINTS = Path(__file__).resolve().parent / "checkpoints"
SFREQ = 173.61
CLASS_NAMES = {1: "S (seizure)", 2: "F", 3: "N", 4: "O", 5: "Z"}
CLASS_KEYS = {label: name[0] for label, name in CLASS_NAMES.items()}  # Bonn's set letters
WGAN = {"loss": "wgan-gp", "n_critic": 5, "lr": 1e-4, "optimizer__betas": (0.5, 0.9)}
TTUR = {**WGAN, "n_critic": 1, "lr_discriminator": 4e-4}
# the spectral-synthesis family, each config the one before plus one change
SPECTRAL_SYNTHESIS = {**WGAN, "module__dropout": 0.0, "spectral_weight": 1.0,
                      "module__spectral_critic": True, "module__synthesis": "spectral"}
MAINS = {**SPECTRAL_SYNTHESIS, "line_freq": 50.0, "sfreq": SFREQ}
MAINS_EMA = {**MAINS, "ema": 0.999}  # the decay of a GeneratorEMA callback (make_generator)
MAINS_EMA_BANDS = {**MAINS_EMA, "spectral_bands": 8}  # BEST_CONFIG's; its variants change one
# the extras both architectures accept, for the like-for-like pair
EMA_BANDS = {"spectral_weight": 1.0, "spectral_bands": 8, "ema": 0.999}
CONFIGS = {  # name -> (registry name, estimator class, parameters)
    "gan": ("gan", GANGenerator, {}),
    "gan-wgan-gp": ("gan", GANGenerator, {**WGAN, "module__dropout": 0.0}),
    "wavegan": ("wavegan", WaveGANGenerator, {}),
    "wavegan-wgan-gp": ("wavegan", WaveGANGenerator, dict(WGAN)),
    # two time-scale rule (Heusel et al. 2017): one critic step at 4x the generator's lr, so a
    # wall-clock budget buys ~5x the generator steps of n_critic=5
    "gan-wgan-gp-ttur": ("gan", GANGenerator, {**TTUR, "module__dropout": 0.0}),
    "wavegan-wgan-gp-ttur": ("wavegan", WaveGANGenerator, dict(TTUR)),
    # nearest-neighbour upsampling then a convolution instead of transposed convolutions, whose
    # stride-4 overlaps leave periodic (checkerboard) artefacts at multiples of sfreq / 4
    "wavegan-wgan-gp-nearest": ("wavegan", WaveGANGenerator,
                                {**WGAN, "module__upsample": "nearest"}),
    # WaveGAN as its paper builds it: no batch normalisation in the generator (the seed's
    # networks have it); batch statistics couple the epochs of a batch, a suspect for WaveGAN's
    # high sliced Wasserstein distance
    "wavegan-wgan-gp-nobn": ("wavegan", WaveGANGenerator, {**WGAN, "module__batch_norm": False}),
    # a spectral term in the generator's loss (log mean periodogram and spread of log power, per
    # class): the log spectrum is what tells every generator's epochs from real ones (C2ST ~1.0)
    "gan-wgan-gp-spectral": ("gan", GANGenerator,
                             {**WGAN, "module__dropout": 0.0, "spectral_weight": 1.0}),
    "wavegan-wgan-gp-spectral": ("wavegan", WaveGANGenerator, {**WGAN, "spectral_weight": 1.0}),
    # ten times the spectral weight: the loss averages ~90 bins, so the few bins still wrong
    # (near Nyquist, 50-80 Hz in seizures) weigh little at weight 1
    "gan-wgan-gp-spectral10": ("gan", GANGenerator,
                               {**WGAN, "module__dropout": 0.0, "spectral_weight": 10.0}),
    # WaveGAN's learned post-processing filter (31 taps here) on the output: one linear step
    # can remove the flat noise floor above Bonn's 40-Hz low-pass that gives epochs away
    "gan-wgan-gp-spectral-postfilter": ("gan", GANGenerator,
                                        {**WGAN, "module__dropout": 0.0, "spectral_weight": 1.0,
                                         "module__post_filter": 31}),
    "wavegan-wgan-gp-postfilter": ("wavegan", WaveGANGenerator,
                                   {**WGAN, "module__post_filter": 31}),
    # with the mean spectrum matched, C2ST still separates on how each epoch's spectrum varies,
    # which a loss on batch statistics cannot see: a critic branch that reads each epoch's log
    # power spectrum can
    "gan-wgan-gp-spectral-critic": ("gan", GANGenerator,
                                    {**WGAN, "module__dropout": 0.0, "spectral_weight": 1.0,
                                     "module__post_filter": 31, "module__spectral_critic": True}),
    # per-epoch spectra of the synthetic chunks vary too little (an exploratory check: log Welch
    # power's spread across epochs 0.53-0.57 against 0.61-0.82 real): match the covariance of
    # 8 log band powers
    "gan-wgan-gp-spectral-bands": ("gan", GANGenerator,
                                   {**WGAN, "module__dropout": 0.0, "spectral_weight": 1.0,
                                    "spectral_bands": 8, "module__post_filter": 31,
                                    "module__spectral_critic": True}),
    # the real chunks' power above the 40-Hz low-pass is a nearly constant floor from epoch to
    # epoch (Z: 45-55 Hz power of the quietest recording 0.83x the median), unlike their EEG band;
    # a learned coloured noise per class, added independently of the latent signal, can be that
    "gan-wgan-gp-spectral-critic-floor": ("gan", GANGenerator,
                                          {**WGAN, "module__dropout": 0.0, "spectral_weight": 1.0,
                                           "module__post_filter": 31,
                                           "module__spectral_critic": True,
                                           "module__noise_floor": 31}),
    # every refuted fix above shapes a waveform made sample by sample; here the last layer makes
    # each epoch's amplitude spectrum and the epoch is a random draw with it (an exploratory
    # check: such draws with the real training epochs' own spectra pass the C2ST below 35 Hz)
    "gan-wgan-gp-spectral-synthesis": ("gan", GANGenerator, SPECTRAL_SYNTHESIS),
    # the scalp sets (Z, O) carry 50-Hz mains, a steady sinusoid that a random draw can only
    # give a random amplitude (an exploratory check: its high band scores C2ST 0.98 as a draw,
    # 0.82 with a sinusoid of the epoch's own amplitude added); a learned line component adds it
    "gan-wgan-gp-spectral-synthesis-mains": ("gan", GANGenerator, MAINS),
    # the last step's generator wanders (an exploratory look at the 2,400-s mains run: every
    # class's band powers 0.1-0.5 log10 units too high, PSD distance 1.8 after 0.65 at 600 s);
    # sample from the average of the last ~1,000 generator steps instead
    "gan-wgan-gp-spectral-synthesis-mains-ema": ("gan", GANGenerator, MAINS_EMA),
    # with the average generator the low bands match in level; above 30 Hz each epoch's log
    # power still varies too little between epochs (an exploratory look: SD 0.27-0.42 against
    # 0.42-0.60 real), so its mean log power sits too high while its log mean power is right:
    # match the mean and covariance of log band powers (spectral_bands) too
    "gan-wgan-gp-spectral-synthesis-mains-ema-bands": ("gan", GANGenerator, MAINS_EMA_BANDS),
    # the spectral term ten times heavier: an exploratory per-feature look at the 600-s run of
    # the config above still finds the typical epoch's log power at 40-60 Hz 0.15-0.2 log10
    # units too high in every class (single-bin AUC 0.57-0.62), a term worth ~0.05 at weight 1.
    # Refuted at 600 s (--part w10): the gap stays, C2ST 0.844 against 0.832
    "gan-wgan-gp-spectral-synthesis-mains-ema-bands-w10": (
        "gan", GANGenerator, {**MAINS_EMA_BANDS, "spectral_weight": 10.0}),
    # the same with a shorter average (~100 generator steps): an exploratory look finds the
    # average of ~1,000 steps 0.1 log10 units louder above 38 Hz than the training data in every
    # class at 600 and 2,400 s, where the last step's generator is within 0.01 in two classes.
    # Refuted at 600 s (--part ema99): the gap stays, C2ST 0.840
    "gan-wgan-gp-spectral-synthesis-mains-ema99-bands": (
        "gan", GANGenerator, {**MAINS_EMA_BANDS, "ema": 0.99}),
    # the two architectures like for like, with the extras that apply to both (spectral term
    # with bands, weight averaging): does WaveGAN's convolutional generator win then?
    "gan-wgan-gp-ema-bands": ("gan", GANGenerator, {**WGAN, "module__dropout": 0.0, **EMA_BANDS}),
    "wavegan-wgan-gp-ema-bands": ("wavegan", WaveGANGenerator, {**WGAN, **EMA_BANDS}),
    "wavegan-wgan-gp-spectral-critic": ("wavegan", WaveGANGenerator,
                                        {**WGAN, "spectral_weight": 1.0, "module__post_filter": 31,
                                         "module__spectral_critic": True}),
    # WaveGAN's epochs depend on the sample's position (an exploratory look at the 600-s
    # wavegan-wgan-gp: the time-locked mean spans 2.5 real standard deviations and the spread
    # per position 0.2-2.6 of it, against 0.08 and 0.92-1.09 real; the dense GAN's 0.55 and
    # 0.96-1.37), which the sliced Wasserstein distance sees: cut each epoch at a random offset.
    # Holds over 3 generator seeds at 600 s (--part random-crop-3seeds): SWD 0.43 -> 0.14,
    # TSTR 0.35 -> 0.49, FD 26 -> 20
    "wavegan-wgan-gp-random-crop": ("wavegan", WaveGANGenerator,
                                    {**WGAN, "module__random_crop": True}),
    # and with the extras WaveGAN accepts that helped the dense GAN's spectrum (spectral term
    # with bands, critic's spectrum branch, weight averaging): the waveform generator that can
    # make spiky, non-Gaussian epochs, with its spectrum pulled into place.
    # Refuted at 600 s (--part random-crop-extras): PSD distance 2.40 and C2ST 1.00, against
    # 1.47 and 0.998 with the random crop alone
    "wavegan-wgan-gp-random-crop-critic-ema-bands": (
        "wavegan", WaveGANGenerator, {**WGAN, **EMA_BANDS, "module__random_crop": True,
                                      "module__spectral_critic": True}),
}
BEST_CONFIG = "gan-wgan-gp-spectral-synthesis-mains-ema-bands"
DEFAULT_CONFIGS = (
    "gan", "gan-wgan-gp", "wavegan", "wavegan-wgan-gp", "wavegan-wgan-gp-random-crop", BEST_CONFIG)
# the seed's two with the cheaper loss (more steps in a short budget), and the best config
USEFUL_CONFIGS = ("gan", "wavegan", BEST_CONFIG)


def make_generator(config, budget, seed, max_epochs=100000):
    _, cls, params = CONFIGS[config]
    params = dict(params)
    callbacks = [TimeBudget(budget)]
    if "ema" in params:
        callbacks.append(GeneratorEMA(params.pop("ema")))
    return cls(max_epochs=max_epochs, random_state=seed, callbacks=callbacks, **params)


def split_by_segment(y, groups, test_fraction=0.3, seed=0):
    """Train/test chunk masks: per class, a fraction of the source segments goes to test."""
    rng = np.random.default_rng(seed)
    test_segments = []
    for label in np.unique(y):
        segments = np.unique(groups[y == label])
        n_test = int(round(test_fraction * len(segments)))
        test_segments += list(rng.choice(segments, n_test, replace=False))
    test = np.isin(groups, test_segments)
    return ~test, test


def fidelity_metrics(X_real, y_real, X_fake, y_fake, embedding, n_c2st, seed):
    per_class = [psd_distance(X_real[y_real == c], X_fake[y_fake == c], SFREQ, per_band=True)
                 for c in np.unique(y_real)]
    row = {"psd_distance": float(np.mean([d["mean"] for d in per_class]))}
    for band in EEG_BANDS:
        row[f"psd_{band}"] = float(np.mean([d[band] for d in per_class]))
    row["swd"] = sliced_wasserstein_distance(X_real, X_fake, random_state=seed)
    row["fd"] = frechet_distance(X_real, X_fake, embedding=embedding)
    rng = np.random.default_rng(seed)
    ir = rng.choice(len(X_real), min(n_c2st, len(X_real)), replace=False)
    i_f = rng.choice(len(X_fake), min(n_c2st, len(X_fake)), replace=False)
    row["c2st_auc"] = c2st_auc(X_real[ir], X_fake[i_f], sfreq=SFREQ, random_state=seed)
    # which feature group gives the synthetic epochs away: the log spectrum or the amplitude
    # statistics (std, skewness, kurtosis, line length, range, zero crossings)
    for group in ("spectrum", "stats"):
        row[f"c2st_auc_{group}"] = c2st_auc(
            X_real[ir], X_fake[i_f], random_state=seed,
            classifier=feature_classifier(SFREQ, random_state=seed, features=group))
    # and in which class: real vs synthetic chunks of one set at a time (a mixture's C2ST can
    # hide one bad class behind the differences between the others)
    for c in np.unique(y_real):
        real_c, fake_c = X_real[y_real == c], X_fake[y_fake == c]
        n = min(n_c2st, len(real_c), len(fake_c))
        row[f"c2st_auc_{CLASS_KEYS[c]}"] = c2st_auc(
            real_c[rng.choice(len(real_c), n, replace=False)],
            fake_c[rng.choice(len(fake_c), n, replace=False)], sfreq=SFREQ, random_state=seed)
    return row


def plot_examples(real_test, y_test, samples, path):
    classes = sorted(CLASS_NAMES)
    cols = ["real"] + list(samples)
    fig, axes = plt.subplots(len(classes), len(cols), figsize=(3.2 * len(cols), 1.6 * len(classes)),
                             sharex=True, sharey="row")
    t = np.arange(real_test.shape[-1]) / SFREQ
    rng = np.random.default_rng(0)
    for i, c in enumerate(classes):
        for j, name in enumerate(cols):
            X, y = (real_test, y_test) if name == "real" else samples[name]
            pick = rng.choice(np.flatnonzero(y == c), 2, replace=False)
            for k in pick:
                axes[i, j].plot(t, X[k], lw=0.6)
            if i == 0:
                axes[i, j].set_title(name, fontsize=9)
            if j == 0:
                axes[i, j].set_ylabel(CLASS_NAMES[c], fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("s")
    fig.suptitle("Bonn UCI chunks: real (test) vs synthetic, two per class", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_psds(real_test, y_test, samples, path):
    classes = sorted(CLASS_NAMES)
    fig, axes = plt.subplots(1, len(classes), figsize=(3.2 * len(classes), 3), sharey=True)
    for ax, c in zip(axes, classes):
        for name, (X, y) in {"real": (real_test, y_test), **samples}.items():
            f, p = welch_psd(X[y == c], SFREQ)
            ax.semilogy(f, p.mean(axis=(0, 1)), lw=1.5 if name == "real" else 0.9,
                        color="k" if name == "real" else None, label=name)
        ax.set_title(CLASS_NAMES[c], fontsize=9)
        ax.set_xlabel("Hz")
    axes[0].set_ylabel("mean Welch PSD (ADC units^2/Hz)")
    axes[-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def small_imbalanced_subset(y_tr, g_tr, seed, rest_fraction=0.05, n_seizure_segments=4,
                            n_seizure_chunks=16):
    rng = np.random.default_rng(1000 + seed)
    rest_segments = np.unique(g_tr[y_tr != 1])
    seiz_segments = np.unique(g_tr[y_tr == 1])
    rest_pick = rng.choice(rest_segments, max(1, round(rest_fraction * len(rest_segments))),
                           replace=False)
    seiz_pick = rng.choice(seiz_segments, n_seizure_segments, replace=False)
    rest_idx = np.flatnonzero(np.isin(g_tr, rest_pick))
    seiz_pool = np.flatnonzero(np.isin(g_tr, seiz_pick))
    seiz_idx = rng.choice(seiz_pool, min(n_seizure_chunks, len(seiz_pool)), replace=False)
    return np.sort(np.concatenate([rest_idx, seiz_idx]))


def seizure_classifiers(scale, seed):
    return {
        "spectral-logreg": make_pipeline(SpectralFeatures(SFREQ), StandardScaler(),
                                         LogisticRegression(max_iter=2000)),
        "tiny-conv-classifier": _Scaled(TinyClassifier(max_epochs=40, random_state=seed), scale),
    }


class _Scaled:
    """Divide signals by a fixed scale (ADC units -> about unit variance) before a classifier."""

    def __init__(self, clf, scale):
        self.clf, self.scale = clf, scale

    def fit(self, X, y):
        self.clf.fit((X / self.scale).astype(np.float32), y)
        return self

    def predict(self, X):
        return self.clf.predict((X / self.scale).astype(np.float32))


def random_oversample(X, y, seed):
    rng = np.random.default_rng(seed)
    labels, counts = np.unique(y, return_counts=True)
    X_parts, y_parts = [X], [y]
    for label, n in zip(labels, counts):
        extra = rng.choice(np.flatnonzero(y == label), counts.max() - n, replace=True)
        X_parts.append(X[extra])
        y_parts.append(y[extra])
    return np.concatenate(X_parts), np.concatenate(y_parts)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run (a few minutes)")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds of training per generator config (full 600, quick 15)")
    parser.add_argument("--small-budget", type=float, default=None,
                        help="seconds per fit_resample generator (full 90, quick 8)")
    parser.add_argument("--seeds", type=int, default=None, help="usefulness seeds (3; quick 1)")
    parser.add_argument("--path", default=None, help="bonn-eeg folder (default $SIGEST_DATA)")
    parser.add_argument("--configs", nargs="+", choices=tuple(CONFIGS), default=DEFAULT_CONFIGS,
                        help=f"fidelity configs to train (default: {' '.join(DEFAULT_CONFIGS)})")
    parser.add_argument("--generator-seed", type=int, default=0,
                        help="random_state of the fidelity generators and their samples (0); "
                             "the metrics' own seeds stay fixed, so runs differ by the "
                             "generator only")
    parser.add_argument("--no-usefulness", action="store_true", help="fidelity only")
    parser.add_argument("--no-fidelity", action="store_true",
                        help="usefulness only (no fidelity configs trained)")
    parser.add_argument("--useful-configs", nargs="+", choices=tuple(CONFIGS),
                        default=USEFUL_CONFIGS,
                        help="generators used by fit_resample in the usefulness test "
                             f"(default: {' '.join(USEFUL_CONFIGS)})")
    parser.add_argument("--part", default="",
                        help="write eeg_synthesis_<part>.json (a run of some configs)")
    parser.add_argument("--merge", nargs="+", metavar="PART", default=None,
                        help="combine the fidelity rows of eeg_synthesis_<PART>.json files "
                             "(runs of the same budget with other --generator-seed values) "
                             "into eeg_synthesis_<--part>.json, with mean and std per config")
    args = parser.parse_args()
    if args.merge:
        if not args.part:
            parser.error("--merge needs --part, the name of the merged file")
        return merge_fidelity(args.merge, args.part)
    if args.no_fidelity and args.no_usefulness:
        parser.error("--no-fidelity with --no-usefulness leaves nothing to run")
    torch.set_num_threads(1)
    quick = args.quick
    budget = args.budget or (15.0 if quick else 600.0)
    small_budget = args.small_budget or (8.0 if quick else 90.0)
    n_seeds = args.seeds or (1 if quick else 3)
    n_eval = 600 if quick else None  # real test chunks used for fidelity (None = all)
    n_c2st = 400 if quick else 2000

    path = args.path or (data_dir() / "bonn-eeg")
    X, y, groups = load_bonn(layout="uci", path=path)
    train, test = split_by_segment(y, groups)
    X_tr, y_tr, g_tr = X[train], y[train], groups[train]
    X_te, y_te = X[test], y[test]
    if n_eval:
        pick = np.random.default_rng(0).choice(len(X_te), n_eval, replace=False)
        X_te, y_te = X_te[pick], y_te[pick]
    print(f"train {len(X_tr)} chunks / {len(np.unique(g_tr))} segments, test {len(X_te)} chunks",
          flush=True)

    part = f"_{args.part}" if args.part else ""
    stem = f"eeg_synthesis{part}"
    results = Results(
        stem, data=f"bonn-eeg UCI layout ({path}), 11500 x 178 at 173.61 Hz",
        protocol="; ".join(
            ["split by source segment, 70/30 per set (split seed 0)"]
            + ([] if args.no_fidelity else [
                f"fidelity: generators conditional on the 5 sets, {budget:.0f} s wall-clock "
                f"budget each on 1 thread, {len(X_te)} real test chunks vs as many synthetic"])
            + ([] if args.no_usefulness else [
                f"usefulness: seizure vs rest, ~5% of training segments with seizure ~5% of "
                f"chunks, {n_seeds} seeds, fit_resample generators {small_budget:.0f} s each"])),
        quick=quick)
    suffix = part + ("_quick" if quick else "")
    keys = ["model", "config", "loss", "test", "classifier", "augmentation", "seed", "epochs",
            "fit_seconds", "psd_distance", "swd", "fd", "c2st_auc", "tstr_accuracy",
            "trtr_accuracy", "balanced_accuracy"]

    t0 = time.perf_counter()
    if not args.no_fidelity:
        run_fidelity(args, X_tr, y_tr, X_te, y_te, results, keys, budget, n_c2st, quick, suffix)

    # ------------------------------------------------------------------ usefulness
    yb_te = (y[test] == 1).astype(int)
    X_te_all = X[test]
    scale = float(X_tr.std())
    for seed in range(0 if args.no_usefulness else n_seeds):
        idx = small_imbalanced_subset(y_tr, g_tr, seed)
        Xs, ys = X_tr[idx], (y_tr[idx] == 1).astype(int)
        variants = {"none": (Xs, ys), "random-oversample": random_oversample(Xs, ys, seed)}
        gen_seconds = {}
        for config in args.useful_configs:
            gen = make_generator(config, small_budget, seed)
            t = time.perf_counter()
            variants[config] = gen.fit_resample(Xs, ys)
            gen_seconds[config] = (time.perf_counter() - t, len(gen.history))
            assert np.array_equal(variants[config][0][: len(Xs)], Xs)
        for clf_name in ("spectral-logreg", "tiny-conv-classifier"):
            for aug, (Xa, ya) in variants.items():
                clf = seizure_classifiers(scale, seed)[clf_name]
                t = time.perf_counter()
                clf.fit(Xa, ya)
                bacc = balanced_accuracy_score(yb_te, clf.predict(X_te_all))
                extra = {}
                if aug in gen_seconds:
                    extra = {"model": CONFIGS[aug][0], "generator_seconds": gen_seconds[aug][0],
                             "epochs": gen_seconds[aug][1]}
                results.add(test="usefulness", classifier=clf_name, augmentation=aug, seed=seed,
                            n_train=len(ys), n_seizure=int(ys.sum()), n_after=len(ya),
                            balanced_accuracy=float(bacc),
                            fit_seconds=time.perf_counter() - t, **extra)
                print(f"seed {seed} {clf_name} {aug}: balanced accuracy {bacc:.3f}", flush=True)
        results.write(keys)

    results.rows = [r for r in results.rows if r.get("seed") != "mean"]
    results.add_mean_rows(["test", "classifier", "augmentation"], ["balanced_accuracy"])
    results.rows = [r for r in results.rows
                    if not (r.get("seed") == "mean" and r.get("test") != "usefulness")]
    results.write(keys, extra_md=summary_md(results.rows))
    print(f"done in {time.perf_counter() - t0:.0f} s", flush=True)


def run_fidelity(args, X_tr, y_tr, X_te, y_te, results, keys, budget, n_c2st, quick, suffix):
    """Train each fidelity config, score its samples against the real test chunks."""
    t0 = time.perf_counter()
    embedding = EmbeddingClassifier(max_epochs=3 if quick else 15, random_state=0).fit(X_tr, y_tr)
    emb_acc = float(np.mean(embedding.predict(X_te) == y_te))
    print(f"embedding CNN: {time.perf_counter() - t0:.0f} s, test accuracy {emb_acc:.3f}",
          flush=True)

    tt = tstr_trtr(X_tr, y_tr, None, None, X_te, y_te, sfreq=SFREQ)
    rs = np.random.default_rng(0).choice(len(X_tr), len(X_te), replace=False)
    print(f"TRTR {tt}", flush=True)
    real_row = fidelity_metrics(X_te, y_te, X_tr[rs], y_tr[rs], embedding, n_c2st, seed=0)
    results.add(model="real-train", config="real-train", test="fidelity", seed=0, **real_row,
                tstr_accuracy=tt["trtr_accuracy"], trtr_accuracy=tt["trtr_accuracy"],
                tstr_balanced_accuracy=tt["trtr_balanced_accuracy"],
                trtr_balanced_accuracy=tt["trtr_balanced_accuracy"],
                embedding_test_accuracy=emb_acc)
    results.write(keys)
    print("real-train", real_row, flush=True)

    samples = {}
    for config in args.configs:
        seed = args.generator_seed
        gen = make_generator(config, budget, seed)
        t = time.perf_counter()
        gen.fit(X_tr, y_tr)
        fit_s = time.perf_counter() - t
        X_fake = gen.sample(len(y_te), y=y_te, random_state=seed)
        y_syn = y_tr
        X_syn = gen.sample(len(y_syn), y=y_syn, random_state=seed + 1)
        row = fidelity_metrics(X_te, y_te, X_fake, y_te, embedding, n_c2st, seed=0)
        row.update(tstr_trtr(None, None, X_syn, y_syn, X_te, y_te, sfreq=SFREQ))
        row["trtr_accuracy"] = tt["trtr_accuracy"]
        row["trtr_balanced_accuracy"] = tt["trtr_balanced_accuracy"]
        hist = gen.history
        results.add(model=CONFIGS[config][0], config=config, loss=gen.loss, test="fidelity",
                    seed=seed, epochs=len(hist), fit_seconds=fit_s,
                    final_loss_g=hist[-1, "train_loss"], final_loss_d=hist[-1, "train_loss_d"],
                    **row)
        results.write(keys)
        # kept (git-ignored) so a fitted generator can be sampled again without refitting
        (CHECKPOINTS / f"eeg_synthesis{suffix}").mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():  # the TimeBudget callback is not stored; that is fine
            warnings.simplefilter("ignore", UserWarning)
            gen.save(CHECKPOINTS / f"eeg_synthesis{suffix}" / f"{config}.zip")
        samples[config] = (X_fake, y_te)
        print(config, f"{len(hist)} epochs {fit_s:.0f} s", {k: round(v, 3) for k, v in row.items()},
              flush=True)
    plot_examples(X_te, y_te, samples, RESULTS / f"eeg_synthesis{suffix}_epochs.png")
    plot_psds(X_te, y_te, samples, RESULTS / f"eeg_synthesis{suffix}_psd.png")


def merge_fidelity(parts, name):
    """``eeg_synthesis_<name>.json`` from the fidelity rows of part files run with the same
    protocol: each (config, generator seed) once, then mean and std over the seeds."""
    files = [RESULTS / f"eeg_synthesis_{part}.json" for part in parts]
    missing = [f.name for f in files if not f.exists()]
    if missing:
        raise SystemExit(f"--merge: no such results file in {RESULTS}: {', '.join(missing)}")
    protocols = {json.loads(f.read_text())["protocol"] for f in files}
    if len(protocols) > 1:
        raise SystemExit(f"--merge: the parts ran different protocols: {sorted(protocols)}")
    command = f"python benchmarks/eeg_synthesis.py --merge {' '.join(parts)} --part {name}"
    results = merge_parts(f"eeg_synthesis_{name}", ("config", "seed"), files=files,
                          merge_command=command)
    results.rows = [r for r in results.rows if r.get("test") == "fidelity"]
    metrics = ["epochs", "psd_distance", "swd", "fd", "c2st_auc", "tstr_accuracy",
               *[f"c2st_auc_{k}" for k in CLASS_KEYS.values()]]
    results.add_mean_rows(["config"], metrics)
    means = [r for r in results.rows if r.get("seed") == "mean"]
    columns = ["config", "n"] + [c for m in metrics for c in (m, f"{m}_std")
                                 if not m.startswith("c2st_auc_")]
    results.write(["config", "seed", "epochs", "psd_distance", "swd", "fd", "c2st_auc",
                   "tstr_accuracy"],
                  extra_md="\n".join(["", "## Mean and std over generator seeds", "",
                                       markdown_table(means, columns), ""]))
    print(markdown_table(means, columns), flush=True)


def summary_md(rows):
    fid = [r for r in rows if r.get("test") == "fidelity"]
    use = [r for r in rows if r.get("test") == "usefulness" and r.get("seed") == "mean"]
    lines = ["", "## Fidelity (lower is better except TSTR; c2st_auc 0.5 is ideal)", "",
             markdown_table(fid, ["config", "epochs", "fit_seconds", "psd_distance",
                                  *[f"psd_{b}" for b in EEG_BANDS], "swd", "fd", "c2st_auc",
                                  "c2st_auc_spectrum", "c2st_auc_stats", "tstr_accuracy",
                                  "trtr_accuracy"]),
             "", "## C2ST per class (real vs synthetic chunks of one Bonn set)", "",
             markdown_table(fid, ["config", *[f"c2st_auc_{k}" for k in CLASS_KEYS.values()]]),
             "", "## Usefulness: seizure vs rest, balanced accuracy on real test segments", "",
             markdown_table(use, ["classifier", "augmentation", "n", "balanced_accuracy",
                                  "balanced_accuracy_std"]),
             "", "Published: the seed trained its GANs 2000-5000 epochs and judged them by eye "
             "and losses only (no numbers to compare).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
