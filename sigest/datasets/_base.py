"""Shared machinery of the loaders: where data live, sha256 checks, downloads, windowing."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from ._registry import HASHES

ENV_VAR = "SIGEST_DATA"

#: Public origin of each data folder (``base_url + relative path``). Tests point these at a
#: local server; a user can point them at a mirror.
BASE_URLS = {
    "eegdenoisenet": "https://raw.githubusercontent.com/ncclabsustech/EEGdenoiseNet/master/data/",
    "eegdenoisenet-eog-test": (
        "https://raw.githubusercontent.com/WilliamRo/EEG-Denoise/"
        "edefe4f02822a2dc7bc77923e165cd2bb522c3bb/01-EEGDenoiseNet_Dataset/test_data/"
    ),
    "mitdb": "https://physionet.org/files/mitdb/1.0.0/",
    "nstdb": "https://physionet.org/files/nstdb/1.0.0/",
    "emgdb": "https://physionet.org/files/emgdb/1.0.0/",
    "eegmmidb": "https://physionet.org/files/eegmmidb/1.0.0/",
    "sleep-edf-5s": (
        "https://raw.githubusercontent.com/swapnil5053/AttnSleep-EEG-5s/"
        "cde8b3995c8be2a7228e6363d1d15b1fe069a198/edf_true_5s_npz/"
    ),
    "sleep-edfx": "https://physionet.org/files/sleep-edfx/1.0.0/",
}

#: Folders whose origin publishes a ``SHA256SUMS.txt`` (PhysioNet): files missing from
#: :data:`HASHES` are checked against it when downloaded.
PHYSIONET = ("mitdb", "nstdb", "emgdb", "eegmmidb", "sleep-edfx")


class DataIntegrityError(ValueError):
    """A data file's sha256 differs from the published one."""


def _cache_dir() -> Path:
    import pooch

    return Path(pooch.os_cache("sigest"))


def data_roots(path=None) -> list[Path]:
    """The folders searched for data: ``path``; else ``$SIGEST_DATA`` and the download cache."""
    if path is not None:
        return [Path(path).expanduser()]
    roots = []
    if os.environ.get(ENV_VAR):
        roots.append(Path(os.environ[ENV_VAR]).expanduser())
    roots.append(_cache_dir())
    return roots


def _candidates(folder, path=None) -> list[Path]:
    # A root may be the parent of all data folders or the data folder itself.
    dirs = []
    for root in data_roots(path):
        dirs += [root / folder, root]
    return dirs


def find_folder(folder, required, path=None, download=False, base_url_key=None):
    """The first candidate folder holding every file of ``required`` (relative paths).

    With ``download=True`` missing files are fetched into the first root (``path``, else
    ``$SIGEST_DATA``, else the platform cache) with pooch. Otherwise a missing file raises
    ``FileNotFoundError`` naming it and every folder looked in.
    """
    required = list(required)
    candidates = _candidates(folder, path)
    for cand in candidates:
        if all(_exists(cand, rel) for rel in required):
            return cand
    if download:
        target = data_roots(path)[0] / folder
        for rel in required:
            if not _exists(target, rel):
                fetch(base_url_key or folder, rel, target, hash_folder=folder)
        return target
    best = max(candidates, key=lambda c: sum(_exists(c, rel) for rel in required))
    missing = [rel for rel in required if not _exists(best, rel)]
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    looked = "; ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"{folder}: missing {shown}. Looked in: {looked}. Pass path=..., set ${ENV_VAR} to the "
        f"folder holding {folder!r}, or use download=True where the loader offers it."
    )


def _exists(folder: Path, rel) -> bool:
    return resolve_case(folder, rel) is not None


def resolve_case(folder: Path, rel):
    """``folder / rel``, accepting a different case of the file name (Bonn's ``N001.TXT``)."""
    full = folder / rel
    if full.is_file():
        return full
    parent = full.parent
    if parent.is_dir():
        low = full.name.lower()
        for child in parent.iterdir():
            if child.name.lower() == low and child.is_file():
                return child
    return None


