"""Each step's loss and gradient norms kept as tensors on the run's device and read in batches.

Reading a number off a GPU (`.item()`, `float()`, `.tolist()`) waits for every kernel queued before it, so
the host stops running ahead launching the next step's kernels and the GPU idles between steps. The trainer
hands each step's scalars to a `StepScalars` window instead and reads the whole window with one transfer
(every `READ_EVERY` steps or `READ_SECONDS`, and before anything that must see them: an evaluation, a
checkpoint, the end). The records it builds then are the ones reading every step gave.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .diagnostics import layer_group

READ_EVERY = 16  # steps between reads at most: the progress line and divergence are this many steps late at worst
READ_SECONDS = 0.25  # ... or this long, whichever comes first (slow steps)


def clip_outcome(mode: str, threshold: float, total: float, readout: list[float]) -> tuple[float, bool]:
    """(global norm after clipping, whether anything was clipped), from the norm before and what
    `Trainer.clip_gradients` returned for a step (norm: nothing; value: [max |g|, sum of squares after])."""
    if not math.isfinite(total):
        return total, False  # a diverged step: no clipping is reported
    if mode == "norm":
        coef = threshold / (total + 1e-6)  # torch's clip_grad_norm_, also what the gradients were scaled by
        return (total * coef, True) if coef < 1.0 else (total, False)
    if mode == "value" and readout and readout[0] > threshold:
        return math.sqrt(readout[1]), True
    return total, False


@dataclass
class PendingStep:
    """What the host knows about a step at once; `values` is on the device until the window is read."""
    step: int
    values: Tensor  # float64: [loss, squared norm per gradient (in `grads` order), *clipping readout, *penalties]
    grads: tuple[int, ...]  # the indices of the parameters that had a gradient
    clip: str
    clip_threshold: float
    lr: float
    tokens: int
    seconds: float  # the host's time for the step (on an accelerator: until its kernels were queued)
    time: float  # since training started
    trains_by_gradient: bool
    penalties: tuple[str, ...] = ()  # the names of the penalty values at the end of `values` (train.penalties)


class StepScalars:
    """The window of steps not yet read, and how to turn them into step records."""

    def __init__(self, named_params: list[tuple[str, nn.Parameter]], read_every: int = READ_EVERY,
                 read_seconds: float = READ_SECONDS) -> None:
        self.groups = [layer_group(name) for name, _ in named_params]
        self.read_every, self.read_seconds = read_every, read_seconds
        self.pending: list[PendingStep] = []
        self.last_read = time.perf_counter()

    @staticmethod
    def measure(loss: Tensor, params: list[nn.Parameter]) -> tuple[tuple[int, ...], Tensor, Tensor]:
        """(indices of the parameters with a gradient, their squared norms (float64), the loss (float64, shape
        (1,))), all on the device: one fused norm kernel, no host sync."""
        with_grad = tuple(i for i, p in enumerate(params) if p.grad is not None)
        loss = loss.detach().double().reshape(1)
        if not with_grad:
            return with_grad, loss.new_zeros(0), loss
        norms = torch._foreach_norm([params[i].grad for i in with_grad])  # one norm per tensor
        return with_grad, torch.stack(norms).double().pow(2), loss

    def add(self, pending: PendingStep) -> None:
        self.pending.append(pending)

    def due(self) -> bool:
        """Whether the window is full (in steps or in time) and should be read now."""
        return bool(self.pending) and (len(self.pending) >= self.read_every
                                       or time.perf_counter() - self.last_read >= self.read_seconds)

    def read(self) -> list[dict]:
        """The records of every pending step, oldest first, with one device-to-host transfer."""
        if not self.pending:
            return []
        host_seconds = sum(p.seconds for p in self.pending)
        waited = time.perf_counter()
        flat = torch.cat([p.values for p in self.pending]).tolist()
        # the wait is the queued kernels finishing: shared out over the steps that queued them (nil on a CPU)
        waited = time.perf_counter() - waited
        records, offset, so_far = [], 0, 0.0
        for p in self.pending:
            size, share = p.values.numel(), waited * p.seconds / max(host_seconds, 1e-12)
            so_far += share
            records.append(self._record(p, flat[offset:offset + size], share, so_far))
            offset += size
        self.pending = []
        self.last_read = time.perf_counter()
        return records

    def _record(self, p: PendingStep, values: list[float], waited: float, waited_so_far: float) -> dict:
        penalties = dict(zip(p.penalties, values[len(values) - len(p.penalties):]))
        values = values[:len(values) - len(p.penalties)]
        loss, squares, readout = values[0], values[1:1 + len(p.grads)], values[1 + len(p.grads):]
        by_layer: dict[str, float] = {}
        for index, square in zip(p.grads, squares):
            by_layer[self.groups[index]] = by_layer.get(self.groups[index], 0.0) + square
        norm = math.sqrt(sum(squares)) if squares else 0.0  # no gradients (a closed-form readout): nothing clipped
        finite = math.isfinite(loss) and math.isfinite(norm)
        after, clipped = clip_outcome(p.clip, p.clip_threshold, norm, readout) if finite else (norm, False)
        record = {
            "step": p.step, "loss": loss, "grad_norm": norm, "grad_norm_clipped": after, "clipped": clipped,
            "clip": p.clip, "clip_threshold": p.clip_threshold, "layer_norms": {k: math.sqrt(v) for k, v in by_layer.items()},
            "lr": p.lr, "tokens_per_s": p.tokens / max(p.seconds + waited, 1e-9), "time": p.time + waited_so_far,
            "trains_by_gradient": p.trains_by_gradient,  # False: grad norms are 0 and clipping does not apply
        }
        if penalties:  # each penalty's value before its weight; "loss" stays the task's own
            record["penalties"] = penalties
        return record
