"""EEGdenoiseNet (Zhang et al., J. Neural Eng. 18 056057, 2021): EEG with EOG / EMG artifacts.

Two loaders:

- :func:`load_eegdenoisenet` reads the full data set in its official format
  (``EEG_all_epochs.npy`` 4514 x 512, ``EOG_all_epochs.npy`` 3400 x 512,
  ``EMG_all_epochs.npy`` 5598 x 512, 256 Hz; the ``*_512hz.npy`` files for EMG at 512 Hz) and
  builds the paper's training / validation / test sets;
- :func:`load_eegdenoisenet_eog_test` reads the published EOG test set (10 SNR levels x 101
  epochs) and decomposes it into its 101 clean EEG and 101 EOG epochs.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import Bunch, check_random_state

from ._base import find_folder, verify

SFREQ = 256.0
SNR_LEVELS = tuple(float(level) for level in range(-7, 3))
TRAIN_SNR_RANGE = (-7.0, 2.0)
_FILES = {
    256: {"EEG": "EEG_all_epochs.npy", "EOG": "EOG_all_epochs.npy", "EMG": "EMG_all_epochs.npy"},
    512: {"EEG": "EEG_all_epochs_512hz.npy", "EMG": "EMG_all_epochs_512hz.npy"},
}


def _rms(x):
    return np.sqrt(np.mean(np.square(x), axis=-1, keepdims=True))


def _mix(eeg, noise, snr_db):
    """EEGdenoiseNet's rule: ``eeg + lam * noise`` with 10 log10(rms(eeg)/rms(lam noise)) = snr."""
    snr = np.asarray(snr_db, dtype=float).reshape(-1, 1)
    lam = _rms(eeg) / (_rms(noise) * 10 ** (snr / 10))
    return eeg + lam * noise


def _load_npy(file):
    arr = np.load(file, allow_pickle=False)
    if arr.ndim != 2:
        raise ValueError(f"{file}: expected a 2-D array (epochs, samples); got shape {arr.shape}")
    return arr.astype(np.float64, copy=False)


