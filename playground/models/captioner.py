"""Image captioner: a small CNN encoder and a recurrent decoder, with optional soft attention.

    image (B, 3, S, S) --CNN--> grid of features (B, L, F), L = (S/8)^2
    h_0 (and c_0) = tanh(W mean_i f_i)                       the decoder starts from the mean feature
                                                             (batch-normalised without attention)
    attention "none":  h_t = core(embed(y_{t-1}), h_{t-1});           p(y_t) = softmax(W_o h_t)
    attention "soft":  z_t = attend(h_{t-1}, grid)  (soft_attention.py)
                       h_t = core([embed(y_{t-1}); z_t], h_{t-1});    p(y_t) = softmax(W_o [h_t; z_t])

Batches hold `images` (B, 3, S, S) floats, `x` (B, T) = <bos> + words and `y` (B, T) = words + <eos>,
padded with id 0, which the loss ignores. `model.core` is the decoder's recurrent core; its input,
the embedding of the previous word, is the x_t of the gradient-flow probe.
"""
from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import ConfigError, ModelConfig
from .attentive_core import AttentiveCore
from .attention_readouts import AttentionMaps, attention_readouts
from .base import ModelOutput, SequenceModel
from .inference import evaluating
from .recurrent import RecurrentCore
from .stack import joined_state
from .soft_attention import SoftAttention

CHANNELS = (16, 32, 64)  # channels of the three conv blocks; the last is the feature size F
CAPTION_ATTENTIONS = ("none", "soft")


