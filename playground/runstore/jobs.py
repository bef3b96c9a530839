"""Background runs: each run is a child process running the same CLI users run by hand
(`python -m playground train --run RUN_ID`). The app only starts, polls and stops them, so a
run survives page reloads, and several tabs can train at once (up to the store's queue cap)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

from ..config import ConfigError, RunConfig
from ..paths import PROJECT_ROOT
from .processes import alive
from .store import LIVE, DamagedRunError, RunStore

# glibc returns big buffers to the OS after every step by default; the fused LSTM then page-faults
# ~10,000 times a step and runs 1.5-2x slower. Raising both thresholds keeps those buffers.
ALLOCATOR_ENV = {"MALLOC_MMAP_THRESHOLD_": "268435456", "MALLOC_TRIM_THRESHOLD_": "268435456"}


# One spare training process waits with torch imported (runs/spare.py); Start hands it the run, so the first
# step comes 1-3 s sooner. PLAYGROUND_WARM_START=0 turns it off (each run then starts a fresh interpreter).
WARM_START_ENV = "PLAYGROUND_WARM_START"
_spare: subprocess.Popen | None = None
_spare_root: str | None = None
_children: list[subprocess.Popen] = []  # started processes, waited for once they end (no zombies)
_lock = threading.Lock()  # Streamlit runs each session's script in its own thread


EXECUTOR_ENV = "PLAYGROUND_EXECUTOR"  # local (child processes, the default) | ray (runstore/ray_executor.py)
EXECUTORS = ("local", "ray")


def executor_name() -> str:
    name = os.environ.get(EXECUTOR_ENV, "").strip().lower() or "local"
    if name not in EXECUTORS:
        raise ConfigError(f"{EXECUTOR_ENV} must be one of {', '.join(EXECUTORS)} (got {name!r})")
    return name


def start(store: RunStore, cfg: RunConfig, owner: str = "", lesson: str = "") -> str:
    """Record the run (status queued) and start it on the executor PLAYGROUND_EXECUTOR names: a child
    process here (local), or a Ray task on a cluster (ray). Returns the run id."""
    executor = executor_name()
    run_id = store.create_run(cfg, owner=owner, lesson=lesson, executor=executor)
    if executor == "ray":
        from . import ray_executor  # Ray is an optional dependency: imported only when asked for

        ray_executor.submit(store, run_id)
        return run_id
    with _lock:
        _reap_children()
        process = _hand_to_spare(store, run_id) or _spawn(store, ["-m", "playground", "train", "--run", run_id, "--quiet"],
                                                          store.log_path(run_id))
        store.update_run(run_id, pid=process.pid)
        if warm_start_enabled():
            _make_spare(store)
    return run_id


def keep_spare_ready(store: RunStore) -> None:
    """Have a spare training process waiting for this store (the app calls this on every page, so even the
    first Start after the server starts is a warm one); nothing when warm starts are off."""
    if warm_start_enabled():
        with _lock:
            _make_spare(store)


def warm_start_enabled() -> bool:
    return os.environ.get(WARM_START_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def _environment(store: RunStore) -> dict[str, str]:
    env = {**os.environ, **ALLOCATOR_ENV, "PLAYGROUND_HOME": str(store.root), "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def _spawn(store: RunStore, arguments: list[str], log_path=None, stdin=subprocess.DEVNULL) -> subprocess.Popen:
    log = open(log_path, "ab") if log_path is not None else subprocess.DEVNULL
    try:
        process = subprocess.Popen(
            [sys.executable, *arguments], cwd=PROJECT_ROOT, env=_environment(store), stdin=stdin, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,  # not killed with the Streamlit server's process group
        )
    finally:
        if log_path is not None:
            log.close()
    _children.append(process)
    # waited for the moment it ends, even with no page open: a finished run never lingers as a zombie under a
    # long-lived server (a sleeping thread per child; Popen.wait and poll() share a lock, so both are safe)
    threading.Thread(target=process.wait, name=f"reap-{process.pid}", daemon=True).start()
    return process


def _make_spare(store: RunStore) -> None:
    global _spare, _spare_root
    if _spare is not None and _spare.poll() is None and _spare_root == str(store.root):
        return
    _drop_spare()
    _spare = _spawn(store, ["-m", "playground.runstore.spare"], stdin=subprocess.PIPE)
    _spare_root = str(store.root)


def _hand_to_spare(store: RunStore, run_id: str) -> subprocess.Popen | None:
    """The waiting spare process, now training `run_id`; None when there is none for this store."""
    global _spare
    if _spare is None or _spare.poll() is not None or _spare_root != str(store.root):
        return None
    process, _spare = _spare, None
    try:
        process.stdin.write(f"{run_id}\n".encode())
        process.stdin.close()
    except OSError:  # it died meanwhile: start the run the ordinary way
        return None
    return process


def _drop_spare() -> None:
    global _spare
    if _spare is not None and _spare.poll() is None:
        try:
            _spare.stdin.close()  # end of input: the spare exits by itself
        except OSError:
            pass
    _spare = None


def _reap_children() -> None:
    _children[:] = [p for p in _children if p.poll() is None]


def stop(store: RunStore, run_id: str) -> None:
    """Ask a run to stop: a flag in the store (seen within a second) and, once it trains, SIGTERM to its process.
    A queued run only gets the flag: its process may still be starting, before it handles SIGTERM (which
    would kill it, and the run would read as failed)."""
    store.set_control(run_id, "stop", True)
    record = store.get_run(run_id)
    if record and record.executor == "local" and record.pid and record.status == "running" and alive(record.pid):
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
    with _lock:
        _reap_children()  # wait for finished children: no zombies under a long-lived server
    lost = []
    for record in store.list_runs(LIVE):
        if record.executor == "local":
            vanished = bool(record.pid) and not alive(record.pid)
            why = "the training process ended unexpectedly; see log.txt in its checkpoint folder"
        else:  # a Ray run's process is on a worker (ray_executor watches it) while the process that sent it lives
            vanished = driver_ended(record.driver)
            why = ("the app server that sent it to the Ray cluster stopped (a restart?), and Ray ends the runs a "
                   "server sent when it exits; start it again")
        if vanished:
            store.update_run(record.id, status="failed", message=why)
            lost.append(record.id)
    return lost


def driver_label() -> str:
    """This process as the sender of Ray runs: "host pid" (runs.driver)."""
    return f"{socket.gethostname()} {os.getpid()}"


def driver_ended(driver: str) -> bool:
    """Whether the process a Ray run's `driver` names has exited; False when it is unknown or on another
    machine (its own server reaps those)."""
    host, _, pid = driver.rpartition(" ")
    return host == socket.gethostname() and pid.isdigit() and not alive(int(pid))


_alive = alive  # the old private name, used by tests
