"""Helpers shared by the translation tests (a unique module name: test folders share sys.path)."""
from __future__ import annotations

import torch

from playground import models
from playground.config import ModelConfig

ATTENTIONS = ("none", "bahdanau", "luong-dot", "luong-general")


def make_model(task, attention="bahdanau", seed=0, **settings):
    torch.manual_seed(seed)
    cfg = ModelConfig(**{"arch": "gru", "hidden": 16, "embedding": 8, "attention": attention, **settings})
    return models.build(cfg, task.spec).eval()


def mixed_batch(task, size=6):
    """Held-out pairs whose sources have different lengths, so the batch is padded."""
    test = task.splits()[1]
    lengths = test.src_len.tolist()
    rows, seen = [], set()
    for i, n in enumerate(lengths):
        if n not in seen:
            rows.append(i)
            seen.add(n)
        if len(rows) == size:
            break
    batch = test.batch(torch.tensor(rows))
    assert len(set(batch["src_len"].tolist())) > 1
    return batch
