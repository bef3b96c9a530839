"""Soft attention over a grid of image features (Show, Attend and Tell: Xu et al. 2015).

    e_i = v . tanh(W_f f_i + W_h h)     one score per grid location i, from the decoder state h
    alpha = softmax(e)                  weights over the grid, summing to 1
    z = sum_i alpha_i f_i               the context: what the decoder looks at for the next word

The scoring is additive (Bahdanau et al. 2015). W_f f_i is the same at every step, so it is
computed once per image (`keys`).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class SoftAttention(nn.Module):
    def __init__(self, feature_size: int, query_size: int, size: int) -> None:
        super().__init__()
        self.feature_proj = nn.Linear(feature_size, size)  # W_f (with the bias of the score)
        self.query_proj = nn.Linear(query_size, size, bias=False)  # W_h
        self.score = nn.Linear(size, 1, bias=False)  # v

    def keys(self, features: Tensor) -> Tensor:
        """(B, L, F) grid features -> (B, L, A) projected keys, reused at every decoder step."""
        return self.feature_proj(features)

    def forward(self, query: Tensor, features: Tensor, keys: Tensor) -> tuple[Tensor, Tensor]:
        """query (B, H), features (B, L, F), keys (B, L, A) -> context (B, F), weights (B, L)."""
        scores = self.score(torch.tanh(keys + self.query_proj(query).unsqueeze(1))).squeeze(-1)  # (B, L)
        weights = F.softmax(scores, dim=-1)
        context = torch.bmm(weights.unsqueeze(1), features).squeeze(1)  # (B, F)
        return context, weights
