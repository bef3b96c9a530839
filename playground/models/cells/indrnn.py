"""The independently recurrent neural network (IndRNN, Li, Li, Cook, Zhu & Gao 2018).

    h_t = ReLU(W_ih x_t + b_ih + u ⊙ h_{t-1})        u: one recurrent weight per unit (a vector, stored as weight_hh)

Each unit only feeds itself back, so its gradient over k steps is u_n^k times ReLU's 0/1 derivatives:
it explodes where |u_n| > 1 and vanishes where |u_n| < 1, one unit at a time. Li et al. (section 3.2)
bound |u_n| <= gamma^(1/T), so that no unit's gradient grows by more than gamma over T steps. Here
gamma = 2 and T = HORIZON = 1000 steps (longer than any task's sequences): |u_n| <= 2^(1/1000) ≈ 1.0007.

How the bound is kept: as in the paper, by projection after the optimiser's step (clipping u into
[-U_MAX, U_MAX]) rather than by a reparametrisation such as U_MAX * tanh(w): the stored weight_hh is
then u itself, so the spectral radius shown (max |u_n|, the radius of diag(u)) and the weight readouts
mean what they say, and the optimiser's update inside the bound is the plain one. The projection runs at
the start of the next forward pass (`constrain`, called by the stack), so the trainer needs no hook; it
writes only when some |u_n| is outside the bound, so a forward that reuses the cell many times (a
decoder run step by step) never modifies a weight its autograd graph has saved.

No fused twin in torch: the scratch backend only; a test checks the step against a reference written
out in the test itself.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .base import Cell
from .spec import CellSpec

GAMMA = 2.0  # the largest growth of one unit's gradient allowed over HORIZON steps
HORIZON = 1000  # time steps the bound is meant for
U_MAX = GAMMA ** (1.0 / HORIZON)  # the bound on |u_n|


class IndRNNCell(Cell):
    """Shapes: W_ih (H, I), u = weight_hh (H,), b_ih (H,). One bias, as in the paper."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        bound = 1.0 / math.sqrt(hidden_size)  # torch's default for the input weights and the bias
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size).uniform_(-bound, bound))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size).uniform_(0.0, 1.0))  # u in [0, 1), as Li et al. start
        self.bias_ih = nn.Parameter(torch.empty(hidden_size).uniform_(-bound, bound))

    def step(self, projected: Tensor, h: Tensor, recorder=None) -> Tensor:
        return torch.relu(projected + self.weight_hh * h)  # (B, H): each unit reads only its own past

    @torch.no_grad()
    def constrain(self) -> None:
        if bool((self.weight_hh.abs() > U_MAX).any()):
            self.weight_hh.clamp_(-U_MAX, U_MAX)


INDRNN = CellSpec(
    name="indrnn", title="IndRNN (independently recurrent: one recurrent weight per unit, |u| bounded)",
    short="IndRNN",
    equations=(r"h_t = \max\left(0,\; W_{ih} x_t + b_{ih} + u \odot h_{t-1}\right), \qquad "
               r"|u_n| \le 2^{1/1000}",),
    gradient=r"\frac{\partial h_{t,n}}{\partial h_{t-1,n}} = u_n \, \mathbb{1}[h_{t,n} > 0]",
    note="Each unit feeds back only into itself, so its gradient over k steps is u_n^k (where the unit is "
         "active): bounding |u_n| by 2^(1/1000) keeps it from growing more than 2x over 1,000 steps, and u_n near "
         "1 keeps it from vanishing. The spectral radius shown is max |u_n|, that of diag(u).",
    code="playground/models/cells/indrnn.py, IndRNNCell.step", read_recurrent=torch.diag, radius_bound=U_MAX,
    settings=("layers", "hidden", "embedding", "dropout", "bidirectional", "init", "spectral_radius"),
    cell=lambda input_size, hidden_size, options: IndRNNCell(input_size, hidden_size))
