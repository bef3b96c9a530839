"""The reservoir of an echo state network (Jaeger 2001): a fixed, random, sparse, leaky recurrent map.

    h_t = (1 - a) h_{t-1} + a tanh(W_in x_t + b + W h_{t-1})      a = leak rate

W_in and b are uniform in [-input_scaling, input_scaling]; W is sparse (a `sparsity` share of its
entries are zero), Gaussian elsewhere, and rescaled to the configured spectral radius. Nothing here
learns: the weights are buffers (saved in the state_dict, never seen by an optimiser) drawn from
torch's global generator, which the runner seeds with the run's seed. Only a readout on top learns
(models/esn.py). The stack names them as nn.RNN would (`weight_ih_l0`, `bias_l0`, `weight_hh_l0`), so
the gradient-flow probe differentiates through a reservoir and `spectral_radii` reads W like any W_hh.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .base import Cell
from .spec import CellSettingError, CellSpec
from .spectral import scaled_to_radius, spectral_radius


class ReservoirCell(Cell):
    def __init__(self, input_size: int, hidden_size: int, leak_rate: float, input_scaling: float, sparsity: float,
                 radius: float) -> None:
        super().__init__(input_size, hidden_size)
        self.leak_rate = leak_rate
        self.register_buffer("weight_ih", uniform((hidden_size, input_size), input_scaling))
        self.register_buffer("bias", uniform((hidden_size,), input_scaling))
        self.register_buffer("weight_hh", sparse_recurrent(hidden_size, sparsity, radius))

    @property
    def input_bias(self) -> Tensor:
        return self.bias

    def step(self, projected: Tensor, h: Tensor, recorder=None) -> Tensor:
        a = self.leak_rate
        return (1 - a) * h + a * torch.tanh(projected + h @ self.weight_hh.t())  # (B, H)


def uniform(shape: tuple[int, ...], scale: float) -> Tensor:
    return (torch.rand(shape) * 2 - 1) * scale


def sparse_recurrent(size: int, sparsity: float, radius: float) -> Tensor:
    """A (size, size) Gaussian matrix with a `sparsity` share of zeros (at least one non-zero per row),
    rescaled so that its largest |eigenvalue| is `radius`."""
    weight = torch.randn(size, size)
    keep = torch.rand(size, size) >= sparsity
    keep[torch.arange(size), torch.randint(size, (size,))] = True  # no unit is cut off from the others
    weight = weight * keep
    if spectral_radius(weight) < 1e-6:
        raise CellSettingError(f"a reservoir of {size} units with sparsity {sparsity:g} came out without a spectral "
                               "radius (all its cycles are empty): use more hidden units or a lower sparsity")
    return scaled_to_radius(weight, radius)


def _reservoir(input_size: int, hidden_size: int, options) -> ReservoirCell:
    return ReservoirCell(input_size, hidden_size, options.leak_rate, options.input_scaling, options.sparsity,
                         options.spectral_radius)


ESN = CellSpec(
    name="esn", title="Echo state network (fixed leaky tanh reservoir, ridge readout)", short="ESN",
    equations=(
        r"h_t = (1 - a)\, h_{t-1} + a \tanh\left(W_{in} x_t + b + W h_{t-1}\right) \quad \text{fixed, random } W_{in}, W",
        r"y_t = W_{out} h_t, \qquad W_{out} = \arg\min_W \lVert W H - Y \rVert^2 + \lambda \lVert W \rVert^2",
    ),
    gradient=r"\text{no backpropagation: } W_{out} = Y H^\top \left(H H^\top + \lambda I\right)^{-1}",
    note="Nothing recurrent learns: the reservoir's memory is set by its spectral radius ρ(W), leak rate a and "
         "size; only the linear readout is fitted, in closed form, so no gradient can vanish or explode.",
    code="playground/models/cells/reservoir.py, ReservoirCell.step", trains_by_gradient=False, cell=_reservoir,
    settings=("layers", "hidden", "bidirectional", "spectral_radius", "leak_rate", "input_scaling", "sparsity", "ridge",
              "washout"))
