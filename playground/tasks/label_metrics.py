"""Scores of predicted labels against true ones, from one confusion matrix: accuracy, per-class precision,
recall and F1, macro-F1, and the chance levels of a model that guesses. Shared by the classifier tasks
(one label per text) and the taggers (a label per character)."""
from __future__ import annotations

import torch


def confusion(truth: torch.Tensor, predicted: torch.Tensor, classes: int) -> torch.Tensor:
    """(classes, classes) counts: row = the true class, column = the predicted one."""
    index = truth.long().reshape(-1) * classes + predicted.long().reshape(-1)
    return torch.bincount(index, minlength=classes * classes).view(classes, classes)


def per_class(counts: torch.Tensor) -> tuple[list[float], list[float], list[float]]:
    """(precision, recall, F1) of each class; 0 where a class is never predicted or never true."""
    counts = counts.double()
    hits, predicted, true = counts.diagonal(), counts.sum(0), counts.sum(1)
    precision = torch.where(predicted > 0, hits / predicted.clamp_min(1), torch.zeros_like(hits))
    recall = torch.where(true > 0, hits / true.clamp_min(1), torch.zeros_like(hits))
    f1 = torch.where(precision + recall > 0, 2 * precision * recall / (precision + recall).clamp_min(1e-300),
                     torch.zeros_like(hits))
    return precision.tolist(), recall.tolist(), f1.tolist()


def accuracy(counts: torch.Tensor) -> float:
    return float(counts.diagonal().sum()) / max(int(counts.sum()), 1)


def macro_f1(counts: torch.Tensor) -> float:
    """The mean F1 over the classes that occur in the truth (a class absent from the data has no F1)."""
    present = counts.sum(1) > 0
    f1 = torch.tensor(per_class(counts)[2], dtype=torch.double)
    return float(f1[present].mean()) if bool(present.any()) else 0.0


def random_guess_macro_f1(shares: list[float]) -> float:
    """The expected macro-F1 of guessing each class with equal probability, whatever the truth: class c
    (share p) then has precision p and recall 1/K, so F1 = 2p / (1 + pK)."""
    k = len(shares)
    present = [p for p in shares if p > 0]
    return sum(2 * p / (1 + p * k) for p in present) / max(len(present), 1)
