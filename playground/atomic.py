"""Atomic file writes: a reader, a crash or a full disk never leaves half a file under the final name.

Each write goes to a temporary file in the same folder, is flushed and fsynced, then renamed over the
target (a rename within one file system is atomic). On any failure the temporary file is removed, so a
full disk leaves nothing behind, and the error says in words that the disk is full.
"""
from __future__ import annotations

import errno
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator


class DiskFullError(OSError):
    """The disk (or the quota) has no room for a write; nothing was left behind."""


def no_space(exc: BaseException) -> bool:
    """True for the errors a full disk or an exhausted quota raise."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def disk_full_message(path: str | Path) -> str:
    """Said to users, in the app too: names the file, never the server's folders."""
    return f"no space left on the disk for {Path(path).name}: free some space and try again"


@contextmanager
def replacing(path: str | Path) -> Iterator[BinaryIO]:
    """`with replacing(path) as f: f.write(...)`: the bytes appear under `path` only once all are on disk."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if no_space(exc):
            raise DiskFullError(exc.errno, disk_full_message(path)) from None
        raise
    sync_folder(path.parent)


def write_bytes(path: str | Path, data: bytes) -> Path:
    with replacing(path) as handle:
        handle.write(data)
    return Path(path)


def write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    return write_bytes(path, text.encode(encoding))


def sync_folder(folder: str | Path) -> None:
    """Make a rename in `folder` durable (the folder's own entry list is flushed to disk)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot fsync a folder; the rename is still atomic
        pass
    finally:
        os.close(fd)
