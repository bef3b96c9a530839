"""Evaluations on a snapshot in a worker thread measure exactly what inline evaluations measure."""
from __future__ import annotations

import math

import pytest
import torch

from playground.runstore import runner
from playground.train.trainer import Trainer


def _fit(cfg):
    task, model = runner.prepare(cfg)
    return Trainer(cfg.train, "cpu").fit(model, task)


@pytest.mark.parametrize("arch,backend", [("lstm", "fused"), ("gru", "scratch"), ("esn", "fused")])
def test_background_and_inline_evaluations_agree(tiny_config, arch, backend):
    model, train = {"arch": arch, "backend": backend}, {"steps": 12, "eval_every": 4, "sample_length": 12}
    inline = _fit(tiny_config(model=model, train={**train, "eval_in_background": False}))
    background = _fit(tiny_config(model=model, train={**train, "eval_in_background": True}))
    assert [r["loss"] for r in background.history] == [r["loss"] for r in inline.history]  # training is untouched
    assert [e["step"] for e in background.evals] == [e["step"] for e in inline.evals] == [1, 4, 8, 12]
    for ours, theirs in zip(background.evals, inline.evals):
        assert ours["val_loss"] == pytest.approx(theirs["val_loss"], rel=1e-6, abs=1e-9)
        assert ours["sample"] == theirs["sample"]
        assert ours["gradient_flow"] == pytest.approx(theirs["gradient_flow"], rel=1e-5, abs=1e-12)
        assert ours["spectral_radius"] == pytest.approx(theirs["spectral_radius"], rel=1e-6)
        assert (ours.get("gate_stats") is None) == (theirs.get("gate_stats") is None)
        if ours.get("gate_stats"):
            for gate, stats in ours["gate_stats"].items():
                assert stats["mean"] == pytest.approx(theirs["gate_stats"][gate]["mean"], rel=1e-6)


def test_a_snapshot_is_taken_between_steps(tiny_config, monkeypatch):
    """The record of step k describes the weights after step k, however long the evaluation takes."""
    cfg = tiny_config(train={"steps": 6, "eval_every": 3})
    task, model = runner.prepare(cfg)
    seen = {}
    original = task.evaluate

    def slow_evaluate(evaluated_model, *args, **kwargs):
        seen.setdefault(len(seen), [p.detach().clone() for p in evaluated_model.parameters()])
        return original(evaluated_model, *args, **kwargs)

    monkeypatch.setattr(task, "evaluate", slow_evaluate)
    weights = {}

    class Remember:
        def on_start(self, *a): ...
        def before_step(self, *a): ...
        def on_eval(self, *a): ...
        def on_checkpoint(self, *a): ...
        def on_end(self, *a): ...

        def on_step(self, trainer, record):
            weights[record["step"]] = [p.detach().clone() for p in trainer.model.parameters()]

    Trainer(cfg.train, "cpu").fit(model, task, [Remember()])
    for index, step in enumerate((1, 3, 6)):
        assert all(torch.equal(a, b) for a, b in zip(seen[index], weights[step]))


def test_divergence_found_by_a_background_evaluation_names_its_step(tiny_config):
    cfg = tiny_config(model={"arch": "rnn-relu", "hidden": 16},
                      train={"steps": 60, "optimizer": "sgd", "lr": 1e4, "clip": "none", "eval_every": 5})
    result = _fit(cfg)
    assert result.status == "diverged"
    last = result.evals[-1] if result.evals else {}
    if last and not math.isfinite(last.get("val_loss", 0.0)):
        assert f"after step {last['step']}" in result.message


def test_an_evaluation_that_finishes_while_a_divergence_waits_to_be_read_is_kept(monkeypatch):
    """The step-1 evaluation finishes after the step that diverged but before that step is read: the run keeps it
    (its snapshot was of finite weights), as it does when the evaluation finishes sooner."""
    from playground.config import ModelConfig, RunConfig, TaskConfig, TrainConfig
    from playground.train import background, trainer

    monkeypatch.setattr(trainer, "READ_SECONDS", 1e9)  # the window is read at step 10 (an evaluation) or 16
    original = background.BackgroundEvaluations.finished

    def finished(self):
        if self.trainer.step >= 7:  # by now the run has diverged (step 5), unread
            self._wait_for_running()
        return original(self)

    monkeypatch.setattr(background.BackgroundEvaluations, "finished", finished)
    cfg = RunConfig(task=TaskConfig(dataset="tiny"), model=ModelConfig(arch="rnn-relu", hidden=64, init="identity"),
                    train=TrainConfig(steps=100, optimizer="sgd", lr=0.03, clip="none", eval_every=10))
    task, model = runner.prepare(cfg)
    result = Trainer(cfg.train, "cpu").fit(model, task)
    assert result.status == "diverged" and result.steps < 7
    assert [e["step"] for e in result.evals] == [1]
