"""Benchmark scripts reject bad arguments before any work starts."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run(script, *args, timeout=120):
    """Run ``benchmarks/<script>`` with ``args``; the finished process (stdout, stderr as text)."""
    return subprocess.run([sys.executable, str(BENCHMARKS / script), *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("limit", ["0", "-5"])
def test_memmap_limit_must_be_positive(limit):
    out = run("memmap_training.py", "--limit-mb", limit, timeout=60)
    assert out.returncode == 2
    assert "--limit-mb must be a positive number of MB" in out.stderr
    assert f"got {float(limit):g}" in out.stderr


def test_eeg_denoising_resume_refuses_tune():
    out = run("eeg_denoising.py", "--resume", "--tune")
    assert out.returncode == 2
    assert "--resume continues the fits of the model list, not --tune searches" in out.stderr


def test_eeg_synthesis_refuses_an_empty_run():
    out = run("eeg_synthesis.py", "--no-fidelity", "--no-usefulness")
    assert out.returncode == 2
    assert "--no-fidelity with --no-usefulness leaves nothing to run" in out.stderr


def test_eeg_synthesis_merge_needs_a_name():
    out = run("eeg_synthesis.py", "--merge", "some-part")
    assert out.returncode == 2
    assert "--merge needs --part, the name of the merged file" in out.stderr


def test_eeg_synthesis_merge_names_a_missing_part():
    out = run("eeg_synthesis.py", "--merge", "no-such-part", "--part", "never-written")
    assert out.returncode == 1
    assert "--merge: no such results file" in out.stderr
    assert "eeg_synthesis_no-such-part.json" in out.stderr
    assert not (BENCHMARKS / "results" / "eeg_synthesis_never-written.json").exists()


@pytest.mark.parametrize("bad", ["{module__n_filters: 3}", "[16, 32]"])
def test_ecg_denoising_cdae_params_must_be_a_json_object(bad):
    out = run("ecg_denoising.py", "--cdae-params", bad)
    assert out.returncode == 2
    assert f"argument --cdae-params: expected a JSON object; got {bad!r}" in out.stderr
