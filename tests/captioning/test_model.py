"""The captioner keeps the model contract; its attention is a distribution that looks at the image;
its step-by-step core is the shared core; beam search of width 1 is greedy decoding."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from playground import models, tasks
from playground.config import ConfigError, ModelConfig, TaskConfig
from playground.data import scenes as sc
from playground.models.attentive_core import AttentiveCore
from playground.models.caption_search import beam_search, greedy
from playground.models.recurrent import RecurrentCore
from playground.models.cells.gru import GRUCell
from playground.train import diagnostics


@pytest.fixture(scope="module")
def task():
    return tasks.build(TaskConfig(name="captioning", dataset="shapes2", test_scenes=40))


def build(task, **settings):
    torch.manual_seed(0)
    return models.build(ModelConfig(**{"hidden": 32, "embedding": 16, **settings}), task.spec)


@pytest.mark.parametrize("arch, attention, extra", [
    ("lstm", "none", {}), ("lstm", "soft", {}), ("gru", "soft", {}), ("rnn-tanh", "none", {}),
    ("lstm", "soft", {"layers": 2, "backend": "scratch"}), ("gru", "none", {"layers": 2}),
])
def test_contract_shapes_and_gradient_flow_over_decoder_steps(task, arch, attention, extra):
    model = build(task, arch=arch, attention=attention, **extra)
    batch = task.batch(task.heldout[:5])
    out = model(batch)
    assert out.logits.shape == (*batch["x"].shape, len(task.vocab))
    assert out.loss.ndim == 0 and torch.isfinite(out.loss) and out.state is None
    out.loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    probe = task.probe_batch(8, 0)
    flow = diagnostics.gradient_flow(model, probe)
    assert len(flow) == probe["x"].shape[1]  # one value per decoder step, the hook saw the whole sequence
    assert all(v > 0 for v in flow) and all(torch.isfinite(torch.tensor(flow)))
    assert diagnostics.spectral_radii(model)  # model.core is the decoder's core


def test_attentive_core_steps_the_shared_core_weights():
    """With a zero context, the step-by-step core computes what the fused torch kernel computes."""
    for arch in ("lstm", "gru", "rnn-tanh"):
        cfg = ModelConfig(arch=arch, hidden=12, layers=2)
        torch.manual_seed(1)
        stepped = AttentiveCore(cfg, input_size=5, context_size=3).eval()
        fused = RecurrentCore(cfg, 5).eval()
        with torch.no_grad():
            for name, weight in stepped.rnn.named_parameters():
                getattr(fused.rnn, name).copy_(weight[:, :5] if name == "weight_ih_l0" else weight)
        x = torch.randn(4, 7, 5)
        zero = torch.zeros(4, 3)
        hidden, state, contexts, weights = stepped(x, None, glimpse=lambda h: (zero, torch.ones(4, 1)))
        expected, expected_state = fused(x)
        torch.testing.assert_close(hidden, expected, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(state, expected_state, rtol=1e-5, atol=1e-6)
        assert contexts.shape == (4, 7, 3) and weights.shape == (4, 7, 1)


def test_soft_attention_is_a_distribution_that_depends_on_the_image(task):
    model = build(task, attention="soft").eval()
    scene = task.heldout[0]
    first = scene.shapes[0]
    other_colour = next(c for c in task.settings.colours if c != first.colour)
    changed = dataclasses.replace(scene, shapes=(dataclasses.replace(first, colour=other_colour), *scene.shapes[1:]))
    weights = model.attention_maps(task.batch([scene, changed]))  # (2, T, L)
    rows, cols = model.grid_shape
    assert weights.shape[-1] == rows * cols == (task.settings.image_size // 8) ** 2
    torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:2]))
    assert (weights >= 0).all()
    # same words read, one shape recoloured: the weights over the grid move
    assert (weights[0] - weights[1]).abs().max() > 1e-4
    with pytest.raises(ConfigError, match="no attention"):
        build(task, attention="none").attention_maps(task.batch([scene]))


@pytest.mark.parametrize("attention", ["none", "soft"])
def test_beam_of_one_is_greedy_and_wider_beams_decode(task, attention):
    model = build(task, attention=attention).eval()
    images = task.batch(task.heldout[:6])["images"]
    plain, beam1, beam4 = greedy(model, images), beam_search(model, images, 1), beam_search(model, images, 4)
    for g, b in zip(plain, beam1):
        assert g.ids == b.ids
        assert g.log_prob == pytest.approx(b.log_prob, abs=1e-5)
        if attention == "soft":
            torch.testing.assert_close(g.attention, b.attention)
            assert g.attention.shape == (len(g.ids), model.grid_shape[0] * model.grid_shape[1])
        else:
            assert g.attention is None
    for b in beam4:
        assert len(b.ids) <= task.spec["max_words"] and b.log_prob <= 0
        assert model.pad not in b.ids and model.bos not in b.ids


def test_scheduled_decoding_matches_teacher_forcing_when_fully_forced(task):
    model = build(task, attention="soft").eval()
    batch = task.batch(task.heldout[:4])
    parallel = model(batch).logits
    stepped = model.decode_scheduled(batch["x"], torch.ones_like(batch["x"], dtype=torch.bool),
                                     model.encode(batch["images"]))
    torch.testing.assert_close(stepped, parallel, rtol=1e-5, atol=1e-5)
    partly = torch.rand(batch["x"].shape, generator=torch.Generator().manual_seed(0)) < 0.5
    mixed = model({**batch, "forced": partly}).logits
    assert not torch.allclose(mixed, parallel)  # own predictions were read where the mask is False


@pytest.mark.parametrize("settings, message", [
    ({"bidirectional": True}, "bidirectional off"),
    ({"attention": "bahdanau"}, "attention none or soft"),
])
def test_unsupported_settings_are_config_errors(task, settings, message):
    with pytest.raises(ConfigError, match=message):
        build(task, **settings)


def test_bigger_scenes_give_bigger_grids():
    big = tasks.build(TaskConfig(name="captioning", dataset="shapes3", test_scenes=10))
    model = build(big, attention="soft")
    assert model.grid_shape == (8, 8)
    assert model(big.batch(big.heldout[:2])).logits.shape[0] == 2
    assert sc.resolve_settings("shapes3").image_size == 64


def test_decoder_arch_picks_the_decoder_cell(task):
    model = build(task, arch="rnn-tanh", decoder_arch="gru", attention="soft")
    assert model.core.arch == "gru" and all(isinstance(cell, GRUCell) for cell in model.core.rnn.cells)
    assert model.init_state.out_features == 32  # a GRU starts from h_0 alone (an LSTM also needs c_0)


def test_gate_statistics_come_from_the_stepped_core_too(task):
    model = build(task, attention="soft", backend="scratch")
    assert model.core.record_gates(True)
    model(task.batch(task.heldout[:3]))
    stats = model.core.gate_stats()
    assert set(stats) == {"input", "forget", "output"} and 0 < stats["forget"]["mean"] < 1
