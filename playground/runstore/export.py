"""Take a run away and bring a checkpoint back: metrics as CSV, a checkpoint as a zip file.

The zip holds exactly what `checkpoint.load` reads (config.json + model.pt) plus metrics.csv,
so a downloaded run can be uploaded again on the Try page, on this machine or another.
"""
from __future__ import annotations

import io
import json
import re
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path

import pandas as pd

from . import checkpoint
from .. import atomic
from .checkpoint import CheckpointError
from ..paths import home
from .store import RunStore

MAX_CHECKPOINT_BYTES = 200_000_000  # a zip (or a member of one) larger than this is refused


def metrics_frame(store: RunStore, run_id: str) -> pd.DataFrame:
    """One row per training step; per-layer gradient norms as `layer_norm/NAME` columns;
    evaluation metrics (val_loss, bits_per_char, ...) on the steps where they were measured."""
    rows = []
    for record in store.metrics(run_id, "train"):
        row = {k: v for k, v in record.items() if k != "layer_norms"}
        row.update({f"layer_norm/{name}": value for name, value in (record.get("layer_norms") or {}).items()})
        rows.append(row)
    steps = pd.DataFrame(rows)
    evals = pd.DataFrame([{k: v for k, v in r.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
                          for r in store.metrics(run_id, "eval")])
    if steps.empty:
        return evals
    if evals.empty:
        return steps
    return steps.merge(evals, on="step", how="left")


def metrics_csv(store: RunStore, run_id: str) -> bytes:
    return metrics_frame(store, run_id).to_csv(index=False).encode("utf-8")


def checkpoint_zip(store: RunStore, run_id: str) -> bytes:
    """config.json + model.pt of the run's latest checkpoint, and its metrics.csv."""
    folder = store.checkpoint_dir(run_id)
    meta = checkpoint.read_meta(folder)  # a clear CheckpointError when the run has none yet
    weights = checkpoint.weights_path(folder, meta).read_bytes()  # this save's weights, kept while a newer one lands
    meta = {k: v for k, v in meta.items() if k != "weights"}  # in the zip the weights are model.pt
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(checkpoint.META, json.dumps(meta, indent=2, allow_nan=False))
        archive.writestr(checkpoint.WEIGHTS, weights)
        archive.writestr("metrics.csv", metrics_csv(store, run_id))
    return buffer.getvalue()


def unpack_checkpoint_zip(raw: bytes, destination: Path) -> Path:
    """Extract a checkpoint zip made by `checkpoint_zip` into `destination` and load it once (the description
    parses into a RunConfig, the weights fit the model it describes); CheckpointError if any of that fails."""
    if len(raw) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"the file is {len(raw) / 1e6:.0f} MB; checkpoints up to {MAX_CHECKPOINT_BYTES / 1e6:.0f} MB are accepted")
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise CheckpointError("this file is not a zip archive: upload the checkpoint .zip downloaded from a run") from None
    with archive:
        names = set(archive.namelist())
        missing = [n for n in (checkpoint.META, checkpoint.WEIGHTS) if n not in names]
        if missing:
            raise CheckpointError(f"this zip is not a Sequence Playground checkpoint: it has no {' or '.join(missing)}")
        destination.mkdir(parents=True, exist_ok=True)
        for name in (checkpoint.META, checkpoint.WEIGHTS):  # only these two, by fixed names: no path tricks
            if archive.getinfo(name).file_size > MAX_CHECKPOINT_BYTES:
                raise CheckpointError(f"{name} in this zip is too large to be a playground checkpoint")
            try:
                data = _read_member(archive, name)
            except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, OSError, EOFError, ValueError):
                # a bad CRC, a truncated or encrypted member, an unknown compression method
                raise CheckpointError(f"this zip is damaged: {name} inside it cannot be read (download it again)") from None
            atomic.write_bytes(destination / name, data)
    try:
        meta = checkpoint.read_meta(destination)  # the format check, before anything tries to load the weights
        if "weights" in meta:
            raise CheckpointError("this zip's config.json names another weights file: it was not made by the playground")
        checkpoint.load(destination)  # the whole check: a damaged entry must never become a choice on Try
    except CheckpointError as exc:  # say "this zip", not the server's staging folder
        message = str(exc).replace(str(destination / checkpoint.META), "config.json in this zip")
        raise CheckpointError(message.replace(str(destination), "this zip")) from None
    return destination


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    """A member's bytes, refusing to inflate more than the size limit (a zip bomb lies about file_size)."""
    with archive.open(name) as member:
        data = member.read(MAX_CHECKPOINT_BYTES + 1)
    if len(data) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{name} in this zip is too large to be a playground checkpoint")
    return data


def imported_dir() -> Path:
    path = home() / "imported"
    path.mkdir(parents=True, exist_ok=True)
    return path


def import_checkpoint(raw: bytes, filename: str) -> str:
    """Unpack an uploaded checkpoint zip under $PLAYGROUND_HOME/imported/NAME; returns NAME.
    Nothing is kept unless the checkpoint loads; a failed import leaves no folder behind."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(filename).stem).strip("-.") or "checkpoint"
    name, n = stem[:60], 2
    while (imported_dir() / name).exists():
        name, n = f"{stem[:60]}-{n}", n + 1
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".part", dir=imported_dir()))
    try:
        unpack_checkpoint_zip(raw, staging)
        staging.rename(imported_dir() / name)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if atomic.no_space(exc):
            raise CheckpointError(atomic.disk_full_message(imported_dir() / name)) from None
        raise
    return name


def imported_checkpoints() -> list[str]:
    return sorted(p.name for p in imported_dir().iterdir() if p.is_dir() and not p.name.startswith("."))
