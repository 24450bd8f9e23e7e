"""
Remove eye artifacts from EEG
=============================

The EEGdenoiseNet EOG test set holds 101 clean EEG epochs mixed with 101 real EOG epochs at ten
SNR levels (-7 to 2 dB). We split the epochs (not the mixtures) into training and test epochs,
train a denoiser on the training mixtures and score the test ones against a band-pass filter
and the noisy input itself: temporal RRMSE per SNR level, lower is better.
"""

import matplotlib.pyplot as plt
import numpy as np

import sigest
from sigest.datasets import load_eegdenoisenet_eog_test
from sigest.metrics import rrmse_temporal
from sigest.plot import plot_denoising

data = load_eegdenoisenet_eog_test()
train = data.epoch < 70  # split by epoch: no clean epoch is on both sides
test = ~train

# %%
# Train a fully-connected EEGdenoiseNet network (the fastest of the benchmark networks) and
# the band-pass baseline on the same training pairs.
models = {
    "fcnn": sigest.get_estimator("fcnn", max_epochs=30, lr=1e-3, random_state=0),
    "bandpass": sigest.get_estimator("bandpass", l_freq=4.0, h_freq=40.0, sfreq=data.sfreq),
}
outputs = {"noisy": data.noisy[test]}
for name, model in models.items():
    model.fit(data.noisy[train], data.clean[train])
    outputs[name] = model.transform(data.noisy[test])

# %%
# RRMSE per SNR level.
levels = np.unique(data.snr_db)
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, out in outputs.items():
    scores = [rrmse_temporal(data.clean[test][data.snr_db[test] == s],
                             out[data.snr_db[test] == s]) for s in levels]
    ax.plot(levels, scores, marker="o", label=name)
ax.set_xlabel("SNR (dB)")
ax.set_ylabel("RRMSE (temporal)")
ax.legend()
fig.tight_layout()

# %%
# One test epoch at -5 dB.
i = np.flatnonzero(data.snr_db[test] == -5)[0]
plot_denoising(data.clean[test][i], data.noisy[test][i], outputs["fcnn"][i], sfreq=data.sfreq,
               title="fcnn, -5 dB")
plt.show()
