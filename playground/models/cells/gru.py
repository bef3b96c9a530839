"""Gated recurrent unit (Cho et al. 2014), in torch's variant: r gates W_hn h before it is added. Fused twin: nn.GRU."""
from __future__ import annotations


import torch
from torch import Tensor, nn

from .base import Cell
from .spec import CellSpec

class GRUCell(Cell):
    """Shapes: W_ih (3H, I), W_hh (3H, H), b_ih and b_hh (3H,), gate blocks in nn.GRU's order r, z, n."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.add_gate_parameters(3)  # torch's layout and default init

    def step(self, projected: Tensor, h: Tensor, recorder=None) -> Tensor:
        x_r, x_z, x_n = projected.chunk(3, dim=1)  # each (B, H)
        h_r, h_z, h_n = (h @ self.weight_hh.t() + self.bias_hh).chunk(3, dim=1)  # each (B, H)
        r = torch.sigmoid(x_r + h_r)  # reset gate: how much of the old state feeds the candidate
        z = torch.sigmoid(x_z + h_z)  # update gate: how much of the old state to keep (near 1 it copies h and its gradient)
        n = torch.tanh(x_n + r * h_n)  # candidate: the proposed new state
        if recorder is not None:
            recorder.add("reset", r)
            recorder.add("update", z)
        return (1 - z) * n + z * h  # (B, H): interpolate between the new content and the old state


GRU = CellSpec(
    name="gru", title="GRU (torch's variant: r gates W_hn h before it is added)", short="GRU",
    equations=(
        r"r_t = \sigma\left(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}\right) \quad \text{reset gate}",
        r"z_t = \sigma\left(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}\right) \quad \text{update gate}",
        r"n_t = \tanh\left(W_{in} x_t + b_{in} + r_t \odot \left(W_{hn} h_{t-1} + b_{hn}\right)\right) \quad \text{candidate}",
        r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}",
    ),
    gradient=r"\frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}(z_t) \;+\; \text{(terms through } r_t, z_t, n_t\text{)}",
    note="Where the update gate z is near 1 the state, and its gradient, is copied across the step. "
         "The block radius shown is that of the candidate block W_hn alone; the state Jacobian ∂h_t/∂h_{t-1} "
         "(its radius and measured growth per step beside it) is what gradients meet.",
    code="playground/models/cells/gru.py, GRUCell.step", gates=("reset", "update"), blocks=3, recurrent_block=2,
    fused=nn.GRU, cell=lambda input_size, hidden_size, options: GRUCell(input_size, hidden_size))
