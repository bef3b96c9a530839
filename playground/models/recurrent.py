"""The shared recurrent core: a stack of layers of any registered cell, on one of two backends.

`fused`   torch's module named by the cell's spec (nn.RNN / nn.LSTM / nn.GRU: cuDNN on a GPU, oneDNN on a CPU): fast.
`scratch` the cell's own module run by the generic stack (stack.py) in Python: slow, but every gate is visible.

A cell without a fused twin (IndRNN, MGU, a reservoir) always runs on the stack. Both backends
register the same parameter names (`weight_ih_l0`, `weight_hh_l0_reverse`, ...) under `rnn.`, so a
checkpoint trained with one loads into the other. Nothing here tests an architecture's name: the cell's
spec says how to build it, its state parts, its gate blocks and how to read its recurrent matrix.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..config import ConfigError, ModelConfig
from .cells import CellSettingError, CellSpec, GateRecorder, cell_spec
from .cells.spectral import scaled_to_radius, spectral_radius  # noqa: F401  (spectral_radius: the diagnostics' import)
from .stack import Stack


class RecurrentCore(nn.Module):
    """The recurrent part of every model: (B, T, input) -> (B, T, D*H) plus the final state.

    Diagnostics hook this module: its input is the x_t of the gradient-flow probe.
    `scratch_only`: always the stack, whatever the backend setting (a caller that runs the cells step by step).
    """

    def __init__(self, cfg: ModelConfig, input_size: int, scratch_only: bool = False) -> None:
        super().__init__()
        try:
            self.spec: CellSpec = cell_spec(cfg.arch)
        except KeyError as error:
            raise ConfigError(error.args[0]) from None
        self.arch, self.backend = cfg.arch, cfg.backend
        self.hidden_size, self.num_layers = cfg.hidden, cfg.layers
        self.directions = 2 if cfg.bidirectional else 1
        dropout = cfg.dropout if cfg.layers > 1 else 0.0
        # whether self.rnn is torch's fused module (it takes packed sequences; the stack does not)
        self.fused = self.spec.fused is not None and cfg.backend == "fused" and not scratch_only
        if self.fused:
            self.rnn = self.spec.fused(input_size, cfg.hidden, num_layers=cfg.layers, dropout=dropout,
                                       bidirectional=cfg.bidirectional, batch_first=True, **self.spec.fused_kwargs)
        else:
            try:
                self.rnn = Stack(self.spec, input_size, cfg.hidden, cfg.layers, dropout, cfg.bidirectional, cfg)
            except CellSettingError as error:
                raise ConfigError(str(error)) from None
        if self.spec.trains_by_gradient:  # a fixed map (a reservoir) draws its own weights: presets do not apply
            initialize(self.rnn, self.spec, cfg.init, cfg.spectral_radius)

    @property
    def output_size(self) -> int:
        return self.hidden_size * self.directions

    @property
    def state_parts(self) -> tuple[str, ...]:
        """The parts of this core's state, ("h",) or ("h", "c"): a state is one tensor or a tuple of them."""
        return self.spec.state_parts

    def forward(self, x: Tensor, state=None):
        return self.rnn(x, state)

    def recurrent_weights(self) -> dict[str, Tensor]:
        """Each layer's and direction's recurrent matrix that governs the dynamics (as the cell's spec reads it)."""
        return {
            name.replace("weight_hh_", ""): self.spec.recurrent_matrix(weight.detach())
            for name, weight in [*self.rnn.named_parameters(), *self.rnn.named_buffers()]  # a reservoir's are buffers
            if name.startswith("weight_hh_")
        }

    def record_gates(self, on: bool) -> bool:
        """Start (or stop) collecting gate statistics; only the scratch backend can. Returns whether it does."""
        if self.fused or not self.spec.gates:
            return False
        self.rnn.recorder = GateRecorder() if on else None
        return on

    def gate_stats(self) -> dict[str, dict]:
        recorder = getattr(self.rnn, "recorder", None)
        return recorder.summary() if recorder is not None else {}


def initialize(rnn: nn.Module, spec: CellSpec, scheme: str, spectral_radius: float = 1.0) -> None:
    """Weight-initialisation presets, applied per gate block (`spec.blocks`) of W_ih and W_hh.

    default     the cell's own (torch's uniform(+-1/sqrt(H)) for the cells torch has)
    xavier      Glorot-uniform weights, zero biases
    orthogonal  orthogonal W_hh blocks (eigenvalues on the unit circle), Glorot W_ih
    identity    W_hh = I, tiny W_ih, zero biases (IRNN, Le, Jaitly & Hinton 2015; meant for rnn-relu)
    spectral    random W_hh blocks rescaled to the given spectral radius, Glorot W_ih

    A recurrent weight stored as a vector u (a diagonal W_hh = diag(u), IndRNN) gets the diagonal
    analogue: identity u = 1; orthogonal u = +-1 (a diagonal orthogonal matrix); spectral u uniform in
    [-r, r] with max |u| = r; xavier u uniform in [0, 1] (Glorot's fan-in bound means nothing for a
    diagonal; this is Li et al.'s own start).
    """
    if scheme == "default":
        return
    _apply_preset(rnn, spec, scheme, spectral_radius)
    if isinstance(rnn, Stack):
        rnn.constrain()  # a preset outside a cell's allowed set (IndRNN's |u| bound) is cut to it now, not at the first pass


def _apply_preset(rnn: nn.Module, spec: CellSpec, scheme: str, spectral_radius: float) -> None:
    with torch.no_grad():
        for name, weight in rnn.named_parameters():
            if name.startswith("bias"):
                weight.zero_()
                continue
            for block in weight.chunk(spec.blocks, dim=0):
                if name.startswith("weight_ih"):
                    if scheme == "identity":
                        nn.init.normal_(block, std=0.001)
                    else:
                        nn.init.xavier_uniform_(block)
                elif block.dim() == 1:
                    _init_diagonal(block, scheme, spectral_radius)
                elif scheme == "xavier":
                    nn.init.xavier_uniform_(block)
                elif scheme == "orthogonal":
                    nn.init.orthogonal_(block)
                elif scheme == "identity":
                    block.copy_(torch.eye(block.shape[0]))
                elif scheme == "spectral":
                    block.copy_(scaled_to_radius(torch.randn_like(block) / math.sqrt(block.shape[0]), spectral_radius))


def _init_diagonal(u: Tensor, scheme: str, radius: float) -> None:
    """The presets for a recurrent matrix diag(u) stored as the vector u."""
    if scheme == "xavier":
        u.uniform_(0.0, 1.0)
    elif scheme == "orthogonal":
        u.copy_(torch.randint(0, 2, u.shape).to(u) * 2 - 1)
    elif scheme == "identity":
        u.fill_(1.0)
    elif scheme == "spectral":
        u.uniform_(-1.0, 1.0)
        u.mul_(radius / u.abs().max().clamp_min(1e-12))
