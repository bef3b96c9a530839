"""Tasks: each knows its data, its batches, its metrics and how to show a sample."""
from __future__ import annotations

from ..config import ConfigError, TaskConfig, TrainConfig
from .base import HIGHER_IS_BETTER, Task
from .captioning import CaptioningTask
from .char import CharTask
from .memory import MEMORY_TASKS
from .translation import TranslationTask

TASKS: dict[str, type[Task]] = {"char": CharTask, "captioning": CaptioningTask, "translation": TranslationTask,
                                **MEMORY_TASKS}  # adding, temporal-order, copy

# Short units for headline metrics in tables and progress lines.
METRIC_UNITS = {"bits_per_char": "bpc", "val_loss": "loss", "exact_match": "exact", "accuracy": "acc", "mse": "mse",
                "token_accuracy": "tok acc", "bleu": "BLEU", "chrf": "chrF"}


def build(cfg: TaskConfig, state: dict | None = None, train: TrainConfig | None = None) -> Task:
    """The task `cfg.name` names; `state` comes from a checkpoint (a vocabulary, say). `train`, the
    run's training settings, reaches tasks whose batches or metrics depend on them (decoders: the
    teacher-forcing ratio and the beam width) through `Task.use_train_settings`."""
    cfg.validate()
    if cfg.name not in TASKS:
        raise ConfigError(f"unknown task {cfg.name!r}; available: {', '.join(TASKS)}")
    task = TASKS[cfg.name](cfg, state=state)
    if train is not None:
        task.use_train_settings(train)
    return task


__all__ = ["build", "Task", "TASKS", "HIGHER_IS_BETTER", "METRIC_UNITS"]
