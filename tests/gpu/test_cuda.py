"""The CUDA path: runs only where a CUDA GPU is present (skipped on CPU-only machines and in CI)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from playground import models, tasks
from playground.config import ModelConfig, RunConfig, TaskConfig, TrainConfig
from playground.models.recurrent import RecurrentCore
from playground.train.trainer import Trainer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.mark.parametrize("arch", ["rnn-tanh", "rnn-relu", "lstm", "gru"])
def test_cudnn_and_scratch_cells_agree_on_the_gpu(arch):
    torch.manual_seed(0)
    fused = RecurrentCore(ModelConfig(arch=arch, layers=2, hidden=32, bidirectional=True), 16).cuda().double()
    scratch = RecurrentCore(ModelConfig(arch=arch, layers=2, hidden=32, bidirectional=True, backend="scratch"), 16)
    scratch = scratch.cuda().double()
    scratch.load_state_dict(fused.state_dict())
    x = torch.randn(4, 20, 16, device="cuda", dtype=torch.double, requires_grad=True)
    out_f, _ = fused(x)
    (grad_f,) = torch.autograd.grad(out_f.sum(), x)
    out_s, _ = scratch(x)
    (grad_s,) = torch.autograd.grad(out_s.sum(), x)
    assert (out_f - out_s).abs().max().item() < 1e-5
    assert (grad_f - grad_s).abs().max().item() < 1e-5


def test_training_on_the_gpu_matches_the_cpu_at_the_start():
    cfg = RunConfig(task=TaskConfig(dataset="tiny"), model=ModelConfig(arch="lstm", hidden=64),
                    train=TrainConfig(steps=30, batch_size=16, seq_len=32, eval_every=10, threads=1))
    losses = {}
    for device in ("cpu", "cuda"):
        task = tasks.build(cfg.task)
        torch.manual_seed(0)
        model = models.build(cfg.model, task.spec)
        result = Trainer(cfg.train, device).fit(model, task)
        assert result.status == "completed"
        assert next(model.parameters()).device.type == device
        assert len(result.evals[-1]["gradient_flow"]) == cfg.train.seq_len
        losses[device] = [r["loss"] for r in result.history]
    assert abs(losses["cpu"][0] - losses["cuda"][0]) < 1e-3  # same weights, same first batch
    assert losses["cuda"][-1] < losses["cuda"][0] - 0.5


def test_cli_trains_on_cuda(tmp_path):
    out = tmp_path / "m.json"
    env = {**os.environ, "PLAYGROUND_HOME": str(tmp_path / "home")}
    subprocess.run([sys.executable, "-m", "playground", "train", "--device", "cuda", "--steps", "20", "--hidden", "32",
                    "--batch-size", "8", "--seq-len", "32", "--eval-every", "10", "--quiet", "--metrics-out", str(out)],
                   check=True, env=env, timeout=300)
    metrics = json.loads(out.read_text())
    assert metrics["status"] == "completed"
    assert metrics["device"].startswith("cuda")


def _lstm_run(steps=40, dropout=0.3, **train):
    return RunConfig(task=TaskConfig(dataset="tiny"), model=ModelConfig(arch="lstm", hidden=64, layers=2, dropout=dropout),
                     train=TrainConfig(steps=steps, batch_size=16, seq_len=32, threads=1, **train))


def test_the_step_loop_reads_nothing_off_the_gpu_between_reads(host_reads):
    """No `.item()` / `float()` / `.tolist()` of a CUDA tensor in a step, except where the window is read."""
    from playground.train.trainer import Callback

    cfg = _lstm_run(eval_every=1000, checkpoint_every=10**9, eval_in_background=False, clip="value",
                    clip_threshold=0.05)
    task = tasks.build(cfg.task)
    torch.manual_seed(0)
    model = models.build(cfg.model, task.spec)
    reads = host_reads("cuda")
    starts = {}

    class Marks(Callback):
        def before_step(self, trainer, step):
            starts[step] = len(reads.reads)

    trainer = Trainer(cfg.train, "cuda")
    trainer.read_every, trainer.read_seconds = 16, float("inf")
    assert trainer.fit(model, task, [Marks()]).status == "completed"
    bounds = [starts[s] for s in sorted(starts)] + [len(reads.reads)]
    per_step = {s: reads.reads[bounds[i]:bounds[i + 1]] for i, s in enumerate(sorted(starts))}
    quiet = {s: r for s, r in per_step.items() if s not in {1, 17, 33, 40} and r}
    assert not quiet, quiet


def test_probes_keep_cudnn_on_and_measure_what_the_cpu_measures(monkeypatch):
    """The flow and Jacobian probes run cuDNN in training mode without dropout (never turning cuDNN off for the
    process, which a worker-thread probe would do under the training thread) and agree with the CPU's."""
    from playground.train import diagnostics

    calls = []
    original = torch._C._set_cudnn_enabled
    monkeypatch.setattr(torch._C, "_set_cudnn_enabled", lambda enabled: (calls.append(enabled), original(enabled))[1])
    cfg = _lstm_run()
    task = tasks.build(cfg.task)
    torch.manual_seed(0)
    model = models.build(cfg.model, task.spec).double()
    probe = task.probe_batch(8, 32)
    cpu_flow, cpu_jacobian = diagnostics.gradient_flow(model, probe), diagnostics.state_jacobian(model, probe)
    model.cuda()
    gpu_probe = {k: v.cuda() if isinstance(v, torch.Tensor) else v for k, v in probe.items()}
    flow, jacobian = diagnostics.gradient_flow(model, gpu_probe), diagnostics.state_jacobian(model, gpu_probe)
    assert flow == pytest.approx(cpu_flow, rel=1e-6, abs=1e-12)
    for readout, layers in cpu_jacobian.items():
        for layer, value in layers.items():
            if value is not None:
                assert jacobian[readout][layer] == pytest.approx(value, rel=1e-5), (readout, layer)
    assert model.core.rnn.dropout == 0.3 and model.core.rnn.training == model.training
    result = Trainer(_lstm_run(steps=12, eval_every=3).train, "cuda").fit(models.build(cfg.model, task.spec), task)
    assert result.status == "completed" and len(result.evals) == 5
    assert calls == [] and torch.backends.cudnn.enabled


def test_background_evaluations_on_a_side_stream_match_inline_ones():
    """The snapshot is evaluated on a CUDA stream of its own: same records as evaluating the live model inline."""
    results = {}
    for background in (False, True):
        # (no dropout: the comparison is of the streams, not of where the CUDA generator's draws go)
        cfg = _lstm_run(steps=12, dropout=0.0, eval_every=4, eval_in_background=background, sample_length=12)
        task = tasks.build(cfg.task)
        torch.manual_seed(0)
        model = models.build(cfg.model, task.spec)
        results[background] = Trainer(cfg.train, "cuda").fit(model, task)
    inline, background = results[False], results[True]
    assert [r["loss"] for r in background.history] == pytest.approx([r["loss"] for r in inline.history], rel=1e-5)
    assert [e["step"] for e in background.evals] == [e["step"] for e in inline.evals] == [1, 4, 8, 12]
    for ours, theirs in zip(background.evals, inline.evals):
        assert ours["val_loss"] == pytest.approx(theirs["val_loss"], rel=1e-4)
        assert ours["gradient_flow"] == pytest.approx(theirs["gradient_flow"], rel=1e-3, abs=1e-9)
