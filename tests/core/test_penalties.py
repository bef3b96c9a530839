"""Penalties against exploding and vanishing gradients: the recurrent L2 and Pascanu et al.'s Omega, each
checked against a computation of its own; where they cannot apply, a clear refusal."""
from __future__ import annotations

import pytest
import torch

from playground import models
from playground.config import ConfigError, ModelConfig, RunConfig, TrainConfig
from playground.train import penalties
from playground.train.trainer import Trainer
from playground import tasks

SPEC = {"family": "readout", "input": "vectors", "input_size": 2, "outputs": 1, "objective": "regress",
        "positions": "last"}


def tiny(arch="rnn-tanh", backend="scratch", hidden=3, layers=1):
    torch.manual_seed(0)
    return models.build(ModelConfig(arch=arch, backend=backend, hidden=hidden, layers=layers), SPEC).double()


def batch(steps=5, size=2):
    generator = torch.Generator().manual_seed(1)
    return {"x": torch.randn(size, steps, 2, generator=generator, dtype=torch.float64),
            "y": torch.randn(size, generator=generator, dtype=torch.float64)}


def test_recurrent_l2_is_the_sum_of_squares_of_the_recurrent_matrices_only():
    model = tiny("lstm", backend="fused", hidden=4, layers=2)
    direct = sum(float((getattr(model.core.rnn, f"weight_hh_l{layer}").detach() ** 2).sum()) for layer in range(2))
    assert float(penalties.recurrent_l2(model).detach()) == pytest.approx(direct, rel=1e-12)
    assert direct > 0


def manual_omega(model, data):
    """Omega by hand for a one-layer tanh RNN: unroll it, take dE/dh_{k+1} from autograd, each step's Jacobian
    from torch.autograd.functional.jacobian, and sum (||g J|| / ||g|| - 1)^2 over steps, mean over the batch."""
    rnn = model.core.rnn
    w_ih, w_hh, b_ih, b_hh = rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0
    x = data["x"]
    h = torch.zeros(x.shape[0], w_hh.shape[0], dtype=x.dtype)
    inputs, outputs = [], []
    for t in range(x.shape[1]):
        inputs.append(h)
        h = torch.tanh(x[:, t] @ w_ih.t() + b_ih + h @ w_hh.t() + b_hh)
        outputs.append(h)
    loss = torch.nn.functional.mse_loss(model.head(h)[:, 0], data["y"])
    grads = torch.autograd.grad(loss, outputs, retain_graph=True)
    total = loss.new_zeros(())
    for t, (h_in, g) in enumerate(zip(inputs, grads)):
        for b in range(x.shape[0]):
            step = lambda state: torch.tanh(x[b, t] @ w_ih.t() + b_ih + state @ w_hh.t() + b_hh)  # noqa: E731
            jacobian = torch.autograd.functional.jacobian(step, h_in[b], create_graph=True)  # dh_{k+1}/dh_k
            g_b = g[b].detach()
            ratio = (g_b @ jacobian).norm() / g_b.norm()
            total = total + (ratio - 1) ** 2 / x.shape[0]
    return loss, total


def test_omega_matches_a_hand_computation_value_and_gradient():
    model, data = tiny(), batch()
    loss_ref, omega_ref = manual_omega(model, data)
    model.core.rnn.step_log = []
    loss = model(data).loss
    steps, model.core.rnn.step_log = model.core.rnn.step_log, None
    assert float(loss.detach()) == pytest.approx(float(loss_ref.detach()), rel=1e-12)
    value = penalties.omega(loss, steps)
    assert float(value.detach()) == pytest.approx(float(omega_ref.detach()), rel=1e-9) and float(value.detach()) > 1e-3
    w_hh = model.core.rnn.weight_hh_l0
    (ours,) = torch.autograd.grad(value, w_hh)
    (theirs,) = torch.autograd.grad(omega_ref, w_hh)
    assert torch.allclose(ours, theirs, rtol=1e-8, atol=1e-12) and ours.abs().max() > 0


def test_omega_on_a_gated_cell_and_two_layers_runs_and_is_finite():
    model = tiny("lstm", hidden=4, layers=2)
    model.core.rnn.step_log = []
    loss = model(batch()).loss
    value = penalties.omega(loss, model.core.rnn.step_log)
    assert torch.isfinite(value) and float(value.detach()) >= 0
    assert len(model.core.rnn.step_log) == 2 * 5  # every step of both layers


def memory_run(**train):
    cfg = RunConfig()
    cfg.task.name, cfg.task.test_sequences = "adding", 32
    cfg.model.arch, cfg.model.hidden, cfg.model.backend = "rnn-tanh", 8, "scratch"
    cfg.train = TrainConfig(steps=3, batch_size=8, seq_len=10, eval_every=100, eval_in_background=False, **train)
    task = tasks.build(cfg.task, train=cfg.train)
    return cfg, task, models.build(cfg.model, task.spec)


def test_the_trainer_records_each_penalty_beside_the_loss_and_adds_it_to_the_objective():
    cfg, task, model = memory_run(recurrent_l2=0.5, omega=2.0)
    result = Trainer(cfg.train).fit(model, task)
    record = result.history[0]
    assert set(record["penalties"]) == {"recurrent_l2", "omega"}
    assert record["penalties"]["recurrent_l2"] > 0 and record["penalties"]["omega"] >= 0
    assert model.core.rnn.step_log is None  # no graph kept between steps (snapshots deep-copy the model)
    cfg, task, model = memory_run()
    assert "penalties" not in Trainer(cfg.train).fit(model, task).history[0]


def test_a_penalty_that_cannot_apply_is_refused_with_the_reason():
    cfg, task, _ = memory_run(omega=1.0)
    cfg.model.backend = "fused"
    fused = models.build(cfg.model, task.spec)
    with pytest.raises(ConfigError, match="backend scratch"):
        Trainer(cfg.train).fit(fused, task)
    cfg.model.arch, cfg.model.backend = "esn", "fused"
    with pytest.raises(ConfigError, match="closed form"):
        penalties.check(cfg.train, models.build(cfg.model, task.spec))
    assert penalties.applies(ModelConfig(arch="rnn-tanh", backend="fused"), "omega")
    assert not penalties.applies(ModelConfig(arch="rnn-tanh", backend="scratch"), "omega")
