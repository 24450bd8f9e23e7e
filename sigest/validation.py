"""One place for input checks: signal arrays, mne objects, shapes, NaN/Inf, sampling rates.

Every public method of sigest's estimators and transformers validates through here, so errors
say the same thing everywhere: what was expected and what came.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import validate_data

FLOAT_DTYPES = (np.float32, np.float64)
SHAPE_HELP = "(n_epochs, n_times) or (n_epochs, n_channels, n_times)"


def check_sfreq(sfreq, name="sfreq"):
    """Return ``sfreq`` as a positive finite float, or raise a ValueError/TypeError.

    Examples
    --------
    >>> check_sfreq(256)
    256.0
    """
    if isinstance(sfreq, bool) or not isinstance(sfreq, numbers.Real):
        raise TypeError(f"{name} must be a positive number in Hz; got {sfreq!r}")
    if not np.isfinite(sfreq) or sfreq <= 0:
        raise ValueError(f"{name} must be a positive number in Hz; got {sfreq!r}")
    return float(sfreq)


def is_positive_real(value):
    """True for a finite real number > 0 (booleans and complex numbers are not).

    Examples
    --------
    >>> is_positive_real(50), is_positive_real(0.0), is_positive_real(True)
    (True, False, False)
    """
    return (not isinstance(value, bool) and isinstance(value, numbers.Real)
            and bool(np.isfinite(value)) and value > 0)


def check_non_negative(value, name):
    """Raise a ValueError unless ``value`` is a real number >= 0 (a loss weight, say).

    Examples
    --------
    >>> check_non_negative(0.5, "weight")
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
            np.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite non-negative number; got {value!r}")


def check_non_negative_int(value, name):
    """Raise a ValueError unless ``value`` is an integer >= 0 (a count); booleans are refused.

    Examples
    --------
    >>> check_non_negative_int(3, "n_bands")
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer; got {value!r}")


def check_bool(value, name):
    """Raise a ValueError unless ``value`` is True or False (numpy booleans too).

    Examples
    --------
    >>> check_bool(True, "random_crop")
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}")


def check_output_file(path, extensions, *, example=None):
    """Refuse, before any work, an output file that cannot or must not be written.

    Parameters
    ----------
    path : str or Path
        Must end in one of ``extensions``, lie in an existing folder and not be a folder.
    extensions : tuple of str
        The accepted endings, with their dot (``(".fif", ".edf")``).
    example : str, optional
        A file name the message suggests when ``path`` is a folder.

    Returns
    -------
    path : Path
    """
    from pathlib import Path

    path = Path(path)
    if path.is_dir():
        hint = f"e.g. {path / example}" if example else f"ending in {', '.join(extensions)}"
        raise ValueError(f"output {path} is a folder; give a file name, {hint}")
    if not path.name.lower().endswith(tuple(extensions)):
        raise ValueError(f"unknown output format {path.suffix!r} for {path}; expected one of "
                         f"{', '.join(extensions)}")
    if not path.parent.is_dir():
        raise ValueError(f"output folder {path.parent} does not exist (create it first)")
    return path


def is_mne_data(X):
    """True for mne Epochs/Evoked/Raw objects (without importing mne)."""
    return type(X).__module__.startswith("mne.") and hasattr(X, "get_data") and hasattr(X, "info")


def is_mne_list(X):
    """True for a non-empty list or tuple of mne objects: what scikit-learn's splitters
    (``cross_validate``, ``GridSearchCV``) make of an ``mne.Epochs`` when they index it."""
    return isinstance(X, (list, tuple)) and len(X) > 0 and all(is_mne_data(x) for x in X)


def mne_sfreq(X):
    """The sampling rate of an mne object or of a list of them (see :func:`is_mne_list`); None
    for anything else. Objects of a list at different rates are an error.

    Examples
    --------
    >>> mne_sfreq(np.zeros((2, 8))) is None
    True
    """
    if is_mne_data(X):
        return float(X.info["sfreq"])
    if not is_mne_list(X):
        return None
    rates = sorted({float(x.info["sfreq"]) for x in X})
    if len(rates) > 1:
        raise ValueError(f"the mne objects of X have different sampling rates {rates} Hz; "
                         "resample them to one rate first. sigest never resamples silently.")
    return rates[0]


def mne_to_array(X, sfreq=None, *, owner="this estimator"):
    """Data of an mne object as an array, after checking its sampling rate against ``sfreq``."""
    mne_sfreq = float(X.info["sfreq"])
    if sfreq is not None and not np.isclose(mne_sfreq, float(sfreq)):
        raise ValueError(
            f"{type(X).__name__} has sfreq={mne_sfreq:g} Hz but {owner} has sfreq={sfreq:g} Hz; "
            "resample the data (e.g. epochs.resample) or set sfreq to match. "
            "sigest never resamples silently."
        )
    data = X.get_data()
    if data.ndim == 2 and not hasattr(X, "events"):  # Raw or Evoked: one epoch
        data = data[np.newaxis]
    return np.asarray(data)


def _rank_of(X):
    shape = getattr(X, "shape", None)
    if shape is None and isinstance(X, (list, tuple)):
        try:
            shape = np.shape(X)
        except ValueError:
            return None
    return len(shape) if shape is not None else None


