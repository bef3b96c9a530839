"""Datasets people upload: validated on the server, saved under `paths.datasets_dir()` as NAME.txt.

The char task reads a dataset by that name (`TaskConfig.dataset = NAME`), so an upload becomes a
choice in Train as soon as it is saved, and stays one across restarts.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .. import atomic
from ..config import TaskConfig, TrainConfig
from ..paths import datasets_dir
from .corpora import BUILTIN
from .errors import DataError
from .text import DEFAULT_MAX_BYTES, characters_needed, decode_text, read_text_file

# what a run with the default settings needs (one batch plus a validation window): the same rule as the task's
MIN_CHARACTERS = characters_needed(TrainConfig.batch_size, TrainConfig.seq_len, TaskConfig.val_fraction)
NAME_LENGTH = 40


@dataclass
class DatasetInfo:
    name: str  # what TaskConfig.dataset holds
    title: str  # a human title
    source: str  # "built-in" or "uploaded"
    text: str
    existing: bool = False  # an upload whose text was already saved under `name`

    @property
    def characters(self) -> int:
        return len(self.text)

    @property
    def vocabulary(self) -> list[str]:
        return sorted(set(self.text))

    @property
    def uniform_loss(self) -> float:
        """The loss (nats) of a model that guesses every character with equal probability: ln V."""
        return math.log(len(self.vocabulary))

    def character_counts(self) -> list[tuple[str, int]]:
        """Every character with how often it occurs, most frequent first."""
        return Counter(self.text).most_common()

    def frequency_loss(self) -> float:
        """The loss (nats) of a model that knows only how common each character is: their entropy."""
        total = len(self.text)
        return -sum(n / total * math.log(n / total) for _, n in self.character_counts())


def dataset_name(filename: str) -> str:
    """A safe dataset name from an upload's file name: lower-case letters, digits, '-' and '_'."""
    stem = Path(filename).stem.lower()
    name = re.sub(r"[^a-z0-9_-]+", "-", stem).strip("-_")[:NAME_LENGTH]
    return name or "upload"


def _free_name(name: str) -> str:
    """Never overwrite a built-in corpus or an earlier upload: add -2, -3, ..."""
    taken = set(BUILTIN) | set(uploaded_names())
    if name not in taken:
        return name
    n = 2
    while f"{name}-{n}" in taken:
        n += 1
    return f"{name}-{n}"


def validate_upload(raw: bytes, filename: str, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The upload's text, or a DataError that says what is wrong (empty, huge, binary, not UTF-8, too short)."""
    text = decode_text(raw, max_bytes, name=filename)
    if len(text) < MIN_CHARACTERS:
        raise DataError(
            f"{filename} has only {len(text):,} characters; at least {MIN_CHARACTERS:,} are needed to train with the "
            "default batch and sequence length and hold some back for validation. Add more text."
        )
    return text


def save_upload(raw: bytes, filename: str, max_bytes: int = DEFAULT_MAX_BYTES) -> DatasetInfo:
    """Validate and store an uploaded text file; returns the saved dataset (with its final name). Any file name
    will do (`GPL-3`, `textwrap.py`): the content decides. The same text uploaded again is not copied: the
    earlier dataset comes back, with `existing` set."""
    text = validate_upload(raw, filename, max_bytes)
    same = same_upload(text)
    if same:
        return DatasetInfo(same, filename, "uploaded", text, existing=True)
    name = _free_name(dataset_name(filename))
    path = datasets_dir() / f"{name}.txt"
    _write(path, text)
    return DatasetInfo(name, filename, "uploaded", text)


def same_upload(text: str) -> str | None:
    """The name of an uploaded dataset holding exactly `text` (compared by size first, so only files of the
    same length are read)."""
    size = len(text.encode("utf-8"))
    for path in sorted(datasets_dir().glob("*.txt")):
        try:
            if path.stat().st_size == size and path.read_text(encoding="utf-8") == text:
                return path.stem
        except (OSError, UnicodeDecodeError):
            continue
    return None


def _write(path: Path, text: str) -> None:
    """Written whole (temporary file, fsync, rename): a reader or a full disk never leaves half a dataset."""
    try:
        atomic.write_text(path, text)
    except atomic.DiskFullError as exc:
        raise DataError(f"{path.name} was not saved: {exc.strerror}") from None


def uploaded_names() -> list[str]:
    return sorted(path.stem for path in datasets_dir().glob("*.txt"))


def delete_upload(name: str) -> None:
    if name not in uploaded_names():
        raise DataError(f"there is no uploaded dataset called {name!r}")
    (datasets_dir() / f"{name}.txt").unlink()


def dataset_choices() -> list[str]:
    """Every dataset the char task can train on: built-in corpora first, then uploads."""
    return list(BUILTIN) + [n for n in uploaded_names() if n not in BUILTIN]


def dataset_version(name: str) -> float:
    """Changes whenever the dataset's content may have (for caches): an upload's modification time."""
    path = datasets_dir() / f"{name}.txt"
    return path.stat().st_mtime if name not in BUILTIN and path.is_file() else 0.0


def load_dataset(name: str) -> DatasetInfo:
    """A built-in corpus (at its default size) or an uploaded dataset, with its text."""
    if name in BUILTIN:
        corpus = BUILTIN[name]
        return DatasetInfo(name, corpus.title, "built-in", corpus.load(corpus.default_max_chars))
    if name in uploaded_names():
        return DatasetInfo(name, name, "uploaded", read_text_file(datasets_dir() / f"{name}.txt"))
    raise DataError(f"unknown dataset {name!r}; available: {', '.join(dataset_choices())}")
