"""matplotlib figures: signals before/after, hypnograms, confusion matrices."""

from __future__ import annotations

import numpy as np


def _figure(**kwargs):
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(**kwargs)


def check_figure_path(path, example="figure.png"):
    """Refuse, before any work, a figure path matplotlib cannot or must not write.

    Parameters
    ----------
    path : str or Path
        Must end in a format matplotlib writes (``.png``, ``.pdf``, ``.svg``, ...; without one it
        would add ``.png`` to the name), lie in an existing folder and not be a folder itself.
    example : str, default="figure.png"
        The file name the message suggests when ``path`` is a folder.

    Returns
    -------
    path : Path
    """
    from matplotlib.backend_bases import FigureCanvasBase

    from .validation import check_output_file

    formats = sorted(FigureCanvasBase.get_supported_filetypes())
    return check_output_file(path, tuple(f".{f}" for f in formats), example=example)


def save_figure(fig, path, dpi):
    """Write ``fig`` to ``path`` (a :func:`check_figure_path`) atomically, in the format its
    extension names: a crash leaves the earlier file, never part of a figure."""
    from .persistence import write_atomically

    write_atomically(path, lambda f: fig.savefig(f, dpi=dpi, format=path.suffix.lower()[1:]))


def plot_denoising(clean, noisy, denoised, sfreq=None, title=None, ax=None, *, t0=0.0):
    """Clean, noisy and denoised versions of one epoch (one channel) on one time axis.

    Parameters
    ----------
    clean, noisy, denoised : array-like of shape (n_times,)
    sfreq : float, optional
        Sampling rate; the x axis is in seconds when given, in samples otherwise.
    title : str, optional
    ax : matplotlib Axes, optional
    t0 : float, default=0.0
        Time of the first sample on the x axis (in seconds, or in samples without ``sfreq``),
        e.g. where an excerpt starts in its recording.

    Returns
    -------
    fig : matplotlib Figure
    """
    if ax is None:
        fig, ax = _figure(figsize=(9, 3.2))
    else:
        fig = ax.figure
    n = len(np.asarray(clean))
    t = t0 + (np.arange(n) / sfreq if sfreq else np.arange(n))
    ax.plot(t, noisy, color="0.65", lw=0.8, label="noisy")
    ax.plot(t, clean, color="tab:blue", lw=1.0, label="clean")
    ax.plot(t, denoised, color="tab:red", lw=1.0, label="denoised")
    ax.set_xlabel("time (s)" if sfreq else "sample")
    ax.legend(loc="upper right", ncol=3, frameon=False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_hypnogram(y_true, y_pred, stages=("W", "N1", "N2", "N3", "REM"), epoch_seconds=30.0,
                   ax=None):
    """True and predicted sleep stages of one night as step plots.

    Returns
    -------
    fig : matplotlib Figure
    """
    if ax is None:
        fig, ax = _figure(figsize=(10, 3))
    else:
        fig = ax.figure
    order = {s: i for i, s in enumerate(["N3", "N2", "N1", "REM", "W"])}
    hours = np.arange(len(y_true)) * epoch_seconds / 3600

    def level(y):
        return [order[stages[int(v)]] if not isinstance(v, str) else order[v] for v in y]

    ax.step(hours, level(y_true), where="post", color="tab:blue", lw=1.0, label="true")
    ax.step(hours, np.asarray(level(y_pred)) + 0.15, where="post", color="tab:red", lw=0.8,
            alpha=0.8, label="predicted")
    ax.set_yticks(range(5), ["N3", "N2", "N1", "REM", "W"])
    ax.set_xlabel("time (h)")
    ax.legend(loc="upper right", ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def plot_confusion(y_true, y_pred, labels=None, display_labels=None, ax=None):
    """A row-normalised confusion matrix.

    Returns
    -------
    fig : matplotlib Figure
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    if ax is None:
        fig, ax = _figure(figsize=(4.5, 4))
    else:
        fig = ax.figure
    ConfusionMatrixDisplay.from_predictions(y_true, y_pred, labels=labels,
                                            display_labels=display_labels, normalize="true",
                                            ax=ax, colorbar=False, values_format=".2f")
    fig.tight_layout()
    return fig
