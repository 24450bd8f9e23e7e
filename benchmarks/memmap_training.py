"""Out-of-core training: BG-Attention from memory-mapped .npy files 2x, 4x and 8x a RAM budget.

The clean-EEG training files are written to disk (``--dir``, default a temporary folder) in
chunks: the shipped real EEG epochs (EEGdenoiseNet, 512 samples at 256 Hz), each copy with a
random gain and circular shift, float32. Each training run happens in a fresh subprocess that
opens its file with ``np.load(mmap_mode="r")`` and fits ``bg-attention`` on it with on-the-fly
white noise, drawing its batches at random from the whole file (a ``RandomSampler`` with a fixed
number of draws per epoch, so the work per run is the same whatever the file size). The
subprocess samples its memory every 20 ms and reports:

- ``peak_rss_anon_mb``: peak anonymous resident memory (``RssAnon``, /proc/self/status): the
  memory the process owns and cannot give back. This is the number that must stay flat.
- ``peak_rss_mb``: peak total resident memory (``getrusage`` ``ru_maxrss``), which also counts
  file pages of the memmap the kernel keeps cached while RAM is free (they are dropped first
  under memory pressure, so they are not a requirement).
- ``baseline_rss_anon_mb``: the same process's RssAnon just before ``fit`` (torch and sigest
  imported, file opened).

Why not ``resource.setrlimit(RLIMIT_AS)``: mapping a file counts against the address-space
limit, so a memmap larger than the limit cannot even be opened, and torch alone reserves
several GB of virtual address space; RLIMIT_RSS is not enforced by Linux. So the RAM limit is
a budget checked by measurement: the growth of anonymous memory during ``fit`` must stay under
``--budget-mb`` while the files are 2x, 4x and 8x that budget.

``--limit-mb L`` (e.g. 1024): the limit enforced instead, by ``RLIMIT_DATA`` (heap and private
writable mappings; a read-only memmap is not counted): the child may allocate at most L MB
beyond its memory before ``fit``; BG-Attention trains from files 4x and 8x L, and a control run
that loads the 4x file into RAM under the same limit must fail with MemoryError.
Into ``memmap_enforced.json``; about 10 min (writing 4 + 8 GB at L = 1024).

Quick (``--quick``): budget 32 MB (files 64/128/256 MB), 2 training epochs of 120 draws, ~3 min.
Full: budget 128 MB (files 256 MB, 512 MB, 1 GB), 2 epochs of 200 draws each, about 10-15 min
on 2 busy cores (BG-Attention trains at 3-40 epochs/s here, depending on the load).

Both modes first train on a small in-RAM array (the reference): BG-Attention's own training
memory (activations of the GRUs and of 512x512 attention maps) is several hundred MB whatever
the data size, so the check is ``data_overhead_mb`` = peak RssAnon of a memmap run minus that of
the in-RAM reference run, which must stay under the budget and flat as the file grows.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

EPOCH_BYTES = 512 * 4


def write_file(path, n_epochs, seed=0):
    """Write ``n_epochs`` clean-EEG epochs (1, 512) float32 to ``path`` in chunks; no big RAM."""
    from sigest.datasets import load_sample

    eeg = load_sample().eeg.astype(np.float32)
    eeg = eeg / eeg.std()
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n_epochs, 1, 512))
    rng = np.random.default_rng(seed)
    chunk = 8192
    for start in range(0, n_epochs, chunk):
        stop = min(start + chunk, n_epochs)
        idx = rng.integers(0, len(eeg), stop - start)
        shifts = rng.integers(0, 512, stop - start)
        gains = rng.uniform(0.5, 2.0, stop - start).astype(np.float32)
        rows = np.take_along_axis(eeg[idx], (np.arange(512) + shifts[:, None]) % 512, axis=1)
        out[start:stop, 0] = rows * gains[:, None]
    out.flush()
    del out


def _status_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _rss_anon_mb():
    return _status_mb("RssAnon")


class _Sampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.peak = _rss_anon_mb()
        self.peak_data = _status_mb("VmData")
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, _rss_anon_mb())
            self.peak_data = max(self.peak_data, _status_mb("VmData"))
            time.sleep(0.02)


def impose_data_limit(limit_mb):
    """``RLIMIT_DATA`` = this process's private writable memory now + ``limit_mb``: every heap
    or anonymous allocation beyond that fails (MemoryError), while a read-only memmap of a file
    is not counted (unlike ``RLIMIT_AS``). Returns the limit in MB."""
    limit = _status_mb("VmData") + limit_mb
    hard = resource.getrlimit(resource.RLIMIT_DATA)[1]
    resource.setrlimit(resource.RLIMIT_DATA, (int(limit * 2**20), hard))
    return limit


def child(path, draws, epochs, in_ram, limit_mb=None, copy_whole=False):
    """Train in this (fresh) process and print one JSON line with the measurements."""
    import torch

    torch.set_num_threads(1)
    import sigest

    X = np.load(path, mmap_mode="r")
    limit = None if limit_mb is None else impose_data_limit(limit_mb)
    if copy_whole:  # the control: loading the whole file into RAM must fail under the limit
        try:
            X = np.array(X, copy=True)
        except MemoryError as exc:
            print(json.dumps({"error": f"MemoryError: {exc}", "data_limit_mb": limit}))
            return
    if in_ram:
        X = np.array(X[:draws], copy=True)  # the reference: same shape, all in RAM
    sampler = torch.utils.data.RandomSampler(range(len(X)), replacement=True, num_samples=draws,
                                             generator=torch.Generator().manual_seed(0))
    est = sigest.get_estimator(
        "bg-attention", max_epochs=epochs, train_split=None, patience=None, sfreq=256.0,
        noise="white", random_state=0, verbose=0,
        iterator_train__sampler=sampler, iterator_train__shuffle=False)
    baseline = _rss_anon_mb()
    watcher = _Sampler()
    watcher.start()
    t0 = time.perf_counter()
    est.fit(X)
    fit_seconds = time.perf_counter() - t0
    watcher.stop.set()
    watcher.join()
    print(json.dumps({
        "data_limit_mb": limit,
        "peak_vm_data_mb": watcher.peak_data,
        "fit_seconds": fit_seconds,
        "train_loss": float(est.history[-1, "train_loss"]),
        "baseline_rss_anon_mb": baseline,
        "peak_rss_anon_mb": max(watcher.peak, _rss_anon_mb()),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "n_epochs_file": int(len(np.load(path, mmap_mode="r"))),
        "samples_per_s": draws * epochs / fit_seconds,
    }))


def run_child(path, draws, epochs, in_ram=False, limit_mb=None, copy_whole=False):
    cmd = [sys.executable, __file__, "--child", str(path), "--draws", str(draws),
           "--epochs", str(epochs)] + (["--in-ram"] if in_ram else []) + (
        ["--limit-mb", str(limit_mb)] if limit_mb is not None else []) + (
        ["--copy-whole"] if copy_whole else [])
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(f"child failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--budget-mb", type=float, default=None)
    parser.add_argument("--dir", default=None, help="where to write the .npy files (deleted)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--draws", type=int, default=400, help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, default=3, help=argparse.SUPPRESS)
    parser.add_argument("--in-ram", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--copy-whole", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--limit-mb", type=float, default=None,
                        help="instead: an enforced limit (RLIMIT_DATA) of this many MB on what "
                             "fit may allocate, files 4x and 8x it, into memmap_enforced.json")
    args = parser.parse_args(argv)
    if args.limit_mb is not None and not args.limit_mb > 0:
        parser.error(f"--limit-mb must be a positive number of MB; got {args.limit_mb:g}")
    if args.child:
        return child(args.child, args.draws, args.epochs, args.in_ram, args.limit_mb,
                     args.copy_whole)
    if args.limit_mb is not None:
        return run_enforced(args)

    from _common import Results

    budget = args.budget_mb or (32.0 if args.quick else 128.0)
    draws, epochs = (120, 2) if args.quick else (200, 2)
    results = Results(
        "memmap", quick=args.quick, data=_data("2x, 4x, 8x the budget"),
        protocol=_protocol(epochs, draws, f"; RAM budget {budget:g} MB checked by measurement "
                                          "(RssAnon sampled every 20 ms)"),
        notes="RLIMIT_AS cannot be used: a memmap counts against the address-space limit and "
              "torch reserves GBs of it. `peak_rss_anon_mb` is what the process owns; "
              "`peak_rss_mb` (ru_maxrss) also counts cached file pages of the memmap (the "
              "finite-value check in validation reads the whole file once), reclaimable by "
              "the kernel. `anon_growth_mb` = peak - baseline RssAnon during fit (mostly "
              "BG-Attention's activations); `data_overhead_mb` = peak RssAnon minus the "
              "in-RAM reference run's, which must stay under the budget.")
    keys = ["model", "storage", "file_mb", "x_budget", "n_epochs_file", "baseline_rss_anon_mb",
            "peak_rss_anon_mb", "anon_growth_mb", "data_overhead_mb", "within_budget",
            "peak_rss_mb", "fit_seconds", "samples_per_s", "train_loss"]
    with _work_folder(args.dir) as folder:
        for factor in (None, 2, 4, 8):
            n_epochs = (draws if factor is None
                        else int(factor * budget * 2**20 / EPOCH_BYTES))
            path = folder / f"eeg_{n_epochs}.npy"
            write_file(path, n_epochs)
            m = run_child(path, draws, epochs, in_ram=factor is None)
            growth = m["peak_rss_anon_mb"] - m["baseline_rss_anon_mb"]
            if factor is None:
                reference = m["peak_rss_anon_mb"]
            overhead = m["peak_rss_anon_mb"] - reference
            results.add(model="bg-attention", storage="in-RAM array" if factor is None
                        else "memmap", file_mb=path.stat().st_size / 2**20,
                        x_budget=factor, seed=0, anon_growth_mb=growth,
                        data_overhead_mb=overhead, within_budget=bool(overhead < budget), **m)
            print(results.rows[-1], flush=True)
            results.write(table_keys=keys)
            path.unlink()


def _data(sizes):
    return ("the shipped real EEG epochs (EEGdenoiseNet clean EEG, 256 Hz, 2 s) copied with "
            f"random gain and circular shift into float32 .npy files of {sizes}")


def _protocol(epochs, draws, limit):
    return (f"bg-attention (defaults, batch 40), white noise on the fly, {epochs} epochs of "
            f"{draws} random draws from the whole memmap, train_split=None; one fresh "
            f"subprocess per run{limit}")


@contextlib.contextmanager
def _work_folder(folder_arg):
    """The folder for the .npy files: ``folder_arg``, or a temporary one deleted at the end."""
    folder = Path(folder_arg or tempfile.mkdtemp(prefix="sigest_memmap_"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield folder
    finally:
        if not folder_arg:
            for path in folder.glob("*.npy"):
                path.unlink()
            folder.rmdir()


def run_enforced(args):
    """BG-Attention under an imposed ``RLIMIT_DATA`` of ``--limit-mb`` on top of the process's
    memory before ``fit``, from memmaps 4x and 8x that limit; the control copies the 4x file
    into RAM under the same limit and must fail."""
    from _common import Results

    limit_mb = args.limit_mb
    draws, epochs = (120, 2) if args.quick else (200, 2)
    results = Results(
        "memmap_enforced", quick=args.quick, data=_data("4x and 8x the limit"),
        protocol=_protocol(epochs, draws, f" with RLIMIT_DATA = its VmData before fit + "
                                          f"{limit_mb:g} MB (enforced by the kernel: any larger "
                                          "private allocation fails)"),
        notes="RLIMIT_DATA counts heap and private writable mappings, not a read-only memmap "
              "of a file, so it limits what the process allocates while the file stays on "
              "disk. The control row loads the 4x file into RAM under the same limit: it must "
              "fail with MemoryError, which shows the limit is real.")
    keys = ["model", "storage", "file_mb", "x_limit", "data_limit_mb", "peak_vm_data_mb",
            "peak_rss_anon_mb", "anon_growth_mb", "outcome", "fit_seconds", "samples_per_s",
            "train_loss"]
    with _work_folder(args.dir) as folder:
        for factor, copy_whole in ((4, True), (4, False), (8, False)):
            path = folder / f"eeg_x{factor}.npy"
            if not path.exists():
                write_file(path, int(factor * limit_mb * 2**20 / EPOCH_BYTES))
            m = run_child(path, draws, epochs, limit_mb=limit_mb, copy_whole=copy_whole)
            outcome = m.pop("error", None) or "trained"
            if "peak_rss_anon_mb" in m:
                m["anon_growth_mb"] = m["peak_rss_anon_mb"] - m["baseline_rss_anon_mb"]
            results.add(model="bg-attention", storage="in-RAM copy of the file" if copy_whole
                        else "memmap", file_mb=path.stat().st_size / 2**20, x_limit=factor,
                        limit_mb=limit_mb, seed=0, outcome=outcome, **m)
            print(results.rows[-1], flush=True)
            results.write(table_keys=keys)
            if not copy_whole:
                path.unlink()


if __name__ == "__main__":
    main()
