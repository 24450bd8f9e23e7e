"""scikit-learn's estimator checks over every registered estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sigest.plugins import estimator_entries

# check name -> reason, per estimator name; as few as possible.
EXPECTED_FAILURES = {
    "freqcut-sleep": {"check_methods_subset_invariance": "float32 matrix products of a "
                      "transformer differ by ~1e-7 between batch sizes (BLAS blocking)"},
}


def _instances():
    for name, entry in sorted(estimator_entries().items()):
        yield entry.obj(**entry.extra.get("check_params", {}))


def _expected_failed_checks(estimator):
    for name, entry in estimator_entries().items():
        if type(estimator) is entry.obj:
            return EXPECTED_FAILURES.get(name, {})
    return {}


@parametrize_with_checks(list(_instances()), expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
