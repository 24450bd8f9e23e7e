"""What every benchmark shares: the results file in the design's rows format, and its table.

Usage::

    from _common import Results
    results = Results("eeg_denoising", data="...", protocol="...", quick=args.quick)
    results.add(model="bg-attention", artifact="EOG", snr_db=-7, seed=0, rrmse_temporal=0.4)
    results.write()          # call as often as you like: the files are rewritten atomically

``Results.write`` writes ``benchmarks/results/<name>.json`` and ``<name>.md``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np

from sigest.persistence import write_atomically

RESULTS = Path(__file__).resolve().parent / "results"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


# Benchmarks measure on the real data: point every loader and noise source at it, so none falls
# back to the small sample shipped inside the package.
if SHARED_DATA.is_dir():
    os.environ.setdefault("SIGEST_DATA", str(SHARED_DATA))


def data_dir():
    """The real data folder: ``SIGEST_DATA`` or ../shared/data beside the repository."""
    return Path(os.environ.get("SIGEST_DATA", SHARED_DATA))


def machine():
    import torch

    return (f"{platform.machine()} cpu, {os.cpu_count()} cores, torch {torch.__version__}, "
            f"{torch.get_num_threads()} torch threads, python {platform.python_version()}")


def git_sha():
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _plain(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return value


class Results:
    """Rows of one benchmark run, written as JSON (the design's format) and a Markdown table."""

    def __init__(self, name, *, data, protocol, quick=False, notes=""):
        self.name = name
        suffix = "_quick" if quick else ""
        self.stem = f"{name}{suffix}"
        self.header = {
            "benchmark": name,
            "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
            "data": data,
            "protocol": protocol,
            "machine": machine(),
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "git": git_sha(),
            "quick": bool(quick),
        }
        self.notes = notes
        self.rows = []

    def add(self, **row):
        self.rows.append({k: _plain(v) for k, v in row.items()})
        return row

    def add_mean_rows(self, keys, metrics, over="seed"):
        """Add aggregate rows (``over = "mean"``) with ``*_std`` for each group of ``keys``."""
        groups = {}
        for row in self.rows:
            if row.get(over) == "mean":
                continue
            groups.setdefault(tuple(row.get(k) for k in keys), []).append(row)
        for group_key, rows in groups.items():
            agg = dict(zip(keys, group_key))
            agg[over] = "mean"
            agg["n"] = len(rows)
            for metric in metrics:
                values = [r[metric] for r in rows if isinstance(r.get(metric), (int, float))]
                if values:
                    agg[metric] = float(np.mean(values))
                    agg[f"{metric}_std"] = float(np.std(values))
            self.rows.append(agg)

    def write(self, table_keys=None, extra_md=""):
        RESULTS.mkdir(parents=True, exist_ok=True)
        payload = {**self.header, "rows": self.rows}
        _atomic_write(RESULTS / f"{self.stem}.json", json.dumps(payload, indent=1))
        _atomic_write(RESULTS / f"{self.stem}.md", self.markdown(table_keys) + extra_md)

    def markdown(self, table_keys=None, rows=None):
        rows = self.rows if rows is None else rows
        h = self.header
        lines = [f"# {self.name}", "", f"- command: `{h['command']}`", f"- data: {h['data']}",
                 f"- protocol: {h['protocol']}", f"- machine: {h['machine']}",
                 f"- date: {h['date']}, git {h['git'][:10]}", ""]
        if self.notes:
            lines += [self.notes, ""]
        lines.append(markdown_table(rows, table_keys))
        return "\n".join(lines) + "\n"


def markdown_table(rows, keys=None):
    if not rows:
        return "(no rows yet)"
    if keys is None:
        keys = []
        for row in rows:
            keys += [k for k in row if k not in keys]

    def fmt(v):
        if isinstance(v, float):
            return f"{v:.4g}"
        return "" if v is None else str(v).replace("|", "\\|")

    out = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    out += ["| " + " | ".join(fmt(r.get(k)) for k in keys) + " |" for r in rows]
    return "\n".join(out)


def _atomic_write(path, text):
    write_atomically(path, lambda f: f.write(text.encode()))


def unique_rows(payloads, key_fields, over="seed"):
    """The rows of several results payloads in order, without their mean rows (``over`` is
    ``"mean"``); a row whose ``key_fields`` repeat an earlier row's is dropped, so a seed or
    fold run by two processes counts once (the earlier file wins)."""
    rows, seen = [], set()
    for payload in payloads:
        for row in payload["rows"]:
            key = tuple(row.get(k) for k in key_fields)
            if row.get(over) != "mean" and key not in seen:
                seen.add(key)
                rows.append(row)
    return rows


def merge_parts(name, key_fields, *, files=None, protocol=None, notes="", merge_command=None):
    """One :class:`Results` from ``files`` (default ``<name>_part-*.json``: runs split over
    processes), rows deduplicated by :func:`unique_rows`; the caller recomputes the means.

    The header is the first file's, with every file's command listed once (a file that is
    itself a merge contributes the commands it lists, not its merge command).
    """
    files = sorted(RESULTS.glob(f"{name}_part-*.json")) if files is None else list(files)
    if not files:
        raise FileNotFoundError(f"no {name}_part-*.json in {RESULTS}")
    payloads = [json.loads(Path(f).read_text()) for f in files]
    first = payloads[0]
    results = Results(name, data=first["data"], protocol=protocol or first["protocol"],
                      notes=notes or f"Merged from {[Path(f).name for f in files]}.")
    results.header.update({k: first[k] for k in ("date", "git", "machine")})
    commands = []
    for payload in payloads:
        commands += [c for c in payload["command"].split(" ; ")
                     if c not in commands and "--merge" not in c]
    results.header["command"] = " ; ".join(
        commands + [merge_command or f"python benchmarks/{name}.py --merge"])
    results.rows = unique_rows(payloads, key_fields)
    return results
