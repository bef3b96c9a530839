"""Checkpoints: a `state_dict` (model.pt) plus a JSON description (config.json) in one folder.

Loading uses `torch.load(..., weights_only=True)`: a checkpoint can hold tensors, never code.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from .. import models, tasks
from ..config import ConfigError, RunConfig
from ..models import SequenceModel
from ..tasks import Task

FORMAT = "sequence-playground/1"
WEIGHTS, META = "model.pt", "config.json"


class CheckpointError(ValueError):
    """A checkpoint that is missing, damaged, or not one of ours; the message says which."""


@dataclass
class Loaded:
    model: SequenceModel
    task: Task
    config: RunConfig
    meta: dict  # step, metrics and anything else saved beside the weights


def save(folder: str | Path, model: SequenceModel, config: RunConfig, task: Task, step: int,
         metrics: dict | None = None) -> Path:
    """Write atomically (temporary file, then rename): a reader never sees half a checkpoint."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    meta = {"format": FORMAT, "config": config.to_dict(), "task_state": task.state(), "step": step,
            "metrics": metrics or {}, "parameters": model.parameter_count()}
    tmp = folder / (WEIGHTS + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, folder / WEIGHTS)
    tmp = folder / (META + ".tmp")
    tmp.write_text(json.dumps(meta, indent=2, allow_nan=False))
    os.replace(tmp, folder / META)
    return folder


def read_meta(folder: str | Path) -> dict:
    path = Path(folder) / META
    if not path.is_file():
        raise CheckpointError(f"no checkpoint in {folder} (expected {META} and {WEIGHTS})")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CheckpointError(f"{path} is not a Sequence Playground checkpoint description (not JSON)") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a Sequence Playground checkpoint (format {FORMAT} expected)")
    return meta


def load(folder: str | Path, device: torch.device | str = "cpu") -> Loaded:
    folder = Path(folder)
    meta = read_meta(folder)
    try:
        config = RunConfig.from_dict(meta["config"])
        task = tasks.build(config.task, state=meta.get("task_state") or None, train=config.train)
        model = models.build(config.model, task.spec)
    except (KeyError, ConfigError) as exc:
        raise CheckpointError(f"{folder} has a damaged configuration: {exc}") from None
    state = load_weights(folder / WEIGHTS)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise CheckpointError(f"the weights in {folder} do not fit the saved configuration: {first}") from None
    model.to(device).eval()
    return Loaded(model, task, config, meta)


def load_weights(path: Path) -> dict:
    if not path.is_file():
        raise CheckpointError(f"no weights file at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # random bytes also raise KeyError, IndexError, ...: any failure means "not ours"
        # torch's own message suggests weights_only=False, which would run code from the file: never say that
        raise CheckpointError(f"{path.name} is not a plain PyTorch state_dict: it is damaged, or it holds objects "
                              "beyond tensors (code), which the playground never loads") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path.name} does not hold a state_dict of tensors")
    return state
