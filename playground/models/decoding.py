"""Free-running decoding of a `Seq2Seq` model: greedy and beam search, batched.

Both return, for every source, hypotheses with their token ids (without </s>), their score (the sum
of the log-probabilities of the chosen tokens, </s> included) and their attention weights (one row
per output token, one column per source position; None for a model without attention).
Beam search ranks hypotheses by that raw score; with width 1 it is exactly greedy decoding.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ..data.tokens import BOS, EOS, PAD
from .seq2seq import Encoded, Seq2Seq, map_state


@dataclass
class Hypothesis:
    ids: list[int]  # output token ids, without </s>
    score: float  # sum of log-probabilities of every chosen token (</s> included when it was reached)
    attention: Tensor | None  # (len(ids), S) weights over the source's real positions, or None
    finished: bool  # whether it ended with </s> (False: cut at the length limit)


def _hypothesis(tokens: Tensor, score: float, weights: Tensor | None, source_length: int) -> Hypothesis:
    ids = tokens.tolist()
    finished = EOS in ids
    ids = ids[: ids.index(EOS)] if finished else [i for i in ids if i != PAD]
    attention = None if weights is None else weights[: len(ids), :source_length].cpu()
    return Hypothesis(ids, score, attention, finished)


@torch.no_grad()
def greedy(model: Seq2Seq, src: Tensor, src_len: Tensor, max_len: int) -> list[Hypothesis]:
    """The likeliest next token at every step, for a whole batch at once."""
    enc = model.encode(src, src_len)
    batch = src.shape[0]
    token = torch.full((batch,), BOS, dtype=torch.long, device=src.device)
    state, done = enc.state, torch.zeros(batch, dtype=torch.bool, device=src.device)
    scores = torch.zeros(batch, device=src.device)
    tokens, weights = [], []
    for _ in range(max_len):
        logits, state, step_weights = model.step(token, state, enc)
        logp = F.log_softmax(logits.float(), -1)
        token = logp.argmax(-1)
        scores += torch.where(done, 0.0, logp.gather(1, token.unsqueeze(1)).squeeze(1))
        tokens.append(torch.where(done, PAD, token))
        weights.append(step_weights)
        done |= token == EOS
        if bool(done.all()):
            break
    tokens = torch.stack(tokens, 1)  # (B, steps)
    weights = None if weights[0] is None else torch.stack(weights, 1)  # (B, steps, S)
    lengths = src_len.tolist()
    return [_hypothesis(tokens[b], scores[b].item(), None if weights is None else weights[b], lengths[b])
            for b in range(batch)]


@torch.no_grad()
def beam_search(model: Seq2Seq, src: Tensor, src_len: Tensor, max_len: int, beam: int) -> list[list[Hypothesis]]:
    """The `beam` best hypotheses of every source, best first.

    All B x K beams advance together. A finished beam may only be extended by <pad> at no cost, so
    it keeps its score and competes with the live beams until the end.
    """
    batch, device = src.shape[0], src.device
    enc: Encoded = model.encode(src, src_len).repeat(beam)
    state = enc.state
    scores = torch.full((batch, beam), float("-inf"), device=device)
    scores[:, 0] = 0.0  # all beams start equal: expand only the first, or the same path fills every beam
    tokens = torch.full((batch * beam, 0), BOS, dtype=torch.long, device=device)
    history: Tensor | None = None  # (B*K, steps, S) attention weights
    finished = torch.zeros(batch * beam, dtype=torch.bool, device=device)
    last = torch.full((batch * beam,), BOS, dtype=torch.long, device=device)
    offsets = (torch.arange(batch, device=device) * beam).unsqueeze(1)  # (B, 1)
    for _ in range(max_len):
        logits, state, weights = model.step(last, state, enc)
        logp = F.log_softmax(logits.float(), -1)  # (B*K, V)
        vocab = logp.shape[1]
        logp[finished] = float("-inf")
        logp[finished, PAD] = 0.0
        top, index = (scores.view(-1, 1) + logp).view(batch, beam * vocab).topk(beam, dim=1)  # (B, K)
        origin = (offsets + index // vocab).view(-1)  # which beam each survivor extends
        last = (index % vocab).view(-1)
        tokens = torch.cat([tokens[origin], last.unsqueeze(1)], 1)
        state = map_state(state, lambda s: s.index_select(1, origin))
        if weights is not None:
            step = weights[origin].unsqueeze(1)
            history = step if history is None else torch.cat([history[origin], step], 1)
        finished = finished[origin] | (last == EOS)
        scores = top
        if bool(finished.all()):
            break
    lengths = src_len.tolist()
    results = []
    for b in range(batch):
        hyps = []
        for k in range(beam):
            score = scores[b, k].item()
            if score == float("-inf"):  # fewer possible continuations than beams
                continue
            row = b * beam + k
            hyps.append(_hypothesis(tokens[row], score, None if history is None else history[row], lengths[b]))
        results.append(hyps)
    return results
