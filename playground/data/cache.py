"""A disk cache of built datasets, keyed by their content: what went in and the code that built it.

Building the dates pairs (20,000 generated, tokenised and encoded) takes about a second of a run's start-up;
loading the result takes a few milliseconds. An entry is `$PLAYGROUND_HOME/cache/KIND-DIGEST.pt`, where
DIGEST hashes the inputs (settings, the bytes of any file read) and the source of the modules that build
it, so a change to either builds afresh. Entries are written through a temporary file and a rename (two
runs building the same entry at once both write the same bytes; a reader never sees half a file), read
with `torch.load(weights_only=True)`, and one that cannot be read is built again and replaced.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import logging
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import torch

from .. import atomic
from ..paths import home

KEEP_PER_KIND = 16  # newest entries kept per kind; older ones are removed when a new one is written
log = logging.getLogger(__name__)


def cache_dir() -> Path:
    path = home() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_digest(path: str | Path) -> str:
    """sha256 of a file's bytes (an uploaded dataset's content, for a key)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def code_digest(modules: list[ModuleType]) -> str:
    """sha256 of the modules' source: an entry built by other code is another entry."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(inspect.getsource(module).encode())
    return digest.hexdigest()


def entry_path(kind: str, inputs: dict, modules: list[ModuleType]) -> Path:
    key = json.dumps({"kind": kind, "inputs": inputs, "code": code_digest(modules)}, sort_keys=True, default=str)
    return cache_dir() / f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:32]}.pt"


def cached(kind: str, inputs: dict, modules: list[ModuleType], build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`build()`'s result (a dict of tensors, numbers, strings and lists of them) for these inputs: read from
    the cache when an entry is there and readable, else built and written for the next run. A cache that
    cannot be written (a read-only or full disk) only costs the time of building."""
    path = entry_path(kind, inputs, modules)
    if path.is_file():
        try:
            return torch.load(path, weights_only=True)
        except Exception as exc:  # noqa: BLE001 - a damaged or foreign entry: build it again
            log.warning("rebuilding the cached %s data (%s could not be read: %s)", kind, path.name, exc)
    value = build()
    try:
        with atomic.replacing(path) as handle:
            torch.save(value, handle)
        _prune(kind)
    except OSError as exc:
        log.warning("the %s data could not be cached: %s", kind, exc)
    return value


def _prune(kind: str) -> None:
    entries = sorted(cache_dir().glob(f"{kind}-*.pt"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP_PER_KIND:]:
        old.unlink(missing_ok=True)
