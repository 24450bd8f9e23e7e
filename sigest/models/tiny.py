"""Small networks that prove the estimator bases and run sklearn's checks quickly."""

import torch
from torch import nn


class TinyConvDenoiser(nn.Module):
    """Two 1-D convolutions with a residual connection: (B, C, T) -> (B, C, T)."""

    def __init__(self, n_channels, n_times, n_filters=16, kernel_size=9):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(n_channels, n_filters, kernel_size, padding="same"),
            nn.ReLU(),
            nn.Conv1d(n_filters, n_channels, kernel_size, padding="same"),
        )

    def forward(self, x):
        return x - self.net(x)


class TinyConvClassifier(nn.Module):
    """A convolution, global average pooling and a linear layer: (B, C, T) -> (B, n_classes)."""

    def __init__(self, n_channels, n_times, n_classes, n_filters=8, kernel_size=7):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(n_channels, n_filters, kernel_size, padding="same"),
            nn.ReLU(),
        )
        self.head = nn.Linear(2 * n_filters, n_classes)

    def forward(self, x):
        h = self.features(x)
        pooled = torch.cat([h.mean(dim=-1), h.amax(dim=-1)], dim=1)
        return self.head(pooled)


class _DenseConditioned(nn.Module):
    """A one-hidden-layer dense network; a label embedding extends its input when conditional."""

    def __init__(self, n_in, n_out, hidden, n_classes, out_shape=None):
        super().__init__()
        extra = hidden // 4 if n_classes else 0
        self.embed = nn.Embedding(n_classes, extra) if n_classes else None
        self.net = nn.Sequential(
            nn.Linear(n_in + extra, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, n_out))
        self.out_shape = out_shape

    def forward(self, h, labels=None):
        h = h.flatten(1)
        if self.embed is not None and labels is not None:
            h = torch.cat([h, self.embed(labels)], dim=1)
        out = self.net(h)
        return out if self.out_shape is None else out.view(len(out), *self.out_shape)


class TinyMLPGAN(nn.Module):
    """A dense generator and discriminator, class-conditional when ``n_classes > 0``."""

    def __init__(self, n_channels, n_times, n_classes=0, latent_dim=16, hidden=64):
        super().__init__()
        self.latent_dim = latent_dim
        size = n_channels * n_times
        self.generator = _DenseConditioned(latent_dim, size, hidden, n_classes,
                                           out_shape=(n_channels, n_times))
        self.discriminator = _DenseConditioned(size, 1, hidden, n_classes)

    def forward(self, z, labels=None):
        return self.generator(z, labels)
