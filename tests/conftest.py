"""Every test session gets its own empty store, so tests never touch a user's runs."""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
torch.set_num_threads(1)  # tiny models are fastest on one thread, and the 2-core CI box has other work
# No spare training process per test store (each would import torch once more on a busy 2-core box);
# tests/core/test_warm_start.py and the browser test turn it on.
os.environ["PLAYGROUND_WARM_START"] = "0"


@pytest.fixture(scope="session", autouse=True)
def isolated_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("playground-home")
    os.environ["PLAYGROUND_HOME"] = str(home)
    yield home


@pytest.fixture
def restore_signals():
    """In-process `cli.main(["train", ...])` installs SIGTERM/SIGINT handlers; give pytest its own back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A fresh, empty store for one test (also seen by child processes through the environment)."""
    from playground.runstore.store import RunStore

    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path / "home"))
    return RunStore()
