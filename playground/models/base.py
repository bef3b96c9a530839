"""The one contract every model follows, whatever its architecture or task.

    output = model(batch, state=None)   # batch: dict of tensors made by the task
    output.logits, output.loss, output.state

`model.core` is the shared `RecurrentCore`: the gradient-flow probe hooks its input.
`model.last_step_loss(batch)` is the loss at the final position only (the probe's L_T).
The trainer and the pages use nothing else, so they never branch on an architecture.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import Tensor, nn

from .recurrent import RecurrentCore


@dataclass
class ModelOutput:
    logits: Tensor  # (B, T, classes): scores for every position
    loss: Tensor  # scalar: mean loss over the batch's scored positions
    state: Any = None  # recurrent state to carry into the next batch (truncated BPTT), or None


class SequenceModel(nn.Module):
    core: RecurrentCore

    def forward(self, batch: dict[str, Tensor], state=None) -> ModelOutput:  # pragma: no cover - interface
        raise NotImplementedError

    def last_step_loss(self, batch: dict[str, Tensor]) -> Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())
