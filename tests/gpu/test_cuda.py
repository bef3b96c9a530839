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
