"""download=True of archives (Bonn), MD5-registered files (EEGdenoiseNet), files checked against
PhysioNet's SHA256SUMS.txt, and network failures, served from
127.0.0.1 only (the no_cache and http_dir fixtures are in conftest.py)."""

import hashlib
import socket
import zipfile

import numpy as np
import pytest

import sigest.datasets as ds
from sigest.datasets import _base
from sigest.datasets._registry import HASHES


# ---------------------------------------------------------------- Bonn (one archive)
def _bonn_zip(file, bonn, sets, alter=None):
    """A zip laid out like the GitHub one: ``z/Z`` nesting, ``__MACOSX`` junk, N's ``.TXT``."""
    top = "Eplieptic Seizure Detection Dataset"
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{top}/readme.txt", "not a segment")
        for s in sets:
            folder = f"{top}/z/Z" if s == "Z" else f"{top}/{s}"
            for seg in sorted((bonn / s).iterdir()):
                data = seg.read_bytes()
                if seg.name == alter:
                    data = data.replace(b"1", b"2", 1)
                zf.writestr(f"{folder}/{seg.name}", data)
                zf.writestr(f"__MACOSX/{folder}/._{seg.name}", b"\x00\x05\x16\x07junk")


def _serve_bonn(served, url, monkeypatch, name="bonn.zip"):
    monkeypatch.setitem(_base.BASE_URLS, "bonn-eeg", url + name)
    return served / name


def test_bonn_download_matches_the_shared_copy(http_dir, tmp_path, no_cache, monkeypatch,
                                               shared_data):
    served, url = http_dir
    _bonn_zip(_serve_bonn(served, url, monkeypatch), shared_data / "bonn-eeg", "ZNS")
    target = tmp_path / "data"
    X, y, groups = ds.load_bonn("ZNS", path=target, download=True)
    X_ref, y_ref, groups_ref = ds.load_bonn("ZNS", path=shared_data)
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(groups, groups_ref)
    # flattened into <set>/, N keeps its upper-case names, no junk and no temporary folder
    assert sorted(p.name for p in (target / "bonn-eeg").iterdir()) == ["N", "S", "Z"]
    assert (target / "bonn-eeg" / "N" / "N001.TXT").is_file()
    assert len(list((target / "bonn-eeg").rglob("*"))) == 3 + 300
    assert [p.name for p in target.iterdir()] == ["bonn-eeg"]
    # the archive lacks set O: a clear error, and what is installed stays
    with pytest.raises(FileNotFoundError, match="O/O001.txt"):
        ds.load_bonn("ZO", path=target, download=True)
    assert sorted(p.name for p in (target / "bonn-eeg").iterdir()) == ["N", "S", "Z"]


def test_bonn_download_of_an_altered_archive_installs_nothing(http_dir, tmp_path, no_cache,
                                                              monkeypatch, shared_data):
    served, url = http_dir
    _bonn_zip(_serve_bonn(served, url, monkeypatch), shared_data / "bonn-eeg", "ZS",
              alter="S050.txt")
    target = tmp_path / "data"
    with pytest.raises(ds.DataIntegrityError, match="S050.txt"):
        ds.load_bonn("ZS", path=target, download=True)
    assert not (target / "bonn-eeg").exists()
    assert not target.exists()  # the temporary folder is gone too, and the new data folder
    with pytest.raises(FileNotFoundError):  # without download=True nothing is fetched
        ds.load_bonn("Z", path=tmp_path / "other")


def test_bonn_download_refuses_unregistered_segments(http_dir, tmp_path, no_cache,
                                                     monkeypatch):
    served, url = http_dir
    with zipfile.ZipFile(_serve_bonn(served, url, monkeypatch), "w") as zf:
        zf.writestr("Z/Z101.txt", "1\n2\n")
    with pytest.raises(ds.DataIntegrityError, match="no published digest"):
        ds.load_bonn("Z", path=tmp_path / "data", download=True)
    assert not (tmp_path / "data").exists()


def test_bonn_download_from_per_set_archives(http_dir, tmp_path, no_cache, monkeypatch,
                                             shared_data):
    """The university's layout: ``Z.zip``, ``N.zip``, ... with the files at their root."""
    served, url = http_dir
    monkeypatch.setitem(_base.BASE_URLS, "bonn-eeg", url)
    for s in "ZN":
        with zipfile.ZipFile(served / f"{s}.zip", "w") as zf:
            for seg in (shared_data / "bonn-eeg" / s).iterdir():
                zf.write(seg, seg.name)
    target = tmp_path / "data"
    X_z, _, _ = ds.load_bonn("Z", path=target, download=True)
    (served / "Z.zip").unlink()  # Z is installed: only N.zip is fetched, merged beside it
    X, y, _ = ds.load_bonn("ZN", path=target, download=True)
    X_ref, _, _ = ds.load_bonn("ZN", path=shared_data)
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(X_z, X_ref[:100])
    assert sorted(p.name for p in (target / "bonn-eeg").iterdir()) == ["N", "Z"]


