"""Eigenvalues as plain JSON: [re, im] pairs (JSON has no complex numbers), rounded, largest modulus first."""
from __future__ import annotations

from torch import Tensor

EIGEN_DIGITS = 5  # stored rounded: hundreds of them per layer and evaluation


def complex_pairs(values: Tensor) -> list[list[float]]:
    values = values[values.abs().argsort(descending=True)]
    return [[round(float(v.real), EIGEN_DIGITS), round(float(v.imag), EIGEN_DIGITS)] for v in values]
