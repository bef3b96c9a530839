"""Uploaded sentence pairs: one pair a line, source then target, tab-separated (.tsv/.txt) or CSV.

Extra columns (an attribution column, say) are ignored. Every problem is a DataError of one
sentence that names the first bad line, checked on the server whatever the browser allowed.
"""
from __future__ import annotations

import csv
import io
import random
import re
from pathlib import Path

from .. import atomic
from ..paths import datasets_dir
from .errors import DataError
from .pairs import GENERATED, Pair
from .text import DEFAULT_MAX_BYTES, _megabytes

HEADERS = {("source", "target"), ("src", "tgt"), ("input", "output")}  # a first row like these is a header


def line_of(raw: bytes, position: int) -> int:
    """1-based line number of a byte offset."""
    return raw.count(b"\n", 0, position) + 1


def decode_pairs_bytes(raw: bytes, name: str = "the file", max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """UTF-8 text of an upload, or a DataError for an empty, oversized, binary or non-UTF-8 file."""
    if not raw.strip():
        raise DataError(f"{name} is empty: it needs one source<TAB>target pair per line.")
    if len(raw) > max_bytes:
        raise DataError(f"{name} is {_megabytes(len(raw))}; the limit is {_megabytes(max_bytes)}.")
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise DataError(f"{name} looks like a binary file, not text: line {line_of(raw, nul)} contains a NUL byte.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{name} is not UTF-8 text: line {line_of(raw, exc.start)} has an undecodable byte. "
                        "Save it as UTF-8.") from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def sniff_delimiter(text: str, name: str) -> str:
    """Tab when the first non-blank line has one (or the file is .tsv), else a comma (CSV)."""
    first = next((line for line in text.split("\n") if line.strip()), "")
    if name.lower().endswith(".tsv") or "\t" in first:
        return "\t"
    return "," if name.lower().endswith(".csv") or "," in first else "\t"


def parse_pairs(text: str, name: str = "the file", delimiter: str | None = None) -> list[Pair]:
    """(source, target) pairs from the lines of `text`; blank lines are skipped.

    DataError (with the line number) for a line with one column, a line whose column count differs
    from the first line's (a ragged file), or an empty source or target.
    """
    delimiter = delimiter or sniff_delimiter(text, name)
    sep = "a tab" if delimiter == "\t" else "a comma"
    if delimiter == "\t":
        rows = ((number, line.split("\t")) for number, line in enumerate(text.split("\n"), 1))
    else:
        reader = csv.reader(io.StringIO(text), strict=True)  # strict: an unclosed quote is an error, not one huge cell
        rows = _csv_rows(reader, name)
    pairs: list[Pair] = []
    width = first_line = None
    try:
        for number, row in rows:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < 2:
                raise DataError(f"line {number} of {name} has one column: each line needs a source and a target "
                                f"separated by {sep}.")
            if width is None:
                width, first_line = len(row), number
            elif len(row) != width:
                raise DataError(f"line {number} of {name} has {len(row)} columns but line {first_line} has {width}: "
                                "every line needs the same columns (a ragged file).")
            source, target = row[0].strip(), row[1].strip()
            if not source or not target:
                side = "source" if not source else "target"
                raise DataError(f"line {number} of {name} has an empty {side}.")
            if not pairs and (source.lower(), target.lower()) in HEADERS:
                continue
            pairs.append((source, target))
    except csv.Error as exc:
        raise DataError(f"{name} is not valid CSV near line {reader.line_num}: {exc}.") from None
    if not pairs:
        raise DataError(f"{name} has no pairs: it needs one source and target per line, separated by {sep}.")
    return pairs


def _csv_rows(reader, name: str):
    """(line where the row ends, row); an unclosed quote names the line where the quote opened."""
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "end of data" in str(exc) or "EOF" in str(exc):
                raise DataError(f"line {start} of {name} opens a quote (\") that is never closed: close it, or "
                                "remove the quote.") from None
            raise
        yield reader.line_num, row  # line_num: where the row ends (quoted newlines)


def read_pairs_file(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Pair]:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such file: {path}")
    if path.stat().st_size > max_bytes:
        raise DataError(f"{path.name} is {_megabytes(path.stat().st_size)}; the limit is {_megabytes(max_bytes)}.")
    return parse_pairs(decode_pairs_bytes(path.read_bytes(), path.name, max_bytes), path.name)


def split_by_source(pairs: list[Pair], seed: int, val_fraction: float) -> tuple[list[Pair], list[Pair]]:
    """(train, held-out) with every source on one side only (a sentence with two translations stays together)."""
    sources = sorted({source for source, _ in pairs})
    if len(sources) < 2:
        raise DataError("the file needs at least two different source sentences: one to train on, one to test.")
    random.Random(seed).shuffle(sources)
    held = set(sources[: max(1, round(len(sources) * val_fraction))])
    return [p for p in pairs if p[0] not in held], [p for p in pairs if p[0] in held]


def save_upload(raw: bytes, filename: str, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[str, int]:
    """Validate an uploaded pair file and keep it as datasets/NAME.tsv (source<TAB>target, extra columns
    dropped), where `TaskConfig(name="translation", dataset=NAME)` finds it. Returns (NAME, pairs kept)."""
    pairs = parse_pairs(decode_pairs_bytes(raw, filename, max_bytes), filename)
    stem = re.sub(r"[^a-z0-9_-]+", "-", Path(filename).stem.lower()).strip("-_")[:40] or "pairs"
    name, n = stem, 2
    while (datasets_dir() / f"{name}.tsv").exists() or name in GENERATED:
        name, n = f"{stem}-{n}", n + 1
    lines = (f"{' '.join(s.split())}\t{' '.join(t.split())}" for s, t in pairs)  # no tab inside a field
    path = datasets_dir() / f"{name}.tsv"
    try:  # written whole, then renamed: a full disk leaves no truncated file that would load as a dataset
        atomic.write_text(path, "\n".join(lines) + "\n")
    except atomic.DiskFullError as exc:
        raise DataError(f"{filename} was not saved: {exc.strerror}") from None
    return name, len(pairs)
