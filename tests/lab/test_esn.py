"""Echo state networks: a fixed seeded reservoir, a ridge readout solved in closed form, the trainer's no-backprop path."""
from __future__ import annotations

import math

import pytest
import torch

from playground.runstore import checkpoint, runner
from playground import models, tasks
from playground.config import ConfigError, ModelConfig, RunConfig, TaskConfig, TrainConfig
from playground.models.esn import EchoStateNetwork
from playground.models.cells.reservoir import ReservoirCell
from playground.models.recurrent import RecurrentCore
from playground.models.ridge import RidgeReadout
from playground.train import diagnostics
from playground.train.trainer import Trainer

RESERVOIR = dict(arch="esn", hidden=60, spectral_radius=0.9, leak_rate=0.5, sparsity=0.8, input_scaling=0.5)


def _esn(task, seed=0, **settings):
    torch.manual_seed(seed)
    return models.build(ModelConfig(**{**RESERVOIR, **settings}), task.spec)


def _reservoir(cfg, input_size):
    """The stack of reservoir cells an echo state network's core runs."""
    return RecurrentCore(cfg, input_size).rnn


@pytest.fixture
def adding():
    return tasks.build(TaskConfig(name="adding", test_sequences=128))


def test_reservoir_is_fixed_seeded_sparse_and_at_the_radius(adding):
    model = _esn(adding)
    assert isinstance(model, EchoStateNetwork) and not model.trains_by_gradient
    assert all(isinstance(cell, ReservoirCell) for cell in model.core.rnn.cells)
    reservoir = dict(model.core.rnn.named_buffers())
    assert set(reservoir) == {"weight_ih_l0", "bias_l0", "weight_hh_l0"}
    assert not any(name.startswith("core.") for name, _ in model.named_parameters())  # nothing of it can be trained
    assert all(f"core.rnn.{name}" in model.state_dict() for name in reservoir)  # but checkpoints keep it
    assert diagnostics.spectral_radii(model) == {"l0": pytest.approx(0.9, rel=1e-5)}
    zeros = (reservoir["weight_hh_l0"] == 0).float().mean().item()
    assert 0.7 < zeros < 0.85  # sparsity 0.8 (plus one forced connection per row)
    assert reservoir["weight_ih_l0"].abs().max() <= 0.5
    same = _esn(adding)
    assert all(torch.equal(a, b) for a, b in zip(model.core.state_dict().values(), same.core.state_dict().values()))
    other = _esn(adding, seed=1)
    assert not torch.equal(other.core.rnn.weight_hh_l0, model.core.rnn.weight_hh_l0)


def test_leaky_update_matches_the_equation():
    torch.manual_seed(0)
    stacked = _reservoir(ModelConfig(arch="esn", hidden=5, layers=2, bidirectional=True), 3)
    out, final = stacked(torch.randn(2, 4, 3))
    assert out.shape == (2, 4, 10) and final.shape == (4, 2, 5)  # (B, T, D*H), (L*D, B, H)
    assert stacked.weight_ih_l1.shape == (5, 10)  # the second layer reads both directions of the first

    cfg = ModelConfig(arch="esn", hidden=5, leak_rate=0.3, sparsity=0.0, bidirectional=True)
    reservoir = _reservoir(cfg, 3).double()  # .double() replaces buffers: the cells must follow
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    out, final = reservoir(x)
    w_ih, w_hh, b = reservoir.weight_ih_l0, reservoir.weight_hh_l0, reservoir.bias_l0
    h = torch.zeros(2, 5, dtype=torch.float64)
    for t in range(4):
        h = 0.7 * h + 0.3 * torch.tanh(x[:, t] @ w_ih.T + b + h @ w_hh.T)
        assert torch.allclose(out[:, t, :5], h)
    assert torch.allclose(final[0], h)
    # the reverse direction reads right to left: its state at step 0 has seen the whole sequence
    w_ih, w_hh, b = reservoir.weight_ih_l0_reverse, reservoir.weight_hh_l0_reverse, reservoir.bias_l0_reverse
    h = torch.zeros(2, 5, dtype=torch.float64)
    for t in reversed(range(4)):
        h = 0.7 * h + 0.3 * torch.tanh(x[:, t] @ w_ih.T + b + h @ w_hh.T)
    assert torch.allclose(out[:, 0, 5:], h) and torch.allclose(final[1], h)


