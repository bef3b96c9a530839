"""The long-memory tasks: data layout, fixed held-out sets, chance levels, metrics and the solved flag."""
from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from playground import cli, models, tasks
from playground.config import ModelConfig, RunConfig, TaskConfig, TrainConfig
from playground.data.errors import DataError
from playground.models import ModelOutput, SequenceModel
from playground.tasks import TASK_SPECS, TASKS
from playground.tasks.memory import AddingTask, CopyTask, TemporalOrderTask

LONG_MEMORY_TASKS = ("adding", "temporal-order", "copy")


def build(name: str, seq_len: int = 30, **task) -> tasks.Task:
    return tasks.build(TaskConfig(name=name, test_sequences=200, **task), train=TrainConfig(seq_len=seq_len))


def first_batch(task, batch_size: int, seq_len: int, seed: int = 0) -> dict:
    return next(task.train_batches(batch_size, seq_len, torch.Generator().manual_seed(seed)))


def test_registered_with_their_headline_metrics():
    assert set(LONG_MEMORY_TASKS) <= set(TASKS)
    assert all(TASK_SPECS[name].generates_sequences for name in LONG_MEMORY_TASKS)
    assert TASKS["adding"].headline_metric == "mse" and not TASK_SPECS["adding"].metric("mse").higher_is_better
    for name in ("temporal-order", "copy"):
        assert TASKS[name].headline_metric == "accuracy" and TASK_SPECS[name].metric("accuracy").higher_is_better
    for name in LONG_MEMORY_TASKS:
        assert TASK_SPECS[name].bidirectional and not TASKS[name].carries_state


def test_adding_problem_layout():
    batch = first_batch(build("adding"), 64, 30)
    x, y = batch["x"], batch["y"]
    assert x.shape == (64, 30, 2) and y.shape == (64,)
    marks = x[..., 1]
    assert torch.equal(marks.sum(1), torch.full((64,), 2.0))
    assert bool((marks[:, :15].sum(1) == 1).all()) and bool((marks[:, 15:].sum(1) == 1).all())  # one per half
    assert torch.allclose((x[..., 0] * marks).sum(1), y)
    assert bool(((x[..., 0] >= 0) & (x[..., 0] <= 1)).all())


def test_temporal_order_layout_and_classes():
    task = build("temporal-order", seq_len=100, markers=3)
    batch = first_batch(task, 256, 100)
    x, y = batch["x"], batch["y"]
    assert task.classes == 8 and task.spec["outputs"] == 8
    assert bool((x[:, 0] == task.START).all()) and bool((x[:, -1] == task.END).all())
    is_marker = (x == task.MARKER) | (x == task.MARKER + 1)
    assert bool((is_marker.sum(1) == 3).all())
    for row in range(256):
        positions = is_marker[row].nonzero().squeeze(1).tolist()
        assert 10 <= positions[0] <= 20 and 33 <= positions[1] <= 43 and 66 <= positions[2] <= 76
        order = "".join(task.SYMBOLS[int(x[row, t])] for t in positions)
        assert task.class_name(int(y[row])) == order
    assert len(set(y.tolist())) == 8  # every order occurs


def test_copy_layout():
    task = build("copy", seq_len=30, copy_length=5)
    batch = first_batch(task, 8, 30)
    x, y, mask = batch["x"], batch["y"], batch["mask"]
    assert bool((x[:, :5] < CopyTask.ALPHABET).all())
    assert bool((x[:, 5:24] == CopyTask.BLANK).all()) and bool((x[:, 24] == CopyTask.DELIMITER).all())
    assert bool((x[:, 25:] == CopyTask.BLANK).all())
    assert torch.equal(y[:, 25:], x[:, :5]) and bool(mask[:, 25:].all()) and not bool(mask[:, :25].any())


@pytest.mark.parametrize("name, too_short", [("adding", 1), ("temporal-order", 9), ("copy", 20)])
def test_too_short_sequences_are_refused(name, too_short):
    task = build(name, copy_length=10)
    with pytest.raises(DataError, match="at least"):
        task.check_size(4, too_short)


