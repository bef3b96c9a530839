"""The shared inference helpers: eval mode that always comes back, the state tree-map, the one beam search."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from playground.models.inference import beam_search, evaluating, map_state, select_rows
from playground.train.trainer import detach_state


def test_evaluating_restores_the_mode_even_when_the_block_raises():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    with evaluating(model):
        assert not model.training and not model[1].training
    assert model.training and model[1].training
    with pytest.raises(RuntimeError):
        with evaluating(model):
            raise RuntimeError("boom")
    assert model.training
    model.eval()
    with evaluating(model):
        pass
    assert not model.training  # a model that was in eval mode stays there


def test_map_state_keeps_the_structure():
    h, c = torch.ones(2, 3, 4), torch.zeros(2, 3, 4)
    assert map_state(None, torch.neg) is None
    assert torch.equal(map_state(h, torch.neg), -h)
    doubled = map_state((h, (c, h)), lambda t: t * 2)
    assert isinstance(doubled, tuple) and isinstance(doubled[1], tuple)
    assert torch.equal(doubled[0], 2 * h) and torch.equal(doubled[1][1], 2 * h)
    rows = select_rows((h, c), torch.tensor([2, 0]))
    assert rows[0].shape == (2, 2, 4)


def test_detach_state_cuts_the_graph_of_every_part():
    h = torch.ones(1, 2, 3, requires_grad=True) * 2
    c = torch.ones(1, 2, 3, requires_grad=True) * 3
    cut = detach_state((h, c))
    assert isinstance(cut, tuple) and not any(t.requires_grad for t in cut)
    assert torch.equal(cut[1], c.detach())


def test_beam_search_finds_the_best_sequence_greedy_misses():
    """A toy model: greedy takes token 1 (p 0.6) and then ends (p 0.55): 0.33 in all; token 2 (p 0.4) leads to a
    certain end (p 1.0). Beam 2 must find 2 -> end (0.4) over 1 -> end (0.33)."""
    end, pad, vocab = 0, 3, 4

    def step(last, state, t):
        logp = torch.full((len(last), vocab), -1e9)
        if t == 0:
            logp[:, 1], logp[:, 2] = torch.tensor(0.6).log(), torch.tensor(0.4).log()
        else:
            after_one, after_two = last == 1, last == 2
            logp[after_one, end], logp[after_one, 1] = torch.tensor(0.55).log(), torch.tensor(0.45).log()
            logp[after_two, end] = 0.0
        return logp, state, None

    greedy = beam_search(step, torch.zeros(1, 2, 1), batch=2, beam=1, max_steps=2, start=1, end=end, pad=pad, device="cpu")
    assert greedy.tokens[0, 0].tolist() == [1, 0]
    state = torch.zeros(1, 2 * 2, 1)  # (layers, B*K, H): two sources, two beams each
    found = beam_search(step, state, batch=2, beam=2, max_steps=2, start=1, end=end, pad=pad, device="cpu")
    assert found.tokens.shape[:2] == (2, 2)
    assert found.tokens[0, 0].tolist()[:2] == [2, end] and found.scores[0, 0].exp().item() == pytest.approx(0.4)
    # the search stops once every beam has ended; until then a finished beam continues with padding at no cost
    assert found.tokens.shape[2] == 2
    assert found.scores[0, 1].exp().item() == pytest.approx(0.33)  # best first
