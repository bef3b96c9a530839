"""The minimal gated unit (MGU, Zhou, Wu, Zhang & Zhou 2016): a GRU whose reset and update gates are one gate.

    f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)              forget gate
    n_t = tanh(W_in x_t + b_in + W_hn (f_t ⊙ h_{t-1}) + b_hn)         candidate
    h_t = (1 - f_t) ⊙ h_{t-1} + f_t ⊙ n_t

Two gate blocks (f, n) in torch's layout, W_ih (2H, I), W_hh (2H, H), b_ih and b_hh (2H,), so the
init presets and the spectral-radius readout treat it like a GRU with one block fewer. No fused twin
in torch: the scratch backend only; a test checks the step against a reference written in the test.
"""
from __future__ import annotations


import torch
from torch import Tensor, nn

from .base import Cell
from .spec import CellSpec


class MGUCell(Cell):
    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.add_gate_parameters(2)  # torch's layout and default init

    def step(self, projected: Tensor, h: Tensor, recorder=None) -> Tensor:
        x_f, x_n = projected.chunk(2, dim=1)  # each (B, H)
        w_f, w_n = self.weight_hh.chunk(2, dim=0)  # each (H, H)
        b_f, b_n = self.bias_hh.chunk(2)
        f = torch.sigmoid(x_f + h @ w_f.t() + b_f)  # forget gate: how much of the state to rewrite
        n = torch.tanh(x_n + (f * h) @ w_n.t() + b_n)  # candidate, from the part of the old state f lets through
        if recorder is not None:
            recorder.add("forget", f)
        return (1 - f) * h + f * n  # (B, H): near f = 0 the state, and its gradient, is copied across the step


MGU = CellSpec(
    name="mgu", title="Minimal gated unit (one forget gate does a GRU's reset and update)", short="MGU",
    equations=(
        r"f_t = \sigma\left(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}\right) \quad \text{forget gate}",
        r"n_t = \tanh\left(W_{in} x_t + b_{in} + W_{hn} (f_t \odot h_{t-1}) + b_{hn}\right) \quad \text{candidate}",
        r"h_t = (1 - f_t) \odot h_{t-1} + f_t \odot n_t",
    ),
    gradient=r"\frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}(1 - f_t) \;+\; \text{(terms through } f_t, n_t\text{)}",
    note="Where the forget gate f is near 0 the state, and its gradient, is copied across the step, as where a "
         "GRU's update gate is near 1. The block radius shown is that of the candidate block W_hn alone; the state "
         "Jacobian ∂h_t/∂h_{t-1} (its radius and measured growth per step beside it) is what gradients meet.",
    code="playground/models/cells/mgu.py, MGUCell.step", gates=("forget",), blocks=2, recurrent_block=1,
    settings=("layers", "hidden", "embedding", "dropout", "bidirectional", "init", "spectral_radius"),
    cell=lambda input_size, hidden_size, options: MGUCell(input_size, hidden_size))
