"""A recurrent core that reads a context vector at every step, chosen from its own previous state.

Show, Attend and Tell feeds the decoder [x_t ; z_t], where z_t = glimpse(h_{t-1}) is the attention
context. z_t depends on the previous step's output, so the recurrence runs one step at a time.
Each step uses the core's own weights (`weight_ih_l0` spans x and z) and the textbook cell of
`cells.py`, whichever backend holds the weights: parameter names, initialisation presets,
spectral radii and checkpoints are those of a plain `RecurrentCore` with input size D + C.

Gradient flow: the diagnostics' forward pre-hook sees x (B, T, D) in one piece, the decoder's
external input (the previous word's embedding). z_t is not an input from outside: it is computed
from h_{t-1} and the image, i.e. it is part of the recurrence, and gradients through it are
counted in ||dL_T / dx_t|| like any other path from step t to step T.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ..config import ConfigError, ModelConfig
from .cells import make_cell
from .recurrent import RecurrentCore

# h_{t-1} of the top layer (B, H) -> (context (B, C), attention weights (B, L))
Glimpse = Callable[[Tensor], tuple[Tensor, Tensor]]


class AttentiveCore(RecurrentCore):
    def __init__(self, cfg: ModelConfig, input_size: int, context_size: int) -> None:
        if cfg.bidirectional:
            raise ConfigError("a decoder reads left to right: turn bidirectional off")
        super().__init__(cfg, input_size + context_size)
        self.input_size, self.context_size = input_size, context_size
        self.cell = make_cell(cfg.arch)
        self.is_lstm = cfg.arch == "lstm"

    def forward(self, x: Tensor, state=None, glimpse: Glimpse | None = None):
        """x (B, T, D) -> hidden (B, T, H), final state, contexts (B, T, C), attention weights (B, T, L).

        state: (layers, B, H), or a pair of them for the LSTM; None = zeros."""
        if glimpse is None:
            raise TypeError("AttentiveCore needs a glimpse function (h_{t-1} -> context, weights)")
        batch = x.shape[0]
        if state is None:
            zeros = x.new_zeros(self.num_layers, batch, self.hidden_size)
            state = (zeros, zeros) if self.is_lstm else zeros
        hs = list(state[0].unbind(0)) if self.is_lstm else list(state.unbind(0))
        cs = list(state[1].unbind(0)) if self.is_lstm else [None] * self.num_layers
        weights = [self._weights(layer) for layer in range(self.num_layers)]
        w_ih0, _, b_ih0, _ = weights[0]
        x_proj = F.linear(x, w_ih0[:, : self.input_size], b_ih0)  # (B, T, gates*H): all steps in one product
        w_context = w_ih0[:, self.input_size:]  # the columns of W_ih that read z_t
        recorder = getattr(self.rnn, "recorder", None)
        dropout = self.rnn.dropout if self.training else 0.0
        outputs, contexts, attention = [], [], []
        for x_t in x_proj.unbind(1):
            context, alpha = glimpse(hs[-1])
            projected = x_t + F.linear(context, w_context)
            for layer, (w_ih, w_hh, b_ih, b_hh) in enumerate(weights):
                if layer > 0:
                    below = F.dropout(hs[layer - 1], dropout, training=True) if dropout else hs[layer - 1]
                    projected = F.linear(below, w_ih, b_ih)
                if self.is_lstm:
                    hs[layer], cs[layer] = self.cell.step(projected, (hs[layer], cs[layer]), w_hh, b_hh, recorder)
                else:
                    hs[layer] = self.cell.step(projected, hs[layer], w_hh, b_hh, recorder)
            outputs.append(hs[-1])
            contexts.append(context)
            attention.append(alpha)
        final = (torch.stack(hs), torch.stack(cs)) if self.is_lstm else torch.stack(hs)
        return torch.stack(outputs, 1), final, torch.stack(contexts, 1), torch.stack(attention, 1)

    def _weights(self, layer: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        rnn = self.rnn
        return (getattr(rnn, f"weight_ih_l{layer}"), getattr(rnn, f"weight_hh_l{layer}"),
                getattr(rnn, f"bias_ih_l{layer}"), getattr(rnn, f"bias_hh_l{layer}"))