@pytest.mark.parametrize("name", LONG_MEMORY_TASKS)
def test_heldout_set_is_fixed_per_seq_len_and_seed(name):
    a, b = build(name).heldout(30), build(name).heldout(30)
    assert all(torch.equal(a[k], b[k]) for k in a)  # a fresh task object draws the same held-out set
    other_seed = tasks.build(TaskConfig(name=name, test_sequences=200, data_seed=1)).heldout(30)
    assert not torch.equal(a["x"], other_seed["x"])
    assert build(name).heldout(40)["x"].shape[1] == 40
    # training batches follow the trainer's generator: reproducible by seed, different from the held-out set
    task = build(name)
    assert torch.equal(first_batch(task, 16, 30, seed=3)["x"], first_batch(task, 16, 30, seed=3)["x"])
    assert not torch.equal(first_batch(task, 16, 30, seed=3)["x"], first_batch(task, 16, 30, seed=4)["x"])
    assert not torch.equal(first_batch(task, 16, 30)["x"], a["x"][:16])


def test_chance_levels():
    """adding: the MSE of always predicting the (held-out) mean; classification: 1 / classes."""
    heldout = build("adding").heldout(30)
    chance = build("adding").describe()["chance"]
    assert chance == pytest.approx(float(heldout["y"].var(unbiased=False)), rel=1e-5)
    assert 0.13 < chance < 0.2  # the variance of a sum of two uniforms is 1/6
    assert build("temporal-order").describe()["chance"] == 0.25
    assert build("temporal-order", markers=3).describe()["chance"] == 0.125
    assert build("copy").describe()["chance"] == 1 / 8


class Oracle(SequenceModel):
    """Knows every answer (right=True), or always gives the same one: the mean sum, or class 0 (right=False)."""

    def __init__(self, task, right: bool) -> None:
        super().__init__()
        self.task, self.right = task, right
        self.dummy = torch.nn.Parameter(torch.zeros(1))  # evaluate() reads the device from the parameters

    def forward(self, batch, state=None):
        y = batch["y"]
        if isinstance(self.task, AddingTask):
            value = y if self.right else torch.ones_like(y)
            return ModelOutput(value.view(-1, 1, 1), ((value - y) ** 2).mean())
        labels = y if self.right else torch.zeros_like(y)
        logits = F.one_hot(labels, self.task.spec["outputs"]).float() * 20  # (B, K) or (B, T, K)
        if isinstance(self.task, TemporalOrderTask):
            return ModelOutput(logits[:, None], F.cross_entropy(logits, y))
        return ModelOutput(logits, F.cross_entropy(logits[batch["mask"]], y[batch["mask"]]))


@pytest.mark.parametrize("name", LONG_MEMORY_TASKS)
def test_metrics_and_solved_flag(name):
    task = build(name)
    right = task.evaluate(Oracle(task, True), 64, 30)
    wrong = task.evaluate(Oracle(task, False), 64, 30)
    metric = task.headline_metric
    for result in (right, wrong):
        assert {"val_loss", metric, "chance", "solved_threshold", "solved", "eval_sequences"} <= set(result)
        assert result["eval_sequences"] == 200
    assert right["solved"] and not wrong["solved"]
    if metric == "mse":
        assert right["mse"] == pytest.approx(0.0, abs=1e-10)
        assert wrong["mse"] == pytest.approx(wrong["chance"], rel=0.05)  # predicting the true mean ~ chance
    else:
        assert right["accuracy"] == 1.0
        assert wrong["accuracy"] < 0.5


@pytest.mark.parametrize("name", LONG_MEMORY_TASKS)
def test_sample_describes_one_heldout_example(name):
    task = build(name)
    torch.manual_seed(0)
    model = models.build(ModelConfig(arch="gru", hidden=8, embedding=4), task.spec)
    out = task.sample(model, generator=torch.Generator().manual_seed(0), length=5, temperature=0.5)
    assert out["text"].startswith("T=30")
    assert ("recall" if name == "copy" else "predicted") in out["text"]
    index = out["index"]
    if name == "adding":
        truth = float(task.heldout(30)["y"][index])
        assert f"= {truth:.3f}" in out["text"]


def test_cli_metrics_out_has_the_lab_metrics(tmp_path, store, restore_signals):
    out = tmp_path / "metrics.json"
    code = cli.main(["train", "--task", "adding", "--seq-len", "12", "--steps", "3", "--hidden", "8", "--eval-every", "3",
                     "--test-sequences", "50", "--threads", "1", "--device", "cpu", "--quiet", "--metrics-out", str(out)])
    assert code == 0
    metrics = json.loads(out.read_text())
    for key in ("mse", "chance", "solved", "solved_threshold"):
        assert key in metrics, key
    assert metrics["solved"] is False and metrics["chance"] > 0.1
    assert metrics["config"]["task"]["name"] == "adding"
    assert RunConfig.from_dict(metrics["config"]).label().endswith("on adding T=12")
