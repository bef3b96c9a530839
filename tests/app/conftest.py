"""Fixtures for the app's tests: stores (empty, or with finished runs) and a teardown that stops
every run a test started. Helpers to drive pages are in app_helpers.py."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from playground.runstore import jobs, runner
from playground.config import ModelConfig, RunConfig, TaskConfig, TrainConfig
from playground.runstore.store import LIVE, RunStore

from app_helpers import tiny_config

def stop_every_run(home: Path, timeout: float = 30) -> None:
    """Stop the store's live runs and wait for their processes to end (kill them if they will not)."""
    store = RunStore(home)
    records = store.list_runs(LIVE)
    for record in records:
        jobs.stop(store, record.id)
    deadline = time.monotonic() + timeout
    for record in records:
        pid = store.get_run(record.id).pid
        while pid and jobs._alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if pid and jobs._alive(pid):
            os.kill(pid, signal.SIGKILL)
    jobs.reap(store)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty store for one test; every run the test starts there is stopped afterwards."""
    path = tmp_path / "home"
    monkeypatch.setenv("PLAYGROUND_HOME", str(path))
    yield path
    stop_every_run(path)


@pytest.fixture(scope="session")
def finished_runs(tmp_path_factory):
    """A store with three finished runs, trained in this process: an LSTM, a tanh RNN and one that
    diverged (a ReLU RNN with identity init, SGD at lr 0.03 and no clipping blows up within steps)."""
    path = tmp_path_factory.mktemp("finished-home")
    store = RunStore(path)
    configs = {
        "lstm": tiny_config("lstm"),
        "rnn-tanh": tiny_config("rnn-tanh"),
        "diverged": RunConfig(task=TaskConfig(dataset="tiny"),
                              model=ModelConfig(arch="rnn-relu", hidden=64, init="identity"),
                              train=TrainConfig(steps=100, optimizer="sgd", lr=0.03, clip="none", eval_every=10)),
    }
    ids = {}
    for name, cfg in configs.items():
        ids[name] = store.create_run(cfg)
        runner.execute(store, ids[name], handle_signals=False)
    assert store.get_run(ids["diverged"]).status == "diverged", "the divergence recipe no longer diverges"
    return path, ids


@pytest.fixture
def populated(finished_runs, monkeypatch):
    path, ids = finished_runs
    monkeypatch.setenv("PLAYGROUND_HOME", str(path))
    yield ids
    stop_every_run(path)
