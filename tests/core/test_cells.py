"""Every cell of the registry, with no edit here for a new one: it builds from its spec, its state has the
parts its spec declares, it runs bidirectionally in a stack, its gates and recurrent matrix are read as
its spec says, and it trains through the trainer. A cell with a fused twin is checked against it in
test_backends.py; one without is checked here against a reference step written out below (float64).
"""
from __future__ import annotations

import math
import statistics
from pathlib import Path

import pytest
import torch

from playground import models, tasks
from playground.config import ARCHITECTURES, ConfigError, ModelConfig, TaskConfig
from playground.models.cells import CELLS, cell_spec
from playground.models.cells.indrnn import U_MAX
from playground.models.recurrent import RecurrentCore
from playground.models.stack import Stack
from playground.train.trainer import Trainer

B, T, INPUT, HIDDEN, LAYERS = 3, 6, 4, 5, 2
TOL = 1e-5
ROOT = Path(__file__).resolve().parents[2]


def _core(arch: str, **settings) -> RecurrentCore:
    torch.manual_seed(0)
    cfg = ModelConfig(**{"arch": arch, "layers": LAYERS, "hidden": HIDDEN, "bidirectional": True, "backend": "scratch",
                         "sparsity": 0.2, **settings})
    return RecurrentCore(cfg, INPUT).double()


# -- references: one step of each scratch-only cell, written from its paper's equations -----------------------
def _indrnn(p, x, h):
    return torch.relu(x @ p["weight_ih"].T + p["bias_ih"] + p["weight_hh"] * h)


def _mgu(p, x, h):
    w_if, w_in = p["weight_ih"].chunk(2)
    w_hf, w_hn = p["weight_hh"].chunk(2)
    b_if, b_in = p["bias_ih"].chunk(2)
    b_hf, b_hn = p["bias_hh"].chunk(2)
    f = torch.sigmoid(x @ w_if.T + b_if + h @ w_hf.T + b_hf)
    n = torch.tanh(x @ w_in.T + b_in + (f * h) @ w_hn.T + b_hn)
    return (1 - f) * h + f * n


def _reservoir(p, x, h, leak_rate=0.4):
    return (1 - leak_rate) * h + leak_rate * torch.tanh(x @ p["weight_ih"].T + p["bias"] + h @ p["weight_hh"].T)


REFERENCES = {"indrnn": (_indrnn, {}), "mgu": (_mgu, {}), "esn": (_reservoir, {"leak_rate": 0.4})}
WITHOUT_TWIN = [name for name, spec in CELLS.items() if spec.fused is None]


def _reference_stack(core: RecurrentCore, step, x: torch.Tensor):
    """The whole bidirectional two-layer stack, written out: layer by layer, forward and reversed."""
    tensors = dict([*core.rnn.named_parameters(), *core.rnn.named_buffers()])
    layer_input, finals = x, []
    for layer in range(LAYERS):
        outputs = []
        for suffix, order in (("", range(T)), ("_reverse", reversed(range(T)))):
            p = {name[: -len(f"_l{layer}{suffix}")]: value for name, value in tensors.items()
                 if name.endswith(f"_l{layer}{suffix}")}
            h = torch.zeros(B, HIDDEN, dtype=x.dtype)
            seq = [None] * T
            for t in order:
                h = step(p, layer_input[:, t], h)
                seq[t] = h
            outputs.append(torch.stack(seq, 1))
            finals.append(h)
        layer_input = torch.cat(outputs, 2)
    return layer_input, torch.stack(finals)


@pytest.mark.parametrize("arch", WITHOUT_TWIN)
def test_scratch_only_cell_matches_its_reference_float64(arch):
    if arch not in REFERENCES:
        pytest.fail(f"cell {arch!r} has no fused twin: write its reference step in REFERENCES")
    step, settings = REFERENCES[arch]
    core = _core(arch, **settings)
    if arch == "indrnn":  # recurrent weights on both sides of 0 and near the bound, where the bound matters
        with torch.no_grad():
            for name, u in core.rnn.named_parameters():
                if name.startswith("weight_hh"):
                    u.uniform_(-U_MAX, U_MAX)
    x = torch.randn(B, T, INPUT, dtype=torch.float64, generator=torch.Generator().manual_seed(1), requires_grad=True)
    out, final = core(x)
    ref_out, ref_final = _reference_stack(core, lambda p, x_t, h: step(p, x_t, h), x)
    assert (out - ref_out).abs().max() < TOL and (final - ref_final).abs().max() < TOL
    trained = [p for p in core.parameters()]
    weights = torch.randn_like(out)
    got = torch.autograd.grad((out * weights).sum() + final.pow(2).sum(), [x, *trained])
    want = torch.autograd.grad((ref_out * weights).sum() + ref_final.pow(2).sum(), [x, *trained])
    for a, b in zip(got, want):
        assert (a - b).abs().max() < TOL
    assert out.abs().max() > 1e-3  # not a network of zeros, for which any reference agrees