def load_eegdenoisenet(path=None, artifact="EOG", *, sfreq=256, combin_num=10, train_size=0.8,
                       snr_range=TRAIN_SNR_RANGE, snr_levels=SNR_LEVELS, scale="std",
                       random_state=None, dtype=np.float64, download=False, verify_hash=True):
    """The EEGdenoiseNet benchmark sets, built as the official code does.

    Protocol (``code/benchmark_networks/data_prepare.py`` of ``ncclabsustech/EEGdenoiseNet``):
    EEG and artifact epochs are shuffled; for EOG the EEG pool is cut to the 3400 EOG epochs,
    for EMG EEG epochs are reused to reach 5598; both pools are split 80 / 10 / 10 (train /
    validation / test) at the same positions; training pairs are re-shuffled and re-paired
    ``combin_num`` times, each pair mixed at an SNR uniform in ``snr_range``; every validation
    and test pair is mixed at each of ``snr_levels``. With ``scale="std"`` noisy input and clean
    target are both divided by the noisy input's std (kept in ``std_*`` to restore units).

    Parameters
    ----------
    path : str or Path, optional
        Folder holding the ``.npy`` files (or its parent, with them in ``eegdenoisenet/``);
        default ``$SIGEST_DATA``, then the download cache.
    artifact : {"EOG", "EMG"}, default="EOG"
    sfreq : {256, 512}, default=256
        512 reads the 512-Hz EEG and EMG files the official EMG runs use (EMG only).
    combin_num : int, default=10
        Number of re-pairings of the training set.
    train_size : float, default=0.8
        Fraction of epochs for training; validation and test share the rest equally.
    snr_range : (float, float), default=(-7.0, 2.0)
        Training SNR range in dB, sampled uniformly per pair.
    snr_levels : tuple of float, default=(-7, -6, ..., 2)
        Validation and test SNR levels in dB.
    scale : {"std", None}, default="std"
    random_state : int, RandomState or None
        Seeds the shuffles and the training SNRs (the official code is unseeded).
    dtype : numpy dtype, default=float64
    download : bool, default=False
        Fetch absent files with pooch, each checked against its MD5 (see ``verify_hash``):
        the 256-Hz files from the official GitHub repository's ``data/`` folder
        (:data:`sigest.datasets.BASE_URLS` ``["eegdenoisenet"]``), the 512-Hz files from the
        G-Node GIN repository where the official README places them
        (``BASE_URLS["eegdenoisenet-512hz"]``).
    verify_hash : bool, default=True
        Check each file's size and MD5 against sigest's registry. The official repositories
        publish no checksums; the registered MD5s and sizes are the git-annex keys of a public
        copy of the GIN data folder (``benjamindeplae-hub/Current-Trends-in-Artificial-
        Intelligence``, commit ``d800c37``, ``data/*.npy``), whose sizes are exactly those of
        float64 arrays of the official shapes. Pass False to read other arrays in this format.

    Returns
    -------
    data : Bunch
        ``X_train, y_train`` (n_train * combin_num, T), ``snr_train``; ``X_val, y_val,
        snr_val, epoch_val`` and ``X_test, y_test, snr_test, epoch_test`` (n * len(snr_levels),
        T), level-major like the official code; ``std_train, std_val, std_test`` (ones when
        ``scale=None``); the unmixed pools ``eeg_train, eeg_val, eeg_test, noise_train,
        noise_val, noise_test``; ``sfreq``, ``artifact``.

    Examples
    --------
    >>> data = load_eegdenoisenet(artifact="EOG", random_state=0)  # doctest: +SKIP
    >>> data.X_test.shape  # doctest: +SKIP
    (3400, 512)
    """
    artifact = str(artifact).upper()
    if artifact not in ("EOG", "EMG"):
        raise ValueError(f"artifact must be 'EOG' or 'EMG'; got {artifact!r}")
    if sfreq not in _FILES or artifact not in _FILES[sfreq]:
        raise ValueError(f"sfreq must be 256 (EOG or EMG) or 512 (EMG only); got {sfreq!r}")
    if scale not in ("std", None):
        raise ValueError(f"scale must be 'std' or None; got {scale!r}")
    if not 0 < train_size < 1:
        raise ValueError(f"train_size must be in (0, 1); got {train_size!r}")
    names = [_FILES[sfreq]["EEG"], _FILES[sfreq][artifact]]
    url_key = "eegdenoisenet" if sfreq == 256 else "eegdenoisenet-512hz"
    folder = find_folder("eegdenoisenet", names, path, download, base_url_key=url_key)
    eeg_file, noise_file = verify("eegdenoisenet", folder, names, verify_hash)
    eeg_all, noise_all = _load_npy(eeg_file), _load_npy(noise_file)
    if eeg_all.shape[1] != noise_all.shape[1]:
        raise ValueError(f"EEG and {artifact} epochs differ in length: {eeg_all.shape} vs "
                         f"{noise_all.shape}")

    rng = check_random_state(random_state)
    eeg_all = eeg_all[rng.permutation(len(eeg_all))]
    noise_all = noise_all[rng.permutation(len(noise_all))]
    n = len(noise_all)
    if artifact == "EMG" and len(eeg_all) < n:
        eeg_all = np.vstack([eeg_all[: n - len(eeg_all)], eeg_all])
    eeg_all = eeg_all[:n]
    n_train = round(train_size * n)
    n_val = round((n - n_train) / 2)
    cuts = {"train": slice(0, n_train), "val": slice(n_train, n_train + n_val),
            "test": slice(n_train + n_val, n)}
    out = Bunch(sfreq=float(sfreq), artifact=artifact)
    for part, sl in cuts.items():
        out[f"eeg_{part}"] = eeg_all[sl].astype(dtype)
        out[f"noise_{part}"] = noise_all[sl].astype(dtype)

    # training: combin_num independent re-pairings, SNR uniform per pair
    eeg_tr, noise_tr = eeg_all[cuts["train"]], noise_all[cuts["train"]]
    eeg_rep = np.concatenate([eeg_tr[rng.permutation(n_train)] for _ in range(combin_num)])
    noise_rep = np.concatenate([noise_tr[rng.permutation(n_train)] for _ in range(combin_num)])
    snr_train = rng.uniform(snr_range[0], snr_range[1], len(eeg_rep))
    parts = {"train": (eeg_rep, _mix(eeg_rep, noise_rep, snr_train), snr_train, None)}
    levels = np.asarray(snr_levels, dtype=float)
    for part in ("val", "test"):
        eeg, noise = eeg_all[cuts[part]], noise_all[cuts[part]]
        snr = np.repeat(levels, len(eeg))
        clean = np.tile(eeg, (len(levels), 1))
        parts[part] = (clean, _mix(clean, np.tile(noise, (len(levels), 1)), snr), snr,
                       np.tile(np.arange(len(eeg)), len(levels)))
    for part, (clean, noisy, snr, epoch) in parts.items():
        std = noisy.std(axis=1) if scale == "std" else np.ones(len(noisy))
        out[f"X_{part}"] = (noisy / std[:, None]).astype(dtype)
        out[f"y_{part}"] = (clean / std[:, None]).astype(dtype)
        out[f"snr_{part}"] = snr
        out[f"std_{part}"] = std
        if epoch is not None:
            out[f"epoch_{part}"] = epoch
    return out


