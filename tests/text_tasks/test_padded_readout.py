"""Padding is never read: a padded row's label (last state or mean pooling, one way or both, fused or scratch,
an ESN too) equals the label of the same text read alone; mean pooling is the mean of the real steps' states."""
from __future__ import annotations

import pytest
import torch

from playground import models
from playground.config import ModelConfig
from playground.models.padded import run_padded

SPEC = {"family": "readout", "input": "tokens", "input_size": 12, "outputs": 3, "objective": "classify",
        "positions": "last"}


def padded(rows: list[list[int]]) -> dict:
    width = max(len(r) for r in rows)
    x = torch.zeros(len(rows), width, dtype=torch.long)
    for i, r in enumerate(rows):
        x[i, : len(r)] = torch.tensor(r)
    return {"x": x, "lengths": torch.tensor([len(r) for r in rows])}


ROWS = [[3, 4, 5, 6, 7, 8, 9], [5, 2], [11, 10, 9, 4], [7]]


@pytest.mark.parametrize("arch,backend,bidirectional,pooling", [
    ("lstm", "fused", False, "last"), ("lstm", "fused", True, "last"), ("gru", "scratch", True, "last"),
    ("gru", "fused", True, "mean"), ("rnn-tanh", "scratch", False, "mean"), ("indrnn", "fused", True, "last"),
    ("esn", "fused", False, "last"), ("esn", "fused", True, "mean")])
def test_a_padded_row_reads_as_the_text_alone(arch, backend, bidirectional, pooling):
    torch.manual_seed(0)
    model = models.build(ModelConfig(arch=arch, backend=backend, hidden=8, embedding=4, bidirectional=bidirectional),
                         {**SPEC, "pooling": pooling}).double().eval()
    together = model(padded(ROWS)).logits[:, -1]
    alone = torch.cat([model({"x": torch.tensor([row])}).logits[:, -1] for row in ROWS])
    torch.testing.assert_close(together, alone, rtol=1e-9, atol=1e-9)
    changed = padded(ROWS)
    changed["x"][changed["x"] == 0] = 9  # other padding symbols: nothing changes
    changed["x"][1, 2:] = 9
    torch.testing.assert_close(model(changed).logits[:, -1], together, rtol=1e-9, atol=1e-9)


def test_mean_pooling_is_the_mean_of_the_real_steps():
    torch.manual_seed(1)
    model = models.build(ModelConfig(arch="gru", hidden=6, embedding=4, bidirectional=True),
                         {**SPEC, "pooling": "mean"}).double().eval()
    batch = padded(ROWS)
    hidden, _ = run_padded(model.core, model.embed(batch["x"]), batch["lengths"])
    for i, row in enumerate(ROWS):
        states, _ = model.core(model.embed(torch.tensor([row])))  # the row alone: no padding to leave out
        torch.testing.assert_close(hidden[i, : len(row)], states[0])
        assert hidden[i, len(row):].abs().sum() == 0
        expected = model.head(states[0].mean(dim=0))
        torch.testing.assert_close(model(batch).logits[i, 0], expected)
