"""Sleep-EDF Expanded (PhysioNet ``sleep-edfx``), sleep-cassette recordings, Fpz-Cz at 100 Hz.

Two forms are read:

- the DeepSleepNet / AttnSleep ``.npz`` files (``SC4<ss><n>E0.npz``: ``x`` (n, T, 1) float32,
  ``y`` stages 0..4, ``fs``, ``ch_label``), e.g. the 5-s form of ``sleep-edf-5s``. They are read
  with ``allow_pickle=False`` always: their pickled EDF headers are never touched;
- the original PhysioNet EDF pairs ``SC4<ss><n>E0-PSG.edf`` + ``SC4<ss><n>??-Hypnogram.edf``
  through ``mne``, cut into 30-s epochs labelled by the hypnogram, with the DeepSleepNet
  trimming of wake to ``trim_wake`` minutes before the first and after the last sleep epoch.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ._base import _candidates, download_folder, fetch, verify

SLEEP_STAGES = ("W", "N1", "N2", "N3", "REM")
#: Hypnogram annotation -> stage index (R&K stages 3 and 4 merge into N3). Other
#: annotations ("Sleep stage ?", "Movement time") are dropped.
HYPNOGRAM_STAGES = {
    "Sleep stage W": 0, "Sleep stage 1": 1, "Sleep stage 2": 2, "Sleep stage 3": 3,
    "Sleep stage 4": 3, "Sleep stage R": 4,
}
_NPZ = re.compile(r"^SC4(\d\d)(\d)E0\.npz$", re.IGNORECASE)
_PSG = re.compile(r"^SC4(\d\d)(\d)E0-PSG\.edf$", re.IGNORECASE)
NPZ_FOLDER, EDF_FOLDER = "sleep-edf-5s", "sleep-edfx"


def _recordings(folder: Path, pattern):
    out = {}
    for file in sorted(folder.iterdir()) if folder.is_dir() else []:
        m = pattern.match(file.name)
        if m:
            out[(int(m.group(1)), int(m.group(2)))] = file
    return out


def _recordings_in(folder: Path, pattern):
    """Recordings in ``folder`` and in its ``sleep-cassette/`` (PhysioNet's layout, where
    downloads go); those in ``sleep-cassette/`` win."""
    return {**_recordings(folder, pattern), **_recordings(folder / "sleep-cassette", pattern)}


def _find(pattern, folder_name, path):
    for cand in _candidates(folder_name, path):
        found = _recordings_in(cand, pattern)
        if found:
            return cand, found
    return None, {}


def load_sleep_edf(path=None, subjects=None, return_meta=False, *, format="auto",
                   channel="EEG Fpz-Cz", trim_wake=30, return_epochs=False, download=False,
                   verify_hash=True):
    """Sleep-EDF epochs of one EEG channel with their stages.

    Parameters
    ----------
    path : str or Path, optional
        The folder of ``.npz`` files or of PSG/Hypnogram EDF files (or its parent, holding
        ``sleep-edf-5s/`` or ``sleep-edfx/``); default ``$SIGEST_DATA``, then the cache.
    subjects : sequence of int, optional
        Subject ids (0..82 in sleep-cassette; the ``ss`` of ``SC4ssN``); default all found.
    return_meta : bool, default=False
        Also return a dict of arrays ``"subject"``, ``"night"``, ``"epoch"`` (index of the
        epoch within its recording).
    format : {"auto", "npz", "edf"}, default="auto"
        ``"auto"`` reads ``.npz`` files if any are found, else EDF pairs.
    channel : str, default="EEG Fpz-Cz"
        EDF channel to read (``.npz`` files hold one channel; it must match).
    trim_wake : float or None, default=30
        EDF only: minutes of wake kept before the first and after the last sleep epoch.
    return_epochs : bool, default=False
        EDF only: return a list of ``mne.Epochs`` (one per recording) instead of ``X, y``.
    download : bool, default=False
        EDF only: fetch absent recordings of ``subjects`` (nights 1 and 2) from PhysioNet.
    verify_hash : bool, default=True

    Returns
    -------
    X : ndarray of shape (n_epochs, 1, n_times), float64
        Microvolts for ``.npz`` files (as stored; 500 samples in ``sleep-edf-5s``), volts for
        EDF (mne's unit; 3000 samples per 30-s epoch).
    y : ndarray of shape (n_epochs,), int
        Index into :data:`SLEEP_STAGES`.
    groups : ndarray of shape (n_epochs,), int
        Subject id.
    meta : dict, only if ``return_meta``

    Examples
    --------
    >>> X, y, groups = load_sleep_edf(subjects=[0, 1])  # doctest: +SKIP
    >>> X.shape[1:], sorted(set(y))  # doctest: +SKIP
    ((1, 500), [0, 1, 2, 3, 4])
    """
    if format not in ("auto", "npz", "edf"):
        raise ValueError(f"format must be 'auto', 'npz' or 'edf'; got {format!r}")
    npz_files = {} if format == "edf" else _find(_NPZ, NPZ_FOLDER, path)[1]
    if npz_files:
        parts = _read_npz(npz_files, subjects, channel, verify_hash)
    else:
        psg = {} if format == "npz" else _find(_PSG, EDF_FOLDER, path)[1]
        wanted = set() if subjects is None else {int(s) for s in np.atleast_1d(subjects)}
        if download and wanted - {s for s, _ in psg}:
            psg = _download_edf(subjects, path)
        if not psg:
            kind = {"npz": "SC4ssNE0.npz", "edf": "SC4ssNE0-PSG.edf"}
            kind = kind.get(format, "SC4ssNE0.npz or SC4ssNE0-PSG.edf")
            looked = "; ".join(str(c) for c in _candidates(NPZ_FOLDER, path)
                               + _candidates(EDF_FOLDER, path))
            if not download:
                how = "or pass download=True and subjects=... to fetch EDF recordings"
            elif subjects is None:
                how = "download=True fetches only the subjects given: pass subjects=..."
            else:
                how = f"the origin lists no recording of subject(s) {sorted(wanted)}"
            raise FileNotFoundError(f"sleep-edf: no {kind} files found. Looked in: {looked}. "
                                    f"Pass path=... or set $SIGEST_DATA; {how}.")
        parts = _read_edf(psg, subjects, channel, trim_wake, return_epochs, verify_hash)
        if return_epochs:
            return parts
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts]).astype(int)
    subj = np.concatenate([np.full(len(p[1]), p[2]) for p in parts])
    if not return_meta:
        return X, y, subj
    meta = {
        "subject": subj,
        "night": np.concatenate([np.full(len(p[1]), p[3]) for p in parts]),
        "epoch": np.concatenate([np.arange(len(p[1])) for p in parts]),
    }
    return X, y, subj, meta


def _select(files, subjects):
    if subjects is None:
        return files
    wanted = {int(s) for s in np.atleast_1d(subjects)}
    if not wanted:
        raise ValueError("subjects must name at least one subject (None: all); got none")
    missing = wanted - {s for s, _ in files}
    if missing:
        raise FileNotFoundError(f"sleep-edf: no recording of subject(s) {sorted(missing)} in "
                                f"{next(iter(files.values())).parent}")
    return {k: v for k, v in files.items() if k[0] in wanted}


def _read_npz(files, subjects, channel, verify_hash):
    parts = []
    for (subject, night), file in sorted(_select(files, subjects).items()):
        verify(NPZ_FOLDER, file.parent, [file.name], verify_hash)
        with np.load(file, allow_pickle=False) as data:
            x, y = data["x"], data["y"]
            label = str(data["ch_label"]) if "ch_label" in data.files else channel
        if channel is not None and label != channel:
            raise ValueError(f"{file}: holds channel {label!r}, not {channel!r}")
        if x.ndim != 3 or len(x) != len(y):
            raise ValueError(f"{file}: expected x (n, T, 1) and y (n,); got {x.shape}, {y.shape}")
        parts.append((np.transpose(x, (0, 2, 1)).astype(np.float64), y, subject, night))
    return parts


def _hypnogram_for(psg: Path):
    prefix = psg.name[:6]  # SC4ssN; the hypnogram's two letters differ (SC4001EC, SC4011EH)
    for file in sorted(psg.parent.iterdir()):
        if file.name.upper().startswith(prefix.upper()) and file.name.endswith("-Hypnogram.edf"):
            return file
    raise FileNotFoundError(f"sleep-edf: no {prefix}??-Hypnogram.edf beside {psg}")


def _has_hypnogram(psg: Path):
    try:
        return _hypnogram_for(psg) is not None
    except FileNotFoundError:
        return False


def _read_edf(files, subjects, channel, trim_wake, return_epochs, verify_hash):
    import mne

    parts = []
    for (subject, night), psg in sorted(_select(files, subjects).items()):
        hyp = _hypnogram_for(psg)
        verify(EDF_FOLDER, psg.parent, [psg.name, hyp.name], verify_hash)
        raw = mne.io.read_raw_edf(psg, include=[channel], preload=False, verbose="error")
        annot = mne.read_annotations(hyp)
        raw.set_annotations(annot, emit_warning=False)
        events, _ = mne.events_from_annotations(
            raw, event_id=HYPNOGRAM_STAGES, chunk_duration=30.0, verbose="error")
        if len(events) == 0:
            raise ValueError(f"{hyp}: no sleep stage annotations")
        stages = events[:, 2]
        if trim_wake is not None:
            sleep = np.flatnonzero(stages != 0)
            if len(sleep):
                keep_t = (events[sleep[0], 0] - trim_wake * 60 * raw.info["sfreq"],
                          events[sleep[-1], 0] + trim_wake * 60 * raw.info["sfreq"])
                mask = (events[:, 0] >= keep_t[0]) & (events[:, 0] <= keep_t[1])
                events, stages = events[mask], stages[mask]
        tmax = 30.0 - 1.0 / raw.info["sfreq"]
        present = {k: v for k, v in HYPNOGRAM_STAGES.items() if v in set(stages)}
        event_id = {SLEEP_STAGES[v]: v for v in sorted(set(present.values()))}
        epochs = mne.Epochs(raw, events, event_id=event_id, tmin=0.0, tmax=tmax, baseline=None,
                            preload=True, reject_by_annotation=False, verbose="error")
        if return_epochs:
            parts.append(epochs)
            continue
        parts.append((epochs.get_data(copy=False).astype(np.float64), epochs.events[:, 2],
                      subject, night))
    return parts


def _download_edf(subjects, path):
    from ._base import _physionet_sums

    root = download_folder(EDF_FOLDER, path, holds=lambda r: bool(_recordings_in(r, _PSG)))
    sums = _physionet_sums(EDF_FOLDER, root)
    sub = "sleep-cassette/"
    have = {key for key, psg in _recordings_in(root, _PSG).items() if _has_hypnogram(psg)}
    for subject in np.atleast_1d(subjects):
        for night in (1, 2):
            psg = f"{sub}SC4{int(subject):02d}{night}E0-PSG.edf"
            hyp = [n for n in sums if n.startswith(psg[:21]) and n.endswith("-Hypnogram.edf")]
            if (int(subject), night) in have or psg not in sums or not hyp:
                continue  # e.g. subject 13 has one night
            for name in (psg, hyp[0]):
                if not (root / name).is_file():
                    fetch(EDF_FOLDER, name, root)
    return _recordings_in(root, _PSG)
