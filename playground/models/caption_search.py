"""Decoding a caption word by word: greedy, and beam search (a batch of images at once).

Both return, per image, the word ids (without <eos>), the attention weights of each word
((words, L), or None without attention) and the caption's log-probability (its <eos> included).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from .captioner import Captioner
from .inference import beam_search as search
from .inference import select_rows


@dataclass
class Decoded:
    ids: list[int]  # word ids, <eos> excluded
    attention: Tensor | None  # (len(ids), L) weights for each word, or None
    log_prob: float  # sum of log p(word) over the words and the final <eos>


def next_word_log_probs(model: Captioner, logits: Tensor, last: bool) -> Tensor:
    """log p(next word) from the last step's logits, never <pad> or <bos> (they are not words);
    at the `last` step only <eos>, so every caption ends within max_words words."""
    logits = logits[:, -1].float().clone()
    if last:
        logits[:, : model.eos] = float("-inf")
        logits[:, model.eos + 1:] = float("-inf")
    logits[:, [model.pad, model.bos]] = float("-inf")
    return F.log_softmax(logits, dim=-1)


@torch.no_grad()
def greedy(model: Captioner, images: Tensor, max_words: int | None = None) -> list[Decoded]:
    """Take the likeliest word at every step until <eos> (at the latest after max_words words)."""
    steps = (max_words or model.max_words) + 1
    memory = model.encode(images)
    state = model.initial_state(memory)
    batch = images.shape[0]
    words = torch.full((batch, 1), model.bos, dtype=torch.long, device=images.device)
    done = torch.zeros(batch, dtype=torch.bool, device=images.device)
    chosen, maps, scores = [], [], torch.zeros(batch, device=images.device)
    for step in range(steps):
        logits, state, weights = model.decode(words, state, memory)
        log_probs = next_word_log_probs(model, logits, last=step == steps - 1)  # (B, V)
        word = log_probs.argmax(dim=-1)  # (B,)
        scores += torch.where(done, 0.0, log_probs.gather(1, word[:, None]).squeeze(1))
        word = torch.where(done, model.pad, word)
        chosen.append(word)
        maps.append(None if weights is None else weights[:, -1])
        done |= word == model.eos
        if done.all():
            break
        words = word[:, None]
    ids = torch.stack(chosen, dim=1)  # (B, steps)
    attention = None if maps[0] is None else torch.stack(maps, dim=1)  # (B, steps, L)
    return [_finish(ids[b], None if attention is None else attention[b], scores[b], model) for b in range(batch)]


@torch.no_grad()
def beam_search(model: Captioner, images: Tensor, beam: int, max_words: int | None = None) -> list[Decoded]:
    """Keep the `beam` likeliest partial captions at every step; return the likeliest finished one.

    Scores are summed log-probabilities (no length penalty: captions of one grammar differ little
    in length); see inference.beam_search. With beam = 1 this is greedy decoding.
    """
    steps = (max_words or model.max_words) + 1
    batch, device = images.shape[0], images.device
    memory = model.encode(images)
    state = model.initial_state(memory)
    expand = torch.arange(batch, device=device).repeat_interleave(beam)  # row b*beam + k reads image b
    memory, state = memory.select(expand), select_rows(state, expand)

    def step(words: Tensor, state, t: int):
        logits, state, weights = model.decode(words[:, None], state, memory)
        log_probs = next_word_log_probs(model, logits, last=t == steps - 1)  # (B*beam, V)
        return log_probs, state, None if weights is None else weights[:, -1]

    found = search(step, state, batch, beam, steps, start=model.bos, end=model.eos, pad=model.pad, device=device)
    # best first: beam 0 is the likeliest caption
    return [_finish(found.tokens[b, 0], None if found.attention is None else found.attention[b, 0],
                    found.scores[b, 0], model) for b in range(batch)]


def _finish(ids: Tensor, attention: Tensor | None, score: Tensor, model: Captioner) -> Decoded:
    """Cut at the first <eos> (or padding): the words and their attention maps."""
    words = []
    for i in ids.tolist():
        if i in (model.eos, model.pad):
            break
        words.append(i)
    return Decoded(words, None if attention is None else attention[: len(words)].cpu(), float(score))
