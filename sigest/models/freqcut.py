"""Parallel frequency-cut attention sleep stager (after Chen et al., IEEE TNSRE 2023).

An EEG epoch becomes a log-magnitude spectrogram with 1-s time bins up to ``fmax`` Hz; the
spectrogram is cut along frequency into patches of ``freq_patch`` bins x 1 s, and every patch
(all channels together) is one token of a vision-transformer encoder: linear patch embedding,
learned position embedding, a class token, a pre-norm transformer, and a class head on the
class token. The sequence variant (``n_context > 0``) encodes each of the ``2 n_context + 1``
neighbouring epochs with the same epoch encoder and lets a small transformer over their class
tokens stage the centre epoch.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .batchnorm import BatchNorm1d


class _FeedForward(nn.Sequential):
    def __init__(self, dim, hidden, dropout):
        super().__init__(nn.LayerNorm(dim), nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout),
                         nn.Linear(hidden, dim), nn.Dropout(dropout))


class _Attention(nn.Module):
    """Multi-head self-attention with ``heads * dim_head`` inner width (pre-norm)."""

    def __init__(self, dim, heads, dim_head, dropout):
        super().__init__()
        inner = heads * dim_head
        self.heads = heads
        self.norm = nn.LayerNorm(dim)
        self.to_qkv = nn.Linear(dim, 3 * inner, bias=False)
        self.dropout = dropout
        self.to_out = nn.Sequential(nn.Linear(inner, dim), nn.Dropout(dropout))

    def forward(self, x):
        b, n, _ = x.shape
        q, k, v = self.to_qkv(self.norm(x)).chunk(3, dim=-1)
        q, k, v = (t.view(b, n, self.heads, -1).transpose(1, 2) for t in (q, k, v))
        out = nn.functional.scaled_dot_product_attention(
            q, k, v, dropout_p=self.dropout if self.training else 0.0)
        return self.to_out(out.transpose(1, 2).reshape(b, n, -1))


class PreNormTransformer(nn.Module):
    """``depth`` blocks of pre-norm attention and MLP with residuals, then a LayerNorm."""

    def __init__(self, dim, depth, heads, dim_head, mlp_dim, dropout=0.0):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.ModuleList([_Attention(dim, heads, dim_head, dropout),
                           _FeedForward(dim, mlp_dim, dropout)])
            for _ in range(depth)
        )
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        for attention, feed_forward in self.layers:
            x = x + attention(x)
            x = x + feed_forward(x)
        return self.norm(x)


def spectrogram_size(n_times, sfreq, window_seconds=1.0, fmax=30.0):
    """``(n_freqs, n_frames)`` of the stager's spectrogram of one epoch of ``n_times`` samples."""
    n_fft = max(int(round(sfreq * window_seconds)), 2)
    n_freqs = min(int(math.floor(fmax * n_fft / sfreq)) + 1, n_fft // 2 + 1)
    n_frames = max(n_times // n_fft, 1)
    return n_freqs, n_frames


class FreqCutAttention(nn.Module):
    """Frequency-cut attention stager: (B, C, T) epochs -> (B, n_classes) logits.

    Parameters
    ----------
    n_channels, n_times, n_classes : int
        Input channels, samples of ONE epoch, and stages.
    sfreq : float, default=100.0
        Sampling rate of the raw epochs (sets the spectrogram's 1-s bins).
    window_seconds : float, default=1.0
        Length of the non-overlapping STFT windows = time width of a patch.
    fmax : float, default=30.0
        Highest frequency kept.
    freq_patch : int, default=4
        Frequency bins per patch (the spectrogram is zero-padded to a multiple).
    dim, depth, heads, dim_head, mlp_dim : int, default=128, 8, 12, 16, 256
        Width, blocks, attention heads and their size, and MLP width of the epoch encoder.
    dropout : float, default=0.1
    n_context : int, default=0
        Neighbouring epochs on each side (0: single-epoch model). The input then holds
        ``2 n_context + 1`` consecutive epochs along time: ``(B, C, (2 n_context + 1) n_times)``.
    context_depth : int, default=2
        Blocks of the sequence transformer over epoch embeddings (``n_context > 0``).
    pool : {"cls", "mean"}, default="cls"
        Epoch embedding: the class token (the paper's) or the mean of the patch tokens.
    spectrogram_shape : tuple of int or None, default=None
        ``(n_freqs, n_frames)`` when the input is already a spectrogram per epoch (e.g. from
        :class:`sigest.preprocessing.STFT`), flattened to ``(B, C, n_freqs * n_frames)``
        (times ``2 n_context + 1`` along the last axis); None computes a log-magnitude
        spectrogram with :func:`torch.stft`.
    """

    def __init__(self, n_channels, n_times, n_classes, *, sfreq=100.0, window_seconds=1.0,
                 fmax=30.0, freq_patch=4, dim=128, depth=8, heads=12, dim_head=16, mlp_dim=256,
                 dropout=0.1, n_context=0, context_depth=2, pool="cls", spectrogram_shape=None):
        super().__init__()
        if pool not in ("cls", "mean"):
            raise ValueError(f"pool must be 'cls' or 'mean'; got {pool!r}")
        self.pool = pool
        self.n_channels = n_channels
        self.n_times = n_times
        self.sfreq = float(sfreq)
        self.n_fft = max(int(round(self.sfreq * window_seconds)), 2)
        self.n_context = int(n_context)
        self.spectrogram_shape = None if spectrogram_shape is None else tuple(spectrogram_shape)
        if self.spectrogram_shape is None:
            if n_times < self.n_fft:
                raise ValueError(f"FreqCutAttention needs epochs of at least one window "
                                 f"({self.n_fft} samples at {sfreq} Hz); got n_times={n_times}")
            n_freqs, n_frames = spectrogram_size(n_times, self.sfreq, window_seconds, fmax)
        else:
            n_freqs, n_frames = self.spectrogram_shape
        self.n_freqs, self.n_frames = n_freqs, n_frames
        self.freq_patch = int(freq_patch)
        self.n_freq_patches = -(-n_freqs // self.freq_patch)
        patch_dim = n_channels * self.freq_patch
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)
        # standardises every (channel, frequency) row of the log spectrogram with statistics of
        # the training data (absolute power matters for sleep stages, so no per-patch
        # normalisation); the input is not learned, so a cumulative average (momentum=None)
        # gives exact running statistics after any number of batches
        self.input_norm = BatchNorm1d(n_channels * n_freqs, momentum=None)
        self.to_patch_embedding = nn.Linear(patch_dim, dim)
        n_tokens = self.n_freq_patches * n_frames
        self.pos_embedding = nn.Parameter(torch.randn(1, n_tokens + 1, dim) * 0.02)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.dropout = nn.Dropout(dropout)
        self.encoder = PreNormTransformer(dim, depth, heads, dim_head, mlp_dim, dropout)
        if self.n_context > 0:
            n_seq = 2 * self.n_context + 1
            self.seq_pos_embedding = nn.Parameter(torch.randn(1, n_seq, dim) * 0.02)
            self.seq_encoder = PreNormTransformer(dim, context_depth, heads, dim_head, mlp_dim,
                                                  dropout)
        self.head = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, n_classes))

    def spectrogram(self, x):
        """Log-magnitude spectrogram (B, C, n_freqs, n_frames) of raw epochs (B, C, T)."""
        b, c, t = x.shape
        usable = self.n_frames * self.n_fft
        frames = x[..., :usable].reshape(b, c, self.n_frames, self.n_fft)
        frames = frames - frames.mean(dim=-1, keepdim=True)
        spec = torch.fft.rfft(frames * self.window, dim=-1).abs()[..., :self.n_freqs]
        return torch.log1p(spec).transpose(-1, -2)

    def encode_epoch(self, spec):
        """Embedding (B, dim) of spectrograms (B, C, n_freqs, n_frames)."""
        b, c, f, t = spec.shape
        spec = self.input_norm(spec.reshape(b, c * f, t)).view(b, c, f, t)
        pad = self.n_freq_patches * self.freq_patch - f
        if pad:
            spec = nn.functional.pad(spec, (0, 0, 0, pad))
        # (B, C, Pf, p, T) -> tokens (B, Pf * T, C * p): one token per frequency patch and second
        patches = spec.view(b, c, self.n_freq_patches, self.freq_patch, t)
        patches = patches.permute(0, 2, 4, 1, 3).reshape(b, self.n_freq_patches * t,
                                                         c * self.freq_patch)
        tokens = self.to_patch_embedding(patches)
        tokens = torch.cat([self.cls_token.expand(b, -1, -1), tokens], dim=1)
        tokens = self.dropout(tokens + self.pos_embedding)
        encoded = self.encoder(tokens)
        return encoded[:, 0] if self.pool == "cls" else encoded[:, 1:].mean(dim=1)

    def forward(self, x):
        b, c = x.shape[:2]
        n_seq = 2 * self.n_context + 1
        if self.spectrogram_shape is None:
            epochs = x.reshape(b, c, n_seq, -1).transpose(1, 2).reshape(b * n_seq, c, -1)
            spec = self.spectrogram(epochs)
        else:
            f, t = self.spectrogram_shape
            spec = x.reshape(b, c, n_seq, f, t).transpose(1, 2).reshape(b * n_seq, c, f, t)
        emb = self.encode_epoch(spec)
        if self.n_context > 0:
            seq = emb.view(b, n_seq, -1) + self.seq_pos_embedding
            emb = self.seq_encoder(seq)[:, self.n_context]
        return self.head(emb)
