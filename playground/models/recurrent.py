"""The shared recurrent core: a stack of RNN / LSTM / GRU layers with two interchangeable backends.

`fused`   torch's nn.RNN / nn.LSTM / nn.GRU (cuDNN on a GPU, oneDNN on a CPU): fast.
`scratch` the textbook cells of `cells.py` looped in Python: slow, but every gate is visible.

Both register the same parameter names (`weight_ih_l0`, `weight_hh_l0_reverse`, ...) under
`rnn.`, so a checkpoint trained with one loads into the other.

An echo state network (`config.RESERVOIRS`) plugs a fixed random reservoir (reservoir.py) in
instead, with nn.RNN's interface and weight names (kept as buffers): the diagnostics see no difference.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import RESERVOIRS, ModelConfig
from .cells import GateRecorder, gate_count, make_cell
from .reservoir import Reservoir

FUSED = {"rnn-tanh": nn.RNN, "rnn-relu": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class ScratchRecurrent(nn.Module):
    """Multi-layer, optionally bidirectional recurrence with the interface of torch's nn.LSTM (batch_first)."""

    def __init__(self, arch: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 dropout: float = 0.0, bidirectional: bool = False) -> None:
        super().__init__()
        self.arch, self.hidden_size, self.num_layers = arch, hidden_size, num_layers
        self.dropout, self.directions = dropout, 2 if bidirectional else 1
        self.cell = make_cell(arch)
        self.is_lstm = arch == "lstm"
        self.recorder: GateRecorder | None = None  # set to a GateRecorder to collect gate statistics
        gates = gate_count(arch) * hidden_size
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.directions
            for suffix in self._suffixes():
                self.register_parameter(f"weight_ih_l{layer}{suffix}", nn.Parameter(torch.empty(gates, layer_input)))
                self.register_parameter(f"weight_hh_l{layer}{suffix}", nn.Parameter(torch.empty(gates, hidden_size)))
                self.register_parameter(f"bias_ih_l{layer}{suffix}", nn.Parameter(torch.empty(gates)))
                self.register_parameter(f"bias_hh_l{layer}{suffix}", nn.Parameter(torch.empty(gates)))
        self.reset_parameters()

    def _suffixes(self) -> list[str]:
        return ["", "_reverse"][: self.directions]

    def reset_parameters(self) -> None:
        """torch's default: every weight and bias uniform in +-1/sqrt(H)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def forward(self, x: Tensor, state=None):
        # x: (B, T, input)  state: (L*D, B, H) or a pair of them for the LSTM
        batch = x.shape[0]
        if state is None:
            zeros = x.new_zeros(self.num_layers * self.directions, batch, self.hidden_size)
            state = (zeros, zeros) if self.is_lstm else zeros
        h0, c0 = state if self.is_lstm else (state, None)
        final_h, final_c = [], []
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(self._suffixes()):
                index = layer * self.directions + direction
                init = (h0[index], c0[index]) if self.is_lstm else h0[index]
                seq, last = self._run_direction(layer_input, init, f"l{layer}{suffix}", reverse=direction == 1)
                outputs.append(seq)
                if self.is_lstm:
                    final_h.append(last[0])
                    final_c.append(last[1])
                else:
                    final_h.append(last)
            layer_input = torch.cat(outputs, dim=2) if self.directions == 2 else outputs[0]  # (B, T, D*H)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, training=True)
        h_n = torch.stack(final_h)  # (L*D, B, H)
        return layer_input, ((h_n, torch.stack(final_c)) if self.is_lstm else h_n)

    def _run_direction(self, x: Tensor, state, name: str, reverse: bool):
        w_ih, w_hh = getattr(self, f"weight_ih_{name}"), getattr(self, f"weight_hh_{name}")
        b_ih, b_hh = getattr(self, f"bias_ih_{name}"), getattr(self, f"bias_hh_{name}")
        x_proj = F.linear(x.transpose(0, 1), w_ih, b_ih)  # (T, B, gates*H): one matmul for all steps
        if reverse:
            x_proj = x_proj.flip(0)
        outputs = []
        for x_t in x_proj.unbind(0):  # unbind is cheaper than indexing x_proj[t]
            state = self.cell.step(x_t, state, w_hh, b_hh, self.recorder)
            outputs.append(state[0] if self.is_lstm else state)
        seq = torch.stack(outputs, dim=1)  # (B, T, H)
        if reverse:
            seq = seq.flip(1)
        return seq, state


class RecurrentCore(nn.Module):
    """The recurrent part of every model: (B, T, input) -> (B, T, D*H) plus the final state.

    Diagnostics hook this module: its input is the x_t of the gradient-flow probe.
    """

    def __init__(self, cfg: ModelConfig, input_size: int) -> None:
        super().__init__()
        self.arch, self.backend = cfg.arch, cfg.backend
        self.hidden_size, self.num_layers = cfg.hidden, cfg.layers
        self.directions = 2 if cfg.bidirectional else 1
        dropout = cfg.dropout if cfg.layers > 1 else 0.0
        if cfg.arch in RESERVOIRS:  # an echo state network's fixed random reservoir: backend and init do not apply
            self.rnn = Reservoir(cfg, input_size)
            return
        if cfg.backend == "fused":
            kwargs = dict(num_layers=cfg.layers, dropout=dropout, bidirectional=cfg.bidirectional, batch_first=True)
            if cfg.arch.startswith("rnn-"):
                kwargs["nonlinearity"] = cfg.arch.split("-")[1]
            self.rnn = FUSED[cfg.arch](input_size, cfg.hidden, **kwargs)
        else:
            self.rnn = ScratchRecurrent(cfg.arch, input_size, cfg.hidden, cfg.layers, dropout, cfg.bidirectional)
        initialize(self.rnn, cfg.arch, cfg.init, cfg.spectral_radius)

    @property
    def output_size(self) -> int:
        return self.hidden_size * self.directions

    def forward(self, x: Tensor, state=None):
        return self.rnn(x, state)

    def recurrent_weights(self) -> dict[str, Tensor]:
        """Each layer's and direction's W_hh block that governs the dynamics (the candidate block)."""
        block = make_cell(self.arch).candidate_block
        h = self.hidden_size
        return {
            name.replace("weight_hh_", ""): weight.detach()[block * h:(block + 1) * h]
            for name, weight in [*self.rnn.named_parameters(), *self.rnn.named_buffers()]  # a reservoir's are buffers
            if name.startswith("weight_hh_")
        }

    def record_gates(self, on: bool) -> bool:
        """Start (or stop) collecting gate statistics; only the scratch backend can. Returns whether it does."""
        if not isinstance(self.rnn, ScratchRecurrent) or self.arch.startswith("rnn-"):
            return False
        self.rnn.recorder = GateRecorder() if on else None
        return on

    def gate_stats(self) -> dict[str, dict]:
        recorder = getattr(self.rnn, "recorder", None)
        return recorder.summary() if recorder is not None else {}


def initialize(rnn: nn.Module, arch: str, scheme: str, spectral_radius: float = 1.0) -> None:
    """Weight-initialisation presets, applied per gate block of W_ih and W_hh.

    default     torch's uniform(+-1/sqrt(H))
    xavier      Glorot-uniform weights, zero biases
    orthogonal  orthogonal W_hh blocks (eigenvalues on the unit circle), Glorot W_ih
    identity    W_hh = I, tiny W_ih, zero biases (IRNN, Le, Jaitly & Hinton 2015; meant for rnn-relu)
    spectral    random W_hh blocks rescaled to the given spectral radius, Glorot W_ih
    """
    if scheme == "default":
        return
    blocks = gate_count(arch)
    with torch.no_grad():
        for name, weight in rnn.named_parameters():
            if name.startswith("bias"):
                weight.zero_()
                continue
            for block in weight.chunk(blocks, dim=0):
                if name.startswith("weight_ih"):
                    if scheme == "identity":
                        nn.init.normal_(block, std=0.001)
                    else:
                        nn.init.xavier_uniform_(block)
                elif scheme == "xavier":
                    nn.init.xavier_uniform_(block)
                elif scheme == "orthogonal":
                    nn.init.orthogonal_(block)
                elif scheme == "identity":
                    block.copy_(torch.eye(block.shape[0]))
                elif scheme == "spectral":
                    block.copy_(scaled_to_radius(torch.randn_like(block) / math.sqrt(block.shape[0]), spectral_radius))


def scaled_to_radius(matrix: Tensor, radius: float) -> Tensor:
    """The matrix rescaled so that its largest |eigenvalue| equals `radius`."""
    return matrix * (radius / spectral_radius(matrix))


def spectral_radius(matrix: Tensor) -> float:
    """Largest absolute eigenvalue of a square matrix."""
    return torch.linalg.eigvals(matrix.detach().double().cpu()).abs().max().item()
