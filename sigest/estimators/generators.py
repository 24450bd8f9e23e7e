"""GAN generators of synthetic epochs: the seed's dense GAN and WaveGAN.

Both are :class:`sigest.base.SignalGenerator` s: ``fit(X)`` (or ``fit(X, y)`` for a
class-conditional model), ``sample(n_samples, y=None, random_state=None)`` and
``fit_resample(X, y)`` (imbalanced-learn's sampler convention). ``loss="wgan-gp"`` trains with the
Wasserstein loss and a gradient penalty instead of the non-saturating GAN loss.
"""

import torch
from skorch.callbacks import Callback

from ..base import SignalGenerator
from ..models.gan import DenseGAN
from ..models.wavegan import WaveGAN
from ..validation import is_positive_real


class GeneratorEMA(Callback):
    """Sample from an exponential moving average of the generator's weights.

    A GAN's generator keeps moving against its critic, so the weights of its last step are one
    draw from a wandering sequence: its samples can be off in level or spectrum even when
    training went well. The average over the last steps (Karras et al. 2018; Yazici et al.,
    ICLR 2019) is steadier. The average is updated after every training batch (one generator
    step) and copied into the generator when ``fit`` ends, so :meth:`sample`, ``save`` and a
    ``warm_start`` continuation all use it. Batch-norm statistics are averaged too.

    Parameters
    ----------
    decay : float, default=0.999
        Weight of the old average at each step, in (0, 1); about ``1 / (1 - decay)`` steps are
        averaged. Early steps use the smaller ``(1 + t) / (10 + t)`` so that a short fit is not
        dominated by the random initial weights.

    Examples
    --------
    >>> import numpy as np
    >>> from sigest.estimators.generators import GANGenerator, GeneratorEMA
    >>> X = np.random.default_rng(0).standard_normal((60, 64))
    >>> gen = GANGenerator(max_epochs=2, callbacks=[GeneratorEMA(0.99)], random_state=0).fit(X)
    >>> gen.sample(3, random_state=0).shape
    (3, 64)
    """

    def __init__(self, decay=0.999):
        self.decay = decay

    def on_train_begin(self, net, **kwargs):
        decay = self.decay
        if not (is_positive_real(decay) and decay < 1):
            raise ValueError(f"GeneratorEMA decay must be a number in (0, 1); got {decay!r}")
        self.steps_ = 0
        self.average_ = {k: v.detach().clone()
                         for k, v in net.module_.generator.state_dict().items()}

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if not training:
            return
        self.steps_ += 1
        decay = min(self.decay, (1 + self.steps_) / (10 + self.steps_))
        with torch.no_grad():
            for key, value in net.module_.generator.state_dict().items():
                if value.is_floating_point():
                    self.average_[key].lerp_(value, 1 - decay)
                else:  # step counters
                    self.average_[key].copy_(value)

    def on_train_end(self, net, **kwargs):
        net.module_.generator.load_state_dict(self.average_)
        # the average is in the generator now; kept, it would double its weights in memory and
        # pickles
        self.average_ = None


class _BatchNormSafeSteps:
    """Train on a batch of one epoch by doubling it: batch-normalised generators need two."""

    def train_step(self, batch, **fit_params):
        real, yi = batch
        if len(real) == 1:
            real = torch.cat([real, real])
            yi = None if yi is None else torch.cat([yi, yi])
        return super().train_step((real, yi), **fit_params)


