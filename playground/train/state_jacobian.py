"""The state Jacobian J_t = d s_t / d s_{t-1} along a probe batch: the factor backpropagation multiplies per step.

s_t is a layer's whole recurrent state ((h_t, c_t) for an LSTM, h_t otherwise). For a vanilla RNN
J_t = diag(phi'_t) W_hh; for an LSTM or GRU it mixes every gate block, so the spectral radius of one
block of W_hh says little about it. Per layer (its own block of the stack's Jacobian, the layers below
held at their values; with the layer above reading this one, the stack's J_t is block-triangular, so its
eigenvalues are those of the layers' blocks):

    jacobian_radius            mean spectral radius of J_t over sampled positions of the probe batch (its last
                               MAX_STEPS steps of up to MAX_SEQUENCES sequences)
    jacobian_norm              mean largest singular value of J_t (a bound: ||v J_t|| <= it * ||v||)
    jacobian_eigenvalues       every eigenvalue of the mean of those J_t, as [re, im] pairs (the unit-circle view)
    gradient_growth_per_step   geometric mean of ||J_t^T v_t|| / ||v_t|| along the sequences, backwards from
                               the last step (v renormalised each step): the long-run rate a gradient grows (> 1)
                               or shrinks (< 1) per step, the product of Jacobians rather than any single one
    effective_memory           1 / -ln(growth): steps back over which that gradient falls e-fold (None: it does not)

The core is stepped one position at a time through its own forward (fused kernels included), so every
cell, the reservoir too, is measured the same way. A bidirectional core has no single direction of time
for its state to run along, and an attentive decoder reads a glimpse of its memory besides its input and
state at every step: nothing is measured there.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from ..models import SequenceModel
from ..models.inference import differentiable, evaluating
from .spectra import complex_pairs

# What one evaluation spends (about three training steps of a 256-unit LSTM at batch 32 x 128, measured):
MAX_POSITIONS = 8  # full Jacobians (an eigen- and a singular-value problem each) per layer and evaluation
FULL_SIZE = 128  # states up to this size get MAX_POSITIONS of them; larger ones fewer (eig costs size^3) ...
MIN_POSITIONS = 2  # ... but at least this many
MAX_SEQUENCES = 4  # probe sequences stepped through
MAX_STEPS = 64  # the last steps of the probe stepped one at a time (the steps before run in one call, no gradient)


def _parts(state) -> list[Tensor]:
    return list(state) if isinstance(state, (tuple, list)) else [state]


def _pack(parts: list[Tensor], like) -> object:
    return tuple(parts) if isinstance(like, (tuple, list)) else parts[0]


def _capture_core_input(model: SequenceModel, batch: dict[str, Tensor]):
    """(x, initial state) the core sees on this batch (the state None when it starts from zeros); (None, None)
    where it reads more than those at each step (an attentive decoder's glimpse of the image)."""
    seen = []

    def capture(module, args, kwargs):
        extra = len(args) > 2 or any(value is not None for key, value in kwargs.items() if key != "state")
        seen.append((None, None) if extra else (args[0], args[1] if len(args) > 1 else kwargs.get("state")))

    handle = model.core.register_forward_pre_hook(capture, with_kwargs=True)
    try:
        with torch.no_grad():
            model.last_step_loss(batch)
    finally:
        handle.remove()
    return seen[0] if seen else (None, None)


def _layer_vector(parts: list[Tensor], layer: int) -> Tensor:
    """(B, P*H): one layer's state parts side by side."""
    return torch.cat([p[layer] for p in parts], dim=-1)


def state_jacobian(model: SequenceModel, batch: dict[str, Tensor], max_positions: int | None = None,
                   max_sequences: int = MAX_SEQUENCES, seed: int = 0, max_steps: int | None = MAX_STEPS
                   ) -> dict[str, dict]:
    """{"jacobian_radius": {layer: r}, "jacobian_norm": {...}, "gradient_growth_per_step": {...},
    "effective_memory": {...}} on the probe batch; {} where the core has no causal state to follow
    (bidirectional, packed input). Layers are named 'l0', 'l1', ... as in the parameter names.
    `max_positions` full Jacobians per layer (default: MAX_POSITIONS, fewer for states above FULL_SIZE), on the
    last `max_steps` steps of the probe (None: all of them)."""
    core = model.core
    if getattr(core, "directions", 1) != 1:
        return {}
    with evaluating(model):
        x, state = _capture_core_input(model, batch)
        if not isinstance(x, Tensor) or x.dim() != 3 or x.shape[1] < 2:
            return {}
        x = x.detach()[:max_sequences]
        if state is not None:
            state = _pack([p.detach()[:, :max_sequences] for p in _parts(state)], state)
        # oneDNN stays on although the native kernels step one position a little faster (0.30 s against 0.38 s
        # for a 256-unit LSTM): its switch is process-wide, and this runs in a worker thread beside training, whose
        # kernels (and their rounding) must not change underneath it; cuDNN's too (`differentiable` says how).
        with differentiable(model), torch.enable_grad():
            return _measure(core, x, state, max_positions, seed, max_steps or x.shape[1])


def _measure(core, x: Tensor, state, max_positions: int, seed: int, max_steps: int) -> dict[str, dict]:
    with torch.no_grad():
        _, first = core(x[:, :1], state)  # the state's layout: (L, B, H) or a tuple of them
        template = first
        if x.shape[1] > max_steps:  # run up to the stepped window in one call
            _, state = core(x[:, : x.shape[1] - max_steps], state)
            x = x[:, x.shape[1] - max_steps:]
    batch, steps = x.shape[0], x.shape[1]
    parts = [torch.zeros_like(p) for p in _parts(first)] if state is None else [p.clone() for p in _parts(state)]
    layers = parts[0].shape[0]
    if max_positions is None:
        size = sum(p.shape[-1] for p in parts)
        max_positions = max(MIN_POSITIONS, min(MAX_POSITIONS, int(MAX_POSITIONS * (FULL_SIZE / size) ** 3)))
    leaves, outputs = [], []  # per step: the state going in (a leaf) and the state coming out
    for t in range(steps):
        leaf = [p.detach().requires_grad_(True) for p in parts]
        _, new = core(x[:, t:t + 1], _pack(leaf, template))
        leaves.append(leaf)
        outputs.append(_parts(new))
        parts = [p.detach() for p in _parts(new)]
    result = {"jacobian_radius": {}, "jacobian_norm": {}, "gradient_growth_per_step": {}, "effective_memory": {},
              "jacobian_eigenvalues": {}}
    positions = _positions(batch, steps, max_positions)
    for layer in range(layers):
        name = f"l{layer}"
        growth = _growth(leaves, outputs, layer, torch.Generator().manual_seed(seed))  # same start for every layer
        radii, norms, total = [], [], None
        for b, t in positions:
            jac = _full_jacobian(core, x[b:b + 1, t:t + 1], [p[:, b:b + 1] for p in leaves[t]], template, layer)
            jac = jac.cpu()  # in the model's precision: float32 halves the eigen-solve's time
            if not torch.isfinite(jac).all():
                continue
            total = jac.double() if total is None else total + jac.double()
            radii.append(torch.linalg.eigvals(jac).abs().max().item())
            norms.append(torch.linalg.matrix_norm(jac, ord=2).item())
        result["jacobian_radius"][name] = sum(radii) / len(radii) if radii else math.nan
        result["jacobian_norm"][name] = sum(norms) / len(norms) if norms else math.nan
        result["gradient_growth_per_step"][name] = growth
        result["effective_memory"][name] = effective_memory(growth)
        result["jacobian_eigenvalues"][name] = [] if total is None else complex_pairs(
            torch.linalg.eigvals(total / len(radii)))
    return result


def effective_memory(growth: float) -> float | None:
    """Steps back over which a gradient shrinking by `growth` per step falls e-fold (None: it does not shrink)."""
    if not math.isfinite(growth) or growth <= 0:
        return 0.0 if growth == 0 else None
    return 1.0 / -math.log(growth) if growth < 1 else None


def _positions(batch: int, steps: int, count: int) -> list[tuple[int, int]]:
    """Up to `count` (sequence, step) pairs spread over the batch and over time (step 0 excluded: no history)."""
    pairs = [(b, t) for t in range(1, steps) for b in range(batch)]
    if len(pairs) <= count:
        return pairs
    if count < 1:
        return []
    stride = len(pairs) / count
    return [pairs[int(i * stride)] for i in range(count)]


def _growth(leaves, outputs, layer: int, generator: torch.Generator) -> float:
    """Geometric-mean factor by which a backpropagated vector's norm changes per step through this layer's block."""
    first = _layer_vector(outputs[-1], layer)
    v = torch.randn(first.shape, generator=generator).to(first)
    v = v / v.norm(dim=-1, keepdim=True)
    log_sum, count = 0.0, 0
    for t in range(len(leaves) - 1, 0, -1):  # J_t for t = T-1 .. 1: s_{t-1} is the output of the step before
        sizes = [p.shape[-1] for p in outputs[t]]
        grad_outputs = [torch.zeros_like(p) for p in outputs[t]]
        for i, piece in enumerate(v.split(sizes, dim=-1)):
            grad_outputs[i][layer] = piece
        grads = torch.autograd.grad(outputs[t], leaves[t], grad_outputs, retain_graph=True, allow_unused=True)
        back = torch.cat([(g[layer] if g is not None else torch.zeros_like(p[layer]))
                          for g, p in zip(grads, leaves[t])], dim=-1)
        norms = back.norm(dim=-1)
        if not torch.isfinite(norms).all() or (norms == 0).any():
            return 0.0 if torch.isfinite(norms).all() else math.inf
        log_sum += norms.double().log().sum().item()  # v had norm 1
        count += norms.numel()
        v = back / norms.unsqueeze(-1)
    return math.exp(log_sum / count) if count else math.nan


def _full_jacobian(core, x_t: Tensor, leaf_parts: list[Tensor], template, layer: int) -> Tensor:
    """d s^layer_t / d s^layer_{t-1} for one sequence, (N, N) with N = parts * H: the state is copied into a
    batch of N identical rows and row i of the output differentiated, so one backward pass gives every row."""
    size = sum(p.shape[-1] for p in leaf_parts)
    rows = [p.detach().expand(-1, size, -1).clone().requires_grad_(True) for p in leaf_parts]  # (L, N, H)
    _, new = core(x_t.expand(size, -1, -1), _pack(rows, template))
    out = _layer_vector(_parts(new), layer)  # (N, N)
    grads = torch.autograd.grad(out.diagonal().sum(), rows, allow_unused=True)
    return torch.cat([(g[layer] if g is not None else torch.zeros_like(r[layer])) for g, r in zip(grads, rows)], dim=-1)
