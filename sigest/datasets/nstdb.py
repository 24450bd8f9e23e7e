"""MIT-BIH Noise Stress Test Database (PhysioNet ``nstdb``): recorded ECG noise at 360 Hz."""

from __future__ import annotations

from .mitbih import read_wfdb

SFREQ = 360.0
#: ``bw`` baseline wander, ``ma`` muscle artifact, ``em`` electrode motion (noise records);
#: ``118e24`` ... ``118e_6``, ``119e24`` ... ``119e_6``: records 118 / 119 with em noise.
NSTDB_RECORDS = ("bw", "ma", "em") + tuple(
    f"{rec}e{snr}" for rec in ("118", "119") for snr in ("24", "18", "12", "06", "00", "_6")
)


def load_nstdb(record, path=None, *, download=False, verify_hash=True):
    """One NSTDB record as a (2, n_samples) array in mV and its sampling rate.

    Parameters
    ----------
    record : str
        ``"ma"`` (muscle), ``"bw"`` (baseline wander), ``"em"`` (electrode motion) or a noisy
        test record such as ``"118e00"`` / ``"118e_6"``; see :data:`NSTDB_RECORDS`.
    path : str or Path, optional
        The ``nstdb`` folder or its parent; default ``$SIGEST_DATA``, then the download cache.
    download : bool, default=False
        Fetch absent files from PhysioNet with pooch.
    verify_hash : bool, default=True

    Returns
    -------
    signal : ndarray of shape (2, n_samples), float64
    sfreq : float
        360.0.

    Examples
    --------
    >>> signal, sfreq = load_nstdb("ma")  # doctest: +SKIP
    >>> signal.shape, sfreq  # doctest: +SKIP
    ((2, 650000), 360.0)
    """
    if record not in NSTDB_RECORDS:
        raise ValueError(f"unknown NSTDB record {record!r}; known: {', '.join(NSTDB_RECORDS)}")
    signal, rec = read_wfdb("nstdb", record, path, download, verify_hash)
    return signal, float(rec.fs)
