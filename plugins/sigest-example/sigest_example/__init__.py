"""A minimal sigest plugin: one learned FIR-filter denoiser."""

from torch import nn

from sigest import SignalDenoiser, hookimpl


class FIRFilter(nn.Module):
    """One learned FIR filter shared by all channels: (B, C, T) -> (B, C, T)."""

    def __init__(self, n_channels, n_times, n_taps=33):
        super().__init__()
        self.fir = nn.Conv1d(1, 1, n_taps, padding="same", bias=False)

    def forward(self, x):
        b, c, t = x.shape
        return self.fir(x.reshape(b * c, 1, t)).reshape(b, c, t)


class FIRDenoiser(SignalDenoiser):
    """A denoiser that learns one FIR filter (``module__n_taps`` taps).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.sin(np.linspace(0, 60, 256))[None].repeat(16, 0)
    >>> FIRDenoiser(max_epochs=2, random_state=0).fit(X).transform(X).shape
    (16, 256)
    """

    def __init__(self, module=FIRFilter, *, lr=1e-2, **kwargs):
        super().__init__(module, lr=lr, **kwargs)


@hookimpl
def sigest_register_estimators(register):
    register("example-fir-denoiser", FIRDenoiser, task="denoising",
             description="A learned FIR filter (the example plugin)",
             check_params={"max_epochs": 2, "batch_size": 16})
