"""Fixtures for the core library's tests: tiny configs, subprocess environments, polling, cleanup."""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Small everywhere: the CI box has two cores and other work.
TINY_TASK = dict(name="char", dataset="tiny", max_chars=6000)
TINY_MODEL = dict(arch="lstm", hidden=16, embedding=8)
TINY_TRAIN = dict(steps=20, batch_size=4, seq_len=16, lr=0.01, eval_every=1000, eval_batches=2,
                  sample_length=8, checkpoint_every=1000, threads=1, device="cpu", seed=0)


def make_config(task: dict | None = None, model: dict | None = None, train: dict | None = None, name: str = ""):
    from playground.config import RunConfig

    return RunConfig.from_dict({
        "task": {**TINY_TASK, **(task or {})},
        "model": {**TINY_MODEL, **(model or {})},
        "train": {**TINY_TRAIN, **(train or {})},
        "name": name,
    }).validate()


@pytest.fixture
def tiny_config():
    """`tiny_config(model={...}, train={...}, task={...})`: a validated RunConfig for a model that trains in well under a second."""
    return make_config


@pytest.fixture
def tiny_task():
    """The char task on 6,000 characters of the tiny corpus (vocabulary and split built once per test)."""
    from playground import tasks
    from playground.config import TaskConfig

    return tasks.build(TaskConfig(**TINY_TASK))


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.1, what: str = "condition"):
    """Poll `predicate()` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@pytest.fixture
def wait():
    return wait_for


@pytest.fixture
def subprocess_env(store):
    """Environment for a child `python -m playground ...`: the test's store, the checkout on the path."""
    env = {**os.environ, "PLAYGROUND_HOME": str(store.root), "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


@pytest.fixture
def python():
    return sys.executable


@pytest.fixture
def job_store(store):
    """The store, and at the end: every run a test started that still has a live process is killed (by its pid)."""
    yield store
    from playground.runstore.jobs import _alive

    for record in store.list_runs():
        if record.pid and record.pid != os.getpid() and _alive(record.pid):
            try:
                os.kill(record.pid, signal.SIGKILL)
            except OSError:
                pass
