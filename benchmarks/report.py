"""The headline tables of the benchmarks, read back from ``benchmarks/results/*.json``.

``python benchmarks/report.py`` prints them; ``--out DIR`` writes one Markdown file per table
(``DIR/<name>.md``), which the documentation's benchmarks page includes at build time, so the
docs quote the results files and nothing else. Each table names its file, the command that
wrote it, the date and the commit. A ``_std`` column next to a metric is shown as ``mean ± std``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, markdown_table  # noqa: E402


@dataclass(frozen=True)
class Table:
    """Rows of one results file that match ``where``, with ``columns``, sorted by the columns
    of ``sort`` (``"-name"`` for descending), in their order. With ``pivot=(key, value)`` the
    rows that share ``columns`` become one, with a column of ``value`` per ``key``."""

    file: str
    where: dict
    columns: tuple
    sort: tuple = ()
    pivot: tuple = ()


DENOISING = ("model", "n", "rrmse_temporal", "rrmse_spectral", "cc", "epochs_trained")
SLEEP = ("model", "augmentation", "n", "accuracy", "macro_f1", "kappa")
ECG = ("model", "training_noise", "n", "snr_in_db", "snr", "snr_improvement_db", "rmse", "prd",
       "cc")
EMG_TEST = {"artifact": "EMG", "train_data": "eegdenoisenet", "test_noise": "nstdb-ma",
            "snr_db": "all", "seed": "mean"}
FIDELITY = ("config", "epochs", "psd_distance", "swd", "fd", "c2st_auc", "tstr_accuracy")


def _seed_mixture(file):
    """An ecg_denoising run (any --name) on the seed project's mixture protocol."""
    return Table(file, {"protocol": "seed-mixture", "seed": "mean"}, ECG,
                 sort=("-snr_improvement_db",))


TABLES = {
    "eeg_denoising_eog": Table(
        "eeg_denoising_xl-p30.json",
        {"artifact": "EOG", "train_data": "eegdenoisenet", "snr_db": "all", "seed": "mean"},
        DENOISING, sort=("rrmse_temporal",)),
    "eeg_denoising_emg": Table(
        "eeg_denoising_xl-10k-p30.json", EMG_TEST, DENOISING, sort=("rrmse_temporal",)),
    "eeg_denoising_emg_1k": Table(
        "eeg_denoising_xl-p30.json", EMG_TEST, DENOISING, sort=("rrmse_temporal",)),
    "ecg_denoising": _seed_mixture("ecg_denoising.json"),
    "ecg_denoising_recipe": _seed_mixture("ecg_denoising_recipe.json"),
    "ecg_denoising_paper_size": _seed_mixture("ecg_denoising_paper-size.json"),
    "ecg_denoising_block_attention": _seed_mixture("ecg_denoising_block-attention.json"),
    "ecg_ceiling": Table(
        "ecg_ceiling.json", {"protocol": "seed-mixture", "seed": "mean"},
        ("fc_hz", "n", "snr_in_db", "snr", "snr_improvement_db")),
    "eeg_synthesis_fidelity": Table(
        "eeg_synthesis.json", {"test": "fidelity"}, FIDELITY, sort=("c2st_auc",)),
    "eeg_synthesis_usefulness": Table(
        "eeg_synthesis.json", {"test": "usefulness", "seed": "mean"},
        ("classifier", "augmentation", "n", "balanced_accuracy"),
        sort=("classifier", "-balanced_accuracy")),
    "eeg_synthesis_usefulness_paper_width": Table(
        "eeg_synthesis_paper-width-useful.json", {"test": "usefulness", "seed": "mean"},
        ("classifier", "augmentation", "n", "balanced_accuracy"),
        sort=("classifier", "-balanced_accuracy")),
    "eeg_synthesis_random_crop": Table(
        "eeg_synthesis_random-crop-3seeds.json", {"seed": "mean"}, ("config", "n") + FIDELITY[1:],
        sort=("c2st_auc",)),
    "eeg_synthesis_paper_width": Table(
        "eeg_synthesis_paper-width.json", {"seed": "mean"}, ("config", "n") + FIDELITY[1:],
        sort=("c2st_auc",)),
    "sleep_staging": Table(
        "sleep_staging_large.json", {"seed": "mean", "test_noise": "none"}, SLEEP,
        sort=("-macro_f1",)),
    "robust_sleep": Table(
        "robust_classification_large.json", {"task": "sleep", "fold": "mean"},
        ("model", "augmentation", "n"), pivot=("snr_db", "macro_f1")),
    "robust_motor": Table(
        "robust_classification_large.json", {"task": "motor", "fold": "mean"},
        ("model", "augmentation", "n"), pivot=("snr_db", "accuracy")),
    "speed": Table(
        "throughput_summary.json", {"compile": False},
        ("model", "ratio_to_plain_torch", "ratio_min", "ratio_max",
         "inference_ratio_to_plain_torch", "runs"), sort=("ratio_to_plain_torch",)),
}


