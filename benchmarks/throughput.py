"""Training and inference throughput on CPU: every registered estimator vs a plain PyTorch loop.

For each neural estimator the same network (``est.module`` built with the fitted estimator's
module kwargs, same seed), optimizer, loss, batch size and data are trained for the same number
of epochs twice: through sigest (``fit``) and through a plain PyTorch loop (a random
permutation, tensor slicing, forward, loss, backward, step: the fastest honest baseline, no
DataLoader). Repeats are interleaved (sigest, plain, plain, sigest, ...) in one process, so the
``ratio_to_plain_torch`` of samples/s is measured under the same machine load. Times are CPU
seconds of the (single-threaded) process (``time.process_time``), which other jobs on a shared
machine disturb far less than wall time; ``wall_*`` columns give the wall-clock view. The classical
denoisers (``bandpass``, ``wavelet``) have no network and are skipped.

Denoisers train on explicit (noisy, clean) pairs with ``epoch_scaling=None`` so that both
sides do the same arithmetic; the cost of sigest's on-the-fly noise injection, per-epoch std
scaling and in-network STFTs is measured separately (``part="data"`` rows: share of a training
step).

Quick mode (``--quick``): built-ins only, 1 timed epoch x 2 repeats, about 5-10 minutes on 2
busy cores. Full mode: built-ins and the example plugin, 1 timed epoch x 7 repeats per side,
``torch.compile`` on/off for the small convolutional models, and the braindecode plugin's
models with ``--braindecode`` (about an hour more). Threads: ``torch.set_num_threads(1)``.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, Results  # noqa: E402

import sigest  # noqa: E402
from sigest.datasets import load_sample  # noqa: E402

CLASSICAL = {"bandpass", "wavelet"}
# Per model: input (n_channels, n_times), sfreq, epochs in the training set, extra estimator
# parameters; defaults otherwise (paper batch sizes). Training sets are sized so one epoch takes
# about a second here: with only a few batches per epoch, skorch's fixed per-epoch bookkeeping
# (callbacks, history; ~2-5 ms) would be measured instead of training.
SPECS = {
    "bg-attention": dict(shape=(1, 512), sfreq=256.0, n=80),
    "rnn-lstm": dict(shape=(1, 512), sfreq=256.0, n=2000),
    "fcnn": dict(shape=(1, 512), sfreq=256.0, n=4000),
    "simple-cnn": dict(shape=(1, 512), sfreq=256.0, n=320),
    "complex-cnn": dict(shape=(1, 512), sfreq=256.0, n=160),
    "novel-cnn": dict(shape=(1, 512), sfreq=256.0, n=40),
    "tiny-conv-denoiser": dict(shape=(1, 512), sfreq=256.0, n=4096),
    "example-fir-denoiser": dict(shape=(1, 512), sfreq=256.0, n=8192),
    "cdae-bam": dict(shape=(1, 256), sfreq=360.0, n=1024),
    "tiny-conv-classifier": dict(shape=(2, 512), sfreq=256.0, n=4096),
    # the 5-s Sleep-EDF epochs of the benchmarks (a 30-s epoch at batch 64 needs > 5.7 GB with
    # the default dim-128, depth-8 network: attention over 30 x 15 patches)
    "freqcut-sleep": dict(shape=(1, 500), sfreq=100.0, n=256),
    "ts-stdn": dict(shape=(2, 800), sfreq=200.0, n=128),
    "gan": dict(shape=(1, 178), sfreq=178.0, n=4096),
    "wavegan": dict(shape=(1, 178), sfreq=178.0, n=1024),
    "tiny-mlp-gan": dict(shape=(1, 64), sfreq=64.0, n=16384),
    # the braindecode sleep stagers on the 30-s, 100-Hz epochs they are built for
    "braindecode-attnsleep": dict(shape=(1, 3000), sfreq=100.0, n=256),
    "braindecode-usleep": dict(shape=(1, 3000), sfreq=100.0, n=256),
}
BRAINDECODE_SPEC = dict(shape=(4, 1000), sfreq=250.0, n=64, adaptive=True)
# adaptive specs (the braindecode zoo): a network whose training epoch would take more than
# HEAVY_EPOCH_SECONDS of CPU is timed on fewer epochs (>= 8), inference on those only, so a
# zoo model takes minutes, not an hour; one faster than MIN_EPOCH_SECONDS gets more epochs,
# so the ratio measures training steps, not skorch's fixed per-epoch bookkeeping
HEAVY_EPOCH_SECONDS = 8.0
MIN_EPOCH_SECONDS = 1.0
MAX_EPOCHS_GROWN = 2048
COMPILE_MODELS = ("tiny-conv-denoiser", "fcnn", "simple-cnn", "tiny-conv-classifier")


def real_eeg(shape, n, seed=0):
    """``n`` epochs of shape ``shape`` cut from the shipped real EEG (EEGdenoiseNet, 256 Hz)."""
    eeg = load_sample().eeg.astype(np.float32)  # (101, 512)
    stream = np.concatenate([eeg, eeg[:, ::-1]]).reshape(-1)  # 103,424 real samples
    rng = np.random.default_rng(seed)
    n_channels, n_times = shape
    starts = rng.integers(0, stream.size - n_times, size=(n, n_channels))
    X = np.stack([[stream[s:s + n_times] for s in row] for row in starts])
    return (X / X.std()).astype(np.float32)


def make_task(name, kind, spec, seed=0):
    X = real_eeg(spec["shape"], spec["n"], seed)
    rng = np.random.default_rng(seed + 1)
    if kind == "denoising":
        noisy = X + rng.standard_normal(X.shape).astype(np.float32)
        return noisy, X
    if kind == "classification":
        n_classes = 5 if name in ("freqcut-sleep",) else 2
        return X, np.arange(len(X)) % n_classes
    return X, None


def estimator(name, spec, epochs, **extra):
    params = dict(max_epochs=epochs, random_state=0, verbose=0, train_split=None,
                  sfreq=spec["sfreq"])
    cls = sigest.get_estimator_class(name)
    names = cls().get_params()
    if "patience" in names:
        params["patience"] = None
    if "epoch_scaling" in names and cls.__mro__[1:] and issubclass(cls, sigest.SignalDenoiser):
        params["epoch_scaling"] = None
        params["noise"] = None
    params.update(spec.get("params", {}))
    params.update(extra)
    return cls(**params)


# ----------------------------------------------------------------------- the plain loops
def plain_parts(est, compile_=False):
    """The estimator's network, optimizer and loss, built fresh the plain-PyTorch way."""
    kwargs = {**est._module_shape_kwargs(), **est.get_params_for("module")}
    torch.manual_seed(0)
    module = est.module(**kwargs)
    opt_kwargs = {"lr": est.lr, **est.get_params_for("optimizer")}
    if isinstance(est, sigest.SignalGenerator):
        if est.optimizer in (torch.optim.Adam, torch.optim.AdamW):
            opt_kwargs.setdefault("betas", (0.5, 0.999))
        optimizers = (est.optimizer(module.generator.parameters(), **opt_kwargs),
                      est.optimizer(module.discriminator.parameters(), **opt_kwargs))
    else:
        optimizers = (est.optimizer(module.parameters(), **opt_kwargs),)
    criterion = copy.deepcopy(est.criterion_)
    if compile_:
        module = torch.compile(module)
    return module, optimizers, criterion


