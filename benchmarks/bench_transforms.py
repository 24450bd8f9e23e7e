"""Time sigest's transformers against the plain scipy / mne / numpy calls doing the same work.

Each row times one sigest transformer (``transform`` on an already fitted object, as in a
Pipeline) and the plain library call a user would write instead, on the same array. The calls
are interleaved (sigest, plain, sigest, plain, ...) for at least ``--repeats`` rounds, and more
until each side used ``--min-cpu-seconds`` of CPU; the best time of each side is kept, so
machine noise hits both alike. ``seconds`` are CPU seconds of this process (all the work is
single-threaded; on a machine shared with other jobs the wall time mostly measures the other
jobs), ``wall_seconds`` the wall time. ``ratio_to_plain`` = sigest / plain in CPU time
(target: at most 1.10). STFT runs on float64 (scipy backend) and float32 (torch backend) input.

Two extra rows compare ``torch.stft`` with ``scipy.signal.stft`` (magnitude) in float32 and
float64 (ratio = torch / scipy): the measurement behind STFT's ``backend="auto"``.

Full mode: 10,000 epochs of 2 s at 256 Hz (10,000 x 512, float64), at least 5 rounds and 10 s
of CPU per side and case, about 3 min on one idle core (much longer on a loaded machine).
``--quick``: 1,000 epochs, 2 rounds, well under a minute.

Writes ``benchmarks/results/transforms.json`` and ``.md`` (``transforms_quick.*`` with
``--quick``).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Results  # noqa: E402

SFREQ = 256.0
N_TIMES = 512
N_FFT, HOP, EPS = 64, 16, 1e-12
L_FREQ, H_FREQ = 1.0, 40.0
SNR_DB = 0.0


def _best_interleaved(fns, repeats, min_cpu_seconds=0.0):
    """Best CPU and wall time of each function, calling them in turn.

    At least ``repeats`` rounds, and more until every function has used ``min_cpu_seconds`` of
    CPU (so cheap calls get more samples of their minimum). CPU time of this process
    (``time.process_time``) is the main measure: every call here runs on one thread, and on a
    machine shared with other jobs the wall time mostly measures the other jobs.

    Returns
    -------
    cpu, wall : list of float
        Best times per function.
    rounds : int
    """
    cpu, wall = [np.inf] * len(fns), [np.inf] * len(fns)
    used = [0.0] * len(fns)
    rep = 0
    while rep < repeats or min(used) < min_cpu_seconds:
        order = range(len(fns)) if rep % 2 == 0 else reversed(range(len(fns)))
        for i in order:
            gc.collect()
            start_cpu, start_wall = time.process_time(), time.perf_counter()
            fns[i]()
            cpu[i] = min(cpu[i], time.process_time() - start_cpu)
            wall[i] = min(wall[i], time.perf_counter() - start_wall)
            used[i] += time.process_time() - start_cpu
        rep += 1
    return cpu, wall, rep


def cases(X):
    """(name, sigest call, plain call, description of the plain call) for every transformer."""
    import mne
    import scipy.signal
    import torch

    from sigest.noise import NoiseInjector
    from sigest.preprocessing import STFT, BandpassFilter

    stft = STFT(sfreq=SFREQ, n_fft=N_FFT, hop_length=HOP, output="log-magnitude",
                eps=EPS).fit(X)

    def plain_stft():
        _, _, Z = scipy.signal.stft(X, window="hann", nperseg=N_FFT, noverlap=N_FFT - HOP,
                                    detrend=False, boundary="even", padded=True, axis=-1)
        magnitude = np.abs(Z)  # in place, as sigest does: the strictest plain baseline
        magnitude += EPS
        return np.log(magnitude, out=magnitude)

    X32 = X.astype(np.float32)
    stft32 = STFT(sfreq=SFREQ, n_fft=N_FFT, hop_length=HOP, output="log-magnitude",
                  eps=EPS).fit(X32)
    window = scipy.signal.get_window("hann", N_FFT)
    window32 = torch.from_numpy((window / window.sum()).astype(np.float32))

    def plain_stft32():
        Z = torch.stft(torch.from_numpy(X32), N_FFT, hop_length=HOP, window=window32,
                       center=True, pad_mode="reflect", return_complex=True)
        magnitude = Z.abs().numpy()
        magnitude += EPS
        return np.log(magnitude, out=magnitude)

    bandpass = BandpassFilter(L_FREQ, H_FREQ, sfreq=SFREQ).fit(X)

    def plain_bandpass():
        return mne.filter.filter_data(X, SFREQ, L_FREQ, H_FREQ, verbose=False)

    injector = NoiseInjector(source="white", snr_db=SNR_DB, random_state=0).fit(X)

    def plain_noise():
        rng = np.random.default_rng(0)
        noise = rng.standard_normal(X.shape)
        rms_x = np.sqrt(np.mean(X**2, axis=-1, keepdims=True))
        rms_n = np.sqrt(np.mean(noise**2, axis=-1, keepdims=True))
        noise *= rms_x / (rms_n * 10 ** (SNR_DB / 10))  # in place: the strictest baseline
        noise += X
        return noise

    return [
        ("STFT", lambda: stft.transform(X), plain_stft,
         f"scipy.signal.stft(nperseg={N_FFT}, noverlap={N_FFT - HOP}) "
         "+ log(abs(Z) + eps), in place"),
        ("STFT (float32)", lambda: stft32.transform(X32), plain_stft32,
         f"torch.stft(n_fft={N_FFT}, hop_length={HOP}, center=True) "
         "+ log(abs(Z) + eps), in place"),
        ("BandpassFilter", lambda: bandpass.transform(X), plain_bandpass,
         f"mne.filter.filter_data(X, {SFREQ:g}, {L_FREQ:g}, {H_FREQ:g}) (FIR)"),
        ("NoiseInjector", lambda: injector.transform(X), plain_noise,
         f"numpy: standard_normal + EEGdenoiseNet mixing at {SNR_DB:g} dB, in place"),
    ]


def torch_stft_case(X):
    """torch.stft vs scipy.signal.stft (magnitude) in float32 and float64."""
    import scipy.signal
    import torch

    rows = []
    for dtype in (np.float32, np.float64):
        Xd = np.ascontiguousarray(X.astype(dtype))
        window = torch.hann_window(N_FFT, periodic=True, dtype=torch.from_numpy(Xd[:1]).dtype)

        def torch_call(Xd=Xd, window=window):
            Z = torch.stft(torch.from_numpy(Xd).reshape(-1, Xd.shape[-1]), N_FFT,
                           hop_length=HOP, window=window, center=True, pad_mode="reflect",
                           return_complex=True)
            return Z.abs().numpy()

        def scipy_call(Xd=Xd):
            _, _, Z = scipy.signal.stft(Xd, window="hann", nperseg=N_FFT,
                                        noverlap=N_FFT - HOP, detrend=False, boundary="even",
                                        padded=True, axis=-1)
            return np.abs(Z)

        rows.append((f"torch.stft ({np.dtype(dtype).name})", torch_call, scipy_call,
                     f"scipy.signal.stft ({np.dtype(dtype).name}) + abs"))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1,000 epochs, 2 repeats")
    parser.add_argument("--n-epochs", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=None,
                        help="fewest rounds per case; default 5 (2 with --quick)")
    parser.add_argument("--min-cpu-seconds", type=float, default=None,
                        help="repeat each case until each side used this much CPU; default 10 "
                             "(0 with --quick)")
    args = parser.parse_args(argv)
    n_epochs = args.n_epochs or (1_000 if args.quick else 10_000)
    repeats = args.repeats or (2 if args.quick else 5)
    min_cpu = args.min_cpu_seconds if args.min_cpu_seconds is not None else (
        0.0 if args.quick else 10.0)

    import torch

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # mne: FIR longer than a 2-s epoch (same for both sides)

    X = np.random.default_rng(0).standard_normal((n_epochs, N_TIMES))
    results = Results(
        "transforms", quick=args.quick,
        data=f"synthetic Gaussian epochs, {n_epochs} x {N_TIMES} float64 (2 s at 256 Hz)",
        protocol=(f"transform of a fitted sigest transformer vs the plain call on the same "
                  f"array; best of >= {repeats} interleaved runs each (more until each side used "
                  f"{min_cpu:g} s of CPU); seconds = process CPU time "
                  f"(single-threaded work on a shared machine), wall time also given; 1 torch "
                  f"thread, mne n_jobs=1"),
        notes="Target: ratio_to_plain <= 1.10 (sigest at most 10 % slower than the plain call). "
              "The torch.stft rows compare torch.stft with scipy.signal.stft (ratio = torch / "
              "scipy): the measurement behind STFT's backend choice.",
    )
    for name, sigest_fn, plain_fn, plain_call in cases(X) + torch_stft_case(X):
        (seconds, plain_seconds), (wall, plain_wall), rounds = _best_interleaved(
            [sigest_fn, plain_fn], repeats, min_cpu)
        results.add(model=name, n_epochs=n_epochs, n_times=N_TIMES, repeats=rounds,
                    seconds=seconds, plain_seconds=plain_seconds,
                    ratio_to_plain=seconds / plain_seconds,
                    wall_seconds=wall, plain_wall_seconds=plain_wall,
                    wall_ratio_to_plain=wall / plain_wall,
                    epochs_per_s=n_epochs / seconds, plain_call=plain_call)
        print(f"{name:24s} cpu: sigest {seconds:7.3f} s plain {plain_seconds:7.3f} s ratio "
              f"{seconds / plain_seconds:.3f} | wall: {wall:7.3f} s {plain_wall:7.3f} s ratio "
              f"{wall / plain_wall:.3f}", flush=True)
        results.write(table_keys=["model", "n_epochs", "seconds", "plain_seconds",
                                  "ratio_to_plain", "wall_seconds", "plain_wall_seconds",
                                  "wall_ratio_to_plain", "plain_call"])
    return results


if __name__ == "__main__":
    main()
