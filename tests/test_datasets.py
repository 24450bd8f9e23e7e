"""Tests of sigest.datasets: every loader on the real files, errors, sha256, pooch downloads."""

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import GroupKFold

import sigest.datasets as ds
from sigest.datasets import _base
from sigest.datasets._registry import HASHES


# ------------------------------------- helpers (fixtures no_cache, http_dir: conftest.py)
def _sha(file):
    return hashlib.sha256(Path(file).read_bytes()).hexdigest()


def _field(value, width):
    text = str(value).encode("ascii")
    assert len(text) <= width, (value, width)
    return text.ljust(width)


def write_edf(file, signals=(), sfreq=100.0, annotations=None, n_records=None,
              record_seconds=1.0):
    """A minimal EDF / EDF+ writer: ``signals`` as (label, data in uV); annotations as
    (onset, duration, description) in one EDF+ annotation channel."""
    signals = list(signals)
    spr = [int(sfreq * record_seconds)] * len(signals)
    if n_records is None:
        n_records = len(signals[0][1]) // spr[0]
    labels = [label for label, _ in signals]
    phys = [(-500.0, 500.0)] * len(signals)
    digi = [(-32768, 32767)] * len(signals)
    dims = ["uV"] * len(signals)
    tal = b""
    if annotations is not None:
        tal = b"+0\x14\x14\x00" + b"".join(
            f"+{onset:g}\x15{duration:g}\x14{text}\x14\x00".encode() for onset, duration, text
            in annotations)
        n_bytes = len(tal) + (len(tal) % 2) + 2
        labels.append("EDF Annotations")
        spr.append(n_bytes // 2)
        phys.append((-1, 1))
        digi.append((-32768, 32767))
        dims.append("")
    ns = len(labels)
    head = (_field("0", 8) + _field("X X X X", 80) + _field("Startdate 01-JAN-1989 X X X", 80)
            + _field("01.01.89", 8) + _field("00.00.00", 8) + _field(256 * (ns + 1), 8)
            + _field("EDF+C" if annotations is not None else "", 44) + _field(n_records, 8)
            + _field(f"{record_seconds:g}", 8) + _field(ns, 4))
    head += b"".join(_field(v, 16) for v in labels)
    head += b"".join(_field("", 80) for _ in labels)
    head += b"".join(_field(v, 8) for v in dims)
    head += b"".join(_field(f"{lo:g}", 8) for lo, _ in phys)
    head += b"".join(_field(f"{hi:g}", 8) for _, hi in phys)
    head += b"".join(_field(lo, 8) for lo, _ in digi)
    head += b"".join(_field(hi, 8) for _, hi in digi)
    head += b"".join(_field("", 80) for _ in labels)
    head += b"".join(_field(n, 8) for n in spr)
    head += b"".join(_field("", 32) for _ in labels)
    body = bytearray()
    for r in range(n_records):
        for (_, data), n in zip(signals, spr):
            chunk = np.asarray(data[r * n:(r + 1) * n], dtype=float)
            digital = np.round(chunk / 500.0 * 32767.5 - 0.5).astype("<i2")
            body += digital.tobytes()
        if annotations is not None:
            block = (tal if r == 0 else f"+{r * record_seconds:g}\x14\x14\x00".encode())
            body += block.ljust(spr[-1] * 2, b"\x00")
    Path(file).write_bytes(head + bytes(body))


# Hypnogram of the synthetic night: stage per 30-s epoch (None = "Sleep stage ?").
_HYPNO = [("W", 60), ("1", 30), ("2", 90), ("3", 60), ("4", 30), ("R", 60), ("W", 240),
          ("?", 30)]
_EXPECTED_STAGES = [0, 0, 1, 2, 2, 2, 3, 3, 3, 4, 4] + [0] * 8


def write_sleep_edf_pair(folder, subject=0, night=1):
    """A 10-min PSG (Fpz-Cz + Pz-Oz, 100 Hz; Fpz-Cz = 5 uV * epoch index) and its hypnogram."""
    folder.mkdir(parents=True, exist_ok=True)
    n = 600 * 100
    fpz = np.repeat(np.arange(20) * 5.0, 3000)
    pz = np.sin(np.arange(n) / 10.0) * 20
    stem = f"SC4{subject:02d}{night}"
    write_edf(folder / f"{stem}E0-PSG.edf", [("EEG Fpz-Cz", fpz), ("EEG Pz-Oz", pz)])
    onsets = np.cumsum([0] + [d for _, d in _HYPNO])[:-1]
    annotations = [(float(o), float(d), f"Sleep stage {s}") for o, (s, d) in zip(onsets, _HYPNO)]
    write_edf(folder / f"{stem}EC-Hypnogram.edf", annotations=annotations, n_records=1,
              record_seconds=600.0)


# ---------------------------------------------------------------- registry and sample
def test_every_loader_is_registered():
    import sigest.plugins as plugins

    names = plugins.list_datasets()
    for name in ("sample", "eegdenoisenet", "eegdenoisenet-eog-test", "mitbih", "nstdb", "emgdb",
                 "bonn", "sleep-edf", "eegmmidb"):
        assert name in names
    assert plugins.get_dataset_loader("bonn") is ds.load_bonn


def test_load_sample_is_shipped_and_small():
    data = ds.load_sample()
    assert data.eeg.shape == data.eog.shape == (101, 512)
    assert data.eeg.dtype == np.float64 and data.sfreq == 256.0
    assert data.ma.ndim == 1 and data.ma.size >= 60 * 360 and data.ma_sfreq == 360.0
    np.testing.assert_allclose(data.eeg.std(axis=1), 1, rtol=1e-5)
    sample_dir = Path(ds.sample.SAMPLE_DIR)
    assert sum(f.stat().st_size for f in sample_dir.iterdir()) < 3e6
    assert (sample_dir / "LICENSE-EEGdenoiseNet.txt").read_text().count("MIT License") == 1
    assert "ODC-By" in (sample_dir / "ATTRIBUTION-NSTDB.txt").read_text()


def test_sample_matches_the_eog_test_set(shared_data):
    data, sample = ds.load_eegdenoisenet_eog_test(shared_data), ds.load_sample()
    np.testing.assert_allclose(sample.eeg, data.clean_eeg, atol=1e-5)
    np.testing.assert_allclose(sample.eog, data.eog, atol=1e-5)
    ma, _ = ds.load_nstdb("ma", shared_data)
    np.testing.assert_allclose(sample.ma, ma[0, : sample.ma.size], atol=1e-5)


def test_status_lists_every_data_set(shared_data, no_cache):
    rows = {r["name"]: r for r in ds.status(shared_data)}
    assert rows["eegdenoisenet"]["found"] is False  # not on this machine
    assert "EEG_all_epochs.npy" in rows["eegdenoisenet"]["detail"]
    for name in ("sample", "eegdenoisenet-eog-test", "mitbih", "nstdb", "emgdb", "bonn",
                 "sleep-edf", "eegmmidb"):
        assert rows[name]["found"], rows[name]
    assert rows["mitbih"]["detail"] == "14 records"


# ---------------------------------------------------------------- EEGdenoiseNet
def test_eog_test_set_decomposes_into_101_clean_and_101_eog_epochs(shared_data):
    from sigest.noise import mix_at_snr

    data = ds.load_eegdenoisenet_eog_test(shared_data)
    assert data.noisy.shape == data.clean.shape == (1010, 512)
    assert data.clean_eeg.shape == data.eog.shape == (101, 512)
    assert sorted(set(data.snr_db)) == list(range(-7, 3)) and data.sfreq == 256.0
    np.testing.assert_array_equal(np.bincount(data.epoch), np.full(101, 10))
    # every row is the EEGdenoiseNet mix of its clean and EOG epoch at its level, std-scaled
    remixed = mix_at_snr(data.clean_eeg[data.epoch][:, None], data.eog[data.epoch][:, None],
                         data.snr_db)[:, 0]
    scale = remixed.std(axis=1, keepdims=True)
    np.testing.assert_allclose(remixed / scale, data.noisy, atol=1e-6)
    np.testing.assert_allclose(data.clean_eeg[data.epoch] / scale, data.clean, atol=1e-6)
    np.testing.assert_allclose(data.noisy.std(axis=1), 1, atol=1e-6)


def _write_fake_eegdenoisenet(folder, n_eeg=60, n_eog=40, n_emg=70, n_times=512, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    # each epoch gets a distinct offset so its origin can be traced after shuffling
    for name, n in (("EEG", n_eeg), ("EOG", n_eog), ("EMG", n_emg)):
        arr = rng.standard_normal((n, n_times)) + np.arange(n)[:, None] * 100
        np.save(folder / f"{name}_all_epochs.npy", arr)


@pytest.mark.parametrize("artifact, n_pairs", [("EOG", 40), ("EMG", 70)])
def test_load_eegdenoisenet_paper_protocol(tmp_path, artifact, n_pairs):
    _write_fake_eegdenoisenet(tmp_path)
    # fake arrays: the registry's sizes and MD5s are those of the official files
    data = ds.load_eegdenoisenet(tmp_path, artifact, combin_num=3, random_state=0,
                                 verify_hash=False)
    n_train, n_val = round(0.8 * n_pairs), round((n_pairs - round(0.8 * n_pairs)) / 2)
    n_test = n_pairs - n_train - n_val
    assert data.X_train.shape == data.y_train.shape == (3 * n_train, 512)
    assert data.X_val.shape == (10 * n_val, 512) and data.X_test.shape == (10 * n_test, 512)
    assert data.snr_train.min() >= -7 and data.snr_train.max() <= 2
    np.testing.assert_array_equal(np.unique(data.snr_test), np.arange(-7, 3))
    np.testing.assert_array_equal(np.bincount(data.epoch_test), np.full(n_test, 10))
    np.testing.assert_allclose(data.X_train.std(axis=1), 1)  # std scaling
    for part in ("train", "val", "test"):  # the EEGdenoiseNet SNR rule, scaling cancels
        X, y, snr = data[f"X_{part}"], data[f"y_{part}"], data[f"snr_{part}"]
        measured = 10 * np.log10(np.sqrt((y**2).mean(1)) / np.sqrt(((X - y) ** 2).mean(1)))
        np.testing.assert_allclose(measured, snr, atol=0.01)
    # std_* restores units: the unscaled targets are the clean test epochs at every level
    np.testing.assert_allclose(data.y_test * data.std_test[:, None],
                               data.eeg_test[data.epoch_test])
    # the pools of the three parts are disjoint epochs
    ids = {p: set(np.round(data[f"noise_{p}"].mean(1) / 100).astype(int))
           for p in ("train", "val", "test")}
    assert not (ids["train"] & ids["test"]) and not (ids["val"] & ids["test"])
    again = ds.load_eegdenoisenet(tmp_path, artifact, combin_num=3, random_state=0,
                                  verify_hash=False)
    np.testing.assert_array_equal(again.X_train, data.X_train)
    raw = ds.load_eegdenoisenet(tmp_path, artifact, combin_num=1, scale=None, random_state=1,
                                verify_hash=False)
    np.testing.assert_array_equal(raw.std_test, 1)


def test_load_eegdenoisenet_rejects_bad_arguments(tmp_path):
    _write_fake_eegdenoisenet(tmp_path)
    with pytest.raises(ValueError, match="artifact"):
        ds.load_eegdenoisenet(tmp_path, "ECG")
    with pytest.raises(ValueError, match="512"):
        ds.load_eegdenoisenet(tmp_path, "EOG", sfreq=512)


def test_load_eegdenoisenet_emg_at_512_hz(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "EEG_all_epochs_512hz.npy", rng.standard_normal((20, 1024)))
    np.save(tmp_path / "EMG_all_epochs_512hz.npy", rng.standard_normal((30, 1024)))
    data = ds.load_eegdenoisenet(tmp_path, "EMG", sfreq=512, combin_num=2, random_state=0,
                                 verify_hash=False)
    with pytest.raises(ds.DataIntegrityError, match="bytes instead of the published"):
        ds.load_eegdenoisenet(tmp_path, "EMG", sfreq=512)
    assert data.sfreq == 512.0 and data.X_train.shape == (48, 1024)
    assert data.X_test.shape == (30, 1024)


# ---------------------------------------------------------------- ECG / EMG (wfdb)
def test_load_mitbih_windows_and_groups(shared_data):
    assert len(ds.available_records(shared_data)) == 14
    X, y, groups = ds.load_mitbih(["100", "101"], shared_data, window=256)
    assert y is None and X.dtype == np.float64
    assert X.shape == (2 * (650000 // 256), 256)
    assert sorted(set(groups)) == ["100", "101"]
    assert 0.5 < np.ptp(X[:50]) < 10  # mV
    X2, _, _ = ds.load_mitbih(["100"], shared_data, window=256, channel="MLII")
    np.testing.assert_array_equal(X2, X[groups == "100"])
    with pytest.raises(ValueError, match="MLII"):
        ds.load_mitbih(["102"], shared_data, channel="MLII")


def test_load_mitbih_bad_channel_index_and_no_records(shared_data):
    with pytest.raises(ValueError, match=r"2 channels \['MLII', 'V5'\]; got channel=2"):
        ds.load_mitbih(["100"], shared_data, channel=2)
    with pytest.raises(ValueError, match="at least one record"):
        ds.load_mitbih([], shared_data)


def test_load_mitbih_leads_of_channel_0(shared_data):
    X, y, groups, leads = ds.load_mitbih(["100", "102", "104"], shared_data, window=1024,
                                         return_leads=True)
    assert set(leads[groups == "100"]) == {"MLII"}
    assert set(leads[groups == "102"]) == set(leads[groups == "104"]) == {"V5"}
    X0, y0, groups0 = ds.load_mitbih(["100", "102", "104"], shared_data, window=1024)
    np.testing.assert_array_equal(X0, X)
    np.testing.assert_array_equal(groups0, groups)
    _, _, _, leads1 = ds.load_mitbih(["100"], shared_data, window=1024, channel=1,
                                     return_leads=True)
    assert set(leads1) == {"V5"}
    doc = ds.load_mitbih.__doc__
    assert "201 and 202" in doc and "V5" in doc and "records 102 and 104" in doc


def test_load_bonn_says_groups_are_segments_not_subjects():
    doc = " ".join(ds.load_bonn.__doc__.split())
    assert "Segments are not subjects" in doc and "five people" in doc


@settings(max_examples=8, deadline=None)
@given(window=st.integers(1, 2000), step=st.one_of(st.none(), st.integers(1, 3000)))
def test_mitbih_windows_are_slices_of_the_record(shared_data, window, step):
    import wfdb

    X, _, _ = ds.load_mitbih(["100"], shared_data, window=window, step=step)
    signal = wfdb.rdrecord(str(shared_data / "mitdb" / "100")).p_signal[:, 0]
    step = window if step is None else step
    assert len(X) == (len(signal) - window) // step + 1
    for i in (0, len(X) // 2, len(X) - 1):
        np.testing.assert_array_equal(X[i], signal[i * step: i * step + window])


@settings(max_examples=50, deadline=None)
@given(n=st.integers(0, 50), channels=st.integers(1, 3), window=st.integers(1, 20),
       step=st.one_of(st.none(), st.integers(1, 20)))
def test_sliding_windows_matches_naive(n, channels, window, step):
    signal = np.arange(n * channels, dtype=float).reshape(channels, n)
    out = ds.sliding_windows(signal, window, step)
    s = window if step is None else step
    starts = range(0, n - window + 1, s) if n >= window else []
    naive = np.array([signal[:, i:i + window] for i in starts]).reshape(-1, channels, window)
    np.testing.assert_array_equal(out, naive)


def test_sliding_windows_rejects_bad_sizes():
    with pytest.raises(ValueError, match="positive"):
        ds.sliding_windows(np.zeros(10), 0)


@pytest.mark.parametrize("record", ["ma", "bw", "118e00", "118e_6"])
def test_load_nstdb(shared_data, record):
    signal, sfreq = ds.load_nstdb(record, shared_data)
    assert signal.shape == (2, 650000) and sfreq == 360.0 and np.isfinite(signal).all()


def test_load_nstdb_unknown_record(shared_data):
    with pytest.raises(ValueError, match="unknown NSTDB record"):
        ds.load_nstdb("xx", shared_data)


@pytest.mark.parametrize("kind, n", [("healthy", 50860), ("myopathy", 110337),
                                     ("neuropathy", 147858)])
def test_load_emgdb(shared_data, kind, n):
    signal, sfreq = ds.load_emgdb(kind, shared_data)
    assert signal.shape == (n,) and sfreq == 4000.0


# ---------------------------------------------------------------- Bonn
@pytest.fixture(scope="module")
def bonn_raw(shared_data):
    return ds.load_bonn(path=shared_data)


def test_load_bonn_raw(bonn_raw):
    X, y, groups = bonn_raw
    assert X.shape == (500, 4097)
    assert sorted(set(y)) == sorted("ZONFS") and len(set(groups)) == 500
    assert groups[0] == "Z001" and y[0] == "Z"
    assert X[y == "Z"].min() == -288 and X[y == "Z"].max() == 294  # README value ranges
    assert X[y == "S"].min() == -1885 and X[y == "S"].max() == 2047


def test_load_bonn_uci_chunks_of_one_segment_share_a_group(shared_data, bonn_raw):
    X, y, groups = ds.load_bonn(path=shared_data, layout="uci")
    assert X.shape == (11500, 178)
    assert sorted(set(y)) == [1, 2, 3, 4, 5]
    assert len(set(groups)) == 500
    np.testing.assert_array_equal(np.unique(groups, return_counts=True)[1], 23)
    # the 23 chunks of a segment are its first 4094 samples, in order, with one label
    Xr, yr, gr = bonn_raw
    for seg in ("Z001", "S100", "N050"):
        np.testing.assert_array_equal(X[groups == seg].ravel(), Xr[gr == seg][0, :4094])
        assert len(set(y[groups == seg])) == 1
    assert set(y[np.char.startswith(groups, "S")]) == {1}
    assert set(y[np.char.startswith(groups, "Z")]) == {5}
    for train, test in GroupKFold(5).split(X, y, groups):
        assert not set(groups[train]) & set(groups[test])


def test_load_bonn_binary_and_subsets(shared_data):
    X, y, groups = ds.load_bonn("ZS", "uci", shared_data, binary=True)
    assert X.shape == (4600, 178) and np.bincount(y).tolist() == [2300, 2300]
    assert set(y[np.char.startswith(groups, "S")]) == {1}
    with pytest.raises(ValueError, match="sets"):
        ds.load_bonn("ZX", path=shared_data)


@pytest.mark.parametrize("sets", [["ZO"], [""], ["ONF"]])
def test_load_bonn_sets_are_single_letters(tmp_path, sets):
    # "ZO" is a substring of "ZONFS": it passed the check and was reported as missing files
    # ZO/ZO001.txt (or, with download=True, sent to the network).
    with pytest.raises(ValueError, match="sets must be letters"):
        ds.load_bonn(sets, path=tmp_path)


# ---------------------------------------------------------------- Sleep-EDF
def test_load_sleep_edf_npz(shared_data):
    X, y, groups, meta = ds.load_sleep_edf(shared_data, return_meta=True)
    assert X.shape[1:] == (1, 500) and X.dtype == np.float64
    assert sorted(set(y)) == [0, 1, 2, 3, 4] and ds.SLEEP_STAGES[4] == "REM"
    assert sorted(set(groups)) == [s for s in range(20) if s not in (18, 19)]
    first = (meta["subject"] == 0) & (meta["night"] == 1)
    assert np.bincount(y[first]).tolist() == [188, 58, 250, 220, 125]  # SC4001E0, README
    np.testing.assert_array_equal(meta["epoch"][first], np.arange(841))
    assert set(meta["night"][meta["subject"] == 13]) == {1}  # subject 13 has one night
    X2, y2, g2 = ds.load_sleep_edf(shared_data, subjects=[0])
    np.testing.assert_array_equal(X2, X[groups == 0])
    assert len(X2) == 841 + 1127


def test_load_sleep_edf_never_unpickles(shared_data, monkeypatch):
    calls = []
    real_load = np.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("allow_pickle", False))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(np, "load", spy)
    ds.load_sleep_edf(shared_data, subjects=[1])
    assert calls and not any(calls)


def test_load_sleep_edf_from_psg_and_hypnogram_edf(tmp_path):
    write_sleep_edf_pair(tmp_path / "sleep-edfx", subject=4, night=2)
    X, y, groups, meta = ds.load_sleep_edf(tmp_path, return_meta=True, format="edf")
    assert X.shape == (19, 1, 3000)
    np.testing.assert_array_equal(y, _EXPECTED_STAGES)
    assert set(groups) == {4} and set(meta["night"]) == {2}
    # epoch k holds 5 uV * k: the epochs line up with the hypnogram (the "?" epoch is 19)
    np.testing.assert_allclose(X.mean(axis=(1, 2)), np.arange(19) * 5e-6, atol=0.05e-6)
    X, y, _ = ds.load_sleep_edf(tmp_path, format="edf", trim_wake=0.5)
    np.testing.assert_array_equal(y, _EXPECTED_STAGES[1:12])  # 30 s of wake each side
    epochs = ds.load_sleep_edf(tmp_path, format="edf", return_epochs=True)
    assert len(epochs) == 1 and epochs[0].info["sfreq"] == 100.0


def test_load_sleep_edf_missing(tmp_path, no_cache):
    with pytest.raises(FileNotFoundError, match="sleep-edf.*Looked in"):
        ds.load_sleep_edf(tmp_path)


def test_empty_subject_or_run_selection_is_a_clear_error(shared_data):
    with pytest.raises(ValueError, match="at least one subject"):
        ds.load_sleep_edf(shared_data, subjects=[])
    with pytest.raises(ValueError, match="at least one"):
        ds.load_eegmmidb(subjects=[], path=shared_data)
    with pytest.raises(ValueError, match="at least one"):
        ds.load_eegmmidb(runs=[], path=shared_data)


def test_load_sleep_edf_withheld_subject(shared_data):
    with pytest.raises(FileNotFoundError, match=r"subject\(s\) \[18\]"):
        ds.load_sleep_edf(shared_data, subjects=[0, 18])


# ---------------------------------------------------------------- eegmmidb
def test_load_eegmmidb_labels_by_run_type(shared_data):
    X, y, groups = ds.load_eegmmidb(subjects=[1], runs=[3, 5], path=shared_data, groups="run")
    assert X.shape[1:] == (64, 640) and X.dtype == np.float64
    assert np.abs(X).max() < 1e-2  # volts
    assert set(y[groups == "S001R03"]) == {"left", "right"}
    assert set(y[groups == "S001R05"]) == {"fists", "feet"}
    assert len(X) == 30  # 15 task onsets per run


def test_load_eegmmidb_rest_imagery_and_subject_groups(shared_data):
    X, y, groups = ds.load_eegmmidb(subjects=[1, 3], runs=[3], path=shared_data, tmax=2.0,
                                    include_rest=True, label="both", groups="subject")
    assert X.shape[2] == 320
    assert set(y) == {"real-left", "real-right", "rest"}
    assert sorted(set(groups)) == [1, 3]
    _, y, _ = ds.load_eegmmidb(subjects=[1], runs=[4], path=shared_data, label="imagery")
    assert set(y) == {"imagined"}
    epochs = ds.load_eegmmidb(subjects=[1], runs=[4], path=shared_data, return_epochs=True)
    assert set(epochs.metadata["label"]) == {"left", "right"}
    with pytest.raises(ValueError, match="runs"):
        ds.load_eegmmidb(runs=[1], path=shared_data)
    with pytest.raises(ValueError, match="groups"):
        ds.load_eegmmidb(path=shared_data, groups="session")


def test_load_eegmmidb_default_groups_are_subject_wise(shared_data):
    # several subjects: the default groups are the subjects, so GroupKFold is subject-wise
    X, y, groups = ds.load_eegmmidb(subjects=[1, 3], runs=[3], path=shared_data, tmax=1.0)
    assert sorted(set(groups.tolist())) == [1, 3]
    for train, test in GroupKFold(2).split(X, y, groups):
        assert not set(groups[train]) & set(groups[test])
    _, _, runs = ds.load_eegmmidb(subjects=[1, 3], runs=[3], path=shared_data, tmax=1.0,
                                  groups="run")
    assert sorted(set(runs)) == ["S001R03", "S003R03"]
    # one subject cannot be split subject-wise: the default gives its runs
    _, _, groups = ds.load_eegmmidb(subjects=[1], runs=[3, 4], path=shared_data, tmax=1.0)
    assert sorted(set(groups)) == ["S001R03", "S001R04"]


# ---------------------------------------------------------------- missing files, sha256
@pytest.mark.parametrize("call, missing", [
    (lambda p: ds.load_eegdenoisenet_eog_test(p), "EOG_data_input.npy"),
    (lambda p: ds.load_eegdenoisenet(p), "EEG_all_epochs.npy"),
    (lambda p: ds.load_mitbih(["100"], p), "100.hea"),
    (lambda p: ds.load_mitbih(None, p), "100.hea"),
    (lambda p: ds.load_nstdb("ma", p), "ma.hea"),
    (lambda p: ds.load_emgdb("healthy", p), "emg_healthy.hea"),
    (lambda p: ds.load_bonn(path=p), "Z/Z001.txt"),
    (lambda p: ds.load_eegmmidb(path=p), "S001/S001R04.edf"),
])
def test_missing_files_name_the_file_and_where_looked(tmp_path, no_cache, call, missing):
    with pytest.raises(FileNotFoundError) as info:
        call(tmp_path)
    assert missing in str(info.value) and str(tmp_path) in str(info.value)


def test_sigest_data_env_var_and_search_order(tmp_path, no_cache, monkeypatch, shared_data):
    with pytest.raises(FileNotFoundError) as info:
        ds.load_emgdb()
    assert str(no_cache) in str(info.value)  # looked in the download cache
    monkeypatch.setenv("SIGEST_DATA", str(shared_data))
    signal, _ = ds.load_emgdb()
    assert signal.shape == (50860,)
    monkeypatch.setenv("SIGEST_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        ds.load_emgdb()
    assert str(tmp_path / "emgdb") in str(info.value)


def test_sha256_mismatch_is_an_error(tmp_path, shared_data):
    folder = tmp_path / "emgdb"
    folder.mkdir()
    for ext in ("hea", "dat"):
        shutil.copy(shared_data / "emgdb" / f"emg_healthy.{ext}", folder)
    ds.load_emgdb("healthy", tmp_path)  # the original passes
    dat = folder / "emg_healthy.dat"
    dat.chmod(0o644)
    raw = bytearray(dat.read_bytes())
    raw[1000] ^= 0xFF
    dat.write_bytes(bytes(raw))
    with pytest.raises(ds.DataIntegrityError, match="emg_healthy.dat"):
        ds.load_emgdb("healthy", tmp_path)
    signal, _ = ds.load_emgdb("healthy", tmp_path, verify_hash=False)
    assert signal.shape == (50860,)


def test_registry_hashes_match_the_shared_files(shared_data):
    for folder in ("eegdenoisenet-eog-test", "emgdb", "nstdb"):
        for rel, digest in HASHES[folder].items():
            assert _sha(shared_data / folder / rel) == digest, rel


# ---------------------------------------------------------------- downloads (local server)
def test_download_eegdenoisenet_from_local_server(http_dir, tmp_path, no_cache, monkeypatch):
    served, url = http_dir
    _write_fake_eegdenoisenet(served)
    monkeypatch.setitem(_base.BASE_URLS, "eegdenoisenet", url)
    monkeypatch.setitem(HASHES, "eegdenoisenet", {
        n: _sha(served / n) for n in ("EEG_all_epochs.npy", "EOG_all_epochs.npy")})
    target = tmp_path / "data"
    data = ds.load_eegdenoisenet(target, "EOG", combin_num=1, download=True, random_state=0)
    assert (target / "eegdenoisenet" / "EOG_all_epochs.npy").is_file()
    assert data.X_test.shape == (40, 512)
    # without a path, downloads go to $SIGEST_DATA (else the platform cache)
    monkeypatch.setenv("SIGEST_DATA", str(tmp_path / "env"))
    ds.load_eegdenoisenet(artifact="EOG", combin_num=1, download=True)
    assert (tmp_path / "env" / "eegdenoisenet" / "EEG_all_epochs.npy").is_file()


def test_download_with_a_wrong_hash_fails(http_dir, tmp_path, no_cache, monkeypatch):
    served, url = http_dir
    _write_fake_eegdenoisenet(served)
    monkeypatch.setitem(_base.BASE_URLS, "eegdenoisenet", url)
    monkeypatch.setitem(HASHES, "eegdenoisenet", {"EEG_all_epochs.npy": "0" * 64})
    with pytest.raises(ds.DataIntegrityError, match="sha256"):
        ds.load_eegdenoisenet(tmp_path, "EOG", download=True)


def test_download_mitbih_record_from_local_server(http_dir, tmp_path, no_cache, monkeypatch,
                                                  shared_data):
    served, url = http_dir
    for ext in ("hea", "dat", "atr"):
        shutil.copy(shared_data / "mitdb" / f"100.{ext}", served)
    monkeypatch.setitem(_base.BASE_URLS, "mitdb", url)
    X, _, groups = ds.load_mitbih(["100"], tmp_path, download=True)
    X_ref, _, _ = ds.load_mitbih(["100"], shared_data)
    np.testing.assert_array_equal(X, X_ref)
    assert (tmp_path / "mitdb" / "100.dat").is_file()


def test_download_into_a_path_that_is_the_data_folder_keeps_its_records(
        http_dir, tmp_path, no_cache, monkeypatch, shared_data):
    # path= the mitdb folder itself: record 101 went to mitdb/mitdb/, which is searched first,
    # so load_mitbih(path=...) then saw record 101 only and hid 100 and 103.
    served, url = http_dir
    for ext in ("hea", "dat"):
        shutil.copy(shared_data / "mitdb" / f"101.{ext}", served)
    monkeypatch.setitem(_base.BASE_URLS, "mitdb", url)
    mine = tmp_path / "mine"
    mine.mkdir()
    for record in ("100", "103"):
        for ext in ("hea", "dat"):
            shutil.copy(shared_data / "mitdb" / f"{record}.{ext}", mine)
    ds.load_mitbih(["100", "101"], mine, download=True)
    assert (mine / "101.dat").is_file() and not (mine / "mitdb").exists()
    assert ds.available_records(mine) == ("100", "101", "103")
    # a parent folder still gets the data folder beneath it
    ds.load_mitbih(["101"], tmp_path / "parent", download=True)
    assert (tmp_path / "parent" / "mitdb" / "101.dat").is_file()


def test_download_sleep_edf_pair_via_physionet_sha256sums(http_dir, tmp_path, no_cache,
                                                          monkeypatch):
    served, url = http_dir
    write_sleep_edf_pair(served / "sleep-cassette", subject=0, night=1)
    sums = "".join(f"{_sha(f)} sleep-cassette/{f.name}\n"
                   for f in sorted((served / "sleep-cassette").iterdir()))
    (served / "SHA256SUMS.txt").write_text(sums)
    monkeypatch.setitem(_base.BASE_URLS, "sleep-edfx", url)
    X, y, groups = ds.load_sleep_edf(tmp_path, subjects=[0], format="edf", download=True)
    np.testing.assert_array_equal(y, _EXPECTED_STAGES)
    # a tampered SHA256SUMS entry makes the download fail
    other = tmp_path / "other"
    (served / "SHA256SUMS.txt").write_text(sums.replace(sums[:8], "00000000"))
    with pytest.raises(ds.DataIntegrityError):
        ds.load_sleep_edf(other, subjects=[0], format="edf", download=True)


@pytest.mark.parametrize("layout", ["sleep-cassette", "."])
def test_download_sleep_edf_into_the_data_folder_keeps_its_recordings(
        http_dir, tmp_path, no_cache, monkeypatch, layout):
    # path= a sleep-edfx folder holding subject 0: subject 1 went to sleep-edfx/sleep-edfx/,
    # searched first, so a later load of that path saw subject 1 only.
    served, url = http_dir
    write_sleep_edf_pair(served / "sleep-cassette", subject=1, night=1)
    files = sorted((served / "sleep-cassette").iterdir())
    (served / "SHA256SUMS.txt").write_text(
        "".join(f"{_sha(f)} sleep-cassette/{f.name}\n" for f in files))
    monkeypatch.setitem(_base.BASE_URLS, "sleep-edfx", url)
    mine = tmp_path / "mine"
    write_sleep_edf_pair(mine / layout, subject=0, night=1)
    _, _, groups = ds.load_sleep_edf(mine, subjects=[0, 1], format="edf", download=True)
    assert sorted(set(groups)) == [0, 1]
    assert not (mine / "sleep-edfx").exists()
    _, _, groups = ds.load_sleep_edf(mine, format="edf")
    assert sorted(set(groups)) == [0, 1]


def test_status_finds_sleep_edf_in_edf_form(tmp_path, no_cache):
    write_sleep_edf_pair(tmp_path / "sleep-edfx" / "sleep-cassette")
    rows = {r["name"]: r for r in ds.status(tmp_path)}
    assert rows["sleep-edf"]["found"] and rows["sleep-edf"]["detail"] == "1 recordings (EDF)"
    assert not rows["bonn"]["found"] and str(tmp_path) in rows["bonn"]["path"]
