"""Weight-initialisation presets, on both backends, per gate block of W_hh."""
from __future__ import annotations

import pytest
import torch

from playground.config import ModelConfig
from playground.models.cells import CELLS as REGISTRY
from playground.models.recurrent import RecurrentCore, spectral_radius
from playground.train import diagnostics

# every gradient-trained cell whose W_hh is a matrix of gate blocks, on each backend it has (a diagonal
# recurrence stored as a vector, IndRNN's, is checked in test_cells.py)
CASES = [(name, backend) for name, spec in REGISTRY.items() if spec.trains_by_gradient and spec.read_recurrent is None
         for backend in spec.backends]


def gate_count(arch: str) -> int:
    return REGISTRY[arch].blocks

HIDDEN = 10


def _core(arch, backend, init, radius=1.0):
    torch.manual_seed(0)
    cfg = ModelConfig(arch=arch, backend=backend, layers=2, hidden=HIDDEN, bidirectional=True, init=init,
                      spectral_radius=radius)
    return RecurrentCore(cfg, 6)


def _hh_blocks(core, arch):
    blocks = []
    for name, weight in core.rnn.named_parameters():
        if name.startswith("weight_hh"):
            assert weight.shape == (gate_count(arch) * HIDDEN, HIDDEN)
            blocks.extend((name, b) for b in weight.detach().chunk(gate_count(arch), dim=0))
    assert len(blocks) == 2 * 2 * gate_count(arch)  # layers x directions x gates
    return blocks


@pytest.mark.parametrize("arch,backend", CASES)
def test_identity_init(arch, backend):
    core = _core(arch, backend, "identity")
    for name, block in _hh_blocks(core, arch):
        assert torch.equal(block, torch.eye(HIDDEN)), name
    for name, p in core.rnn.named_parameters():
        if name.startswith("bias"):
            assert torch.count_nonzero(p) == 0, name
        if name.startswith("weight_ih"):
            assert p.abs().max() < 0.01, f"{name}: IRNN input weights should be tiny"


@pytest.mark.parametrize("arch,backend", CASES)
@pytest.mark.parametrize("radius", [0.5, 1.3])
def test_spectral_init(arch, backend, radius):
    core = _core(arch, backend, "spectral", radius)
    for name, block in _hh_blocks(core, arch):
        assert spectral_radius(block) == pytest.approx(radius, rel=1e-5), name
        assert not torch.allclose(block, block[0, 0] * torch.eye(HIDDEN)), "a random matrix, not a scaled identity"
    # the diagnostics report the candidate block of every layer and direction
    radii = diagnostics.spectral_radii(type("M", (), {"core": core})())
    assert set(radii) == {"l0", "l0_reverse", "l1", "l1_reverse"}
    assert all(r == pytest.approx(radius, rel=1e-5) for r in radii.values())


@pytest.mark.parametrize("arch,backend", CASES)
def test_orthogonal_init(arch, backend):
    core = _core(arch, backend, "orthogonal")
    for name, block in _hh_blocks(core, arch):
        assert torch.allclose(block @ block.T, torch.eye(HIDDEN), atol=1e-5), name
        assert torch.allclose(block.T @ block, torch.eye(HIDDEN), atol=1e-5), name


def test_default_init_is_not_a_preset():
    """Guard: the checks above would fail on torch's default uniform init."""
    core = _core("rnn-tanh", "fused", "default")
    (_, block), *_ = _hh_blocks(core, "rnn-tanh")
    assert not torch.allclose(block @ block.T, torch.eye(HIDDEN), atol=1e-2)
    assert not torch.equal(block, torch.eye(HIDDEN))


def test_xavier_init_zero_biases():
    core = _core("gru", "scratch", "xavier")
    for name, p in core.rnn.named_parameters():
        if name.startswith("bias"):
            assert torch.count_nonzero(p) == 0
        else:
            fan_in, fan_out = p.shape[1], p.shape[0] // 3
            bound = (6 / (fan_in + fan_out)) ** 0.5
            assert p.abs().max() <= bound + 1e-6
