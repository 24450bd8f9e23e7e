"""Sleep staging on Sleep-EDF-20 (Fpz-Cz, 5-s epochs), subject-wise cross-validation.

Models, all on the same folds, training subsamples and seeds:

- ``freqcut-sleep`` (single epoch) and ``freqcut-sleep-seq`` (one neighbour each side), in a
  reduced configuration that fits the CPU budget (stated in the results);
- ``braindecode-sleepstagerchambon2018``, ``braindecode-attnsleep`` (its transformer width cut to
  what a 5-s epoch yields: ``d_model=16``), ``braindecode-usleep`` (one epoch per window: U-Sleep
  is built for long sequences; here it classifies a single 5-s window);
- ``bandpower-lr``: log band powers + logistic regression, a scikit-learn pipeline.

Protocol: ``SubjectKFold`` (GroupKFold by subject, shuffled with seed 0); in each fold one
validation subject is drawn from the training side (early stopping / best epoch for the
networks), the networks train on a random subsample of the training subjects' epochs (the same
rows for every network), and all models are scored on the same random subsample of the test
subjects' epochs. With ``--noise``, the test epochs are also scored after adding NSTDB muscle
noise (``ma``, test half of the record) at 0 and -5 dB SNR, and selected models are trained a
second time with noise augmentation (NSTDB ``ma``, train half, SNR uniform in [-5, 5] dB).

Full mode: 6 folds, 3000 training epochs per fold, 2500 test epochs per fold; freqcut 5 epochs
(sequence 3) at lr 2e-3 in a reduced configuration (dim 64, depth 2, 4 heads of 16, MLP 128),
Chambon 15, AttnSleep 5, U-Sleep 3 at lr 1e-3; batch 32, AdamW/Adam. About 60-80 min on one
thread of a lightly loaded 2-core machine, longer on a shared one (``--noise`` adds noise-
augmented training of three models and doubles that); ``--part`` splits the models over
parallel processes and ``--merge`` joins them. ``--quick``: 2 folds, 600 training epochs,
1-2 epochs each, a few minutes. ``--budget large``: 15,000 training epochs per fold, up to
20 passes for freqcut (15 for its sequence variant), 30 for Chambon, 12 for AttnSleep and 8 for
U-Sleep, with early stopping, written to ``sleep_staging_large*``. On a free core a fold takes
about 1 min (Chambon), 3-4 min (freqcut) and 7 min (AttnSleep).

Usage::

    python benchmarks/sleep_staging.py --quick
    python benchmarks/sleep_staging.py              # full
    python benchmarks/sleep_staging.py --noise      # robustness to muscle noise
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

_HERE = Path(__file__).resolve().parent

STAGES = ("W", "N1", "N2", "N3", "REM")
BANDS = ((0.5, 2.0), (2.0, 4.0), (4.0, 8.0), (8.0, 12.0), (12.0, 16.0), (16.0, 30.0),
         (30.0, 49.0))
FREQCUT_SMALL = {"module__dim": 64, "module__depth": 2, "module__heads": 4,
                 "module__dim_head": 16, "module__mlp_dim": 128, "module__context_depth": 1}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="Full mode: about 60-80 min on one thread.")
    parser.add_argument("--quick", action="store_true", help="2 folds, tiny budgets (minutes)")
    parser.add_argument("--noise", action="store_true",
                        help="also score under NSTDB muscle noise, with/without augmentation")
    parser.add_argument("--folds", type=int, default=None, help="number of folds (default 6)")
    parser.add_argument("--models", nargs="*", default=None, help="subset of model names")
    parser.add_argument("--data", type=Path, default=None, help="data folder ($SIGEST_DATA)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only-folds", type=int, nargs="*", default=None,
                        help="run only these folds (of the same split), e.g. in another part")
    parser.add_argument("--part", type=int, default=None,
                        help="write results as <name>_part<N> (run model subsets in parallel)")
    parser.add_argument("--budget", choices=("small", "large"), default="small",
                        help="small: 3,000 training epochs per fold, 3-15 passes (the default);"
                             " large: 15,000, 8-30 passes, early stopping (patience 3)")
    parser.add_argument("--merge", type=int, default=None, metavar="N_PARTS",
                        help="merge parts 1..N into the results file and its mean table")
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------------- models
def band_power_features(X, sfreq=100.0):
    """Log absolute and relative band powers of every channel: (n, C, T) -> (n, 2 C B)."""
    from scipy.signal import welch

    freqs, psd = welch(X, fs=sfreq, nperseg=min(256, X.shape[-1]), axis=-1)
    powers = np.stack([psd[..., (freqs >= lo) & (freqs < hi)].sum(-1) for lo, hi in BANDS], -1)
    total = powers.sum(-1, keepdims=True)
    feats = np.concatenate([np.log(powers + 1e-12), np.log(powers / (total + 1e-12) + 1e-12)], -1)
    return feats.reshape(len(X), -1)


def make_bandpower_lr():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    return make_pipeline(FunctionTransformer(band_power_features), StandardScaler(),
                         LogisticRegression(class_weight="balanced", max_iter=2000))


def budgets(quick, size="small"):
    if size == "large" and not quick:
        return {"n_train": 15000, "n_test": 2500, "n_valid": 1500,
                "epochs": {"freqcut": 20, "freqcut-seq": 15, "chambon": 30, "attnsleep": 12,
                           "usleep": 8}}
    if quick:
        return {"n_train": 600, "n_test": 600, "n_valid": 300,
                "epochs": {"freqcut": 2, "freqcut-seq": 1, "chambon": 2, "attnsleep": 1,
                           "usleep": 1}}
    return {"n_train": 3000, "n_test": 2500, "n_valid": 600,
            "epochs": {"freqcut": 5, "freqcut-seq": 3, "chambon": 15, "attnsleep": 5,
                       "usleep": 3}}


ROW_KEYS = ["model", "augmentation", "test_noise", "snr_db", "fold", "n_train", "n_test",
            "epochs_trained", "fit_seconds", "accuracy", "macro_f1", "kappa"] + [
    f"f1_{s}" for s in STAGES]
MODELS = ("bandpower-lr", "freqcut-sleep", "freqcut-sleep-seq",
          "braindecode-sleepstagerchambon2018", "braindecode-attnsleep", "braindecode-usleep")
AUGMENTED = ("bandpower-lr", "freqcut-sleep", "braindecode-sleepstagerchambon2018")


def make_network(name, budget, valid, seed, noise=None):
    """The estimator for ``name``, validating on ``valid`` (X, y) with early stopping."""
    import torch
    from skorch.callbacks import EarlyStopping
    from skorch.helper import predefined_split

    import sigest
    from sigest.base import SignalDataset

    epochs = budget["epochs"]
    common = dict(batch_size=32, iterator_train__shuffle=True, random_state=seed, verbose=0,
                  sfreq=100.0, class_weight="balanced", noise=noise,
                  train_split=predefined_split(SignalDataset(*valid)),
                  callbacks=[("early_stopping", EarlyStopping(patience=3, load_best=True))])
    if name == "freqcut-sleep":
        return sigest.get_estimator("freqcut-sleep", max_epochs=epochs["freqcut"], lr=2e-3,
                                    **FREQCUT_SMALL, **common)
    if name == "freqcut-sleep-seq":
        return sigest.get_estimator("freqcut-sleep", n_context=1, context_stacked=True,
                                    max_epochs=epochs["freqcut-seq"], lr=2e-3, **FREQCUT_SMALL,
                                    **common)
    if name == "braindecode-sleepstagerchambon2018":
        return sigest.get_estimator(name, max_epochs=epochs["chambon"], lr=1e-3, **common)
    if name == "braindecode-attnsleep":
        return sigest.get_estimator(name, max_epochs=epochs["attnsleep"], lr=1e-3,
                                    module__d_model=16, module__n_attn_heads=4, **common)
    if name == "braindecode-usleep":
        return sigest.get_estimator(name, max_epochs=epochs["usleep"], lr=1e-3,
                                    optimizer=torch.optim.AdamW, **common)
    raise ValueError(f"unknown model {name!r}")


# ------------------------------------------------------------------------------- metrics
def scores(y_true, y_pred):
    from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score

    per_class = f1_score(y_true, y_pred, labels=range(5), average=None, zero_division=0)
    row = {"accuracy": accuracy_score(y_true, y_pred),
           "macro_f1": f1_score(y_true, y_pred, average="macro", labels=range(5),
                                zero_division=0),
           "kappa": cohen_kappa_score(y_true, y_pred)}
    row.update({f"f1_{stage}": float(v) for stage, v in zip(STAGES, per_class)})
    return row


# ---------------------------------------------------------------------------------- data
def load(path):
    from sigest.datasets import load_sleep_edf

    X, y, groups, meta = load_sleep_edf(path=path, return_meta=True)
    recording = np.asarray(meta["subject"]) * 10 + np.asarray(meta["night"])
    return X.astype(np.float32), np.asarray(y), np.asarray(groups), recording


def noisy_copy(X, snr_db, seed, split="test"):
    from sigest.noise import NoiseInjector

    injector = NoiseInjector("nstdb-ma", snr_db=snr_db, sfreq=100.0, split=split,
                             random_state=seed)
    return injector.fit(X).transform(X).astype(np.float32)


def train_noise():
    from sigest.noise import NoiseInjector

    return NoiseInjector("nstdb-ma", snr_db=(-5.0, 5.0), sfreq=100.0, split="train")


# ---------------------------------------------------------------------------------- main
def main(argv=None):
    args = parse_args(argv)
    import sys

    sys.path.insert(0, str(_HERE))
    if args.merge:
        return merge(args.merge, args.quick, _base_name(args.budget))
    import torch

    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    from _common import Results, data_dir

    from sigest.estimators.sleep import add_context
    from sigest.model_selection import SubjectKFold, check_no_leak

    budget = budgets(args.quick, args.budget)
    n_folds = args.folds or (2 if args.quick else 6)
    models = args.models or list(MODELS)
    conditions = [("none", None)] + ([("nstdb-ma", 0.0), ("nstdb-ma", -5.0)] if args.noise
                                     else [])
    path = args.data or data_dir()
    X, y, groups, recording = load(path)
    X_seq = add_context(X, 1, groups=recording)  # neighbours within each night only

    name = _base_name(args.budget) + (f"_part{args.part}" if args.part else "")
    protocol = (f"SubjectKFold({n_folds}, shuffle, seed 0) over {len(np.unique(groups))} "
                f"subjects; 1 validation subject per fold from the training side; networks "
                f"train on {budget['n_train']} random training epochs (same rows for all), "
                f"validate on {budget['n_valid']}; all models scored on the same "
                f"{budget['n_test']} random test epochs per fold; epochs {budget['epochs']}; "
                f"freqcut reduced config {FREQCUT_SMALL}; seed 0")
    results = Results(name, data=f"sleep-edf-5s ({path}/sleep-edf-5s), Fpz-Cz, 100 Hz, 5 s",
                      protocol=protocol, quick=args.quick)
    stem = results.stem
    confusion = {}
    hypnogram = None
    cv = SubjectKFold(n_folds, n_valid_subjects=1, shuffle=True, random_state=0)
    for fold, (train, valid, test) in enumerate(cv.split_with_validation(X, y, groups)):
        check_no_leak(groups, train, valid, test)
        if args.only_folds is not None and fold not in args.only_folds:
            continue
        rng = np.random.default_rng(fold)
        tr = np.sort(rng.choice(train, size=min(budget["n_train"], len(train)), replace=False))
        va = np.sort(rng.choice(valid, size=min(budget["n_valid"], len(valid)), replace=False))
        te = np.sort(rng.choice(test, size=min(budget["n_test"], len(test)), replace=False))
        scale = np.float32(X[tr].std())
        night = recording == recording[test[0]]  # one whole test night for the hypnogram
        test_sets = {}
        for noise_name, snr in conditions:
            if noise_name == "none":
                test_sets[(noise_name, snr)] = (X[te], X_seq[te])
            else:
                noisy = noisy_copy(X[te], snr, seed=fold)
                noisy_seq = noisy_copy(X_seq[te], snr, seed=fold)  # neighbours noisy too
                test_sets[(noise_name, snr)] = (noisy, noisy_seq)
        variants = [(m, False) for m in models]
        if args.noise:
            variants += [(m, True) for m in models if m in AUGMENTED]
        for model_name, augmented in variants:
            seq = model_name.endswith("-seq")
            X_use = X_seq if seq else X
            start = time.time()
            if model_name == "bandpower-lr":
                est = make_bandpower_lr()
                X_fit, y_fit = X[tr], y[tr]  # the networks' training rows
                if augmented:  # one noisy copy of every training epoch next to the clean one
                    noisy = train_noise().set_params(random_state=fold).fit(X_fit)
                    X_fit = np.concatenate([X_fit, noisy.transform(X_fit).astype(np.float32)])
                    y_fit = np.concatenate([y_fit, y_fit])
                est.fit(X_fit, y_fit)
            else:  # networks see the signal in units of the training rows' std (one number)
                est = make_network(model_name, budget,
                                   (X_use[va] / scale, y[va].astype(np.int64)), seed=0,
                                   noise=train_noise() if augmented else None)
                est.fit(X_use[tr] / scale, y[tr])
            fit_seconds = time.time() - start
            for (noise_name, snr), (X_te, X_te_seq) in test_sets.items():
                start = time.time()
                X_in = X_te_seq if seq else X_te
                pred = est.predict(X_in if model_name == "bandpower-lr" else X_in / scale)
                row = dict(model=model_name, augmentation="nstdb-ma" if augmented else "none",
                           test_noise=noise_name, snr_db=snr, fold=fold, seed=0,
                           n_train=len(tr),
                           n_test=len(te), fit_seconds=round(fit_seconds, 1),
                           predict_seconds=round(time.time() - start, 1),
                           epochs_trained=len(getattr(est, "history", [])) or None,
                           **scores(y[te], pred))
                results.add(**row)
                key = (model_name, augmented, noise_name, snr)
                from sklearn.metrics import confusion_matrix

                confusion[key] = confusion.get(key, 0) + confusion_matrix(y[te], pred,
                                                                          labels=range(5))
                print(f"fold {fold} {model_name} aug={augmented} {noise_name} {snr}: "
                      f"acc {row['accuracy']:.3f} mf1 {row['macro_f1']:.3f} "
                      f"kappa {row['kappa']:.3f} fit {fit_seconds:.0f}s", flush=True)
            if fold == 0 and not augmented:
                hypnogram = hypnogram or {"recording": int(recording[test[0]]),
                                          "true": y[night], "pred": {}}
                X_night = X_use[night] if model_name == "bandpower-lr" else X_use[night] / scale
                hypnogram["pred"][model_name] = est.predict(X_night)
            results.write(table_keys=ROW_KEYS, extra_md=published_md())
        write_figures(stem, confusion, hypnogram)
    results.write(table_keys=ROW_KEYS, extra_md=add_means(results) + published_md())
    write_figures(stem, confusion, hypnogram)


def add_means(results):
    """Add mean-over-folds rows to ``results`` and return their Markdown table."""
    from _common import markdown_table

    metrics = ["accuracy", "macro_f1", "kappa"] + [f"f1_{s}" for s in STAGES] + ["fit_seconds"]
    results.add_mean_rows(["model", "augmentation", "test_noise", "snr_db"], metrics,
                          over="fold")
    for row in results.rows:
        if row.get("fold") == "mean":
            row["seed"] = "mean"
    means = [r for r in results.rows if r.get("fold") == "mean"]
    table = ["model", "augmentation", "test_noise", "snr_db", "n", "accuracy", "accuracy_std",
             "macro_f1", "macro_f1_std", "kappa", "kappa_std"] + [f"f1_{s}" for s in STAGES] + [
        "fit_seconds"]
    return "\n## Mean over folds\n\n" + markdown_table(means, table) + "\n"


def _base_name(budget):
    return "sleep_staging" if budget == "small" else f"sleep_staging_{budget}"


def merge(n_parts, quick, base="sleep_staging"):
    """Combine ``sleep_staging_part1..N`` into ``sleep_staging`` (rows, mean table)."""
    import json

    from _common import RESULTS, Results, unique_rows

    files = [RESULTS / f"{base}_part{i}{'_quick' if quick else ''}.json"
             for i in range(1, n_parts + 1)]
    parts = [json.loads(f.read_text()) for f in files if f.exists()]
    results = Results(base, data=parts[0]["data"], protocol=parts[-1]["protocol"],
                      quick=quick,
                      notes=MERGE_NOTES + "\n\nMerged from parts run in parallel, one thread each: "
                            + "; ".join(f"`{p['command']}` (git {p['git'][:10]}, {p['date']})"
                                        for p in parts)
                            + ". Figures: sleep_staging_part<N>_confusion.png / _hypnogram.png.")
    # a fold run by two parts counts once (the lower part number)
    rows = unique_rows(parts, ("model", "augmentation", "test_noise", "snr_db", "fold"),
                       over="fold")
    for row in rows:
        results.add(**row)
    # the means compare models on identical folds: those every model of the group finished
    # (models trained without augmentation; models trained with it)
    means = Results(base, data="", protocol="", quick=quick)
    note = "\n"
    for augmentation in sorted({r["augmentation"] for r in rows}):
        group = [r for r in rows if r["augmentation"] == augmentation]
        models = {r["model"] for r in group}
        folds = sorted(set.intersection(*({r["fold"] for r in group if r["model"] == m}
                                          for m in models)))
        means.rows += [r for r in group if r["fold"] in folds]
        note += (f"Means of models trained with augmentation={augmentation!r} are over the "
                 f"folds all of them finished: {folds}.\n")
    table = add_means(means)
    results.rows += [r for r in means.rows if r.get("fold") == "mean"]
    every = Results(base, data="", protocol="", quick=quick)
    every.rows = [dict(r) for r in rows if r["test_noise"] == "none"]
    table += ("\n### Clean test epochs, mean over every fold each model finished (folds differ "
              "between models: orientation only, not in the JSON)\n"
              + add_means(every).replace("\n## Mean over folds\n", ""))
    results.write(table_keys=ROW_KEYS, extra_md=note + table + published_md())


MERGE_NOTES = """\
Reading these numbers: every network here is trained on a small budget (3000 random training
epochs per fold, 3-15 passes, one CPU thread that the shared machine reduced to a fraction of a
core), so they are far from converged; compare models with each other on identical folds, not
with published numbers. 5-s epochs: AttnSleep's transformer width is cut to what its feature
extractor yields for 500 samples (d_model=16, 4 heads); U-Sleep is built for long sequences of
30-s epochs and here classifies one 5-s window (braindecode pads it; depth 12 as published);
freqcut-sleep-seq sees one neighbouring 5-s epoch on each side, taken from the same night
(the data keep the first 5 s of consecutive 30-s epochs). Noise: NSTDB `ma` (muscle), the
test half of the record for test epochs, the train half for augmentation (SNR uniform in
[-5, 5] dB per epoch), mixed by sigest.noise's RMS rule."""


