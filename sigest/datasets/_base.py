"""Shared machinery of the loaders: where data live, hash checks, downloads, windowing."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

import numpy as np

from ._registry import HASHES
from ._registry_extra import EXTRA

ENV_VAR = "SIGEST_DATA"

#: Public origin of each data folder (``base_url + relative path``). Tests point these at a
#: local server; a user can point them at a mirror.
BASE_URLS = {
    "eegdenoisenet": "https://raw.githubusercontent.com/ncclabsustech/EEGdenoiseNet/master/data/",
    # the official README places the 512-Hz files on G-Node GIN (a git-annex repository)
    "eegdenoisenet-512hz": "https://gin.g-node.org/NCClab/EEGdenoiseNet/raw/master/data/",
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
    # one archive (ends in an archive suffix) or a folder of per-set archives (``Z.zip``, ...)
    "bonn-eeg": (
        "https://github.com/saumitkunder/EEG-DATA-SYNTHESIS-USING-GANS/raw/"
        "a0d217ac534634c08e3ecd77b2a15caa03bce222/Dataset/"
        "Eplieptic%20Seizure%20Detection%20Dataset.zip"
    ),
}

#: URL endings :func:`fetch_archive` can unpack.
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")

#: Folders whose origin publishes a ``SHA256SUMS.txt`` (PhysioNet): files missing from
#: :data:`HASHES` are checked against it when downloaded.
PHYSIONET = ("mitdb", "nstdb", "emgdb", "eegmmidb", "sleep-edfx")


class DataIntegrityError(ValueError):
    """A data file's size or digest (sha256, or md5 where only that is known) is not the
    published one, or a file to download has no published digest."""


class DataDownloadError(FileNotFoundError):
    """A download failed (no connection, unknown host, HTTP error, timeout): the file is still
    missing. The message names the URL, the cause and where to put the file by hand."""


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

    With ``download=True`` missing files are fetched with pooch into ``<first root>/<folder>``
    (root: ``path``, else ``$SIGEST_DATA``, else the platform cache), or into the first root
    itself when it already is the data folder (see :func:`download_folder`). Otherwise a
    missing file raises ``FileNotFoundError`` naming it and every folder looked in.
    """
    required = list(required)
    candidates = _candidates(folder, path)
    for cand in candidates:
        if all(_exists(cand, rel) for rel in required):
            return cand
    if download:
        target = download_folder(folder, path, required)
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


def download_folder(folder, path=None, required=(), holds=None) -> Path:
    """Where downloads of the data folder ``folder`` go: ``<first root>/<folder>``, unless the
    first root (``path``, else ``$SIGEST_DATA``, else the cache) already is that data folder.

    A root is the data folder itself when it has no ``folder`` sub-folder and holds files of
    the data set: ``holds(root)``, by default any file of ``required`` or of sigest's registry
    for ``folder``. Downloading into ``<root>/<folder>`` then would hide the files already in
    ``root``, since that sub-folder is searched first.
    """
    root = data_roots(path)[0]
    target = root / folder
    if target.exists() or not root.is_dir():
        return target
    if holds is None:
        known = [*required, *HASHES.get(folder, {}), *EXTRA.get(folder, {})]
        return root if any(_exists(root, rel) for rel in known) else target
    return root if holds(root) else target


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


