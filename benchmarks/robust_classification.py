"""Classification under muscle noise: does TS-STDN's denoising training make it robust?

Two tasks, each scored on clean test epochs and on test epochs contaminated with NSTDB ``ma``
(muscle) noise at -8, -4 and 0 dB, drawn from the *test* part of the noise record (the last
20 % of it; training augmentation draws from the first 80 %). Every model is trained once on
clean epochs and once with noise augmentation (new noisy copies per batch; the feature
baseline gets noisy copies of its training set). ``--augmentations nstdb-ma-half`` adds a third
training: each epoch of a batch contaminated with probability 1/2, the rest left clean.

- ``sleep``: Sleep-EDF-20 Fpz-Cz (``sleep-edf-5s``: 5 s of every 30-s epoch, 100 Hz), subject-wise
  folds (``sigest.model_selection.SubjectKFold``, one validation subject drawn from each
  fold's training side for early stopping). Models ``ts-stdn``, ``freqcut-sleep`` (reduced
  size, as in ``sleep_staging.py``), ``braindecode-sleepstagerchambon2018`` and the
  denoise-then-classify pipeline ``make_pipeline(<denoiser>, braindecode-sleepstagerchambon2018)``
  (the denoiser trained on clean training epochs with the training noise). Metric: macro-F1.
- ``motor``: eegmmidb left vs right fist (real movement, runs R03/R07/R11), 64 channels,
  0-4 s after the cue, decimated to 80 Hz; leave-one-run-out on S001 (3 folds) and S001 -> S003
  (train on all three S001 runs, test on S003 R03). Noise on 6 of 10 electrode groups per epoch
  (TS-STDN's setting). Models ``ts-stdn``, ``braindecode-eegnet``,
  ``braindecode-shallowfbcspnet`` and ``fbcsp-lda`` (filter bank 4-32 Hz x mne CSP + shrinkage
  LDA in a scikit-learn pipeline). Metric: accuracy.

Run ``python benchmarks/robust_classification.py --task sleep`` and ``--task motor`` (in
parallel, one thread each), then ``--merge`` to write ``robust_classification.json`` / ``.md``
and the figure. ``--quick`` is a smoke run (minutes). Full-mode budgets are in ``--help``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, Results, data_dir, markdown_table  # noqa: E402

NAME = "robust_classification"
SNRS = (-8.0, -4.0, 0.0)
TRAIN_SNR = (-10.0, 5.0)
AUGMENTATIONS = {"none": 0.0, "nstdb-ma": 1.0, "nstdb-ma-half": 0.5}  # -> share contaminated
DEFAULT_AUGMENTATIONS = ("none", "nstdb-ma")
SLEEP_SFREQ = 100.0
MOTOR_SFREQ = 80.0  # eegmmidb's 160 Hz decimated by 2
FREQCUT_SMALL = {"module__dim": 64, "module__depth": 3, "module__heads": 4,
                 "module__dim_head": 16, "module__mlp_dim": 128}
SLEEP_MODELS = ("ts-stdn", "freqcut-sleep", "braindecode-sleepstagerchambon2018", "pipeline")
MOTOR_MODELS = ("ts-stdn", "braindecode-eegnet", "braindecode-shallowfbcspnet", "fbcsp-lda")


def budgets(quick, size="small"):
    if size == "large" and not quick:
        # sized for a quiet 2-core machine: about 15 min per sleep fold on one core
        large = budgets(False)
        large["sleep"] = {"folds": 6, "n_train": 4000, "n_valid": 600, "n_test": 1500,
                          "epochs": {"ts-stdn": 15, "freqcut-sleep": 15, "chambon": 25,
                                     "denoiser": 10}}
        return large
    if quick:
        return {"sleep": {"folds": 2, "n_train": 300, "n_valid": 150, "n_test": 300,
                          "epochs": {"ts-stdn": 2, "freqcut-sleep": 2, "chambon": 2,
                                     "denoiser": 2}},
                "motor": {"folds": ("R03", "S003"),
                          "epochs": {"ts-stdn": 3, "eegnet": 5, "shallow": 5}}}
    return {"sleep": {"folds": 3, "n_train": 800, "n_valid": 250, "n_test": 800,
                      "epochs": {"ts-stdn": 8, "freqcut-sleep": 6, "chambon": 15,
                                 "denoiser": 10}},
            "motor": {"folds": ("R03", "S003", "R07", "R11"),
                      "epochs": {"ts-stdn": 15, "eegnet": 30, "shallow": 30}}}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Full mode: sleep 3 subject-wise folds, 800 training / 250 validation / 800 "
               "test epochs per fold, at most 8 (ts-stdn), 6 (freqcut), 15 (chambon), 10 "
               "(denoiser) epochs, early stopping with patience 3 on the validation subject; "
               "motor 4 folds (R03 out, S001->S003, R07 out, R11 out), 15 (ts-stdn) / 30 "
               "(EEGNet, ShallowFBCSPNet) epochs. About 15 CPU-minutes per task (one thread); "
               "on a machine shared by many jobs, hours of wall time: results are written after "
               "every model, and --merge works on partial files. --quick: minutes.")
    parser.add_argument("--quick", action="store_true", help="smoke run (minutes)")
    parser.add_argument("--budget", choices=("small", "large"), default="small",
                        help="large: 6 sleep folds with 4000 training / 600 validation / 1500 "
                             "test epochs and up to 15 (ts-stdn, freqcut) / 25 (chambon) "
                             "epochs, into robust_classification_large*; the motor task "
                             "is the same at both sizes (its files are shared)")
    parser.add_argument("--sleep-folds", type=int, nargs="*", default=None,
                        help="run only these sleep folds; the results go to "
                             "<name>_sleep_<folds>.json, which --merge reads too")
    parser.add_argument("--task", choices=("sleep", "motor"), default=None,
                        help="run one task and write robust_classification_<task>[_quick]")
    parser.add_argument("--merge", action="store_true",
                        help="merge the task files into robust_classification[_quick] + figure")
    parser.add_argument("--models", nargs="*", default=None, help="subset of model names")
    parser.add_argument("--augmentations", nargs="+", choices=tuple(AUGMENTATIONS),
                        default=DEFAULT_AUGMENTATIONS,
                        help="training conditions (other than the default pair, the results "
                             "file name ends in their names)")
    parser.add_argument("--denoiser", default="fcnn",
                        help="registered denoiser of the sleep pipeline (default fcnn)")
    parser.add_argument("--data", type=Path, default=None, help="data folder ($SIGEST_DATA)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--motor-folds", nargs="*", default=None,
                        help="run only these motor folds (R03 S003 R07 R11); the results go to "
                             "robust_classification_motor_<folds>.json, which --merge reads too")
    return parser.parse_args(argv)


# ------------------------------------------------------------------------------- shared
def train_noise(sfreq, augmentation="nstdb-ma", **channel_kwargs):
    """The training noise of an augmentation condition; None for ``"none"``."""
    from sigest.noise import NoiseInjector

    if augmentation == "none":
        return None
    return NoiseInjector("nstdb-ma", snr_db=TRAIN_SNR, sfreq=sfreq, split="train",
                         data_path=data_dir(), probability=AUGMENTATIONS[augmentation],
                         **channel_kwargs)


def test_sets(X, sfreq, seed, **channel_kwargs):
    """``{None: X, snr: noisy X}``: test noise from the held-out part of the NSTDB record."""
    from sigest.noise import NoiseInjector

    sets = {None: X}
    for k, snr in enumerate(SNRS):
        injector = NoiseInjector("nstdb-ma", snr_db=snr, sfreq=sfreq, split="test",
                                 data_path=data_dir(), random_state=seed * 100 + k,
                                 **channel_kwargs)
        sets[snr] = injector.fit(X).transform(X).astype(np.float32)
    return sets


def score_all(results, model, predict, sets, y, base_row, metric):
    from sklearn.metrics import accuracy_score, f1_score

    for snr, X in sets.items():
        start = time.perf_counter()
        y_pred = predict(X)
        row = dict(base_row, model=model, test_noise="none" if snr is None else "nstdb-ma",
                   snr_db="clean" if snr is None else snr,
                   predict_seconds=round(time.perf_counter() - start, 2),
                   accuracy=float(accuracy_score(y, y_pred)),
                   macro_f1=float(f1_score(y, y_pred, average="macro", zero_division=0)))
        results.add(**row)
        print(f"  {model:40s} aug={base_row['augmentation']:9s} test={row['snr_db']!s:6s} "
              f"{metric}={row[metric]:.3f}", flush=True)


def early_stopping(valid):
    from skorch.callbacks import EarlyStopping
    from skorch.helper import predefined_split

    from sigest.base import SignalDataset

    return dict(train_split=predefined_split(SignalDataset(*valid)),
                callbacks=[("early_stopping", EarlyStopping(patience=3, load_best=True))])


def epochs_trained(est):
    try:
        return len(est.history)
    except AttributeError:
        return None


# -------------------------------------------------------------------------------- sleep
def sleep_models(names, budget, valid, seed, noise, denoiser):
    import sigest

    epochs = budget["epochs"]
    common = dict(random_state=seed, verbose=0, class_weight="balanced", noise=noise,
                  **early_stopping(valid))
    for name in names:
        if name == "ts-stdn":
            yield name, sigest.get_estimator(
                "ts-stdn", module__n_fft=int(SLEEP_SFREQ), max_epochs=epochs["ts-stdn"],
                batch_size=64, lr=1e-3, sfreq=SLEEP_SFREQ, **common)
        elif name == "freqcut-sleep":
            yield name, sigest.get_estimator(
                "freqcut-sleep", max_epochs=epochs["freqcut-sleep"], batch_size=64, lr=1e-3,
                sfreq=SLEEP_SFREQ, **FREQCUT_SMALL, **common)
        elif name == "braindecode-sleepstagerchambon2018":
            yield name, sigest.get_estimator(name, max_epochs=epochs["chambon"], batch_size=64,
                                             lr=1e-3, sfreq=SLEEP_SFREQ, **common)
        elif name == "pipeline":
            yield f"{denoiser}+braindecode-sleepstagerchambon2018", None


def fit_sleep_pipeline(budget, train, valid, seed, denoiser):
    """``make_pipeline(denoiser, chambon)``: the denoiser trained for a fixed number of epochs on
    noisy copies of the clean training epochs, the stager on the denoised clean training epochs
    (early-stopped on the denoised validation epochs)."""
    from sklearn.pipeline import make_pipeline

    import sigest

    Xtr, ytr = train
    Xv, yv = valid
    den = sigest.get_estimator(
        denoiser, noise=train_noise(SLEEP_SFREQ), sfreq=SLEEP_SFREQ, lr=5e-4,
        max_epochs=budget["epochs"]["denoiser"], random_state=seed, verbose=0)
    den.fit(Xtr)
    Xtr_d, Xv_d = den.transform(Xtr), den.transform(Xv)
    stager = sigest.get_estimator(
        "braindecode-sleepstagerchambon2018", max_epochs=budget["epochs"]["chambon"],
        batch_size=64, lr=1e-3, sfreq=SLEEP_SFREQ, random_state=seed, verbose=0,
        class_weight="balanced", **early_stopping((Xv_d, yv)))
    stager.fit(Xtr_d, ytr)
    return make_pipeline(den, stager)


def sleep_folds(X, y, groups, budget):
    """``(fold, train, valid, test)``: subject-wise folds, then random subsets of each side."""
    from sigest.model_selection import SubjectKFold

    cv = SubjectKFold(budget["folds"], shuffle=True, random_state=0)
    for fold, (train, valid, test) in enumerate(cv.split_with_validation(X, y, groups)):
        rng = np.random.default_rng(fold)
        train = np.sort(rng.choice(train, min(budget["n_train"], len(train)), replace=False))
        valid = np.sort(rng.choice(valid, min(budget["n_valid"], len(valid)), replace=False))
        test = np.sort(rng.choice(test, min(budget["n_test"], len(test)), replace=False))
        yield fold, train, valid, test


def run_sleep(args, results, budget, names):
    from sigest.datasets import load_sleep_edf

    X, y, groups = load_sleep_edf(path=args.data)
    X, y, groups = X.astype(np.float32), np.asarray(y), np.asarray(groups)
    seed = 0
    for fold, train, valid, test in sleep_folds(X, y, groups, budget):
        if args.sleep_folds is not None and fold not in args.sleep_folds:
            continue
        # All models see the epochs in units of the fold's training std (one number), as in
        # sleep_staging.py: braindecode's stagers do not normalise their input, and on raw
        # microvolts Chambon trained with noise (std up to ~3x the signal's) collapsed to one
        # class. TS-STDN standardises internally, so it is unaffected.
        Xf = X / X[train].std()
        sets = test_sets(Xf[test], SLEEP_SFREQ, seed=fold + 1)
        print(f"sleep fold {fold}: test subjects {sorted(set(groups[test].tolist()))}",
              flush=True)
        for augmentation in args.augmentations:
            noise = train_noise(SLEEP_SFREQ, augmentation)
            # the pipeline trains its denoiser on the standard training noise: once, here
            models = names if augmentation == "nstdb-ma" else [n for n in names
                                                               if n != "pipeline"]
            for name, est in sleep_models(models, budget, (Xf[valid], y[valid]), seed, noise,
                                          args.denoiser):
                start = time.perf_counter()
                if est is None:
                    est = fit_sleep_pipeline(budget, (Xf[train], y[train]),
                                             (Xf[valid], y[valid]), seed, args.denoiser)
                    aug = "denoiser"
                else:
                    est.fit(Xf[train], y[train])
                    aug = augmentation
                fit_seconds = round(time.perf_counter() - start, 1)
                last = est[-1] if hasattr(est, "steps") else est
                base = dict(task="sleep", augmentation=aug, fold=fold, seed=seed,
                            n_train=len(train), n_test=len(test), fit_seconds=fit_seconds,
                            epochs_trained=epochs_trained(last))
                score_all(results, name, est.predict, sets, y[test], base, "macro_f1")
                results.write()


# -------------------------------------------------------------------------------- motor
def electrode_groups(ch_names):
    """10 electrode groups of the 10-10 montage: prefrontal, occipital, and left / right
    frontal, fronto-central, central-temporal and parietal (centro-parietal, temporo-parietal,
    parietal) regions. Midline electrodes join the left group of their region."""
    regions = {"Fp": "prefrontal", "Af": "prefrontal", "F": "frontal", "Fc": "fronto-central",
               "Ft": "fronto-central", "C": "central", "T": "central", "Cp": "parietal",
               "Tp": "parietal", "P": "parietal", "Po": "occipital", "O": "occipital",
               "I": "occipital"}
    groups = {}
    for index, raw in enumerate(ch_names):
        name = raw.strip(".").capitalize()
        prefix = name.rstrip("0123456789z").rstrip("Z")
        region = regions[prefix] if prefix in regions else regions[prefix[:1]]
        if region not in ("prefrontal", "occipital"):
            digits = "".join(ch for ch in name if ch.isdigit())
            side = "right" if digits and int(digits) % 2 == 0 else "left"
            region = f"{region}-{side}"
        groups.setdefault(region, []).append(index)
    return groups


def load_motor(path):
    import mne

    from sigest.datasets import load_eegmmidb

    parts = {}
    for subject, runs in ((1, (3, 7, 11)), (3, (3,))):
        epochs = load_eegmmidb(subjects=[subject], runs=runs, path=path, return_epochs=True)
        X = epochs.get_data() * 1e6  # microvolts
        X = mne.filter.resample(X, down=2.0, npad="auto", axis=-1, verbose=False)
        meta = epochs.metadata
        parts[subject] = (X.astype(np.float32), np.asarray(meta["label"]),
                          np.asarray([f"S{subject:03d}R{int(r):02d}" for r in meta["run"]]))
    ch_names = epochs.ch_names
    X = np.concatenate([p[0] for p in parts.values()])
    y = np.concatenate([p[1] for p in parts.values()])
    runs = np.concatenate([p[2] for p in parts.values()])
    return X, y, runs, ch_names


def fbcsp_lda():
    """Filter bank (4-8, ..., 28-32 Hz) x CSP (4 log-variance features) -> shrinkage LDA."""
    from mne.decoding import CSP
    from mne.filter import filter_data
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    def band(low, high):
        return FunctionTransformer(lambda X: filter_data(
            np.asarray(X, dtype=np.float64), MOTOR_SFREQ, low, high, verbose=False))

    bank = FeatureUnion([(f"{lo}-{lo + 4}Hz", make_pipeline(
        band(lo, lo + 4), CSP(n_components=4, reg="ledoit_wolf", log=True)))
        for lo in range(4, 32, 4)])
    return make_pipeline(bank, LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto"))


def motor_models(names, budget, seed, noise):
    import sigest

    epochs = budget["epochs"]
    common = dict(random_state=seed, verbose=0, noise=noise, sfreq=MOTOR_SFREQ, batch_size=16)
    for name in names:
        if name == "ts-stdn":
            yield name, sigest.get_estimator(
                "ts-stdn", module__n_fft=int(MOTOR_SFREQ), module__kernel_size=32,
                max_epochs=epochs["ts-stdn"], lr=1e-3, **common)
        elif name == "braindecode-eegnet":
            yield name, sigest.get_estimator(name, max_epochs=epochs["eegnet"], lr=1e-3,
                                             **common)
        elif name == "braindecode-shallowfbcspnet":
            yield name, sigest.get_estimator(name, max_epochs=epochs["shallow"], lr=6e-4,
                                             **common)
        elif name == "fbcsp-lda":
            yield name, fbcsp_lda()


def motor_folds(runs, budget, only=None):
    """``(fold, split, train, test)``: leave one S001 run out, or train S001 / test S003."""
    s001 = np.char.startswith(runs.astype(str), "S001")
    for fold, held_out in enumerate(budget["folds"]):
        if only is not None and held_out not in only:
            continue
        if held_out == "S003":
            train, test = np.flatnonzero(s001), np.flatnonzero(~s001)
            split = "S001 -> S003R03"
        else:
            test = np.flatnonzero(runs == f"S001{held_out}")
            train = np.flatnonzero(s001 & (runs != f"S001{held_out}"))
            split = f"S001 leave {held_out} out"
        yield fold, split, train, test


def run_motor(args, results, budget, names):
    X, y, runs, ch_names = load_motor(args.data)
    groups = list(electrode_groups(ch_names).values())
    channel_kwargs = dict(channels=groups, n_groups=6)
    seed = 0
    for fold, split, train, test in motor_folds(runs, budget, args.motor_folds):
        sets = test_sets(X[test], MOTOR_SFREQ, seed=fold + 1, **channel_kwargs)
        print(f"motor fold {fold}: {split} ({len(train)} train, {len(test)} test)", flush=True)
        for augmentation in args.augmentations:
            noise = train_noise(MOTOR_SFREQ, augmentation, **channel_kwargs)
            for name, est in motor_models(names, budget, seed, noise):
                start = time.perf_counter()
                Xtr, ytr = X[train], y[train]
                if name == "fbcsp-lda" and noise is not None:  # 3 noisy copies + the clean set
                    noise.set_params(random_state=seed).fit(Xtr)
                    copies = [Xtr] + [noise.set_params(random_state=seed + k).transform(Xtr)
                                      for k in range(1, 4)]
                    Xtr, ytr = np.concatenate(copies), np.tile(ytr, len(copies))
                est.fit(Xtr, ytr)
                base = dict(task="motor", augmentation=augmentation, fold=fold, split=split,
                            seed=seed, n_train=len(train), n_test=len(test),
                            fit_seconds=round(time.perf_counter() - start, 1),
                            epochs_trained=epochs_trained(est))
                score_all(results, name, est.predict, sets, y[test], base, "accuracy")
                results.write()


# ------------------------------------------------------------------------ merge + report
KEYS = ("task", "model", "augmentation", "test_noise", "snr_db")


def mean_rows(rows):
    groups = {}
    for row in rows:
        if row.get("fold") != "mean":
            groups.setdefault(tuple(row.get(k) for k in KEYS), []).append(row)
    out = []
    for key, members in groups.items():
        agg = dict(zip(KEYS, key), fold="mean", seed="mean", n=len(members))
        for metric in ("accuracy", "macro_f1", "fit_seconds"):
            values = [r[metric] for r in members if isinstance(r.get(metric), (int, float))]
            if values:
                agg[metric] = float(np.mean(values))
                agg[f"{metric}_std"] = float(np.std(values))
        out.append(agg)
    return out


def summary_md(means):
    lines = []
    for task, metric in (("sleep", "macro_f1"), ("motor", "accuracy")):
        rows = [r for r in means if r["task"] == task]
        if not rows:
            continue
        table = []
        for model, aug in sorted({(r["model"], r["augmentation"]) for r in rows}):
            cell = {r["snr_db"]: r for r in rows if (r["model"], r["augmentation"]) == (model, aug)}
            entry = {"model": model, "augmentation": aug, "folds": cell.get("clean", {}).get("n")}
            for snr in ("clean",) + SNRS:
                if snr in cell:
                    entry[f"{snr} dB" if snr != "clean" else "clean"] = (
                        f"{cell[snr][metric]:.3f} ± {cell[snr][f'{metric}_std']:.3f}")
            if "clean" in cell and -8.0 in cell:
                entry["drop clean->-8"] = f"{cell['clean'][metric] - cell[-8.0][metric]:.3f}"
            table.append(entry)
        lines += [f"## {task}: {metric} (mean ± std over folds)", "", markdown_table(table), ""]
    return "\n".join(lines)


def findings_md(rows, means):
    """Statements computed from the measured rows: robustness ranking and what the data allow."""
    from scipy.stats import binom

    lines = ["## What the measurements say (computed from the rows above)", ""]
    for task, metric in (("sleep", "macro_f1"), ("motor", "accuracy")):
        cells = {}
        for r in means:
            if r["task"] == task and not r["model"].startswith("chance"):
                cells.setdefault((r["model"], r["augmentation"]), {})[r["snr_db"]] = r[metric]
        full = {k: v for k, v in cells.items() if "clean" in v and -8.0 in v}
        if not full:
            continue
        chance = [r for r in rows if r["task"] == task and r["model"].startswith("chance")
                  and r["snr_db"] == "clean"]
        if task == "sleep":  # stratified guessing plus twice the spread of its draws
            floor = float(np.mean([r[metric] + 2 * r[f"{metric}_draw_std"] for r in chance]))
            rule = "stratified-guess macro-F1 + 2 sd of its draws, averaged over folds"
        else:  # one-sided binomial test against 0.5 on all measured test trials
            n_trials = sum(r["n_test"] for r in chance)
            floor = float((binom.ppf(0.95, n_trials, 0.5) + 1) / n_trials)
            rule = f"binomial p < 0.05 against 0.5 over {n_trials} test trials"
        folds = sorted({str(r["fold"]) for r in rows if r["task"] == task
                        and not r["model"].startswith("chance")})
        learnt = {k: v for k, v in full.items() if v["clean"] >= floor}
        above = sorted(f"{m} ({a})" for (m, a), v in full.items() if v[-8.0] >= floor)
        lines.append(f"- {task} ({len(folds)} fold(s) measured): chance threshold {floor:.3f} "
                     f"({rule}). Above it at -8 dB: {', '.join(above) or 'no model'}.")
        unlearnt = sorted(f"{m} ({a})" for k, v in full.items() if k not in learnt
                          for m, a in [k])
        if unlearnt:
            lines.append(f"  Not above chance even on clean test data: {', '.join(unlearnt)}.")
        if learnt:
            drop = min(learnt, key=lambda k: learnt[k]["clean"] - learnt[k][-8.0])
            best = max(full, key=lambda k: full[k][-8.0])
            lines.append(
                f"  Among models above chance on clean data, the smallest {metric} loss from "
                f"clean to -8 dB: {drop[0]} ({drop[1]}), "
                f"{learnt[drop]['clean'] - learnt[drop][-8.0]:+.3f}. Best at -8 dB: {best[0]} "
                f"({best[1]}), {full[best][-8.0]:.3f}"
                f"{'' if full[best][-8.0] >= floor else ' (not above chance)'}.")
    lines.append("")
    motor_tests = sorted({r["n_test"] for r in rows if r["task"] == "motor"})
    motor_folds = sorted({r["split"] for r in rows if r["task"] == "motor" and "split" in r})
    if motor_tests:
        n = motor_tests[0]
        threshold = (binom.ppf(0.95, n, 0.5) + 1) / n
        lines += ["", (
            f"The motor task has only {n} test trials per fold (about 30-45 training trials), "
            f"so one trial moves accuracy by {1 / n:.3f}; a single fold's accuracy must reach "
            f"{threshold:.3f} to differ from chance (one-sided binomial test, p < 0.05), and "
            "differences of a few trials between models or between noise levels are within "
            f"chance variation. With {len(motor_folds)} fold(s) ({'; '.join(motor_folds)}), all "
            "from one or two people, the fold spread is a rough, not an independent, error "
            "estimate. The motor numbers can show "
            "a model that collapses to chance under noise, or one far above chance; they cannot "
            "rank models that differ by less than about 0.1, and they say nothing about "
            "subjects other than S001 and S003. The sleep task (hundreds of test epochs per "
            "fold, different subjects in every fold) is the one that can rank models.")]
    return "\n".join(lines) + "\n"


def figure(means, stem):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = [t for t in ("sleep", "motor") if any(r["task"] == t for r in means)]
    fig, axes = plt.subplots(1, len(tasks), figsize=(6.5 * len(tasks), 4.5), squeeze=False)
    xs = {-8.0: 0, -4.0: 1, 0.0: 2, "clean": 3}
    for ax, task in zip(axes[0], tasks):
        metric = "macro_f1" if task == "sleep" else "accuracy"
        rows = [r for r in means if r["task"] == task]
        for model, aug in sorted({(r["model"], r["augmentation"]) for r in rows}):
            cell = sorted((r for r in rows if (r["model"], r["augmentation"]) == (model, aug)),
                          key=lambda r: xs[r["snr_db"]])
            style = dict(marker="o", linestyle="-" if aug != "none" else "--")
            if model.startswith("chance"):
                style = dict(color="black", linestyle=":", marker="")
            ax.errorbar([xs[r["snr_db"]] for r in cell], [r[metric] for r in cell],
                        yerr=[r.get(f"{metric}_std", 0) for r in cell], capsize=3,
                        label=f"{model} ({aug})", **style)
        ax.set_xticks(list(xs.values()), ["-8 dB", "-4 dB", "0 dB", "clean"])
        ax.set_xlabel("test data (NSTDB ma muscle noise)")
        ax.set_ylabel(metric)
        ax.set_title(f"{task}: mean ± std over folds")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(RESULTS / f"{stem}_snr.png", dpi=110)
    plt.close(fig)


def chance_rows(task, quick, folds_measured, size="small"):
    """Scores of a stratified random guesser (class frequencies of the training side) on the
    very test labels of every measured fold: mean over 50 draws, ``*_std`` their spread."""
    from sklearn.metrics import accuracy_score, f1_score

    budget = budgets(quick, size)[task]
    if task == "sleep":
        from sigest.datasets import load_sleep_edf

        X, y, groups = load_sleep_edf(path=data_dir())
        folds = [(f, tr, te) for f, tr, _, te in sleep_folds(X, y, groups, budget)]
    else:
        _, y, runs, _ = load_motor(data_dir())
        folds = [(f, tr, te) for f, _, tr, te in motor_folds(runs, budget)]
    out = []
    for fold, train, test in folds:
        if fold not in folds_measured:
            continue
        classes, counts = np.unique(y[train], return_counts=True)
        draws = [np.random.default_rng(k).choice(classes, len(test), p=counts / counts.sum())
                 for k in range(50)]
        acc = [accuracy_score(y[test], d) for d in draws]
        f1 = [f1_score(y[test], d, average="macro", zero_division=0) for d in draws]
        for snr in ("clean",) + SNRS:
            out.append(dict(task=task, model="chance (stratified)", augmentation="none",
                            test_noise="none" if snr == "clean" else "nstdb-ma", snr_db=snr,
                            fold=fold, seed="mean", n_test=len(test),
                            accuracy=float(np.mean(acc)), accuracy_draw_std=float(np.std(acc)),
                            macro_f1=float(np.mean(f1)), macro_f1_draw_std=float(np.std(f1))))
    return out


def merge(quick, notes="", size="small"):
    name = result_name(size)
    rows, parts = [], []
    for task in ("sleep", "motor"):
        # a part run for chosen folds (robust_classification_motor_<folds>.json) wins over the
        # same folds in the main file, read last
        stem = task_stem(task, size)
        paths = sorted(RESULTS.glob(f"{stem}*.json"),
                       key=lambda p: (p.stem.removesuffix("_quick") == stem, p.name))
        for path in paths:
            payload = json.loads(path.read_text())
            if payload.get("quick") != quick:
                continue
            seen = {tuple(r.get(k) for k in KEYS + ("fold",)) for r in rows}
            rows += [r for r in payload["rows"] if r.get("fold") != "mean"
                     and tuple(r.get(k) for k in KEYS + ("fold",)) not in seen]
            parts.append(f"`{payload['command']}` (git {payload['git'][:10]}, "
                         f"{payload['date']})")
            measured = {r["fold"] for r in payload["rows"] if r.get("fold") != "mean"}
            rows += [r for r in chance_rows(task, quick, measured, size)
                     if tuple(r.get(k) for k in KEYS + ("fold",)) not in seen]
    results = Results(name, data=DATA_MD, protocol=PROTOCOL, quick=quick, notes=notes)
    results.rows = list(rows)
    means = mean_rows(rows)
    results.rows += means
    figure(means, results.stem)
    extra = ("\n" + "Merged from: " + "; ".join(parts) + "\n\n" + summary_md(means)
             + f"\nFigure: `{results.stem}_snr.png`.\n\n" + findings_md(rows, means))
    results.write(table_keys=None, extra_md=extra)
    return results


DATA_MD = ("sleep-edf-5s (18 subjects, Fpz-Cz, 100 Hz, 5 s epochs); eegmmidb S001 R03/R07/R11 + "
           "S003 R03 (64 ch, 160 Hz decimated to 80 Hz, 0-4 s); NSTDB ma (360 Hz, resampled)")
PROTOCOL = ("test: clean and NSTDB ma at -8/-4/0 dB from the record's held-out last 20 % "
            "(training noise: first 80 %, SNR U(-10, 5) dB); sleep: SubjectKFold (shuffled, "
            "seed 0), 1 validation subject per fold, random subsets of train/valid/test "
            "epochs, signal divided by the fold's training std, early stopping; motor: "
            "leave-one-run-out on S001 + S001->S003, noise on 6 of 10 electrode groups per "
            "epoch; seed 0")


def result_name(size):
    return NAME if size == "small" else f"{NAME}_{size}"


def task_stem(task, size):
    """Results stem of one task; the motor budget is the same at every size, so its files are
    shared."""
    return f"{result_name(size) if task == 'sleep' else NAME}_{task}"


def main(argv=None):
    args = parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    import mne

    mne.set_log_level("WARNING")
    if args.merge:
        merge(args.quick, size=args.budget)
        return
    budget = budgets(args.quick, args.budget)
    if args.data is None:
        args.data = data_dir()
    os.environ["SIGEST_DATA"] = str(args.data)  # the noise pools read the same folder
    tasks = (args.task,) if args.task else ("sleep", "motor")
    for task in tasks:
        names = [m for m in (SLEEP_MODELS if task == "sleep" else MOTOR_MODELS)
                 if args.models is None or m in args.models]
        folds = args.sleep_folds if task == "sleep" else args.motor_folds
        part = "_" + "-".join(map(str, folds)) if folds else ""
        if tuple(args.augmentations) != DEFAULT_AUGMENTATIONS:
            part += "_" + "-".join(args.augmentations)
        results = Results(f"{task_stem(task, args.budget)}{part}", data=DATA_MD,
                          protocol=PROTOCOL, quick=args.quick)
        runner = run_sleep if task == "sleep" else run_motor
        runner(args, results, budget[task], names)
        results.rows += mean_rows(results.rows)
        results.write()
    merge(args.quick, size=args.budget)


if __name__ == "__main__":
    main()