_verified: dict[tuple, str] = {}


def sha256(file) -> str:
    """sha256 hex digest of a file, cached per process by (path, size, mtime)."""
    file = Path(file)
    st = file.stat()
    key = (str(file.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _verified:
        h = hashlib.sha256()
        with open(file, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _verified[key] = h.hexdigest()
    return _verified[key]


def known_hash(folder, rel):
    """The published sha256 of ``folder/rel`` (case-insensitive name), or None."""
    table = HASHES.get(folder, {})
    if rel in table:
        return table[rel]
    low = rel.lower()
    for name, digest in table.items():
        if name.lower() == low:
            return digest
    return None


def verify(folder_name, folder: Path, rels, verify=True) -> list[Path]:
    """Paths of ``rels`` in ``folder``, each checked against its published sha256 if known."""
    paths = []
    for rel in rels:
        file = resolve_case(folder, rel)
        if file is None:
            raise FileNotFoundError(f"{folder_name}: missing {rel} in {folder}")
        expected = known_hash(folder_name, rel) if verify else None
        if expected is not None:
            got = sha256(file)
            if got != expected:
                raise DataIntegrityError(
                    f"{file}: sha256 {got} differs from the published {expected}; the file is "
                    "damaged or not the original. Delete it (download=True fetches it again) or "
                    "pass verify=False to read it anyway."
                )
        paths.append(file)
    return paths


def fetch(url_key, rel, target: Path, hash_folder=None):
    """Download ``BASE_URLS[url_key] + rel`` into ``target / rel`` with pooch, hash-checked."""
    import pooch

    digest = known_hash(hash_folder or url_key, rel)
    if digest is None and url_key in PHYSIONET:
        digest = _physionet_sums(url_key, target).get(rel)
    base = BASE_URLS[url_key]
    target.mkdir(parents=True, exist_ok=True)
    try:
        out = pooch.retrieve(
            base + rel,
            known_hash=None if digest is None else f"sha256:{digest}",
            fname=Path(rel).name,
            path=target / Path(rel).parent,
            progressbar=False,
        )
    except ValueError as exc:  # pooch's hash mismatch
        raise DataIntegrityError(f"download of {base + rel} failed its sha256 check: {exc}") \
            from exc
    return Path(out)


def _physionet_sums(url_key, target: Path) -> dict:
    import pooch

    sums = pooch.retrieve(
        BASE_URLS[url_key] + "SHA256SUMS.txt", known_hash=None, fname="SHA256SUMS.txt",
        path=target, progressbar=False,
    )
    table = {}
    for line in Path(sums).read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            table[parts[1].lstrip("*")] = parts[0]
    return table


def sliding_windows(signal, window, step=None):
    """Windows of ``window`` samples every ``step`` (default: ``window``) along the last axis.

    Parameters
    ----------
    signal : ndarray, shape (..., n_samples)
    window : int
    step : int, optional

    Returns
    -------
    windows : ndarray, shape (n_windows, ..., window)
        A copy; the incomplete tail is dropped. ``n_windows = (n_samples - window) // step + 1``
        (0 when the signal is shorter than ``window``).

    Examples
    --------
    >>> sliding_windows(np.arange(10.0), 4, 3).tolist()
    [[0.0, 1.0, 2.0, 3.0], [3.0, 4.0, 5.0, 6.0], [6.0, 7.0, 8.0, 9.0]]
    """
    window = int(window)
    step = window if step is None else int(step)
    if window < 1 or step < 1:
        raise ValueError(f"window and step must be positive integers; got {window}, {step}")
    signal = np.asarray(signal)
    n = signal.shape[-1]
    if n < window:
        return np.empty((0,) + signal.shape[:-1] + (window,), dtype=signal.dtype)
    view = np.lib.stride_tricks.sliding_window_view(signal, window, axis=-1)[..., ::step, :]
    return np.ascontiguousarray(np.moveaxis(view, -2, 0))
