"""Gradient diagnostics as pure functions: they read a model, never change its training."""
from __future__ import annotations

import math
import re

import torch
from torch import Tensor, nn

from ..models import SequenceModel
from ..models.inference import differentiable, evaluating
from ..models.recurrent import spectral_radius
from .spectra import complex_pairs
from .state_jacobian import effective_memory, state_jacobian  # noqa: F401  (the diagnostics' one namespace)

_LAYER = re.compile(r"_l(\d+)(_reverse)?$")


def layer_group(param_name: str) -> str:
    """A readable layer name for a parameter: 'embed', 'rnn l0', 'rnn l1 reverse', 'head', ..."""
    parts = param_name.split(".")
    match = _LAYER.search(parts[-1])
    if match:
        prefix = ".".join(p for p in parts[:-1] if p not in ("core", "rnn")) or "rnn"
        prefix = "rnn" if prefix == "rnn" else f"{prefix} rnn"
        return f"{prefix} l{match.group(1)}{' reverse' if match.group(2) else ''}"
    return ".".join(parts[:-1]) or parts[0]


def grad_norms(named_params: list[tuple[str, nn.Parameter]]) -> tuple[float, dict[str, float]]:
    """(global L2 norm, {layer: L2 norm}) of the current gradients, with one fused norm kernel."""
    pairs = [(name, p.grad) for name, p in named_params if p.grad is not None]
    if not pairs:
        return 0.0, {}
    norms = torch._foreach_norm([g for _, g in pairs])  # one norm per tensor
    squares = torch.stack(norms).double().pow(2).cpu().tolist()
    by_layer: dict[str, float] = {}
    for (name, _), square in zip(pairs, squares):
        group = layer_group(name)
        by_layer[group] = by_layer.get(group, 0.0) + square
    return math.sqrt(sum(squares)), {k: math.sqrt(v) for k, v in by_layer.items()}


def gradient_flow(model: SequenceModel, batch: dict[str, Tensor]) -> list[float]:
    """||dL_T / dx_t|| for every time step t, oldest first.

    L_T is the loss at the last position only; x_t is the input the recurrent core sees at
    step t (captured by a forward pre-hook, so this works with fused cuDNN/oneDNN kernels).
    Uses autograd.grad, so the parameters' .grad is left untouched.
    """
    captured: list[Tensor] = []

    def capture_input(module, args):
        x = args[0].detach().requires_grad_(True)  # (B, T, D): a leaf we can differentiate against
        captured.append(x)
        return (x, *args[1:])

    handle = model.core.register_forward_pre_hook(capture_input)
    try:
        # no dropout noise in the probe (eval mode), and yet a backward pass through cuDNN
        with evaluating(model), differentiable(model), torch.enable_grad():
            loss = model.last_step_loss(batch)
            (grad,) = torch.autograd.grad(loss, captured[0])
    finally:
        handle.remove()
    return grad.double().pow(2).sum(dim=(0, 2)).sqrt().cpu().tolist()  # (T,)


def spectral_radii(model: SequenceModel) -> dict[str, float]:
    """Block radius: the spectral radius of each layer's recurrent weight block ('l0', 'l0_reverse', ...):
    all of W_hh for a vanilla RNN and a reservoir, the candidate block alone (W_hg, W_hn) for an LSTM or GRU,
    whose state Jacobian mixes every block: see `state_jacobian` for the factor gradients actually meet."""
    return {name: spectral_radius(weight) for name, weight in model.core.recurrent_weights().items()}


def block_singular_values(model: SequenceModel) -> dict[str, float]:
    """The largest singular value of the same blocks: for a tanh RNN (|tanh'| <= 1) a value below 1 is
    sufficient for the gradient to vanish (Pascanu et al. 2013); a radius below 1 is not, for a non-normal W_hh."""
    return {name: torch.linalg.matrix_norm(weight.double().cpu(), ord=2).item()
            for name, weight in model.core.recurrent_weights().items()}


def eigenvalues(model: SequenceModel) -> dict[str, list[list[float]]]:
    """Every eigenvalue of each layer's recurrent matrix (the block whose radius is reported), as [re, im] pairs."""
    found = {}
    for name, weight in model.core.recurrent_weights().items():
        weight = weight.double().cpu()
        found[name] = complex_pairs(torch.linalg.eigvals(weight)) if torch.isfinite(weight).all() else []
    return found


def decay_rate(flow: list[float]) -> float | None:
    """Fitted per-step factor of ||dL_T/dx_t|| against lag (a log-linear fit); <1 vanishes, >1 explodes.
    Meaningful only where lag is distance back from the loss (`model.causal_flow`): callers check that."""
    values = [(lag, math.log(v)) for lag, v in enumerate(reversed(flow)) if v > 0 and math.isfinite(v)]
    if len(values) < 2:
        return None
    n = len(values)
    mean_x = sum(x for x, _ in values) / n
    mean_y = sum(y for _, y in values) / n
    var = sum((x - mean_x) ** 2 for x, _ in values)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in values) / var
    return math.exp(slope)


def block_singular_values_and_jacobian(model: SequenceModel, probe: dict[str, Tensor],
                                       max_positions: int | None = None, **jacobian_settings) -> dict[str, dict]:
    """{"block_singular_value": ..., "jacobian_radius": ..., "jacobian_norm": ..., "gradient_growth_per_step": ...,
    "effective_memory": ...} per layer; the Jacobian readouts are absent where the core runs both ways."""
    return {"block_singular_value": block_singular_values(model), **state_jacobian(model, probe, max_positions, **jacobian_settings)}
