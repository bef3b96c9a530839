"""Greedy decoding, beam search and teacher forcing on a briefly trained reverse model."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from playground.config import TrainConfig
from playground.data.tokens import EOS, PAD
from playground.models.decoding import beam_search, greedy
from translation_helpers import ATTENTIONS, make_model, mixed_batch


def trained(task, attention, steps=40, **settings):
    """A model after a few dozen steps: its outputs are neither uniform nor all correct."""
    model = make_model(task, attention, **settings).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    batches = task.train_batches(16, 0, torch.Generator().manual_seed(0))
    for _ in range(steps):
        loss = model(next(batches)).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


@pytest.fixture(scope="module", params=ATTENTIONS)
def model(request, reverse_task):
    return trained(reverse_task, request.param, arch="lstm" if request.param == "luong-dot" else "gru")


def test_beam_width_one_is_greedy(reverse_task, model):
    batch = mixed_batch(reverse_task, size=8)
    by_greedy = greedy(model, batch["src"], batch["src_len"], max_len=15)
    by_beam = beam_search(model, batch["src"], batch["src_len"], max_len=15, beam=1)
    for g, (b,) in zip(by_greedy, by_beam):
        assert b.ids == g.ids
        assert b.score == pytest.approx(g.score, abs=1e-4)
        assert b.finished == g.finished
        if g.attention is None:
            assert b.attention is None
        else:
            torch.testing.assert_close(b.attention, g.attention)


def sequence_log_prob(model, src, src_len, ids, finished):
    """log P(ids (+ </s>) | source) by teacher forcing: what a hypothesis's score must equal."""
    tgt = torch.tensor([[1] + ids + ([EOS] if finished else [])])
    logits = model({"src": src, "src_len": src_len, "tgt_in": tgt[:, :-1], "tgt_out": tgt[:, 1:]}).logits
    return F.log_softmax(logits, -1)[0].gather(1, tgt[0, 1:].unsqueeze(1)).sum().item()


def test_beam_alternatives_are_distinct_ranked_and_scored_as_log_probabilities(reverse_task, model):
    batch = mixed_batch(reverse_task, size=4)
    results = beam_search(model, batch["src"], batch["src_len"], max_len=15, beam=4)
    for b, hyps in enumerate(results):
        assert len(hyps) == 4
        assert len({tuple(h.ids) for h in hyps}) == 4
        scores = [h.score for h in hyps]
        assert scores == sorted(scores, reverse=True)
        n = int(batch["src_len"][b])
        for h in hyps:
            expected = sequence_log_prob(model, batch["src"][b:b + 1, :n], batch["src_len"][b:b + 1], h.ids, h.finished)
            assert h.score == pytest.approx(expected, abs=1e-3)
            if h.attention is not None:
                assert h.attention.shape == (len(h.ids), n)


def test_teacher_forcing_ratio_zero_feeds_back_the_models_own_predictions(reverse_task, model):
    """With every step free-running, the logits' argmax is what greedy decoding emits, step by step."""
    batch = mixed_batch(reverse_task, size=6)
    enc = model.encode(batch["src"], batch["src_len"])
    free, _ = model.decode_teacher_forced(enc, batch["tgt_in"], torch.zeros_like(batch["tgt_in"], dtype=torch.bool))
    forced, _ = model.decode_teacher_forced(enc, batch["tgt_in"], torch.ones_like(batch["tgt_in"], dtype=torch.bool))
    hyps = greedy(model, batch["src"], batch["src_len"], max_len=batch["tgt_in"].shape[1])
    for b, h in enumerate(hyps):
        emitted = h.ids + ([EOS] if h.finished else [])
        steps = min(len(emitted), free.shape[1])
        assert free[b, :steps].argmax(-1).tolist() == emitted[:steps]
    torch.testing.assert_close(forced[:, 0], free[:, 0])  # step 0 reads <s> either way


def test_step_by_step_decoder_matches_the_one_call_path(reverse_task, model):
    """Luong and no-attention decoders run a fully teacher-forced target in one call; it must equal stepping."""
    batch = mixed_batch(reverse_task, size=6)
    enc = model.encode(batch["src"], batch["src_len"])
    together, weights = model.decode_teacher_forced(enc, batch["tgt_in"])
    state, rows = enc.state, []
    for t in range(batch["tgt_in"].shape[1]):
        logits, state, _ = model.step(batch["tgt_in"][:, t], state, enc)
        rows.append(logits)
    torch.testing.assert_close(torch.stack(rows, 1), together, rtol=1e-4, atol=1e-5)


def test_teacher_forcing_ratio_reaches_the_batches(reverse_task):
    from playground import tasks
    task = tasks.build(reverse_task.cfg, train=TrainConfig(teacher_forcing=0.25, beam=3))
    assert (task.teacher_forcing, task.beam) == (0.25, 3)
    first = [next(task.train_batches(32, 0, torch.Generator().manual_seed(5))) for _ in range(2)]
    torch.testing.assert_close(first[0]["forced"], first[1]["forced"])  # drawn from the trainer's seeded generator
    share = first[0]["forced"].float().mean().item()
    assert 0.1 < share < 0.4
    assert "forced" not in next(reverse_task.train_batches(32, 0, torch.Generator().manual_seed(5)))  # ratio 1


@pytest.mark.parametrize("ratio", [0.0, 1.0])
def test_training_runs_with_teacher_forcing_zero_and_one(reverse_task, ratio):
    from playground import tasks
    from playground.train.trainer import Trainer
    task = tasks.build(reverse_task.cfg, train=TrainConfig(teacher_forcing=ratio))
    model = make_model(task, "bahdanau")
    cfg = TrainConfig(steps=6, batch_size=16, eval_every=6, eval_batches=1, teacher_forcing=ratio, clip="norm")
    result = Trainer(cfg).fit(model, task)
    assert result.status == "completed"
    losses = [r["loss"] for r in result.history]
    assert all(torch.isfinite(torch.tensor(losses)))
    assert {"exact_match", "token_accuracy", "bleu"} <= set(result.evals[-1])


def test_finished_beams_do_not_grow(reverse_task, model):
    batch = mixed_batch(reverse_task, size=3)
    for hyps in beam_search(model, batch["src"], batch["src_len"], max_len=40, beam=3):
        for h in hyps:
            assert PAD not in h.ids and EOS not in h.ids
            assert len(h.ids) <= 40
