"""Where a model to try comes from: a shipped pretrained model, a run's checkpoint, or an imported zip.

A choice is a short reference kept in the URL: `pretrained:NAME`, `run:RUN_ID` or `imported:NAME`.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from playground.runstore import checkpoint, export, pretrained
from playground.runstore.checkpoint import CheckpointError
from playground.tasks import TASK_SPECS

from .context import store
from .plain import plain
from .runs import run_label


def choices() -> dict[str, dict]:
    """{reference: {"label", "task"}} for every model that can be tried now, pretrained first.
    A damaged imported checkpoint is left out and reported on the page: it never hides the others."""
    options = {f"pretrained:{m['name']}": _entry(f"pretrained · {m['name']}", m.get("config", {}))
               for m in pretrained.available()}
    for record in store().list_runs(limit=60):
        if (store().checkpoint_dir(record.id) / checkpoint.META).is_file():
            options[f"run:{record.id}"] = _entry(f"your run · {run_label(record)}", record.config.to_dict())
    damaged = []
    for name in export.imported_checkpoints():
        try:
            config = checkpoint.read_meta(export.imported_dir() / name)["config"]
            options[f"imported:{name}"] = _entry(f"uploaded · {name}", config)
        except (CheckpointError, AttributeError, TypeError) as exc:  # a folder someone edited by hand
            damaged.append(f"{name}: {exc}" if isinstance(exc, CheckpointError) else f"{name}: damaged configuration")
    if damaged:
        st.warning(plain("Skipped damaged uploaded checkpoints (delete them from the imported folder): "
                         + "; ".join(damaged)), icon=":material/warning:")
    return options


def _entry(label: str, config: dict) -> dict:
    """A text generator is the default kind of model to try; any other says what its task is."""
    task = config.get("task", {})
    task = task.get("name", "?") if isinstance(task, dict) else "?"
    if not isinstance(task, str):
        raise CheckpointError("its task name is not text")
    spec = TASK_SPECS.get(task)
    writes_text = spec is not None and spec.try_view == "sample"
    return {"label": label if writes_text else f"{label} ({task})", "task": task, "writes_text": writes_text}


def folder(reference: str) -> Path:
    kind, _, name = reference.partition(":")
    if kind == "pretrained":
        return pretrained.resolve(name)
    if kind == "run":
        return pretrained.resolve(name, store())
    if kind == "imported":
        return export.imported_dir() / name
    raise CheckpointError(f"unknown model reference {reference!r}")


@st.cache_resource(show_spinner="Loading the model...", max_entries=4)
def _load(path: str, version: float) -> checkpoint.Loaded:
    return checkpoint.load(path, "cpu")


def load(reference: str) -> checkpoint.Loaded:
    """The model, loaded once per checkpoint version (a live run's checkpoint is replaced as it trains)."""
    path = folder(reference)
    description = path / checkpoint.META  # replaced last by every save: its time changes with each checkpoint
    return _load(str(path), description.stat().st_mtime_ns if description.is_file() else 0.0)