@pytest.mark.parametrize("arch", list(CELLS))
def test_every_cell_runs_bidirectionally_with_its_declared_state(arch):
    spec = cell_spec(arch)
    core = _core(arch)
    assert isinstance(core.rnn, Stack) and core.state_parts == spec.state_parts
    x = torch.randn(B, T, INPUT, dtype=torch.float64)
    out, final = core(x)
    assert out.shape == (B, T, 2 * HIDDEN)
    parts = final if isinstance(final, tuple) else (final,)
    assert len(parts) == len(spec.state_parts)
    assert all(part.shape == (LAYERS * 2, B, HIDDEN) for part in parts)
    # the top layer's final forward state is its output at the last step; the reverse one's at the first
    assert torch.allclose(parts[0][-2], out[:, -1, :HIDDEN]) and torch.allclose(parts[0][-1], out[:, 0, HIDDEN:])
    # a given state is read: carrying the final state on changes the outputs
    again, _ = core(x, final)
    assert not torch.allclose(again, out)
    # parameter names are torch's, layer by layer and direction
    names = {name for name, _ in [*core.rnn.named_parameters(), *core.rnn.named_buffers()]}
    assert {"weight_ih_l0", "weight_hh_l0", "weight_ih_l1_reverse", "weight_hh_l1_reverse"} <= names
    assert core.rnn.weight_ih_l1.shape[1] == 2 * HIDDEN  # the second layer reads both directions of the first
    assert spec.backends == (("fused", "scratch") if spec.fused is not None else ("scratch",) if spec.trains_by_gradient
                             else ())


@pytest.mark.parametrize("arch", list(CELLS))
def test_recurrent_matrix_and_gates_are_read_as_the_spec_says(arch):
    spec = cell_spec(arch)
    core = _core(arch)
    matrices = core.recurrent_weights()
    assert set(matrices) == {"l0", "l0_reverse", "l1", "l1_reverse"}
    assert all(m.shape == (HIDDEN, HIDDEN) for m in matrices.values())
    stored = dict([*core.rnn.named_parameters(), *core.rnn.named_buffers()])["weight_hh_l0"].detach()
    if spec.read_recurrent is None:
        block = spec.recurrent_block
        assert torch.equal(matrices["l0"], stored[block * HIDDEN:(block + 1) * HIDDEN])
    else:
        assert torch.equal(matrices["l0"], spec.read_recurrent(stored))
    assert core.record_gates(True) == bool(spec.gates)
    core(torch.randn(B, T, INPUT, dtype=torch.float64))
    stats = core.gate_stats()
    assert set(stats) == set(spec.gates)
    for gate in stats.values():
        assert 0 < gate["mean"] < 1 and sum(gate["histogram"]) == pytest.approx(1.0)


def test_indrnn_recurrent_matrix_is_diag_u_and_u_stays_bounded():
    core = _core("indrnn")
    u = core.rnn.weight_hh_l0
    assert torch.equal(core.recurrent_weights()["l0"], torch.diag(u.detach()))
    optimizer = torch.optim.SGD(core.parameters(), lr=10.0)
    x = torch.randn(B, T, INPUT, dtype=torch.float64)
    for _ in range(3):  # large steps that push u outward; each next pass projects it back
        optimizer.zero_grad()
        out, _ = core(x)
        (-(out.sum()) - sum(p.sum() * 100 for n, p in core.rnn.named_parameters() if n.startswith("weight_hh"))).backward()
        optimizer.step()
    assert u.detach().abs().max() > U_MAX  # the optimiser left it outside ...
    out, _ = core(x)  # ... and the next pass starts by putting it back
    assert u.detach().abs().max() <= U_MAX
    # a decoder runs one core many times inside one graph: the projection must not break its backward
    with torch.no_grad():
        u.fill_(0.5)
    state, total = None, 0
    for t in range(T):
        step_out, state = core(x[:, t:t + 1], state)
        total = total + step_out.sum()
    total.backward()


