"""Denoise whole recordings (EDF, BDF, FIF, WFDB) with a fitted denoiser, and the matching CLI.

A fitted denoiser works on epochs of ``n_times_in_`` samples. A recording is longer, so
:func:`denoise_array` cuts every channel into windows of that length with a hop of half a
window, weights each window with a periodic Hann window (whose copies shifted by half a window
sum to one), denoises the batch of windows and adds them back (overlap-add). The signal is
padded by reflection at both ends, so every sample is covered by two windows and there are no
seams at window borders: an identity denoiser returns its input exactly.

Units: ``mne`` holds signals in volts (WFDB records are converted from their physical units
to volts when read). Each window's mean is removed before denoising and added back after it,
and sigest's denoisers divide every window by its standard deviation (``epoch_scaling="std"``)
and restore it on output, so the units of the recording do not matter to the network.
The recording is resampled to the denoiser's sampling rate and back when they differ, and this
is announced on stderr; it never happens silently.

The command line (``sigest denoise``, ``sigest fit``, ``sigest evaluate``, ``sigest plot``) is
registered by :func:`register_commands`.
"""

from __future__ import annotations

import inspect
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from .validation import check_output_file, model_sfreq_of

#: Extensions read with mne.
MNE_EXTENSIONS = (".edf", ".bdf", ".fif", ".fif.gz")
#: Extensions written.
OUTPUT_EXTENSIONS = (".fif", ".fif.gz", ".edf")

_UNIT_TO_VOLT = {"v": 1.0, "mv": 1e-3, "uv": 1e-6, "µv": 1e-6, "μv": 1e-6, "nv": 1e-9}
_DATA_TYPES = ("eeg", "ecg", "emg", "eog", "seeg", "ecog", "dbs", "misc", "bio", "resp")


def _say(message, quiet=False):
    if not quiet:
        print(message, file=sys.stderr)


# ------------------------------------------------------------------------------ overlap-add
def hann_periodic(n_times):
    """Periodic Hann window: its copies shifted by ``n_times / 2`` sum to one.

    Parameters
    ----------
    n_times : int

    Returns
    -------
    window : ndarray of shape (n_times,)

    Examples
    --------
    >>> w = hann_periodic(8)
    >>> bool(np.allclose(w[:4] + w[4:], 1.0))
    True
    """
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_times) / n_times)


def _windows_of(data, n_times, hop):
    """Padded data and the start index of every window; every sample is under two windows."""
    n_samples = data.shape[-1]
    left = hop
    n_windows = max(int(np.ceil((n_samples + left) / hop)), 2)
    right = (n_windows - 1) * hop + n_times - n_samples - left
    mode = "reflect" if n_samples > 1 else "edge"
    padded = np.pad(data, [(0, 0)] * (data.ndim - 1) + [(left, right)], mode=mode)
    return padded, left, np.arange(n_windows) * hop


