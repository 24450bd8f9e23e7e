"""
Synthesise EEG with WaveGAN
===========================

Bonn EEG in the UCI layout (178-sample chunks at 173.61 Hz). A WaveGAN conditioned on the
seizure flag learns for a short while; we compare real and synthetic seizure chunks and their
power spectra.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.signal import welch

import sigest
from sigest.datasets import load_bonn

X, y, groups = load_bonn(sets="ZS", layout="uci", binary=True)
gen = sigest.get_estimator("wavegan", loss="wgan-gp", max_epochs=10, random_state=0)
gen.fit(X, y)
fake = gen.sample(200, y=1, random_state=0)
real = X[y == 1][:200]

fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
t = np.arange(X.shape[1]) / 173.61
axes[0].plot(t, real[0], label="real seizure chunk")
axes[0].plot(t, fake[0], label="synthetic", alpha=0.8)
axes[0].set_xlabel("time (s)")
axes[0].legend(frameon=False)
for name, chunks in (("real", real), ("synthetic", fake)):
    f, p = welch(chunks, fs=173.61, nperseg=128)
    axes[1].semilogy(f, p.mean(axis=0), label=name)
axes[1].set_xlabel("frequency (Hz)")
axes[1].set_ylabel("PSD")
axes[1].legend(frameon=False)
fig.tight_layout()
plt.show()
