"""Tasks: each knows its data, its batches, its metrics and how to show a sample."""
from __future__ import annotations

from ..config import ConfigError, TaskConfig
from .base import HIGHER_IS_BETTER, Task
from .char import CharTask

TASKS: dict[str, type[Task]] = {"char": CharTask}


def build(cfg: TaskConfig, state: dict | None = None) -> Task:
    """The task `cfg.name` names; `state` comes from a checkpoint (a vocabulary, say)."""
    cfg.validate()
    if cfg.name not in TASKS:
        raise ConfigError(f"unknown task {cfg.name!r}; available: {', '.join(TASKS)}")
    return TASKS[cfg.name](cfg, state=state)


__all__ = ["build", "Task", "TASKS", "HIGHER_IS_BETTER"]
