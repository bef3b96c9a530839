"""The trainer keeps each step's loss and gradient norms on the device and reads them a window at a time:
the step loop reads no tensor value between two reads, and the records are those of reading every step."""
from __future__ import annotations

import math

import pytest
import torch

from playground.models import SequenceModel
from playground.runstore import runner
from playground.train.trainer import Callback, Trainer

WINDOW = 16


class StepMarks(Callback):
    """Where each step's reads begin in a `HostReads` log, and when each record arrived."""

    def __init__(self, reads):
        self.reads, self.starts, self.arrived = reads, {}, {}

    def before_step(self, trainer, step):
        self.starts[step] = len(self.reads.reads)

    def on_step(self, trainer, record):
        self.arrived[record["step"]] = trainer.step

    def per_step(self) -> dict[int, list]:
        """{step: the reads made from its before_step to the next one's}, leaving out the optimiser's reads of
        its step counters (kept on the host by torch unless `capturable`: no device sync)."""
        steps = sorted(self.starts)
        bounds = [self.starts[s] for s in steps] + [len(self.reads.reads)]
        return {s: [r for r in self.reads.reads[bounds[i]:bounds[i + 1]] if "/torch/optim/" not in r[0]]
                for i, s in enumerate(steps)}


def _trainer(cfg, window=WINDOW):
    trainer = Trainer(cfg.train, "cpu")
    trainer.read_every, trainer.read_seconds = window, math.inf  # reads at fixed steps, whatever the machine's load
    return trainer


@pytest.mark.parametrize("arch,backend", [("lstm", "fused"), ("gru", "scratch")])  # (an ESN solves its readout on the host)
def test_the_step_loop_reads_no_tensor_value_between_reads(tiny_config, host_reads, arch, backend):
    steps = 40
    cfg = tiny_config(model={"arch": arch, "backend": backend},
                      train={"steps": steps, "eval_every": 1000, "checkpoint_every": 10**9, "clip": "value",
                             "clip_threshold": 0.05,
                             # inline: a background evaluation's record, whenever it comes back, is a read point too
                             "eval_in_background": False})
    task, model = runner.prepare(cfg)
    reads = host_reads()
    marks = StepMarks(reads)
    result = _trainer(cfg).fit(model, task, [marks])
    assert result.status == "completed" and result.steps == steps
    per_step = marks.per_step()
    read_points = {1, 1 + WINDOW, 1 + 2 * WINDOW, steps}  # the first evaluation, two full windows, the end
    quiet = {s: sorted(set(r)) for s, r in per_step.items() if s not in read_points and r}
    assert not quiet, f"tensor values read between two reads of the window: {quiet}"
    assert [name for *_, name in per_step[1 + WINDOW]] == ["tolist"], "a window is read with one transfer"
    assert marks.arrived[1] == 1 and marks.arrived[2] == marks.arrived[1 + WINDOW] == 1 + WINDOW


class LossWatcher(Callback):
    """Each training forward's loss as it happens (a forward hook), to compare with the records read later."""

    def __init__(self):
        self.losses, self.records = [], []

    def on_start(self, trainer, info):
        def keep(module, args, out):
            if module.training:
                self.losses.append(out.loss.item())

        trainer.model.register_forward_hook(keep)

    def on_step(self, trainer, record):
        self.records.append(record)


def test_records_read_in_windows_are_those_of_reading_every_step(tiny_config):
    cfg = tiny_config(model={"layers": 2}, train={"steps": 37, "eval_every": 10, "clip": "norm", "clip_threshold": 0.3})
    runs = {}
    for window in (1, WINDOW):
        task, model = runner.prepare(cfg)
        watcher = LossWatcher()
        result = _trainer(cfg, window).fit(model, task, [watcher])
        assert [r["step"] for r in watcher.records] == list(range(1, 38))
        assert [r["loss"] for r in watcher.records] == watcher.losses  # the loss each forward computed
        runs[window] = result.history
    timing = {"tokens_per_s", "time"}
    for every_step, windowed in zip(runs[1], runs[WINDOW]):
        assert {k: v for k, v in windowed.items() if k not in timing} == {
            k: v for k, v in every_step.items() if k not in timing}
    assert any(r["clipped"] for r in runs[WINDOW]) and set(runs[WINDOW][0]["layer_norms"]) == {"embed", "rnn l0", "rnn l1", "head"}
    for record in runs[WINDOW]:
        layers = math.sqrt(sum(v * v for v in record["layer_norms"].values()))
        assert layers == pytest.approx(record["grad_norm"], rel=1e-9)


class Spoilt(SequenceModel):
    """A language model whose training loss becomes +inf at forward `at`; from forward `fail` on it raises, as
    a step on spoilt weights can (a linear solve, sampling from NaN probabilities)."""

    def __init__(self, inner, at, fail=None):
        super().__init__()
        self.inner, self.core, self.at, self.fail, self.calls = inner, inner.core, at, fail, 0

    def forward(self, batch, state=None):
        out = self.inner(batch, state)
        if self.training:
            self.calls += 1
            if self.fail is not None and self.calls >= self.fail:
                raise RuntimeError("linalg.solve: the input contains NaN")
            if self.calls == self.at:
                out.loss = out.loss * float("inf")
        return out

    def last_step_loss(self, batch):
        return self.inner.last_step_loss(batch)


def _spoilt_fit(tiny_config, at, fail=None):
    cfg = tiny_config(train={"steps": 60, "eval_every": 1000, "checkpoint_every": 1000})
    task, model = runner.prepare(cfg)
    marks = StepMarks(type("NoReads", (), {"reads": []})())
    result = _trainer(cfg).fit(Spoilt(model, at, fail), task, [marks])
    return result, marks


def test_divergence_in_the_middle_of_a_window_is_recorded_at_its_step(tiny_config):
    result, marks = _spoilt_fit(tiny_config, at=21)
    assert result.status == "diverged" and result.steps == 21
    assert "the loss became inf at step 21" in result.message
    assert [r["step"] for r in result.history] == list(range(1, 22)) == sorted(marks.arrived)
    assert 21 <= marks.arrived[21] < 21 + WINDOW  # noticed within one window
    assert math.isinf(result.history[-1]["loss"]) and all(math.isfinite(r["loss"]) for r in result.history[:-1])


def test_a_step_that_fails_after_an_unread_divergence_ends_as_that_divergence(tiny_config):
    result, _ = _spoilt_fit(tiny_config, at=20, fail=23)
    assert result.status == "diverged" and result.steps == 20 and "at step 20" in result.message


def test_a_step_that_fails_on_finite_weights_still_raises(tiny_config):
    with pytest.raises(RuntimeError, match="linalg.solve"):
        _spoilt_fit(tiny_config, at=10**6, fail=23)