def plain_train(est, X, y, epochs, compile_=False):
    """Train like a plain PyTorch script; returns (wall, cpu) seconds, network construction
    included."""
    t0, c0 = time.perf_counter(), time.process_time()
    module, optimizers, criterion = plain_parts(est, compile_)
    Xt = torch.from_numpy(X)
    yt = None if y is None else torch.from_numpy(np.asarray(y))
    if isinstance(est, sigest.SignalClassifier) and hasattr(est, "data_scale_"):  # ts-stdn
        Xt = Xt / torch.from_numpy(est.data_scale_.astype(np.float32))
    if isinstance(est, sigest.SignalGenerator):
        Xt = (Xt - torch.from_numpy(est.data_mean_.astype(np.float32))) / torch.from_numpy(
            est.data_std_.astype(np.float32))
    step = _plain_step(est, module, optimizers, criterion)
    bs = est.batch_size
    module.train()
    for _ in range(epochs):
        perm = torch.randperm(len(Xt))
        for start in range(0, len(Xt), bs):
            idx = perm[start:start + bs]
            step(Xt[idx], None if yt is None else yt[idx])
    return time.perf_counter() - t0, time.process_time() - c0


def _plain_step(est, module, optimizers, criterion):
    opt = optimizers[0]
    if isinstance(est, sigest.SignalGenerator):
        opt_d = optimizers[1]
        gen = getattr(module, "_orig_mod", module)

        def gan_step(real, _):
            if len(real) == 1:
                real = torch.cat([real, real])
            opt_d.zero_grad()
            with torch.no_grad():
                fake = gen.generator(torch.randn(len(real), gen.latent_dim), None)
            d_real = gen.discriminator(real, None).reshape(-1)
            d_fake = gen.discriminator(fake, None).reshape(-1)
            loss_d = (criterion(d_real, torch.ones_like(d_real))
                      + criterion(d_fake, torch.zeros_like(d_fake)))
            loss_d.backward()
            opt_d.step()
            opt.zero_grad()
            fake = gen.generator(torch.randn(len(real), gen.latent_dim), None)
            d_fake = gen.discriminator(fake, None).reshape(-1)
            loss_g = criterion(d_fake, torch.ones_like(d_fake))
            loss_g.backward()
            opt.step()
            loss_d.item()
        return gan_step
    if hasattr(est, "spectral_weight"):  # ts-stdn: CE + temporal + spectral reconstruction
        import torch.nn.functional as F

        def ts_step(x, y):
            opt.zero_grad()
            logits, x_rec, s_rec = module(x)
            loss = criterion(logits, y) + est.temporal_weight * F.mse_loss(x_rec, x)
            loss = loss + est.spectral_weight * F.mse_loss(
                s_rec, getattr(module, "_orig_mod", module).spectrum(x))
            loss.backward()
            opt.step()
            loss.item()
        return ts_step

    def step(x, y):
        opt.zero_grad()
        loss = criterion(module(x), y)
        loss.backward()
        opt.step()
        loss.item()
    return step


