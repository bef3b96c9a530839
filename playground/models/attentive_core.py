"""A recurrent core that reads a context vector at every step, chosen from its own previous state.

Show, Attend and Tell feeds the decoder [x_t ; z_t], where z_t = glimpse(h_{t-1}) is the attention
context. z_t depends on the previous step's output, so the recurrence runs one step at a time.
Each step uses the core's own cells (`weight_ih_l0` spans x and z), run by the stack whatever the
backend setting (the steps are the same): parameter names, initialisation presets,
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
from .recurrent import RecurrentCore
from .stack import joined_state, state_parts

# h_{t-1} of the top layer (B, H) -> (context (B, C), attention weights (B, L))
Glimpse = Callable[[Tensor], tuple[Tensor, Tensor]]


class AttentiveCore(RecurrentCore):
    def __init__(self, cfg: ModelConfig, input_size: int, context_size: int) -> None:
        if cfg.bidirectional:
            raise ConfigError("a decoder reads left to right: turn bidirectional off")
        super().__init__(cfg, input_size + context_size, scratch_only=True)  # the cells, stepped one by one
        self.input_size, self.context_size = input_size, context_size
        # gate statistics only on the scratch backend, as for every other core (a fused config runs the same steps)
        self.records_gates = cfg.backend == "scratch"

    def record_gates(self, on: bool) -> bool:
        return super().record_gates(on) if self.records_gates else False

    def forward(self, x: Tensor, state=None, glimpse: Glimpse | None = None):
        """x (B, T, D) -> hidden (B, T, H), final state, contexts (B, T, C), attention weights (B, T, L).

        state: (layers, B, H), or a tuple of them for a cell with several state parts (the LSTM's (h, c)); None = zeros."""
        if glimpse is None:
            raise TypeError("AttentiveCore needs a glimpse function (h_{t-1} -> context, weights)")
        stack = self.rnn
        stack.constrain()
        if state is None:
            state = stack.zero_state(x.shape[0], x)
        parts = state_parts(state)
        layer_states = [joined_state(part[layer] for part in parts) for layer in range(self.num_layers)]
        cells = stack.cells
        x_proj = cells[0].project(x, slice(0, self.input_size))  # (B, T, rows): all steps in one product
        dropout = stack.dropout if self.training else 0.0
        outputs, contexts, attention = [], [], []
        for x_t in x_proj.unbind(1):
            context, alpha = glimpse(state_parts(layer_states[-1])[0])
            projected = x_t + cells[0].project(context, slice(self.input_size, None), bias=False)  # the columns reading z_t
            for layer, cell in enumerate(cells):
                if layer > 0:
                    below = state_parts(layer_states[layer - 1])[0]
                    below = F.dropout(below, dropout, training=True) if dropout else below
                    projected = cell.project(below)
                layer_states[layer] = cell.step(projected, layer_states[layer], stack.recorder)
            outputs.append(state_parts(layer_states[-1])[0])
            contexts.append(context)
            attention.append(alpha)
        final = joined_state(torch.stack(part) for part in zip(*(state_parts(s) for s in layer_states)))
        return torch.stack(outputs, 1), final, torch.stack(contexts, 1), torch.stack(attention, 1)