def denoise_array(estimator, data, sfreq=None, *, batch_size=1024, center=True, progress=False,
                  quiet=True, span=None):
    """Denoise continuous signals with a fitted denoiser by windowed overlap-add.

    Parameters
    ----------
    estimator : fitted sigest denoiser
        Anything with ``transform`` and a fitted ``n_times_in_`` (and ``n_channels_in_``).
        Single-channel models run on each channel; a model fitted on ``C`` channels needs
        ``data`` with exactly ``C`` channels.
    data : array-like of shape (n_channels, n_samples) or (n_samples,)
        The recording, in any units.
    sfreq : float, optional
        The recording's sampling rate. When it differs from the model's (``sfreq_``, else
        ``sfreq``), the signals are resampled to the model's rate, denoised and resampled back
        (announced on stderr unless ``quiet``).
    batch_size : int, default=1024
        Windows per call to ``transform``.
    center : bool, default=True
        Remove each window's mean before denoising and add it back after: offsets pass through
        unchanged and the network sees zero-mean windows, as in training.
    progress : bool, default=False
        Show a tqdm progress bar over the batches.
    quiet : bool, default=True
        Do not announce resampling on stderr.
    span : (int, int), optional
        ``(start, stop)`` sample indices: return only ``denoised[..., start:stop]``, running
        the network only on the windows that cover it and a margin (for a short excerpt of a
        long recording). Without resampling this is the whole-recording result exactly. With
        resampling, the recording is resampled whole and denoised over the span and 2 s
        around it; the samples beyond stay undenoised for the resampling back, whose slowly
        decaying kernel changes the excerpt slightly (at most 6e-4 of its standard deviation
        on 160 Hz EEG through a 256 Hz model).

    Returns
    -------
    denoised : ndarray of ``data``'s shape (``stop - start`` samples with ``span``), float64

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> identity = FunctionTransformer().fit(np.zeros((1, 64)))
    >>> identity.n_times_in_ = 64
    >>> x = np.random.default_rng(0).standard_normal((2, 1000))
    >>> bool(np.allclose(denoise_array(identity, x), x))
    True
    """
    data = np.asarray(data, dtype=np.float64)
    if data.ndim not in (1, 2):
        raise ValueError(f"data must be (n_channels, n_samples) or (n_samples,); got shape "
                         f"{data.shape}")
    squeeze = data.ndim == 1
    data = np.atleast_2d(data)
    if not np.all(np.isfinite(data)):
        raise ValueError("data contains NaN or infinite values; the recording cannot be denoised "
                         "as it is (interpolate or drop the bad segments first)")
    n_times = getattr(estimator, "n_times_in_", None)
    if n_times is None:
        raise ValueError(f"{type(estimator).__name__} is not a fitted denoiser (no n_times_in_); "
                         "fit it or load a saved model first")
    n_times = int(n_times)
    if span is not None:
        start, stop = (int(i) for i in span)
        if not 0 <= start < stop <= data.shape[-1]:
            raise ValueError(f"span must be (start, stop) with 0 <= start < stop <= "
                             f"{data.shape[-1]} (the number of samples); got {span!r}")
    model_sfreq = model_sfreq_of(estimator)
    resample = _rates_differ(sfreq, model_sfreq)
    kwargs = {"batch_size": batch_size, "center": center, "progress": progress}
    if resample:
        import mne

        _say(f"sigest: resampling {sfreq:g} Hz -> {model_sfreq:g} Hz (the model's rate) for "
             f"denoising, and back to {sfreq:g} Hz", quiet)
        work = mne.filter.resample(data, up=model_sfreq, down=sfreq, npad="auto", verbose=False)
    else:
        work = data
    if span is None:
        out = _overlap_add(estimator, work, n_times, **kwargs)
    elif resample:
        # The span at the model's rate, widened so that the resampling back (whose kernel
        # decays slowly) sees denoised samples for 2 s around it.
        ratio, margin = model_sfreq / sfreq, int(np.ceil(2 * model_sfreq))
        lo = max(0, int(np.floor(start * ratio)) - margin)
        hi = min(work.shape[-1], int(np.ceil(stop * ratio)) + margin)
        out = work.copy()
        out[:, lo:hi] = _overlap_add(estimator, work, n_times, span=(lo, hi), **kwargs)
    else:
        out = _overlap_add(estimator, work, n_times, span=(start, stop), **kwargs)
    if resample:
        out = mne.filter.resample(out, up=sfreq, down=model_sfreq, npad="auto", verbose=False)
        out = _fit_length(out, data.shape[-1])
        if span is not None:
            out = out[:, start:stop]
    return out[0] if squeeze else out


def _fit_length(x, n):
    if x.shape[-1] >= n:
        return x[..., :n]
    return np.pad(x, [(0, 0), (0, n - x.shape[-1])], mode="edge")


