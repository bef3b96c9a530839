"""Every unit's activation at every position, read from the model's own forward pass.

`trace(model, batch)` runs `model(batch)` once with a hook on every recurrent cell's step: each step's
new state parts (h, and c for an LSTM) and its sigmoid gates (what the cell hands a GateRecorder) are
kept. Nothing is computed a second time, so the activations are those of the forward pass itself, for
every cell the stack can run: plain layers, bidirectional layers, encoders, decoders stepped one token
at a time and the captioner's attentive core. A fused core (nn.LSTM, ...) runs as its scratch twin for
the traced pass, with the same weights (the backends agree to float rounding; a test checks).

The result, per recurrent core of the model (its module path: "core", "decoder"), maps each part
("h", "c", "input", "forget", ...) to a (layers, units, positions) tensor of the batch's first row,
a bidirectional layer's units being the forward ones then the reverse ones (as in its output).
One call of a core per forward pass, or several calls of one step each (a decoder stepped token by
token), are what it reads: a batch of one sequence is what the explorer traces.
"""
from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import Iterator

import torch
from torch import Tensor

from .base import SequenceModel
from .inference import evaluating
from .recurrent import RecurrentCore
from .stack import Stack, state_parts


class _GateTap:
    """Takes the gates a cell's step reports, and passes them on to the recorder it replaced (if any)."""

    def __init__(self, recorder) -> None:
        self.recorder, self.values = recorder, {}

    def add(self, gate: str, value: Tensor) -> None:
        self.values[gate] = value.detach()
        if self.recorder is not None:
            self.recorder.add(gate, value)


@contextmanager
def _scratch_twin(core: RecurrentCore) -> Iterator[None]:
    """A fused core runs on the generic stack for the block, with its own weights; its fused module comes back after."""
    if not core.fused:
        yield
        return
    fused = core.rnn
    weight = next(fused.parameters())
    twin = Stack(core.spec, fused.input_size, core.hidden_size, core.num_layers, fused.dropout, core.directions == 2)
    twin.load_state_dict(fused.state_dict())
    twin.to(device=weight.device, dtype=weight.dtype).train(fused.training)
    core.rnn, core.fused = twin, False
    try:
        yield
    finally:
        core.rnn, core.fused = fused, True


@contextmanager
def _hooked_steps(core: RecurrentCore, steps: list[list]) -> Iterator[None]:
    """Each of the core's cells appends (state parts, gates) of every step it takes to steps[cell index]."""
    cells = core.rnn.cells
    for index, cell in enumerate(cells):
        steps.append([])

        def step(projected, state, recorder=None, _original=cell.step, _record=steps[index]):
            tap = _GateTap(recorder)
            new = _original(projected, state, tap)
            _record.append(([part.detach() for part in state_parts(new)], tap.values))
            return new

        cell.step = step  # an instance attribute: it shadows the class's method until deleted
    try:
        yield
    finally:
        for cell in cells:
            del cell.step


def recurrent_cores(model: SequenceModel) -> dict[str, RecurrentCore]:
    """The model's recurrent cores by module path, outermost first ("core"; a translator's "decoder" too)."""
    return {name: module for name, module in model.named_modules() if isinstance(module, RecurrentCore)}


def _assemble(core: RecurrentCore, steps: list[list]) -> dict[str, Tensor]:
    """Per part: (layers, D*H, T) of batch row 0, from the steps each cell took (a reverse cell's in reverse)."""
    directions = core.directions
    if not steps or not steps[0]:
        return {}
    names = list(core.spec.state_parts) + [gate for gate in core.spec.gates if gate in steps[0][0][1]]
    parts: dict[str, list] = {name: [] for name in names}
    for layer in range(core.num_layers):
        joined: dict[str, list] = {name: [] for name in names}
        for direction in range(directions):
            taken = steps[layer * directions + direction]
            if direction == 1:
                taken = taken[::-1]  # the reverse cell stepped from the last position to the first
            for i, name in enumerate(core.spec.state_parts):
                joined[name].append(torch.stack([state[i][0] for state, _ in taken], dim=1))  # (H, T)
            for gate in names[len(core.spec.state_parts):]:
                joined[gate].append(torch.stack([gates[gate][0] for _, gates in taken], dim=1))
        for name in names:
            parts[name].append(torch.cat(joined[name], dim=0))  # (D*H, T)
    return {name: torch.stack(layers).float().cpu() for name, layers in parts.items()}  # (L, D*H, T)


@torch.no_grad()
def trace(model: SequenceModel, batch: dict[str, Tensor]) -> tuple[dict[str, dict[str, Tensor]], object]:
    """({core path: {part: (layers, units, positions)}}, the model's output) for `batch`, in eval mode."""
    cores = recurrent_cores(model)
    steps = {name: [] for name in cores}
    with evaluating(model), ExitStack() as stack:
        for name, core in cores.items():
            stack.enter_context(_scratch_twin(core))
            stack.enter_context(_hooked_steps(core, steps[name]))
        output = model(batch)
    return {name: _assemble(core, steps[name]) for name, core in cores.items()}, output
