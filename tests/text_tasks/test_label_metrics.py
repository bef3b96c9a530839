"""Confusion, accuracy and macro-F1 against a direct count, and the chance levels against simulation."""
from __future__ import annotations

import random

import pytest
import torch

from playground.tasks import label_metrics


def direct_scores(truth: list[int], predicted: list[int], classes: int) -> tuple[float, float]:
    """(accuracy, macro-F1) counted example by example, with no matrix."""
    accuracy = sum(t == p for t, p in zip(truth, predicted)) / len(truth)
    scores = []
    for c in range(classes):
        if c not in truth:
            continue
        tp = sum(t == c and p == c for t, p in zip(truth, predicted))
        fp = sum(t != c and p == c for t, p in zip(truth, predicted))
        fn = sum(t == c and p != c for t, p in zip(truth, predicted))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return accuracy, sum(scores) / len(scores)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scores_match_a_direct_count(seed):
    rng = random.Random(seed)
    truth = [rng.randrange(4) for _ in range(300)]
    predicted = [t if rng.random() < 0.6 else rng.randrange(5) % 4 for t in truth]
    counts = label_metrics.confusion(torch.tensor(truth), torch.tensor(predicted), 4)
    assert int(counts[2, 1]) == sum(t == 2 and p == 1 for t, p in zip(truth, predicted))
    accuracy, macro = direct_scores(truth, predicted, 4)
    assert label_metrics.accuracy(counts) == pytest.approx(accuracy)
    assert label_metrics.macro_f1(counts) == pytest.approx(macro)


def test_random_guessing_scores_its_chance_level():
    rng = random.Random(0)
    shares = [0.5, 0.3, 0.2]
    truth = rng.choices(range(3), weights=shares, k=60_000)
    guesses = [rng.randrange(3) for _ in truth]
    counts = label_metrics.confusion(torch.tensor(truth), torch.tensor(guesses), 3)
    assert label_metrics.macro_f1(counts) == pytest.approx(label_metrics.random_guess_macro_f1(shares), abs=0.01)
    assert label_metrics.accuracy(counts) == pytest.approx(1 / 3, abs=0.01)
