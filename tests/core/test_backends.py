"""The scratch cells compute exactly what their fused twins in torch (nn.RNN / nn.LSTM / nn.GRU) compute.

Every cell of the registry with a fused twin is checked; a new one is, with no edit here.

Compared in float64, where both agree to ~1e-15; DESIGN.md explains why float32 weight gradients
may differ by 1e-5 absolute on large gradients (summation order), so the float32 check is relative.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn

from playground.config import ModelConfig
from playground.models.cells import CELLS as REGISTRY
from playground.models.recurrent import RecurrentCore
from playground.models.stack import Stack

CELLS = [name for name, spec in REGISTRY.items() if spec.fused is not None]  # the cells with two backends

TOL = 1e-5
B, T, INPUT, HIDDEN, LAYERS = 3, 7, 5, 12, 2


def _state(arch: str, directions: int, dtype, generator):
    parts = [torch.randn(LAYERS * directions, B, HIDDEN, dtype=dtype, generator=generator)
             for _ in REGISTRY[arch].state_parts]
    return parts[0] if len(parts) == 1 else tuple(parts)


def test_every_two_backend_cell_is_checked():
    """Guard: the parametrised tests below cover torch's three fused families."""
    assert {REGISTRY[name].fused for name in CELLS} == {nn.RNN, nn.LSTM, nn.GRU}


def _run(module: nn.Module, x: torch.Tensor, state, out_weights: torch.Tensor):
    """Forward + backward through outputs and final states; returns everything to compare."""
    x = x.clone().requires_grad_(True)
    out, final = module(x, state)
    finals = final if isinstance(final, tuple) else (final,)
    loss = (out * out_weights).sum() + sum((f.pow(2) * 0.5).sum() for f in finals)
    loss.backward()
    grads = {name: p.grad.clone() for name, p in module.named_parameters()}
    return out.detach(), [f.detach() for f in finals], x.grad.clone(), grads


def _max_diff(a, b) -> float:
    return (a - b).abs().max().item()


def _compare(fused_result, scratch_result, relative_weight_grads: bool = False):
    out_f, fin_f, dx_f, dw_f = fused_result
    out_s, fin_s, dx_s, dw_s = scratch_result
    assert out_f.shape == out_s.shape
    assert _max_diff(out_f, out_s) < TOL, "outputs differ"
    assert len(fin_f) == len(fin_s)
    for a, b in zip(fin_f, fin_s):
        assert a.shape == b.shape
        assert _max_diff(a, b) < TOL, "final states differ"
    assert _max_diff(dx_f, dx_s) < TOL, "input gradients differ"
    assert set(dw_f) == set(dw_s), "parameter names differ between the backends"
    for name in dw_f:
        diff = _max_diff(dw_f[name], dw_s[name])
        if relative_weight_grads:
            diff /= max(1.0, dw_f[name].abs().max().item())
        assert diff < TOL, f"weight gradient of {name} differs by {diff:.2e}"


@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("arch", CELLS)
def test_core_backends_agree_float64(arch, bidirectional):
    torch.manual_seed(0)
    cfg = ModelConfig(arch=arch, layers=LAYERS, hidden=HIDDEN, bidirectional=bidirectional, backend="fused")
    fused = RecurrentCore(cfg, INPUT).double()
    scratch_cfg = ModelConfig(**{**cfg.__dict__, "backend": "scratch"})
    scratch = RecurrentCore(scratch_cfg, INPUT).double()
    assert isinstance(scratch.rnn, Stack) and isinstance(fused.rnn, REGISTRY[arch].fused)
    # before the copy the two are different networks: the comparison below can fail
    assert any(not torch.equal(a, b) for a, b in zip(fused.state_dict().values(), scratch.state_dict().values()))
    scratch.load_state_dict(fused.state_dict())  # strict: same parameter names and shapes

    g = torch.Generator().manual_seed(1)
    directions = 2 if bidirectional else 1
    x = torch.randn(B, T, INPUT, dtype=torch.float64, generator=g)
    w = torch.randn(B, T, HIDDEN * directions, dtype=torch.float64, generator=g)
    for state in (None, _state(arch, directions, torch.float64, g)):  # zero and given initial states
        fused.zero_grad(), scratch.zero_grad()
        _compare(_run(fused, x, state, w), _run(scratch, x, state, w))


@pytest.mark.parametrize("arch", CELLS)
def test_core_backends_agree_float32_relative(arch):
    torch.manual_seed(0)
    cfg = ModelConfig(arch=arch, layers=LAYERS, hidden=HIDDEN, bidirectional=True)
    fused = RecurrentCore(cfg, INPUT)
    scratch = RecurrentCore(ModelConfig(**{**cfg.__dict__, "backend": "scratch"}), INPUT)
    scratch.load_state_dict(fused.state_dict())
    g = torch.Generator().manual_seed(2)
    x = torch.randn(B, T, INPUT, generator=g)
    w = torch.randn(B, T, HIDDEN * 2, generator=g)
    _compare(_run(fused, x, None, w), _run(scratch, x, None, w), relative_weight_grads=True)


def _standalone(arch: str) -> nn.Module:
    spec = REGISTRY[arch]
    return spec.fused(INPUT, HIDDEN, num_layers=LAYERS, batch_first=True, bidirectional=True, **spec.fused_kwargs)


@pytest.mark.parametrize("arch", CELLS)
def test_standalone_torch_module_copies_into_scratch(arch):
    """A plain nn.LSTM / nn.GRU / nn.RNN (not built by our core) loads into the stack and agrees, and back."""
    torch.manual_seed(3)
    reference = _standalone(arch).double()
    scratch = Stack(REGISTRY[arch], INPUT, HIDDEN, num_layers=LAYERS, bidirectional=True).double()
    missing = scratch.load_state_dict(reference.state_dict(), strict=True)
    assert not missing.missing_keys and not missing.unexpected_keys
    g = torch.Generator().manual_seed(4)
    x = torch.randn(B, T, INPUT, dtype=torch.float64, generator=g)
    w = torch.randn(B, T, HIDDEN * 2, dtype=torch.float64, generator=g)
    state = _state(arch, 2, torch.float64, g)
    _compare(_run(reference, x, state, w), _run(scratch, x, state, w))
    # and the other way: the stack's weights (changed) copy into a fresh fused module
    with torch.no_grad():
        for p in scratch.parameters():
            p.mul_(0.9)
    back = _standalone(arch).double()
    back.load_state_dict(scratch.state_dict(), strict=True)
    reference.zero_grad(), scratch.zero_grad()
    _compare(_run(back, x, state, w), _run(scratch, x, state, w))


def test_relu_and_tanh_scratch_cells_differ():
    """Guard against a scratch RNN that ignores its nonlinearity (then both would match one reference)."""
    torch.manual_seed(5)
    tanh = Stack(REGISTRY["rnn-tanh"], INPUT, HIDDEN).double()
    relu = Stack(REGISTRY["rnn-relu"], INPUT, HIDDEN).double()
    relu.load_state_dict(tanh.state_dict())
    x = torch.randn(B, T, INPUT, dtype=torch.float64)
    assert _max_diff(tanh(x)[0], relu(x)[0]) > 1e-3
