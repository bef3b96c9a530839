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


@dataclass
class Decoded:
    ids: list[int]  # word ids, <eos> excluded
    attention: Tensor | None  # (len(ids), L) weights for each word, or None
    log_prob: float  # sum of log p(word) over the words and the final <eos>


def select_state(state, index: Tensor):
    """Rows `index` of a recurrent state (layers, B, H), or of each tensor of an LSTM's pair."""
    if isinstance(state, tuple):
        return tuple(s.index_select(1, index) for s in state)
    return state.index_select(1, index)


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
    in length). A finished caption extends only by <pad> at no cost, so it competes unchanged.
    With beam = 1 this is greedy decoding.
    """
    steps = (max_words or model.max_words) + 1
    batch, device = images.shape[0], images.device
    memory = model.encode(images)
    state = model.initial_state(memory)
    expand = torch.arange(batch, device=device).repeat_interleave(beam)  # row b*beam + k reads image b
    memory, state = memory.select(expand), select_state(state, expand)
    scores = torch.full((batch, beam), float("-inf"), device=device)
    scores[:, 0] = 0.0  # one live hypothesis to start with, or the beam would hold copies of it
    done = torch.zeros(batch, beam, dtype=torch.bool, device=device)
    ids = torch.zeros(batch, beam, 0, dtype=torch.long, device=device)
    maps = None
    words = torch.full((batch * beam, 1), model.bos, dtype=torch.long, device=device)
    offsets = (torch.arange(batch, device=device) * beam)[:, None]  # (B, 1)
    for step in range(steps):
        logits, state, weights = model.decode(words, state, memory)
        log_probs = next_word_log_probs(model, logits, last=step == steps - 1)  # (B*beam, V)
        vocab = log_probs.shape[-1]
        log_probs = log_probs.view(batch, beam, vocab)
        only_pad = torch.full((vocab,), float("-inf"), device=device)
        only_pad[model.pad] = 0.0
        log_probs = torch.where(done[..., None], only_pad, log_probs)
        top_scores, top = (scores[..., None] + log_probs).view(batch, -1).topk(beam, dim=1)  # (B, beam)
        parent, word = top // vocab, top % vocab
        rows = (parent + offsets).view(-1)  # which old hypothesis each new one extends
        state = select_state(state, rows)
        ids = torch.cat([ids.gather(1, parent[..., None].expand(-1, -1, ids.shape[2])), word[..., None]], dim=2)
        if weights is not None:
            step_map = weights[:, -1].index_select(0, rows).view(batch, beam, 1, -1)
            maps = step_map if maps is None else torch.cat(
                [maps.gather(1, parent[..., None, None].expand(-1, -1, *maps.shape[2:])), step_map], dim=2)
        done = done.gather(1, parent) | (word == model.eos)
        scores = top_scores
        if done.all():
            break
        words = word.view(-1, 1)
    best = scores.argmax(dim=1)  # (B,)
    return [_finish(ids[b, best[b]], None if maps is None else maps[b, best[b]], scores[b, best[b]], model)
            for b in range(batch)]


def _finish(ids: Tensor, attention: Tensor | None, score: Tensor, model: Captioner) -> Decoded:
    """Cut at the first <eos> (or padding): the words and their attention maps."""
    words = []
    for i in ids.tolist():
        if i in (model.eos, model.pad):
            break
        words.append(i)
    return Decoded(words, None if attention is None else attention[: len(words)].cpu(), float(score))
