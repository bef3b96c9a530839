"""The one contract every model follows, whatever its architecture or task.

    output = model(batch, state=None)   # batch: dict of tensors made by the task
    output.logits, output.loss, output.state

`model.core` is the shared `RecurrentCore`: the gradient-flow probe hooks its input.
`model.last_step_loss(batch)` is the loss at the final position only (the probe's L_T).
`model.trains_by_gradient` is False for a model whose learned part has a closed-form solution (an
echo state network's ridge readout): the trainer then calls `model.learn(batch, state)` instead of
backpropagating, and records gradient norms of 0 with no clipping.
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
    trains_by_gradient: bool = True  # False: learns from each batch in closed form through `learn`, no backprop
    # True where the probe's loss L_T reads the core's own last step, so ||dL_T/dx_t|| runs back through the core's
    # recurrence alone; False where more machinery sits between them (a seq2seq decoder reading the encoder)
    loss_reads_core: bool = True

    @property
    def causal_flow(self) -> bool:
        """Whether lag in the gradient-flow probe is distance in time back from the loss, so a decay rate per step
        means something: the loss reads the core directly and the core runs forward only (not bidirectional)."""
        return self.loss_reads_core and self.core.directions == 1

    def forward(self, batch: dict[str, Tensor], state=None) -> ModelOutput:  # pragma: no cover - interface
        raise NotImplementedError

    def last_step_loss(self, batch: dict[str, Tensor]) -> Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def learn(self, batch: dict[str, Tensor], state=None) -> ModelOutput:  # pragma: no cover - interface
        """Only where trains_by_gradient is False: the batch's output and loss with the model as it was,
        after which the model has learned from the batch (no gradients involved)."""
        raise NotImplementedError

    def diagnostics(self, probe: dict[str, Tensor]) -> dict:
        """Readouts of this kind of model for every evaluation record (an ESN: its echo-state check); {} here."""
        return {}

    def attention_maps_of(self, batch: dict[str, Tensor]):
        """The attention weights of a teacher-forced pass over `batch` (an `attention_readouts.AttentionMaps`),
        or None for a model without attention."""
        return None

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())
