"""Runs as Ray tasks: `PLAYGROUND_EXECUTOR=ray` (jobs.start sends runs here), on the cluster at
`PLAYGROUND_RAY_ADDRESS`, or on a local Ray instance started here when none is given.

The run store stays the SQLite file on the machine that serves the app. A writer actor pinned to that
machine owns it for the cluster: workers on other nodes send metrics, events and checkpoints through it,
and read their controls (stop, clipping) from it. Runs start in the store's fair order (each owner's
runs take turns): a dispatcher here submits the next ones as slots free up, each run one Ray task with
`num_cpus` = its torch threads and a fraction of a GPU (PLAYGROUND_RAY_GPU_SHARE, 0.25: four runs share
one). A task that dies with its worker or node marks its run failed with the reason; nothing else is lost.
Ray is an optional dependency (requirements-cluster.txt): nothing imports this module unless asked to.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from .. import atomic
from ..config import ConfigError
from ..paths import PROJECT_ROOT
from . import jobs, runner
from .store import LIVE, RunStore

ADDRESS_ENV = "PLAYGROUND_RAY_ADDRESS"
GPU_SHARE_ENV = "PLAYGROUND_RAY_GPU_SHARE"
DISPATCH_SECONDS = 0.5
NAMESPACE = "playground"
# what a worker may ask of the store: the calls runner.execute and its recorder make
FORWARDED = {"get_run", "update_run", "claim_slot", "controls", "add_event", "append_metrics", "set_control",
             "compact_metrics"}

_lock = threading.Lock()
_connect_lock = threading.Lock()  # one ray.init at a time (two tabs may press Start together)
_pending: dict[str, set[str]] = {}  # store root -> run ids recorded for Ray, not yet submitted
_inflight: dict = {}  # ObjectRef -> (store root, run id)
_dispatcher: threading.Thread | None = None
_writers: dict[str, object] = {}  # "job store-root" -> its writer actor (held here: Ray ends an actor nobody holds)


def _worker_env(root: Path) -> dict[str, str]:
    path = os.pathsep.join([str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return {**jobs.ALLOCATOR_ENV, "PYTHONPATH": path, "PLAYGROUND_HOME": str(root), "PYTHONUNBUFFERED": "1",
            "PLAYGROUND_MAX_RUNS": "1000000"}  # the dispatcher here keeps the count: a task never waits twice


def connect() -> None:
    """Join the cluster PLAYGROUND_RAY_ADDRESS names, or start a local Ray instance (once per process).

    ray.init runs in a thread of its own that lives as long as Ray does. Ray starts its local processes (GCS,
    raylet) with PR_SET_PDEATHSIG, which Linux ties to the *thread* that started them: started from a
    Streamlit script thread, they were killed as that rerun ended, and the server died a minute later
    ("Failed to connect to GCS", ray-project/ray#45570)."""
    with _connect_lock:
        if ray.is_initialized():
            return
        outcome: dict = {}
        ready = threading.Event()
        threading.Thread(target=_own_ray, args=(outcome, ready), name="ray-owner", daemon=True).start()
        ready.wait()
    if "error" in outcome:
        raise outcome["error"]


def _own_ray(outcome: dict, ready: threading.Event) -> None:
    address = os.environ.get(ADDRESS_ENV, "").strip() or None
    try:
        ray.init(address=address, namespace=NAMESPACE, include_dashboard=False, log_to_driver=False,
                 configure_logging=False, **({} if address else {"num_cpus": os.cpu_count() or 1}))
    except ConnectionError as exc:
        outcome["error"] = ConfigError(f"cannot reach the Ray cluster at {address}: {exc}")
    except BaseException as exc:  # noqa: BLE001 - handed to the caller, which raises it in its own thread
        outcome["error"] = exc
    ready.set()
    while ray.is_initialized():  # Ray's processes live while this thread does; after ray.shutdown it may end
        time.sleep(1.0)


@ray.remote(num_cpus=0, max_concurrency=16)
class StoreWriter:
    """The run store on the serving machine, for workers anywhere on the cluster."""

    def __init__(self, root: str) -> None:
        self.store = RunStore(root)

    def call(self, method: str, args: tuple, kwargs: dict):
        if method not in FORWARDED:
            raise ValueError(f"a worker cannot call {method}")
        return getattr(self.store, method)(*args, **kwargs)

    def reap(self) -> None:
        jobs.reap(self.store)

    def write_files(self, run_id: str, files: dict[str, bytes]) -> None:
        folder = self.store.checkpoint_dir(run_id)
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            atomic.write_bytes(folder / Path(name).name, data)


def _writer(root: Path):
    """The store's writer actor, on this (the serving) machine; one per store folder."""
    key = f"{ray.get_runtime_context().get_job_id()} {root}"  # a handle from an earlier ray.init is dead
    if key not in _writers:
        _writers[key] = _new_writer(root)
    return _writers[key]


def _new_writer(root: Path):
    node = ray.get_runtime_context().get_node_id()
    return StoreWriter.options(
        name=f"store-writer-{abs(hash(str(root))):x}", namespace=NAMESPACE, get_if_exists=True,
        scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=node, soft=False),
        runtime_env={"env_vars": _worker_env(root)}).remote(str(root))


class RemoteStore:
    """The run store as a Ray worker sees it: calls go to the writer actor; checkpoints are written to a
    folder on the worker, then sent whole (runner.execute and its recorder use nothing else)."""

    def __init__(self, writer, root: str, run_id: str) -> None:
        self.writer, self.root = writer, Path(root)
        self.staging = Path(tempfile.mkdtemp(prefix=f"playground-{run_id}-"))

    def __getattr__(self, name: str):
        if name not in FORWARDED:
            raise AttributeError(name)
        return lambda *args, **kwargs: ray.get(self.writer.call.remote(name, args, kwargs))

    def checkpoint_dir(self, run_id: str) -> Path:
        return self.staging

    def reap(self) -> None:
        ray.get(self.writer.reap.remote())

    def send_checkpoint(self, run_id: str) -> None:
        files = {p.name: p.read_bytes() for p in self.staging.iterdir() if p.is_file()}
        ray.get(self.writer.write_files.remote(run_id, files))


