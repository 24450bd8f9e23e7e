"""Which data sets are present: the report behind ``sigest datasets``."""

from __future__ import annotations

from ._base import _candidates, find_folder
from .sample import SAMPLE_DIR

# name -> (data folder, files whose presence means "found", loader name)
KNOWN = {
    "eegdenoisenet": ("eegdenoisenet", ["EEG_all_epochs.npy", "EOG_all_epochs.npy",
                                        "EMG_all_epochs.npy"]),
    "eegdenoisenet-eog-test": ("eegdenoisenet-eog-test", ["EOG_data_input.npy",
                                                          "EOG_data_output.npy"]),
    "mitbih": ("mitdb", ["100.hea", "100.dat"]),
    "nstdb": ("nstdb", ["ma.hea", "ma.dat", "bw.hea", "bw.dat"]),
    "emgdb": ("emgdb", [f"emg_{k}.{e}" for k in ("healthy", "myopathy", "neuropathy")
                        for e in ("hea", "dat")]),
    "bonn": ("bonn-eeg", [f"{s}/{s}001.txt" for s in "ZONFS"]),
    "sleep-edf": ("sleep-edf-5s", []),  # .npz or EDF files, see _sleep_edf_row
    "eegmmidb": ("eegmmidb", ["S001/S001R03.edf"]),
}


def _count(folder, name):
    if name == "mitbih":
        return f"{sum(1 for _ in folder.glob('*.hea'))} records"
    if name == "eegmmidb":
        return f"{sum(1 for _ in folder.glob('S*/S*R*.edf'))} runs"
    if name == "bonn":
        return f"{sum(1 for _ in folder.glob('*/*.[tT][xX][tT]'))} segments"
    return "all files present"


def status(path=None):
    """One dict per known data set: ``name``, ``path``, ``found``, ``detail``.

    Parameters
    ----------
    path : str or Path, optional
        Where to look; default ``$SIGEST_DATA``, then the download cache.

    Returns
    -------
    rows : list of dict
        ``path`` is the folder found, or every folder looked in when not found; ``detail``
        counts what was found or names what is missing.

    Examples
    --------
    >>> from sigest.datasets import status
    >>> rows = status()
    >>> rows[0]["name"], rows[0]["found"]
    ('sample', True)
    """
    rows = [{"name": "sample", "path": str(SAMPLE_DIR), "found": SAMPLE_DIR.is_dir(),
             "detail": "shipped with sigest"}]
    for name, (folder, files) in KNOWN.items():
        if name == "sleep-edf":
            rows.append(_sleep_edf_row(path))
            continue
        try:
            found = find_folder(folder, files, path)
        except FileNotFoundError as exc:
            looked = "; ".join(str(c) for c in _candidates(folder, path))
            detail = str(exc).split(". Looked in")[0]
            rows.append({"name": name, "path": looked, "found": False, "detail": detail})
        else:
            rows.append({"name": name, "path": str(found), "found": True,
                         "detail": _count(found, name)})
    return rows


def _sleep_edf_row(path):
    from .sleep_edf import _NPZ, _PSG, EDF_FOLDER, NPZ_FOLDER, _find

    for pattern, folder, kind in ((_NPZ, NPZ_FOLDER, ".npz"), (_PSG, EDF_FOLDER, "EDF")):
        found_in, files = _find(pattern, folder, path)
        if files:
            return {"name": "sleep-edf", "path": str(found_in), "found": True,
                    "detail": f"{len(files)} recordings ({kind})"}
    looked = "; ".join(str(c) for c in _candidates(NPZ_FOLDER, path)
                       + _candidates(EDF_FOLDER, path))
    return {"name": "sleep-edf", "path": looked, "found": False,
            "detail": "no SC4ssNE0.npz or SC4ssNE0-PSG.edf files"}
