"""Small translation tasks built once per test session."""
from __future__ import annotations

import pytest

from playground import tasks
from playground.config import TaskConfig


@pytest.fixture(scope="session")
def reverse_task():
    """Random letter strings to reverse: 300 pairs, character level, sources of 3-10 letters."""
    return tasks.build(TaskConfig(name="translation", dataset="reverse", pairs=300))