def published_md():
    return """
## Published numbers for orientation (30-s epochs, NOT comparable: these data keep 5 s)

From the TinySleepNet README comparison (Supratak & Guo 2020), Sleep-EDF-20, Fpz-Cz, 20-fold
subject CV (see ../shared/ANCHORS.md): DeepSleepNet acc 82.0 / MF1 76.9 / kappa 0.76;
SleepEEGNet 84.3 / 79.7 / 0.79; TinySleepNet 85.4 / 80.5 / 0.80. N1 per-class F1 about 45-52.
braindecode's gallery examples (small subsets, few epochs) report balanced accuracy 64.2%
(SleepStagerChambon2018), 74.6% (AttnSleep), 30.4% (USleep).
"""


def write_figures(stem, confusion, hypnogram):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from _common import RESULTS

    clean = {k: v for k, v in confusion.items() if k[2] == "none" and not k[1]}
    if clean:
        fig, axes = plt.subplots(1, len(clean), figsize=(3.2 * len(clean), 3.4), squeeze=False)
        for ax, (key, cm) in zip(axes[0], clean.items()):
            norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
            ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
            for i in range(5):
                for j in range(5):
                    ax.text(j, i, f"{norm[i, j]:.2f}", ha="center", va="center", fontsize=7)
            ax.set_xticks(range(5), STAGES, fontsize=7)
            ax.set_yticks(range(5), STAGES, fontsize=7)
            ax.set_title(key[0].replace("braindecode-", "bd-"), fontsize=8)
            ax.set_xlabel("predicted", fontsize=7)
        axes[0][0].set_ylabel("true", fontsize=7)
        fig.tight_layout()
        fig.savefig(RESULTS / f"{stem}_confusion.png", dpi=110)
        plt.close(fig)
    if hypnogram and hypnogram["pred"]:
        order = np.array([0, 4, 1, 2, 3])  # plot W, REM, N1, N2, N3 from top to bottom
        level = np.argsort(order)
        n = len(hypnogram["pred"]) + 1
        fig, axes = plt.subplots(n, 1, figsize=(10, 1.3 * n), sharex=True)
        series = [("true (scorer)", hypnogram["true"])] + list(hypnogram["pred"].items())
        for ax, (label, stages) in zip(axes, series):
            ax.step(np.arange(len(stages)) * 0.5, -level[np.asarray(stages)], where="post", lw=0.7)
            ax.set_yticks(-np.arange(5), [STAGES[i] for i in order], fontsize=6)
            ax.set_title(label, fontsize=8, loc="left")
        axes[-1].set_xlabel(f"time (min), recording {hypnogram['recording']} (30-s epochs)")
        fig.tight_layout()
        fig.savefig(RESULTS / f"{stem}_hypnogram.png", dpi=110)
        plt.close(fig)


if __name__ == "__main__":
    main()
