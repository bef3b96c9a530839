"""Helpers for the gradient lab's tests: small configs."""
from __future__ import annotations

import pytest

from playground.config import RunConfig


def lab_config(task: str = "adding", seq_len: int = 10, model: dict | None = None, train: dict | None = None) -> RunConfig:
    """A validated run on a long-memory task: tiny, one thread, CPU, checkpoint only at the end."""
    settings = {"steps": 20, "batch_size": 16, "seq_len": seq_len, "lr": 1e-2, "eval_every": 10, "threads": 1,
                "device": "cpu", "seed": 0, "checkpoint_every": 10_000, **(train or {})}
    return RunConfig.from_dict({
        "task": {"name": task, "test_sequences": 128},
        "model": {"arch": "lstm", "hidden": 16, "embedding": 8, **(model or {})},
        "train": settings,
    }).validate()


@pytest.fixture(scope="session")
def config():
    """`config(task=..., seq_len=..., model={...}, train={...})`: a small RunConfig on a long-memory task."""
    return lab_config
