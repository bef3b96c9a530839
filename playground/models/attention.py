"""Attention over encoder outputs: Bahdanau (additive) and Luong (dot, general).

Every variant scores each decoder query against every encoder output (the *memory*), so the
weights depend on the encoder outputs, not only on the decoder's state: the bug of a well-known
tutorial, whose weights came from the decoder input alone, cannot happen here. Padding positions
get a score of -inf before the softmax, hence a weight of exactly 0.

Shapes: B batch, Q queries (decoder steps), S source positions.
    keys = attention.keys(memory)                     # once per source batch
    context, weights = attention(query, keys, memory, mask)
    query (B, Q, Dq), memory (B, S, Dm), mask (B, S) True on real tokens
    -> context (B, Q, Dm), weights (B, Q, S), rows summing to 1
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ..config import ConfigError

SEQ2SEQ_ATTENTIONS = ("none", "bahdanau", "luong-dot", "luong-general")


def masked_softmax(scores: Tensor, mask: Tensor) -> Tensor:
    """Softmax over the last axis with padded positions (mask False) at weight 0."""
    return torch.softmax(scores.masked_fill(~mask.unsqueeze(1), float("-inf")), dim=-1)


class BahdanauAttention(nn.Module):
    """score(q, m_s) = v . tanh(W_q q + W_m m_s) (Bahdanau, Cho & Bengio 2015)."""

    def __init__(self, query_size: int, memory_size: int, size: int) -> None:
        super().__init__()
        self.query = nn.Linear(query_size, size, bias=False)
        self.memory = nn.Linear(memory_size, size)
        self.v = nn.Linear(size, 1, bias=False)

    def keys(self, memory: Tensor) -> Tensor:
        return self.memory(memory)  # (B, S, A): the memory's half of the score, computed once

    def forward(self, query: Tensor, keys: Tensor, memory: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        scores = self.v(torch.tanh(self.query(query).unsqueeze(2) + keys.unsqueeze(1))).squeeze(-1)  # (B, Q, S)
        weights = masked_softmax(scores, mask)
        return weights @ memory, weights


class LuongAttention(nn.Module):
    """score(q, m_s) = q . m_s ('dot') or q . W m_s ('general') (Luong, Pham & Manning 2015)."""

    def __init__(self, kind: str, query_size: int, memory_size: int) -> None:
        super().__init__()
        if kind == "dot" and query_size != memory_size:
            raise ConfigError(f"luong-dot attention needs equal query and memory sizes ({query_size} vs {memory_size})")
        self.kind = kind
        self.weight = nn.Linear(memory_size, query_size, bias=False) if kind == "general" else None

    def keys(self, memory: Tensor) -> Tensor:
        return memory if self.weight is None else self.weight(memory)  # (B, S, Dq)

    def forward(self, query: Tensor, keys: Tensor, memory: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        weights = masked_softmax(query @ keys.transpose(1, 2), mask)  # (B, Q, S)
        return weights @ memory, weights


def make_attention(kind: str, query_size: int, memory_size: int) -> nn.Module | None:
    """The attention module `kind` names (None for 'none': the fixed-vector bottleneck)."""
    if kind not in SEQ2SEQ_ATTENTIONS:
        raise ConfigError(f"translation models take attention {', '.join(SEQ2SEQ_ATTENTIONS)} (got {kind!r}; "
                          "'soft' is the captioning model's)")
    if kind == "none":
        return None
    if kind == "bahdanau":
        return BahdanauAttention(query_size, memory_size, query_size)
    return LuongAttention(kind.split("-")[1], query_size, memory_size)
