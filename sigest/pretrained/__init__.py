"""Weights shipped with sigest, trained by ``scripts/train_pretrained.py`` on public data.

Each model is a file ``<estimator>_<tag>.zip`` (a tag has no ``_``; an estimator name may)
written by the estimator's ``save()`` (read back with :func:`sigest.load`, which runs no code),
next to its model card ``<estimator>_<tag>.md`` (data, split, protocol, held-out metrics and the
command that made it). ``sigest.get_estimator(name, pretrained=tag)`` calls :func:`load_pretrained`.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def _split_name(stem):
    # at the last "_": tags have none, estimator names may (braindecode-signaljepa_postlocal)
    name, sep, tag = stem.rpartition("_")
    return (name, tag) if sep and name else None


def available():
    """The shipped ``(estimator_name, tag)`` pairs, sorted.

    Returns
    -------
    pairs : list of tuple of str

    Examples
    --------
    >>> from sigest.pretrained import available
    >>> ("cdae-bam", "mitbih-nstdb") in available()  # doctest: +SKIP
    True
    """
    pairs = (_split_name(p.stem) for p in HERE.glob("*.zip"))
    return sorted(p for p in pairs if p is not None)


def weights_path(estimator_name, tag):
    """Path of the shipped weights file for ``estimator_name`` and ``tag``."""
    path = HERE / f"{estimator_name}_{tag}.zip"
    if not path.exists():
        shipped = ", ".join(f"{n}:{t}" for n, t in available()) or "none"
        raise ValueError(f"no shipped weights for estimator {estimator_name!r} with tag "
                         f"{tag!r}; shipped: {shipped}")
    return path


def model_card(estimator_name, tag):
    """The model card (Markdown text) of shipped weights."""
    weights_path(estimator_name, tag)
    card = HERE / f"{estimator_name}_{tag}.md"
    return card.read_text(encoding="utf-8") if card.exists() else ""


def load_pretrained(estimator_name, tag):
    """A fitted estimator with shipped weights.

    Parameters
    ----------
    estimator_name : str
        The registered estimator name, e.g. ``"bg-attention"``.
    tag : str
        Which weights, e.g. ``"eegdenoisenet-emg"`` (see :func:`available`).

    Returns
    -------
    estimator : fitted sigest estimator
        Of the class registered under ``estimator_name``; its card is in
        :func:`model_card`.

    Raises
    ------
    ValueError
        When no such weights are shipped (the message lists those that are).

    Examples
    --------
    >>> import sigest
    >>> den = sigest.get_estimator("cdae-bam", pretrained="eegdenoisenet-emg")  # doctest: +SKIP
    >>> den.n_times_in_  # doctest: +SKIP
    256
    """
    from ..persistence import load
    from ..plugins import get_estimator_class

    cls = get_estimator_class(estimator_name)
    return load(weights_path(estimator_name, tag), expected_class=cls)
