"""Tasks: each knows its data, its batches, its metrics and how to show a sample, and describes itself
(`Task.about`, a TaskSpec). The registry: one line per task."""
from __future__ import annotations

from ..config import ConfigError, TaskConfig, TrainConfig
from .base import Task
from .captioning import CaptioningTask
from .char import CharTask
from .forecast import ForecastTask
from .langid import LangidTask
from .memory import MEMORY_TASKS
from .spaces import SpacesTask
from .spec import GENERIC_SETTINGS, MetricSpec, TaskSpec
from .translation import TranslationTask
from .words import WordTask

TASKS: dict[str, type[Task]] = {"char": CharTask, "captioning": CaptioningTask, "translation": TranslationTask,
                                **MEMORY_TASKS,  # adding, temporal-order, copy
                                "forecast": ForecastTask, "langid": LangidTask, "spaces": SpacesTask, "words": WordTask}
TASK_SPECS: dict[str, TaskSpec] = {name: task.about for name, task in TASKS.items()}


def task_spec(name: str) -> TaskSpec:
    """The spec of task `name`; an unknown name is a clear ConfigError."""
    try:
        return TASK_SPECS[name]
    except KeyError:
        raise ConfigError(f"unknown task {name!r}; available: {', '.join(TASKS)}") from None


def metric_spec(task: str, metric: str) -> MetricSpec | None:
    """What `metric` means for `task` (unit, direction, chance), or None when either is unknown."""
    spec = TASK_SPECS.get(task)
    return spec.metric(metric) if spec else None


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


__all__ = ["build", "Task", "TASKS", "TASK_SPECS", "task_spec", "metric_spec", "TaskSpec", "MetricSpec",
           "GENERIC_SETTINGS"]
