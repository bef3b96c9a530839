"""A generic recurrence over any cell: layer, reversed layer, bidirectional layer and stack.

After PyTorch's benchmarks/fastrnns/custom_lstms.py: a cell is a module that computes one step;
`run_direction` runs it along the sequence (a layer, or a reversed layer), `run_layer` runs one or
two directions and joins them (a bidirectional layer), and `Stack` stacks layers with dropout between
them. `Stack` has the interface of torch's nn.RNN / nn.LSTM / nn.GRU with batch_first: (B, T, I) and an
optional state in, (B, T, D*H) and the final state out, a state being (L*D, B, H), or a tuple of such
tensors for a cell with several state parts (the LSTM's (h, c)).

Names: the stack owns every cell's tensors under torch's names, `<cell's name>_l<layer>[_reverse]`
(`weight_ih_l0`, `bias_hh_l1_reverse`, a reservoir's `bias_l0`), so a checkpoint of torch's fused module
loads into a stack and back. The cells are kept in a plain list, not as submodules, or every tensor
would also appear under a second, nested name.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .cells import CellSpec
from .cells.base import Cell
from .cells.gates import GateRecorder


def state_parts(state) -> tuple[Tensor, ...]:
    """A state as a tuple of its parts: h -> (h,); (h, c) stays (h, c)."""
    return tuple(state) if isinstance(state, (tuple, list)) else (state,)


def joined_state(parts) -> Tensor | tuple[Tensor, ...]:
    """The inverse of `state_parts`: one part is the tensor itself, several a tuple."""
    parts = tuple(parts)
    return parts[0] if len(parts) == 1 else parts


def run_direction(cell: Cell, x: Tensor, state, reverse: bool = False, recorder: GateRecorder | None = None,
                  steps: list | None = None):
    """One layer in one direction: x (B, T, I) from `state` -> outputs (B, T, H) in x's order, final state.
    `steps`, when given, receives (cell, projected input, state in, state out) of every step, in the graph
    (the Omega penalty re-runs each step from its state in)."""
    projected = cell.project(x.transpose(0, 1))  # (T, B, rows of W_ih): the input's share of every step, at once
    if reverse:
        projected = projected.flip(0)
    outputs = []
    for x_t in projected.unbind(0):  # unbind is cheaper than indexing projected[t]
        before = state
        state = cell.step(x_t, state, recorder)
        outputs.append(state_parts(state)[0])
        if steps is not None:
            steps.append((cell, x_t, before, state))
    seq = torch.stack(outputs, dim=1)  # (B, T, H)
    return (seq.flip(1) if reverse else seq), state


def run_layer(cells: list[Cell], x: Tensor, states: list, recorder: GateRecorder | None = None,
              steps: list | None = None):
    """One layer: the forward cell, and (bidirectional) the reverse cell, outputs joined -> (B, T, D*H), final states."""
    results = [run_direction(cell, x, state, reverse=direction == 1, recorder=recorder, steps=steps)
               for direction, (cell, state) in enumerate(zip(cells, states))]
    outputs = [seq for seq, _ in results]
    return (torch.cat(outputs, dim=2) if len(outputs) > 1 else outputs[0]), [final for _, final in results]


class Stack(nn.Module):
    def __init__(self, spec: CellSpec, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0,
                 bidirectional: bool = False, options=None) -> None:
        super().__init__()
        if spec.cell is None:
            raise ValueError(f"cell {spec.name!r} says nothing about how to build it (CellSpec.cell)")
        self.spec, self.hidden_size, self.num_layers = spec, hidden_size, num_layers
        self.dropout, self.directions = dropout, 2 if bidirectional else 1
        self.recorder: GateRecorder | None = None  # set to a GateRecorder to collect gate statistics
        self.step_log: list | None = None  # set to [] to collect every step of the next passes (see run_direction)
        self.cells: list[Cell] = []  # layer by layer, forward then reverse (torch's order of states)
        self._suffixes: list[str] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.directions
            for suffix in ("", "_reverse")[: self.directions]:
                cell = spec.cell(layer_input, hidden_size, options)
                self.cells.append(cell)
                self._suffixes.append(f"_l{layer}{suffix}")
                for name, tensor in cell.named_parameters(recurse=False):
                    self.register_parameter(name + self._suffixes[-1], tensor)
                for name, tensor in cell.named_buffers(recurse=False):
                    self.register_buffer(name + self._suffixes[-1], tensor)
        self.register_load_state_dict_post_hook(lambda module, incompatible: module._share())

    def _share(self) -> None:
        """Point every cell at the stack's tensors again: `.to()`, `.double()` replace buffers (and with
        `assign=True` loading, parameters) rather than updating them in place."""
        for cell, suffix in zip(self.cells, self._suffixes):
            for name in cell._parameters:
                cell._parameters[name] = self._parameters[name + suffix]
            for name in cell._buffers:
                cell._buffers[name] = self._buffers[name + suffix]

    def _apply(self, fn, recurse: bool = True):
        super()._apply(fn, recurse)
        self._share()
        return self

    def constrain(self) -> None:
        """Every cell back inside its allowed parameters (a no-op for most); called before each pass."""
        for cell in self.cells:
            cell.constrain()

    def zero_state(self, batch: int, like: Tensor):
        """Zeros for every layer, direction and state part: (L*D, B, H), or a tuple of them."""
        return joined_state(like.new_zeros(self.num_layers * self.directions, batch, self.hidden_size)
                            for _ in self.spec.state_parts)

    def forward(self, x: Tensor, state=None):
        self.constrain()
        if state is None:
            state = self.zero_state(x.shape[0], x)
        parts = state_parts(state)  # each (L*D, B, H)
        finals = []
        layer_input = x
        for layer in range(self.num_layers):
            indices = range(layer * self.directions, (layer + 1) * self.directions)
            cells = [self.cells[i] for i in indices]
            states = [joined_state(part[i] for part in parts) for i in indices]
            layer_input, layer_finals = run_layer(cells, layer_input, states, self.recorder, self.step_log)
            finals.extend(layer_finals)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, training=True)
        stacked = [torch.stack(part) for part in zip(*(state_parts(final) for final in finals))]  # each (L*D, B, H)
        return layer_input, joined_state(stacked)