class ConvEncoder(nn.Module):
    """(B, 3, S, S) -> (B, (S/8)^2, F): a 3x3 conv with stride 2, then two blocks of 3x3 conv and
    2x2 max-pool, each conv followed by a ReLU. The strided first layer keeps the full-resolution
    work small (it is most of a CPU step); scenes are flat colours, so little is lost.

    Two coordinate channels (x and y in [-1, 1]) join the RGB input (CoordConv, Liu et al. 2018),
    so features know where they are: the mean feature can then tell "red on top" from "red below".
    """

    def __init__(self, channels: tuple[int, int, int] = CHANNELS) -> None:
        super().__init__()
        first, second, third = channels
        self.blocks = nn.Sequential(
            nn.Conv2d(3 + 2, first, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(first, second, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(second, third, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.out_channels = third
        self.downsample = 8  # one stride-2 conv and two 2x2 pools

    def forward(self, images: Tensor) -> Tensor:
        batch, _, height, width = images.shape
        ys = torch.linspace(-1, 1, height, device=images.device).view(1, 1, height, 1).expand(batch, 1, height, width)
        xs = torch.linspace(-1, 1, width, device=images.device).view(1, 1, 1, width).expand(batch, 1, height, width)
        grid = self.blocks(torch.cat([images, xs, ys], dim=1))  # (B, F, S/8, S/8)
        return grid.flatten(2).transpose(1, 2)  # (B, L, F), locations in row-major order


class Memory(NamedTuple):
    """What the decoder reads about an image: its feature grid and (with attention) the projected keys."""

    features: Tensor  # (B, L, F)
    keys: Tensor | None  # (B, L, A) or None without attention

    def select(self, index: Tensor) -> "Memory":
        return Memory(self.features.index_select(0, index),
                      None if self.keys is None else self.keys.index_select(0, index))


class Captioner(SequenceModel):
    def __init__(self, cfg: ModelConfig, spec: dict) -> None:
        super().__init__()
        if cfg.bidirectional:
            raise ConfigError("a caption decoder writes left to right: turn bidirectional off for captioning")
        if cfg.attention not in CAPTION_ATTENTIONS:
            choices = " or ".join(CAPTION_ATTENTIONS)
            raise ConfigError(f"captioning supports attention {choices} (got {cfg.attention!r})")
        decoder_cfg = replace(cfg, arch=cfg.decoder_arch or cfg.arch)
        self.arch = decoder_cfg.arch
        self.pad, self.bos, self.eos = spec["pad_id"], spec["bos_id"], spec["eos_id"]
        self.max_words = spec["max_words"]  # longest caption the grammar writes
        self.encoder = ConvEncoder()
        side = spec["image_size"] // self.encoder.downsample
        self.grid_shape = (side, side)  # attention weights reshape to this (rows, columns)
        features = self.encoder.out_channels
        self.embed = nn.Embedding(spec["vocab_size"], cfg.embedding, padding_idx=self.pad)
        self.uses_attention = cfg.attention == "soft"
        if self.uses_attention:
            self.core = AttentiveCore(decoder_cfg, cfg.embedding, features)
            self.attention = SoftAttention(features, cfg.hidden, cfg.hidden)
        else:
            self.core = RecurrentCore(decoder_cfg, cfg.embedding)
        self.state_parts = len(self.core.state_parts)  # h, or (h, c) for an LSTM decoder
        # Without attention h_0 is the decoder's only view of the image. The mean feature is mostly
        # background and differs little between images, so it is standardised over the batch: without
        # that the tanh saturated on a constant and the decoder never read the image (it stayed at the
        # grammar's loss). With attention h_0 stays Show, Attend and Tell's plain tanh(W mean): there the
        # standardised summary let the decoder write the first shape from memory, and the attention on
        # a colour word's shape fell from 0.99 to 0.50 of the words.
        self.mean_norm = nn.Identity() if self.uses_attention else nn.BatchNorm1d(features)
        self.init_state = nn.Linear(features, self.state_parts * cfg.layers * cfg.hidden)
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden + (features if self.uses_attention else 0), spec["vocab_size"])

    # -- the pieces ---------------------------------------------------------------------------------
    def encode(self, images: Tensor) -> Memory:
        features = self.encoder(images)
        return Memory(features, self.attention.keys(features) if self.uses_attention else None)

    def initial_state(self, memory: Memory):
        """h_0 (and c_0) for every layer from the mean feature: (layers, B, H), or a tuple for a cell with several parts."""
        batch = memory.features.shape[0]
        start = torch.tanh(self.init_state(self.mean_norm(memory.features.mean(dim=1))))  # (B, parts*layers*H)
        start = start.view(batch, self.state_parts, self.core.num_layers, self.core.hidden_size)
        start = start.permute(1, 2, 0, 3).contiguous()  # (parts, layers, B, H)
        return joined_state(start.unbind(0))

    def decode(self, words: Tensor, state, memory: Memory) -> tuple[Tensor, object, Tensor | None]:
        """Word ids (B, T) read from `state` -> logits (B, T, V), next state, attention (B, T, L) or None."""
        embedded = self.embed(words)  # (B, T, E)
        if self.uses_attention:
            def glimpse(query: Tensor):
                return self.attention(query, memory.features, memory.keys)

            hidden, state, contexts, weights = self.core(embedded, state, glimpse=glimpse)
            hidden = torch.cat([hidden, contexts], dim=-1)  # (B, T, H + F)
        else:
            hidden, state = self.core(embedded, state)
            weights = None
        return self.head(self.drop(hidden)), state, weights

    # -- the model contract ---------------------------------------------------------------------------
    def forward(self, batch: dict[str, Tensor], state=None) -> ModelOutput:
        """Teacher forcing: the decoder reads the true previous word, except where an optional `forced`
        (B, T) bool mask is False: there it reads its own previous prediction. `state` is unused
        (every caption starts from its own image)."""
        memory = self.encode(batch["images"])
        forced = batch.get("forced")
        if forced is None or bool(forced.all()):
            logits, _, _ = self.decode(batch["x"], self.initial_state(memory), memory)  # all steps at once
        else:
            logits = self.decode_scheduled(batch["x"], forced, memory)
        loss = None
        if "y" in batch:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch["y"].reshape(-1), ignore_index=self.pad)
        return ModelOutput(logits, loss, None)

    def decode_scheduled(self, words: Tensor, forced: Tensor, memory: Memory) -> Tensor:
        """Logits (B, T, V), one step at a time; step t reads words[:, t] where forced[:, t], else the
        argmax of step t-1 (an integer choice: no gradient flows through it)."""
        state, token, steps = self.initial_state(memory), words[:, 0], []
        for t in range(words.shape[1]):
            if t > 0:
                token = torch.where(forced[:, t], words[:, t], steps[-1][:, -1].argmax(-1))
            logits, state, _ = self.decode(token[:, None], state, memory)
            steps.append(logits)
        return torch.cat(steps, dim=1)

    def last_step_loss(self, batch: dict[str, Tensor]) -> Tensor:
        """The loss at each caption's last real word (not <eos>, not padding): the probe's L_T."""
        logits = self.forward({"images": batch["images"], "x": batch["x"]}).logits  # (B, T, V)
        is_word = batch["y"] > self.eos  # (B, T)
        positions = torch.arange(is_word.shape[1], device=is_word.device).expand_as(is_word)
        last = torch.where(is_word, positions, -1).max(dim=1).values  # (B,)
        rows = torch.arange(logits.shape[0], device=logits.device)
        return F.cross_entropy(logits[rows, last], batch["y"][rows, last])

    @torch.no_grad()
    def attention_maps_of(self, batch: dict[str, Tensor]) -> AttentionMaps | None:
        if not self.uses_attention:
            return None
        with evaluating(self):
            weights = self.attention_maps(batch)
        keys = torch.ones(weights.shape[0], weights.shape[2], dtype=torch.bool, device=weights.device)
        return AttentionMaps(weights, batch["y"] != self.pad, keys, ordered=False)  # a grid: no "forward"

    def diagnostics(self, probe: dict[str, Tensor]) -> dict:
        return attention_readouts(self.attention_maps_of(probe))

    def attention_maps(self, batch: dict[str, Tensor]) -> Tensor:
        """Teacher-forced attention weights (B, T, L) for the words of `batch` (soft attention only)."""
        if not self.uses_attention:
            raise ConfigError("this captioner has no attention (attention = none)")
        memory = self.encode(batch["images"])
        return self.decode(batch["x"], self.initial_state(memory), memory)[2]