def _overlap_add(estimator, data, n_times, *, batch_size, center, progress, span=None):
    if span is not None:
        # Only the windows over data[:, start:stop]: those of a stretch that starts on the
        # window grid (a multiple of the hop) and reaches a window length beyond the span on
        # both sides, so each sample of the span sees the very windows it sees in the whole.
        start, stop = span
        hop = max(n_times // 2, 1)
        lo = max(0, (start - n_times) // hop * hop)
        hi = min(data.shape[-1], stop + n_times)
        out = _overlap_add(estimator, data[:, lo:hi], n_times, batch_size=batch_size,
                           center=center, progress=progress)
        return out[:, start - lo:stop - lo]
    n_channels, n_samples = data.shape
    if n_samples < 2:
        raise ValueError(f"a recording needs at least 2 samples; got {n_samples}")
    model_channels = int(getattr(estimator, "n_channels_in_", 1) or 1)
    if model_channels not in (1, n_channels):
        raise ValueError(f"the model was fitted on {model_channels} channels; the data has "
                         f"{n_channels}. Pick {model_channels} channels (--channels) or use a "
                         "single-channel model")
    hop = max(n_times // 2, 1)
    padded, left, starts = _windows_of(data, n_times, hop)
    window = hann_periodic(n_times) if n_times >= 2 else np.ones(1)
    # (n_windows, n_channels, n_times) views, then a batch the model accepts.
    segments = np.lib.stride_tricks.sliding_window_view(padded, n_times, axis=-1)[:, starts]
    segments = segments.transpose(1, 0, 2)
    if model_channels == 1:
        batch = segments.reshape(-1, 1, n_times)
    else:
        batch = segments
    batch = np.ascontiguousarray(batch, dtype=np.float32)
    means = batch.mean(axis=-1, keepdims=True) if center else 0.0
    if center:
        batch -= means
    outputs = np.empty(batch.shape, dtype=np.float64)
    chunks = range(0, len(batch), batch_size)
    if progress:
        from tqdm.auto import tqdm

        chunks = tqdm(chunks, desc="denoising", unit="batch", file=sys.stderr)
    for start in chunks:
        outputs[start:start + batch_size] = _transform3(estimator, batch[start:start + batch_size])
    if center:
        outputs += means
    outputs = outputs.reshape(segments.shape) * window
    total = np.zeros(padded.shape)
    weight = np.zeros(padded.shape[-1])
    for i, start in enumerate(starts):
        total[:, start:start + n_times] += outputs[i]
        weight[start:start + n_times] += window
    # The weights are one wherever two windows overlap; dividing also makes odd lengths exact.
    return total[:, left:left + n_samples] / weight[left:left + n_samples]


def _transform3(estimator, X3):
    """``estimator.transform`` on (n, C, T), accepting estimators that want 2-D input."""
    try:
        out = estimator.transform(X3)
    except ValueError:
        if X3.shape[1] != 1:
            raise
        out = estimator.transform(X3[:, 0])
    return np.asarray(out, dtype=np.float64).reshape(X3.shape)


# ---------------------------------------------------------------------------- reading/writing
def _is_wfdb(path):
    path = Path(path)
    if path.suffix.lower() in (".hea", ".dat"):
        return True
    return path.suffix == "" and path.with_suffix(".hea").exists()


def read_recording(path, *, quiet=True):
    """Read an EDF, BDF or FIF file (via mne) or a WFDB record (via wfdb) as an ``mne.io.Raw``.

    Parameters
    ----------
    path : str or Path
        ``.edf``, ``.bdf``, ``.fif``/``.fif.gz``, or a WFDB record: its ``.hea`` file, its
        ``.dat`` file or the record path without extension. WFDB signals are converted from
        their physical units to volts (mne's convention); a WFDB annotation file ``.atr`` next
        to the record becomes the recording's annotations.
    quiet : bool, default=True

    Returns
    -------
    raw : mne.io.Raw
        Loaded in memory.

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        When the format is unknown or the file cannot be read.
    """
    import mne

    path = Path(path)
    if _is_wfdb(path):
        return _read_wfdb(path.with_suffix("") if path.suffix else path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    name = path.name.lower()
    if not name.endswith(MNE_EXTENSIONS):
        raise ValueError(f"unknown recording format {path.suffix!r} for {path}; expected one of "
                         f"{', '.join(MNE_EXTENSIONS)} or a WFDB record (.hea)")
    try:
        return mne.io.read_raw(path, preload=True, verbose="error")
    except Exception as exc:  # mne raises many types for corrupt files
        raise ValueError(f"cannot read {path} as {path.suffix.lstrip('.').upper()}: "
                         f"{type(exc).__name__}: {exc}") from exc


def _read_wfdb(record):
    import mne
    import wfdb

    if not record.with_suffix(".hea").exists():
        raise FileNotFoundError(f"no such WFDB record: {record}.hea")
    try:
        rec = wfdb.rdrecord(str(record))
    except Exception as exc:
        raise ValueError(f"cannot read WFDB record {record}: {type(exc).__name__}: {exc}") from exc
    if rec.p_signal is None:
        raise ValueError(f"WFDB record {record} has no physical signal")
    units = [u or "" for u in (rec.units or [""] * rec.n_sig)]
    factors = np.array([_UNIT_TO_VOLT.get(u.strip().lower(), 1.0) for u in units])
    data = np.nan_to_num(rec.p_signal.T.astype(np.float64)) * factors[:, None]
    types = [_wfdb_channel_type(name) for name in rec.sig_name]
    info = mne.create_info(list(rec.sig_name), float(rec.fs), types)
    raw = mne.io.RawArray(data, info, verbose="error")
    # Keep the record's own units for writing back and for the user.
    raw._orig_units = dict(zip(rec.sig_name, units))
    annotation_file = record.with_suffix(".atr")
    if annotation_file.exists():
        ann = wfdb.rdann(str(record), "atr")
        raw.set_annotations(mne.Annotations(
            onset=np.asarray(ann.sample) / float(rec.fs), duration=0.0,
            description=[str(s) for s in ann.symbol]))
    return raw


def _wfdb_channel_type(name):
    upper = name.upper()
    if any(k in upper for k in ("EEG", "FP", "FZ", "CZ", "PZ", "OZ")):
        return "eeg"
    if "EMG" in upper:
        return "emg"
    if "EOG" in upper:
        return "eog"
    return "ecg"


def data_channels(raw):
    """Names of the channels that hold signals (not stimulus or annotation channels)."""
    import mne

    picks = mne.pick_types(raw.info, meg=False, eeg=True, ecg=True, emg=True, eog=True,
                           seeg=True, ecog=True, dbs=True, misc=True, bio=True, resp=True,
                           exclude=[])
    return [raw.ch_names[i] for i in picks]


def pick_channels(raw, channels=None):
    """The channel names to denoise; every name in ``channels`` must exist."""
    available = data_channels(raw)
    if not channels:
        if not available:
            raise ValueError("the recording has no signal channels to denoise")
        return available
    missing = [c for c in channels if c not in raw.ch_names]
    if missing:
        raise ValueError(f"channel(s) {', '.join(missing)} not in the recording; it has: "
                         f"{', '.join(raw.ch_names)}")
    return list(channels)


def check_output_path(path, input_path=None):
    """Refuse, before any work, an output path :func:`write_recording` cannot or must not write.

    Parameters
    ----------
    path : str or Path
        Must end in one of :data:`OUTPUT_EXTENSIONS`, lie in an existing folder and not be a
        folder itself.
    input_path : str or Path, optional
        The recording being denoised: the output must not be the same file.

    Returns
    -------
    path : Path

    Raises
    ------
    ValueError
        When the output cannot be written there, or would overwrite the input.
    """
    path = check_output_file(path, OUTPUT_EXTENSIONS)
    if input_path is not None and _same_file(path, input_path):
        raise ValueError(f"output {path} is the input recording; write the denoised recording "
                         "to another file")
    return path


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return Path(a).resolve() == Path(b).resolve()


def write_recording(raw, path, *, overwrite=True):
    """Write ``raw`` to FIF or EDF, keeping channel names, units and annotations.

    The file is written in a temporary folder beside ``path`` and then moved over ``path`` in
    one step (``os.replace``), so an interrupted write never leaves a truncated recording and
    never damages an earlier file at ``path``.

    Parameters
    ----------
    raw : mne.io.Raw
    path : str or Path
        ``.fif`` / ``.fif.gz`` (mne's format; the file name should end in ``raw.fif`` or
        ``_eeg.fif`` to keep mne's naming convention quiet) or ``.edf`` (EDF+, through
        :func:`mne.export.export_raw`, which needs the ``edfio`` package). A recording read
        from EDF/BDF is written back with each channel's original physical unit; other
        voltage channels (e.g. from WFDB, in mV) are written in µV, mne's EDF convention (the
        same physical values). Its folder must exist.
    overwrite : bool, default=True

    Returns
    -------
    path : Path
    """
    path = check_output_path(path)
    if not overwrite and path.exists():
        raise FileExistsError(f"{path} exists (pass overwrite=True to replace it)")
    if path.name.lower().endswith(".edf"):
        import mne

        try:
            import edfio  # noqa: F401
        except ImportError as exc:
            raise ValueError("writing EDF needs the 'edfio' package (pip install edfio); or "
                             "write FIF instead") from exc

        def write(target):
            mne.export.export_raw(target, raw, fmt="edf", physical_range="channelwise",
                                  overwrite=True, verbose="error")
            return [target]
    else:
        def write(target):
            return raw.save(target, overwrite=True, verbose="error")

    # A folder of our own beside the target: the file keeps its exact name (mne checks FIF
    # names, export picks the format by extension), and FIF split parts keep theirs.
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        written = [Path(f) for f in (write(tmp_dir / path.name) or [])]
        written = [f for f in written if f.name != path.name] + [tmp_dir / path.name]
        for f in written:
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        for f in written:  # split parts first, the file that names them last
            os.replace(f, path.parent / f.name)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return path


# --------------------------------------------------------------------------------- pipeline
def load_denoiser(model=None, weights=None):
    """A fitted denoiser from a saved file (``--weights``) or shipped weights.

    Parameters
    ----------
    model : str, optional
        A registered estimator name. With ``weights`` None it must name shipped weights,
        ``"NAME:TAG"``, or ``"NAME"`` when that estimator has exactly one shipped tag.
    weights : str or Path, optional
        A file written by ``save()``.

    Returns
    -------
    estimator
    """
    from .persistence import load

    if weights is not None:
        if not Path(weights).exists():
            raise FileNotFoundError(f"no such weights file: {weights}")
        estimator = load(weights)
        if model is not None and ":" not in model:
            from .plugins import get_estimator_class

            cls = get_estimator_class(model)
            if not isinstance(estimator, cls):
                raise ValueError(f"{weights} holds a {type(estimator).__name__}, not a {model} "
                                 f"({cls.__name__})")
        _check_denoiser(estimator, weights, "only a denoiser can denoise a recording")
        return estimator
    if model is None:
        raise ValueError("give --model NAME[:TAG] (shipped weights) or --weights FILE")
    from .pretrained import available, load_pretrained

    name, _, tag = model.partition(":")
    if not tag:
        tags = [t for n, t in available() if n == name]
        if not tags:
            raise ValueError(f"no shipped weights for {name!r}; pass --weights FILE (from "
                             f"'sigest fit') or one of: "
                             f"{', '.join(f'{n}:{t}' for n, t in available())}")
        if len(tags) > 1:
            raise ValueError(f"{name!r} has several shipped weights; pick one with --model "
                             f"{', '.join(f'{name}:{t}' for t in tags)}")
        tag = tags[0]
    estimator = load_pretrained(name, tag)
    _check_denoiser(estimator, f"{name}:{tag}", "only a denoiser can denoise a recording")
    return estimator


def denoise_recording(input_path, output_path=None, *, model=None, weights=None, channels=None,
                      estimator=None, progress=False, quiet=True):
    """Read a recording, denoise its channels by overlap-add and (optionally) write it.

    Parameters
    ----------
    input_path : str or Path
        EDF, BDF, FIF or WFDB (see :func:`read_recording`).
    output_path : str or Path, optional
        ``.fif`` or ``.edf``; None returns the result without writing.
    model, weights : str, optional
        See :func:`load_denoiser`; ignored when ``estimator`` is given.
    channels : list of str, optional
        Channels to denoise (default: every signal channel); the others are copied unchanged.
    estimator : fitted denoiser, optional
    progress : bool, default=False
    quiet : bool, default=True

    Returns
    -------
    raw_in : mne.io.Raw
        The recording as read.
    raw_out : mne.io.Raw
        The denoised copy (same channels, sampling rate, units and annotations).

    Examples
    --------
    >>> from sigest.recordings import denoise_recording  # doctest: +SKIP
    >>> raw, clean = denoise_recording("S001R03.edf", "S001R03_denoised.edf",
    ...                                model="cdae-bam:eegdenoisenet-emg")  # doctest: +SKIP
    """
    if output_path is not None:
        check_output_path(output_path, input_path)
    raw = read_recording(input_path, quiet=quiet)
    picks = pick_channels(raw, channels)
    if estimator is None:
        estimator = load_denoiser(model, weights)
    sfreq = float(raw.info["sfreq"])
    data = raw.get_data(picks=picks)
    denoised = denoise_array(estimator, data, sfreq, progress=progress, quiet=quiet)
    out = raw.copy()
    out._data[[raw.ch_names.index(c) for c in picks]] = denoised
    if output_path is not None:
        write_recording(out, output_path)
    return raw, out


# -------------------------------------------------------------------------------------- CLI
def _rrmse(reference, estimate):
    from .metrics import rrmse_temporal

    return float(rrmse_temporal(reference, estimate))


def cmd_denoise(args):
    check_output_path(args.output, args.input)  # before minutes of work, not after
    estimator = load_denoiser(args.model, args.weights)
    if args.sfreq_model is not None:
        estimator.sfreq_ = float(args.sfreq_model)
    raw, out = denoise_recording(args.input, args.output, estimator=estimator,
                                 channels=args.channels, progress=not args.quiet,
                                 quiet=args.quiet)
    picks = pick_channels(raw, args.channels)
    change = _rrmse(raw.get_data(picks=picks), out.get_data(picks=picks))
    print(f"denoised {len(picks)} channel(s), {raw.n_times / raw.info['sfreq']:.1f} s at "
          f"{raw.info['sfreq']:g} Hz with {type(estimator).__name__} "
          f"(window {estimator.n_times_in_} samples at "
          f"{model_sfreq_of(estimator) or raw.info['sfreq']:g} Hz)")
    print(f"RRMSE of output vs input: {change:.4f}")
    print(f"wrote {args.output}")


def _load_dataset(name, path=None):
    """(X, clean targets or None, sfreq, groups or None) of a registered data set."""
    from .plugins import get_dataset_loader

    loader = get_dataset_loader(name)
    kwargs = {"path": path} if path else {}
    try:
        inspect.signature(loader).bind(**kwargs)
    except TypeError as error:  # e.g. load_nstdb(record): one noise record, not epochs
        raise ValueError(f"data set {name!r} is not a set of signal epochs sigest can fit on "
                         f"({error})") from None
    result = loader(**kwargs)
    sfreq = groups = None
    if hasattr(result, "keys") and "clean" in result:  # paired test sets
        X, y = result["noisy"], result["clean"]
        sfreq, groups = result.get("sfreq"), result.get("epoch")
    elif hasattr(result, "keys") and "eeg" in result:  # the shipped sample
        X, y = result["eeg"], None
        sfreq = result.get("sfreq")
    elif hasattr(result, "keys") and "X_train" in result:  # the full EEGdenoiseNet split
        raise ValueError(f"data set {name!r} comes split into mixed training pairs and "
                         "validation/test pairs at fixed SNR levels, which a random hold-out "
                         "here would mix up; use its X_train/y_train and X_test/y_test from "
                         "Python (sigest.datasets.load_eegdenoisenet)")
    elif hasattr(result, "keys") and "X" in result:  # a plugin's epochs with their rate
        X, y = result["X"], None
        sfreq, groups = result.get("sfreq"), result.get("groups")
    elif isinstance(result, tuple) and len(result) >= 3:
        X, y, groups = result[0], None, result[2]
    else:
        raise ValueError(f"data set {name!r} is not a set of signal epochs sigest can fit on: "
                         "its loader should return (X, y, groups), a dict with X (and sfreq, "
                         "groups) or a dict of paired noisy and clean epochs; got "
                         f"{type(result).__name__}")
    if sfreq is None:
        sfreq = {"mitbih": 360.0, "eegmmidb": 160.0, "bonn": 173.61, "sleep-edf": 100.0}.get(name)
    X = np.asarray(X, dtype=np.float32)
    y = None if y is None else np.asarray(y, dtype=np.float32)
    return X, y, sfreq, (None if groups is None else np.asarray(groups))


def _subsample(max_samples, *arrays):
    n = len(arrays[0])
    if max_samples is None or n <= max_samples:
        return arrays
    keep = np.sort(np.random.default_rng(0).choice(n, max_samples, replace=False))
    return tuple(None if a is None else a[keep] for a in arrays)


def _split(n, test_size, seed, groups=None):
    """Train/test indices; by group (epoch, record, subject) when the data set has groups."""
    if groups is None:
        groups = np.arange(n)
    unique = np.unique(groups)
    if len(unique) < 2:
        raise ValueError(f"cannot hold out data: the data set has {len(unique)} group(s)")
    rng = np.random.default_rng(seed)
    n_test = min(max(1, int(round(len(unique) * test_size))), len(unique) - 1)
    test_groups = rng.permutation(unique)[:n_test]
    test = np.isin(groups, test_groups)
    return np.flatnonzero(~test), np.flatnonzero(test)


def _check_fittable(name):
    """Refuse, before any work, an estimator ``sigest fit`` cannot train and save."""
    from .plugins import estimator_entries, get_estimator_class, list_estimators

    cls = get_estimator_class(name)
    task = estimator_entries()[name].task
    if task != "denoising":
        raise ValueError(f"{name} is a {task} estimator; sigest fit trains denoisers (sigest "
                         "list --task denoising)")
    if not callable(getattr(cls, "save", None)):
        fixed = " (a fixed filter: nothing is learned)" if cls.__module__ == (
            "sigest.estimators.classical") else ""
        learned = [n for n in list_estimators(task="denoising")
                   if callable(getattr(get_estimator_class(n), "save", None))]
        raise ValueError(f"{name} ({cls.__name__}) has no save(){fixed}, so sigest fit has no "
                         f"model file to write; apply it from Python (sigest.get_estimator("
                         f"{name!r}, sfreq=...).fit(X).transform(X)), or fit a learned "
                         f"denoiser: {', '.join(learned)}")


def _fraction(text):
    """argparse type of ``--test-size``: a float strictly between 0 and 1."""
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1); got {text!r}") from None
    if not 0 < value < 1:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be in (0, 1), the fraction of the data set held "
                                         f"out; got {text}")
    return value


def _positive_int(text):
    """argparse type of counts (``--max-epochs``, ``--max-samples``): an integer >= 1."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}")
    return value


def _sampling_rate(text):
    """argparse type of ``--sfreq-model``: a positive finite number of Hz."""
    import argparse

    from .validation import check_sfreq

    try:
        return check_sfreq(float(text))
    except ValueError:  # not a number, nan, inf, <= 0
        raise argparse.ArgumentTypeError(f"must be a positive finite sampling rate in Hz; got "
                                         f"{text!r}") from None


def cmd_fit(args):
    from .plugins import get_estimator

    _check_fittable(args.model)
    output = args.output or f"{args.model}-{args.dataset}.zip"
    check_output_file(output, (".zip",))  # before minutes of training, not after
    X, y, sfreq, groups = _load_dataset(args.dataset, args.data_path)
    X, y, groups = _subsample(args.max_samples, X, y, groups)
    train, test = _split(len(X), args.test_size, args.random_state, groups)
    params = {"verbose": 0 if args.quiet else 1, "random_state": args.random_state}
    if args.max_epochs is not None:
        params["max_epochs"] = args.max_epochs
    if sfreq is not None:
        params["sfreq"] = sfreq
    estimator = get_estimator(args.model, **params)
    if y is not None and "noise" in estimator.get_params(deep=False):
        # Trained on the data set's own noisy/clean pairs: the saved model says so (noise=None),
        # and sigest evaluate will not pretend it knows a noise to mix into clean epochs.
        estimator.set_params(noise=None)
    estimator.fit(X[train], None if y is None else y[train])
    estimator.save(output)
    score = estimator.score(X[test], None if y is None else y[test])
    print(f"fitted {args.model} on {len(train)} epochs of {args.dataset}; held-out "
          f"{len(test)} epochs: neg RRMSE_t = {score:.4f}")
    print(f"wrote {output}")


#: Seed of the noise that ``sigest evaluate`` mixes into clean epochs: every run scores alike.
EVALUATION_SEED = 0


def cmd_evaluate(args):
    from .metrics import correlation_coefficient, rrmse_temporal
    from .persistence import load

    if not Path(args.file).exists():
        raise FileNotFoundError(f"no such model file: {args.file}")
    estimator = load(args.file)
    _check_denoiser(estimator, args.file)
    X, y, sfreq, _ = _load_dataset(args.dataset, args.data_path)
    X, y = _subsample(args.max_samples, X, y)
    noisy, clean = _pairs_for(estimator, X, y, sfreq)
    model_sfreq = model_sfreq_of(estimator)
    if _rates_differ(sfreq, model_sfreq):
        _say(f"sigest: resampling {sfreq:g} Hz -> {model_sfreq:g} Hz (the model's rate) for "
             f"denoising, and back to {sfreq:g} Hz", args.quiet)
    rows = []
    batches = range(0, len(noisy), 256)
    if not args.quiet:
        from tqdm.auto import tqdm

        batches = tqdm(batches, desc="evaluating", unit="batch", file=sys.stderr)
    denoised = np.concatenate([_denoise_epochs(estimator, noisy[i:i + 256], sfreq)
                               for i in batches])
    for label, estimate in (("noisy input", noisy), ("denoised", denoised)):
        rows.append((label, float(rrmse_temporal(clean, estimate)),
                     float(correlation_coefficient(clean, estimate))))
    print(f"{args.dataset}: {len(noisy)} epochs (all of the data set, including any the model "
          "was trained on; see the model card for held-out scores)")
    if y is None:
        print(f"noisy inputs: the clean epochs mixed with the model's noise "
              f"(noise={estimator.noise!r}), seed {EVALUATION_SEED}")
    print(f"{'':12s}  RRMSE_t    CC")
    for label, r, cc in rows:
        print(f"{label:12s}  {r:7.4f}  {cc:6.4f}")


def _check_denoiser(estimator, file, why="sigest evaluate scores denoisers"):
    """A clear error for a model file that holds something else than a fitted denoiser."""
    if callable(getattr(estimator, "transform", None)) and hasattr(estimator, "n_times_in_"):
        return
    from sklearn.base import is_classifier

    kind = "a classifier" if is_classifier(estimator) else (
        "a generator" if callable(getattr(estimator, "sample", None)) else "not a denoiser")
    raise ValueError(f"{file} holds a {type(estimator).__name__}, {kind} with no transform: "
                     f"{why} (sigest list --task denoising)")


def _rates_differ(sfreq, model_sfreq):
    return sfreq is not None and model_sfreq is not None and not np.isclose(sfreq, model_sfreq)


def _pairs_for(estimator, X, y, sfreq=None):
    """(noisy, clean) epochs: the data set's own pairs, or clean epochs + the model's noise.

    The noise is the one the model was trained with, rebuilt from its ``noise`` parameter when
    the fitted ``noise_`` is not at hand (a loaded model), at the data set's sampling rate
    ``sfreq``, drawn from the held-out part of recorded sources with the fixed seed
    :data:`EVALUATION_SEED`.
    """
    if y is not None:
        return X, y
    X3 = np.asarray(X[:, None] if X.ndim == 2 else X, dtype=np.float64)
    noise = _evaluation_noise(estimator, X3, sfreq)
    noisy = noise.inject(X3, np.random.default_rng(EVALUATION_SEED))
    return np.asarray(noisy, dtype=X.dtype).reshape(X.shape), X


def _evaluation_noise(estimator, X3, sfreq=None):
    """The fitted noise source to mix into clean ``X3`` at ``sfreq``; see :func:`_pairs_for`."""
    from .noise import held_out_noise, make_noise

    # noise_ is None after a fit on explicit (noisy, clean) pairs; a saved model has no
    # noise_ (it is not stored), and noise=None then says it was trained without one.
    spec = getattr(estimator, "noise", None)
    if spec is None or ("noise_" in vars(estimator) and estimator.noise_ is None):
        raise ValueError("this data set has clean epochs only and the model was trained "
                         "without a noise source (e.g. on explicit noisy/clean pairs), so there "
                         "is no noise to mix into them; evaluate on a paired data set (e.g. "
                         "eegdenoisenet-eog-test)")
    model_sfreq = model_sfreq_of(estimator)
    scoring_noise = getattr(estimator, "_scoring_noise", None)  # what score() mixes in
    if scoring_noise is not None and not _rates_differ(sfreq, model_sfreq):
        return scoring_noise(X3)
    # the same held-out noise, at the data set's rate when it differs from the model's
    rate = sfreq if _rates_differ(sfreq, model_sfreq) else model_sfreq
    return held_out_noise(make_noise(spec, sfreq=rate)).fit(X3)


def _denoise_epochs(estimator, X, sfreq=None):
    """Denoise epochs of any length and rate: directly when they fit the model, else by
    overlap-add (resampled to the model's rate and back when ``sfreq`` differs from it)."""
    X = np.asarray(X)
    resample = _rates_differ(sfreq, model_sfreq_of(estimator))
    if X.shape[-1] == estimator.n_times_in_ and not resample:
        return np.asarray(estimator.transform(X))
    if int(getattr(estimator, "n_channels_in_", 1) or 1) != 1:
        rate = "" if sfreq is None else f" at {sfreq:g} Hz"
        raise ValueError(f"epochs of {X.shape[-1]} samples{rate} need a single-channel model or "
                         f"one fitted on such epochs; got n_times_in_={estimator.n_times_in_}, "
                         f"n_channels_in_={estimator.n_channels_in_}, sfreq "
                         f"{model_sfreq_of(estimator)}")
    # Each epoch (and channel) is one row of the overlap-add, all in one batched call.
    flat = X.reshape(-1, X.shape[-1])
    return denoise_array(estimator, flat, sfreq).reshape(X.shape)


def cmd_plot(args):
    from .plot import check_figure_path, plot_denoising, save_figure

    default = f"{Path(args.input).stem}_denoised.png"
    output = check_figure_path(args.output or default, example=default)  # before any work
    raw = read_recording(args.input)
    picks = pick_channels(raw, [args.channel] if args.channel else None)[:1]
    estimator = load_denoiser(args.model, args.weights)
    sfreq = float(raw.info["sfreq"])
    if not args.start >= 0 or not args.duration > 0:  # also refuses nan
        raise ValueError(f"--start must be >= 0 and --duration > 0 (seconds); got --start "
                         f"{args.start} --duration {args.duration}")
    start = int(round(args.start * sfreq))
    stop = min(raw.n_times, start + max(int(round(args.duration * sfreq)), 1))
    if stop <= start:
        raise ValueError(f"--start {args.start} s is past the end of the recording "
                         f"({raw.n_times / sfreq:.1f} s)")
    data = raw.get_data(picks=picks)
    # Only the shown window (and the margin overlap-add needs) goes through the network.
    denoised = denoise_array(estimator, data, sfreq, quiet=args.quiet, span=(start, stop))
    scale = 1e6 if raw.get_channel_types(picks=picks)[0] in ("eeg", "eog", "emg") else 1e3
    shown = data[0, start:stop] * scale
    fig = plot_denoising(shown, shown, denoised[0] * scale, sfreq=sfreq, t0=start / sfreq,
                         title=f"{Path(args.input).name}: {picks[0]} "
                               f"({'µV' if scale == 1e6 else 'mV'})")
    # The recording has no clean reference: show input and output only.
    ax = fig.axes[0]
    ax.lines[1].remove()
    ax.lines[0].set_label("input")
    ax.legend(loc="upper right", ncol=2, frameon=False)
    save_figure(fig, output, dpi=120)
    print(f"wrote {output}")


def register_commands(sub):
    """Add ``denoise``, ``fit``, ``evaluate`` and ``plot`` to the ``sigest`` command."""
    units_note = (
        "Units: mne holds signals in volts (WFDB records are converted to volts); each window's "
        "mean passes through unchanged and the denoiser divides each window by its standard "
        "deviation and restores it, so the recording's units do not matter. When the "
        "recording's sampling rate differs from the model's, it is resampled to the model's "
        "rate and back (announced on stderr).")
    p = sub.add_parser(
        "denoise", help="denoise a recording (EDF, BDF, FIF, WFDB) into FIF or EDF",
        description="Denoise every channel of a recording with a fitted denoiser in windows of "
        "the model's length, hop half a window, Hann-weighted overlap-add (no seams), and write "
        "FIF or EDF with the original channel names, units and annotations. " + units_note)
    p.add_argument("input", help="recording: .edf, .bdf, .fif, or a WFDB record (.hea)")
    p.add_argument("output", help="output file: .fif or .edf")
    p.add_argument("--model", default=None,
                   help="shipped weights as NAME:TAG (sigest.pretrained.available(); NAME "
                        "alone when it has one tag), or with --weights the expected estimator")
    p.add_argument("--weights", default=None, help="model file written by save() / sigest fit")
    p.add_argument("--channels", nargs="+", default=None,
                   help="channels to denoise (default: all signal channels)")
    p.add_argument("--sfreq-model", type=_sampling_rate, default=None,
                   help="the model's sampling rate, for model files that lack it")
    p.add_argument("--quiet", action="store_true", help="no progress bar or notices")
    p.set_defaults(func=cmd_denoise)

    p = sub.add_parser("fit", help="fit a denoiser on a registered data set and save it",
                       description="Fit MODEL on a registered data set (sigest datasets), hold "
                       "out --test-size of it (by the data set's groups: underlying epoch, "
                       "record or subject, so no group is on both sides), report the held-out "
                       "score, and save() it. Progress bar and epoch table unless --quiet.")
    p.add_argument("model", help="registered denoiser name (sigest list --task denoising)")
    p.add_argument("--dataset", required=True, help="registered data set name")
    p.add_argument("--output", default=None, help="model file, .zip, in an existing folder "
                   "(default MODEL-DATASET.zip)")
    p.add_argument("--max-epochs", type=_positive_int, default=None,
                   help="training epochs (default: the estimator's)")
    p.add_argument("--max-samples", type=_positive_int, default=None,
                   help="subsample the epochs")
    p.add_argument("--test-size", type=_fraction, default=0.2,
                   help="fraction of the data set's groups held out, in (0, 1) (default 0.2)")
    p.add_argument("--random-state", type=int, default=0,
                   help="seed of the hold-out split and the training (default 0)")
    p.add_argument("--data-path", default=None, help="data folder (default $SIGEST_DATA)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("evaluate", help="score a saved denoiser on a registered data set",
                       description="Score a saved denoiser on a registered data set: on its "
                       "(noisy, clean) pairs, or on its clean epochs mixed with the model's own "
                       "noise (held-out part, fixed seed); prints RRMSE_t and CC of the noisy "
                       "input and of the denoised output.")
    p.add_argument("file", help="model file written by save() / sigest fit")
    p.add_argument("--dataset", required=True, help="registered data set name")
    p.add_argument("--max-samples", type=_positive_int, default=None,
                   help="subsample the epochs")
    p.add_argument("--data-path", default=None, help="data folder (default $SIGEST_DATA)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("plot", help="before/after figure of one channel of a recording")
    p.add_argument("input", help="recording: .edf, .bdf, .fif, or a WFDB record (.hea)")
    p.add_argument("output", nargs="?", default=None, help="figure file: .png, .pdf, .svg, ... "
                   "in an existing folder (default INPUT_denoised.png)")
    p.add_argument("--weights", default=None, help="model file written by save()")
    p.add_argument("--model", default=None, help="NAME:TAG of shipped weights instead")
    p.add_argument("--channel", default=None, help="channel to show (default: the first)")
    p.add_argument("--start", type=float, default=0.0, help="seconds")
    p.add_argument("--duration", type=float, default=5.0, help="seconds")
    p.add_argument("--quiet", action="store_true", help="no progress bar or notices")
    p.set_defaults(func=cmd_plot)
