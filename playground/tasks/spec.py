"""What a task says about itself, so that pages, the CLI, summaries and races never test its name.

A task's file defines its `Task` class with one `TaskSpec` (`Task.about`); `tasks/__init__.py` holds
the registry (one line per task). Everything that labels, scores or offers a task reads its spec:
the Train form (title, datasets, settings that apply and their labels, attention choices), charts
and outcomes (metric units, direction, chance, solved), races (entrants), Try (sample heading,
controls) and `python -m playground describe`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from ..setting import Setting

# Settings every task reads (a task's own, "task.dataset" among them, are in its spec) (TrainConfig and ModelConfig fields that are not about one task), with their labels.
GENERIC_SETTINGS = {
    "train.steps": "Steps", "train.batch_size": "Batch size", "train.lr": "Learning rate",
    "train.optimizer": "Optimiser", "train.momentum": "Momentum (sgd)", "train.weight_decay": "Weight decay",
    "train.recurrent_l2": "Recurrent L2 penalty (W_hh only)", "train.omega": "Omega penalty (vanishing gradients)",
    "train.clip": "Clip", "train.clip_threshold": "Clip threshold", "train.seed": "Seed", "train.device": "Device",
    "train.threads": "Threads", "train.eval_every": "Evaluate every N steps", "train.eval_batches": "Evaluation batches",
    "train.checkpoint_every": "Checkpoint every N steps",
}


@dataclass(frozen=True)
class MetricSpec:
    name: str  # the key in evaluation records and run summaries ("bits_per_char")
    label: str  # how pages name it ("bits per character")
    unit: str  # a short unit for tables, axes and progress lines ("bpc", "MSE", "accuracy")
    higher_is_better: bool  # direction: True for accuracies and BLEU, False for losses and errors
    chance: float | None = None  # the score of a model that learned nothing, when it is fixed by the task
    chance_key: str = ""  # the evaluation key that reports this run's chance level, when data or settings set it
    solved: float | None = None  # the score from which the task counts as solved (None: no such threshold)
    charted: bool = True  # drawn as its own chart on Train (False: it restates the loss, as bits per character do)

    def chance_in(self, record: dict) -> float | None:
        """This run's chance level: reported by its evaluation (`chance_key`) or the task's fixed one."""
        value = record.get(self.chance_key) if self.chance_key else None
        return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else self.chance

    def at_chance(self, value: float | None, chance: float | None) -> bool:
        """True when `value` is no better than chance, within 10% of the distance to a perfect score."""
        if value is None or chance is None or not math.isfinite(value):
            return False
        perfect = 1.0 if self.higher_is_better else 0.0
        margin = 0.1 * abs(perfect - chance)
        return value <= chance + margin if self.higher_is_better else value >= chance - margin

    def describe(self) -> dict:
        return {"name": self.name, "label": self.label, "unit": self.unit, "higher_is_better": self.higher_is_better,
                "chance": self.chance, "chance_key": self.chance_key or None, "solved": self.solved}


@dataclass(frozen=True)
class TaskSpec:
    name: str  # the TaskConfig.name value that selects this task ("char")
    title: str  # shown on pages ("character-level text generation")
    metrics: tuple[MetricSpec, ...]  # every held-out metric it reports, val_loss first
    headline: str  # the metric a run is judged and sorted by (one of `metrics`)
    # task-specific settings that apply ("section.field" -> label), beyond GENERIC_SETTINGS and the cell's own;
    # train.seq_len is here with the label that says what it means for this task (or absent: it does not apply)
    settings: dict[str, str] = field(default_factory=dict)
    datasets: Callable[[], list[str]] = lambda: []  # the datasets it can train on now, built-in first
    default_dataset: str = ""  # what it trains on when a run names no dataset
    attention: tuple[str, ...] = ()  # the attention choices of its decoder (empty: no decoder)
    bidirectional: bool = False  # whether its encoder may read right-to-left without seeing the answer
    race_entrants: tuple[tuple[str, str, bool], ...] = ()  # a first race that tells a story: (arch, attention, bi)
    sample_heading: str = "A held-out example at step {step}"  # heading of the samples shown while it trains
    sample_caption: str = ""  # one line under that heading (may use {temperature})
    try_view: str = "example"  # how the Try page puts a model to work: sample (text) | translate | caption | example
    try_controls: tuple[str, ...] = ()  # the Try page's sampling controls that apply (temperature, prime, length)
    stream_label: str = "tokens"  # what the speed counts ("characters", "time steps")
    embeds_inputs: bool = True  # False: its inputs are vectors fed to the core as they are (no embedding applies)
    # True: it makes its own sequences of any length T (= seq_len) and scores a fixed held-out set per T,
    # so the lab's memory sweeps and gradient-flow probes can use it
    generates_sequences: bool = False
    data_label: Callable[[Any], str] = lambda cfg: f":{cfg.task.dataset}"  # how a run's label names its data
    # (setting path, value, task): that setting at that value makes the run that other task, which shares this
    # one's data and settings (char with word tokens is the words task); the setting then returns to its default
    becomes: tuple[tuple[str, Any, str], ...] = ()
    options: tuple[Setting, ...] = ()  # the settings rows of its own option pack (config.register_options)
    # form values (URL keys) Home's one-click "Train it" sets on top of the form's defaults, so that a first run
    # shows the task's lesson within a minute on a 2-core CPU (the memory tasks at a T an LSTM solves)
    first_run: dict[str, Any] = field(default_factory=dict)

    def metric(self, name: str) -> MetricSpec | None:
        return next((m for m in self.metrics if m.name == name), None)

    @property
    def headline_metric(self) -> MetricSpec:
        return self.metric(self.headline)

    @property
    def loss(self) -> MetricSpec:
        return self.metric("val_loss")

    def own_settings(self) -> dict[str, str]:
        """The settings that apply to this task beyond the generic ones (its option pack's among them)."""
        return {**self.settings, **{row.path: row.label for row in self.options}}

    def all_settings(self) -> dict[str, str]:
        """Every config field (task + train) that applies to this task, with its label here."""
        return {**GENERIC_SETTINGS, **self.own_settings()}

    def describe(self) -> dict:
        """Plain JSON for `python -m playground describe`."""
        return {"name": self.name, "title": self.title, "headline": self.headline,
                "metrics": [m.describe() for m in self.metrics], "settings": self.all_settings(),
                "default_dataset": self.default_dataset, "datasets": self.datasets(),
                "attention": list(self.attention), "bidirectional": self.bidirectional,
                "race_entrants": [list(e) for e in self.race_entrants], "sample_heading": self.sample_heading,
                "try_view": self.try_view, "try_controls": list(self.try_controls), "embeds_inputs": self.embeds_inputs,
                "generates_sequences": self.generates_sequences}
