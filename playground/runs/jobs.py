"""Background runs: each run is a child process running the same CLI users run by hand
(`python -m playground train --run RUN_ID`). The app only starts, polls and stops them, so a
run survives page reloads, and several tabs can train at once (up to the store's queue cap)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from ..config import RunConfig
from ..paths import PROJECT_ROOT
from .processes import alive
from .store import LIVE, DamagedRunError, RunStore

# glibc returns big buffers to the OS after every step by default; the fused LSTM then page-faults
# ~10,000 times a step and runs 1.5-2x slower. Raising both thresholds keeps those buffers.
ALLOCATOR_ENV = {"MALLOC_MMAP_THRESHOLD_": "268435456", "MALLOC_TRIM_THRESHOLD_": "268435456"}


def start(store: RunStore, cfg: RunConfig) -> str:
    """Record the run (status queued) and start its training process; returns the run id."""
    run_id = store.create_run(cfg)
    env = {**os.environ, **ALLOCATOR_ENV, "PLAYGROUND_HOME": str(store.root), "PYTHONUNBUFFERED": "1"}
    pythonpath = [str(PROJECT_ROOT), *filter(None, [env.get("PYTHONPATH")])]
    env["PYTHONPATH"] = os.pathsep.join(pythonpath)
    with open(store.log_path(run_id), "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "playground", "train", "--run", run_id, "--quiet"],
            cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # not killed with the Streamlit server's process group
        )
    store.update_run(run_id, pid=process.pid)
    return run_id


def stop(store: RunStore, run_id: str) -> None:
    """Ask a run to stop: a flag in the store (seen within a second) and SIGTERM to its process."""
    store.set_control(run_id, "stop", True)
    record = store.get_run(run_id)
    if record and record.pid and record.live and alive(record.pid):
        try:
            os.kill(record.pid, signal.SIGTERM)
        except OSError:
            pass


def set_clipping(store: RunStore, run_id: str, mode: str, threshold: float) -> None:
    """Change a live run's gradient clipping; the run applies it within a second and logs an event."""
    store.set_control(run_id, "clip", {"mode": mode, "threshold": float(threshold)})


def delete(store: RunStore, run_id: str, stop_first: bool = False, timeout: float = 15.0) -> None:
    """Delete a run and its files. A run that is queued or training is refused (RunLiveError), or with
    `stop_first` stopped and waited for (up to `timeout` seconds): a deleted run's process must not keep writing."""
    try:
        record = store.get_run(run_id)
    except DamagedRunError:  # a damaged row can always be deleted (the store reads its status itself)
        record = None
    if record is not None and record.live and record.pid and alive(record.pid):
        if not stop_first:
            store.delete_run(run_id)  # raises RunLiveError with the reason
        stop(store, run_id)
        deadline = time.monotonic() + timeout
        while alive(record.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    store.delete_run(run_id)


def reap(store: RunStore) -> list[str]:
    """Mark live runs whose process has vanished (killed, machine restarted) as failed. Returns their ids."""
    lost = []
    for record in store.list_runs(LIVE):
        if record.pid and not alive(record.pid):
            store.update_run(record.id, status="failed",
                             message="the training process ended unexpectedly; see log.txt in its checkpoint folder")
            lost.append(record.id)
    return lost


_alive = alive  # the old private name, used by tests
