"""The central diagnostic: ||dL_T/dx_t|| over time steps, and the other gradient diagnostics."""
from __future__ import annotations

import math

import pytest
import torch

from playground import models
from playground.config import BACKENDS, ModelConfig
from playground.train import diagnostics

CELLS = ("rnn-tanh", "rnn-relu", "lstm", "gru")  # the gradient-trained cells with two backends

SEQ = 20


@pytest.fixture
def probe(tiny_task):
    return tiny_task.probe_batch(8, SEQ)


def _model(task, backend, seed=0, **model):
    torch.manual_seed(seed)
    return models.build(ModelConfig(hidden=32, embedding=16, backend=backend, **model), task.spec)


@pytest.mark.parametrize("backend", BACKENDS)
def test_tanh_rnn_gradient_vanishes_lstm_holds_it(tiny_task, probe, backend):
    rnn = _model(tiny_task, backend, arch="rnn-tanh", init="spectral", spectral_radius=0.5)
    lstm = _model(tiny_task, backend, arch="lstm")
    rnn_flow = diagnostics.gradient_flow(rnn, probe)
    lstm_flow = diagnostics.gradient_flow(lstm, probe)
    assert len(rnn_flow) == len(lstm_flow) == SEQ
    assert all(v > 0 and math.isfinite(v) for v in rnn_flow + lstm_flow)
    # oldest time step first: for the RNN, every step further back is smaller
    assert all(older < newer for older, newer in zip(rnn_flow, rnn_flow[1:]))
    rnn_rate, lstm_rate = diagnostics.decay_rate(rnn_flow), diagnostics.decay_rate(lstm_flow)
    assert rnn_rate < 0.5  # W_hh radius 0.5 times tanh' <= 1
    assert lstm_rate > rnn_rate + 0.15
    # over the whole window the RNN loses many more orders of magnitude
    assert math.log10(rnn_flow[-1] / rnn_flow[0]) > math.log10(lstm_flow[-1] / lstm_flow[0]) + 2


@pytest.mark.parametrize("arch", CELLS)
def test_gradient_flow_is_the_same_on_both_backends(tiny_task, probe, arch):
    fused = _model(tiny_task, "fused", arch=arch, layers=2).double()
    scratch = _model(tiny_task, "scratch", seed=1, arch=arch, layers=2).double()
    scratch.load_state_dict(fused.state_dict())
    a, b = diagnostics.gradient_flow(fused, probe), diagnostics.gradient_flow(scratch, probe)
    assert len(a) == len(b) == SEQ
    for x, y in zip(a, b):
        assert abs(x - y) <= 1e-9 * max(abs(x), 1e-30)
    assert diagnostics.decay_rate(a) == pytest.approx(diagnostics.decay_rate(b), rel=1e-9)


def test_gradient_flow_matches_autograd_and_leaves_grads_alone(tiny_task, probe):
    model = _model(tiny_task, "fused", arch="gru")
    model.train()
    flow = diagnostics.gradient_flow(model, probe)
    assert all(p.grad is None for p in model.parameters())
    assert model.training  # restored
    # the same quantity by hand: differentiate L_T with respect to the embedded inputs
    model.eval()
    x = model.embed(probe["x"]).detach().requires_grad_(True)
    hidden, _ = model.core(x)
    logits = model.head(hidden)
    loss = torch.nn.functional.cross_entropy(logits[:, -1], probe["y"][:, -1])
    (grad,) = torch.autograd.grad(loss, x)
    expected = grad.double().pow(2).sum(dim=(0, 2)).sqrt().tolist()
    assert flow == pytest.approx(expected, rel=1e-6)


def test_decay_rate_of_a_geometric_sequence():
    flow = [0.3 ** lag for lag in range(12)][::-1]  # oldest first
    assert diagnostics.decay_rate(flow) == pytest.approx(0.3)
    assert diagnostics.decay_rate([1.0] * 5) == pytest.approx(1.0)
    assert diagnostics.decay_rate([2.0 ** lag for lag in range(6)]) == pytest.approx(0.5)
    assert diagnostics.decay_rate([1.0]) is None
    assert diagnostics.decay_rate([0.0, float("nan"), 1.0]) is None


def test_grad_norms_global_and_per_layer(tiny_task, probe):
    model = _model(tiny_task, "fused", arch="lstm", layers=2)
    model(probe).loss.backward()
    named = list(model.named_parameters())
    total, by_layer = diagnostics.grad_norms(named)
    expected = torch.nn.utils.get_total_norm([p.grad for _, p in named]).item()
    assert total == pytest.approx(expected, rel=1e-6)
    assert set(by_layer) == {"embed", "rnn l0", "rnn l1", "head"}
    assert math.sqrt(sum(v * v for v in by_layer.values())) == pytest.approx(total, rel=1e-9)
    assert diagnostics.layer_group("core.rnn.weight_hh_l1_reverse") == "rnn l1 reverse"
