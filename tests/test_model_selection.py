"""Subject-wise splitting never puts one subject on two sides."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.model_selection import cross_val_score
from sklearn.tree import DecisionTreeClassifier

from sigest.model_selection import SubjectKFold, check_no_leak, subject_split


@st.composite
def grouped_samples(draw):
    n_subjects = draw(st.integers(3, 9))
    sizes = draw(st.lists(st.integers(1, 6), min_size=n_subjects, max_size=n_subjects))
    labels = draw(st.sampled_from([np.arange(n_subjects), np.array(list("abcdefghi"))]))
    groups = np.repeat(labels[:n_subjects], sizes)
    order = draw(st.permutations(range(len(groups))))  # subjects need not be contiguous
    return groups[np.asarray(order)]


@settings(max_examples=25, deadline=None)
@given(groups=grouped_samples(), n_splits=st.integers(2, 3), seed=st.integers(0, 3),
       shuffle=st.booleans())
def test_subject_kfold_never_leaks(groups, n_splits, seed, shuffle):
    X = np.zeros((len(groups), 2))
    cv = SubjectKFold(n_splits, n_valid_subjects=1, shuffle=shuffle, random_state=seed)
    for train, test in cv.split(X, groups=groups):
        assert not set(groups[train]) & set(groups[test])
    # a validation subject needs two subjects on every training side
    assume(all(len(np.unique(groups[train])) >= 2 for train, _ in cv.split(X, groups=groups)))
    tested = []
    for train, valid, test in cv.split_with_validation(X, groups=groups):
        subjects = [set(groups[i]) for i in (train, valid, test)]
        assert not subjects[0] & subjects[1]
        assert not subjects[0] & subjects[2]
        assert not subjects[1] & subjects[2]
        assert len(subjects[1]) == 1  # the validation subject
        # every sample is used exactly once per fold
        assert np.array_equal(np.sort(np.concatenate([train, valid, test])),
                              np.arange(len(groups)))
        tested.extend(np.unique(groups[test]).tolist())
    # every subject is tested in exactly one fold
    assert sorted(tested) == sorted(np.unique(groups).tolist())


@settings(max_examples=25, deadline=None)
@given(groups=grouped_samples(), seed=st.integers(0, 5))
def test_subject_split_is_a_partition_by_subject(groups, seed):
    train, valid = subject_split(groups, n_valid_subjects=0.3, random_state=seed)
    assert not set(groups[train]) & set(groups[valid])
    assert len(train) + len(valid) == len(groups)


def test_check_no_leak_names_the_subject():
    groups = np.array(["s1", "s1", "s2", "s2"])
    with pytest.raises(ValueError, match="'s1'"):
        check_no_leak(groups, [0], [1, 2])
    check_no_leak(groups, [0, 1], [2, 3])


def test_exhaustive_small_cases():
    for n_subjects in range(2, 6):
        for n_splits in range(2, n_subjects + 1):
            groups = np.repeat(np.arange(n_subjects), 3)
            splits = list(SubjectKFold(n_splits).split(groups, groups=groups))
            assert len(splits) == n_splits
            for train, test in splits:
                assert not set(groups[train]) & set(groups[test])


def test_bad_arguments():
    with pytest.raises(ValueError, match="groups"):
        list(SubjectKFold(2).split(np.zeros(4)))
    with pytest.raises(ValueError, match="at least one subject"):
        subject_split([0, 0, 1], n_valid_subjects=2)


def test_works_as_cv_in_sklearn():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((60, 3)), np.tile([0, 1], 30)
    groups = np.repeat(np.arange(6), 10)
    scores = cross_val_score(DecisionTreeClassifier(random_state=0), X, y, groups=groups,
                             cv=SubjectKFold(3))
    assert len(scores) == 3


def test_check_no_leak_takes_boolean_masks():
    groups = np.array([0, 0, 1, 1, 3, 3])
    check_no_leak(groups, groups != 3, groups == 3)
    with pytest.raises(ValueError, match="subject 1 is in index sets 0 and 1"):
        check_no_leak(groups, groups != 3, groups >= 1)
    with pytest.raises(ValueError, match=r"boolean index set 1 has shape \(2,\)"):
        check_no_leak(groups, groups != 3, np.array([True, False]))


@pytest.mark.parametrize("bad", [1.0, 2.5, True, "1"])
def test_n_valid_subjects_must_be_an_int_or_a_fraction(bad):
    with pytest.raises(ValueError, match="an int\\) or a fraction in \\(0, 1\\); got"):
        subject_split([0, 0, 1, 1, 2, 2], n_valid_subjects=bad)


def test_requests_groups_under_sklearn_metadata_routing():
    import sklearn
    from sklearn.model_selection import GridSearchCV, cross_validate

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((60, 3)), np.tile([0, 1], 30)
    groups = np.repeat(np.arange(6), 10)
    with sklearn.config_context(enable_metadata_routing=True):
        res = cross_validate(DecisionTreeClassifier(random_state=0), X, y,
                             params={"groups": groups}, cv=SubjectKFold(3))
        grid = GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2]},
                            cv=SubjectKFold(3)).fit(X, y, groups=groups)
    assert len(res["test_score"]) == 3 and grid.n_splits_ == 3


def test_index_sets_of_floats_are_refused_not_truncated():
    groups = np.array(["s1", "s1", "s2", "s2"])
    with pytest.raises(ValueError, match="index set 0 must hold integer indices.*float64"):
        check_no_leak(groups, [0.5, 1.7], [2, 3])
    check_no_leak(groups, [], [2, 3])  # an empty list is an empty index set


def test_groups_must_be_one_dimensional():
    groups = np.repeat(["a", "b", "c"], 2)
    with pytest.raises(ValueError, match=r"groups must be 1-D.*got shape \(6, 2\)"):
        list(SubjectKFold(2).split(np.zeros(6), groups=np.c_[groups, groups]))


def test_grid_search_with_string_subjects_shuffled_and_seeded():
    from sklearn.model_selection import GridSearchCV

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 3)), np.tile([0, 1], 15)
    groups = np.repeat(["ann", "bob", "cy", "dee", "eve"], 6)
    kept = groups.copy()

    def folds(seed):
        cv = SubjectKFold(3, shuffle=True, random_state=seed)
        return [sorted(set(groups[test])) for _, test in cv.split(X, groups=groups)]

    assert folds(0) == folds(0) and folds(0) != folds(1)
    grid = GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2]},
                        cv=SubjectKFold(5, shuffle=True, random_state=0))
    grid.fit(X, y, groups=groups)
    assert grid.n_splits_ == 5 and np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    np.testing.assert_array_equal(groups, kept)
