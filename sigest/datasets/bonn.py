"""Bonn University epilepsy EEG (Andrzejak et al., Phys. Rev. E 64, 061907, 2001).

Five sets of 100 single-channel segments of 4097 samples (23.6 s) at 173.61 Hz: ``Z`` (A,
surface, eyes open), ``O`` (B, surface, eyes closed), ``N`` (C, interictal, opposite
hippocampus), ``F`` (D, interictal, epileptogenic zone), ``S`` (E, ictal). Z and O were
recorded from five healthy volunteers, N, F and S from five patients; the person of each
segment is not published, so :func:`load_bonn`'s ``groups`` are segments, not subjects.
The UCI "Epileptic Seizure Recognition" layout cuts each segment into 23 chunks of 178
samples, labelled 1 (S) to 5 (Z).
"""

from __future__ import annotations

import re

import numpy as np

from ._base import (
    ARCHIVE_SUFFIXES,
    BASE_URLS,
    download_folder,
    fetch_archive,
    find_folder,
    resolve_case,
    verify,
)

SFREQ = 173.61
BONN_SETS = "ZONFS"
#: UCI label of each set (1 = seizure).
UCI_LABELS = {"S": 1, "F": 2, "N": 3, "O": 4, "Z": 5}
N_SEGMENTS = 100
SEGMENT_SAMPLES = 4097
UCI_CHUNKS, UCI_SAMPLES = 23, 178


_SEGMENT_NAME = re.compile(r"([ZONFS])\d{3}\.txt", re.IGNORECASE)


def _segment_files(sets):
    return [f"{s}/{s}{i:03d}.txt" for s in sets for i in range(1, N_SEGMENTS + 1)]


def _place_segment(member):
    """``Z/Z001.txt`` for an archive member named like ``Z001.txt`` anywhere in the tree."""
    match = _SEGMENT_NAME.fullmatch(member.name)
    return None if match is None else f"{match.group(1).upper()}/{member.name}"


def _download(sets, path):
    """Fetch the sets into ``<first data root>/bonn-eeg`` (see :func:`load_bonn`)."""
    target = download_folder("bonn-eeg", path, _segment_files(sets))
    base = BASE_URLS["bonn-eeg"]
    if base.lower().endswith(ARCHIVE_SUFFIXES):
        fetch_archive(base, target, _place_segment, "bonn-eeg", _segment_files(sets))
    else:  # a folder of the university's per-set archives
        for s in sets:
            if all(resolve_case(target, rel) for rel in _segment_files(s)):
                continue
            fetch_archive(f"{base}{s}.zip", target, _place_segment, "bonn-eeg",
                          _segment_files(s))
    return target


def load_bonn(sets=BONN_SETS, layout="raw", path=None, *, binary=False, verify_hash=True,
              download=False):
    """Bonn EEG segments, whole (``layout="raw"``) or as the UCI 178-sample chunks.

    Parameters
    ----------
    sets : str or sequence of str, default="ZONFS"
        Which sets to read, in that order.
    layout : {"raw", "uci"}, default="raw"
        ``"raw"``: one row per segment (4097 samples); ``"uci"``: 23 rows of 178 samples per
        segment (the first 4094 samples; the UCI row shuffle cannot be reproduced).
    path : str or Path, optional
        The ``bonn-eeg`` folder (holding ``Z/``, ``O/``, ...) or its parent; default
        ``$SIGEST_DATA``.
    binary : bool, default=False
        Label 1 for the seizure set ``S`` and 0 otherwise, instead of the per-set labels.
    verify_hash : bool, default=True
        Check every file against its sha256 in sigest's registry.
    download : bool, default=False
        If files are absent, fetch them into ``path`` (else ``$SIGEST_DATA``, else the download
        cache), under ``bonn-eeg/`` unless ``path`` is the ``bonn-eeg`` folder itself.
        :data:`sigest.datasets.BASE_URLS` ``["bonn-eeg"]`` is one
        archive holding all five sets (default: the zip on GitHub that the registry's sha256
        were computed from, ``saumitkunder/EEG-DATA-SYNTHESIS-USING-GANS`` at commit
        ``a0d217a``) or a folder URL (ending in ``/``) holding the university's per-set
        archives ``Z.zip``, ``O.zip``, ``N.zip``, ``F.zip``, ``S.zip``. Files named like
        ``Z001.txt`` are taken from anywhere in the archive; each is checked against its
        sha256 before any is installed, so a damaged archive raises
        :class:`~sigest.datasets.DataIntegrityError` and installs nothing.

    Returns
    -------
    X : ndarray of shape (n_segments, 4097) or (n_segments * 23, 178), float64
        Samples in ADC units (12 bit), 173.61 Hz.
    y : ndarray
        ``"raw"``: the set letter; ``"uci"``: 1..5 (S=1, F=2, N=3, O=4, Z=5); ``binary``: 0/1.
    groups : ndarray of str
        The source segment (e.g. ``"Z001"``): the chunks of one segment share it, so a
        ``GroupKFold`` never puts them on both sides of a split. Segments are not subjects:
        every set's 100 segments come from five people (sets Z and O from five healthy
        volunteers, sets N, F and S from five patients, per the paper), and which segment
        comes from whom is not published. Segment-wise splits therefore put segments of one
        person on both sides (they are not subject-wise), and no subject-wise split of this
        data set is possible; scores are optimistic for new subjects.

    Examples
    --------
    >>> X, y, groups = load_bonn(sets="ZS", layout="uci")  # doctest: +SKIP
    >>> X.shape, sorted(set(y))  # doctest: +SKIP
    ((4600, 178), [1, 5])
    """
    sets = [str(s).upper() for s in sets]
    bad = [s for s in sets if s not in tuple(BONN_SETS)]  # one letter each: not "ZO"
    if bad or not sets:
        raise ValueError(f"sets must be letters of {BONN_SETS!r}; got {sets!r}")
    if layout not in ("raw", "uci"):
        raise ValueError(f"layout must be 'raw' or 'uci'; got {layout!r}")
    rels = _segment_files(sets)
    try:
        folder = find_folder("bonn-eeg", rels, path)
    except FileNotFoundError:
        if not download:
            raise
        folder = _download(sets, path)
    files = verify("bonn-eeg", folder, rels, verify_hash)
    X = np.empty((len(files), SEGMENT_SAMPLES))
    for i, file in enumerate(files):
        values = np.array(file.read_bytes().split(), dtype=np.float64)  # 10x loadtxt
        if values.shape != (SEGMENT_SAMPLES,):
            raise ValueError(f"{file}: expected {SEGMENT_SAMPLES} samples; got {values.shape}")
        X[i] = values
    letters = np.repeat(sets, N_SEGMENTS)
    groups = np.array([f"{s}{i:03d}" for s in sets for i in range(1, N_SEGMENTS + 1)])
    if layout == "uci":
        X = X[:, : UCI_CHUNKS * UCI_SAMPLES].reshape(-1, UCI_SAMPLES)
        letters = np.repeat(letters, UCI_CHUNKS)
        groups = np.repeat(groups, UCI_CHUNKS)
        y = np.array([UCI_LABELS[s] for s in letters])
    else:
        y = letters
    if binary:
        y = (letters == "S").astype(int)
    return X, y, groups
