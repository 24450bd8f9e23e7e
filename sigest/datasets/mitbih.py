"""MIT-BIH Arrhythmia Database (PhysioNet ``mitdb``): 2-channel ECG, 360 Hz, 30 min per record."""

from __future__ import annotations

import numpy as np

from ._base import find_folder, sliding_windows, verify

SFREQ = 360.0
#: The 48 records of the database (PhysioNet ``mitdb`` 1.0.0).
MITBIH_RECORDS = (
    "100", "101", "102", "103", "104", "105", "106", "107", "108", "109", "111", "112", "113",
    "114", "115", "116", "117", "118", "119", "121", "122", "123", "124", "200", "201", "202",
    "203", "205", "207", "208", "209", "210", "212", "213", "214", "215", "217", "219", "220",
    "221", "222", "223", "228", "230", "231", "232", "233", "234",
)
_EXTS = (".hea", ".dat")


def read_wfdb(folder_name, record, path=None, download=False, verify_hash=True, url_key=None):
    """A WFDB record as (signal (n_channels, n_samples) float64 in physical units, header)."""
    import wfdb

    files = [record + ext for ext in _EXTS]
    folder = find_folder(folder_name, files, path, download, base_url_key=url_key)
    verify(folder_name, folder, files, verify_hash)
    rec = wfdb.rdrecord(str(folder / record))
    return np.ascontiguousarray(rec.p_signal.T, dtype=np.float64), rec


def available_records(path=None):
    """The MIT-BIH records present in the data folder (``path`` or ``$SIGEST_DATA``)."""
    from ._base import _candidates

    for cand in _candidates("mitdb", path):
        found = [r for r in MITBIH_RECORDS if (cand / f"{r}.hea").is_file()]
        if found:
            return tuple(found)
    return ()


def load_mitbih(records=None, path=None, window=256, step=None, channel=0, *, download=False,
                verify_hash=True, return_leads=False):
    """Windows of MIT-BIH Arrhythmia ECG, in mV at 360 Hz.

    Channel 0 is not the same lead in every record: the upper signal is a modified limb lead
    II (MLII) in 46 of the 48 records but V5 in records 102 and 104 (surgical dressings), and
    the lower signal is usually V1 (V2, V4 or V5 in some records). The default ``channel=0``
    over all records therefore mixes leads; ``return_leads=True`` gives each window's lead,
    and ``channel="MLII"`` selects the lead by name (records 102 and 104, which lack it,
    must then be left out).

    Parameters
    ----------
    records : sequence of str, optional
        Record names (see :data:`MITBIH_RECORDS`); default every record found in the folder.
    path : str or Path, optional
        The ``mitdb`` folder or its parent; default ``$SIGEST_DATA``, then the download cache.
    window : int, default=256
        Samples per window (256 as CDAE-BAM).
    step : int, optional
        Samples between window starts; default ``window`` (no overlap).
    channel : int or str, default=0
        Channel index, or a signal name such as ``"MLII"`` (records 102 and 104 have none;
        their channel 0 is V5).
    download : bool, default=False
        Fetch absent records from PhysioNet with pooch (``records`` must then be given).
    verify_hash : bool, default=True
    return_leads : bool, default=False
        Also return the lead name of every window (from the record headers).

    Returns
    -------
    X : ndarray of shape (n_windows, window), float64
    y : None
    groups : ndarray of shape (n_windows,), str
        The record of each window. Records are not subjects: in the full database records
        201 and 202 come from one subject, so record-wise splits (``GroupKFold``) can put
        that subject on both sides; merge them (e.g. ``groups[groups == "202"] = "201"``) for
        subject-wise evaluation.
    leads : ndarray of shape (n_windows,), str
        Only with ``return_leads=True``: the lead of every window (``"MLII"``, ``"V5"``, ...).

    Examples
    --------
    >>> X, y, groups = load_mitbih(records=["100"], window=256)  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (2539, 256)
    """
    if records is None:
        records = available_records(path)
        if not records and download:
            from ._base import _candidates

            looked = "; ".join(str(c) for c in _candidates("mitdb", path))
            raise FileNotFoundError(
                f"mitdb: no records found. Looked in: {looked}. download=True fetches only the "
                "records given: pass records=..., e.g. records=['100'] or MITBIH_RECORDS."
            )
        if not records:
            # Raises the usual error naming the folders searched.
            find_folder("mitdb", ["100.hea"], path, False)
    if isinstance(records, str):
        records = [records]
    if len(records) == 0:
        raise ValueError(f"records must name at least one record of {MITBIH_RECORDS}; got none")
    X, groups, leads = [], [], []
    for record in records:
        record = str(record)
        signal, rec = read_wfdb("mitdb", record, path, download, verify_hash)
        if isinstance(channel, str):
            if channel not in rec.sig_name:
                raise ValueError(f"MIT-BIH record {record} has no channel {channel!r}; it has "
                                 f"{rec.sig_name}")
            idx = rec.sig_name.index(channel)
        else:
            idx = int(channel)
            if not -len(rec.sig_name) <= idx < len(rec.sig_name):
                raise ValueError(f"MIT-BIH record {record} has {len(rec.sig_name)} channels "
                                 f"{rec.sig_name}; got channel={channel!r}")
        windows = sliding_windows(signal[idx], window, step)
        X.append(windows)
        groups += [record] * len(windows)
        leads += [rec.sig_name[idx]] * len(windows)
    if return_leads:
        return np.concatenate(X), None, np.asarray(groups), np.asarray(leads)
    return np.concatenate(X), None, np.asarray(groups)
