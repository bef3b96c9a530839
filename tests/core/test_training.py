"""The training loop: learning, reproducibility, truncated BPTT, clipping, divergence."""
from __future__ import annotations

import math
import statistics
import threading

import pytest
import torch

from playground.runstore import jobs, runner
from playground import models, tasks
from playground.config import ConfigError, ModelConfig, TaskConfig
from playground.models import SequenceModel
from playground.tasks.char import CharTask
from playground.train import diagnostics
from playground.train.step_scalars import clip_outcome
from playground.train.trainer import Callback, Trainer


def _fit(cfg, callbacks=(), model=None, task=None):
    torch.manual_seed(cfg.train.seed)
    task = task or tasks.build(cfg.task)
    model = model or models.build(cfg.model, task.spec)
    return Trainer(cfg.train, "cpu").fit(model, task, callbacks), model, task


# -- learning and reproducibility --------------------------------------------------------------------
@pytest.mark.parametrize("arch, backend", [("lstm", "fused"), ("gru", "scratch")])
def test_tiny_run_loss_falls(tiny_config, arch, backend):
    cfg = tiny_config(model={"arch": arch, "backend": backend, "hidden": 32, "embedding": 16},
                      train={"steps": 50, "batch_size": 8, "lr": 0.02, "eval_every": 25})
    result, _, task = _fit(cfg)
    assert result.status == "completed" and result.steps == 50 and len(result.history) == 50
    losses = [r["loss"] for r in result.history]
    uniform = math.log(len(task.vocab))
    assert statistics.fmean(losses[:3]) > 0.85 * uniform  # starts near guessing
    assert statistics.fmean(losses[-10:]) < 0.6 * statistics.fmean(losses[:3])
    assert result.evals[-1]["val_loss"] < 0.75 * result.evals[0]["val_loss"]
    assert [e["step"] for e in result.evals] == [1, 25, 50]


def _losses(store, run_id):
    return [r["loss"] for r in store.metrics(run_id, "train")]


def test_same_seed_same_losses_and_other_seed_differs(store, tiny_config):
    # dropout between two layers: the run's seed must also fix the dropout masks
    model = {"arch": "lstm", "layers": 2, "dropout": 0.3}
    runs = [store.create_run(tiny_config(model=model, train={"steps": 12, "seed": seed})) for seed in (7, 7, 8)]
    for k, run_id in enumerate(runs):
        torch.manual_seed(12345 + k)  # the global RNG's state before a run must not matter: the run seeds it
        result = runner.execute(store, run_id, handle_signals=False)
        assert result.status == "completed"
    first, again, other = (_losses(store, r) for r in runs)
    assert len(first) == 12
    assert first == again
    assert first != other


def test_bidirectional_char_model_is_refused(store, tiny_config, tiny_task):
    cfg = ModelConfig(arch="gru", hidden=8, embedding=4, bidirectional=True)
    with pytest.raises(ConfigError, match="bidirectional") as err:
        models.build(cfg, tiny_task.spec)
    assert "next character" in str(err.value)
    # and through a stored run: it fails with that message, no exception
    run_id = store.create_run(tiny_config(model={"bidirectional": True}))
    assert runner.execute(store, run_id, handle_signals=False) is None
    record = store.get_run(run_id)
    assert record.status == "failed" and "bidirectional" in record.message
    assert store.metrics(run_id) == []


# -- truncated BPTT ----------------------------------------------------------------------------------
class RecordingTask(CharTask):
    """The char task, remembering which training batch started a new stream."""

    def __init__(self, cfg):
        super().__init__(cfg)
        self.new_stream: list[bool] = []
        self.batches: list[dict] = []

    def train_batches(self, batch_size, seq_len, generator):
        for batch in super().train_batches(batch_size, seq_len, generator):
            self.new_stream.append(batch["new_stream"])
            self.batches.append({"x": batch["x"].clone(), "y": batch["y"].clone()})
            yield batch