def file_hash(file, alg="sha256") -> str:
    """Hex digest (``alg`` of :mod:`hashlib`) of a file, cached per process by (path, size,
    mtime)."""
    file = Path(file)
    st = file.stat()
    key = (str(file.resolve()), st.st_size, st.st_mtime_ns, alg)
    if key not in _verified:
        h = hashlib.new(alg)
        with open(file, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _verified[key] = h.hexdigest()
    return _verified[key]


def sha256(file) -> str:
    """sha256 hex digest of a file, cached per process by (path, size, mtime)."""
    return file_hash(file, "sha256")


def _lookup(table, rel):
    if rel in table:
        return table[rel]
    low = rel.lower()
    for name, value in table.items():
        if name.lower() == low:
            return value
    return None


def _entry(folder, rel):
    """(digest, size) of ``folder/rel``: the generated sha256 table first (no size), then
    :data:`~sigest.datasets._registry_extra.EXTRA`; (None, None) if neither has it."""
    digest = _lookup(HASHES.get(folder, {}), rel)
    if digest is not None:
        return digest, None
    return _lookup(EXTRA.get(folder, {}), rel) or (None, None)


def known_hash(folder, rel):
    """The published digest of ``folder/rel`` (case-insensitive name), or None.

    In pooch's form: a bare hex string is a sha256 (the generated registry), otherwise
    ``"alg:hex"`` (e.g. ``"md5:..."`` for files whose origin publishes no sha256).
    """
    return _entry(folder, rel)[0]


def known_size(folder, rel):
    """The published size in bytes of ``folder/rel``, or None."""
    return _entry(folder, rel)[1]


def _split_digest(digest):
    alg, _, value = digest.rpartition(":")
    return (alg or "sha256").lower(), value.lower()


def _mismatch(file, folder_name, rel):
    """Why ``file`` is not the published ``folder_name/rel`` (size, then digest), or None."""
    digest, size = _entry(folder_name, rel)
    got_size = Path(file).stat().st_size
    if size is not None and got_size != size:
        return f"{got_size} bytes instead of the published {size}"
    if digest is not None:
        alg, expected = _split_digest(digest)
        got = file_hash(file, alg)
        if got != expected:
            return f"{alg} {got} differs from the published {expected}"
    return None


def check_file(file, folder_name, rel):
    """Raise :class:`DataIntegrityError` if ``file`` differs in size or digest from the
    published ``folder_name/rel`` (nothing is checked where nothing is published)."""
    reason = _mismatch(file, folder_name, rel)
    if reason is not None:
        raise DataIntegrityError(
            f"{file}: {reason}; the file is damaged or not the original. Delete it "
            "(download=True fetches it again) or pass verify_hash=False to read it anyway."
        )


def verify(folder_name, folder: Path, rels, verify=True) -> list[Path]:
    """Paths of ``rels`` in ``folder``, each checked against its published size and digest
    (sha256, else md5) if known."""
    paths = []
    for rel in rels:
        file = resolve_case(folder, rel)
        if file is None:
            raise FileNotFoundError(f"{folder_name}: missing {rel} in {folder}")
        if verify:
            check_file(file, folder_name, rel)
        paths.append(file)
    return paths


def fetch(url_key, rel, target: Path, hash_folder=None):
    """Download ``BASE_URLS[url_key] + rel`` into ``target / rel`` with pooch, hash-checked.

    The digest comes from :data:`HASHES` (or ``EXTRA``), else, for :data:`PHYSIONET` folders,
    from the origin's ``SHA256SUMS.txt`` (cached in ``target``). A file with no published
    digest is refused with :class:`DataIntegrityError`; a network failure raises
    :class:`DataDownloadError`. Folders created here are removed again if the download fails.
    """
    base = BASE_URLS[url_key]
    url = base + rel
    dest = target / rel
    with _remove_new_dirs_on_error(dest.parent):
        digest = known_hash(hash_folder or url_key, rel)
        sums = None  # the cached SHA256SUMS.txt, if the digest comes from it
        if digest is None and url_key in PHYSIONET:
            digest = _physionet_sums(url_key, target).get(rel)
            sums = target / "SHA256SUMS.txt"
        stale = ("" if sums is None else
                 f" If the server's list has been corrected since, delete the cached {sums} "
                 "so that it is fetched again.")
        if digest is None:
            listed = "" if url_key not in PHYSIONET else f" nor in {base}SHA256SUMS.txt"
            raise DataIntegrityError(
                f"{url}: no published digest for {hash_folder or url_key}/{rel} (not in "
                f"sigest's registry{listed}); refusing to install an unchecked file. To use it "
                f"anyway, download it yourself and place it at {dest}.{stale}"
            )
        if ":" not in digest:
            digest = f"sha256:{digest}"
        target.mkdir(parents=True, exist_ok=True)
        try:
            out = _retrieve(url, dest, url_key, known_hash=digest)
        except ValueError as exc:  # pooch's hash mismatch
            raise DataIntegrityError(
                f"download of {url} failed its {_split_digest(digest)[0]} check: {exc}{stale}"
            ) from exc
    return Path(out)


def _retrieve(url, dest: Path, url_key, known_hash=None, manual=None):
    """``pooch.retrieve(url)`` into ``dest``; a network failure raises
    :class:`DataDownloadError`, whose advice ``manual`` (default: place it at ``dest``) says
    what to do with a copy downloaded by hand."""
    import pooch
    import requests

    manual = manual or f"place it at {dest}"
    try:
        return pooch.retrieve(url, known_hash=known_hash, fname=dest.name, path=dest.parent,
                              progressbar=False)
    except requests.RequestException as exc:
        raise DataDownloadError(
            f"could not download {url} ({type(exc).__name__}: {exc}). Check the network "
            f"connection and try again; or download the file yourself and {manual}; or point "
            f"sigest.datasets.BASE_URLS[{url_key!r}] at a mirror."
        ) from exc


@contextlib.contextmanager
def _remove_new_dirs_on_error(folder: Path):
    """Remove the folders of ``folder``'s path created within the block if it fails and they
    are empty."""
    new = []
    folder = Path(folder).absolute()
    while not folder.exists() and folder != folder.parent:
        new.append(folder)
        folder = folder.parent
    try:
        yield
    except BaseException:
        for d in new:  # deepest first
            try:
                d.rmdir()
            except FileNotFoundError:
                continue
            except OSError:  # not empty
                break
        raise


def fetch_archive(url, target: Path, place, hash_folder, required=()):
    """Download the archive at ``url``, extract it, and install the files ``place`` selects.

    All or nothing: the archive is downloaded and unpacked in a temporary folder beside
    ``target``; every selected file is checked against its published size and digest
    (:func:`known_hash`) *before* any of them moves into ``target``, so a damaged archive
    leaves ``target`` as it was. Files already in ``target`` are replaced by verified copies.

    Parameters
    ----------
    url : str
        A zip or tar archive (its own digest is not needed: pooch logs it).
    target : Path
        The data folder to fill (created if absent).
    place : callable
        ``place(member)`` gets the path of each extracted file relative to the archive root
        (a :class:`~pathlib.PurePosixPath`; macOS ``__MACOSX/`` and ``._*`` entries are skipped)
        and returns its path relative to ``target``, or None to ignore it.
    hash_folder : str
        The registry folder holding the digests. A selected file without a published digest
        raises :class:`DataIntegrityError`: nothing unchecked is installed.
    required : iterable of str, optional
        Relative paths the archive must provide (``FileNotFoundError`` otherwise).

    Returns
    -------
    installed : list of Path
        The files moved into ``target``.
    """
    target = Path(target)
    with _remove_new_dirs_on_error(target.parent):
        target.parent.mkdir(parents=True, exist_ok=True)
        return _fetch_archive(url, target, place, hash_folder, required)


def _fetch_archive(url, target: Path, place, hash_folder, required):
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-download-", dir=target.parent))
    try:
        name = unquote(PurePosixPath(urlparse(url).path).name) or "archive"
        archive = Path(_retrieve(url, work / name, hash_folder,
                                 manual=f"unpack it into {target}"))
        extracted = work / "extracted"
        _unpack(archive, extracted)
        archive.unlink()
        selected = {}
        for file in sorted(p for p in extracted.rglob("*") if p.is_file()):
            member = PurePosixPath(file.relative_to(extracted).as_posix())
            if "__MACOSX" in member.parts or member.name.startswith("._"):
                continue
            rel = place(member)
            if rel is None:
                continue
            if known_hash(hash_folder, rel) is None:
                raise DataIntegrityError(f"{url}: {member} has no published digest for "
                                         f"{hash_folder}/{rel}; refusing to install it")
            reason = _mismatch(file, hash_folder, rel)
            if reason is not None:
                raise DataIntegrityError(f"{url}: {member} is not the published {hash_folder}/"
                                         f"{rel} ({reason}); nothing was installed")
            selected[rel] = file
        missing = [rel for rel in required
                   if not any(r.lower() == str(rel).lower() for r in selected)]
        if missing:
            raise FileNotFoundError(f"{url} holds no {', '.join(missing[:5])}"
                                    + (f" and {len(missing) - 5} more" if len(missing) > 5
                                       else ""))
        staged = work / "staged"
        for rel, file in selected.items():
            dest = staged / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(file, dest)
        _merge_tree(staged, target)
        return [target / rel for rel in selected]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _unpack(archive: Path, dest: Path):
    dest.mkdir()
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)  # drops absolute and ".." components
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            if hasattr(tarfile, "data_filter"):
                tf.extractall(dest, filter="data")
            else:  # Python < 3.11.4: refuse members that would land outside dest
                root = dest.resolve()
                for m in tf.getmembers():
                    if not (dest / m.name).resolve().is_relative_to(root) or m.issym() \
                            or m.islnk():
                        raise DataIntegrityError(f"{archive}: unsafe member {m.name!r}")
                tf.extractall(dest)
    else:
        raise DataIntegrityError(f"{archive} is neither a zip nor a tar archive")


def _merge_tree(src: Path, dst: Path):
    """Move ``src`` into ``dst``: whole folders by one rename where ``dst`` lacks them."""
    if not dst.exists():
        os.replace(src, dst)
        return
    for child in src.iterdir():
        if child.is_dir():
            _merge_tree(child, dst / child.name)
        else:
            os.replace(child, dst / child.name)


def _physionet_sums(url_key, target: Path) -> dict:
    """{relative path: sha256} from the origin's ``SHA256SUMS.txt``, downloaded once into
    ``target`` and read from there afterwards (delete it to fetch it again)."""
    with _remove_new_dirs_on_error(target):
        sums = _retrieve(BASE_URLS[url_key] + "SHA256SUMS.txt", target / "SHA256SUMS.txt",
                         url_key)
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
