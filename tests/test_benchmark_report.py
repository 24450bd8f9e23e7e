"""benchmarks/report.py: the docs' benchmark tables are the results files' numbers."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import report  # noqa: E402


@pytest.mark.parametrize("name", list(report.TABLES))
def test_every_table_renders_from_the_committed_results(name):
    text = report.render(name)
    table = report.TABLES[name]
    assert text.startswith(f"From `benchmarks/results/{table.file}`, written by `python ")
    assert text.count("\n| ") >= 2  # a header and at least one row


def test_a_rendered_row_carries_the_files_numbers():
    payload = json.loads((BENCHMARKS / "results" / "eeg_denoising_xl-p30.json").read_text())
    row = next(r for r in payload["rows"] if r["model"] == "bg-attention"
               and r["artifact"] == "EOG" and r["snr_db"] == "all" and r["seed"] == "mean")
    line = next(line for line in report.render("eeg_denoising_eog").splitlines()
                if line.startswith("| bg-attention |"))
    assert f"{row['rrmse_temporal']:.4g} ± {row['rrmse_temporal_std']:.2g}" in line
    assert f"{row['cc']:.4g} ± {row['cc_std']:.2g}" in line


@pytest.fixture
def results(tmp_path, monkeypatch):
    rows = [{"model": m, "snr_db": s, "seed": "mean", "n": 3, "score": v, "score_std": 0.01}
            for m, base in (("a", 0.5), ("b", 0.7)) for s, v in (("clean", base), (-8, base - 0.2))]
    rows.append({"model": "a", "snr_db": "clean", "seed": 0, "score": 0.1})
    (tmp_path / "toy.json").write_text(json.dumps(
        {"command": "python benchmarks/toy.py ; python benchmarks/toy.py --merge",
         "date": "2026-01-02T03:04:05", "git": "0123456789abcdef", "rows": rows}))
    monkeypatch.setitem(report.TABLES, "toy", report.Table(
        "toy.json", {"seed": "mean", "snr_db": "clean"}, ("model", "n", "score"),
        sort=("-score",)))
    monkeypatch.setitem(report.TABLES, "toy-pivot", report.Table(
        "toy.json", {"seed": "mean"}, ("model", "n"), pivot=("snr_db", "score")))
    return tmp_path


def test_selects_sorts_and_shows_the_spread(results):
    text = report.render("toy", results)
    assert "written by `python benchmarks/toy.py` and 1 more command listed in the file, on " \
           "2026-01-02 (commit 0123456789)" in text
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    assert lines == ["| model | n | score |", "| b | 3 | 0.7 ± 0.01 |", "| a | 3 | 0.5 ± 0.01 |"]


def test_pivot_puts_each_level_in_a_column(results):
    lines = [line for line in report.render("toy-pivot", results).splitlines()
             if line.startswith("| ")]
    assert lines[0] == "| model | n | score at snr_db clean | score at snr_db -8 |"
    assert lines[1] == "| a | 3 | 0.5 ± 0.01 | 0.3 ± 0.01 |"


def test_missing_file_and_empty_selection_say_what_is_wrong(results, monkeypatch):
    with pytest.raises(FileNotFoundError, match=r"nothing\.json does not exist; run the benchmark"):
        report.load("nothing.json", results)
    monkeypatch.setitem(report.TABLES, "toy-empty", report.Table(
        "toy.json", {"seed": "median"}, ("model",)))
    with pytest.raises(ValueError, match=r"toy\.json has no rows with \{'seed': 'median'\}"):
        report.render("toy-empty", results)


def test_out_writes_one_file_per_table(results, tmp_path):
    report.main(["--results", str(results), "--out", str(tmp_path / "out"), "toy"])
    assert (tmp_path / "out" / "toy.md").read_text() == report.render("toy", results)


def test_unknown_table_is_refused():
    out = subprocess.run([sys.executable, str(BENCHMARKS / "report.py"), "no-such-table"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "unknown table(s) ['no-such-table']" in out.stderr
