"""Denoising whole recordings: overlap-add, EDF/FIF/WFDB in and out, and the CLI commands."""

import os
import shutil

import numpy as np
import pytest
from sklearn.preprocessing import FunctionTransformer

import sigest
from sigest.cli import main
from sigest.recordings import (
    denoise_array,
    denoise_recording,
    hann_periodic,
    read_recording,
    write_recording,
)

mne = pytest.importorskip("mne")


def identity_model(n_times, sfreq=None, n_channels=1):
    """A stand-in denoiser that returns its input: overlap-add must return the signal."""
    model = FunctionTransformer().fit(np.zeros((1, n_channels, n_times)))
    model.n_times_in_, model.n_channels_in_, model.sfreq_ = n_times, n_channels, sfreq
    return model


@pytest.fixture(scope="module")
def edf_path(shared_data):
    return shared_data / "eegmmidb" / "S001" / "S001R03.edf"


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, edf_path):
    """A small conv denoiser fitted in seconds on real EEG at the recording's 160 Hz."""
    raw = mne.io.read_raw_edf(edf_path, preload=True, verbose="error")
    data = raw.get_data(picks=list(range(8)))[:, :16000]
    X = data.reshape(8, -1, 320).reshape(-1, 320)
    X = X - X.mean(axis=1, keepdims=True)
    est = sigest.get_estimator("tiny-conv-denoiser", max_epochs=3, sfreq=160.0, random_state=0)
    est.fit(X)
    path = tmp_path_factory.mktemp("model") / "tiny.zip"
    est.save(path)
    return est, path


# ------------------------------------------------------------------------------ overlap-add
def test_hann_copies_sum_to_one():
    w = hann_periodic(64)
    assert np.allclose(w[:32] + w[32:], 1.0)


@pytest.mark.parametrize("n_samples", [1000, 1024, 37, 2])
@pytest.mark.parametrize("n_times", [64, 65])
def test_identity_model_returns_input_exactly(n_samples, n_times):
    x = np.random.default_rng(0).standard_normal((3, n_samples)) + 5.0
    out = denoise_array(identity_model(n_times), x)
    assert out.shape == x.shape
    assert np.max(np.abs(out - x)) < 1e-6 * np.max(np.abs(x))  # float32 model precision


def test_identity_model_multichannel_and_1d():
    x = np.random.default_rng(1).standard_normal((4, 500))
    assert np.allclose(denoise_array(identity_model(50, n_channels=4), x), x, atol=1e-5)
    assert np.allclose(denoise_array(identity_model(50), x[0]), x[0], atol=1e-5)
    with pytest.raises(ValueError, match="fitted on 4 channels"):
        denoise_array(identity_model(50, n_channels=4), x[:2])


def test_real_model_has_no_seams_at_window_borders(tiny_model, edf_path):
    est, _ = tiny_model
    raw = mne.io.read_raw_edf(edf_path, preload=True, verbose="error")
    x = raw.get_data(picks=[10])[:, 16000:]  # not seen in training
    out = denoise_array(est, x, 160.0)
    hop = est.n_times_in_ // 2
    jumps = np.abs(np.diff(out[0]))
    # Window k covers padded samples [k*hop, k*hop + n_times); the signal starts at hop.
    borders = np.arange(hop - 1, x.shape[1] - 1, hop)
    assert np.max(jumps[borders]) <= 3 * np.percentile(jumps, 99)
    assert np.mean(jumps[borders]) <= 2 * np.mean(jumps)


def _border_jump_ratio(signal, first_border, hop):
    jumps = np.abs(np.diff(signal))
    return np.mean(jumps[np.arange(first_border, len(signal) - 1, hop)]) / np.mean(jumps)