def test_spectral_and_identity_presets_on_a_diagonal_recurrence():
    core = _core("indrnn", init="spectral", spectral_radius=0.8)
    radii = {name: m.abs().max().item() for name, m in core.recurrent_weights().items()}
    assert all(r == pytest.approx(0.8) for r in radii.values())
    identity = _core("indrnn", init="identity")
    assert all(torch.equal(m, torch.eye(HIDDEN, dtype=m.dtype)) for m in identity.recurrent_weights().values())


def test_stack_follows_conversions_and_state_dicts():
    """The stack owns its cells' tensors: dtype conversions and loaded weights reach the cells that compute."""
    for arch in CELLS:
        core = _core(arch)  # built in float32, then .double()
        assert all(t.dtype == torch.float64 for cell in core.rnn.cells
                   for t in [*cell.parameters(), *cell.buffers()]), arch
        other = _core(arch, spectral_radius=0.5)
        other.load_state_dict({k: v * 0.5 for k, v in core.state_dict().items()})
        x = torch.randn(B, T, INPUT, dtype=torch.float64)
        reference = _core(arch)
        with torch.no_grad():
            for t in [*reference.parameters(), *reference.buffers()]:
                t.mul_(0.5)
        assert torch.allclose(other(x)[0], reference(x)[0]), arch


def test_unknown_architecture_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown architecture 'nope'; available: rnn-tanh"):
        cell_spec("nope")
    with pytest.raises(ConfigError, match="unknown architecture 'nope'"):
        RecurrentCore(ModelConfig(arch="nope"), 3)
    with pytest.raises(ConfigError, match="nope"):
        models.build(ModelConfig(arch="nope"), {"family": "language_model", "vocab_size": 5})


def test_config_accepts_every_registered_architecture():
    assert set(ARCHITECTURES) == set(CELLS)
    for arch in CELLS:
        ModelConfig(arch=arch, dropout=0.0).validate()


def test_no_model_module_outside_a_cell_file_names_a_cell():
    """Only a cell's own file (and the registry) may spell its name: everything else reads the spec."""
    folder = ROOT / "playground" / "models"
    for path in folder.rglob("*.py"):
        if path.parent.name == "cells":
            continue
        text = path.read_text()
        for name in CELLS:
            assert f'"{name}"' not in text and f"'{name}'" not in text, f"{path.relative_to(ROOT)} names {name!r}"


@pytest.mark.parametrize("arch", [name for name, spec in CELLS.items() if spec.trains_by_gradient])
def test_every_trained_cell_learns_through_the_trainer(tiny_config, arch):
    """Loss goes down on the tiny text task, scratch backend (the only one some cells have)."""
    cfg = tiny_config(model={"arch": arch, "backend": "scratch", "hidden": 24, "embedding": 12},
                      train={"steps": 40, "batch_size": 8, "lr": 0.02, "eval_every": 1000})
    torch.manual_seed(0)
    task = tasks.build(cfg.task)
    model = models.build(cfg.model, task.spec)
    result = Trainer(cfg.train, "cpu").fit(model, task)
    losses = [r["loss"] for r in result.history]
    assert result.status == "completed"
    assert statistics.fmean(losses[-8:]) < 0.8 * statistics.fmean(losses[:3]) < 0.8 * 1.25 * math.log(len(task.vocab))


@pytest.mark.parametrize("arch", [name for name, spec in CELLS.items() if spec.fused is None and spec.trains_by_gradient])
def test_new_cells_train_bidirectionally(arch):
    """A bidirectional classifier (temporal order: the answer depends on two early markers) trains through the trainer."""
    from playground.config import TrainConfig

    torch.manual_seed(0)
    task = tasks.build(TaskConfig(name="temporal-order", test_sequences=64))
    model = models.build(ModelConfig(arch=arch, hidden=16, bidirectional=True), task.spec)
    result = Trainer(TrainConfig(steps=30, batch_size=16, seq_len=12, lr=0.01, eval_every=1000, threads=1,
                                 device="cpu"), "cpu").fit(model, task)
    losses = [r["loss"] for r in result.history]
    assert result.status == "completed" and all(math.isfinite(v) for v in losses)
    assert statistics.fmean(losses[-6:]) < statistics.fmean(losses[:3])


def test_the_registry_imports_nothing_else_of_the_package():
    """config.py reads the registry: that is no import circle only while the registry needs nothing of playground."""
    import subprocess
    import sys

    code = ("import sys; from playground.models.cells import CELLS; "
            "print(sorted(m for m in sys.modules if m.startswith('playground') and not m.startswith('playground.models.cells')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['playground', 'playground.models']"
