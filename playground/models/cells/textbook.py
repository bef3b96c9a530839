"""Recurrent cells written out from the textbook equations.

Every cell takes the input projection `x_proj = x_t W_ih^T + b_ih` (computed for all time steps
at once, one big matrix product) and the previous state, and returns the next state. Gate order
and weight layout follow torch's `nn.RNN`, `nn.LSTM` and `nn.GRU`, so weights copy across:

    W_ih: (gates * H, input)    W_hh: (gates * H, H)    b_ih, b_hh: (gates * H,)

Shapes below: B = batch, H = hidden units.
"""
from __future__ import annotations

import torch
from torch import Tensor


class GateRecorder:
    """Running statistics of sigmoid-gate activations: mean, saturated fraction and a histogram.

    A gate is saturated below 0.05 or above 0.95: it is stuck nearly shut or open and passes
    almost no gradient to its own pre-activation.
    """

    BINS = 20
    LOW, HIGH = 0.05, 0.95

    def __init__(self) -> None:
        self.totals: dict[str, list] = {}

    def add(self, gate: str, value: Tensor) -> None:
        value = value.detach()
        if gate not in self.totals:  # [sum, saturated count, count, histogram], kept as tensors: no device sync
            self.totals[gate] = [value.new_zeros(()), value.new_zeros(()), 0, value.new_zeros(self.BINS)]
        entry = self.totals[gate]
        entry[0] += value.sum()
        entry[1] += ((value < self.LOW) | (value > self.HIGH)).sum()
        entry[2] += value.numel()
        entry[3] += torch.histc(value, bins=self.BINS, min=0.0, max=1.0)

    def summary(self) -> dict[str, dict]:
        return {
            gate: {
                "mean": total.item() / max(count, 1),
                "saturated": saturated.item() / max(count, 1),
                "histogram": (hist / max(count, 1)).tolist(),
            }
            for gate, (total, saturated, count, hist) in self.totals.items()
        }


class RNNCell:
    """Elman RNN: h_t = phi(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), phi = tanh or ReLU."""

    gates = ("hidden",)
    candidate_block = 0  # the block of W_hh whose spectral radius governs the dynamics

    def __init__(self, nonlinearity: str = "tanh") -> None:
        self.phi = torch.tanh if nonlinearity == "tanh" else torch.relu

    def step(self, x_proj: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor, recorder=None) -> Tensor:
        # x_proj: (B, H)   h: (B, H)   w_hh: (H, H)
        return self.phi(x_proj + h @ w_hh.t() + b_hh)  # (B, H)


class LSTMCell:
    """Long short-term memory (Hochreiter & Schmidhuber 1997, with a forget gate, Gers et al. 2000)."""

    gates = ("input", "forget", "cell", "output")
    candidate_block = 2  # the candidate cell block g

    def step(self, x_proj: Tensor, state: tuple[Tensor, Tensor], w_hh: Tensor, b_hh: Tensor, recorder=None):
        h, c = state  # (B, H), (B, H)
        pre = x_proj + h @ w_hh.t() + b_hh  # (B, 4H), gate order i, f, g, o as in nn.LSTM
        pre_i, pre_f, pre_g, pre_o = pre.chunk(4, dim=1)  # each (B, H)
        i = self.input_gate(pre_i)
        f = self.forget_gate(pre_f)
        g = self.candidate(pre_g)
        o = self.output_gate(pre_o)
        c_next = f * c + i * g  # (B, H): keep part of the old memory, write part of the new
        h_next = o * torch.tanh(c_next)  # (B, H): expose part of the memory
        if recorder is not None:
            recorder.add("input", i)
            recorder.add("forget", f)
            recorder.add("output", o)
        return h_next, c_next

    @staticmethod
    def input_gate(pre: Tensor) -> Tensor:
        """i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi): how much of the candidate to write."""
        return torch.sigmoid(pre)

    @staticmethod
    def forget_gate(pre: Tensor) -> Tensor:
        """f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf): how much old memory to keep.
        Near 1 it carries the cell state (and its gradient) unchanged across time."""
        return torch.sigmoid(pre)

    @staticmethod
    def candidate(pre: Tensor) -> Tensor:
        """g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg): the new content proposed for the memory."""
        return torch.tanh(pre)

    @staticmethod
    def output_gate(pre: Tensor) -> Tensor:
        """o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho): how much of tanh(c_t) to show as h_t."""
        return torch.sigmoid(pre)


class GRUCell:
    """Gated recurrent unit (Cho et al. 2014), in torch's variant: r gates W_hn h before it is added."""

    gates = ("reset", "update", "new")
    candidate_block = 2  # the candidate block n

    def step(self, x_proj: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor, recorder=None) -> Tensor:
        # x_proj: (B, 3H)   h: (B, H)   w_hh: (3H, H); gate order r, z, n as in nn.GRU
        x_r, x_z, x_n = x_proj.chunk(3, dim=1)  # each (B, H)
        h_r, h_z, h_n = (h @ w_hh.t() + b_hh).chunk(3, dim=1)  # each (B, H)
        r = self.reset_gate(x_r + h_r)
        z = self.update_gate(x_z + h_z)
        n = self.candidate(x_n + r * h_n)
        if recorder is not None:
            recorder.add("reset", r)
            recorder.add("update", z)
        return (1 - z) * n + z * h  # (B, H): interpolate between the new content and the old state

    @staticmethod
    def reset_gate(pre: Tensor) -> Tensor:
        """r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr): how much of the old state feeds the candidate."""
        return torch.sigmoid(pre)

    @staticmethod
    def update_gate(pre: Tensor) -> Tensor:
        """z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz): how much of the old state to keep as is.
        Near 1 it copies h (and its gradient) across the step."""
        return torch.sigmoid(pre)

    @staticmethod
    def candidate(pre: Tensor) -> Tensor:
        """n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn)): the proposed new state."""
        return torch.tanh(pre)


def make_cell(arch: str):
    """The cell for an architecture name of `config.ARCHITECTURES`."""
    if arch == "lstm":
        return LSTMCell()
    if arch == "gru":
        return GRUCell()
    return RNNCell("relu" if arch == "rnn-relu" else "tanh")


def gate_count(arch: str) -> int:
    return {"lstm": 4, "gru": 3}.get(arch, 1)