def test_bonn_registry_covers_the_shared_copy(shared_data):
    files = sorted(p for p in (shared_data / "bonn-eeg").rglob("*") if p.suffix.lower() == ".txt")
    assert len(files) == len(HASHES["bonn-eeg"]) == 500
    for file in files[::50]:
        rel = f"{file.parent.name}/{file.name}"
        assert hashlib.sha256(file.read_bytes()).hexdigest() == _base.known_hash("bonn-eeg", rel)


# ---------------------------------------------------------------- EEGdenoiseNet (MD5 + size)
def test_eegdenoisenet_registry_holds_md5_and_size_of_the_official_files():
    assert _base.known_hash("eegdenoisenet", "EEG_all_epochs.npy") == \
        "md5:43c5c96276dc72126236ec43b6e8c061"
    # the size of a float64 .npy of the official shape with an 80-byte header
    for name, shape in (("EEG_all_epochs.npy", (4514, 512)), ("EOG_all_epochs.npy", (3400, 512)),
                        ("EMG_all_epochs.npy", (5598, 512)),
                        ("EEG_all_epochs_512hz.npy", (4514, 1024)),
                        ("EMG_all_epochs_512hz.npy", (5598, 1024))):
        assert _base.known_size("eegdenoisenet", name) == 80 + 8 * shape[0] * shape[1], name


def _fake_files(folder, names, seed=0):
    """Small arrays in the official format and their registry entries (md5, size)."""
    rng = np.random.default_rng(seed)
    entries = {}
    for name, n in names.items():
        n_times = 1024 if "512hz" in name else 512
        np.save(folder / name, rng.standard_normal((n, n_times)))
        data = (folder / name).read_bytes()
        entries[name] = (f"md5:{hashlib.md5(data).hexdigest()}", len(data))
    return entries


def test_eegdenoisenet_download_checks_md5(http_dir, tmp_path, no_cache, monkeypatch):
    served, url = http_dir
    entries = _fake_files(served, {"EEG_all_epochs.npy": 30, "EOG_all_epochs.npy": 20})
    monkeypatch.setitem(_base.BASE_URLS, "eegdenoisenet", url)
    monkeypatch.delitem(HASHES, "eegdenoisenet", raising=False)
    wrong = dict(entries)
    wrong["EOG_all_epochs.npy"] = ("md5:" + "0" * 32, entries["EOG_all_epochs.npy"][1])
    monkeypatch.setitem(_base.EXTRA, "eegdenoisenet", wrong)
    target = tmp_path / "data"
    with pytest.raises(ds.DataIntegrityError, match="md5"):
        ds.load_eegdenoisenet(target, "EOG", combin_num=1, download=True)
    assert not (target / "eegdenoisenet" / "EOG_all_epochs.npy").exists()
    monkeypatch.setitem(_base.EXTRA, "eegdenoisenet", entries)
    data = ds.load_eegdenoisenet(target, "EOG", combin_num=1, download=True, random_state=0)
    assert data.X_test.shape == (20, 512)
    # reading checks size and MD5 too
    local = target / "eegdenoisenet" / "EEG_all_epochs.npy"
    np.save(local, np.zeros((30, 512)))  # same size, other bytes
    with pytest.raises(ds.DataIntegrityError, match="md5 .* differs"):
        ds.load_eegdenoisenet(target, "EOG")
    np.save(local, np.random.default_rng(1).standard_normal((31, 512)))
    with pytest.raises(ds.DataIntegrityError, match="bytes instead of the published"):
        ds.load_eegdenoisenet(target, "EOG")
    assert ds.load_eegdenoisenet(target, "EOG", verify_hash=False).sfreq == 256.0


def test_eegdenoisenet_512_hz_download(http_dir, tmp_path, no_cache, monkeypatch):
    served, url = http_dir
    entries = _fake_files(served, {"EEG_all_epochs_512hz.npy": 20,
                                   "EMG_all_epochs_512hz.npy": 30})
    monkeypatch.setitem(_base.BASE_URLS, "eegdenoisenet-512hz", url)
    monkeypatch.setitem(_base.BASE_URLS, "eegdenoisenet", url + "nowhere/")
    monkeypatch.setitem(_base.EXTRA, "eegdenoisenet", entries)
    data = ds.load_eegdenoisenet(tmp_path, "EMG", sfreq=512, combin_num=1, download=True)
    assert data.sfreq == 512.0 and data.X_test.shape == (30, 1024)
    assert (tmp_path / "eegdenoisenet" / "EMG_all_epochs_512hz.npy").is_file()


# ---------------------------------------------------------------- PhysioNet SHA256SUMS.txt
def _serve_eegmmidb(served, url, monkeypatch, listed=True):
    """A fake S002R04.edf; SHA256SUMS.txt lists only another file unless ``listed``."""
    (served / "S002").mkdir()
    data = b"not really an EDF file"
    (served / "S002" / "S002R04.edf").write_bytes(data)
    line = f"{hashlib.sha256(data).hexdigest()} S002/S002R04.edf\n"
    (served / "SHA256SUMS.txt").write_text(f"{'0' * 64} S002/S002R05.edf\n"
                                           + (line if listed else ""))
    monkeypatch.setitem(_base.BASE_URLS, "eegmmidb", url)
    return line


