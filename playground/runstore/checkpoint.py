"""Checkpoints: a `state_dict` plus a JSON description (config.json) in one folder.

config.json names its weights file (`"weights": "model-STEP-TAG.pt"`; older checkpoints and the shipped
ones have none and use model.pt). A save writes the new weights file first and then replaces config.json:
that one rename is the commit, so config and weights always change as one unit and a crash at any
moment leaves the previous checkpoint as the latest.

Loading uses `torch.load(..., weights_only=True)`: a checkpoint can hold tensors, never code.
"""
from __future__ import annotations

import io
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch

from .. import atomic, models, tasks
from ..config import ConfigError, RunConfig
from ..data.errors import DataError
from ..models import SequenceModel
from ..tasks import Task

FORMAT = "sequence-playground/1"
WEIGHTS, META = "model.pt", "config.json"  # the weights' default name (older checkpoints, zips) and the description
WEIGHTS_NAME = re.compile(r"model(-[0-9a-z]+)*\.pt")  # a weights file config.json may name: no folders, no tricks


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
    """Write weights, then the description that names them (each to a temporary file, fsynced, renamed).
    A reader sees the previous checkpoint or this one, never a mix; a full disk raises DiskFullError
    and leaves the previous checkpoint as it was."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    previous = _weights_name_or_none(folder)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    weights = f"model-{step:08d}-{secrets.token_hex(3)}.pt"
    meta = {"format": FORMAT, "config": config.to_dict(), "task_state": task.state(), "step": step,
            "metrics": metrics or {}, "parameters": model.parameter_count(), "weights": weights}
    text = json.dumps(meta, indent=2, allow_nan=False)
    buffer = io.BytesIO()  # serialised in memory: torch.save into a full disk hides the OSError in a RuntimeError
    torch.save(state, buffer)
    atomic.write_bytes(folder / weights, buffer.getbuffer())
    try:
        atomic.write_text(folder / META, text)
    except BaseException:
        (folder / weights).unlink(missing_ok=True)
        raise
    # keep the weights the previous description named: a reader that read it a moment ago loads them next
    for old in folder.glob("model*.pt"):
        if old.name not in (weights, previous) and WEIGHTS_NAME.fullmatch(old.name):
            old.unlink(missing_ok=True)
    return folder


def publish(folder: str | Path, destination: str | Path) -> Path:
    """Give the checkpoint in the staging `folder` the fixed layout shipped models use (model.pt + config.json,
    with anything else it holds, a model card say) and put it at `destination` in place of what was there.
    A reader meanwhile sees the old folder, then for an instant none, then the new one: never a mix."""
    folder, destination = Path(folder), Path(destination)
    meta = read_meta(folder)
    os.replace(weights_path(folder, meta), folder / WEIGHTS)
    meta.pop("weights", None)
    atomic.write_text(folder / META, json.dumps(meta, indent=2, allow_nan=False))
    old = destination.with_name(f".{destination.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if destination.exists():
        os.replace(destination, old)
    os.replace(folder, destination)
    shutil.rmtree(old, ignore_errors=True)
    return destination


def _weights_name_or_none(folder: Path) -> str | None:
    try:
        return weights_file(folder).name
    except CheckpointError:
        return None


def weights_file(folder: str | Path) -> Path:
    """The weights file of the checkpoint in `folder` (CheckpointError when there is none)."""
    return weights_path(folder, read_meta(folder))


def weights_path(folder: str | Path, meta: dict) -> Path:
    """The weights file a checkpoint's description names (model.pt when it names none)."""
    name = meta.get("weights", WEIGHTS)
    if not isinstance(name, str) or not WEIGHTS_NAME.fullmatch(name):
        raise CheckpointError(f"{Path(folder) / META} names a weights file {str(name)[:80]!r}, "
                              "which is not a playground weights file name")
    return Path(folder) / name


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
    if not isinstance(meta.get("config"), dict):
        raise CheckpointError(f"{path} has a damaged configuration: \"config\" must be a JSON object")
    for key, kind in (("task_state", dict), ("metrics", dict), ("step", int)):
        if meta.get(key) is not None and not isinstance(meta[key], kind):
            raise CheckpointError(f"{path} has a damaged description: {key!r} has the wrong type")
    return meta


def load(folder: str | Path, device: torch.device | str = "cpu") -> Loaded:
    folder = Path(folder)
    meta = read_meta(folder)
    try:
        config = RunConfig.from_dict(meta["config"])
        task = tasks.build(config.task, state=meta.get("task_state") or None, train=config.train)
        _check_size(folder, config, task.spec)
        model = models.build(config.model, task.spec)
    # a file may hold anything: a vocabulary of the wrong type raises TypeError or AttributeError deep in a task
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, ConfigError, DataError) as exc:
        raise CheckpointError(f"{folder} has a damaged configuration: {exc}") from None
    state = load_weights(weights_path(folder, meta))
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise CheckpointError(f"the weights in {folder} do not fit the saved configuration: {first}") from None
    model.to(device).eval()
    return Loaded(model, task, config, meta)


def _check_size(folder: Path, config: RunConfig, spec: dict) -> None:
    """A description may promise a model far larger than its weights (a vocabulary of millions): count its
    parameters without allocating them, and refuse one whose weights alone would not fit in memory."""
    from . import memory  # here: memory builds models on the meta device

    parameters = memory.count_parameters(config, spec)
    free = memory.available_bytes("cpu")
    if free is not None and parameters * memory.BYTES_PER_VALUE > free:
        raise CheckpointError(f"{folder} describes a model of {parameters:,} parameters, more than the memory "
                              f"available ({free / 2**30:.1f} GiB) can hold")


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
