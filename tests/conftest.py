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


# What reads a tensor's value into Python: on a GPU each of these waits for the kernels queued before it.
HOST_READS = ("item", "tolist", "numpy", "cpu", "__bool__", "__float__", "__int__", "__index__")


class HostReads:
    """Every read of a tensor's value made by this thread while installed, as (file, line, method); with
    `device`, only reads of tensors on that device type ("cuda": the ones that force a host sync)."""

    def __init__(self, monkeypatch, device: str | None = None) -> None:
        import threading

        self.reads: list[tuple[str, int, str]] = []
        self.thread = threading.current_thread()
        for name in HOST_READS:
            monkeypatch.setattr(torch.Tensor, name, self._wrap(getattr(torch.Tensor, name), name, device))

    def _wrap(self, original, name, device):
        import threading

        def reading(tensor, *args, **kwargs):
            if threading.current_thread() is self.thread and (device is None or tensor.device.type == device):
                caller = sys._getframe(1)
                self.reads.append((caller.f_code.co_filename, caller.f_lineno, name))
            return original(tensor, *args, **kwargs)

        return reading


@pytest.fixture
def host_reads(monkeypatch):
    """`host_reads(device=None)`: start recording reads of tensor values (see `HostReads`)."""
    return lambda device=None: HostReads(monkeypatch, device)
