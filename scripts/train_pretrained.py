"""Train the denoisers shipped in ``sigest/pretrained`` and write their model cards.

Models (estimator_tag):

- ``fcnn_eegdenoisenet-eog``: EEGdenoiseNet FCNN on 1-s windows (256 samples, 256 Hz) of the
  EEGdenoiseNet EOG test set's clean EEG + EOG, split by epoch (60 train / 20 validation /
  21 test, seed 2021, as the EEG-denoising benchmark), trained on random re-pairings of the
  training epochs at SNR U[-7, 2] dB; tested on the official pairs of the 21 test epochs at all
  10 levels (2-s epochs, denoised by overlap-add).
- ``cdae-bam_eegdenoisenet-eog``: the same data and protocol with CDAE-BAM (the package's
  small fully convolutional denoising autoencoder, 0.25 MB) at 256 Hz.
- ``cdae-bam_eegdenoisenet-emg`` and ``bg-attention_eegdenoisenet-emg``: clean EEG = the 101
  EEGdenoiseNet clean epochs (same split) + eegmmidb S001 (runs R03-R10 train, R11-R12 none,
  R13-R14 test; resampled 160 -> 256 Hz, 2-s windows); muscle noise = NSTDB ``ma`` (first 80 %
  train, last 20 % test, ``NoiseInjector(split=...)``), new noise every epoch, SNR U[-7, 2] dB;
  tested at -7..2 dB. BG-Attention is sized to ship (hidden 4, 2 heads, 0.5-s windows: its dense
  head grows with hidden * window^2).
- ``cdae-bam_mitbih-nstdb``: CDAE-BAM on MIT-BIH (channel 0, 256-sample windows, 360 Hz, each
  record z-scored) with its NSTDB ma + bw + 60 Hz training mixture, record-wise split (4 test
  records, seed 0); tested on the test records with the mixture's test part at -6, 0, 6, 12 dB
  (power SNR).

Every model trains on ONE torch thread within a wall-clock budget (``--budget`` seconds; the
epochs actually run are written into the card). Usage::

    python scripts/train_pretrained.py [--only NAME ...] [--quick] [--data PATH]

``--quick`` trains for seconds (a smoke test; writes to a temporary folder unless ``--out``).
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from sigest.base import TimeBudget

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "sigest" / "pretrained"
EEG_SFREQ = 256.0
EOG_SPLIT_SEED = 2021
EEG_LEVELS = tuple(range(-7, 3))
ECG_LEVELS = (-6.0, 0.0, 6.0, 12.0)


# ------------------------------------------------------------------------------------ data
def epoch_split(n, seed=EOG_SPLIT_SEED, sizes=(60, 20)):
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[:sizes[0]]), np.sort(order[sizes[0]:sum(sizes)]), \
        np.sort(order[sum(sizes):])


def halves(X, n_times):
    """Cut (n, T) epochs into non-overlapping (m, n_times) windows."""
    k = X.shape[-1] // n_times
    return X[:, :k * n_times].reshape(-1, n_times)


def eog_data(path, n_times, n_pairs, rng):
    from sigest.datasets import load_eegdenoisenet_eog_test
    from sigest.noise import mix_at_snr

    d = load_eegdenoisenet_eog_test(path=path)
    train, valid, test = epoch_split(len(d.clean_eeg))
    fit_idx = np.concatenate([train, valid])  # the estimator holds out its own validation part
    ci, ni = rng.choice(fit_idx, n_pairs), rng.choice(fit_idx, n_pairs)
    snr = rng.uniform(-7, 2, n_pairs)
    noisy = mix_at_snr(d.clean_eeg[ci], d.eog[ni], snr)
    clean = d.clean_eeg[ci]
    rows = np.isin(d.epoch, test)
    return (halves(noisy, n_times), halves(clean, n_times),
            (d.noisy[rows], d.clean[rows], d.snr_db[rows]), test)


def eegmmidb_windows(path, runs, n_per_run, rng):
    import mne

    from sigest.datasets import data_roots

    folder = None
    for root in data_roots(path):
        if (Path(root) / "eegmmidb" / "S001").exists():
            folder = Path(root) / "eegmmidb" / "S001"
            break
    if folder is None:
        raise FileNotFoundError("eegmmidb/S001 not found under $SIGEST_DATA or --data")
    windows = []
    for run in runs:
        raw = mne.io.read_raw_edf(folder / f"S001R{run:02d}.edf", preload=True, verbose="error")
        raw.resample(EEG_SFREQ, verbose="error")
        data = raw.get_data() * 1e6
        n = int(2 * EEG_SFREQ)
        w = data[:, : data.shape[1] // n * n].reshape(data.shape[0], -1, n).reshape(-1, n)
        windows.append(w[rng.choice(len(w), n_per_run, replace=False)])
    X = np.concatenate(windows)
    return X - X.mean(axis=1, keepdims=True)


def emg_clean(path, rng, n_per_run):
    from sigest.datasets import load_eegdenoisenet_eog_test

    d = load_eegdenoisenet_eog_test(path=path)
    train, valid, test = epoch_split(len(d.clean_eeg))
    # Both sources std-scaled per epoch so neither dominates the loss.
    def unit(x):
        return x / x.std(axis=1, keepdims=True)
    fit = np.concatenate([unit(d.clean_eeg[np.concatenate([train, valid])]),
                          unit(eegmmidb_windows(path, range(3, 11), n_per_run, rng))])
    test_x = np.concatenate([unit(d.clean_eeg[test]),
                             unit(eegmmidb_windows(path, (13, 14), 60, rng))])
    return fit, test_x


# ---------------------------------------------------------------------------------- metrics
def eeg_metrics(clean, estimate):
    from sigest.metrics import correlation_coefficient, rrmse_spectral, rrmse_temporal

    return {"rrmse_temporal": float(rrmse_temporal(clean, estimate)),
            "rrmse_spectral": float(rrmse_spectral(clean, estimate, sfreq=EEG_SFREQ)),
            "cc": float(correlation_coefficient(clean, estimate))}


def ecg_metrics(clean, estimate, noisy):
    from sigest.metrics import correlation_coefficient, prd, rmse, snr_improvement

    return {"snr_improvement_db": float(snr_improvement(clean, estimate, noisy)),
            "rmse": float(rmse(clean, estimate)), "prd": float(prd(clean, estimate)),
            "cc": float(correlation_coefficient(clean, estimate))}


def denoise_epochs(est, X):
    """Denoise (n, T) epochs of any length with the shipped overlap-add path."""
    from sigest.recordings import denoise_array

    return denoise_array(est, X, EEG_SFREQ)


# ---------------------------------------------------------------------------------- models
def fit_timed(est, X, y, budget):
    est.set_params(callbacks=[("time_budget", TimeBudget(budget))])
    t0 = time.perf_counter()
    est.fit(X, y)
    seconds = time.perf_counter() - t0
    est.set_params(callbacks=None)  # the budget callback is the script's, not the model's
    return seconds, len(est.history)


def train_eog(args, rng, name="fcnn"):
    import sigest

    n_times = 256
    Xn, Xc, (tn, tc, tsnr), test_epochs = eog_data(args.data, n_times, args.pairs, rng)
    if name == "cdae-bam":  # the ECG network, fully convolutional, applied to EEG
        kw = {"lr": 1e-3, "batch_size": 64, "train_split": 0.1}
    else:
        kw = {"lr": 1e-4, "patience": 8}
    est = sigest.get_estimator(name, max_epochs=args.epochs, sfreq=EEG_SFREQ, noise=None,
                               random_state=0, **kw)
    seconds, epochs = fit_timed(est, Xn, Xc, args.budget)
    den = denoise_epochs(est, tn)
    rows = [{"snr_db": "all", "input": "noisy", **eeg_metrics(tc, tn)},
            {"snr_db": "all", "input": "denoised", **eeg_metrics(tc, den)}]
    for level in EEG_LEVELS:
        m = tsnr == level
        rows.append({"snr_db": level, "input": "noisy", **eeg_metrics(tc[m], tn[m])})
        rows.append({"snr_db": level, "input": "denoised", **eeg_metrics(tc[m], den[m])})
    info = {
        "data": "EEGdenoiseNet EOG test set (../shared/data/eegdenoisenet-eog-test): 101 clean "
                "EEG epochs and 101 EOG epochs, 2 s at 256 Hz, std-scaled by EEGdenoiseNet",
        "split": f"by epoch, seed {EOG_SPLIT_SEED}: 80 epochs (60 train + 20 validation) for "
                 f"fitting, 21 test epochs ({', '.join(map(str, test_epochs))}) never seen",
        "protocol": f"{args.pairs} random (clean, EOG) pairings of the 80 fitting epochs at "
                    "SNR U[-7, 2] dB (EEGdenoiseNet's RMS rule), cut into 1-s windows; "
                    + ("estimator's 10 % validation split for early stopping (patience 8); "
                       "RMSprop lr 1e-4, batch 40. " if name == "fcnn" else
                       "estimator's 10 % validation split (monitored only, last epoch kept); "
                       "Adam lr 1e-3, batch 64. ")
                    + "Test: the official noisy/clean pairs of the 21 "
                    "test epochs at the 10 levels -7..2 dB, 2-s epochs denoised by the "
                    "overlap-add of sigest.recordings.denoise_array.",
    }
    return est, seconds, epochs, rows, info


def train_emg(args, rng, name):
    import sigest
    from sigest.noise import NoiseInjector

    fit_x, test_x = emg_clean(args.data, rng, args.mmidb_per_run)
    if name == "bg-attention":
        n_times, kw = 128, {"module__hidden_size": 4, "module__n_heads": 2, "lr": 1e-3,
                            "batch_size": 32}
    elif name == "cdae-bam":  # the ECG network, fully convolutional, applied to EEG
        n_times, kw = 256, {"lr": 1e-3, "batch_size": 64}
    else:
        n_times, kw = 256, {"lr": 1e-4, "patience": 8}
    X = halves(fit_x, n_times)
    noise = NoiseInjector("nstdb-ma", snr_db=(-7.0, 2.0), sfreq=EEG_SFREQ, split="train",
                          data_path=args.data)
    if name == "bg-attention":
        kw["patience"] = 8
    est = sigest.get_estimator(name, max_epochs=args.epochs, sfreq=EEG_SFREQ, noise=noise,
                               random_state=0, **kw)
    seconds, epochs = fit_timed(est, X, None, args.budget)
    rows = []
    all_clean, all_noisy, all_den = [], [], []
    for level in EEG_LEVELS:
        test_noise = NoiseInjector("nstdb-ma", snr_db=float(level), sfreq=EEG_SFREQ,
                                   split="test", data_path=args.data, random_state=100 + level)
        noisy = test_noise.fit_transform(test_x)
        den = denoise_epochs(est, noisy)
        rows.append({"snr_db": level, "input": "noisy", **eeg_metrics(test_x, noisy)})
        rows.append({"snr_db": level, "input": "denoised", **eeg_metrics(test_x, den)})
        all_clean.append(test_x), all_noisy.append(noisy), all_den.append(den)
    c, n, d = map(np.concatenate, (all_clean, all_noisy, all_den))
    rows = [{"snr_db": "all", "input": "noisy", **eeg_metrics(c, n)},
            {"snr_db": "all", "input": "denoised", **eeg_metrics(c, d)}] + rows
    info = {
        "data": "clean EEG: the 101 EEGdenoiseNet clean epochs (../shared/data/"
                "eegdenoisenet-eog-test) + eegmmidb subject S001 (../shared/data/eegmmidb, 64 "
                "channels, 160 Hz resampled to 256 Hz, 2-s windows, "
                f"{args.mmidb_per_run} random windows per run); each epoch scaled to unit std. "
                "Muscle noise: MIT-BIH Noise Stress Test record 'ma' (../shared/data/nstdb), "
                "resampled to 256 Hz.",
        "split": f"EEGdenoiseNet epochs by epoch (seed {EOG_SPLIT_SEED}: 80 fit / 21 test); "
                 "eegmmidb by run (R03-R10 fit, R13-R14 test, 60 windows each); NSTDB ma by "
                 "time (first 80 % fit, last 20 % test: NoiseInjector split='train'/'test')",
        "protocol": f"{len(X)} clean windows of {n_times} samples ({n_times / EEG_SFREQ:g} s); "
                    "a new muscle-noise draw per batch per epoch at SNR U[-7, 2] dB "
                    "(EEGdenoiseNet's RMS rule); "
                    + ("no validation split, the last epoch's weights; " if name == "cdae-bam"
                       else "10 % validation split, early stopping (patience 8); ")
                    + f"{', '.join(f'{k}={v}' for k, v in kw.items())}. Test: "
                    f"{len(test_x)} unseen clean 2-s epochs + unseen noise at each level "
                    "-7..2 dB, denoised by overlap-add (sigest.recordings.denoise_array).",
    }
    return est, seconds, epochs, rows, info


def train_ecg(args, rng):
    import sigest
    from sigest.datasets import available_records, load_mitbih
    from sigest.estimators.ecg import ECG_NOISE_MIXTURE, record_split, standardize_records
    from sigest.noise import NoiseInjector

    records = available_records(path=args.data)
    X, _, groups = load_mitbih(records=records, path=args.data, window=256)
    X, _ = standardize_records(X, groups)
    train, test = record_split(groups, n_test=4, random_state=0)
    keep = []
    for record in np.unique(groups[train]):
        idx = train[groups[train] == record]
        keep.append(rng.choice(idx, min(len(idx), args.ecg_per_record), replace=False))
    Xtr = X[np.sort(np.concatenate(keep))]
    test_idx = []
    for record in np.unique(groups[test]):
        idx = test[groups[test] == record]
        test_idx.append(rng.choice(idx, min(len(idx), 100), replace=False))
    Xte = X[np.sort(np.concatenate(test_idx))]
    est = sigest.get_estimator("cdae-bam", max_epochs=args.epochs, random_state=0)
    seconds, epochs = fit_timed(est, Xtr, None, args.budget)
    rows, cs, ns, ds = [], [], [], []
    for level in ECG_LEVELS:
        inj = NoiseInjector(ECG_NOISE_MIXTURE, snr_db=level, sfreq=360.0, split="test",
                            snr_definition="power", data_path=args.data,
                            random_state=int(level) + 50)
        noisy = inj.fit_transform(Xte)
        den = est.transform(noisy)
        rows.append({"snr_db": level, "input": "noisy", **ecg_metrics(Xte, noisy, noisy)})
        rows.append({"snr_db": level, "input": "denoised", **ecg_metrics(Xte, den, noisy)})
        cs.append(Xte), ns.append(noisy), ds.append(den)
    c, n, d = map(np.concatenate, (cs, ns, ds))
    rows = [{"snr_db": "all", "input": "noisy", **ecg_metrics(c, n, n)},
            {"snr_db": "all", "input": "denoised", **ecg_metrics(c, d, n)}] + rows
    info = {
        "data": "MIT-BIH Arrhythmia (../shared/data/mitdb), channel 0, 360 Hz, 256-sample "
                "windows, each record z-scored; noise: NSTDB 'ma' + 'bw' (../shared/data/nstdb) "
                "+ synthetic 60 Hz powerline (equal-RMS mixture)",
        "split": f"record-wise (seed 0): train records {sorted(map(str, set(groups[train])))}, "
                 f"test records {sorted(map(str, set(groups[test])))}; NSTDB by time (first 80 % "
                 "train, last 20 % test)",
        "protocol": f"{len(Xtr)} training windows (<= {args.ecg_per_record} per train record), "
                    "new noise every batch and epoch at power SNR U[-6, 18] dB (the estimator's "
                    "defaults: Adam lr 1e-3, batch 64). Test: 100 windows per test record with "
                    "the test part of the mixture at -6, 0, 6, 12 dB power SNR.",
    }
    return est, seconds, epochs, rows, info


JOBS = {
    "fcnn_eegdenoisenet-eog": train_eog,
    "cdae-bam_eegdenoisenet-eog": lambda a, r: train_eog(a, r, "cdae-bam"),
    "bg-attention_eegdenoisenet-emg": lambda a, r: train_emg(a, r, "bg-attention"),
    "cdae-bam_eegdenoisenet-emg": lambda a, r: train_emg(a, r, "cdae-bam"),
    "cdae-bam_mitbih-nstdb": train_ecg,
}


# ------------------------------------------------------------------------------------ cards
def _fmt(v):
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def write_card(out, key, est, seconds, epochs, rows, info, command):
    name, _, tag = key.rpartition("_")  # tags have no "_", names may
    weights = out / f"{key}.zip"
    metrics = [k for k in rows[0] if k not in ("snr_db", "input")]
    lines = [
        f"# {name} — `{tag}`", "",
        f"Load: `sigest.get_estimator(\"{name}\", pretrained=\"{tag}\")` or "
        f"`sigest denoise INPUT OUTPUT --model {name}:{tag}`.", "",
        f"- estimator: `{type(est).__name__}`, window {est.n_times_in_} samples at "
        f"{est.sfreq_ or est.sfreq:g} Hz ({est.n_times_in_ / (est.sfreq_ or est.sfreq):g} s), "
        f"{sum(p.numel() for p in est.module_.parameters())} parameters, "
        f"file {weights.stat().st_size / 1e6:.2f} MB",
        f"- data: {info['data']}",
        f"- split: {info['split']}",
        f"- protocol: {info['protocol']}",
        f"- training: {epochs} epochs in {seconds:.0f} s wall time on ONE torch thread of a "
        f"shared 2-core CPU ({platform.machine()}, torch {torch.__version__}); budget "
        f"{command['budget']:.0f} s, so these weights are a CPU-budget model, not the papers' "
        "full training",
        f"- command: `{command['cmd']}`",
        f"- date: {datetime.now(timezone.utc).isoformat(timespec='seconds')}, git "
        f"{command['git']}", "",
        "## Held-out metrics (measured by the script)", "",
        "| snr_db | input | " + " | ".join(metrics) + " |",
        "|---|---|" + "---|" * len(metrics),
    ]
    for row in rows:
        lines.append(f"| {row['snr_db']} | {row['input']} | "
                     + " | ".join(_fmt(row[k]) for k in metrics) + " |")
    lines += ["", "Intended use: denoising recordings like the training data (see `sigest "
              "denoise --help`). Not validated for clinical use."]
    (out / f"{key}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")



def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Full run: about 45 minutes on one thread of a "
                                            "loaded machine (5 models; --budget caps each).")
    parser.add_argument("--only", nargs="+", choices=sorted(JOBS), default=sorted(JOBS))
    parser.add_argument("--data", default=None, help="data folder (default $SIGEST_DATA)")
    parser.add_argument("--out", default=None, help=f"output folder (default {OUT})")
    parser.add_argument("--budget", type=float, default=600.0,
                        help="wall-clock seconds of training per model (default 600)")
    parser.add_argument("--epochs", type=int, default=200, help="max epochs per model")
    parser.add_argument("--pairs", type=int, default=6000, help="EOG training pairings")
    parser.add_argument("--mmidb-per-run", type=int, default=150)
    parser.add_argument("--ecg-per-record", type=int, default=400)
    parser.add_argument("--quick", action="store_true", help="seconds per model (smoke run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.budget, args.epochs, args.pairs = 5.0, 2, 200
        args.mmidb_per_run, args.ecg_per_record = 10, 20
    torch.set_num_threads(1)
    out = Path(args.out) if args.out else (Path("/tmp/sigest-pretrained-quick") if args.quick
                                          else OUT)
    out.mkdir(parents=True, exist_ok=True)
    git = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=ROOT,
                         capture_output=True, text=True).stdout.strip()
    for key in args.only:
        rng = np.random.default_rng(0)
        print(f"[{key}] training (budget {args.budget:.0f} s)", flush=True)
        est, seconds, epochs, rows, info = JOBS[key](args, rng)
        est.save(out / f"{key}.zip")
        cmd = f"python scripts/train_pretrained.py --only {key}" + (
            f" --budget {args.budget:g}" if args.budget != 600 else "") + (
            " --quick" if args.quick else "")
        write_card(out, key, est, seconds, epochs, rows, info,
                   {"cmd": cmd, "budget": args.budget, "git": git})
        best = {r["input"]: r for r in rows if r["snr_db"] == "all"}
        print(f"[{key}] {epochs} epochs in {seconds:.0f} s; all levels: "
              + ", ".join(f"{k} {best['noisy'][k]:.3f} -> {best['denoised'][k]:.3f}"
                          for k in list(best["noisy"])[2:]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
