"""Uploaded labelled text: one example a line, the text then its label (`text,label` CSV or `text<TAB>label`).

Any labels will do (sentiment, spam, code-or-prose, a language): a classifier task reads them as its
classes. Checked on the server like every upload (empty, oversized, binary, not UTF-8, ragged rows,
an empty text or label, a single class): each problem is one DataError sentence naming the bad line.
Saved as datasets/labelled/NAME.tsv, where the classifier finds it by NAME (and the translation task,
which reads the .tsv files beside it, does not).
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from .. import atomic
from ..paths import datasets_dir
from .errors import DataError
from .pair_files import decode_pairs_bytes, parse_pairs
from .text import DEFAULT_MAX_BYTES, _megabytes

HEADERS = {("text", "label"), ("sentence", "label"), ("text", "class"), ("review", "sentiment")}
MIN_EXAMPLES_PER_CLASS = 2  # one to train on and one to test, at the very least
MAX_CLASSES = 100

Example = tuple[str, str]  # (text, label)


def labelled_dir() -> Path:
    path = datasets_dir() / "labelled"
    path.mkdir(parents=True, exist_ok=True)
    return path


def uploaded_labelled() -> dict[str, Path]:
    """Labelled datasets saved through the app: name -> file."""
    return {p.stem: p for p in sorted(labelled_dir().glob("*.tsv"))}


def parse_labelled(text: str, name: str = "the file") -> list[Example]:
    """(text, label) rows of a decoded upload; a DataError names the first bad line, or says why the whole
    file cannot train a classifier (fewer than two classes, too many, too few examples of one)."""
    try:
        rows = parse_pairs(text, name)
    except DataError as exc:  # the pair parser's words ("source", "target") in a classifier's terms
        raise DataError(str(exc).replace("a source and a target", "a text and a label")
                        .replace("an empty source", "an empty text").replace("an empty target", "an empty label")
                        .replace("source and target", "text and label")) from None
    if rows and (rows[0][0].lower(), rows[0][1].lower()) in HEADERS:
        rows = rows[1:]
    counts = Counter(label for _, label in rows)
    if len(counts) < 2:
        only = next(iter(counts), "")
        raise DataError(f"{name} has only one class ({only!r}): a classifier needs at least two different labels.")
    if len(counts) > MAX_CLASSES:
        raise DataError(f"{name} has {len(counts):,} different labels; at most {MAX_CLASSES} are allowed "
                        "(is the label column the second one?).")
    rare = sorted(label for label, n in counts.items() if n < MIN_EXAMPLES_PER_CLASS)
    if rare:
        raise DataError(f"{name} has only one example of {', '.join(repr(r) for r in rare[:5])}: each label needs "
                        f"at least {MIN_EXAMPLES_PER_CLASS} (one to train on, one to test).")
    return rows


def decode_labelled(raw: bytes, name: str, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Example]:
    try:
        text = decode_pairs_bytes(raw, name, max_bytes)
    except DataError as exc:
        raise DataError(str(exc).replace("one source<TAB>target pair", "one text,label row")) from None
    return parse_labelled(text, name)


def read_labelled_file(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Example]:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such file: {path}")
    if path.stat().st_size > max_bytes:
        raise DataError(f"{path.name} is {_megabytes(path.stat().st_size)}; the limit is {_megabytes(max_bytes)}.")
    return decode_labelled(path.read_bytes(), path.name, max_bytes)


def save_labelled(raw: bytes, filename: str, taken: set[str] = frozenset(),
                  max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[str, list[Example]]:
    """Validate an upload and keep it as datasets/labelled/NAME.tsv (text<TAB>label); NAME avoids `taken`
    (the built-in datasets) and earlier uploads. Returns (NAME, the examples)."""
    examples = decode_labelled(raw, filename, max_bytes)
    stem = re.sub(r"[^a-z0-9_-]+", "-", Path(filename).stem.lower()).strip("-_")[:40] or "labelled"
    name, n = stem, 2
    while name in uploaded_labelled() or name in taken:
        name, n = f"{stem}-{n}", n + 1
    lines = (f"{' '.join(t.split())}\t{' '.join(label.split())}" for t, label in examples)
    try:  # written whole, then renamed: a full disk leaves no truncated file behind
        atomic.write_text(labelled_dir() / f"{name}.tsv", "\n".join(lines) + "\n")
    except atomic.DiskFullError as exc:
        raise DataError(f"{filename} was not saved: {exc.strerror}") from None
    return name, examples