def test_download_without_a_published_digest_is_refused(http_dir, tmp_path, no_cache,
                                                        monkeypatch):
    served, url = http_dir
    line = _serve_eegmmidb(served, url, monkeypatch, listed=False)
    target = tmp_path / "data"
    with pytest.raises(ds.DataIntegrityError, match="no published digest .*S002R04.edf") as err:
        ds.load_eegmmidb(subjects=(2,), runs=(4,), path=target, download=True)
    assert f"place it at {target / 'eegmmidb' / 'S002' / 'S002R04.edf'}" in str(err.value)
    assert "delete the cached" in str(err.value)
    assert not (target / "eegmmidb" / "S002").exists()  # nothing installed, no empty folder
    # the list is cached: a corrected server list is seen only once the cached one is deleted
    (served / "SHA256SUMS.txt").write_text(line)
    with pytest.raises(ds.DataIntegrityError, match="no published digest"):
        _base.fetch("eegmmidb", "S002/S002R04.edf", target / "eegmmidb")
    (target / "eegmmidb" / "SHA256SUMS.txt").unlink()
    out = _base.fetch("eegmmidb", "S002/S002R04.edf", target / "eegmmidb")
    assert out.read_bytes() == b"not really an EDF file"


def test_checksum_failure_from_sha256sums_says_to_delete_the_cached_list(
        http_dir, tmp_path, no_cache, monkeypatch):
    served, url = http_dir
    _serve_eegmmidb(served, url, monkeypatch)
    (served / "S002" / "S002R04.edf").write_bytes(b"altered")
    target = tmp_path / "data" / "eegmmidb"
    with pytest.raises(ds.DataIntegrityError,
                       match=r"sha256 check.*delete the cached .*SHA256SUMS\.txt"):
        _base.fetch("eegmmidb", "S002/S002R04.edf", target)
    assert list(target.iterdir()) == [target / "SHA256SUMS.txt"]


# ---------------------------------------------------------------- network failures
def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _assert_download_error(err, url, folder):
    assert isinstance(err, FileNotFoundError)  # what the CLI reports without a traceback
    msg = str(err)
    assert f"could not download {url}" in msg and "BASE_URLS['mitdb']" in msg, msg
    assert f"place it at {folder / '100.hea'}" in msg, msg


@pytest.mark.parametrize("failure", ["refused", "unresolvable", "404", "timeout"])
def test_network_failures_raise_a_clear_error_and_leave_no_folder(failure, http_dir, tmp_path,
                                                                  no_cache, monkeypatch):
    import pooch.downloaders

    _, url = http_dir  # serves nothing: 404
    listener = None
    if failure == "refused":
        url = f"http://127.0.0.1:{_closed_port()}/"
    elif failure == "unresolvable":
        real = socket.getaddrinfo

        def getaddrinfo(host, *args, **kwargs):
            if host == "physionet.invalid":
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return real(host, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        url = "http://physionet.invalid/"
    elif failure == "timeout":  # accepts connections (backlog) and never answers
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        monkeypatch.setattr(pooch.downloaders, "DEFAULT_TIMEOUT", 0.5)
    monkeypatch.setitem(_base.BASE_URLS, "mitdb", url)
    target = tmp_path / "data"
    try:
        with pytest.raises(_base.DataDownloadError) as err:
            ds.load_mitbih(["100"], path=target, download=True)
    finally:
        if listener is not None:
            listener.close()
    _assert_download_error(err.value, url + "100.hea", target / "mitdb")
    assert not target.exists()


def test_missing_sha256sums_and_archive_raise_download_errors(http_dir, tmp_path, no_cache,
                                                              monkeypatch):
    _, url = http_dir
    monkeypatch.setitem(_base.BASE_URLS, "eegmmidb", url)
    target = tmp_path / "data"
    with pytest.raises(_base.DataDownloadError, match=f"{url}SHA256SUMS.txt .*HTTPError.*404"):
        ds.load_eegmmidb(subjects=(2,), runs=(4,), path=target, download=True)
    assert not target.exists()
    monkeypatch.setitem(_base.BASE_URLS, "bonn-eeg", url + "bonn.zip")
    with pytest.raises(_base.DataDownloadError, match=f"unpack it into {target / 'bonn-eeg'}"):
        ds.load_bonn("Z", path=target, download=True)
    assert not target.exists()


# ---------------------------------------------------------------- messages
def test_mitbih_download_without_records_says_records_are_needed(tmp_path, no_cache):
    with pytest.raises(FileNotFoundError, match=r"pass records=\.\.\.") as err:
        ds.load_mitbih(path=tmp_path, download=True)
    assert "use download=True" not in str(err.value)


def test_sleep_edf_missing_data_mentions_download(tmp_path, no_cache):
    with pytest.raises(FileNotFoundError, match=r"download=True and subjects=\.\.\."):
        ds.load_sleep_edf(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"only the subjects given"):
        ds.load_sleep_edf(tmp_path, download=True)
