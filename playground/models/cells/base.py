"""What every cell module is: one layer and one direction of a recurrence, owning its parameters.

A cell names its tensors as torch's nn.RNNCell / nn.LSTMCell / nn.GRUCell do (`weight_ih`, `weight_hh`,
`bias_ih`, `bias_hh`), so the stack (models/stack.py) can expose them as nn.RNN / nn.LSTM / nn.GRU
name theirs (`weight_ih_l0`, `weight_hh_l1_reverse`, ...) and checkpoints move between the backends.

A step is split in two, as the fused kernels do it: `project(x)` is the input's share of every step
(one matrix product for all time steps at once), `step(projected, state)` the recurrence itself.
A state is one tensor (B, H) for a cell whose spec has one state part, else a tuple of them.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class Cell(nn.Module):
    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size

    def add_gate_parameters(self, blocks: int) -> None:
        """W_ih (blocks*H, I), W_hh (blocks*H, H), b_ih and b_hh (blocks*H,), drawn in that order with torch's
        default init (uniform in +-1/sqrt(H)), as nn.RNN / nn.LSTM / nn.GRU draw theirs."""
        rows, bound = blocks * self.hidden_size, 1.0 / math.sqrt(self.hidden_size)
        for name, shape in (("weight_ih", (rows, self.input_size)), ("weight_hh", (rows, self.hidden_size)),
                            ("bias_ih", (rows,)), ("bias_hh", (rows,))):
            setattr(self, name, nn.Parameter(torch.empty(shape).uniform_(-bound, bound)))

    @property
    def input_bias(self) -> Tensor | None:
        """The bias added with the input projection (torch's b_ih)."""
        return self.bias_ih

    def project(self, x: Tensor, columns: slice = slice(None), bias: bool = True) -> Tensor:
        """(..., I) -> (..., rows of W_ih): W_ih[:, columns] x (+ b_ih). `columns` lets a caller feed part of
        the input separately (the attentive decoder adds its context z_t one step at a time)."""
        return F.linear(x, self.weight_ih[:, columns], self.input_bias if bias else None)

    def step(self, projected: Tensor, state, recorder=None):  # pragma: no cover - interface
        """The next state from this step's input projection and the previous state; sigmoid gates go to
        `recorder` (a GateRecorder) when one is given."""
        raise NotImplementedError

    def constrain(self) -> None:
        """Put the parameters back inside their allowed set (after an optimiser step); most cells have none."""