def test_seam_measure_catches_a_plain_windowed_denoiser():
    """A model whose errors grow towards its window's end: cut-and-concatenate shows seams at
    every border, overlap-add none (the measure of the test above can fail)."""
    n = 64
    ramp = np.linspace(0.6, 1.4, n)
    skewed = FunctionTransformer(lambda X: X * ramp).fit(np.zeros((1, 1, n)))
    skewed.n_times_in_, skewed.n_channels_in_, skewed.sfreq_ = n, 1, None
    t = np.arange(64 * 40)
    x = np.sin(2 * np.pi * t / 97.0)[None] + 2.0
    plain = skewed.transform(x[0].reshape(-1, 1, n)).reshape(-1)
    assert _border_jump_ratio(plain, n - 1, n) > 5
    assert _border_jump_ratio(denoise_array(skewed, x, center=False)[0], n // 2 - 1, n // 2) < 2


def test_nan_and_unfitted_are_clear_errors():
    with pytest.raises(ValueError, match="NaN"):
        denoise_array(identity_model(8), np.array([[0.0, np.nan, 1.0]]))
    with pytest.raises(ValueError, match="not a fitted denoiser"):
        denoise_array(FunctionTransformer(), np.zeros((1, 10)))


def nonlinear_model(n_times, sfreq=None):
    """A stand-in denoiser whose overlap-add output depends on where the windows fall."""
    model = FunctionTransformer(lambda X: np.tanh(3 * np.asarray(X))).fit(
        np.zeros((1, 1, n_times)))
    model.n_times_in_, model.n_channels_in_, model.sfreq_ = n_times, 1, sfreq
    return model


@pytest.mark.parametrize("n_times", [64, 65])
@pytest.mark.parametrize("span", [(0, 50), (0, 1000), (300, 431), (937, 1000), (999, 1000),
                                  (64, 128), (500, 501)])
def test_span_is_the_whole_recordings_denoising_exactly(n_times, span):
    x = np.random.default_rng(2).standard_normal((2, 1000))
    model = nonlinear_model(n_times)
    full = denoise_array(model, x)
    part = denoise_array(model, x, span=span)
    assert part.shape == (2, span[1] - span[0])
    np.testing.assert_allclose(part, full[:, span[0]:span[1]], rtol=0, atol=1e-6)
    # a window grid shifted by one sample would not match
    assert not np.allclose(denoise_array(model, x[:, 1:])[:, 299:430], full[:, 300:431],
                           atol=1e-3)


def test_span_runs_only_the_windows_it_needs(tiny_model, edf_path, monkeypatch):
    from sigest import recordings

    est, _ = tiny_model
    x = mne.io.read_raw_edf(edf_path, preload=True, verbose="error").get_data(picks=[10])
    rows = []
    transform3 = recordings._transform3
    monkeypatch.setattr(recordings, "_transform3",
                        lambda e, X3: rows.append(len(X3)) or transform3(e, X3))
    full = denoise_array(est, x, 160.0)
    n_full, rows[:] = sum(rows), []
    start, stop = 1600, 2080  # 10 s to 13 s
    part = denoise_array(est, x, 160.0, span=(start, stop))
    assert sum(rows) <= 8 < n_full  # (480 + 2 * 320) samples / hop 160 + 1
    np.testing.assert_allclose(part, full[:, start:stop], rtol=0, atol=1e-6 * np.abs(x).max())


def test_span_with_resampling_is_close_to_the_whole(shared_data):
    from sigest.recordings import load_denoiser

    # the audit's case: 160 Hz EEG, a 256 Hz model (resampled whole, denoised near the span)
    raw = read_recording(shared_data / "eegmmidb" / "S001" / "S001R04.edf")
    est = load_denoiser("cdae-bam:eegdenoisenet-emg")
    x = raw.get_data(picks=["Fc5.", "T7.."])
    full = denoise_array(est, x, 160.0)
    for start, stop in ((1600, 2080), (9648, 10128), (19500, 20000), (0, 300)):
        part = denoise_array(est, x, 160.0, span=(start, stop))
        reference = full[:, start:stop]
        error = np.abs(part - reference).max(axis=1) / reference.std(axis=1)
        assert np.all(error < 2e-3), (start, error)


def test_span_out_of_range_is_a_clear_error():
    with pytest.raises(ValueError, match="span must be"):
        denoise_array(identity_model(8), np.zeros((1, 100)), span=(90, 120))


# ------------------------------------------------------------------------ formats and CLI
def test_denoise_round_trips_real_edf(tmp_path, tiny_model, edf_path, capsys):
    _, weights = tiny_model
    out_path = tmp_path / "S001R03_denoised.edf"
    assert main(["denoise", str(edf_path), str(out_path), "--weights", str(weights),
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    rrmse = float(printed.split("RRMSE of output vs input:")[1].split()[0])
    assert 0 < rrmse < 1.0  # it changed the signal, and did not destroy it
    raw_in = mne.io.read_raw_edf(edf_path, preload=True, verbose="error")
    raw_out = mne.io.read_raw_edf(out_path, preload=True, verbose="error")
    assert raw_out.ch_names == raw_in.ch_names and len(raw_out.ch_names) == 64
    assert raw_out.info["sfreq"] == raw_in.info["sfreq"]
    assert raw_out.n_times == raw_in.n_times
    assert raw_out._orig_units == raw_in._orig_units
    assert list(raw_out.annotations.description) == list(raw_in.annotations.description)
    assert np.allclose(raw_out.annotations.onset, raw_in.annotations.onset)
    assert np.allclose(raw_out.annotations.duration, raw_in.annotations.duration)
    # Same units (volts in mne): the output's scale is the input's.
    ratio = raw_out.get_data().std() / raw_in.get_data().std()
    assert 0.5 < ratio < 1.5


def test_denoise_fif_output_and_input_and_channel_subset(tmp_path, tiny_model, edf_path):
    est, weights = tiny_model
    fif = tmp_path / "in_raw.fif"
    raw = mne.io.read_raw_edf(edf_path, preload=True, verbose="error").crop(0, 20)
    raw.save(fif, verbose="error")
    out = tmp_path / "out_raw.fif"
    assert main(["denoise", str(fif), str(out), "--weights", str(weights), "--channels",
                 "C3..", "Cz..", "--quiet"]) == 0
    back = mne.io.read_raw_fif(out, preload=True, verbose="error")
    assert back.ch_names == raw.ch_names
    assert len(back.annotations) == len(raw.annotations)
    untouched = [c for c in raw.ch_names if c not in ("C3..", "Cz..")]
    assert np.allclose(back.get_data(picks=untouched), raw.get_data(picks=untouched))
    assert not np.allclose(back.get_data(picks=["C3.."]), raw.get_data(picks=["C3.."]))


def test_wfdb_read_path_units_and_annotations(shared_data, tmp_path):
    record = shared_data / "mitdb" / "100"
    raw = read_recording(str(record) + ".hea")
    assert raw.info["sfreq"] == 360.0 and raw.ch_names == ["MLII", "V5"]
    assert raw._orig_units == {"MLII": "mV", "V5": "mV"}
    assert 1e-4 < np.abs(raw.get_data()).max() < 1e-1  # volts, from mV
    assert len(raw.annotations) > 1000 and "N" in set(raw.annotations.description)
    raw.crop(0, 20)
    ecg = sigest.get_estimator("tiny-conv-denoiser", max_epochs=1, sfreq=360.0, random_state=0)
    ecg.fit(raw.get_data()[0, :7200].reshape(-1, 240))
    _, out = denoise_recording(record, None, estimator=ecg)
    assert out.get_data().shape == (2, raw.n_times) or out.ch_names == raw.ch_names
    write_recording(out.crop(0, 10), tmp_path / "ecg_raw.fif")
    assert (tmp_path / "ecg_raw.fif").exists()


def test_sampling_rate_mismatch_is_announced(capsys):
    x = np.random.default_rng(0).standard_normal((1, 1600))
    out = denoise_array(identity_model(128, sfreq=256.0), x, 160.0, quiet=False)
    assert "resampling 160 Hz -> 256 Hz" in capsys.readouterr().err
    assert out.shape == x.shape
    assert np.corrcoef(out[0, 50:-50], x[0, 50:-50])[0, 1] > 0.5  # band-limited round trip


def test_errors_exit_2_with_message(tmp_path, tiny_model, edf_path, capsys):
    _, weights = tiny_model
    bad = tmp_path / "broken.edf"
    bad.write_bytes(b"this is not an EDF file" * 10)
    cases = [
        ([str(bad), str(tmp_path / "o.fif")], "cannot read"),
        ([str(tmp_path / "missing.edf"), str(tmp_path / "o.fif")], "no such file"),
        ([str(tmp_path / "notes.txt"), str(tmp_path / "o.fif")], None),
        ([str(edf_path), str(tmp_path / "o.fif"), "--channels", "Nope"], "Nope"),
        ([str(edf_path), str(tmp_path / "o.wav")], "unknown output format"),
    ]
    (tmp_path / "notes.txt").write_text("hello")
    for argv, message in cases:
        assert main(["denoise", *argv, "--weights", str(weights), "--quiet"]) == 2, argv
        err = capsys.readouterr().err
        assert "sigest denoise: error:" in err
        assert message is None or message in err
    assert "unknown recording format" in _err_of(
        ["denoise", str(tmp_path / "notes.txt"), str(tmp_path / "o.fif"), "--weights",
         str(weights)], capsys)


def _err_of(argv, capsys):
    main(argv)
    return capsys.readouterr().err


def _small_raw(seed=0):
    data = np.random.default_rng(seed).standard_normal((2, 1000)) * 1e-5
    return mne.io.RawArray(data, mne.create_info(["C3", "C4"], 100.0, "eeg"), verbose="error")


def _read_any(path):
    return mne.io.read_raw(path, preload=True, verbose="error")


@pytest.mark.parametrize("name", ["out_raw.fif", "out.edf"])
@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_interrupted_write_keeps_the_earlier_output(tmp_path, monkeypatch, name, error):
    path = tmp_path / name
    write_recording(_small_raw(0), path)
    good = path.read_bytes()

    def write_half_then_fail(fname):
        with open(fname, "wb") as f:
            f.write(good[:len(good) // 2])
        raise error

    monkeypatch.setattr(mne.io.BaseRaw, "save",
                        lambda self, fname, **kwargs: write_half_then_fail(fname))
    monkeypatch.setattr(mne.export, "export_raw",
                        lambda fname, raw, **kwargs: write_half_then_fail(fname))
    with pytest.raises(type(error)):
        write_recording(_small_raw(1), path)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == [name]  # no temporary file or folder left behind
    monkeypatch.undo()
    write_recording(_small_raw(1), path)  # a good write replaces the file, and leaves only it
    assert os.listdir(tmp_path) == [name]
    assert np.allclose(_read_any(path).get_data(), _small_raw(1).get_data(), atol=1e-8)


@pytest.fixture
def no_work(monkeypatch):
    """Make reading the recording or loading the model fail the test: a check must come first."""
    import sigest.recordings as recordings

    def forbidden(*args, **kwargs):
        raise AssertionError("the output path must be checked before any work")

    monkeypatch.setattr(recordings, "read_recording", forbidden)
    monkeypatch.setattr(recordings, "load_denoiser", forbidden)


def test_denoise_refuses_to_overwrite_its_input(tmp_path, edf_path, capsys, no_work):
    rec = tmp_path / "rec.edf"
    shutil.copy(edf_path, rec)
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.edf").symlink_to(rec)
    before = rec.read_bytes()
    for out in (rec, tmp_path / "sub" / ".." / "rec.edf", tmp_path / "link.edf"):
        assert main(["denoise", str(rec), str(out), "--weights", "model.zip", "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("sigest denoise: error:") and "is the input recording" in err
        assert len(err.strip().splitlines()) == 1
    with pytest.raises(ValueError, match="is the input recording"):
        denoise_recording(rec, rec, estimator=identity_model(64))
    assert rec.read_bytes() == before


def test_denoise_checks_the_output_path_before_any_work(tmp_path, edf_path, capsys, no_work):
    (tmp_path / "folder.fif").mkdir()
    cases = [
        (tmp_path / "out.txt", "unknown output format '.txt'"),
        (tmp_path / "missing" / "out.fif", "does not exist"),
        (tmp_path, "is a folder"),
        (tmp_path / "folder.fif", "is a folder"),
    ]
    for out, message in cases:
        assert main(["denoise", str(edf_path), str(out), "--weights", "model.zip",
                     "--quiet"]) == 2, out
        err = capsys.readouterr().err
        assert err.startswith("sigest denoise: error:") and message in err, err
        with pytest.raises(ValueError, match=message):
            denoise_recording(edf_path, out, estimator=identity_model(64))


def test_denoise_write_error_is_a_clean_message(tmp_path, tiny_model, edf_path, monkeypatch,
                                                capsys):
    _, weights = tiny_model
    fif = tmp_path / "in_raw.fif"
    mne.io.read_raw_edf(edf_path, preload=True, verbose="error").crop(0, 5).save(
        fif, verbose="error")

    def refuse(self, fname, **kwargs):
        raise PermissionError(13, "Permission denied", str(fname))

    monkeypatch.setattr(mne.io.BaseRaw, "save", refuse)
    out = tmp_path / "out_raw.fif"
    assert main(["denoise", str(fif), str(out), "--weights", str(weights), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sigest denoise: error: Permission denied:"), err
    assert "Traceback" not in err and not out.exists()
    assert sorted(os.listdir(tmp_path)) == ["in_raw.fif"]


def test_fit_and_evaluate_on_tiny_budget(tmp_path, shared_data, capsys):
    model = tmp_path / "tiny.zip"
    assert main(["fit", "tiny-conv-denoiser", "--dataset", "sample", "--max-epochs", "2",
                 "--output", str(model), "--quiet"]) == 0
    assert "held-out" in capsys.readouterr().out and model.exists()
    assert main(["evaluate", str(model), "--dataset", "eegdenoisenet-eog-test",
                 "--data-path", str(shared_data), "--max-samples", "200", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "noisy input" in out and "denoised" in out


def test_plot_writes_figure(tmp_path, tiny_model, edf_path):
    _, weights = tiny_model
    fig = tmp_path / "fig.png"
    assert main(["plot", str(edf_path), str(fig), "--weights", str(weights), "--channel",
                 "Cz..", "--duration", "3", "--quiet"]) == 0
    assert fig.stat().st_size > 5000


def test_plot_time_axis_shows_where_the_excerpt_is(tmp_path, tiny_model, edf_path,
                                                  monkeypatch):
    import sigest.plot

    est, weights = tiny_model
    figures = []
    plot_denoising = sigest.plot.plot_denoising
    monkeypatch.setattr(sigest.plot, "plot_denoising",
                        lambda *a, **k: figures.append(plot_denoising(*a, **k)) or figures[-1])
    assert main(["plot", str(edf_path), str(tmp_path / "fig.png"), "--weights", str(weights),
                 "--channel", "Cz..", "--start", "10", "--duration", "3", "--quiet"]) == 0
    ax = figures[0].axes[0]
    input_line, denoised_line = ax.lines
    t = input_line.get_xdata()
    assert t[0] == pytest.approx(10.0) and t[-1] == pytest.approx(13.0 - 1 / 160)
    assert ax.get_xlim()[0] < 10.0 < 13.0 < ax.get_xlim()[1] < 14.0
    # the denoised excerpt is the whole recording's denoising, in µV
    raw = mne.io.read_raw_edf(edf_path, preload=True, verbose="error")
    whole = denoise_array(est, raw.get_data(picks=["Cz.."]), 160.0)[0, 1600:2080] * 1e6
    np.testing.assert_allclose(denoised_line.get_ydata(), whole, rtol=0,
                               atol=1e-6 * np.abs(whole).max())


@pytest.mark.parametrize("flags", [["--start", "-1"], ["--duration", "0"],
                                   ["--start", "1000"]])
def test_plot_refuses_an_empty_or_negative_window(tmp_path, tiny_model, edf_path, capsys,
                                                  flags):
    _, weights = tiny_model
    assert main(["plot", str(edf_path), str(tmp_path / "fig.png"), "--weights", str(weights),
                 *flags, "--quiet"]) == 2
    assert "sigest plot: error: --" in capsys.readouterr().err


def test_fit_holds_out_whole_groups(tmp_path, shared_data, capsys):
    from sigest.recordings import _split

    groups = np.repeat(np.arange(20), 10)  # e.g. 10 mixtures of each clean epoch
    train, test = _split(len(groups), 0.2, 0, groups)
    assert not set(groups[train]) & set(groups[test]) and len(set(groups[test])) == 4
    model = tmp_path / "paired.zip"
    assert main(["fit", "tiny-conv-denoiser", "--dataset", "eegdenoisenet-eog-test",
                 "--data-path", str(shared_data), "--max-samples", "150", "--max-epochs", "1",
                 "--output", str(model), "--quiet"]) == 0
    assert model.exists() and "held-out" in capsys.readouterr().out
    # trained on the data set's pairs: the file says so, and clean-only data cannot score it
    assert sigest.load(model).noise is None
    assert main(["evaluate", str(model), "--dataset", "sample", "--quiet"]) == 2
    assert "trained without a noise source" in capsys.readouterr().err


@pytest.fixture(scope="module")
def sample_model(tmp_path_factory):
    """``sigest fit`` on the shipped sample (clean EEG at 256 Hz, noise="white"), 1 epoch."""
    model = tmp_path_factory.mktemp("fit") / "fit1.zip"
    assert main(["fit", "tiny-conv-denoiser", "--dataset", "sample", "--max-epochs", "1",
                 "--quiet", "--output", str(model)]) == 0
    return model


def test_evaluate_on_clean_only_data_uses_the_saved_noise(sample_model, capsys):
    """The fitted noise_ is not saved: the loaded model's noise parameter makes the pairs."""
    outputs = []
    for _ in range(2):
        assert main(["evaluate", str(sample_model), "--dataset", "sample", "--quiet"]) == 0
        outputs.append(capsys.readouterr().out)
    assert "noise='white'" in outputs[0] and "denoised" in outputs[0]
    assert outputs[0] == outputs[1]  # a seeded draw: the same scores every run


def test_evaluate_at_another_rate_resamples_and_says_so(sample_model, shared_data, capsys):
    assert main(["evaluate", str(sample_model), "--dataset", "sleep-edf", "--data-path",
                 str(shared_data), "--max-samples", "20", "--quiet"]) == 0
    out = capsys.readouterr()
    assert "sleep-edf: 20 epochs" in out.out and "noise='white'" in out.out
    assert main(["evaluate", str(sample_model), "--dataset", "sleep-edf", "--data-path",
                 str(shared_data), "--max-samples", "20"]) == 0
    assert "resampling 100 Hz -> 256 Hz" in capsys.readouterr().err


def test_clean_only_error_only_for_models_trained_without_noise():
    from sigest.recordings import _pairs_for

    rng = np.random.default_rng(0)
    clean = rng.standard_normal((8, 1, 64)).astype(np.float32)
    paired = sigest.get_estimator("tiny-conv-denoiser", max_epochs=1, random_state=0)
    paired.fit(clean + 0.1, clean)  # noise="white" unused: noise_ is None
    with pytest.raises(ValueError, match="trained without a noise source"):
        _pairs_for(paired, clean, None)
    noisy_fit = sigest.get_estimator("tiny-conv-denoiser", max_epochs=1, random_state=0)
    noisy_fit.fit(clean)
    noisy, target = _pairs_for(noisy_fit, clean, None)
    assert target is clean and noisy.shape == clean.shape and not np.allclose(noisy, clean)
    assert np.array_equal(noisy, _pairs_for(noisy_fit, clean, None)[0])


def test_evaluation_noise_is_held_out_at_the_model_rate_and_at_another():
    from sigest.recordings import _evaluation_noise

    clean = np.random.default_rng(0).standard_normal((8, 1, 512)).astype(np.float32)
    den = sigest.get_estimator("tiny-conv-denoiser", max_epochs=1, random_state=0, sfreq=256.0)
    den.fit(clean)
    for sfreq in (256.0, 100.0):
        noise = _evaluation_noise(den, clean, sfreq)
        assert noise.split == "test" and noise.sfreq == sfreq


@pytest.mark.parametrize("name, reason", [
    ("bandpass", "has no save()"), ("wavelet", "has no save()"),
    ("tiny-mlp-gan", "generation estimator"), ("tiny-conv-classifier", "classification"),
])
def test_fit_refuses_what_it_cannot_train_and_save(tmp_path, capsys, name, reason):
    output = tmp_path / "model.zip"
    assert main(["fit", name, "--dataset", "sample", "--max-epochs", "1", "--quiet",
                 "--output", str(output)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sigest fit: error:") and reason in err and err.count("\n") == 1
    assert "sigest list --task denoising" in err or "tiny-conv-denoiser" in err
    assert not output.exists()


@pytest.mark.parametrize("value", ["1.5", "1", "0", "-0.2", "nan", "abc"])
def test_fit_refuses_test_size_outside_0_1(tmp_path, capsys, value):
    output = tmp_path / "model.zip"
    with pytest.raises(SystemExit) as exc:
        main(["fit", "tiny-conv-denoiser", "--dataset", "sample", "--max-epochs", "1",
              "--quiet", "--test-size", value, "--output", str(output)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --test-size" in err and value in err and "(0, 1)" in err
    assert not output.exists()


def test_evaluate_refuses_what_is_not_a_saved_denoiser(tmp_path, capsys):
    import zipfile

    X = np.random.default_rng(0).standard_normal((20, 1, 64)).astype(np.float32)
    classifier = tmp_path / "classifier.zip"
    sigest.get_estimator("tiny-conv-classifier", max_epochs=1).fit(
        X, np.arange(20) % 2).save(classifier)
    (tmp_path / "text.zip").write_text("not a model")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        zf.writestr("readme.txt", "hello")
    cases = [(tmp_path / "missing.zip", "no such model file"),
             (tmp_path / "text.zip", "not a readable sigest model file"),
             (tmp_path / "other.zip", "not a readable sigest model file"),
             (classifier, "holds a TinyClassifier, a classifier")]
    for path, message in cases:
        assert main(["evaluate", str(path), "--dataset", "sample", "--quiet"]) == 2, path
        err = capsys.readouterr().err
        assert err.startswith("sigest evaluate: error:") and message in err, err


def test_fit_refuses_the_full_eegdenoisenet_split_clearly(monkeypatch, capsys):
    # its Bunch of X_train/X_test pairs fell through to "not a set of signal epochs"
    from sklearn.utils import Bunch

    import sigest.plugins

    pairs = np.zeros((4, 512), dtype=np.float32)
    bunch = Bunch(X_train=pairs, y_train=pairs, X_test=pairs, y_test=pairs, sfreq=256.0)
    monkeypatch.setattr(sigest.plugins, "get_dataset_loader", lambda name: lambda **kw: bunch)
    assert main(["fit", "tiny-conv-denoiser", "--dataset", "eegdenoisenet", "--quiet"]) == 2
    assert "load_eegdenoisenet" in capsys.readouterr().err


def test_fit_on_a_data_set_that_needs_arguments_is_a_clear_error(shared_data, capsys):
    # load_nstdb(record) raised a bare TypeError traceback from inside the command
    assert main(["fit", "tiny-conv-denoiser", "--dataset", "nstdb", "--data-path",
                 str(shared_data), "--quiet"]) == 2
    assert "not a set of signal epochs" in capsys.readouterr().err


def test_plugins_all_lists_every_registered_name(capsys):
    assert main(["plugins", "--all"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in sigest.list_noises())


def test_a_plugin_data_set_can_give_its_sampling_rate(monkeypatch):
    import sigest.plugins
    from sigest.recordings import _load_dataset

    X = np.zeros((6, 2, 64), dtype=np.float32)
    loaders = {"rated": lambda: {"X": X, "sfreq": 128.0, "groups": np.arange(6) // 2},
               "tuple": lambda: (X, None, np.arange(6)),
               "odd": lambda: [X]}
    monkeypatch.setattr(sigest.plugins, "get_dataset_loader", loaders.__getitem__)
    X_loaded, y, sfreq, groups = _load_dataset("rated")
    assert X_loaded.shape == X.shape and y is None and sfreq == 128.0
    np.testing.assert_array_equal(groups, [0, 0, 1, 1, 2, 2])
    assert _load_dataset("tuple")[2] is None  # a tuple carries no rate
    with pytest.raises(ValueError, match=r"should return \(X, y, groups\), a dict with X .*got "
                                         r"list"):
        _load_dataset("odd")


@pytest.fixture
def no_training(monkeypatch):
    """Make loading the data set fail the test: ``sigest fit`` must check its output first."""
    import sigest.recordings as recordings

    def forbidden(*args, **kwargs):
        raise AssertionError("the output path must be checked before loading data or training")

    monkeypatch.setattr(recordings, "_load_dataset", forbidden)


def test_fit_checks_the_output_before_any_work(tmp_path, capsys, no_training):
    (tmp_path / "folder.zip").mkdir()
    cases = [
        (tmp_path / "missing" / "model.zip", f"output folder {tmp_path / 'missing'} does not "
                                             "exist"),
        (tmp_path / "folder.zip", "is a folder"),
        (tmp_path, "is a folder"),
        (tmp_path / "model", "unknown output format '' for"),
        (tmp_path / "model.fif", "unknown output format '.fif'"),
    ]
    for output, message in cases:
        assert main(["fit", "tiny-conv-denoiser", "--dataset", "sample", "--max-epochs", "1",
                     "--output", str(output), "--quiet"]) == 2, output
        err = capsys.readouterr().err
        assert err.startswith("sigest fit: error:") and message in err, err
        assert "expected one of .zip" in err or "does not exist" in err or "folder" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.zip"]


@pytest.mark.parametrize("option", ["--max-epochs", "--max-samples"])
@pytest.mark.parametrize("value", ["0", "-1", "1.5", "abc"])
def test_fit_refuses_counts_that_are_not_positive_integers(tmp_path, capsys, no_training,
                                                           option, value):
    output = tmp_path / "model.zip"
    with pytest.raises(SystemExit) as exc:
        main(["fit", "tiny-conv-denoiser", "--dataset", "sample", option, value, "--quiet",
              "--output", str(output)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: must be a positive integer" in err and repr(value) in err, err
    assert not output.exists()


@pytest.mark.parametrize("value", ["0", "-3"])
def test_evaluate_refuses_max_samples_that_is_not_positive(capsys, value):
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "model.zip", "--dataset", "sample", "--max-samples", value])
    assert exc.value.code == 2
    assert "argument --max-samples: must be a positive integer" in capsys.readouterr().err


@pytest.mark.parametrize("output, message", [
    ("missing/fig.png", "output folder {tmp}/missing does not exist"),
    ("folder", "output {tmp}/folder is a folder; give a file name"),
    ("fig.xyz", "unknown output format '.xyz' for {tmp}/fig.xyz; expected one of "),
    ("fig", "unknown output format '' for {tmp}/fig; expected one of "),
])
def test_plot_checks_the_figure_path_before_any_work(tmp_path, edf_path, capsys, no_work,
                                                     output, message):
    (tmp_path / "folder").mkdir()
    assert main(["plot", str(edf_path), str(tmp_path / output), "--weights", "model.zip",
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sigest plot: error: " + message.format(tmp=tmp_path)), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]


def test_plot_writes_its_figure_atomically(tmp_path, tiny_model, edf_path, monkeypatch, capsys):
    import matplotlib.figure

    _, weights = tiny_model
    fig = tmp_path / "fig.pdf"
    argv = ["plot", str(edf_path), str(fig), "--weights", str(weights), "--duration", "2",
            "--quiet"]
    assert main(argv) == 0
    assert capsys.readouterr().out == f"wrote {fig}\n"
    good = fig.read_bytes()
    assert good.startswith(b"%PDF")  # the format of the name, whatever the backend's default

    def write_half_then_fail(self, fname, **kwargs):
        fname.write(good[:len(good) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", write_half_then_fail)
    assert main(argv) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert fig.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.pdf"]


def test_denoise_and_plot_refuse_a_model_that_is_not_a_denoiser(tmp_path, edf_path, capsys):
    # a classifier went on to fail with "the model was fitted on 2 channels; the data has 3"
    from sigest.recordings import load_denoiser

    X = np.random.default_rng(0).standard_normal((20, 2, 64)).astype(np.float32)
    classifier = tmp_path / "classifier.zip"
    sigest.get_estimator("tiny-conv-classifier", max_epochs=1).fit(
        X, np.arange(20) % 2).save(classifier)
    message = f"{classifier} holds a TinyClassifier, a classifier with no transform"
    for argv in (["denoise", str(edf_path), str(tmp_path / "out_raw.fif")],
                 ["plot", str(edf_path), str(tmp_path / "fig.png")]):
        assert main([*argv, "--weights", str(classifier), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"sigest {argv[0]}: error: {message}") and "denois" in err, err
    with pytest.raises(ValueError, match="a classifier with no transform"):
        load_denoiser(weights=classifier)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["classifier.zip"]


@pytest.mark.parametrize("value", ["0", "-256", "nan", "inf", "abc"])
def test_denoise_refuses_a_model_rate_that_is_not_a_positive_number(tmp_path, edf_path, capsys,
                                                                     value):
    with pytest.raises(SystemExit) as exc:
        main(["denoise", str(edf_path), str(tmp_path / "out_raw.fif"), "--weights",
              "model.zip", "--sfreq-model", value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --sfreq-model: must be a positive finite sampling rate in Hz" in err, err
    assert repr(value) in err and not (tmp_path / "out_raw.fif").exists()


def test_denoise_with_the_model_rate_given(tmp_path, tiny_model, edf_path, capsys):
    _, weights = tiny_model
    out = tmp_path / "out_raw.fif"
    assert main(["denoise", str(edf_path), str(out), "--weights", str(weights),
                 "--channels", "Cz..", "--sfreq-model", "160", "--quiet"]) == 0
    assert "window 320 samples at 160 Hz" in capsys.readouterr().out and out.exists()
