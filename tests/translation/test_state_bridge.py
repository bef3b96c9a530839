"""The encoder-to-decoder bridge reads the cells' state parts: every pairing of cells, and old checkpoints' names."""
from __future__ import annotations

import pytest
import torch

from playground.models.cells import CELLS

from translation_helpers import make_model, mixed_batch

TRAINED = [name for name, spec in CELLS.items() if spec.trains_by_gradient]


@pytest.mark.parametrize("decoder", TRAINED)
@pytest.mark.parametrize("encoder", ["lstm", "gru", "mgu"])
def test_every_encoder_decoder_pairing_bridges(reverse_task, encoder, decoder):
    model = make_model(reverse_task, "none", arch=encoder, decoder_arch=decoder, bidirectional=True,
                       backend="scratch", hidden=6, embedding=4)
    batch = mixed_batch(reverse_task)
    enc = model.encode(batch["src"], batch["src_len"])
    parts = enc.state if isinstance(enc.state, tuple) else (enc.state,)
    assert len(parts) == len(CELLS[decoder].state_parts)
    assert all(part.shape == (1, len(batch["src"]), 6) for part in parts)
    if len(parts) > 1 and CELLS[encoder].state_parts == CELLS[decoder].state_parts:
        assert set(dict(model.bridge.named_children())["parts"]) == set(CELLS[decoder].state_parts[1:])
    elif len(parts) > 1:  # a part the encoder has not got starts at zero
        assert torch.count_nonzero(parts[1]) == 0
    assert torch.isfinite(model(batch).loss)


def test_checkpoints_from_before_the_generic_bridge_load(reverse_task):
    """An LSTM-to-LSTM bidirectional bridge called its cell-state projection `bridge.cell`; it now lives in
    `bridge.parts.c`, and an old state_dict migrates on load."""
    model = make_model(reverse_task, "bahdanau", arch="lstm", bidirectional=True, hidden=6, embedding=4).eval()
    old = {key.replace("bridge.parts.c.", "bridge.cell."): value for key, value in model.state_dict().items()}
    assert "bridge.cell.weight" in old and not any(k.startswith("bridge.parts") for k in old)
    fresh = make_model(reverse_task, "bahdanau", seed=1, arch="lstm", bidirectional=True, hidden=6, embedding=4).eval()
    fresh.load_state_dict(old)  # strict
    batch = mixed_batch(reverse_task)
    assert torch.equal(fresh(batch).logits, model(batch).logits)
