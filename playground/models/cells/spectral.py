"""Spectral radius: the largest |eigenvalue| of a recurrent matrix, which sets how a state grows or fades."""
from __future__ import annotations

import torch
from torch import Tensor


def spectral_radius(matrix: Tensor) -> float:
    """Largest absolute eigenvalue of a square matrix."""
    return torch.linalg.eigvals(matrix.detach().double().cpu()).abs().max().item()


def scaled_to_radius(matrix: Tensor, radius: float) -> Tensor:
    """The matrix rescaled so that its largest |eigenvalue| equals `radius`."""
    return matrix * (radius / spectral_radius(matrix))
