"""
Denoise ECG with a convolutional autoencoder
============================================

MIT-BIH records are cut into 256-sample windows (0.7 s at 360 Hz); training windows get a new
mixture of recorded muscle noise, baseline wander (NSTDB, training part of each record) and
60 Hz powerline at every batch. Test windows come from a record never seen in training and are
mixed with the test part of the noise records.
"""

import matplotlib.pyplot as plt
import numpy as np

import sigest
from sigest.datasets import load_mitbih
from sigest.metrics import snr_improvement
from sigest.noise import NoiseInjector
from sigest.plot import plot_denoising

X, _, groups = load_mitbih(records=["100", "101", "103", "105"], window=256)
X = (X - X.mean(axis=1, keepdims=True)) / X.std()
train, test = groups != "105", groups == "105"

den = sigest.get_estimator("cdae-bam", max_epochs=5, random_state=0)
den.fit(X[train][:1500])

mixture = NoiseInjector(source=("nstdb-ma", "nstdb-bw", "powerline-60"), snr_db=6.0,
                        sfreq=360.0, split="test", snr_definition="power", random_state=1)
noisy = mixture.fit_transform(X[test][:400])
denoised = den.transform(noisy)
print(f"SNR improvement on record 105: {snr_improvement(X[test][:400], denoised, noisy):.1f} dB")

# %%
i = int(np.argmax(np.ptp(X[test][:400], axis=1)))  # a window with a clear QRS complex
plot_denoising(X[test][i], noisy[i], denoised[i], sfreq=360.0, title="cdae-bam, record 105")
plt.show()
