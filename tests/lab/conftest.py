"""Helpers for the gradient lab's tests: small configs, signal handlers restored after in-process CLI calls."""
from __future__ import annotations

import signal

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


@pytest.fixture
def restore_signals():
    """In-process `cli.main(["train", ...])` installs SIGTERM/SIGINT handlers; give pytest its own back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)
