"""Running a recurrent core over a batch of sequences of different lengths, padded on the right.

`run_padded(core, x, lengths)` gives every position of every row the output the core would give that
row alone, and each row's final state at its own last step: padding never reaches the core. The fused
kernels take packed sequences; the generic stack runs once per distinct length. With no padding (no
`lengths`, or every row as long as the batch) it is one plain call, which is what the gradient-flow
probe and the state Jacobian hook.
"""
from __future__ import annotations

import torch
from torch import Tensor
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .inference import map_state
from .stack import state_parts


def valid_mask(lengths: Tensor, width: int) -> Tensor:
    """(B, width) True at the positions each row really has."""
    return torch.arange(width, device=lengths.device).unsqueeze(0) < lengths.unsqueeze(1)


def run_padded(core, x: Tensor, lengths: Tensor | None, state=None):
    """(outputs (B, T, D*H) with zeros at padding, final state of each row); `state` only without padding."""
    width = x.shape[1]
    if lengths is None or bool((lengths == width).all()):
        return core(x, state)
    lengths = lengths.cpu()
    if getattr(core, "fused", False):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, final = core(packed)
        return pad_packed_sequence(out, batch_first=True, total_length=width)[0], final
    outputs = x.new_zeros(x.shape[0], width, core.output_size)
    final = None
    for length in lengths.unique().tolist():
        rows = (lengths == length).nonzero().squeeze(1).to(x.device)
        out, part_state = core(x[rows, :length])
        outputs[rows, :length] = out
        if final is None:
            final = map_state(part_state, lambda s: s.new_zeros(s.shape[0], x.shape[0], s.shape[2]))
        for whole, part in zip(state_parts(final), state_parts(part_state)):
            whole[:, rows] = part
    return outputs, final
