"""Driving the app in tests: open a page with URL parameters, rerun until something shows up.

AppTest never fires `run_every`: a test that waits for a live run calls `at.run()` in a loop
with a deadline (`run_until`), as a browser's polling would.
"""
from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from playground.config import ModelConfig, RunConfig, TaskConfig, TrainConfig

APP = Path(__file__).resolve().parents[2] / "app.py"
# The smallest settings that still learn something: seconds of CPU on a shared 2-core machine.
TINY = {"hidden": "16", "embedding": "8", "batch": "8", "seq_len": "16", "eval_every": "5", "steps": "5000"}


def tiny_config(arch: str = "lstm", steps: int = 30, **train) -> RunConfig:
    return RunConfig(task=TaskConfig(dataset="tiny"), model=ModelConfig(arch=arch, hidden=16, embedding=8),
                     train=TrainConfig(steps=steps, batch_size=8, seq_len=16, eval_every=10, **train))


def open_page(page: str, query: dict | None = None, timeout: float = 60) -> AppTest:
    """The app routed to `page` (e.g. "views/train.py"), with URL parameters `query`."""
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.run()
    at.query_params.update(query or {})
    if page != "views/home.py":
        at.switch_page(page)
    return at.run()


def run_until(at: AppTest, condition, timeout: float = 60, pause: float = 0.3) -> AppTest:
    """Rerun the app until `condition(at)` holds (AppTest does not poll like a browser does)."""
    deadline = time.monotonic() + timeout
    while True:
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        if condition(at):
            return at
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(pause)


def texts(elements) -> str:
    """Every value of a list of AppTest elements, as one string to search."""
    return "\n".join(str(e.value) for e in elements)


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
