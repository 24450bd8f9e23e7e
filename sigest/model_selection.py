"""Subject-wise cross-validation: no subject is ever on two sides of a split.

:class:`SubjectKFold` is a scikit-learn splitter (use it as ``cv=`` anywhere); its
:meth:`~SubjectKFold.split_with_validation` also draws validation subjects from the training
side of each fold, for early stopping or model choice without touching the test subjects.
:func:`check_no_leak` is the guard the splitter runs on every split it makes.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import BaseCrossValidator, GroupKFold
from sklearn.utils import check_random_state


def check_no_leak(groups, *indices):
    """Raise a ValueError if one subject (group) appears in two of the index sets.

    Parameters
    ----------
    groups : array-like of shape (n_samples,)
        The subject of every sample.
    *indices : arrays of int or boolean masks of shape (n_samples,)
        Index sets (e.g. train, validation, test) that must not share a subject.

    Examples
    --------
    >>> check_no_leak([1, 1, 2, 2], [0, 1], [2, 3])
    >>> check_no_leak([1, 1, 2, 2], [0, 2], [1, 3])
    Traceback (most recent call last):
    ...
    ValueError: subject 1 is in index sets 0 and 1; a subject-wise split must not share subjects
    """
    groups = np.asarray(groups)
    seen = {}
    for which, index in enumerate(indices):
        index = np.asarray(index)
        if index.dtype == bool:
            if index.shape != groups.shape:
                raise ValueError(f"boolean index set {which} has shape {index.shape}; a mask "
                                 f"needs the shape of groups {groups.shape}")
            index = np.flatnonzero(index)
        elif index.size and index.dtype.kind not in "iu":
            raise ValueError(f"index set {which} must hold integer indices or be a boolean "
                             f"mask; got dtype {index.dtype}")
        for subject in np.unique(groups[index.astype(int)]):
            key = subject.item() if hasattr(subject, "item") else subject
            if key in seen and seen[key] != which:
                raise ValueError(f"subject {key!r} is in index sets {seen[key]} and {which}; a "
                                 "subject-wise split must not share subjects")
            seen[key] = which


def subject_split(groups, n_valid_subjects=1, random_state=None):
    """Split sample indices into (train, valid) by whole subjects.

    Parameters
    ----------
    groups : array-like of shape (n_samples,)
        The subject of every sample.
    n_valid_subjects : int or float, default=1
        How many subjects go to validation; a float in (0, 1) is a fraction of the subjects
        (at least one).
    random_state : int, RandomState or None
        Which subjects are drawn.

    Returns
    -------
    train, valid : ndarrays of int
        Sorted sample indices; no subject is in both.

    Examples
    --------
    >>> train, valid = subject_split([0, 0, 1, 1, 2], n_valid_subjects=1, random_state=0)
    >>> sorted(set(train) | set(valid)) == [0, 1, 2, 3, 4]
    True
    """
    groups = np.asarray(groups)
    subjects = np.unique(groups)
    if isinstance(n_valid_subjects, float) and 0 < n_valid_subjects < 1:
        n_valid = max(int(round(n_valid_subjects * len(subjects))), 1)
    elif isinstance(n_valid_subjects, bool) or not isinstance(n_valid_subjects,
                                                              (int, np.integer)):
        raise ValueError(f"n_valid_subjects must be a number of subjects (an int) or a fraction "
                         f"in (0, 1); got {n_valid_subjects!r}")
    else:
        n_valid = int(n_valid_subjects)
    if not 1 <= n_valid < len(subjects):
        raise ValueError(f"n_valid_subjects must leave at least one subject on each side; got "
                         f"{n_valid_subjects!r} for {len(subjects)} subjects")
    rng = check_random_state(random_state)
    valid_subjects = rng.choice(subjects, size=n_valid, replace=False)
    is_valid = np.isin(groups, valid_subjects)
    train, valid = np.flatnonzero(~is_valid), np.flatnonzero(is_valid)
    check_no_leak(groups, train, valid)
    return train, valid


class SubjectKFold(BaseCrossValidator):
    """K folds by subject: every subject is in the test set of exactly one fold.

    A thin layer over :class:`sklearn.model_selection.GroupKFold` that checks every split for
    leaks and can also hold out validation subjects from the training side of each fold.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds (at most the number of subjects).
    n_valid_subjects : int or float, default=1
        Validation subjects per fold for :meth:`split_with_validation` (drawn from the
        training subjects of that fold; a float is a fraction of them).
    shuffle : bool, default=False
        Shuffle subjects before assigning them to folds.
    random_state : int, RandomState or None, default=None
        Seeds the shuffling and the draw of validation subjects.

    Examples
    --------
    >>> import numpy as np
    >>> from sigest.model_selection import SubjectKFold
    >>> groups = np.repeat([0, 1, 2, 3], 5)
    >>> cv = SubjectKFold(n_splits=4, random_state=0)
    >>> for train, valid, test in cv.split_with_validation(np.zeros(20), groups=groups):
    ...     assert not set(groups[test]) & (set(groups[train]) | set(groups[valid]))
    ...     assert not set(groups[train]) & set(groups[valid])
    """

    # with scikit-learn's metadata routing on, cross_validate and searches route ``groups`` to
    # the splitter only if it asks for them (as GroupKFold does)
    __metadata_request__split = {"groups": True}

    def __init__(self, n_splits=5, *, n_valid_subjects=1, shuffle=False, random_state=None):
        self.n_splits = n_splits
        self.n_valid_subjects = n_valid_subjects
        self.shuffle = shuffle
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.n_splits

    def split(self, X, y=None, groups=None):
        """Yield ``(train, test)`` index arrays; no subject is on both sides."""
        groups = self._groups(X, groups)
        kfold = GroupKFold(self.n_splits, shuffle=self.shuffle,
                           random_state=self.random_state if self.shuffle else None)
        for train, test in kfold.split(X, y, groups):
            check_no_leak(groups, train, test)
            yield train, test

    def split_with_validation(self, X, y=None, groups=None):
        """Yield ``(train, valid, test)``; validation subjects come from the training side."""
        groups = self._groups(X, groups)
        rng = check_random_state(self.random_state)
        for train, test in self.split(X, y, groups):
            inner_train, inner_valid = subject_split(groups[train], self.n_valid_subjects, rng)
            train_part, valid_part = train[inner_train], train[inner_valid]
            check_no_leak(groups, train_part, valid_part, test)
            yield train_part, valid_part, test

    @staticmethod
    def _groups(X, groups):
        if groups is None:
            raise ValueError("SubjectKFold needs groups (the subject of every sample); got None")
        groups = np.asarray(groups)
        if groups.ndim != 1:
            raise ValueError(f"groups must be 1-D, the subject of every sample; got shape "
                             f"{groups.shape}")
        if len(groups) != len(X):
            raise ValueError(f"groups has {len(groups)} entries but X has {len(X)} samples")
        return groups


__all__ = ["SubjectKFold", "check_no_leak", "subject_split"]
