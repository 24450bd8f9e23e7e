"""Signal-quality metrics (EEGdenoiseNet's RRMSE and CC, SNR, PRD, ...) and their scorers."""

from __future__ import annotations

import numpy as np


def _pair(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have one shape; got {y_true.shape} and "
                         f"{y_pred.shape}")
    return y_true.reshape(len(y_true), -1), y_pred.reshape(len(y_pred), -1)


def rrmse_temporal(y_true, y_pred):
    """Mean over epochs of RMS(y_pred - y_true) / RMS(y_true) (EEGdenoiseNet's RRMSE_t)."""
    t, p = _pair(y_true, y_pred)
    num = np.sqrt(np.mean((p - t) ** 2, axis=1))
    den = np.maximum(np.sqrt(np.mean(t**2, axis=1)), 1e-12)
    return float(np.mean(num / den))