def test_ridge_readout_is_the_closed_form_solution_of_everything_seen():
    torch.manual_seed(0)
    readout = RidgeReadout(features=6, outputs=2, classify=False, ridge=1e-3).double()
    batches = [(torch.randn(40, 6, dtype=torch.float64) * 0.1, torch.randn(40, dtype=torch.float64)) for _ in range(3)]
    for h, y in batches:
        readout.observe(h, y)
    h = torch.cat([b[0] for b in batches])
    y = torch.cat([b[1] for b in batches])
    design = torch.cat([h, torch.ones(len(h), 1, dtype=torch.float64)], 1)
    mean_square = (h ** 2).mean()  # the penalty is relative to the features' mean square
    penalty = torch.diag(torch.tensor([1e-3 * mean_square] * 6 + [0.0], dtype=torch.float64))
    solution = torch.linalg.solve(design.T @ design / len(h) + penalty, design.T @ y[:, None] / len(h))
    assert torch.allclose(readout.weight[0], solution[:-1, 0]) and torch.allclose(readout.weight[1], solution[:-1, 0])
    assert torch.allclose(readout.bias, solution[-1].expand(2))


def test_trainer_learns_the_readout_without_backprop(adding):
    cfg = RunConfig(task=TaskConfig(name="adding", test_sequences=128), model=ModelConfig(**RESERVOIR),
                    train=TrainConfig(steps=12, batch_size=32, seq_len=10, eval_every=6, clip="norm",
                                      checkpoint_every=1000)).validate()
    task, model = runner.prepare(cfg)
    reservoir = {k: v.clone() for k, v in model.core.state_dict().items()}
    result = Trainer(cfg.train).fit(model, task)
    assert result.status == "completed" and result.steps == 12
    for record in result.history:
        assert record["trains_by_gradient"] is False
        assert record["grad_norm"] == 0.0 and record["grad_norm_clipped"] == 0.0 and not record["clipped"]
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(v, model.core.state_dict()[k]) for k, v in reservoir.items())  # the reservoir never moves
    final = result.evals[-1]
    assert final["mse"] < 0.25 * final["chance"]  # a leaky reservoir remembers 10 steps: the readout finds the sum
    assert len(final["gradient_flow"]) == 10 and final["spectral_radius"] == {"l0": pytest.approx(0.9, rel=1e-5)}


def test_esn_generates_characters_and_survives_a_checkpoint(tmp_path):
    cfg = RunConfig(task=TaskConfig(name="char", dataset="tiny", max_chars=6000),
                    model=ModelConfig(arch="esn", hidden=80, spectral_radius=0.9),
                    train=TrainConfig(steps=6, batch_size=8, seq_len=32, eval_every=6, sample_length=40,
                                      checkpoint_every=1000)).validate()
    task, model = runner.prepare(cfg)
    result = Trainer(cfg.train).fit(model, task)
    final = result.evals[-1]
    assert final["bits_per_char"] < final["uniform_bits_per_char"] - 1.0
    assert len(final["sample"]) == 40
    assert float(model.head.logit_scale) > 1.5  # calibrated: one-hot regression scores alone are far too flat
    folder = checkpoint.save(tmp_path / "ckpt", model, cfg, task, step=6)
    loaded = checkpoint.load(folder)
    batch = task.probe_batch(4, 16)
    assert torch.allclose(loaded.model(batch).logits, model.eval()(batch).logits)


def test_esn_refuses_what_it_cannot_do():
    with pytest.raises(ConfigError, match="trained recurrent layers"):
        models.build(ModelConfig(arch="esn"), {"family": "seq2seq", "source_vocab_size": 5, "target_vocab_size": 5})
    with pytest.raises(ConfigError, match="decoder_arch"):
        ModelConfig(arch="lstm", decoder_arch="esn").validate()
    with pytest.raises(ConfigError, match="dropout"):
        ModelConfig(arch="esn", dropout=0.1).validate()
    for field, value in [("leak_rate", 0.0), ("leak_rate", 1.5), ("sparsity", 1.0), ("ridge", 0.0), ("input_scaling", 0)]:
        with pytest.raises(ConfigError, match=field):
            ModelConfig(arch="esn", **{field: value}).validate()


@pytest.mark.parametrize("name", ["temporal-order", "copy"])
def test_esn_classifies_on_the_token_tasks(name):
    cfg = RunConfig(task=TaskConfig(name=name, test_sequences=64, copy_length=3),
                    model=ModelConfig(arch="esn", hidden=100, spectral_radius=0.95, leak_rate=0.5),
                    train=TrainConfig(steps=8, batch_size=32, seq_len=12, eval_every=8, checkpoint_every=1000)).validate()
    task, model = runner.prepare(cfg)
    result = Trainer(cfg.train).fit(model, task)
    final = result.evals[-1]
    assert final["accuracy"] > final["chance"] + 0.2 and math.isfinite(final["val_loss"])
