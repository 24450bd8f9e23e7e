"""
Denoise a whole EDF recording from the command line
===================================================

``sigest denoise INPUT OUTPUT --model NAME:TAG`` reads an EDF, BDF, FIF or WFDB recording,
denoises every channel in windows of the model's length (hop half a window, Hann-weighted
overlap-add, so there are no seams at window borders) and writes FIF or EDF with the original
channel names, units and annotations.

Here a real 64-channel EEG recording of the PhysioNet Motor Movement/Imagery data set
(subject S001, run 14, a run the shipped weights never saw) goes through it twice with the
shipped ``cdae-bam:eegdenoisenet-emg`` weights (a small convolutional denoising autoencoder
trained on clean EEG + NSTDB muscle noise, the best of the shipped EMG models on their held-out
data; see its model card): once as recorded, and once with muscle
artifact added by the toolkit (NSTDB ``ma``, the test part never used in training, at 0 dB on
every channel). The model runs at 256 Hz; the 160-Hz recording is resampled to it and back,
which the command announces on stderr (``--quiet`` here keeps the page short; the summary line
still names the model's window and rate). We report the output's temporal RRMSE against the
recording as the clean reference.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import mne
import numpy as np

from sigest.cli import main
from sigest.datasets import data_roots
from sigest.metrics import rrmse_temporal
from sigest.noise import NoiseInjector
from sigest.plot import plot_denoising
from sigest.recordings import read_recording, write_recording

MODEL = "cdae-bam:eegdenoisenet-emg"  # shipped weights: sigest.pretrained.available()
edf = next(Path(root) / "eegmmidb" / "S001" / "S001R14.edf" for root in data_roots()
           if (Path(root) / "eegmmidb" / "S001" / "S001R14.edf").exists())
# The first 30 s keep the example quick; `sigest denoise` takes the whole file just as well.
workdir = Path(tempfile.mkdtemp())
raw = read_recording(edf).crop(0, 30, include_tmax=False)
write_recording(raw, workdir / "S001R14.edf")
print(f"{edf.name}: {len(raw.ch_names)} channels, first {raw.n_times / raw.info['sfreq']:.0f} s "
      f"at {raw.info['sfreq']:g} Hz, {len(raw.annotations)} annotations")

# %%
# Add muscle artifact with the toolkit and write it as a second EDF
# -----------------------------------------------------------------
# The whole recording is one epoch of 64 channels; every channel gets its own segment of the
# held-out NSTDB muscle-noise record, scaled to 0 dB (EEGdenoiseNet's RMS rule).
clean = read_recording(workdir / "S001R14.edf").get_data()  # as written to EDF
injector = NoiseInjector(source="nstdb-ma", split="test", sfreq=160.0, snr_db=0.0,
                         random_state=0)
noisy = injector.fit_transform(clean[None])[0]
noisy_raw = raw.copy()
noisy_raw._data[:] = noisy
write_recording(noisy_raw, workdir / "S001R14_ma.edf")

# %%
# Run ``sigest denoise`` on both files
# ------------------------------------
for path in (workdir / "S001R14.edf", workdir / "S001R14_ma.edf"):
    print(f"\n$ sigest denoise {path.name} {path.stem}_denoised.edf --model {MODEL}")
    main(["denoise", str(path), str(workdir / f"{path.stem}_denoised.edf"), "--model", MODEL,
          "--quiet"])

out_clean = read_recording(workdir / "S001R14_denoised.edf").get_data()
out_noisy = read_recording(workdir / "S001R14_ma_denoised.edf").get_data()

# %%
# RRMSE against the recording (the clean reference), mean over the 64 channels
# ----------------------------------------------------------------------------
rows = [("recorded, denoised", rrmse_temporal(clean, out_clean)),
        ("muscle noise added, not denoised", rrmse_temporal(clean, noisy)),
        ("muscle noise added, denoised", rrmse_temporal(clean, out_noisy))]
for label, value in rows:
    print(f"{label:34s} RRMSE_t = {value:.3f}")

# %%
# One channel before and after
# ----------------------------
channel = raw.ch_names.index("C3..")
sfreq = raw.info["sfreq"]
seconds = slice(int(20 * sfreq), int(25 * sfreq))
fig, axes = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
plot_denoising(clean[channel, seconds] * 1e6, clean[channel, seconds] * 1e6,
               out_clean[channel, seconds] * 1e6, sfreq=sfreq, t0=20.0, ax=axes[0],
               title="C3, as recorded (µV): input and output nearly coincide")
plot_denoising(clean[channel, seconds] * 1e6, noisy[channel, seconds] * 1e6,
               out_noisy[channel, seconds] * 1e6, sfreq=sfreq, t0=20.0, ax=axes[1],
               title="C3, NSTDB muscle noise added at 0 dB (µV)")
plt.show()

# %%
# The files keep what the recording had
# --------------------------------------
back = mne.io.read_raw_edf(workdir / "S001R14_ma_denoised.edf", verbose="error")
print("channel names kept:", back.ch_names == raw.ch_names)
print("annotations kept:", list(back.annotations.description) == list(raw.annotations.description))
print("units kept:", back._orig_units == raw._orig_units)
print("max |difference| of annotation onsets (s):",
      float(np.max(np.abs(back.annotations.onset - raw.annotations.onset))))
