"""Penalties added to the task's loss against exploding and vanishing gradients, each with its own weight.

    recurrent_l2   sum of squares of the recurrent weights W_hh only (every layer and direction): unlike the
                   optimiser's weight decay it leaves input and output weights alone, and it shrinks exactly the
                   matrix whose norm bounds how fast gradients can grow through time
    omega          the vanishing-gradient regulariser of Pascanu, Mikolov & Bengio 2013 (eq. 10):
                       Omega = sum_k ( ||dE/dh_{k+1} dh_{k+1}/dh_k|| / ||dE/dh_{k+1}|| - 1 )^2
                   with dE/dh_{k+1} held constant, as in the paper: it asks each step's Jacobian to keep the
                   norm of the error signal that flows back through it. Summed over the steps and over layers
                   and directions, averaged over the batch. It needs each step's state in the graph, so only
                   the scratch backend (the generic stack) has it

Both apply only to cells trained by gradient; a penalty that cannot apply to a run's cell or backend is a
ConfigError that says so, never silently nothing. The trainer records each weighted-in penalty's value
(before its weight) per step beside the loss, under "penalties".
"""
from __future__ import annotations

import torch
from torch import Tensor

from ..config import ConfigError, TrainConfig
from ..models.stack import joined_state, state_parts

PENALTIES = {"recurrent_l2": "recurrent L2 (sum of W_hh squared)", "omega": "Omega (Pascanu et al. 2013)"}


def recurrent_weights(model) -> list[Tensor]:
    """The trained recurrent matrices (or IndRNN's recurrent vectors) of the model's core."""
    return [p for name, p in model.core.rnn.named_parameters() if name.startswith("weight_hh_") and p.requires_grad]


def recurrent_l2(model) -> Tensor:
    return sum((weight ** 2).sum() for weight in recurrent_weights(model))


def omega(loss: Tensor, steps: list) -> Tensor:
    """Omega of one pass from its logged steps [(cell, projected input, state in, state out), ...].

    dE/dh_{k+1} is the loss's total gradient with respect to each step's output state (held constant).
    Each step is then run again, all steps of a cell at once, from its input state plus a zero stand-in z,
    so that the vector-Jacobian product with respect to z, u_{k+1} dh_{k+1}/dh_k (u = dE/dh_{k+1} / its
    norm), is that step's own Jacobian alone. It stays in the graph (create_graph), and the input states
    stay in theirs, so Omega's gradient reaches the weights through the Jacobians and the states they are
    taken at, with only dE/dh held constant, as in the paper. A step the loss does not reach (a zero
    dE/dh) is left out."""
    outs = [part for *_, state_out in steps for part in state_parts(state_out)]
    grads = torch.autograd.grad(loss, outs, retain_graph=True, allow_unused=True)
    grads = [torch.zeros_like(o) if g is None else g for o, g in zip(outs, grads)]
    parts_per_step = len(state_parts(steps[0][3]))
    total = loss.new_zeros(())
    by_cell: dict[int, list[int]] = {}
    for index, (cell, *_rest) in enumerate(steps):
        by_cell.setdefault(id(cell), []).append(index)
    for indices in by_cell.values():
        cell = steps[indices[0]][0]
        projected = torch.cat([steps[i][1] for i in indices])  # (K*B, rows)
        inputs = [torch.cat([state_parts(steps[i][2])[p] for i in indices]) for p in range(parts_per_step)]
        stand_ins = [torch.zeros_like(part, requires_grad=True) for part in inputs]
        g = [torch.cat([grads[i * parts_per_step + p] for i in indices]) for p in range(parts_per_step)]
        g_norm = torch.sqrt(sum((part ** 2).sum(-1) for part in g))  # (K*B,)
        reached = g_norm > 0
        u = [part / g_norm.clamp_min(1e-30)[:, None] for part in g]
        again = state_parts(cell.step(projected, joined_state([a + z for a, z in zip(inputs, stand_ins)])))
        product = sum((out * direction).sum() for out, direction in zip(again, u))
        vjp = torch.autograd.grad(product, stand_ins, create_graph=True)
        ratio = torch.sqrt(sum((part ** 2).sum(-1) for part in vjp) + 1e-30)  # ||u dh_{k+1}/dh_k||
        batch = steps[indices[0]][1].shape[0]
        total = total + ((ratio - 1.0) ** 2 * reached).sum() / batch
    return total


class Penalties:
    """The penalties a run's TrainConfig weighs in, checked against its model when training starts."""

    def __init__(self, cfg: TrainConfig, model) -> None:
        self.weights = {name: getattr(cfg, name) for name in PENALTIES if getattr(cfg, name) > 0}
        self.model = model
        check(cfg, model)

    @property
    def active(self) -> bool:
        return bool(self.weights)

    def before_forward(self) -> None:
        if "omega" in self.weights:
            self.model.core.rnn.step_log = []

    def objective(self, loss: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """(loss + the weighted penalties, each penalty's value, detached, still on the device: the trainer reads
        it with the step's other scalars) for the pass that produced `loss`."""
        values: dict[str, Tensor] = {}
        if "recurrent_l2" in self.weights:
            values["recurrent_l2"] = recurrent_l2(self.model)
        if "omega" in self.weights:
            steps, self.model.core.rnn.step_log = self.model.core.rnn.step_log, None  # a snapshot must hold no graph
            values["omega"] = omega(loss, steps) if steps else loss.new_zeros(())
        total = loss + sum(self.weights[name] * value for name, value in values.items())
        return total, {name: value.detach() for name, value in values.items()}


def check(cfg: TrainConfig, model) -> None:
    """ConfigError when a penalty with a weight cannot apply to this model's cell or backend."""
    wanted = [name for name in PENALTIES if getattr(cfg, name) > 0]
    if not wanted:
        return
    if not model.trains_by_gradient:
        raise ConfigError(f"{', '.join(wanted)} penalise(s) gradient training, and this cell learns its readout in "
                          "closed form (no gradients): set them to 0")
    core = model.core
    if "recurrent_l2" in wanted and not recurrent_weights(model):
        raise ConfigError(f"recurrent_l2 needs recurrent weights (weight_hh_*), and the {core.arch} cell has none")
    if "omega" in wanted and core.fused:
        raise ConfigError("omega needs every step's state in the graph, which the fused kernels do not expose: "
                          "train with backend scratch (--backend scratch), or set omega to 0")


def applies(cfg_model, name: str) -> str:
    """'' when penalty `name` can apply to this ModelConfig's cell and backend, else the reason it cannot."""
    from ..models.cells import cell_spec

    cell = cell_spec(cfg_model.arch)
    if not cell.trains_by_gradient:
        return "this cell is not trained by gradient"
    if name == "omega" and cell.fused is not None and cfg_model.backend == "fused":
        return "Omega needs the scratch backend (the fused kernels hide each step's state)"
    return ""
