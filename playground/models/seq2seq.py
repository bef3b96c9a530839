"""Sequence-to-sequence translation: a recurrent encoder, an optional attention, a recurrent decoder.

    source ids --embed--> encoder (`model.core`, any arch, uni- or bidirectional)
                                     | memory (B, S, D*H)        final state
                                     v                               | bridged
    target ids --embed--> decoder RecurrentCore (unidirectional) <---+
                          + attention over the memory  --> head --> next-token logits

Batches (made by the translation task): `src` (B, S) and `src_len` (B,) with padding on the right,
`tgt_in` = <s> y1 .. yn and `tgt_out` = y1 .. yn </s> (B, T), padded with <pad>; optional `forced`
(B, T) bool: where False the decoder is fed its own previous prediction instead of the true token
(teacher forcing with a ratio below 1). Padding never reaches the encoder (packed sequences, or
one call per length on the scratch backend), never gets attention and never counts in the loss.

Bahdanau attention reads the previous decoder state, so its decoder runs step by step; Luong
attention reads the current output, so with full teacher forcing its decoder runs the whole target
in one fused call, giving the same numbers as the step-by-step path (a test checks).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..config import ModelConfig
from ..data.tokens import PAD
from .attention import make_attention
from .base import ModelOutput, SequenceModel
from .attention_readouts import AttentionMaps, attention_readouts
from .inference import evaluating, map_state
from .recurrent import RecurrentCore
from .stack import joined_state, state_parts


@dataclass
class Encoded:
    """What the decoder reads about a batch of sources."""
    memory: Tensor  # (B, S, M) encoder outputs (zeros at padding)
    keys: Tensor | None  # (B, S, K) the attention's precomputed memory projection (None without attention)
    mask: Tensor  # (B, S) True on real source tokens
    state: Tensor | tuple[Tensor, ...]  # the decoder's initial state (L, B, H), a tuple for a cell with several parts

    def repeat(self, k: int) -> "Encoded":
        """Each source k times in a row (for k beams): rows b*k .. b*k+k-1 belong to source b."""
        return Encoded(self.memory.repeat_interleave(k, 0),
                       None if self.keys is None else self.keys.repeat_interleave(k, 0),
                       self.mask.repeat_interleave(k, 0), map_state(self.state, lambda s: s.repeat_interleave(k, 1)))


class StateBridge(nn.Module):
    """Encoder final state (L*D, B, H) -> decoder initial state (L, B, H), a tuple for a decoder whose cell
    has several state parts (the LSTM's (h, c)).

    Same sizes and one direction: handed over as is (the classic encoder-decoder). Bidirectional:
    both directions' states of a layer are concatenated and projected back to H (tanh for h, linear
    for any other part both cells share, an LSTM's cell c). A decoder part the encoder lacks (an
    LSTM decoder's c after a GRU encoder) starts at zero.
    """

    def __init__(self, encoder_parts: tuple[str, ...], decoder_parts: tuple[str, ...], directions: int,
                 hidden: int) -> None:
        super().__init__()
        self.encoder_parts, self.decoder_parts = encoder_parts, decoder_parts
        self.directions = directions
        self.hidden = nn.Linear(directions * hidden, hidden) if directions > 1 else None
        shared = [part for part in decoder_parts[1:] if part in encoder_parts]
        self.parts = nn.ModuleDict({part: nn.Linear(directions * hidden, hidden) for part in shared}
                                   if directions > 1 else {})
        self._register_load_state_dict_pre_hook(_migrate_bridge)

    def _merge_directions(self, state: Tensor) -> Tensor:
        layers_dirs, batch, hidden = state.shape
        layers = layers_dirs // self.directions  # torch orders states layer by layer, forward then reverse
        return state.view(layers, self.directions, batch, hidden).permute(0, 2, 1, 3).reshape(layers, batch, -1)

    def forward(self, state):
        given = dict(zip(self.encoder_parts, state_parts(state)))
        h = self._merge_directions(given[self.encoder_parts[0]])
        if self.hidden is not None:
            h = torch.tanh(self.hidden(h))
        out = [h.contiguous()]
        for part in self.decoder_parts[1:]:
            if part not in given:
                out.append(torch.zeros_like(h))
                continue
            merged = self._merge_directions(given[part])
            out.append((self.parts[part](merged) if part in self.parts else merged).contiguous())
        return joined_state(out)


def _migrate_bridge(state_dict, prefix, *args) -> None:
    """Checkpoints written before the bridge was generic over state parts called the LSTM's c projection `cell`."""
    for key in [k for k in state_dict if k.startswith(prefix + "cell.")]:
        state_dict[prefix + "parts.c." + key[len(prefix + "cell."):]] = state_dict.pop(key)


class Seq2Seq(SequenceModel):
    # the probe's loss is at the decoder's last step; it reaches the encoder's inputs through the bridge and the
    # attention, so lag in the encoder is not distance from the loss
    loss_reads_core = False
    def __init__(self, cfg: ModelConfig, spec: dict) -> None:
        super().__init__()
        decoder_arch = cfg.decoder_arch or cfg.arch
        self.attention_kind = cfg.attention
        self.embed_source = nn.Embedding(spec["source_vocab_size"], cfg.embedding, padding_idx=PAD)
        self.embed_target = nn.Embedding(spec["target_vocab_size"], cfg.embedding, padding_idx=PAD)
        self.core = RecurrentCore(cfg, cfg.embedding)  # the encoder: the gradient-flow probe hooks its input
        # Luong's dot score needs query and memory of one size: a bidirectional memory sums its two halves.
        self.fold_directions = cfg.attention == "luong-dot" and cfg.bidirectional
        memory_size = cfg.hidden if self.fold_directions else self.core.output_size
        self.attention = make_attention(cfg.attention, cfg.hidden, memory_size)
        self.feeds_context = cfg.attention == "bahdanau"  # Bahdanau: the context is part of the decoder's input
        decoder_input = cfg.embedding + (memory_size if self.feeds_context else 0)
        decoder_cfg = dataclasses.replace(cfg, arch=decoder_arch, bidirectional=False)
        self.decoder = RecurrentCore(decoder_cfg, decoder_input)
        self.bridge = StateBridge(self.core.state_parts, self.decoder.state_parts, self.core.directions, cfg.hidden)
        # With attention the head reads tanh(W [h_t; c_t]) (Luong's attentional hidden state), else h_t.
        self.combine = nn.Linear(cfg.hidden + memory_size, cfg.hidden) if self.attention is not None else None
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden, spec["target_vocab_size"])

    # -- encoder ---------------------------------------------------------------------------------
    def encode(self, src: Tensor, src_len: Tensor) -> Encoded:
        width = src.shape[1]
        lengths = src_len.cpu()
        longest = int(lengths.max())
        x = self.embed_source(src[:, :longest])  # (B, S', E)
        if bool((lengths == longest).all()):
            memory, state = self.core(x)  # no padding at all: one plain call (what the probe hooks)
        elif self.core.fused:
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            out, state = self.core(packed)
            memory = pad_packed_sequence(out, batch_first=True, total_length=longest)[0]
        else:
            memory, state = self._encode_by_length(x, lengths)
        if self.fold_directions:
            memory = memory[..., : self.core.hidden_size] + memory[..., self.core.hidden_size:]
        memory = F.pad(memory, (0, 0, 0, width - longest))  # back to the batch's width: zeros at padding
        mask = torch.arange(width, device=src.device).unsqueeze(0) < src_len.to(src.device).unsqueeze(1)
        keys = self.attention.keys(memory) if self.attention is not None else None
        return Encoded(memory, keys, mask, self.bridge(state))

    def _encode_by_length(self, x: Tensor, lengths: Tensor):
        """The scratch backend takes no packed sequences: one core call per distinct length, no padding."""
        batch = x.shape[0]
        memory = x.new_zeros(batch, x.shape[1], self.core.output_size)
        final = None
        for length in lengths.unique().tolist():
            rows = (lengths == length).nonzero().squeeze(1).to(x.device)
            out, state = self.core(x[rows, :length])
            memory[rows, :length] = out
            if final is None:
                final = map_state(state, lambda s: s.new_zeros(s.shape[0], batch, s.shape[2]))
            for whole, part in zip(state_parts(final), state_parts(state)):
                whole[:, rows] = part
        return memory, final

    # -- decoder ---------------------------------------------------------------------------------
    def _logits(self, output: Tensor, context: Tensor | None) -> Tensor:
        features = output if self.combine is None else torch.tanh(self.combine(torch.cat([output, context], -1)))
        return self.head(self.drop(features))

    def step(self, token: Tensor, state, enc: Encoded):
        """One decoder step: previous tokens (B,) -> (logits (B, V), next state, weights (B, S) or None)."""
        inputs = self.embed_target(token).unsqueeze(1)  # (B, 1, E)
        context = weights = None
        if self.feeds_context:  # Bahdanau: attend with the previous state, feed the context in
            top = state_parts(state)[0][-1].unsqueeze(1)  # (B, 1, H) top layer
            context, weights = self.attention(top, enc.keys, enc.memory, enc.mask)
            inputs = torch.cat([inputs, context], -1)
        output, state = self.decoder(inputs, state)  # (B, 1, H)
        if self.attention is not None and not self.feeds_context:  # Luong: attend with the new output
            context, weights = self.attention(output, enc.keys, enc.memory, enc.mask)
        return self._logits(output, context)[:, 0], state, None if weights is None else weights[:, 0]

    def decode_teacher_forced(self, enc: Encoded, tgt_in: Tensor, forced: Tensor | None = None):
        """Logits (B, T, V) and attention weights (B, T, S) (None without attention) for a target batch.

        `forced` (B, T) bool: where False, step t reads the model's own prediction from step t-1.
        """
        if (forced is None or bool(forced.all())) and not self.feeds_context:
            output, _ = self.decoder(self.embed_target(tgt_in), enc.state)  # all steps in one fused call
            context = weights = None
            if self.attention is not None:
                context, weights = self.attention(output, enc.keys, enc.memory, enc.mask)
            return self._logits(output, context), weights
        state, token = enc.state, tgt_in[:, 0]
        all_logits, all_weights = [], []
        for t in range(tgt_in.shape[1]):
            if t > 0:
                token = tgt_in[:, t] if forced is None else torch.where(forced[:, t], tgt_in[:, t], prediction)
            logits, state, weights = self.step(token, state, enc)
            prediction = logits.argmax(-1)  # an integer: no gradient flows through the model's own choice
            all_logits.append(logits)
            all_weights.append(weights)
        weights = None if all_weights[0] is None else torch.stack(all_weights, 1)
        return torch.stack(all_logits, 1), weights

    # -- the model contract ----------------------------------------------------------------------
    def forward(self, batch: dict[str, Tensor], state=None) -> ModelOutput:
        enc = self.encode(batch["src"], batch["src_len"])
        logits, _ = self.decode_teacher_forced(enc, batch["tgt_in"], batch.get("forced"))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch["tgt_out"].reshape(-1), ignore_index=PAD)
        return ModelOutput(logits, loss, None)

    @torch.no_grad()
    def attention_maps_of(self, batch: dict[str, Tensor]) -> AttentionMaps | None:
        if self.attention is None:
            return None
        with evaluating(self):
            enc = self.encode(batch["src"], batch["src_len"])
            _, weights = self.decode_teacher_forced(enc, batch["tgt_in"])
        return AttentionMaps(weights, batch["tgt_out"] != PAD, enc.mask, ordered=True)

    def diagnostics(self, probe: dict[str, Tensor]) -> dict:
        return attention_readouts(self.attention_maps_of(probe))

    def last_step_loss(self, batch: dict[str, Tensor]) -> Tensor:
        """Loss at each target's last real step (its </s>), teacher forced: the gradient-flow probe's L_T."""
        enc = self.encode(batch["src"], batch["src_len"])
        logits, _ = self.decode_teacher_forced(enc, batch["tgt_in"])
        tgt_out = batch["tgt_out"]
        last = (tgt_out != PAD).sum(1) - 1  # (B,)
        rows = torch.arange(len(last), device=last.device)
        return F.cross_entropy(logits[rows, last], tgt_out[rows, last])
