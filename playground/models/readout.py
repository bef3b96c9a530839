"""Sequence-to-label and per-step labelling: input -> recurrent core -> a linear head.

    tokens (B, T) --embed-->  or  vectors (B, T, I) as they are
        --> RecurrentCore (`model.core`, any arch, uni- or bidirectional) --> (B, T, D*H)
        --> the head reads the last step (one label per sequence) or every step (a label per step)

Used by the long-memory tasks (adding, temporal order, copy) and forecasting. The task's spec says what the model
reads and predicts, never the architecture:

    {"family": "readout", "input": "tokens" | "vectors", "input_size": vocabulary or vector size,
     "outputs": classes (or 1 for a regression), "objective": "classify" | "regress",
     "positions": "last" | "every", "pooling": "last" | "mean" (optional, "last": one label per sequence)}

Batches hold `x` ((B, T) ids or (B, T, I) floats) and `y`: (B,) for "last", (B, T) for "every" (a
regression with several outputs K: (B, K) and (B, T, K)),
with an optional `mask` (B, T) that picks the positions that are scored, and an optional `lengths`
(B,) for sequences padded on the right (padding never reaches the core: see padded.py). "Last" reads
each row's forward half at its own last step and its backward half at the first step (each half has
then read the whole sequence); "mean" pools the states of the row's real positions.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import ModelConfig
from .base import ModelOutput, SequenceModel
from .padded import run_padded, valid_mask
from .recurrent import RecurrentCore


@dataclass(frozen=True)
class ReadoutSpec:
    tokens: bool  # True: x holds token ids (embedded or one-hot); False: x holds vectors
    input_size: int  # vocabulary size for tokens, vector size otherwise
    outputs: int  # classes, or 1 for a regression
    classify: bool  # True: cross-entropy on class ids; False: mean squared error on values
    last_only: bool  # True: one label per sequence, read at the last step; False: a label per step
    pooling: str = "last"  # one label per sequence: "last" (the final states) or "mean" (the mean of every step's)

    @classmethod
    def from_spec(cls, spec: dict) -> "ReadoutSpec":
        if spec["family"] == "language_model":  # next-token prediction: a class per step, every step scored
            return cls(True, spec["vocab_size"], spec["vocab_size"], True, False)
        return cls(spec["input"] == "tokens", spec["input_size"], spec["outputs"], spec["objective"] == "classify",
                   spec["positions"] == "last", spec.get("pooling", "last"))


def pick_positions(hidden: Tensor, last_only: bool, directions: int, lengths: Tensor | None = None,
                   pooling: str = "last") -> Tensor:
    """(B, T, D*H) -> (B, 1, D*H) read at each row's last real step (both halves complete) or pooled over its real
    steps (`pooling="mean"`), or (B, T, D*H) unchanged. `lengths` (B,): rows padded on the right; padding is never read."""
    if not last_only:
        return hidden
    width = hidden.shape[1]
    if pooling == "mean":
        if lengths is None:
            return hidden.mean(dim=1, keepdim=True)
        mask = valid_mask(lengths.to(hidden.device), width).unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(dim=1, keepdim=True) / lengths.to(hidden.device, hidden.dtype).view(-1, 1, 1)
    if lengths is None:
        last = hidden[:, -1:]
    else:
        rows = torch.arange(hidden.shape[0], device=hidden.device)
        last = hidden[rows, lengths.to(hidden.device) - 1].unsqueeze(1)
    if directions == 1:
        return last
    half = hidden.shape[-1] // 2
    return F.pad(last[..., :half], (0, half)) + F.pad(hidden[:, :1, half:], (half, 0))


def scored(values: Tensor, batch: dict[str, Tensor], last_only: bool) -> tuple[Tensor, Tensor]:
    """(values at the scored positions (N, ...), their targets (N,)) of a batch."""
    if last_only:
        return values[:, 0], batch["y"]
    if "mask" in batch:
        return values[batch["mask"]], batch["y"][batch["mask"]]
    targets = batch["y"]
    return values.reshape(-1, *values.shape[2:]), targets.reshape(-1, *targets.shape[2:])  # (B, T[, K]) -> (N[, K])


def readout_loss(predictions: Tensor, targets: Tensor, classify: bool) -> Tensor:
    """Cross-entropy of logits (N, K) against class ids (N,), or MSE of values (N, 1) against targets (N,)
    or of values (N, K) against targets (N, K) (several values per position: a multi-step forecast)."""
    if classify:
        return F.cross_entropy(predictions, targets)
    values = predictions if targets.dim() == predictions.dim() else predictions[:, 0]
    return F.mse_loss(values, targets.to(predictions.dtype))


class ReadoutModel(SequenceModel):
    def __init__(self, cfg: ModelConfig, spec: dict) -> None:
        super().__init__()
        self.spec = ReadoutSpec.from_spec(spec)
        self.embed = nn.Embedding(self.spec.input_size, cfg.embedding) if self.spec.tokens else None
        self.core = RecurrentCore(cfg, cfg.embedding if self.spec.tokens else self.spec.input_size)
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(self.core.output_size, self.spec.outputs)

    def forward(self, batch: dict[str, Tensor], state=None) -> ModelOutput:
        x = self.embed(batch["x"]) if self.embed is not None else batch["x"]  # (B, T, E or I)
        lengths = batch.get("lengths")
        hidden, state = run_padded(self.core, x, lengths, state)  # (B, T, D*H), zeros at padding
        picked = pick_positions(hidden, self.spec.last_only, self.core.directions, lengths, self.spec.pooling)
        logits = self.head(self.drop(picked))  # (B, 1|T, K)
        loss = readout_loss(*scored(logits, batch, self.spec.last_only), self.spec.classify) if "y" in batch else None
        return ModelOutput(logits, loss, state)

    def last_step_loss(self, batch: dict[str, Tensor]) -> Tensor:
        logits = self.forward({k: batch[k] for k in ("x", "lengths") if k in batch}).logits
        targets = batch["y"] if self.spec.last_only else batch["y"][:, -1]
        return readout_loss(logits[:, -1], targets, self.spec.classify)
