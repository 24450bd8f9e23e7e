"""sigest: scikit-learn-compatible deep-learning estimators for biosignals, with plugins."""

__version__ = "0.1.0"

from .base import SignalClassifier, SignalDenoiser, SignalGenerator  # noqa: E402
from .noise import NoiseInjector  # noqa: E402
from .persistence import load  # noqa: E402
from .plugins import (  # noqa: E402
    get_dataset_loader,
    get_estimator,
    get_estimator_class,
    get_noise_source,
    hookimpl,
    list_datasets,
    list_estimators,
    list_noises,
)

__all__ = [
    "NoiseInjector",
    "SignalClassifier",
    "SignalDenoiser",
    "SignalGenerator",
    "__version__",
    "get_dataset_loader",
    "get_estimator",
    "get_estimator_class",
    "get_noise_source",
    "hookimpl",
    "list_datasets",
    "list_estimators",
    "list_noises",
    "load",
]
