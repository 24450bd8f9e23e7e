"""scikit-learn's estimator checks over every registered estimator.

An estimator registered with ``skip_checks="reason"`` (braindecode's wider zoo, whose networks
cannot take the 2-20-sample epochs the checks use) is not run here; the plugin's own tests cover
a representative subset. Each is listed by ``test_estimators_outside_the_checks_say_why``.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sigest.plugins import estimator_entries

# check name -> reason, per estimator name; as few as possible.
EXPECTED_FAILURES = {
    "bg-attention": {"check_methods_subset_invariance": (
        "float32 GRU/attention kernels round differently for a batch of 1 than for a full "
        "batch (differences ~1e-7 > the check's atol 1e-7); not a per-sample dependence")},
    "freqcut-sleep": {"check_methods_subset_invariance": (
        "float32 attention matmuls round differently for a batch of 1 than for a full batch "
        "(differences ~1e-7 > the check's atol 1e-7); not a per-sample dependence")},
}

ENTRIES = sorted(estimator_entries().items())
CHECKED = [(name, entry) for name, entry in ENTRIES if not entry.extra.get("skip_checks")]
NOT_CHECKED = [(name, entry) for name, entry in ENTRIES if entry.extra.get("skip_checks")]


PREFIXED_PARAMS_REASON = (
    "check params route network sizes through skorch's prefixed module__* parameters, which "
    "skorch stores as instance attributes by design; the check reads them as attributes that "
    "__init__ sets without declaring")


def _expected_failed_checks(estimator):
    for name, entry in CHECKED:
        if type(estimator) is entry.obj:
            failures = dict(EXPECTED_FAILURES.get(name, {}))
            if any("__" in key for key in entry.extra.get("check_params", {})):
                failures["check_no_attributes_set_in_init"] = PREFIXED_PARAMS_REASON
            return failures
    return {}


@parametrize_with_checks([entry.obj(**entry.extra.get("check_params", {}))
                          for _, entry in CHECKED],
                         expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("name, entry", NOT_CHECKED, ids=[n for n, _ in NOT_CHECKED])
def test_estimators_outside_the_checks_say_why(name, entry):
    reason = entry.extra["skip_checks"]
    assert isinstance(reason, str) and len(reason) > 20
    pytest.skip(f"{name}: {reason}")


def test_at_most_three_expected_failures_each_with_a_reason():
    for name, failures in EXPECTED_FAILURES.items():
        assert len(failures) <= 3, name
        assert all(isinstance(r, str) and len(r) > 10 for r in failures.values()), name