def check_signals(X, *, estimator=None, reset=True, sfreq=None, min_times=1, name="X",
                  dtype=FLOAT_DTYPES, owner=None):
    """Validate signal epochs and return them as a 3-D float array plus the input's rank.

    Parameters
    ----------
    X : array-like of shape (n_epochs, n_times) or (n_epochs, n_channels, n_times), or mne object
        The signals. A 2-D array is one channel per epoch. A list of mne objects (scikit-learn's
        splitters index an ``mne.Epochs`` into one) is their data concatenated.
    estimator : estimator, optional
        When given, ``n_features_in_`` (and ``feature_names_in_``) are set (``reset=True``) or
        checked (``reset=False``) as scikit-learn does, together with ``n_channels_in_`` and
        ``n_times_in_``.
    reset : bool, default=True
        Whether this call fits (sets the shape attributes) or checks against them.
    sfreq : float, optional
        The sampling rate the caller works at; checked against an mne object's.
    min_times : int, default=1
        The fewest time samples the caller can work with.
    name : str, default="X"
        Name used in error messages.
    dtype : dtype or tuple of dtypes
        Accepted float dtypes; other numeric input is converted to the first.
    owner : str, optional
        Who checks, in error messages (default: the estimator's class name, else "this
        transformer").

    Returns
    -------
    X3 : ndarray of shape (n_epochs, n_channels, n_times)
        A validated array (a copy where conversion was needed; the input is never modified).
    rank : int
        2 or 3: the rank outputs should be given back in.

    Examples
    --------
    >>> X3, rank = check_signals(np.zeros((4, 128)) + 1.0)
    >>> X3.shape, rank
    ((4, 1, 128), 2)
    """
    if owner is None:
        owner = type(estimator).__name__ if estimator is not None else "this transformer"
    if is_mne_data(X):
        X = mne_to_array(X, sfreq, owner=owner)
    elif is_mne_list(X):
        rate = mne_sfreq(X) if sfreq is None else sfreq
        X = np.concatenate([mne_to_array(x, rate, owner=owner) for x in X])
    elif hasattr(X, "detach") and hasattr(X, "numpy"):  # torch tensor
        X = X.detach().cpu().numpy()
    elif isinstance(X, np.ndarray) and X.dtype.kind == "f" and not X.dtype.isnative:
        # big-endian floats (MATLAB, some EDF tools): check_array takes '>f8' for a non-float64
        # and would cast it to float32
        X = X.astype(X.dtype.newbyteorder("="))
    rank = _rank_of(X)
    if rank is not None and rank not in (2, 3):
        hint = ". Reshape your data with X.reshape(1, -1) if it is one epoch" if rank == 1 else ""
        raise ValueError(
            f"Expected {name} of shape {SHAPE_HELP}; got a {rank}-D array of shape "
            f"{tuple(np.shape(X))}{hint}."
        )
    if rank == 3:
        X = np.asarray(X)
        n, n_channels, n_times = X.shape
        if estimator is not None and not reset and hasattr(estimator, "n_channels_in_"):
            expected = (estimator.n_channels_in_, estimator.n_times_in_)
            if (n_channels, n_times) != expected:
                raise ValueError(
                    f"X has {n_channels * n_times} features (n_channels={n_channels}, "
                    f"n_times={n_times}), but {owner} is expecting {np.prod(expected)} features "
                    f"as input (n_channels={expected[0]}, n_times={expected[1]})."
                )
        flat = X.reshape(n, n_channels * n_times)
    else:
        fitted_channels = getattr(estimator, "n_channels_in_", 1) if not reset else 1
        if fitted_channels > 1:
            raise ValueError(
                f"{name} is 2-D, of shape {tuple(np.shape(X))}: one channel per epoch, but {owner} "
                f"was fitted on epochs of n_channels={fitted_channels}, n_times="
                f"{estimator.n_times_in_}; pass a 3-D array of shape (n_epochs, "
                f"{fitted_channels}, {estimator.n_times_in_})."
            )
        flat, n_channels = X, 1
    kwargs = dict(dtype=dtype, ensure_all_finite=True)
    if estimator is not None:
        flat = validate_data(estimator, flat, reset=reset, **kwargs)
    else:
        flat = check_array(flat, input_name=name, **kwargs)
    n = flat.shape[0]
    X3 = flat.reshape(n, n_channels, -1)
    n_times = X3.shape[-1]
    if n_times < min_times:
        raise ValueError(
            f"{name} has {n_times} time samples (n_features = {n_times}), but {owner} needs at "
            f"least {min_times} (its receptive field); use longer epochs."
        )
    if estimator is not None and reset:
        estimator.n_channels_in_ = int(X3.shape[1])
        estimator.n_times_in_ = int(n_times)
    return X3, (3 if rank == 3 else 2)


def model_sfreq_of(estimator):
    """The sampling rate an estimator was fitted at (``sfreq_``, else ``sfreq``), or None."""
    for attr in ("sfreq_", "sfreq"):
        value = getattr(estimator, attr, None)
        if value is not None:
            return float(value)
    return None


def restore_rank(X3, rank):
    """Give a ``(n, C, T)`` array back in the rank the input had (2-D for one channel)."""
    if rank == 2:
        if X3.shape[1] != 1:
            return X3.reshape(X3.shape[0], -1)
        return X3[:, 0, :]
    return X3


def check_clean_target(y, X3, rank, *, owner="this denoiser", name="y"):
    """Validate clean targets ``y`` (called ``name`` in errors) for noisy ``X3``: the same shape
    as X, float, finite."""
    y = np.asarray(y) if not is_mne_data(y) else mne_to_array(y)
    expected = X3.shape if rank == 3 else (X3.shape[0], X3.shape[2])
    if y.ndim == 2 and rank == 3 and X3.shape[1] == 1:
        expected = (X3.shape[0], X3.shape[2])
    if y.shape != tuple(expected):
        raise ValueError(
            f"{owner}: clean targets {name} must have X's shape {tuple(expected)}; got {name} of "
            f"shape {y.shape}."
        )
    y2 = check_array(y.reshape(len(y), -1), dtype=FLOAT_DTYPES, ensure_all_finite=True,
                     input_name=name)
    return y2.reshape(X3.shape).astype(X3.dtype, copy=False)
