"""The reservoir of an echo state network (Jaeger 2001): a fixed, random, sparse recurrent map.

    h_t = (1 - a) h_{t-1} + a tanh(W_in x_t + b + W h_{t-1})      a = leak rate

W_in and b are uniform in [-input_scaling, input_scaling]; W is sparse (a `sparsity` share of its
entries are zero), Gaussian elsewhere, and rescaled to the configured spectral radius. Nothing here
learns: the weights are buffers (saved in the state_dict, never seen by an optimiser) drawn from
torch's global generator, which the runner seeds with the run's seed. Only a readout on top learns.

The module has the interface of torch's nn.RNN (batch_first): (B, T, input) and an optional state
(L*D, B, H) in, (B, T, D*H) and the final state (L*D, B, H) out, and its weights use nn.RNN's names
(`weight_hh_l0`, `weight_ih_l0_reverse`, ...), so `RecurrentCore` and the diagnostics treat it like
any recurrent layer: the gradient-flow probe differentiates through it, and `spectral_radii` reads W.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ..config import ConfigError, ModelConfig


class Reservoir(nn.Module):
    def __init__(self, cfg: ModelConfig, input_size: int) -> None:
        super().__init__()
        self.hidden_size, self.num_layers = cfg.hidden, cfg.layers
        self.directions = 2 if cfg.bidirectional else 1
        self.leak_rate = cfg.leak_rate
        for layer in range(self.num_layers):
            layer_input = input_size if layer == 0 else cfg.hidden * self.directions
            for suffix in self._suffixes():
                name = f"l{layer}{suffix}"
                self.register_buffer(f"weight_ih_{name}", uniform((cfg.hidden, layer_input), cfg.input_scaling))
                self.register_buffer(f"bias_{name}", uniform((cfg.hidden,), cfg.input_scaling))
                self.register_buffer(f"weight_hh_{name}", sparse_recurrent(cfg.hidden, cfg.sparsity, cfg.spectral_radius))

    def _suffixes(self) -> list[str]:
        return ["", "_reverse"][: self.directions]

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        batch = x.shape[0]
        if state is None:
            state = x.new_zeros(self.num_layers * self.directions, batch, self.hidden_size)
        finals = []
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(self._suffixes()):
                index = layer * self.directions + direction
                seq, last = self._run_direction(layer_input, state[index], f"l{layer}{suffix}", reverse=direction == 1)
                outputs.append(seq)
                finals.append(last)
            layer_input = torch.cat(outputs, dim=2) if self.directions == 2 else outputs[0]  # (B, T, D*H)
        return layer_input, torch.stack(finals)  # (B, T, D*H), (L*D, B, H)

    def _run_direction(self, x: Tensor, h: Tensor, name: str, reverse: bool) -> tuple[Tensor, Tensor]:
        w_ih, w_hh, bias = getattr(self, f"weight_ih_{name}"), getattr(self, f"weight_hh_{name}"), getattr(self, f"bias_{name}")
        x_proj = torch.nn.functional.linear(x.transpose(0, 1), w_ih, bias)  # (T, B, H): one matmul for all steps
        if reverse:
            x_proj = x_proj.flip(0)
        a = self.leak_rate
        outputs = []
        for x_t in x_proj.unbind(0):
            h = (1 - a) * h + a * torch.tanh(x_t + h @ w_hh.t())  # (B, H)
            outputs.append(h)
        seq = torch.stack(outputs, dim=1)  # (B, T, H)
        return (seq.flip(1) if reverse else seq), h


def uniform(shape: tuple[int, ...], scale: float) -> Tensor:
    return (torch.rand(shape) * 2 - 1) * scale


def sparse_recurrent(size: int, sparsity: float, radius: float) -> Tensor:
    """A (size, size) Gaussian matrix with a `sparsity` share of zeros (at least one non-zero per row),
    rescaled so that its largest |eigenvalue| is `radius`."""
    from .recurrent import scaled_to_radius, spectral_radius  # here, not at the top: recurrent.py imports this module

    weight = torch.randn(size, size)
    keep = torch.rand(size, size) >= sparsity
    keep[torch.arange(size), torch.randint(size, (size,))] = True  # no unit is cut off from the others
    weight = weight * keep
    if spectral_radius(weight) < 1e-6:
        raise ConfigError(f"a reservoir of {size} units with sparsity {sparsity:g} came out without a spectral "
                          "radius (all its cycles are empty): use more hidden units or a lower sparsity")
    return scaled_to_radius(weight, radius)
