"""PhysioNet Examples of Electromyograms (``emgdb``): needle EMG at 4 kHz."""

from __future__ import annotations

from .mitbih import read_wfdb

SFREQ = 4000.0
EMG_KINDS = ("healthy", "myopathy", "neuropathy")


def load_emgdb(kind="healthy", path=None, *, download=False, verify_hash=True):
    """One emgdb recording (tibialis anterior, concentric needle) in mV.

    Parameters
    ----------
    kind : {"healthy", "myopathy", "neuropathy"}, default="healthy"
    path : str or Path, optional
        The ``emgdb`` folder or its parent; default ``$SIGEST_DATA``, then the download cache.
    download : bool, default=False
        Fetch absent files from PhysioNet with pooch.
    verify_hash : bool, default=True

    Returns
    -------
    signal : ndarray of shape (n_samples,), float64
    sfreq : float
        4000.0.

    Examples
    --------
    >>> signal, sfreq = load_emgdb("healthy")  # doctest: +SKIP
    >>> signal.shape, sfreq  # doctest: +SKIP
    ((50860,), 4000.0)
    """
    if kind not in EMG_KINDS:
        raise ValueError(f"kind must be one of {EMG_KINDS}; got {kind!r}")
    signal, rec = read_wfdb("emgdb", f"emg_{kind}", path, download, verify_hash)
    return signal[0], float(rec.fs)
