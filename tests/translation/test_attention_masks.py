"""Attention depends on the encoder outputs; padding gets no attention and no loss; bridges fit all cell pairs."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from playground.config import ConfigError, ModelConfig
from playground.data.tokens import PAD
from playground.models.attention import BahdanauAttention, LuongAttention, masked_softmax
from translation_helpers import ATTENTIONS, make_model, mixed_batch

WITH_ATTENTION = [a for a in ATTENTIONS if a != "none"]


def weights_of(model, batch):
    enc = model.encode(batch["src"], batch["src_len"])
    return model.decode_teacher_forced(enc, batch["tgt_in"])[1]  # (B, T, S)


def changes_with_memory(attention) -> bool:
    """Do the weights for one fixed query change when one memory vector changes?"""
    torch.manual_seed(1)
    query, memory = torch.randn(2, 3, 16), torch.randn(2, 5, 16)
    mask = torch.ones(2, 5, dtype=torch.bool)
    _, before = attention(query, attention.keys(memory), memory, mask)
    memory = memory.clone()
    memory[:, 2] += torch.randn(2, 16)
    _, after = attention(query, attention.keys(memory), memory, mask)
    return not torch.allclose(before, after)


@pytest.mark.parametrize("module", [BahdanauAttention(16, 16, 16), LuongAttention("dot", 16, 16),
                                    LuongAttention("general", 16, 16)], ids=["bahdanau", "luong-dot", "luong-general"])
def test_weights_depend_on_the_memory_for_a_fixed_query(module):
    assert changes_with_memory(module)


def test_the_check_catches_the_tutorial_bug():
    """Weights computed from the decoder side alone (the public tutorial's bug) fail the same check."""
    class DecoderOnly(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.score = torch.nn.Linear(16, 5)

        def keys(self, memory):
            return memory

        def forward(self, query, keys, memory, mask):
            weights = masked_softmax(self.score(query), mask)
            return weights @ memory, weights

    assert not changes_with_memory(DecoderOnly())


@pytest.mark.parametrize("attention", WITH_ATTENTION)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_perturbing_one_source_token_changes_the_weights(reverse_task, attention, bidirectional):
    model = make_model(reverse_task, attention, bidirectional=bidirectional)
    batch = reverse_task.splits()[1].batch(torch.arange(4))
    before = weights_of(model, batch)
    position = 1  # not the last token: for a unidirectional encoder the final state hides nothing else
    perturbed = dict(batch, src=batch["src"].clone())
    perturbed["src"][:, position] = torch.where(perturbed["src"][:, position] == 5, 6, 5)
    after = weights_of(model, perturbed)
    assert before.shape == after.shape
    # every row of the first decoder step moves, and not by rounding noise
    assert ((before[:, 0] - after[:, 0]).abs().amax(-1) > 1e-4).all()


@pytest.mark.parametrize("attention", WITH_ATTENTION)
def test_padding_gets_exactly_zero_weight(reverse_task, attention):
    model = make_model(reverse_task, attention, arch="lstm", bidirectional=True)
    batch = mixed_batch(reverse_task)
    weights = weights_of(model, batch)
    for b, length in enumerate(batch["src_len"].tolist()):
        assert (weights[b, :, length:] == 0).all()
        assert (weights[b, :, :length] > 0).all()
    torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:2]))


def pad_more(batch, source_columns=3, target_columns=2):
    return {
        "src": F.pad(batch["src"], (0, source_columns), value=PAD), "src_len": batch["src_len"],
        "tgt_in": F.pad(batch["tgt_in"], (0, target_columns), value=PAD),
        "tgt_out": F.pad(batch["tgt_out"], (0, target_columns), value=PAD),
    }


@pytest.mark.parametrize("attention", ATTENTIONS)
@pytest.mark.parametrize("arch,backend,bidirectional", [("gru", "fused", False), ("lstm", "fused", True),
                                                        ("rnn-tanh", "scratch", True)])
def test_extra_padding_leaves_the_loss_unchanged(reverse_task, attention, arch, backend, bidirectional):
    model = make_model(reverse_task, attention, arch=arch, backend=backend, bidirectional=bidirectional, layers=2)
    batch = mixed_batch(reverse_task)
    loss = model(batch).loss
    padded = model(pad_more(batch)).loss
    torch.testing.assert_close(padded, loss, rtol=1e-5, atol=1e-6)
    # and the padded source itself changes nothing: pad ids can be anything the encoder never reads
    junk = pad_more(batch)
    junk["src"] = junk["src"].masked_fill(junk["src"] == PAD, 7)
    torch.testing.assert_close(model(junk).loss, loss, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("arch,backend,bidirectional", [("gru", "fused", False), ("lstm", "fused", True),
                                                        ("gru", "scratch", True)])
def test_batch_loss_equals_the_mean_over_unpadded_examples(reverse_task, arch, backend, bidirectional):
    """The loss is the mean over real target tokens, and a padded batch (packed, or encoded one length at a
    time on the scratch backend) gives each example what it gets alone, without any padding."""
    model = make_model(reverse_task, "luong-general", arch=arch, backend=backend, bidirectional=bidirectional)
    batch = mixed_batch(reverse_task)
    total, count = 0.0, 0
    for b in range(len(batch["src_len"])):
        n_src = int(batch["src_len"][b])
        n_tgt = int((batch["tgt_out"][b] != PAD).sum())
        single = {"src": batch["src"][b:b + 1, :n_src], "src_len": batch["src_len"][b:b + 1],
                  "tgt_in": batch["tgt_in"][b:b + 1, :n_tgt], "tgt_out": batch["tgt_out"][b:b + 1, :n_tgt]}
        total += model(single).loss.item() * n_tgt
        count += n_tgt
    assert model(batch).loss.item() == pytest.approx(total / count, rel=1e-5)


@pytest.mark.parametrize("encoder,decoder,bidirectional,layers", [
    ("gru", "lstm", False, 1), ("lstm", "gru", True, 2), ("lstm", "lstm", True, 3), ("rnn-relu", "rnn-tanh", False, 2),
])
def test_decoder_starts_from_the_bridged_encoder_state(reverse_task, encoder, decoder, bidirectional, layers):
    model = make_model(reverse_task, "none", arch=encoder, decoder_arch=decoder, bidirectional=bidirectional,
                       layers=layers)
    batch = mixed_batch(reverse_task)
    enc = model.encode(batch["src"], batch["src_len"])
    state = enc.state if isinstance(enc.state, tuple) else (enc.state,)
    assert len(state) == (2 if decoder == "lstm" else 1)
    assert state[0].shape == (layers, len(batch["src_len"]), 16)
    # without attention the initial state is the only path from the source to the output
    other = dict(batch, src=batch["src"].roll(1, 0), src_len=batch["src_len"].roll(1, 0))
    assert not torch.allclose(model(batch).logits[:, 0], model(other).logits[:, 0])


def test_unidirectional_same_size_state_is_handed_over_unchanged(reverse_task):
    model = make_model(reverse_task, "none", arch="gru")
    batch = reverse_task.splits()[1].batch(torch.arange(1))
    _, final = model.core(model.embed_source(batch["src"]))
    assert model.bridge.hidden is None
    torch.testing.assert_close(model.encode(batch["src"], batch["src_len"]).state, final)


def test_soft_attention_is_refused_with_a_clear_message(reverse_task):
    with pytest.raises(ConfigError, match="captioning"):
        make_model(reverse_task, "soft")


def test_luong_is_an_alias_of_luong_general():
    cfg = ModelConfig(attention="luong")
    cfg.validate()
    assert cfg.attention == "luong-general"