class RemoteRecorder(runner.StoreRecorder):
    def on_checkpoint(self, trainer, step):
        super().on_checkpoint(trainer, step)
        self.store.send_checkpoint(self.run_id)


def node_label() -> str:
    return f"{socket.gethostname()} ({ray.get_runtime_context().get_node_id()[:8]})"


@ray.remote(max_retries=0)
def _train(writer, root: str, run_id: str) -> str:
    store = RemoteStore(writer, root, run_id)
    store.update_run(run_id, node=node_label())
    try:
        result = runner.execute(store, run_id, handle_signals=False, recorder_class=RemoteRecorder)
    finally:
        shutil.rmtree(store.staging, ignore_errors=True)
    return result.status if result else "not started"


def slots() -> int:
    """How many Ray runs train at once: PLAYGROUND_MAX_RUNS, or the cluster's CPUs (one a run, at least)."""
    if os.environ.get("PLAYGROUND_MAX_RUNS", "").strip():
        return runner.max_parallel_runs()
    return max(int(ray.cluster_resources().get("CPU", 1)), 1)


def _resources(store: RunStore, run_id: str) -> dict:
    cfg = store.get_run(run_id).config
    gpus = ray.cluster_resources().get("GPU", 0)
    share = float(os.environ.get(GPU_SHARE_ENV, "0.25") or 0)
    wants_gpu = cfg.train.device in ("cuda", "auto") and gpus > 0 and share > 0
    return {"num_cpus": max(cfg.train.threads, 1), "num_gpus": min(share, 1.0) if wants_gpu else 0}


def submit(store: RunStore, run_id: str) -> None:
    """Queue a recorded run for the cluster; the dispatcher starts it in its fair turn."""
    connect()
    # pid 0: no process here, but the run waits for a slot (the fair queue counts it)
    store.update_run(run_id, pid=0, driver=jobs.driver_label(), message="queued for the Ray cluster")
    with _lock:
        _pending.setdefault(str(store.root), set()).add(run_id)
        _ensure_dispatcher()


def _ensure_dispatcher() -> None:
    global _dispatcher
    if _dispatcher is None:
        _dispatcher = threading.Thread(target=_dispatch_forever, name="ray-dispatcher", daemon=True)
        _dispatcher.start()


def _dispatch_forever() -> None:
    global _dispatcher
    while ray.is_initialized():
        try:
            dispatch_once()
        except Exception:  # noqa: BLE001 - a passing hiccup (the store busy): try again next round
            pass
        with _lock:
            refs = list(_inflight)
        if refs:
            ray.wait(refs, num_returns=1, timeout=DISPATCH_SECONDS)
        else:
            threading.Event().wait(DISPATCH_SECONDS)
        with _lock:
            if not _inflight and not any(_pending.values()):
                _dispatcher = None  # under the lock: a submit from now on starts a fresh dispatcher
                return
    with _lock:  # Ray was shut down under it
        _dispatcher = None


def dispatch_once() -> None:
    """Settle finished tasks, drop runs stopped while queued, and submit the next runs in fair order."""
    with _lock:
        refs = list(_inflight)
    done, _ = ray.wait(refs, num_returns=len(refs), timeout=0) if refs else ([], [])
    for ref in done:
        with _lock:
            root, run_id = _inflight.pop(ref)
        _settle(RunStore(root), run_id, ref)
    with _lock:
        roots = [root for root, ids in _pending.items() if ids]
    for root in roots:
        store = RunStore(root)
        with _lock:
            snapshot = set(_pending[root])
            waiting = set(snapshot)
            running = sum(1 for r, _ in _inflight.values() if r == root)
        for run_id in list(waiting):
            record = store.get_run(run_id)
            if record is None or not record.live:
                waiting.discard(run_id)
            elif store.controls(run_id).get("stop"):
                store.update_run(run_id, status="stopped", message="stopped while waiting in the queue")
                waiting.discard(run_id)
        free = slots() - running
        order = [run_id for run_id in store.queue_order() if run_id in waiting]
        writer = _writer(Path(root)) if order and free > 0 else None
        for run_id in order[:max(free, 0)]:
            ref = _train.options(**_resources(store, run_id),
                                 runtime_env={"env_vars": _worker_env(Path(root))}).remote(writer, root, run_id)
            waiting.discard(run_id)
            with _lock:
                _inflight[ref] = (root, run_id)
        with _lock:
            _pending[root] = waiting | (_pending[root] - snapshot)  # keep runs submitted meanwhile


def _settle(store: RunStore, run_id: str, ref) -> None:
    """A finished task: if its run is still live, its worker died under it (killed, out of memory, node lost)."""
    try:
        ray.get(ref)
        reason = "its Ray task ended without recording an end"
    except ray.exceptions.RayError as exc:
        first_line = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()[0][:300]  # no terminal colours
        reason = f"its Ray worker died ({type(exc).__name__}): {first_line}"
    record = store.get_run(run_id)
    if record is not None and record.status in LIVE:
        where = f" on {record.node}" if record.node else ""
        store.update_run(run_id, status="failed", message=reason.replace("its Ray worker", f"its Ray worker{where}", 1))
        store.add_event(run_id, record.step, "failed", reason)


def pending_runs() -> int:
    with _lock:
        return sum(len(ids) for ids in _pending.values()) + len(_inflight)
