"""The ``sigest`` command."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sigest
from sigest.cli import main


def test_list_shows_estimators_with_task_and_plugin(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["NAME", "TASK", "PLUGIN", "DESCRIPTION"]
    line = next(row for row in out.splitlines() if row.startswith("tiny-conv-denoiser "))
    assert line.split()[1:3] == ["denoising", "estimators"]


def test_list_filters_by_task(capsys):
    main(["list", "--task", "generation"])
    names = [row.split()[0] for row in capsys.readouterr().out.splitlines()[1:]]
    assert "tiny-mlp-gan" in names and "tiny-conv-denoiser" not in names


def test_plugins_and_info(capsys):
    main(["plugins"])
    out = capsys.readouterr().out
    assert "estimators" in out and "sigest" in out
    main(["info", "tiny-conv-denoiser"])
    out = capsys.readouterr().out
    assert "sigest.estimators.tiny.TinyDenoiser" in out
    assert "lr = 0.001" in out and "module__n_filters = 16" in out


def test_unknown_estimator_is_a_clear_error(capsys):
    assert main(["info", "no-such-model"]) == 2
    assert "unknown estimator 'no-such-model'" in capsys.readouterr().err


def test_console_script_version():
    exe = shutil.which("sigest", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("the sigest console script is not on PATH (package not installed)")
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"sigest {sigest.__version__}"


@pytest.mark.parametrize("name, hidden", [
    ("gan", ["module__n_channels", "module__n_times", "module__n_classes",
             "module__line_cycles"]),
    ("braindecode-eegnet", ["module__n_chans", "module__n_outputs", "module__n_times",
                            "module__sfreq", "module__input_window_seconds", "module__kwargs"]),
])
def test_info_lists_only_the_network_parameters_a_user_sets(capsys, name, hidden):
    if name not in sigest.list_estimators():
        pytest.skip(f"{name} is not installed")
    assert main(["info", name]) == 0
    out = capsys.readouterr().out
    assert "set by the estimator at fit" in out and "module__" in out
    listed = [line.split()[0] for line in out.splitlines() if line.startswith("  module__")]
    assert listed and not set(hidden) & set(listed)


@pytest.mark.parametrize("argv", [["list"], ["plugins"]])
def test_closed_stdout_pipe_exits_quietly(argv):
    # `sigest list | head -3`: the reader goes away before sigest writes; closing our end of
    # the pipe first makes every write (and the flush at exit) hit a broken pipe.
    proc = subprocess.Popen([sys.executable, "-m", "sigest.cli", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 1
    assert "BrokenPipeError" not in err and "Traceback" not in err, err


@pytest.mark.parametrize("error, message", [
    (PermissionError(13, "Permission denied", "/data/out.fif"), "Permission denied: /data/out.fif"),
    (IsADirectoryError(21, "Is a directory", "/data"), "Is a directory: /data"),
    (OSError("No space left on device"), "No space left on device"),
])
def test_os_errors_are_clean_messages_with_exit_2(monkeypatch, capsys, error, message):
    import sigest.cli as cli

    def fail(args):
        raise error

    monkeypatch.setattr(cli, "cmd_list", fail)
    assert main(["list"]) == 2
    assert capsys.readouterr().err == f"sigest list: error: {message}\n"


def test_ctrl_c_during_fit_ends_the_command_and_keeps_the_earlier_model(
        tmp_path, monkeypatch, capsys):
    # skorch takes a KeyboardInterrupt as "stop training, keep the model": sigest fit must not
    # then save the cut-short model over the file the user already has.
    import signal

    from skorch.callbacks import Callback

    import sigest.plugins

    class CtrlC(Callback):
        def on_epoch_end(self, net, **kwargs):
            signal.raise_signal(signal.SIGINT)

    make = sigest.plugins.get_estimator
    monkeypatch.setattr(sigest.plugins, "get_estimator",
                        lambda *a, **kw: make(*a, callbacks=[CtrlC()], **kw))
    output = tmp_path / "model.zip"
    output.write_bytes(b"an earlier model")
    assert main(["fit", "tiny-conv-denoiser", "--dataset", "sample", "--max-epochs", "3",
                 "--max-samples", "40", "--output", str(output), "--quiet"]) == 130
    assert capsys.readouterr().err == "sigest fit: interrupted\n"
    assert output.read_bytes() == b"an earlier model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.zip"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# every case of the figure path check: test_recordings.py, sigest plot
@pytest.mark.parametrize("output, message", [
    ("missing/demo.png", "output folder {tmp}/missing does not exist"),
    ("demo", "unknown output format '' for {tmp}/demo; expected one of .avif, "),
])
def test_demo_refuses_a_bad_figure_path_before_training(tmp_path, monkeypatch, capsys, output,
                                                         message):
    import sigest.demo

    def train(*args, **kwargs):
        raise AssertionError("the demo trained before checking its output path")

    monkeypatch.setattr(sigest.demo, "demo_data", train)
    (tmp_path / "folder").mkdir()
    assert main(["demo", "--output", str(tmp_path / output), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sigest demo: error: " + message.format(tmp=tmp_path)), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]


def test_demo_writes_its_figure(tmp_path, monkeypatch, capsys):
    import sigest.demo

    monkeypatch.setattr(sigest.demo, "DEMO_PARAMS", {**sigest.demo.DEMO_PARAMS, "max_epochs": 1})
    output = tmp_path / "demo.pdf"
    assert main(["demo", "--output", str(output), "--quiet"]) == 0
    assert f"figure: {output}" in capsys.readouterr().out
    assert output.read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.pdf"]
