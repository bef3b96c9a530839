"""What an attention does, in two numbers per evaluation: how spread its rows are, and whether it moves forward.

    attention_entropy            mean entropy (nats) of the attention rows of the scored output steps
    attention_entropy_uniform    the same for weights spread evenly over the real keys (log of their count): the
                                 ceiling, so 0 is a hard alignment and the ceiling no alignment at all
    attention_monotonicity       share of output steps (after the first) whose peak position is at or after the
                                 previous step's peak: 1 for an alignment that only moves forward (left to right).
                                 Only where the keys are a sequence (a translator's source), not an image's grid
    attention_map                the first probe row's weights (output steps x keys), for the heatmap at any step
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

MAP_DIGITS = 4


@dataclass
class AttentionMaps:
    weights: Tensor  # (B, Q, K) rows summing to 1 over the real keys
    rows: Tensor  # (B, Q) True on the output steps that are scored (not padding)
    keys: Tensor  # (B, K) True on real keys
    ordered: bool  # True where the keys are positions in a sequence, so "forward" means something


def attention_readouts(maps: AttentionMaps | None) -> dict:
    if maps is None:
        return {}
    weights, rows, keys = maps.weights.double(), maps.rows, maps.keys
    safe = torch.where(weights > 0, weights, torch.ones_like(weights))
    entropy = -(weights * safe.log()).sum(-1)  # (B, Q)
    uniform = keys.sum(-1, keepdim=True).double().log().expand_as(entropy)
    out = {"attention_entropy": float(entropy[rows].mean()), "attention_entropy_uniform": float(uniform[rows].mean())}
    if maps.ordered and weights.shape[1] > 1:
        peaks = weights.argmax(-1)  # (B, Q)
        pairs = rows[:, 1:] & rows[:, :-1]
        forward = (peaks[:, 1:] >= peaks[:, :-1]) & pairs
        out["attention_monotonicity"] = float(forward.sum()) / max(int(pairs.sum()), 1)
    first_rows, first_keys = rows[0], keys[0]
    out["attention_map"] = [[round(float(w), MAP_DIGITS) for w in row[first_keys]]
                            for row in weights[0][first_rows]]
    return out
