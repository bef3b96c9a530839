"""Running statistics of the gates a scratch cell opens and shuts."""
from __future__ import annotations

import torch
from torch import Tensor


class GateRecorder:
    """Running statistics of sigmoid-gate activations: mean, saturated fraction and a histogram.

    A gate is saturated below 0.05 or above 0.95: it is stuck nearly shut or open and passes
    almost no gradient to its own pre-activation.
    """

    BINS = 20
    LOW, HIGH = 0.05, 0.95

    def __init__(self) -> None:
        self.totals: dict[str, list] = {}

    def add(self, gate: str, value: Tensor) -> None:
        value = value.detach()
        if gate not in self.totals:  # [sum, saturated count, count, histogram], kept as tensors: no device sync
            self.totals[gate] = [value.new_zeros(()), value.new_zeros(()), 0, value.new_zeros(self.BINS)]
        entry = self.totals[gate]
        entry[0] += value.sum()
        entry[1] += ((value < self.LOW) | (value > self.HIGH)).sum()
        entry[2] += value.numel()
        entry[3] += torch.histc(value, bins=self.BINS, min=0.0, max=1.0)

    def summary(self) -> dict[str, dict]:
        return {
            gate: {
                "mean": total.item() / max(count, 1),
                "saturated": saturated.item() / max(count, 1),
                "histogram": (hist / max(count, 1)).tolist(),
            }
            for gate, (total, saturated, count, hist) in self.totals.items()
        }
