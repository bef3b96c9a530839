"""Long short-term memory (Hochreiter & Schmidhuber 1997, with a forget gate, Gers et al. 2000). Fused twin: nn.LSTM."""
from __future__ import annotations


import torch
from torch import Tensor, nn

from .base import Cell
from .spec import CellSpec

class LSTMCell(Cell):
    """Shapes: W_ih (4H, I), W_hh (4H, H), b_ih and b_hh (4H,), gate blocks in nn.LSTM's order i, f, g, o."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.add_gate_parameters(4)  # torch's layout and default init

    def step(self, projected: Tensor, state: tuple[Tensor, Tensor], recorder=None) -> tuple[Tensor, Tensor]:
        h, c = state  # (B, H), (B, H)
        pre = projected + h @ self.weight_hh.t() + self.bias_hh  # (B, 4H)
        pre_i, pre_f, pre_g, pre_o = pre.chunk(4, dim=1)  # each (B, H)
        i = torch.sigmoid(pre_i)  # input gate: how much of the candidate to write
        f = torch.sigmoid(pre_f)  # forget gate: how much old memory to keep (near 1 it carries c and its gradient)
        g = torch.tanh(pre_g)  # candidate: the new content proposed for the memory
        o = torch.sigmoid(pre_o)  # output gate: how much of tanh(c_t) to show as h_t
        c_next = f * c + i * g  # (B, H): keep part of the old memory, write part of the new
        h_next = o * torch.tanh(c_next)  # (B, H): expose part of the memory
        if recorder is not None:
            recorder.add("input", i)
            recorder.add("forget", f)
            recorder.add("output", o)
        return h_next, c_next


LSTM = CellSpec(
    name="lstm", title="LSTM (gate order i, f, g, o as in torch's nn.LSTM)", short="LSTM",
    equations=(
        r"i_t = \sigma\left(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}\right) \quad \text{input gate}",
        r"f_t = \sigma\left(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}\right) \quad \text{forget gate}",
        r"g_t = \tanh\left(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}\right) \quad \text{candidate}",
        r"o_t = \sigma\left(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}\right) \quad \text{output gate}",
        r"c_t = f_t \odot c_{t-1} + i_t \odot g_t",
        r"h_t = o_t \odot \tanh(c_t)",
    ),
    gradient=r"\frac{\partial c_t}{\partial c_{t-1}} = \operatorname{diag}(f_t) \;+\; \text{(terms through } h_{t-1}\text{)}",
    note="The cell state is updated additively: while the forget gate stays near 1, gradient flows back "
         "along c almost unchanged. The block radius shown is that of the candidate block W_hg alone; what "
         "gradients meet is the state Jacobian ∂(h, c)_t/∂(h, c)_{t-1}, whose radius and measured growth per "
         "step are shown beside it.",
    code="playground/models/cells/lstm.py, LSTMCell.step", gates=("input", "forget", "output"), state_parts=("h", "c"),
    blocks=4, recurrent_block=2, fused=nn.LSTM, cell=lambda input_size, hidden_size, options:
    LSTMCell(input_size, hidden_size))
