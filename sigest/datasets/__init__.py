"""Data set loaders: each returns arrays plus ``groups`` (subject or recording ids).

Every loader takes ``path`` (a data folder or the parent of all of them); without it, it looks
in ``$SIGEST_DATA`` and then in the download cache (``pooch.os_cache("sigest")``). Files whose
sha256 is published are checked once per process. A missing file raises ``FileNotFoundError``
naming the file and every folder looked in.
"""

from ..plugins import hookimpl
from ._base import (
    BASE_URLS,
    ENV_VAR,
    DataDownloadError,
    DataIntegrityError,
    data_roots,
    sliding_windows,
)
from .bonn import BONN_SETS, UCI_LABELS, load_bonn
from .eegdenoisenet import SNR_LEVELS, load_eegdenoisenet, load_eegdenoisenet_eog_test
from .eegmmidb import RUN_TASKS, load_eegmmidb
from .emgdb import EMG_KINDS, load_emgdb
from .mitbih import MITBIH_RECORDS, available_records, load_mitbih
from .nstdb import NSTDB_RECORDS, load_nstdb
from .sample import load_sample
from .sleep_edf import SLEEP_STAGES, load_sleep_edf
from .status import status

__all__ = [
    "BASE_URLS", "BONN_SETS", "DataDownloadError", "DataIntegrityError", "EMG_KINDS", "ENV_VAR",
    "MITBIH_RECORDS", "NSTDB_RECORDS", "RUN_TASKS", "SLEEP_STAGES", "SNR_LEVELS", "UCI_LABELS",
    "available_records", "data_roots", "load_bonn", "load_eegdenoisenet",
    "load_eegdenoisenet_eog_test", "load_eegmmidb", "load_emgdb", "load_mitbih", "load_nstdb",
    "load_sample", "load_sleep_edf", "sliding_windows", "status",
]

_LOADERS = {
    "sample": (load_sample, "Shipped sample: 101 clean EEG + 101 EOG epochs, 5 min NSTDB ma"),
    "eegdenoisenet": (load_eegdenoisenet, "EEGdenoiseNet EEG/EOG/EMG epochs, paper protocol"),
    "eegdenoisenet-eog-test": (load_eegdenoisenet_eog_test,
                               "EEGdenoiseNet EOG test set: 10 SNR levels x 101 epochs"),
    "mitbih": (load_mitbih, "MIT-BIH Arrhythmia ECG windows, 360 Hz"),
    "nstdb": (load_nstdb, "MIT-BIH Noise Stress Test records (bw, ma, em, 118e..)"),
    "emgdb": (load_emgdb, "PhysioNet needle EMG examples, 4 kHz"),
    "bonn": (load_bonn, "Bonn epilepsy EEG sets Z/O/N/F/S, raw or UCI 178-sample layout"),
    "sleep-edf": (load_sleep_edf, "Sleep-EDF Fpz-Cz epochs with W/N1/N2/N3/REM stages"),
    "eegmmidb": (load_eegmmidb, "PhysioNet EEG Motor Movement/Imagery, 64 ch, 160 Hz"),
}


@hookimpl
def sigest_register_datasets(register):
    for name, (loader, description) in _LOADERS.items():
        register(name, loader, description=description)
