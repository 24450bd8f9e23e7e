"""Batch normalisation that also trains on a batch with one value per channel."""

from torch import nn
from torch.nn import functional as F


class BatchNorm1d(nn.BatchNorm1d):
    """:class:`torch.nn.BatchNorm1d` that accepts one value per channel in training mode.

    A last batch of one short epoch (one sample at the deepest level of a network, one frame of
    a spectrogram) has no spread to normalise by, and torch rejects it. Such a batch is
    normalised with the running statistics instead, which it leaves unchanged. The parameters
    and buffers are torch's, so saved weights load either way.
    """

    def forward(self, x):
        if self.training and self.track_running_stats and x.numel() == x.shape[1]:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                False, 0.0, self.eps)
        return super().forward(x)
