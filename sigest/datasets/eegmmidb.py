"""PhysioNet EEG Motor Movement/Imagery Dataset (``eegmmidb``): 64-channel EEG at 160 Hz.

Runs 3-14 of each subject alternate four tasks, marked by annotations T0 (rest) and T1 / T2
(task onset):

=============  ===================  ===========  ===========
runs           task                 T1           T2
=============  ===================  ===========  ===========
3, 7, 11       real fist            left fist    right fist
4, 8, 12       imagined fist        left fist    right fist
5, 9, 13       real fists / feet    both fists   both feet
6, 10, 14      imagined fists/feet  both fists   both feet
=============  ===================  ===========  ===========
"""

from __future__ import annotations

import numpy as np

from ._base import find_folder, verify

SFREQ = 160.0
N_CHANNELS = 64
#: run -> (imagined?, label of T1, label of T2)
RUN_TASKS = {
    run: (run in (4, 8, 12, 6, 10, 14),) + (("left", "right") if run in (3, 4, 7, 8, 11, 12)
                                            else ("fists", "feet"))
    for run in range(3, 15)
}


def _run_file(subject, run):
    return f"S{subject:03d}/S{subject:03d}R{run:02d}.edf"


def load_eegmmidb(subjects=(1,), runs=(4, 8, 12), path=None, tmin=0.0, tmax=4.0,
                  groups="auto", *, include_rest=False, label="task", return_epochs=False,
                  download=False, verify_hash=True):
    """Epochs of eegmmidb runs around the T1 / T2 (and optionally T0) annotations.

    Parameters
    ----------
    subjects : sequence of int, default=(1,)
        Subject numbers 1..109.
    runs : sequence of int, default=(4, 8, 12)
        Runs 3..14 (see the module docstring; the default: imagined left/right fist).
    path : str or Path, optional
        The ``eegmmidb`` folder (holding ``S001/``...) or its parent; default
        ``$SIGEST_DATA``, then the download cache.
    tmin, tmax : float, default=0.0, 4.0
        Window in seconds relative to each onset. The window holds
        ``round((tmax - tmin) * 160)`` samples (``tmax`` excluded).
    groups : {"auto", "subject", "run"}, default="auto"
        What the returned ``groups`` hold. ``"subject"``: the subject number of every epoch,
        so that ``GroupKFold`` / ``LeaveOneGroupOut`` split subject-wise (no subject on both
        sides of a split). ``"run"``: the run, e.g. ``"S001R04"``, for within-subject
        (leave-one-run-out) splits; with several subjects, one subject's runs then fall on
        both sides of a split, which is not a subject-wise evaluation. ``"auto"``: subjects
        when more than one subject is loaded, runs when one is (a single subject cannot be
        split subject-wise). Earlier versions of sigest defaulted to ``"run"`` whatever the
        subjects; pass ``groups="run"`` for that.
    include_rest : bool, default=False
        Also epoch the T0 (rest) annotations, labelled ``"rest"``.
    label : {"task", "imagery", "both"}, default="task"
        ``"task"``: ``"left"``/``"right"`` (fist runs) or ``"fists"``/``"feet"``;
        ``"imagery"``: ``"real"``/``"imagined"``; ``"both"``: e.g. ``"imagined-left"``.
        Rest epochs are labelled ``"rest"`` whatever ``label``.
    return_epochs : bool, default=False
        Return one concatenated ``mne.Epochs`` (with ``metadata`` columns subject, run, label)
        instead of arrays.
    download : bool, default=False
        Fetch absent runs from PhysioNet with pooch.
    verify_hash : bool, default=True

    Returns
    -------
    X : ndarray of shape (n_epochs, 64, n_times), float64
        Volts.
    y : ndarray of shape (n_epochs,), str
    groups : ndarray of shape (n_epochs,)
        Subject numbers (int) or run names (str), as the ``groups`` parameter says.

    Examples
    --------
    >>> X, y, groups = load_eegmmidb(subjects=[1], runs=[4])  # doctest: +SKIP
    >>> X.shape, sorted(set(y))  # doctest: +SKIP
    ((15, 64, 640), ['left', 'right'])
    """
    import mne

    if groups not in ("auto", "subject", "run"):
        raise ValueError(f"groups must be 'auto', 'subject' or 'run'; got {groups!r}")
    if label not in ("task", "imagery", "both"):
        raise ValueError(f"label must be 'task', 'imagery' or 'both'; got {label!r}")
    if not tmax > tmin:
        raise ValueError(f"tmax must exceed tmin; got tmin={tmin}, tmax={tmax}")
    subjects = [int(s) for s in np.atleast_1d(subjects)]
    runs = [int(r) for r in np.atleast_1d(runs)]
    if not subjects or not runs:
        raise ValueError(f"subjects and runs must each name at least one; got {subjects} and "
                         f"{runs}")
    if groups == "auto":
        groups = "subject" if len(set(subjects)) > 1 else "run"
    bad = [r for r in runs if r not in RUN_TASKS]
    if bad:
        raise ValueError(f"runs must be in 3..14 (the task runs); got {bad}")

    rels = [_run_file(s, r) for s in subjects for r in runs]
    folder = find_folder("eegmmidb", rels, path, download)
    files = verify("eegmmidb", folder, rels, verify_hash)
    all_epochs, X, y, grp = [], [], [], []
    codes = {"T0": 1, "T1": 2, "T2": 3}
    n_times = round((tmax - tmin) * SFREQ)
    for (subject, run), file in zip([(s, r) for s in subjects for r in runs], files):
        raw = mne.io.read_raw_edf(file, preload=True, verbose="error")
        if raw.info["sfreq"] != SFREQ:
            raise ValueError(f"{file}: expected {SFREQ} Hz; got {raw.info['sfreq']}")
        imagined, t1, t2 = RUN_TASKS[run]
        wanted = {"T1": t1, "T2": t2} | ({"T0": "rest"} if include_rest else {})
        event_id = {d: codes[d] for d in sorted(set(raw.annotations.description)) if d in wanted}
        if not event_id:
            raise ValueError(f"{file}: no {'/'.join(wanted)} annotations")
        events, _ = mne.events_from_annotations(raw, event_id=event_id, verbose="error")
        epochs = mne.Epochs(raw, events, event_id=event_id, tmin=tmin,
                            tmax=tmin + (n_times - 1) / SFREQ, baseline=None, preload=True,
                            reject_by_annotation=False, verbose="error")
        names = {v: k for k, v in event_id.items()}
        task = [wanted[names[c]] for c in epochs.events[:, 2]]
        kind = "imagined" if imagined else "real"
        labels = {"task": task, "imagery": [kind] * len(task),
                  "both": [f"{kind}-{t}" for t in task]}[label]
        labels = ["rest" if t == "rest" else lab for t, lab in zip(task, labels)]
        y += labels
        grp += [f"S{subject:03d}R{run:02d}" if groups == "run" else subject] * len(labels)
        if return_epochs:
            import pandas as pd  # mne's metadata needs pandas

            with mne.utils.use_log_level("error"):
                epochs.metadata = pd.DataFrame({"subject": subject, "run": run,
                                                "label": labels})
            all_epochs.append(epochs)
        else:
            X.append(epochs.get_data(copy=False).astype(np.float64))
    if return_epochs:
        if len(all_epochs) == 1:
            return all_epochs[0]
        return mne.concatenate_epochs(all_epochs, verbose="error")
    return np.concatenate(X), np.asarray(y), np.asarray(grp)
