"""The state Jacobian d s_t / d s_{t-1}, checked against an independent computation: the LSTM and GRU equations
written out here with torch's weights, differentiated by torch.autograd.functional.jacobian."""
from __future__ import annotations

import math

import pytest
import torch

from playground import models
from playground.config import ModelConfig
from playground.train import diagnostics
from playground.train.state_jacobian import effective_memory, state_jacobian

SEQ, BATCH, HIDDEN = 6, 2, 5


def _model(task, double=True, **model):
    torch.manual_seed(0)
    model = models.build(ModelConfig(hidden=HIDDEN, embedding=4, **model), task.spec)
    return model.double() if double else model


def _lstm_step(x_t, h, c, w_ih, w_hh, b):
    i, f, g, o = (x_t @ w_ih.t() + h @ w_hh.t() + b).chunk(4)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _gru_step(x_t, h, w_ih, w_hh, b_ih, b_hh):
    x_r, x_z, x_n = (x_t @ w_ih.t() + b_ih).chunk(3)
    h_r, h_z, h_n = (h @ w_hh.t() + b_hh).chunk(3)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    return (1 - z) * torch.tanh(x_n + r * h_n) + z * h


def _independent(model, batch, arch, layer=0):
    """Per sequence and step t >= 1: J_t of `layer` from the equations above, and the chain's growth."""
    captured = []
    handle = model.core.register_forward_pre_hook(lambda m, args: captured.append(args[0].detach()))
    with torch.no_grad():
        model.last_step_loss(batch)
    handle.remove()
    x = captured[0]
    rnn = model.core.rnn
    w = {name: p.detach() for name, p in rnn.named_parameters()}
    jacobians = []  # [sequence][t]
    for seq in x:
        below = seq
        for l in range(layer + 1):  # the layers below feed this one its inputs
            w_ih, w_hh, b_ih, b_hh = (w[f"{k}_l{l}"] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
            h = torch.zeros(HIDDEN, dtype=torch.float64)
            c = torch.zeros(HIDDEN, dtype=torch.float64)
            outs, per_step = [], []
            for x_t in below:
                if arch == "lstm":
                    def step(state, x_t=x_t):
                        return torch.cat(_lstm_step(x_t, state[:HIDDEN], state[HIDDEN:], w_ih, w_hh, b_ih + b_hh))
                    state = torch.cat([h, c])
                    per_step.append(torch.autograd.functional.jacobian(step, state))
                    h, c = _lstm_step(x_t, h, c, w_ih, w_hh, b_ih + b_hh)
                else:
                    def step(state, x_t=x_t):
                        return _gru_step(x_t, state, w_ih, w_hh, b_ih, b_hh)
                    per_step.append(torch.autograd.functional.jacobian(step, h))
                    h = _gru_step(x_t, h, w_ih, w_hh, b_ih, b_hh)
                outs.append(h)
            below = torch.stack(outs)
        jacobians.append(per_step)
    return jacobians


@pytest.mark.parametrize("arch", ["lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
def test_jacobian_readouts_match_an_independent_autograd_computation(tiny_task, arch, layers):
    model = _model(tiny_task, arch=arch, layers=layers)
    batch = tiny_task.probe_batch(BATCH, SEQ)
    measured = state_jacobian(model, batch, max_positions=BATCH * SEQ, max_sequences=BATCH)
    assert set(measured["jacobian_radius"]) == {f"l{l}" for l in range(layers)}
    for layer in range(layers):
        jacobians = _independent(model, batch, arch, layer)
        positions = [(b, t) for t in range(1, SEQ) for b in range(BATCH)]
        radius = sum(torch.linalg.eigvals(jacobians[b][t]).abs().max().item() for b, t in positions) / len(positions)
        norm = sum(torch.linalg.matrix_norm(jacobians[b][t], ord=2).item() for b, t in positions) / len(positions)
        assert measured["jacobian_radius"][f"l{layer}"] == pytest.approx(radius, abs=1e-8)
        assert measured["jacobian_norm"][f"l{layer}"] == pytest.approx(norm, abs=1e-8)
        # growth: the same unit start vectors pushed back through J_t^T, renormalised each step
        size = jacobians[0][0].shape[0]
        start = torch.randn((BATCH, size), generator=torch.Generator().manual_seed(0)).double()
        logs = []
        for b in range(BATCH):
            v = start[b] / start[b].norm()
            for t in range(SEQ - 1, 0, -1):
                back = jacobians[b][t].t() @ v
                logs.append(math.log(back.norm().item()))
                v = back / back.norm()
        growth = math.exp(sum(logs) / len(logs))
        assert measured["gradient_growth_per_step"][f"l{layer}"] == pytest.approx(growth, rel=1e-8)
        assert measured["effective_memory"][f"l{layer}"] == pytest.approx(effective_memory(growth), rel=1e-8)


def test_the_block_radius_is_not_the_jacobian_radius_of_a_gated_cell(tiny_task):
    """An LSTM's candidate block can have a large radius while the state Jacobian's stays near 1."""
    model = _model(tiny_task, arch="lstm", init="spectral", spectral_radius=8.0)
    batch = tiny_task.probe_batch(BATCH, SEQ)
    block = diagnostics.spectral_radii(model)["l0"]
    measured = state_jacobian(model, batch)
    assert block == pytest.approx(8.0, rel=1e-6)
    assert measured["jacobian_radius"]["l0"] < block / 2


def test_a_vanilla_rnn_jacobian_is_diag_phi_prime_times_w_hh(tiny_task):
    model = _model(tiny_task, arch="rnn-tanh", init="spectral", spectral_radius=0.9)
    batch = tiny_task.probe_batch(1, SEQ)
    captured = []
    handle = model.core.register_forward_pre_hook(lambda m, args: captured.append(args[0].detach()))
    with torch.no_grad():
        model.last_step_loss(batch)
    handle.remove()
    with torch.no_grad():
        states, _ = model.core(captured[0])
    w_hh = model.core.rnn.weight_hh_l0.detach()
    radii = [torch.linalg.eigvals(torch.diag(1 - states[0, t] ** 2) @ w_hh).abs().max().item() for t in range(1, SEQ)]
    measured = state_jacobian(model, batch, max_positions=SEQ)
    assert measured["jacobian_radius"]["l0"] == pytest.approx(sum(radii) / len(radii), abs=1e-8)


def test_nothing_is_measured_where_the_state_runs_both_ways():
    from playground import tasks
    from playground.config import TaskConfig

    adding = tasks.build(TaskConfig(name="adding", test_sequences=16))
    model = _model(adding, double=False, arch="gru", bidirectional=True)
    assert state_jacobian(model, adding.probe_batch(BATCH, SEQ)) == {}
    forward_only = _model(adding, double=False, arch="gru")
    assert set(state_jacobian(forward_only, adding.probe_batch(BATCH, SEQ))["jacobian_radius"]) == {"l0"}


def test_effective_memory_is_the_e_folding_lag():
    assert effective_memory(math.exp(-0.1)) == pytest.approx(10.0)
    assert effective_memory(1.0) is None and effective_memory(1.3) is None


def test_a_window_of_the_last_steps_measures_those_steps(tiny_task):
    """During training only the probe's last steps are stepped one by one; the steps before run in one call."""
    model = _model(tiny_task, arch="lstm")
    batch = tiny_task.probe_batch(BATCH, SEQ)
    window = 3
    measured = state_jacobian(model, batch, max_positions=BATCH * SEQ, max_sequences=BATCH, max_steps=window)
    jacobians = _independent(model, batch, "lstm")
    steps = range(SEQ - window + 1, SEQ)  # the window's first step has no Jacobian inside the window
    radius = [torch.linalg.eigvals(jacobians[b][t]).abs().max().item() for t in steps for b in range(BATCH)]
    assert measured["jacobian_radius"]["l0"] == pytest.approx(sum(radius) / len(radius), abs=1e-8)
