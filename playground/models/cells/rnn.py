"""The Elman RNN (tanh or ReLU): h_t = phi(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh). Fused twin: nn.RNN."""
from __future__ import annotations


import torch
from torch import Tensor, nn

from .base import Cell
from .spec import CellSpec

class RNNCell(Cell):
    """Shapes: W_ih (H, I), W_hh (H, H), b_ih and b_hh (H,), as in nn.RNN."""

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh") -> None:
        super().__init__(input_size, hidden_size)
        self.phi = {"tanh": torch.tanh, "relu": torch.relu}[nonlinearity]
        self.add_gate_parameters(1)  # torch's layout and default init

    def step(self, projected: Tensor, h: Tensor, recorder=None) -> Tensor:
        # projected: (B, H)   h: (B, H)
        return self.phi(projected + h @ self.weight_hh.t() + self.bias_hh)  # (B, H)


RNN_TANH = CellSpec(
    name="rnn-tanh", title="Vanilla RNN (tanh)", short="RNN (tanh)",
    equations=(r"h_t = \tanh\left(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}\right)",),
    gradient=r"\frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}\left(1 - h_t^{2}\right) W_{hh}",
    note="The gradient reaching k steps back is a product of k such Jacobians. |tanh'| ≤ 1, so when the largest "
         "singular value of W_hh is below 1 every factor shrinks it and it vanishes geometrically (Pascanu et al. "
         "2013). A spectral radius ρ(W_hh) below 1 is not enough: for a non-normal W_hh the product can grow for "
         "many steps (ρ > 1 is needed only for it to explode). Gradients shows the measured Jacobian radius and "
         "growth per step.",
    code="playground/models/cells/rnn.py, RNNCell.step", fused=nn.RNN, fused_kwargs={"nonlinearity": "tanh"},
    cell=lambda input_size, hidden_size, options: RNNCell(input_size, hidden_size, "tanh"))

RNN_RELU = CellSpec(
    name="rnn-relu", title="Vanilla RNN (ReLU)", short="RNN (ReLU)",
    equations=(r"h_t = \max\left(0,\; W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}\right)",),
    gradient=r"\frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}\left(\mathbb{1}[h_t > 0]\right) W_{hh}",
    note="ReLU does not squash, but it switches units off (ReLU' = 0), and each Jacobian keeps only the active "
         "units' rows. A random W_hh at ρ = 1.2 therefore still decays, by about 0.94 per step in the lab (about half "
         "the units are off). With W_hh = I (IRNN) the factors start near 1, and the first large updates make "
         "the product explode: the clipping twins, where only the clipped twin survives.",
    code="playground/models/cells/rnn.py, RNNCell.step", fused=nn.RNN, fused_kwargs={"nonlinearity": "relu"},
    cell=lambda input_size, hidden_size, options: RNNCell(input_size, hidden_size, "relu"))
