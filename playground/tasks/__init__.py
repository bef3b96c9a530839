"""Tasks: each knows its data, its batches, its metrics and how to show a sample."""
from __future__ import annotations

from ..config import ConfigError, TaskConfig
from .base import HIGHER_IS_BETTER, Task
from .char import CharTask

TASKS: dict[str, type[Task]] = {"char": CharTask}

# Short units for headline metrics in tables and progress lines.
METRIC_UNITS = {"bits_per_char": "bpc", "val_loss": "loss", "exact_match": "exact", "accuracy": "acc", "mse": "mse"}


def build(cfg: TaskConfig, state: dict | None = None) -> Task:
    """The task `cfg.name` names; `state` comes from a checkpoint (a vocabulary, say)."""
    cfg.validate()
    if cfg.name not in TASKS:
        raise ConfigError(f"unknown task {cfg.name!r}; available: {', '.join(TASKS)}")
    return TASKS[cfg.name](cfg, state=state)


__all__ = ["build", "Task", "TASKS", "HIGHER_IS_BETTER", "METRIC_UNITS"]
