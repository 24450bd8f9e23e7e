"""Tiny estimators, one per base: quick to fit, they prove the bases and the plugin path."""

from ..base import SignalClassifier, SignalDenoiser, SignalGenerator
from ..models.tiny import TinyConvClassifier, TinyConvDenoiser, TinyMLPGAN


class TinyDenoiser(SignalDenoiser):
    """A two-layer residual 1-D convolutional denoiser (any channels, any length).

    Parameters are those of :class:`sigest.base.SignalDenoiser`; the network's are
    ``module__n_filters`` (16) and ``module__kernel_size`` (9).

    Examples
    --------
    >>> import numpy as np
    >>> from sigest.estimators.tiny import TinyDenoiser
    >>> X = np.sin(np.linspace(0, 60, 256))[None].repeat(32, 0)
    >>> den = TinyDenoiser(max_epochs=2, random_state=0).fit(X)
    >>> den.transform(X).shape
    (32, 256)
    """

    def __init__(self, module=TinyConvDenoiser, **kwargs):
        super().__init__(module, **kwargs)


class TinyClassifier(SignalClassifier):
    """A one-layer 1-D convolutional classifier with mean and max pooling.

    Examples
    --------
    >>> import numpy as np
    >>> from sigest.estimators.tiny import TinyClassifier
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((40, 2, 64)), np.repeat(["a", "b"], 20)
    >>> TinyClassifier(max_epochs=2, random_state=0).fit(X, y).predict(X[:3]).shape
    (3,)
    """

    def __init__(self, module=TinyConvClassifier, **kwargs):
        super().__init__(module, **kwargs)


class TinyGANGenerator(SignalGenerator):
    """A dense GAN (one hidden layer each side), conditional when fitted with labels.

    Examples
    --------
    >>> import numpy as np
    >>> from sigest.estimators.tiny import TinyGANGenerator
    >>> X = np.random.default_rng(0).standard_normal((64, 32))
    >>> gen = TinyGANGenerator(max_epochs=2, random_state=0).fit(X)
    >>> gen.sample(5, random_state=0).shape
    (5, 32)
    """

    def __init__(self, module=TinyMLPGAN, **kwargs):
        super().__init__(module, **kwargs)


CHECK_PARAMS = {"max_epochs": 3, "batch_size": 16, "verbose": 0}


def register_estimators(register):
    register("tiny-conv-denoiser", TinyDenoiser, task="denoising",
             description="Two-layer residual 1-D conv denoiser (proves SignalDenoiser)",
             check_params=CHECK_PARAMS)
    register("tiny-conv-classifier", TinyClassifier, task="classification",
             description="One-layer 1-D conv classifier (proves SignalClassifier)",
             check_params=CHECK_PARAMS)
    register("tiny-mlp-gan", TinyGANGenerator, task="generation",
             description="Dense GAN generator (proves SignalGenerator)",
             check_params=CHECK_PARAMS)
