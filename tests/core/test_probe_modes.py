"""The gradient probes need a backward pass in eval mode, which cuDNN refuses: they change the modes of their own
model's modules for it, never a process-wide switch that would reach the training thread from the worker."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from playground import models
from playground.config import ModelConfig
from playground.models import inference
from playground.runstore import runner
from playground.train import diagnostics
from playground.train.trainer import Trainer


@pytest.fixture
def switch_calls(monkeypatch):
    """Every call that turns cuDNN on or off for the whole process."""
    calls = []
    original = torch._C._set_cudnn_enabled
    monkeypatch.setattr(torch._C, "_set_cudnn_enabled", lambda enabled: (calls.append(enabled), original(enabled))[1])
    return calls


def _lstm(task, dropout=0.5):
    torch.manual_seed(0)
    return models.build(ModelConfig(arch="lstm", hidden=24, embedding=8, layers=2, dropout=dropout), task.spec)


def test_probes_leave_the_process_wide_cudnn_switch_alone(tiny_task, tiny_config, switch_calls):
    model = _lstm(tiny_task)
    probe = tiny_task.probe_batch(4, 16)
    diagnostics.gradient_flow(model, probe)
    diagnostics.state_jacobian(model, probe)
    cfg = tiny_config(train={"steps": 6, "eval_every": 2})  # evaluations in the worker thread
    task, trained = runner.prepare(cfg)
    assert len(Trainer(cfg.train, "cpu").fit(trained, task).evals) == 4
    assert switch_calls == []


def test_fused_modules_on_cudnn_probe_in_training_mode_with_dropout_off(tiny_task, monkeypatch):
    """What a GPU does, on the CPU: the predicate says cuDNN runs the fused LSTM. The probe then sees it in
    training mode without dropout, measures what eval mode measures, and the modes come back afterwards."""
    model = _lstm(tiny_task)
    probe = tiny_task.probe_batch(4, 16)
    expected_flow = diagnostics.gradient_flow(model, probe)
    expected_jacobian = diagnostics.state_jacobian(model, probe)
    rnn = model.core.rnn
    assert isinstance(rnn, torch.nn.LSTM) and rnn.dropout == 0.5
    seen = []
    rnn.register_forward_pre_hook(lambda module, args: seen.append((module.training, module.dropout)))
    monkeypatch.setattr(inference, "runs_on_cudnn", lambda module: True)
    model.train()
    flow = diagnostics.gradient_flow(model, probe)
    jacobian = diagnostics.state_jacobian(model, probe)
    assert seen[0] == (True, 0.0)  # the flow probe's forward
    assert set(seen) == {(True, 0.0), (False, 0.5)}  # the Jacobian's input capture (no backward) stays in eval mode
    assert flow == pytest.approx(expected_flow, rel=1e-5, abs=1e-12)
    for readout, layers in expected_jacobian.items():
        for layer, value in layers.items():
            # scalars, and [re, im] eigenvalue pairs (issue 14): the same numbers either way
            np.testing.assert_allclose(np.asarray(jacobian[readout][layer], dtype=float), np.asarray(value, dtype=float),
                                       rtol=1e-4, atol=1e-9, err_msg=f"{readout} {layer}")
    assert model.training and rnn.training and rnn.dropout == 0.5  # all back as they were
    model.eval()
    with inference.evaluating(model), inference.differentiable(model):
        assert rnn.training and rnn.dropout == 0.0 and not model.core.training
    assert not model.training and not rnn.training and rnn.dropout == 0.5


def test_modules_off_cudnn_are_left_in_eval_mode(tiny_task):
    model = _lstm(tiny_task)
    with inference.evaluating(model), inference.differentiable(model):
        assert not model.core.rnn.training and model.core.rnn.dropout == 0.5  # a CPU: oneDNN has a backward in eval
