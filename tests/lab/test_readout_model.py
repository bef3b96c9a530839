"""The readout family: one model for sequence-to-label and per-step labelling, chosen by the task's spec."""
from __future__ import annotations

import math

import pytest
import torch

from playground import models, tasks
from playground.config import CELLS, ModelConfig, TaskConfig
from playground.models.readout import ReadoutModel, pick_positions
from playground.train import diagnostics

SEQ = 24


def _task(name):
    return tasks.build(TaskConfig(name=name, test_sequences=32, copy_length=4))


@pytest.mark.parametrize("arch", CELLS)
@pytest.mark.parametrize("name", ["adding", "temporal-order", "copy"])
def test_every_cell_builds_the_readout_family_and_probes(arch, name):
    task = _task(name)
    torch.manual_seed(0)
    model = models.build(ModelConfig(arch=arch, hidden=8, embedding=4), task.spec)
    assert isinstance(model, ReadoutModel) and model.trains_by_gradient
    batch = task.probe_batch(8, SEQ)
    out = model(batch)
    per_step = task.spec["positions"] == "every"
    assert out.logits.shape == (8, SEQ if per_step else 1, task.spec["outputs"])
    assert out.loss.ndim == 0 and math.isfinite(out.loss.item())
    flow = diagnostics.gradient_flow(model, batch)
    assert len(flow) == SEQ and all(math.isfinite(v) for v in flow) and flow[-1] > 0


def test_bidirectional_last_step_reads_both_halves_complete():
    hidden = torch.arange(2 * 5 * 6, dtype=torch.float32).view(2, 5, 6)  # (B, T, 2 directions x 3)
    picked = pick_positions(hidden, last_only=True, directions=2)
    assert picked.shape == (2, 1, 6)
    assert torch.equal(picked[:, 0, :3], hidden[:, -1, :3])  # forward half after the last step
    assert torch.equal(picked[:, 0, 3:], hidden[:, 0, 3:])  # backward half after reading back to the first step
    assert torch.equal(pick_positions(hidden, last_only=True, directions=1), hidden[:, -1:])
    assert pick_positions(hidden, last_only=False, directions=2) is hidden


def test_bidirectional_classifier_sees_an_early_marker_through_its_backward_half():
    task = _task("adding")
    torch.manual_seed(0)
    model = models.build(ModelConfig(arch="gru", hidden=8, bidirectional=True), task.spec)
    batch = task.probe_batch(4, SEQ)
    x = batch["x"].clone().requires_grad_(True)
    model({"x": x}).logits.sum().backward()
    # the prediction depends on the first step both through the forward half (long way) and the backward half
    assert x.grad[:, 0].abs().sum() > 1e-4


def test_last_step_loss_is_the_loss_at_the_final_position_for_per_step_labels():
    task = _task("copy")
    torch.manual_seed(0)
    model = models.build(ModelConfig(arch="lstm", hidden=8, embedding=4), task.spec)
    batch = task.probe_batch(8, SEQ)
    logits = model(batch).logits
    expected = torch.nn.functional.cross_entropy(logits[:, -1], batch["y"][:, -1])
    assert model.last_step_loss(batch).item() == pytest.approx(expected.item(), rel=1e-6)
    # the loss scores only the recall: changing targets outside the mask changes nothing
    altered = dict(batch, y=torch.where(batch["mask"], batch["y"], 5))
    assert model(altered).loss.item() == pytest.approx(model(batch).loss.item(), rel=1e-6)
