"""Echo state network (Jaeger 2001; Lukosevicius 2012, "A practical guide to applying echo state networks").

    tokens (one-hot) or vectors --> fixed random reservoir (`model.core`) --> linear readout

Only the readout learns, and by ridge regression in closed form (ridge.py): no backpropagation
through time, so no vanishing or exploding gradients, and a reservoir whose memory is whatever its
spectral radius, leak rate and size give it. The trainer sees `trains_by_gradient = False` and calls
`learn(batch, state)` instead of backpropagating.

One model for every task an ESN can do: character generation (the "language_model" family: a
class per step) and the long-memory tasks (the "readout" family, see readout.py). Tasks that need
trained recurrent layers (translation, captioning) are refused with a clear message.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..config import ConfigError, ModelConfig
from .base import ModelOutput, SequenceModel
from .cells import CELLS
from .echo_state import EchoStateCheck, check_echo_state
from .readout import ReadoutSpec, pick_positions, readout_loss, scored
from .padded import run_padded
from .recurrent import RecurrentCore
from .ridge import RidgeReadout

FAMILIES = ("language_model", "readout")


class EchoStateNetwork(SequenceModel):
    trains_by_gradient = False

    def __init__(self, cfg: ModelConfig, spec: dict) -> None:
        super().__init__()
        if spec["family"] not in FAMILIES:
            raise ConfigError("an echo state network learns only a linear readout, which suits character generation "
                              "and the long-memory tasks (adding, temporal-order, copy); this task needs trained "
                              f"recurrent layers: pick {', '.join(n for n, c in CELLS.items() if c.trains_by_gradient)}")
        self.spec = ReadoutSpec.from_spec(spec)
        self.core = RecurrentCore(cfg, self.spec.input_size)  # the reservoir; tokens arrive one-hot
        self.head = RidgeReadout(self.core.output_size, self.spec.outputs, self.spec.classify, cfg.ridge)
        self.washout = cfg.washout

    def inputs(self, x: Tensor) -> Tensor:
        """(B, T) token ids -> (B, T, V) one-hot rows, or (B, T, I) vectors as they are."""
        return F.one_hot(x, self.spec.input_size).to(self.head.weight.dtype) if self.spec.tokens else x

    def features(self, batch: dict[str, Tensor], state=None) -> tuple[Tensor, object]:
        """The reservoir states the readout reads: (B, 1, D*H) at the last step or (B, T, D*H) at every step."""
        lengths = batch.get("lengths")
        hidden, state = run_padded(self.core, self.inputs(batch["x"]), lengths, state)
        return pick_positions(hidden, self.spec.last_only, self.core.directions, lengths, self.spec.pooling), state

    def forward(self, batch: dict[str, Tensor], state=None) -> ModelOutput:
        features, state = self.features(batch, state)
        logits = self.head(features)  # (B, 1|T, K)
        loss = readout_loss(*scored(logits, batch, self.spec.last_only), self.spec.classify) if "y" in batch else None
        return ModelOutput(logits, loss, state)

    @torch.no_grad()
    def learn(self, batch: dict[str, Tensor], state=None) -> ModelOutput:
        """Score the batch with the readout as it is (the loss the trainer records), then learn from it
        (without the washout's steps when the reservoir starts from zero)."""
        state_in = state
        features, state = self.features(batch, state)
        logits = self.head(features)
        loss = readout_loss(*scored(logits, batch, self.spec.last_only), self.spec.classify)
        fit_features, fit_batch = self.washed_out(features, batch, fresh=state_in is None)
        self.head.observe(*scored(fit_features, fit_batch, self.spec.last_only))
        return ModelOutput(logits, loss, state)

    def washed_out(self, features: Tensor, batch: dict[str, Tensor], fresh: bool) -> tuple[Tensor, dict]:
        """Features and targets without the first `washout` steps (at most half the sequence) when the reservoir
        started this batch from its zero state; read at the last step only, or carried on, nothing is dropped."""
        steps = features.shape[1]
        cut = min(self.washout, steps // 2) if fresh and not self.spec.last_only else 0
        if not cut:
            return features, batch
        trimmed = {key: value[:, cut:] if key in ("x", "y", "mask") else value for key, value in batch.items()}
        return features[:, cut:], trimmed

    def echo_state(self, batch: dict[str, Tensor]) -> EchoStateCheck:
        """The echo-state property on this batch's inputs: see echo_state.py."""
        return check_echo_state(self.core.rnn, self.inputs(batch["x"]), self.washout)

    def diagnostics(self, probe: dict[str, Tensor]) -> dict:
        return {"echo_state": self.echo_state(probe).to_dict()}

    def last_step_loss(self, batch: dict[str, Tensor]) -> Tensor:
        logits = self.forward({k: batch[k] for k in ("x", "lengths") if k in batch}).logits
        targets = batch["y"] if self.spec.last_only else batch["y"][:, -1]
        return readout_loss(logits[:, -1], targets, self.spec.classify)
