"""How much SNR gain the ECG denoising protocol allows: an oracle bound from the references.

The "clean" MIT-BIH records carry their own baseline wander, and the denoisers are scored
against them; NSTDB's ``bw`` adds wander of the same kind. Inside a 256-sample window (0.71 s)
the two are slow trends that no denoiser can tell apart beyond their statistics. This script
scores an oracle that knows every test window's clean signal except the clean record's own
wander below ``fc`` Hz (as a mean + slope within the window) and fills that part in with the
per-record Wiener estimate from the noisy trend (the best linear estimate, with oracle
statistics). Any denoiser's output SNR on the same windows above this bound would have to
predict the clean record's wander from the rest of the signal.

Same test records, windows, noise draws and seeds as ``benchmarks/ecg_denoising.py``; a few
seconds. Writes ``benchmarks/results/ecg_ceiling.json`` / ``.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.signal import butter, sosfiltfilt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Results  # noqa: E402
from ecg_denoising import (  # noqa: E402
    N_TEST_RECORDS,
    SFREQ,
    SPLIT_SEED,
    load_data,
    make_conditions,
    subsample,
)

from sigest import metrics  # noqa: E402
from sigest.estimators.ecg import record_split  # noqa: E402

CUTOFFS = (0.3, 0.5, 0.7, 1.0)


def trend_projector(n_times):
    """Projection of windows onto their mean and linear slope."""
    t = np.arange(n_times) - (n_times - 1) / 2
    basis = np.stack([np.ones(n_times) / np.sqrt(n_times), t / np.sqrt(np.sum(t**2))])
    return lambda A: (A @ basis.T) @ basis


def own_wander(X, groups, fc):
    """Each record's content below ``fc`` Hz (zero-phase Butterworth over the whole record)."""
    sos = butter(2, fc, btype="low", fs=SFREQ, output="sos")
    wander = np.empty_like(X)
    for record in np.unique(groups):
        rows = groups == record  # load_mitbih's windows are consecutive within a record
        wander[rows] = sosfiltfilt(sos, X[rows].reshape(-1)).reshape(-1, X.shape[-1])
    return wander


def oracle(clean, noisy, unknown, groups, trend):
    """``clean`` with ``unknown`` replaced by its per-record Wiener estimate from the noisy
    trend (the unknown part plus the noise's trend)."""
    observed = unknown + trend(noisy - clean)
    out = np.empty_like(clean)
    for record in np.unique(groups):
        rows = groups == record
        p_unknown = np.mean(unknown[rows] ** 2)
        gain = p_unknown / np.mean(observed[rows] ** 2)
        out[rows] = clean[rows] - unknown[rows] + gain * observed[rows]
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--test-windows", type=int, default=60)
    args = parser.parse_args(argv)

    X, groups = load_data()
    _, test_idx = record_split(groups, n_test=N_TEST_RECORDS, random_state=SPLIT_SEED)
    eval_idx = subsample(groups, test_idx, args.test_windows, np.random.default_rng(SPLIT_SEED))
    clean, g = X[eval_idx], groups[eval_idx]
    trend = trend_projector(clean.shape[-1])
    results = Results(
        "ecg_ceiling", data="MIT-BIH mitdb (channel 0) + NSTDB ma/bw",
        protocol=(f"ecg_denoising.py's test windows ({args.test_windows} per test record) and "
                  f"noise draws, seeds {args.seeds}; oracle = clean minus the record's own "
                  f"wander below fc (mean + slope per window) plus its per-record Wiener "
                  f"estimate from the noisy trend; fc in {list(CUTOFFS)} Hz"))
    for fc in CUTOFFS:
        unknown = trend(own_wander(X, groups, fc)[eval_idx])
        for seed in args.seeds:
            for (noise, proto, snr_db), noisy in make_conditions(clean, g, seed).items():
                if noise != "mixture":
                    continue
                out = oracle(clean, noisy, unknown, g, trend)
                results.add(model="oracle-wander-wiener", fc_hz=fc, noise=noise, protocol=proto,
                            snr_db=snr_db, seed=seed, snr_in_db=metrics.snr(clean, noisy),
                            snr=metrics.snr(clean, out),
                            snr_improvement_db=metrics.snr_improvement(clean, out, noisy),
                            wander_share_db=10 * np.log10(np.mean(clean**2)
                                                          / np.mean(unknown**2)))
    results.add_mean_rows(["model", "fc_hz", "noise", "protocol", "snr_db"],
                          ["snr_in_db", "snr", "snr_improvement_db", "wander_share_db"])
    results.write(table_keys=["fc_hz", "protocol", "snr_db", "seed", "snr_in_db", "snr",
                              "snr_improvement_db", "snr_improvement_db_std",
                              "wander_share_db"])
    for row in results.rows:
        if row["seed"] == "mean":
            print(f"fc {row['fc_hz']} Hz, {row['protocol']} {row['snr_db']} dB: oracle "
                  f"{row['snr']:.2f} dB, gain {row['snr_improvement_db']:+.2f} dB")


if __name__ == "__main__":
    main()
