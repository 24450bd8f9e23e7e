"""
Remove eye artifacts from EEG
=============================

The EEGdenoiseNet EOG test set holds 101 clean EEG epochs mixed with 101 real EOG epochs at ten
SNR levels (-7 to 2 dB). We hold out 21 epochs (not mixtures: no clean epoch is on both sides,
the split of the shipped ``cdae-bam:eegdenoisenet-eog`` weights) and score, per SNR level:
the noisy input, a band-pass filter, a fully-connected EEGdenoiseNet network trained here for a
few seconds, and the shipped pretrained denoiser. Temporal RRMSE, lower is better.
"""

import matplotlib.pyplot as plt
import numpy as np

import sigest
from sigest.datasets import load_eegdenoisenet_eog_test
from sigest.metrics import rrmse_temporal
from sigest.plot import plot_denoising
from sigest.recordings import denoise_array

data = load_eegdenoisenet_eog_test()
held_out = np.random.default_rng(2021).permutation(101)[80:]
test = np.isin(data.epoch, held_out)
train = ~test

# %%
# Fit the band-pass baseline and a fully-connected network on the training pairs; load the
# shipped weights (trained by ``scripts/train_pretrained.py`` on the same training epochs).
bandpass = sigest.get_estimator("bandpass", l_freq=4.0, h_freq=40.0, sfreq=data.sfreq)
fcnn = sigest.get_estimator("fcnn", max_epochs=40, lr=1e-3, random_state=0)
pretrained = sigest.get_estimator("cdae-bam", pretrained="eegdenoisenet-eog")
noisy = data.noisy[test]
outputs = {
    "noisy": noisy,
    "bandpass": bandpass.fit(data.noisy[train]).transform(noisy),
    "fcnn (trained here)": fcnn.fit(data.noisy[train], data.clean[train]).transform(noisy),
    # the pretrained model works on shorter windows: overlap-add over each 2-s epoch
    "cdae-bam (pretrained)": np.stack([denoise_array(pretrained, x) for x in noisy]),
}

# %%
# RRMSE per SNR level.
levels = np.unique(data.snr_db)
snr = data.snr_db[test]
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, out in outputs.items():
    scores = [rrmse_temporal(data.clean[test][snr == s], out[snr == s]) for s in levels]
    ax.plot(levels, scores, marker="o", label=name)
ax.set_xlabel("SNR (dB)")
ax.set_ylabel("RRMSE (temporal)")
ax.legend()
fig.tight_layout()

# %%
# One held-out epoch at -5 dB.
i = np.flatnonzero(snr == -5)[0]
plot_denoising(data.clean[test][i], noisy[i], outputs["cdae-bam (pretrained)"][i],
               sfreq=data.sfreq, title="cdae-bam (pretrained), -5 dB")
plt.show()
