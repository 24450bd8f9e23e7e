"""Small real data shipped inside sigest (``sigest/datasets/_sample``) for demos and tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

SAMPLE_DIR = Path(__file__).resolve().parent / "_sample"


def load_sample():
    """The clean EEG and EOG epochs of the EEGdenoiseNet test set, and NSTDB muscle noise.

    No download and no ``$SIGEST_DATA`` needed: the files ship with sigest (under 1 MB; their
    licenses, MIT for EEGdenoiseNet and ODC-By 1.0 for NSTDB, lie beside them).

    Returns
    -------
    data : Bunch
        ``eeg`` (101, 512) clean EEG epochs and ``eog`` (101, 512) EOG epochs, float64, each
        epoch scaled to unit std, ``sfreq`` = 256.0; ``ma`` (108000,) 5 min of NSTDB ``ma``
        (channel ``noise1``, mV) and ``ma_sfreq`` = 360.0.

    Examples
    --------
    >>> from sigest.datasets import load_sample
    >>> data = load_sample()
    >>> data.eeg.shape, data.eog.shape, data.sfreq
    ((101, 512), (101, 512), 256.0)
    """
    def read(name):
        file = SAMPLE_DIR / name
        if not file.is_file():
            raise FileNotFoundError(f"sigest's sample file {name} is missing from {SAMPLE_DIR}; "
                                    "reinstall sigest")
        return np.load(file, allow_pickle=False).astype(np.float64)

    return Bunch(eeg=read("eegdenoisenet_clean_eeg.npy"), eog=read("eegdenoisenet_eog.npy"),
                 sfreq=256.0, ma=read("nstdb_ma.npy"), ma_sfreq=360.0)
