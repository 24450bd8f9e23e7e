"""BG-Attention: bidirectional GRUs with multi-head self-attention for EEG denoising.

Wang W, Li B, Wang H. "A novel end-to-end network based on a bidirectional GRU and a
self-attention mechanism for denoising of electroencephalography signals", Neuroscience 505:
10-20 (2022). The paper's text was not reachable offline; the layer layout follows the public
Keras re-implementation ``UGeunJi/EEG_Denoising_using_BG-Attention`` (``Code/BG_Attention.py``,
trained by its ``Code/main.py`` in the EEGdenoiseNet framework: ``embedding = 16``, 2 heads,
RMSprop lr 5e-5, batch 40, 50 epochs):

- encoder: BiGRU(``hidden_size``) -> self-attention + residual + LayerNorm -> dense + residual
  + LayerNorm;
- decoder: BiGRU(2 * ``hidden_size``) -> the same attention block -> BiGRU(2 * ``hidden_size``)
  -> flatten -> dense projection to ``n_times`` samples.

Differences from that code: attention heads split the model width (PyTorch's
``nn.MultiheadAttention``) instead of Keras' separate 512-wide key projection per head, which
would cost ~30x more on a CPU; ``depth`` generalises the one encoder + one decoder stage.
"""

from torch import nn

from .eegdenoisenet import ChannelFolded


class AttentionBlock(nn.Module):
    """Self-attention + residual + LayerNorm, then dense + residual + LayerNorm."""

    def __init__(self, width, n_heads, dropout=0.0):
        super().__init__()
        self.attention = nn.MultiheadAttention(width, n_heads, dropout=dropout, batch_first=True)
        self.norm1 = nn.LayerNorm(width)
        self.dense = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)

    def forward(self, h):
        attended, _ = self.attention(h, h, h, need_weights=False)
        h = self.norm1(h + attended)
        return self.norm2(h + self.dense(h))


class BGAttention(ChannelFolded):
    """BG-Attention network: ``(batch, channels, times)`` -> same shape, channel by channel.

    Parameters
    ----------
    n_channels, n_times : int
        Epoch shape (channels are processed independently, as single-channel epochs).
    hidden_size : int, default=16
        Units per direction of the encoder BiGRU; the decoder BiGRUs have twice as many.
    n_heads : int, default=2
        Attention heads; must divide ``2 * hidden_size`` (and ``4 * hidden_size``).
    depth : int, default=2
        Number of BiGRU + attention-block stages (1 encoder stage + ``depth - 1`` decoder
        stages), before the last BiGRU and the dense projection.
    dropout : float, default=0.0
        Dropout on the attention weights.
    """

    def __init__(self, n_channels, n_times, hidden_size=16, n_heads=2, depth=2, dropout=0.0):
        super().__init__()
        if depth < 1:
            raise ValueError(f"depth must be at least 1; got {depth}")
        if (2 * hidden_size) % n_heads:
            raise ValueError(f"n_heads={n_heads} must divide the attention width "
                             f"2 * hidden_size = {2 * hidden_size}")
        self.grus = nn.ModuleList()
        self.blocks = nn.ModuleList()
        n_in = 1
        for stage in range(depth):
            units = hidden_size if stage == 0 else 2 * hidden_size
            self.grus.append(nn.GRU(n_in, units, batch_first=True, bidirectional=True))
            self.blocks.append(AttentionBlock(2 * units, n_heads, dropout))
            n_in = 2 * units
        self.last_gru = nn.GRU(n_in, 2 * hidden_size, batch_first=True, bidirectional=True)
        self.head = nn.Linear(4 * hidden_size * n_times, n_times)

    def denoise_1d(self, x):
        h = x.unsqueeze(-1)
        for gru, block in zip(self.grus, self.blocks):
            h, _ = gru(h)
            h = block(h)
        h, _ = self.last_gru(h)
        return self.head(h.flatten(1))