class SpyModel(SequenceModel):
    """Wraps a language model and records the state each training batch gets and returns."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.core = inner, inner.core
        self.calls: list[tuple] = []

    def forward(self, batch, state=None):
        out = self.inner(batch, state)
        if self.training:
            self.calls.append((state, out.state))
        return out

    def last_step_loss(self, batch):
        return self.inner.last_step_loss(batch)


def _tensors(state):
    return list(state) if isinstance(state, tuple) else [state]


@pytest.mark.parametrize("arch", ["lstm", "gru"])
def test_tbptt_carries_detached_state_and_resets_on_new_stream(tiny_config, arch):
    # 1,000 characters in 4 streams: about 14 batches per epoch, so 40 steps cross two epoch boundaries
    cfg = tiny_config(task={"max_chars": 1000}, model={"arch": arch}, train={"steps": 40})
    task = RecordingTask(cfg.task)
    torch.manual_seed(0)
    spy = SpyModel(models.build(cfg.model, task.spec))
    result, _, _ = _fit(cfg, model=spy, task=task)
    assert result.status == "completed"
    assert len(spy.calls) == 40 and len(task.new_stream) == 40
    assert task.new_stream[0] and task.new_stream.count(True) >= 3 and task.new_stream.count(False) > 30
    for k, (state_in, _) in enumerate(spy.calls):
        if task.new_stream[k]:
            assert state_in is None, f"batch {k} starts a new stream: the state must be reset"
            continue
        previous_out = spy.calls[k - 1][1]
        for fed, final in zip(_tensors(state_in), _tensors(previous_out), strict=True):
            assert torch.equal(fed, final.detach()), f"batch {k} did not get batch {k - 1}'s final state"
            assert final.grad_fn is not None  # the final state was part of batch k-1's graph ...
            assert fed.grad_fn is None and not fed.requires_grad  # ... and is cut at the boundary
    # consecutive batches of one epoch continue the same text streams
    for k in range(1, 40):
        if not task.new_stream[k]:
            before, now = task.batches[k - 1], task.batches[k]
            assert torch.equal(now["x"][:, 0], before["y"][:, -1])


def test_char_batches_are_contiguous_streams(tiny_task):
    gen = torch.Generator().manual_seed(0)
    batches = tiny_task.train_batches(4, 16, gen)
    first = next(batches)
    assert first["new_stream"] and first["x"].shape == (4, 16)
    assert torch.equal(first["x"][:, 1:], first["y"][:, :-1])  # y is x shifted by one
    second = next(batches)
    assert not second["new_stream"]
    train_ids = tiny_task.split()[0]
    stream_len = len(train_ids) // 4
    for b in range(4):  # row b reads its own quarter of the text, left to right
        row = torch.cat([first["x"][b], second["x"][b], second["y"][b, -1:]])
        stream = train_ids[b * stream_len: (b + 1) * stream_len]
        starts = (stream.unfold(0, len(row), 1) == row).all(dim=1).nonzero().flatten().tolist()
        assert starts and starts[0] <= 16, f"row {b} is not a contiguous piece near the start of its stream"


# -- clipping ------------------------------------------------------------------------------------------
def _grads_after_backward(seed=0, scale=1.0):
    torch.manual_seed(seed)
    task = tasks.build(TaskConfig(max_chars=2000))
    model = models.build(ModelConfig(arch="rnn-tanh", hidden=16, embedding=8), task.spec)
    batch = next(task.train_batches(4, 12, torch.Generator().manual_seed(seed)))
    (model(batch).loss * scale).backward()
    return model


def _clip(trainer, params, norm):
    """Clip as the trainer does (on the device, nothing read back), then read what it did as a record would."""
    readout = trainer.clip_gradients(params, torch.tensor(norm, dtype=torch.float64))
    return clip_outcome(trainer.clip_mode, trainer.clip_threshold, norm, readout.tolist())


def _clone_grads(model):
    return [p.grad.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("threshold", [0.05, 1e6])
def test_clip_by_norm_equals_torch(tiny_config, threshold):
    model = _grads_after_backward()
    reference = [torch.nn.Parameter(p.detach().clone()) for p in model.parameters()]
    for r, g in zip(reference, _clone_grads(model)):
        r.grad = g
    trainer = Trainer(tiny_config(train={"clip": "norm", "clip_threshold": threshold}).train)
    params = list(model.parameters())
    norm, _ = diagnostics.grad_norms(list(model.named_parameters()))
    after, clipped = _clip(trainer, params, norm)
    torch_norm = torch.nn.utils.clip_grad_norm_(reference, threshold).item()
    assert norm == pytest.approx(torch_norm, rel=1e-6)
    assert clipped == (threshold < norm)
    for p, r in zip(params, reference):
        torch.testing.assert_close(p.grad, r.grad, rtol=1e-6, atol=1e-9)
    actual = torch.stack([p.grad.norm() for p in params]).norm().item()
    assert after == pytest.approx(actual, rel=1e-5)
    assert actual <= min(threshold, norm) * (1 + 1e-5)


def test_clip_by_value_equals_clamp(tiny_config):
    model = _grads_after_backward(scale=50.0)
    before = _clone_grads(model)
    threshold = 0.01
    assert max(g.abs().max().item() for g in before) > threshold
    trainer = Trainer(tiny_config(train={"clip": "value", "clip_threshold": threshold}).train)
    params = list(model.parameters())
    norm, _ = diagnostics.grad_norms(list(model.named_parameters()))
    after, clipped = _clip(trainer, params, norm)
    assert clipped
    for p, g in zip(params, before):
        assert torch.equal(p.grad, g.clamp(-threshold, threshold))
    reference = [torch.nn.Parameter(torch.zeros_like(g)) for g in before]
    for r, g in zip(reference, before):
        r.grad = g.clone()
    torch.nn.utils.clip_grad_value_(reference, threshold)
    assert all(torch.equal(p.grad, r.grad) for p, r in zip(params, reference))
    assert after == pytest.approx(torch.stack([p.grad.norm() for p in params]).norm().item(), rel=1e-5)


class GradientWatcher(Callback):
    """Keeps every parameter's gradient as backward left it (before clipping) and as the optimiser received it
    (after clipping), step by step: the records come a window late (`on_step`), the gradients are caught as
    they happen by hooks."""

    def __init__(self):
        self.pre: list[list[torch.Tensor]] = []
        self.post: list[list[torch.Tensor]] = []
        self.records: list[dict] = []
        self._current: dict[int, torch.Tensor] = {}

    def on_start(self, trainer, info):
        self.params = list(trainer.model.parameters())
        for i, p in enumerate(self.params):
            p.register_post_accumulate_grad_hook(lambda p, i=i: self._current.__setitem__(i, p.grad.detach().clone()))
        trainer.optimizer.register_step_pre_hook(self._before_update)

    def _before_update(self, optimizer, args, kwargs):
        self.pre.append([self._current[i] for i in range(len(self.params))])
        self.post.append([p.grad.detach().clone() for p in self.params])
        self._current = {}

    def on_step(self, trainer, record):
        self.records.append(record)


def test_clipping_by_norm_during_training_matches_torch_every_step(tiny_config):
    threshold = 0.25
    cfg = tiny_config(model={"arch": "rnn-relu"}, train={"steps": 15, "lr": 0.05, "optimizer": "sgd",
                                                        "clip": "norm", "clip_threshold": threshold})
    watcher = GradientWatcher()
    result, _, _ = _fit(cfg, [watcher])
    assert result.status == "completed"
    clipped = 0
    for pre, post, record in zip(watcher.pre, watcher.post, watcher.records):
        reference = [torch.nn.Parameter(torch.zeros_like(g)) for g in pre]
        for r, g in zip(reference, pre):
            r.grad = g.clone()
        total = torch.nn.utils.clip_grad_norm_(reference, threshold).item()
        assert record["grad_norm"] == pytest.approx(total, rel=1e-5), "grad_norm must be the norm before clipping"
        for p, r in zip(post, reference):
            torch.testing.assert_close(p, r.grad, rtol=1e-5, atol=1e-8)
        after = torch.stack([g.norm() for g in post]).norm().item()
        assert after <= threshold * (1 + 1e-5)
        assert record["grad_norm_clipped"] == pytest.approx(after, rel=1e-4)
        assert record["clipped"] == (total > threshold)
        clipped += record["clipped"]
    assert clipped >= 5, "the threshold was meant to be hit on most steps"


def test_clipping_by_value_during_training(tiny_config):
    cfg = tiny_config(train={"steps": 8, "clip": "value", "clip_threshold": 0.002})
    watcher = GradientWatcher()
    _fit(cfg, [watcher])
    for pre, post, record in zip(watcher.pre, watcher.post, watcher.records):
        assert all(torch.equal(q, g.clamp(-0.002, 0.002)) for g, q in zip(pre, post))
        assert record["clipped"] == any(bool((g.abs() > 0.002).any()) for g in pre)
    assert any(r["clipped"] for r in watcher.records)


class ChangeClipping(Callback):
    def __init__(self, at_step, mode, threshold):
        self.at_step, self.mode, self.threshold = at_step, mode, threshold

    def before_step(self, trainer, step):
        if step == self.at_step:
            trainer.set_clipping(self.mode, self.threshold)


def test_set_clipping_mid_run(tiny_config):
    cfg = tiny_config(train={"steps": 12, "clip": "none"})
    watcher = GradientWatcher()
    result, _, _ = _fit(cfg, [ChangeClipping(6, "value", 0.001), watcher])
    modes = [r["clip"] for r in result.history]
    assert modes == ["none"] * 5 + ["value"] * 7
    assert [r["clip_threshold"] for r in result.history][5:] == [0.001] * 7
    assert not any(r["clipped"] for r in result.history[:5])
    for pre, post in zip(watcher.pre[:5], watcher.post[:5]):  # unclipped before the change
        assert all(torch.equal(a, b) for a, b in zip(pre, post))
    for post in watcher.post[5:]:
        assert max(g.abs().max().item() for g in post) <= torch.tensor(0.001).item()  # float32 threshold


def test_set_clipping_rejects_bad_settings(tiny_config):
    trainer = Trainer(tiny_config().train)
    with pytest.raises(ConfigError):
        trainer.set_clipping("sometimes", 1.0)
    with pytest.raises(ConfigError):
        trainer.set_clipping("norm", 0.0)
    trainer.set_clipping("none", 0.0)
    assert trainer.clip_mode == "none"


class AtStep(Callback):
    """Acts during step `step` (before it runs, after the store recorder has looked at the controls), as a
    person does between two polls; step records come a window late, so `on_step` cannot time this."""

    def __init__(self, step, action):
        self.step, self.action = step, action

    def before_step(self, trainer, step):
        if step == self.step:
            self.action()


def test_clipping_changed_through_the_store(store, tiny_config, monkeypatch):
    monkeypatch.setattr(runner, "POLL_SECONDS", 0.0)  # look at the controls before every step
    run_id = store.create_run(tiny_config(train={"steps": 14, "clip": "norm", "clip_threshold": 1.0}))
    actions = [AtStep(5, lambda: jobs.set_clipping(store, run_id, "value", 0.02)),
               AtStep(9, lambda: store.set_control(run_id, "clip", {"mode": "sideways", "threshold": 1.0}))]
    result = runner.execute(store, run_id, actions, handle_signals=False)
    assert result.status == "completed"
    rows = store.metrics(run_id)
    assert [r["clip"] for r in rows] == ["norm"] * 5 + ["value"] * 9  # a bad control changes nothing
    assert all(r["clip_threshold"] == 0.02 for r in rows[5:])
    events = store.events(run_id)
    clip_events = [e for e in events if e["kind"] == "clip"]
    assert len(clip_events) == 1 and clip_events[0]["step"] == 6 and "value" in clip_events[0]["message"]
    errors = [e for e in events if e["kind"] == "error"]
    assert len(errors) == 1 and errors[0]["step"] == 10 and "clip" in errors[0]["message"]


# -- divergence ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lr", [100.0, 1e4])
def test_divergence_ends_the_run_cleanly(store, tiny_config, lr):
    cfg = tiny_config(model={"arch": "rnn-relu", "hidden": 16},
                      train={"steps": 60, "optimizer": "sgd", "lr": lr, "clip": "none", "eval_every": 5})
    run_id = store.create_run(cfg)
    result = runner.execute(store, run_id, handle_signals=False)  # no exception
    assert result.status == "diverged" and result.steps < 60
    record = store.get_run(run_id)
    assert record.status == "diverged" and record.step == result.steps
    assert f"step {result.steps}" in record.message and "diverged" in record.message
    rows = store.metrics(run_id)
    assert [r["step"] for r in rows] == list(range(1, result.steps + 1))  # the history is kept
    last_eval = (store.metrics(run_id, "eval") or [{}])[-1]
    # a background evaluation may report a non-finite validation loss a few steps after the step it measured
    non_finite = rows[-1]["loss"] is None or rows[-1]["grad_norm"] is None or (
        last_eval.get("step", 0) <= result.steps and last_eval["val_loss"] is None
        and f"after step {last_eval['step']}" in record.message)
    assert non_finite, "the diverged step's non-finite value is stored as null"
    assert any(e["kind"] == "diverged" for e in store.events(run_id))


class InfAt(SequenceModel):
    """A language model whose training loss becomes +inf at one step."""

    def __init__(self, inner, at):
        super().__init__()
        self.inner, self.core, self.at, self.calls = inner, inner.core, at, 0

    def forward(self, batch, state=None):
        out = self.inner(batch, state)
        if self.training:
            self.calls += 1
            if self.calls == self.at:
                out.loss = out.loss * float("inf")
        return out

    def last_step_loss(self, batch):
        return self.inner.last_step_loss(batch)


def test_injected_inf_diverges_at_that_step(store, tiny_config, monkeypatch):
    build = models.build
    monkeypatch.setattr(models, "build", lambda cfg, spec: InfAt(build(cfg, spec), at=7))
    run_id = store.create_run(tiny_config(train={"steps": 30, "checkpoint_every": 5}))
    result = runner.execute(store, run_id, handle_signals=False)
    assert result.status == "diverged" and result.steps == 7
    assert "the loss became inf at step 7" in result.message
    record = store.get_run(run_id)
    assert (record.status, record.step) == ("diverged", 7) and "step 7" in record.message
    rows = store.metrics(run_id)
    assert len(rows) == 7 and rows[-1]["loss"] is None
    assert all(isinstance(r["loss"], float) for r in rows[:-1])
    assert record.summary["steps"] == 7 and math.isfinite(record.summary["train_loss"])
    # the last good checkpoint (step 5) is kept
    import json
    meta = json.loads((store.checkpoint_dir(run_id) / "config.json").read_text())
    assert meta["step"] == 5


def test_stop_event_stops_between_steps(store, tiny_config):
    """A stop asked for during step 4 ends the run after it, with every step's record kept, although the
    records are read a window at a time."""
    stop = threading.Event()
    run_id = store.create_run(tiny_config(train={"steps": 500}))
    result = runner.execute(store, run_id, [AtStep(4, stop.set)], stop=stop, handle_signals=False)
    assert (result.status, result.steps) == ("stopped", 4)
    assert [r["step"] for r in store.metrics(run_id)] == [1, 2, 3, 4]