def load(file, results=RESULTS):
    path = Path(results) / file
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; run the benchmark that writes it")
    return json.loads(path.read_text())


def select(payload, table):
    rows = [r for r in payload["rows"]
            if all(r.get(k) == v for k, v in table.where.items())]
    for column in reversed(table.sort):  # stable sorts, the first column last
        name = column.lstrip("-")
        present = [r for r in rows if r.get(name) is not None]
        present.sort(key=lambda r: r[name], reverse=column.startswith("-"))
        rows = present + [r for r in rows if r.get(name) is None]
    return rows


def _cell(row, column):
    value, std = row.get(column), row.get(f"{column}_std")
    if isinstance(value, float) and isinstance(std, float) and abs(std) > 1e-9 * abs(value):
        return f"{value:.4g} ± {std:.2g}"
    return value


def _pivot(rows, columns, key, value):
    """One row per distinct ``columns``, with a column ``"<value> at <key> <k>"`` per key."""
    merged, names = {}, {}
    for row in rows:
        index = tuple(row.get(c) for c in columns)
        name = f"{value} at {key} {row.get(key)}"
        names.setdefault(name)  # a dict as an ordered set: the columns in order of appearance
        merged.setdefault(index, dict(zip(columns, index)))[name] = _cell(row, value)
    return list(merged.values()), list(columns) + list(names)


def render(name, results=RESULTS):
    """One table as Markdown: a line naming its source, then the rows."""
    table = TABLES[name]
    payload = load(table.file, results)
    rows = select(payload, table)
    if not rows:
        raise ValueError(f"{table.file} has no rows with {table.where}")
    if table.pivot:
        shown, columns = _pivot(rows, table.columns, *table.pivot)
    else:
        columns = [c for c in table.columns if any(c in r for r in rows)]
        shown = [{c: _cell(r, c) for c in columns} for r in rows]
    commands = payload["command"].split(" ; ")
    extra = len(commands) - 1
    more = f" and {extra} more command{'s' * (extra > 1)} listed in the file" if extra else ""
    source = (f"From `benchmarks/results/{table.file}`, written by `{commands[0]}`{more}, on "
              f"{payload['date'][:10]} (commit {payload['git'][:10]}).")
    return f"{source}\n\n{markdown_table(shown, columns)}\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=None, help="write DIR/<table>.md instead of printing")
    parser.add_argument("--results", default=str(RESULTS), help="folder of the results files")
    parser.add_argument("tables", nargs="*", metavar="TABLE",
                        help=f"tables to show (default: all): {', '.join(TABLES)}")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.tables) - set(TABLES))
    if unknown:
        parser.error(f"unknown table(s) {unknown}; expected some of {list(TABLES)}")
    names = args.tables or list(TABLES)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
    for name in names:
        text = render(name, args.results)
        if args.out:
            (Path(args.out) / f"{name}.md").write_text(text)
        else:
            print(f"## {name}\n\n{text}")


if __name__ == "__main__":
    main()
