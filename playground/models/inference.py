"""Helpers every model's inference code shares: eval mode that always comes back, a map over recurrent
states, and one beam search over a small step interface.

`evaluating(model)`   with-block in eval mode; the previous mode comes back even if the block raises.
`differentiable(model)` inside `evaluating`: torch's fused recurrent modules that run on cuDNN made
                      differentiable (cuDNN has no backward pass in eval mode), without a process-wide switch.
`map_state(state, fn)` fn applied to every tensor of a state: a tensor, a tuple of them (an LSTM's
                      (h, c)), nested tuples, or None.
`beam_search(step, state, ...)` the `beam` best continuations of a batch of prefixes, for any model
                      whose decoder can take one step: see `Step`.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
from torch import Tensor, nn


@contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Run the block with `model` in eval mode (no dropout, batch norm from running statistics), then restore it."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def runs_on_cudnn(module: nn.RNNBase) -> bool:
    """Whether torch would run this fused recurrent module through cuDNN (its weights on a GPU that cuDNN takes)."""
    weight = next(module.parameters(), None)
    return weight is not None and torch.backends.cudnn.is_acceptable(weight)


@contextmanager
def differentiable(model: nn.Module) -> Iterator[nn.Module]:
    """For a backward pass through `model` in eval mode (diagnostic probes): cuDNN refuses one there, so every
    fused recurrent module that runs on cuDNN goes to training mode with its dropout off for the block, which
    computes what eval mode computes. Only `model`'s own modules change: `torch.backends.cudnn.flags`, the usual
    way round, is process-wide, and a probe in a worker thread would turn cuDNN off under the training thread."""
    changed = [(module, module.dropout) for module in model.modules()
               if isinstance(module, nn.RNNBase) and not module.training and runs_on_cudnn(module)]
    for module, _ in changed:
        module.dropout = 0.0
        module.train(True)
    try:
        yield model
    finally:
        for module, dropout in changed:
            module.dropout = dropout
            module.train(False)


def map_state(state, fn: Callable[[Tensor], Tensor]):
    """`fn` applied to every tensor of a recurrent state, keeping its structure (None stays None)."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return fn(state)
    return type(state)(map_state(part, fn) for part in state)


def select_rows(state, rows: Tensor):
    """Batch rows `rows` of a recurrent state (each tensor (layers, B, H))."""
    return map_state(state, lambda tensor: tensor.index_select(1, rows))


# One decoder step for B*K rows at once: (last tokens (B*K,), state, step index) ->
# (log-probabilities of the next token (B*K, V), next state, attention weights (B*K, S) or None)
Step = Callable[[Tensor, object, int], tuple[Tensor, object, Tensor | None]]


@dataclass
class Beams:
    """What a beam search found, best first for every source."""
    tokens: Tensor  # (B, K, steps) chosen tokens; a finished beam continues with `pad`
    scores: Tensor  # (B, K) summed log-probabilities (-inf: fewer possible continuations than beams)
    attention: Tensor | None  # (B, K, steps, S) each token's attention weights, or None


@torch.no_grad()
def beam_search(step: Step, state, batch: int, beam: int, max_steps: int, start: int, end: int, pad: int,
                device: torch.device | str, reorder: Callable = select_rows) -> Beams:
    """Keep the `beam` likeliest partial sequences of each of `batch` sources at every step.

    `state` (and whatever `step` reads about the sources) holds B*K rows already, row b*K + k for
    beam k of source b. Scores are summed log-probabilities (no length penalty). A finished beam may
    only be extended by `pad` at no cost, so it keeps its score and competes with the live beams until
    the end. All beams start equal, so only the first is expanded at the first step (or the same path
    would fill every beam). With beam = 1 this is greedy decoding.
    """
    scores = torch.full((batch, beam), float("-inf"), device=device)
    scores[:, 0] = 0.0
    tokens = torch.zeros(batch * beam, 0, dtype=torch.long, device=device)
    history: Tensor | None = None  # (B*K, steps, S)
    finished = torch.zeros(batch * beam, dtype=torch.bool, device=device)
    last = torch.full((batch * beam,), start, dtype=torch.long, device=device)
    offsets = (torch.arange(batch, device=device) * beam).unsqueeze(1)  # (B, 1)
    for t in range(max_steps):
        logp, state, weights = step(last, state, t)
        logp = logp.float().clone()  # (B*K, V)
        vocab = logp.shape[1]
        logp[finished] = float("-inf")
        logp[finished, pad] = 0.0
        top, index = (scores.view(-1, 1) + logp).view(batch, beam * vocab).topk(beam, dim=1)  # (B, K), sorted
        origin = (offsets + index // vocab).view(-1)  # which beam each survivor extends
        last = (index % vocab).view(-1)
        tokens = torch.cat([tokens[origin], last.unsqueeze(1)], 1)
        state = reorder(state, origin)
        if weights is not None:
            new = weights[origin].unsqueeze(1)
            history = new if history is None else torch.cat([history[origin], new], 1)
        finished = finished[origin] | (last == end)
        scores = top
        if bool(finished.all()):
            break
    steps = tokens.shape[1]
    attention = None if history is None else history.view(batch, beam, steps, -1)
    return Beams(tokens.view(batch, beam, steps), scores, attention)