class GANGenerator(_BatchNormSafeSteps, SignalGenerator):
    """The seed's dense GAN (fully-connected generator and discriminator).

    The generator maps a 100-d Gaussian latent vector (plus a label embedding when fitted with
    ``y``) through dense layers of 256, 512 and 1024 units (batch norm, LeakyReLU) to one epoch
    of the training data's shape; the discriminator scores flattened epochs through dense
    layers of 512 and 256 units (LeakyReLU, dropout), with a projection term for the label.
    The data are standardised per channel for training and restored by :meth:`sample`.

    Parameters
    ----------
    module : type of torch.nn.Module, default=sigest.models.gan.DenseGAN
        Its parameters are reached as ``module__latent_dim``, ``module__hidden_g``,
        ``module__hidden_d``, ``module__dropout``, ``module__batch_norm``,
        ``module__post_filter`` (length of a learned FIR filter on the output; 0, the
        default, for none), ``module__spectral_critic`` (True: the discriminator also reads
        each epoch's log power spectrum), ``module__noise_floor`` (length of the learned
        filter of a coloured noise added to the output; 0, the default, for none) and
        ``module__synthesis`` ("waveform", the seed's linear output layer, or "spectral": the
        last layer chooses each epoch's amplitude spectrum and the epoch is a random draw with
        that spectrum, see :class:`sigest.models.gan.SpectralSynthesis`).
    line_freq : float or tuple of float, optional
        Mains frequencies in Hz (e.g. 50, or ``(50, 100)`` with a harmonic) whose interference
        the generator adds as steady sinusoids of learned amplitude and random phase
        (:class:`sigest.models.gan.LineNoise`); needs the sampling frequency (``sfreq`` or an
        mne object). None for none.
    lr : float, default=2e-4
        Learning rate of both optimizers (Adam with betas (0.5, 0.999), or (0.5, 0.9) with
        ``loss="wgan-gp"``, unless ``optimizer__betas`` is given).
    max_epochs : int, default=100
    batch_size : int, default=64
    loss : {"gan", "wgan-gp"}, default="gan"
        The seed's binary cross-entropy GAN, or WGAN-GP (then ``n_critic`` defaults to 5 and
        Adam's betas to (0.5, 0.9), the paper's; its lr is 1e-4).
    **kwargs
        Every other parameter of :class:`sigest.base.SignalGenerator` (``n_critic``,
        ``gp_weight``, ``sampling_strategy``, ``random_state``, ``verbose``, ...) and skorch's
        prefixed ones.

    Examples
    --------
    >>> import numpy as np
    >>> from sigest.estimators.generators import GANGenerator
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.standard_normal((60, 178)), np.repeat([0, 1], [50, 10])
    >>> gen = GANGenerator(max_epochs=2, random_state=0).fit(X, y)
    >>> gen.sample(4, y=1, random_state=0).shape
    (4, 178)
    >>> X_res, y_res = gen.fit_resample(X, y)
    >>> np.bincount(y_res).tolist()
    [50, 50]
    """

    def __init__(self, module=DenseGAN, *, lr=2e-4, max_epochs=100, batch_size=64, loss="gan",
                 line_freq=None, **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size, loss=loss,
                         **kwargs)
        self.line_freq = line_freq

    _inferred_module_params = SignalGenerator._inferred_module_params + ("line_cycles",)

    def _module_shape_kwargs(self):
        kwargs = super()._module_shape_kwargs()
        if self.line_freq is not None:
            kwargs["line_cycles"] = self._line_cycles()
        return kwargs

    def _line_cycles(self):
        freqs = self.line_freq if isinstance(self.line_freq, (tuple, list)) else [self.line_freq]
        if not freqs or not all(is_positive_real(f) for f in freqs):
            raise ValueError(f"line_freq must be a positive frequency in Hz, a tuple of them, or "
                             f"None; got {self.line_freq!r}")
        if self.sfreq_ is None:
            raise ValueError(f"line_freq={self.line_freq!r} needs the sampling frequency: pass "
                             f"sfreq= or an mne object; got neither")
        above = [f for f in freqs if f >= self.sfreq_ / 2]
        if above:
            raise ValueError(f"line_freq={self.line_freq!r} must lie below the Nyquist frequency "
                             f"{self.sfreq_ / 2:g} Hz of sfreq={self.sfreq_:g}; {above[0]!r} "
                             "would alias")
        return tuple(float(f) / self.sfreq_ for f in freqs)


class WaveGANGenerator(_BatchNormSafeSteps, SignalGenerator):
    """WaveGAN: transposed 1-D convolutions upsample a latent vector; a strided-conv critic.

    Sized for short EEG epochs (3 upsampling layers of stride 4, kernel 25: 192 samples cropped
    to the 178 of a UCI Bonn chunk); any other length works, the number of samples is inferred
    at ``fit`` and the generator's output cropped to it. The discriminator uses phase shuffle
    (random shifts of up to 2 samples between its layers). Class-conditional when fitted with
    ``y``.

    Parameters
    ----------
    module : type of torch.nn.Module, default=sigest.models.wavegan.WaveGAN
        Its parameters are reached as ``module__latent_dim``, ``module__model_size``,
        ``module__n_layers``, ``module__kernel_size``, ``module__stride``,
        ``module__upsample`` ("transpose" or "nearest"), ``module__phase_shuffle``,
        ``module__batch_norm``, ``module__dropout``, ``module__post_filter`` (length of
        WaveGAN's learned post-processing filter; 0, the default, for none),
        ``module__spectral_critic`` (True: the discriminator also reads each epoch's log power
        spectrum), ``module__noise_floor`` (length of the learned filter of a coloured noise
        added to the output; 0 for none) and ``module__random_crop`` (True: each epoch is cut
        from a longer output at a random offset, so no sample position is special).
    lr : float, default=2e-4
    max_epochs : int, default=100
    batch_size : int, default=64
    loss : {"gan", "wgan-gp"}, default="gan"
        WaveGAN's paper trains with WGAN-GP (``loss="wgan-gp"``, which sets ``n_critic=5`` and
        Adam's betas (0.5, 0.9) unless given; the paper's lr is 1e-4).
    **kwargs
        Every other parameter of :class:`sigest.base.SignalGenerator` and skorch's prefixed ones.

    Examples
    --------
    >>> import numpy as np
    >>> from sigest.estimators.generators import WaveGANGenerator
    >>> X = np.random.default_rng(0).standard_normal((40, 2, 178))
    >>> gen = WaveGANGenerator(max_epochs=1, loss="wgan-gp", random_state=0).fit(X)
    >>> gen.sample(3, random_state=0).shape
    (3, 2, 178)
    """

    def __init__(self, module=WaveGAN, *, lr=2e-4, max_epochs=100, batch_size=64, loss="gan",
                 **kwargs):
        super().__init__(module, lr=lr, max_epochs=max_epochs, batch_size=batch_size, loss=loss,
                         **kwargs)


# Module sizes stay at their defaults: module__* values given to __init__ become attributes that
# scikit-learn's check_no_attributes_set_in_init rejects. The default networks fit tiny data in
# well under a second per check anyway.
CHECK_PARAMS = {"max_epochs": 2, "batch_size": 16, "verbose": 0}


def register_estimators(register):
    register("gan", GANGenerator, task="generation",
             description="The seed's dense GAN (dense generator and discriminator); "
                         "class-conditional, GAN or WGAN-GP loss",
             check_params=CHECK_PARAMS)
    register("wavegan", WaveGANGenerator, task="generation",
             description="WaveGAN: transposed 1-D conv generator, strided-conv discriminator "
                         "with phase shuffle; class-conditional, GAN or WGAN-GP loss",
             check_params=CHECK_PARAMS)
