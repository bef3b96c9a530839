"""Helpers for the text tasks' tests: train a small model in-process, with a fixed seed."""
from __future__ import annotations

import torch

from playground import models, tasks
from playground.config import ModelConfig, TaskConfig, TrainConfig
from playground.train.trainer import Trainer


def train(task_cfg: TaskConfig, model_cfg: ModelConfig, train_cfg: TrainConfig):
    """(task, trained model, held-out metrics) after a seeded run with no background evaluation."""
    torch.manual_seed(train_cfg.seed)
    task = tasks.build(task_cfg, train=train_cfg)
    model = models.build(model_cfg, task.spec)
    Trainer(train_cfg, torch.device("cpu")).fit(model, task, [])
    return task, model, task.evaluate(model, train_cfg.batch_size, train_cfg.seq_len, train_cfg.eval_batches)


def langid_config(**options) -> TaskConfig:
    cfg = TaskConfig(name="langid", dataset="wordfreq")
    settings = {"languages": "en,fr,de,pl", "words_per_language": 2000, "test_examples": 400, **options}
    for name, value in settings.items():
        setattr(cfg.langid, name, value)
    return cfg


