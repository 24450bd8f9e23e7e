"""
Stage sleep with the frequency-cut attention stager
===================================================

Sleep-EDF (Fpz-Cz, 100 Hz, the first 5 s of every 30-s epoch). We train a small stager on
three subjects and stage one night of a fourth: a hypnogram and a confusion matrix.
"""

import matplotlib.pyplot as plt
from sklearn.metrics import cohen_kappa_score, f1_score

import sigest
from sigest.datasets import SLEEP_STAGES, load_sleep_edf
from sigest.plot import plot_confusion, plot_hypnogram

X, y, groups, meta = load_sleep_edf(subjects=[0, 1, 2, 3], return_meta=True)
train = groups != 3
test_night = (groups == 3) & (meta["night"] == meta["night"][groups == 3][0])

stager = sigest.get_estimator("freqcut-sleep", max_epochs=4, module__depth=2,
                              module__heads=4, module__dim=64, random_state=0)
stager.fit(X[train], y[train])
pred = stager.predict(X[test_night])
print(f"macro-F1 {f1_score(y[test_night], pred, average='macro'):.2f}, "
      f"kappa {cohen_kappa_score(y[test_night], pred):.2f}")

# %%
plot_hypnogram(y[test_night], pred, stages=SLEEP_STAGES)
plot_confusion(y[test_night], pred, labels=range(5), display_labels=SLEEP_STAGES)
plt.show()
