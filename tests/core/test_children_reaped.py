"""A finished child process of the server is waited for at once, with no page open: never a zombie."""
from __future__ import annotations

import os
import time

from playground.runstore import jobs
from playground.runstore.store import RunStore


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # a zombie still answers signal 0; only a reaped process is gone
    except ProcessLookupError:
        return True
    return False


def test_a_finished_child_is_reaped_without_anyone_polling(tmp_path):
    process = jobs._spawn(RunStore(tmp_path), ["-c", "pass"])
    deadline = time.monotonic() + 20
    while not _gone(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(process.pid), "the child ended but stayed a zombie"
    assert process.returncode == 0