EOG_TEST_FILES = ("EOG_data_input.npy", "EOG_data_output.npy")


def load_eegdenoisenet_eog_test(path=None, *, download=False, verify_hash=True):
    """The EEGdenoiseNet EOG test set and its 101 clean EEG and 101 EOG epochs.

    The files hold (10 SNR levels, 101 epochs, 512 samples): ``EOG_data_input.npy`` (clean EEG
    + EOG) and ``EOG_data_output.npy`` (clean EEG), both divided by the noisy input's std, at
    levels -7, -6, ..., 2 dB. The same 101 clean epochs and 101 EOG epochs (``input - output``)
    recur at every level up to scale; they are returned each scaled to unit std, so they can be
    split by epoch and re-mixed at any SNR (e.g. with :func:`sigest.noise.mix_at_snr`).

    Parameters
    ----------
    path : str or Path, optional
        The ``eegdenoisenet-eog-test`` folder or its parent; default ``$SIGEST_DATA``.
    download : bool, default=False
        Fetch absent files (from the GitHub copy the shared data came from) with pooch.
    verify_hash : bool, default=True

    Returns
    -------
    data : Bunch
        ``noisy`` (1010, 512), ``clean`` (1010, 512), ``snr_db`` (1010,), ``epoch`` (1010,)
        index 0..100 of the underlying epoch (rows are level-major: level 0's 101 epochs first),
        ``clean_eeg`` (101, 512), ``eog`` (101, 512), ``sfreq`` = 256.0.

    Raises
    ------
    ValueError
        If the files do not decompose as described (they are not the published test set).

    Examples
    --------
    >>> data = load_eegdenoisenet_eog_test()  # doctest: +SKIP
    >>> data.noisy.shape, data.clean_eeg.shape  # doctest: +SKIP
    ((1010, 512), (101, 512))
    """
    folder = find_folder("eegdenoisenet-eog-test", EOG_TEST_FILES, path, download)
    f_in, f_out = verify("eegdenoisenet-eog-test", folder, EOG_TEST_FILES, verify_hash)
    noisy, clean = np.load(f_in, allow_pickle=False), np.load(f_out, allow_pickle=False)
    if noisy.shape != clean.shape or noisy.ndim != 3 or noisy.shape[0] != len(SNR_LEVELS):
        raise ValueError(f"expected two arrays of shape (10, n_epochs, n_times); got "
                         f"{noisy.shape} and {clean.shape}")
    noisy, clean = noisy.astype(np.float64), clean.astype(np.float64)
    n_levels, n_epochs, n_times = noisy.shape
    artifact = noisy - clean
    # Clean EEG is best resolved at the highest SNR, EOG at the lowest.
    clean_eeg = clean[-1] / clean[-1].std(axis=1, keepdims=True)
    eog = artifact[0] / artifact[0].std(axis=1, keepdims=True)
    _check_decomposition(clean, artifact, clean_eeg, eog)
    return Bunch(
        noisy=noisy.reshape(-1, n_times), clean=clean.reshape(-1, n_times),
        snr_db=np.repeat(np.asarray(SNR_LEVELS), n_epochs),
        epoch=np.tile(np.arange(n_epochs), n_levels),
        clean_eeg=clean_eeg, eog=eog, sfreq=SFREQ,
    )


def _check_decomposition(clean, artifact, clean_eeg, eog, tol=1e-6):
    for level, snr in enumerate(SNR_LEVELS):
        for name, part, ref in (("clean EEG", clean[level], clean_eeg),
                                ("EOG", artifact[level], eog)):
            unit = part / part.std(axis=1, keepdims=True)
            if np.max(np.abs(unit - ref)) > tol:
                raise ValueError(f"the {name} epochs at {snr:g} dB are not a rescaling of those "
                                 "at the other levels; not the EEGdenoiseNet EOG test set")
        measured = 10 * np.log10(_rms(clean[level]) / _rms(artifact[level]))
        if np.max(np.abs(measured - snr)) > 1e-3:
            raise ValueError(f"the SNR of the rows at level {snr:g} dB is {measured.min():.3f}.."
                             f"{measured.max():.3f} dB; not the EEGdenoiseNet EOG test set")