def plain_infer(est, X, compile_=False):
    module, _, _ = plain_parts(est, compile_)
    getattr(module, "_orig_mod", module).load_state_dict(
        getattr(est.module_, "_orig_mod", est.module_).state_dict())
    module.eval()
    Xt = torch.from_numpy(X)
    t0, c0 = time.perf_counter(), time.process_time()
    with torch.no_grad():
        for start in range(0, len(Xt), 256):
            out = module(Xt[start:start + 256])
            if isinstance(out, tuple):
                out = out[0]
            out.numpy()
    return time.perf_counter() - t0, time.process_time() - c0


def sigest_infer(est, X):
    t0, c0 = time.perf_counter(), time.process_time()
    if isinstance(est, sigest.SignalClassifier):
        est.predict_proba(X)
    else:
        est.transform(X)
    return time.perf_counter() - t0, time.process_time() - c0


def sigest_train(est, X, y):
    t0, c0 = time.perf_counter(), time.process_time()
    est.fit(X, y)
    return time.perf_counter() - t0, time.process_time() - c0


# -------------------------------------------------------------------------- measurement
def measure(results, name, kind, spec, epochs, repeats, compile_=False):
    X, y = make_task(name, kind, spec)
    extra = {"compile": True} if compile_ else {}
    heavy = False
    if not compile_ and spec.get("adaptive"):  # a probe on 8 epochs sizes the training set
        t0 = time.process_time()
        estimator(name, spec, 1).fit(X[:8], None if y is None else y[:8])
        per_epoch = (time.process_time() - t0) / 8
        if per_epoch * len(X) > HEAVY_EPOCH_SECONDS:  # slow: fewer epochs
            heavy = True
            n_keep = max(8, 8 * int(HEAVY_EPOCH_SECONDS / per_epoch / 8))
            X, y = X[:n_keep], None if y is None else y[:n_keep]
        elif per_epoch * len(X) < MIN_EPOCH_SECONDS:  # fast: enough batches for ~1 s epochs
            n_grow = min(MAX_EPOCHS_GROWN, 64 * int(np.ceil(MIN_EPOCH_SECONDS / per_epoch / 64)))
            X, y = make_task(name, kind, {**spec, "n": n_grow})
    n = len(X)
    est = estimator(name, spec, 1, **extra).fit(X, y)  # warm-up (and compile) + fitted shapes
    plain_train(est, X, y, 1, compile_)
    est.set_params(max_epochs=epochs)
    s_times, p_times = [], []  # (wall, cpu) seconds
    for r in range(repeats):
        order = ("sigest", "plain") if r % 2 == 0 else ("plain", "sigest")
        for which in order:
            if which == "sigest":
                s_times.append(sigest_train(est, X, y))
            else:
                p_times.append(plain_train(est, X, y, epochs, compile_))
    ratios = [p[1] / s[1] for s, p in zip(s_times, p_times)]
    wall_ratios = [p[0] / s[0] for s, p in zip(s_times, p_times)]
    row = dict(model=name, part="train", compile=compile_, batch_size=est.batch_size,
               n_channels=spec["shape"][0], n_times=spec["shape"][1], n_train=n, epochs=epochs,
               heavy=heavy,
               repeats=repeats, seed=0,
               samples_per_s=n * epochs / statistics.median(s[1] for s in s_times),
               plain_samples_per_s=n * epochs / statistics.median(p[1] for p in p_times),
               ratio_to_plain_torch=statistics.median(ratios),
               ratio_min=min(ratios), ratio_max=max(ratios),
               wall_samples_per_s=n * epochs / statistics.median(s[0] for s in s_times),
               wall_ratio_to_plain_torch=statistics.median(wall_ratios))
    if not isinstance(est, sigest.SignalGenerator):
        X_inf = X if heavy else np.concatenate([X] * max(1, 512 // n))[:max(n, 256)]
        sigest_infer(est, X_inf), plain_infer(est, X_inf, compile_)  # warm-up
        s_inf, p_inf = [], []
        for _ in range(repeats):
            s_inf.append(sigest_infer(est, X_inf)[1])
            p_inf.append(plain_infer(est, X_inf, compile_)[1])
        row.update(inference_epochs_per_s=len(X_inf) / statistics.median(s_inf),
                   plain_inference_epochs_per_s=len(X_inf) / statistics.median(p_inf),
                   inference_ratio_to_plain_torch=statistics.median(
                       p / s for s, p in zip(s_inf, p_inf)))
    results.add(**row)
    print(f"{name:24s} compile={compile_!s:5s} train {row['samples_per_s']:9.1f}/s  plain "
          f"{row['plain_samples_per_s']:9.1f}/s  ratio {row['ratio_to_plain_torch']:.3f} "
          f"[{row['ratio_min']:.3f}, {row['ratio_max']:.3f}]"
          + (f"  infer ratio {row['inference_ratio_to_plain_torch']:.3f}"
             if "inference_ratio_to_plain_torch" in row else ""),
          flush=True)


# ------------------------------------------------------- item 5: data on the fly per step
def _median_time(fn, repeats):
    times = []  # CPU seconds of this process: robust to other jobs on the machine
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return statistics.median(times)


def measure_noise(results, name, noise, epochs, repeats):
    """Share of a training step spent drawing noise (+ std scaling), two ways."""
    spec = SPECS[name]
    noisy, clean = make_task(name, "denoising", spec)
    pairs = estimator(name, spec, epochs)
    on_the_fly = estimator(name, spec, epochs, noise=noise, epoch_scaling="std")
    pairs.fit(noisy, clean), on_the_fly.fit(clean)  # warm-up
    t_pairs, t_fly = [], []
    for r in range(repeats):
        for which in (("p", "f") if r % 2 == 0 else ("f", "p")):
            t0 = time.process_time()
            pairs.fit(noisy, clean) if which == "p" else on_the_fly.fit(clean)
            (t_pairs if which == "p" else t_fly).append(time.process_time() - t0)
    n_batches = epochs * int(np.ceil(len(clean) / pairs.batch_size))
    # direct: one inject call on a batch vs one training step
    batch = clean[:pairs.batch_size]
    rng = np.random.default_rng(0)
    t_inject = _median_time(lambda: on_the_fly.noise_.inject(batch, rng), 20)
    step = statistics.median(t_pairs) / n_batches
    row = results.add(model=name, part="data", what=f"noise={noise} + std scaling",
                      batch_size=pairs.batch_size, seed=0, epochs=epochs, repeats=repeats,
                      step_ms=1e3 * step, inject_ms=1e3 * t_inject,
                      share_of_step_direct=t_inject / step,
                      share_of_step_fit=1 - statistics.median(t_pairs) / statistics.median(t_fly))
    print(f"{name} noise={noise}: step {row['step_ms']:.2f} ms, inject {row['inject_ms']:.3f} "
          f"ms, share direct {row['share_of_step_direct']:.3f}, share from fit times "
          f"{row['share_of_step_fit']:.3f}", flush=True)


def measure_stft(results, name, stft_fn_name, repeats):
    """Share of a training step spent in the network's own STFT (forward) of a batch."""
    spec = SPECS[name]
    kind = "classification"
    X, y = make_task(name, kind, spec)
    est = estimator(name, spec, 1).fit(X, y)
    bs = est.batch_size
    xb = X[:bs]
    est.set_params(max_epochs=1)
    n_batches = int(np.ceil(len(X) / bs))
    t_fit = _median_time(lambda: est.fit(X, y), repeats)
    stft = getattr(est.module_, stft_fn_name)
    xt = torch.from_numpy(xb)
    with torch.no_grad():
        t_stft = _median_time(lambda: stft(xt), 20)
    calls = 2 if name == "ts-stdn" else 1  # ts-stdn: spectral stream + spectral target
    step = t_fit / n_batches
    row = results.add(model=name, part="data", what=f"in-network STFT ({stft_fn_name}) x{calls}",
                      batch_size=bs, seed=0, epochs=1, repeats=repeats, step_ms=1e3 * step,
                      stft_ms=1e3 * calls * t_stft, share_of_step_direct=calls * t_stft / step)
    print(f"{name} STFT: step {row['step_ms']:.2f} ms, stft {row['stft_ms']:.3f} ms, share "
          f"{row['share_of_step_direct']:.3f}", flush=True)


def measure_stft_transformer(results, repeats):
    """sigest.preprocessing.STFT applied per batch (e.g. in a pipeline) vs a training step."""
    from sigest.preprocessing import STFT

    spec = dict(SPECS["freqcut-sleep"])
    X, y = make_task("freqcut-sleep", "classification", spec)
    stft = STFT(sfreq=100.0, n_fft=100, hop_length=100).fit(X)
    S = stft.transform(X)
    est = estimator("freqcut-sleep", spec, 1, spectrogram_input=True, sfreq=None).fit(S, y)
    n_batches = int(np.ceil(len(X) / est.batch_size))
    step = _median_time(lambda: est.fit(S, y), repeats) / n_batches
    xb = X[:est.batch_size]
    t_stft = _median_time(lambda: stft.transform(xb), 20)
    row = results.add(model="freqcut-sleep", part="data",
                      what="sigest.preprocessing.STFT per batch (spectrogram_input=True)",
                      batch_size=est.batch_size, seed=0, epochs=1, repeats=repeats,
                      step_ms=1e3 * step, stft_ms=1e3 * t_stft, share_of_step_direct=t_stft / step)
    print(f"STFT transformer: step {row['step_ms']:.2f} ms, stft {row['stft_ms']:.3f} ms, "
          f"share {row['share_of_step_direct']:.3f}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run (5-10 min)")
    parser.add_argument("--braindecode", action="store_true",
                        help="also the braindecode plugin's models (full mode, ~1 h more)")
    parser.add_argument("--models", nargs="*", help="only these registry names")
    parser.add_argument("--skip-data", action="store_true", help="skip the data-on-the-fly rows")
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile rows")
    parser.add_argument("--part", default="", help="results file suffix: throughput_<part>")
    parser.add_argument("--only-data", action="store_true",
                        help="only the data-on-the-fly rows, into throughput_data.json/.md")
    parser.add_argument("--repeats", type=int, default=None,
                        help="interleaved repeats per side (7; quick 2)")
    parser.add_argument("--summary", action="store_true",
                        help="only summarize every throughput*.json into throughput_summary")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.summary:
        return summarize()
    # one-epoch repeats, many of them: sigest and plain alternate every ~second, so load from
    # other jobs hits both sides alike and the median ratio is stable
    epochs = 1
    repeats = args.repeats or (2 if args.quick else 7)
    notes = ("Ratios are within-run (interleaved repeats, median of per-repeat ratios), so they "
             "stay meaningful on this shared 2-core machine (other jobs running); absolute "
             "samples/s are not. Plain loop = randperm + tensor slicing + forward/loss/backward/"
             "step, the same module class, kwargs, seed, optimizer, loss and batch size. "
             "Denoisers on explicit pairs, epoch_scaling=None. Classical denoisers (bandpass, "
             "wavelet) skipped: no network. Inference: sigest transform/predict_proba vs "
             "module(x) in batches of 256 under no_grad.")
    stem = "throughput_data" if args.only_data else "throughput"
    results = Results(stem + (f"_{args.part}" if args.part else ""), quick=args.quick,
                      notes=notes,
                      data="the shipped real EEG sample (EEGdenoiseNet clean epochs), cut into "
                           "epochs of each model's shape and scaled to unit std; denoisers get "
                           "white-noise noisy copies",
                      protocol=f"{epochs} timed training epoch(s) x {repeats} interleaved "
                               "repeats per side after a 1-epoch warm-up; torch 1 thread")
    keys = ["model", "part", "compile", "batch_size", "n_train", "heavy", "samples_per_s",
            "plain_samples_per_s", "ratio_to_plain_torch", "ratio_min", "ratio_max",
            "inference_epochs_per_s", "plain_inference_epochs_per_s",
            "inference_ratio_to_plain_torch", "what", "step_ms", "inject_ms", "stft_ms",
            "share_of_step_direct", "share_of_step_fit", "error"]
    registry = {row["name"]: row for row in _registry()}
    names = [n for n in registry if n in SPECS or registry[n]["plugin"] == "braindecode"]
    if args.only_data:
        names = []
    elif args.models:
        names = [n for n in names if n in args.models]
    elif args.quick or not args.braindecode:
        names = [n for n in names if registry[n]["plugin"] != "braindecode"]
    for skipped in sorted(set(registry) - set(names)):
        if skipped in CLASSICAL and not args.only_data:
            results.add(model=skipped, part="train", error="skipped: classical, no network")
    for name in names:
        spec = SPECS.get(name, BRAINDECODE_SPEC)
        for compile_ in ((False, True) if (name in COMPILE_MODELS and not args.quick
                                           and not args.no_compile)
                         else (False,)):
            try:
                measure(results, name, registry[name]["task"], spec, epochs, repeats, compile_)
            except Exception as exc:  # a model that cannot run here is reported, not fatal
                traceback.print_exc()
                results.add(model=name, part="train", compile=compile_,
                            error=f"{type(exc).__name__}: {str(exc)[:160]}")
            results.write(table_keys=keys)
    if not args.skip_data:
        for name, noise in (("tiny-conv-denoiser", "white"), ("simple-cnn", "eog"),
                            ("simple-cnn", "nstdb-ma"), ("bg-attention", "eog")):
            measure_noise(results, name, noise, epochs, repeats)
            results.write(table_keys=keys)
        measure_stft(results, "ts-stdn", "spectrum", repeats)
        results.write(table_keys=keys)
        measure_stft(results, "freqcut-sleep", "spectrogram", repeats)
        results.write(table_keys=keys)
        measure_stft_transformer(results, repeats)
        results.write(table_keys=keys)


def summarize():
    """One row per (model, compile) over every ``throughput*.json``: the latest run's ratios,
    the plain loop's step time and the CPU milliseconds sigest adds per training batch (a
    fraction of a millisecond on small networks, which short steps show as a lower ratio)."""
    runs = {}  # (model, compile) -> one entry per run, in file order
    for path in sorted(RESULTS.glob("throughput*.json")):
        if path.stem.startswith(("throughput_summary", "throughput_data")) or "quick" in path.stem:
            continue
        payload = json.loads(path.read_text())
        for row in payload["rows"]:
            if row.get("part") != "train" or "ratio_to_plain_torch" not in row:
                continue
            bs = row["batch_size"]
            plain_ms = 1000 * bs / row["plain_samples_per_s"]
            runs.setdefault((row["model"], row["compile"]), []).append(dict(
                model=row["model"], compile=row["compile"], file=path.name,
                date=payload["date"], plain_step_ms=plain_ms,
                added_ms_per_batch=1000 * bs / row["samples_per_s"] - plain_ms,
                ratio_to_plain_torch=row["ratio_to_plain_torch"],
                ratio_min=row["ratio_min"], ratio_max=row["ratio_max"],
                inference_ratio_to_plain_torch=row.get("inference_ratio_to_plain_torch")))
    # the newest date wins; on a tie, the file read last
    latest = [dict(max(reversed(entries), key=lambda e: e["date"]), runs=len(entries))
              for entries in runs.values()]
    results = Results("throughput_summary", data="benchmarks/results/throughput*.json",
                      protocol="latest run per (model, compile); added_ms_per_batch = sigest's "
                               "CPU time per batch minus the plain loop's",
                      notes="Derived from the files named in `file`; no new measurements.")
    for entry in sorted(latest, key=lambda e: e["plain_step_ms"]):
        results.add(**entry, at_least_0_95=entry["ratio_to_plain_torch"] >= 0.95)
    results.write(["model", "compile", "plain_step_ms", "added_ms_per_batch",
                   "ratio_to_plain_torch", "ratio_min", "ratio_max",
                   "inference_ratio_to_plain_torch", "at_least_0_95", "runs", "file"])
    below = [r for r in results.rows if not r["at_least_0_95"]]
    print(f"{len(results.rows)} (model, compile) rows, {len(below)} below 0.95:",
          ", ".join(f"{r['model']} {r['ratio_to_plain_torch']:.3f}" for r in below))


def _registry():
    return [dict(name=name, **info) for name, info in _list()]


def _list():
    rows = sigest.list_estimators()
    if isinstance(rows, dict):
        return rows.items()
    out = []
    for row in rows:
        if isinstance(row, str):
            cls = sigest.get_estimator_class(row)
            out.append((row, {"task": _task_of(cls), "plugin": _plugin_of(cls)}))
        else:
            out.append((row["name"], {"task": row["task"], "plugin": row.get("plugin", "")}))
    return out


def _task_of(cls):
    if issubclass(cls, sigest.SignalDenoiser):
        return "denoising"
    if issubclass(cls, sigest.SignalClassifier):
        return "classification"
    return "generation"


def _plugin_of(cls):
    return "braindecode" if "braindecode" in cls.__module__ else cls.__module__


if __name__ == "__main__":
    main()
