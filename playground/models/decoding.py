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
from .inference import beam_search as search
from .seq2seq import Encoded, Seq2Seq


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
    """The `beam` best hypotheses of every source, best first (inference.beam_search over `model.step`)."""
    batch = src.shape[0]
    enc: Encoded = model.encode(src, src_len).repeat(beam)

    def step(last: Tensor, state, t: int):
        logits, state, weights = model.step(last, state, enc)
        return F.log_softmax(logits.float(), -1), state, weights

    found = search(step, enc.state, batch, beam, max_len, start=BOS, end=EOS, pad=PAD, device=src.device)
    lengths = src_len.tolist()
    results = []
    for b in range(batch):
        hyps = []
        for k in range(beam):
            score = found.scores[b, k].item()
            if score == float("-inf"):  # fewer possible continuations than beams
                continue
            attention = None if found.attention is None else found.attention[b, k]
            hyps.append(_hypothesis(found.tokens[b, k], score, attention, lengths[b]))
        results.append(hyps)
    return results
