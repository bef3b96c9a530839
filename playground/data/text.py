"""Turn uploaded or on-disk bytes into clean text, or say clearly why not.

The browser's upload limit is not enough: every check here runs on the server.
"""
from __future__ import annotations

import math
from pathlib import Path

from .errors import DataError

DEFAULT_MAX_BYTES = 20_000_000


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"


def decode_text(raw: bytes, max_bytes: int = DEFAULT_MAX_BYTES, name: str = "the file") -> str:
    """UTF-8 text with newlines normalised; DataError for empty, huge, binary or non-UTF-8 input."""
    if len(raw) == 0:
        raise DataError(f"{name} is empty: there is no text to learn from.")
    if len(raw) > max_bytes:
        raise DataError(f"{name} is {_megabytes(len(raw))}; the limit is {_megabytes(max_bytes)}. Use a smaller excerpt.")
    if b"\x00" in raw:
        raise DataError(f"{name} looks like a binary file (it contains NUL bytes), not text. Upload a plain text file.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{name} is not UTF-8 text (undecodable byte at position {exc.start}). Save it as UTF-8 and try again."
        ) from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise DataError(f"{name} holds only whitespace: there is no text to learn from.")
    return text


def read_text_file(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such file: {path}")
    size = path.stat().st_size
    if size > max_bytes:
        raise DataError(f"{path.name} is {_megabytes(size)}; the limit is {_megabytes(max_bytes)}. Use a smaller excerpt.")
    return decode_text(path.read_bytes(), max_bytes, name=path.name)


def characters_needed(batch_size: int, seq_len: int, val_fraction: float) -> int:
    """The one rule for how long a text must be: one training batch of `batch_size` streams of
    `seq_len` + 1 characters in the training share, and one validation window in the held-out share."""
    needed_train = batch_size * (seq_len + 1)
    return max(math.ceil(needed_train / (1 - val_fraction)), math.ceil((seq_len + 1) / val_fraction))


def require_length(text: str, needed: int, what: str) -> None:
    if len(text) < needed:
        raise DataError(
            f"the text has {len(text):,} characters, but {what} needs at least {needed:,}. "
            "Use a longer text, or a smaller batch size or sequence length."
        )
