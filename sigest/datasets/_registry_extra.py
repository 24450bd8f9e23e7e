"""Digests of data files whose origin publishes no sha256 (kept by hand, unlike ``_registry``).

``EXTRA[folder][file] = (digest, size)``: the digest in pooch's ``"alg:hex"`` form and the
size in bytes. :func:`sigest.datasets._base.known_hash` consults :data:`EXTRA` after the
generated sha256 table.
"""

#: EEGdenoiseNet: neither the official GitHub repository (``ncclabsustech/EEGdenoiseNet``) nor
#: its G-Node GIN copy (``NCClab/EEGdenoiseNet``, the 512-Hz files) publishes checksums. These
#: MD5s and sizes are the git-annex keys of a public copy of the GIN data folder
#: (``benjamindeplae-hub/Current-Trends-in-Artificial-Intelligence``, commit
#: ``d800c37ef07efcde6536b615e2dd2f200319d290``, ``data/*.npy``); each size is exactly that of a
#: float64 ``.npy`` of the official shape (4514, 3400, 5598 x 512 at 256 Hz; 4514, 5598 x 1024
#: at 512 Hz) with an 80-byte header.
EXTRA = {
    "eegdenoisenet": {
        "EEG_all_epochs.npy": ("md5:43c5c96276dc72126236ec43b6e8c061", 18489424),
        "EOG_all_epochs.npy": ("md5:bb5e464a40974d26964ccd4f445627ab", 13926480),
        "EMG_all_epochs.npy": ("md5:0bcccfcee656f36660551dced73ddff8", 22929488),
        "EEG_all_epochs_512hz.npy": ("md5:33f28c453964139a5852eca457887b83", 36978768),
        "EMG_all_epochs_512hz.npy": ("md5:5587fd70a12bf64bf82ef8ae024de6ef", 45858896),
    },
}
