"""Run one stored run to its end: wait for a slot, build task and model, train, record everything.

This is what `python -m playground train` executes, in a terminal or as the app's child process.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import statistics
import threading
import time

import torch

from . import checkpoint, jobs, memory
from .. import atomic, devices, models, tasks
from ..config import ConfigError, RunConfig, cores
from ..data.errors import DataError
from .history import recent_train_loss
from .store import RunStore
from ..train import penalties
from ..train.trainer import Callback, Trainer, TrainResult

POLL_SECONDS = 1.0  # how often a training process looks at the store's controls (stop, clipping)
FLUSH_SECONDS = 0.5  # how often step metrics are written (batched: one transaction per flush)


def max_parallel_runs() -> int:
    """How many runs train at once; more wait in the queue. Default: one per CPU core.
    PLAYGROUND_MAX_RUNS overrides it: a whole number from 1 (0 or less would queue every run forever)."""
    raw = os.environ.get("PLAYGROUND_MAX_RUNS", "").strip()
    if not raw:
        return os.cpu_count() or 1
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"PLAYGROUND_MAX_RUNS must be a whole number of at least 1 (got {raw!r})")
    return value


class StoreRecorder(Callback):
    """Writes metrics, events, checkpoints and status to the store; applies controls it finds there."""

    def __init__(self, store: RunStore, run_id: str, config: RunConfig, task, stop: threading.Event) -> None:
        self.store, self.run_id, self.config, self.task, self.stop = store, run_id, config, task, stop
        self.pending: list[dict] = []
        self.last_flush = self.last_poll = 0.0
        self.applied_clip: tuple[str, float] | None = None
        self.history: list[dict] = []
        self.last_eval: dict = {}

    def on_start(self, trainer, info):
        self.applied_clip = (trainer.clip_mode, trainer.clip_threshold)
        self.store.update_run(self.run_id, device=devices.describe(trainer.device),
                              summary={"parameters": info["parameters"], "device": str(trainer.device)})
        self.store.add_event(self.run_id, 0, "start", f"training on {devices.describe(trainer.device)}")

    def before_step(self, trainer, step):
        now = time.monotonic()
        if now - self.last_poll < POLL_SECONDS:
            return
        self.last_poll = now
        controls = self.store.controls(self.run_id)
        if controls.get("stop"):
            self.stop.set()
        clip = controls.get("clip")
        if clip and (clip["mode"], float(clip["threshold"])) != self.applied_clip:
            try:
                trainer.set_clipping(clip["mode"], clip["threshold"])
            except ConfigError as exc:
                self.store.add_event(self.run_id, step, "error", f"clipping not changed: {exc}")
            else:
                self.store.add_event(self.run_id, step, "clip", describe_clip(clip["mode"], clip["threshold"]))
            self.applied_clip = (clip["mode"], float(clip["threshold"]))

    def on_step(self, trainer, record):
        self.pending.append(record)
        self.history.append(record)
        if time.monotonic() - self.last_flush > FLUSH_SECONDS:
            self.flush(record["step"])

    def flush(self, step: int) -> None:
        self.store.append_metrics(self.run_id, "train", self.pending)
        self.pending = []
        self.last_flush = time.monotonic()
        self.store.update_run(self.run_id, step=step)

    def on_eval(self, trainer, record):
        self.last_eval = record
        self.store.append_metrics(self.run_id, "eval", [record])

    def on_checkpoint(self, trainer, step):
        checkpoint.save(self.store.checkpoint_dir(self.run_id), trainer.model, self.config, self.task, step,
                        metrics={k: v for k, v in self.last_eval.items() if isinstance(v, (int, float))})

    def on_end(self, trainer, result: TrainResult):
        self.flush(result.steps)
        self.store.compact_metrics(self.run_id)  # a finished run's flushes as a few full blocks
        summary = {**self.store.get_run(self.run_id).summary, **summarize(result, self.history, self.last_eval)}
        self.store.update_run(self.run_id, status=result.status, message=result.message, step=result.steps,
                              summary=summary)
        self.store.add_event(self.run_id, result.steps, result.status, result.message or f"run {result.status}")


def describe_clip(mode: str, threshold: float) -> str:
    return "clipping off" if mode == "none" else f"clip by {mode} at {threshold:g}"


def summarize(result: TrainResult, history: list[dict], last_eval: dict) -> dict:
    """Headline numbers of a finished run, for lists, Compare and --metrics-out."""
    speeds = [r["tokens_per_s"] for r in history[1:]] or [r["tokens_per_s"] for r in history]
    summary = {
        "steps": result.steps,
        "train_loss": recent_train_loss(r["loss"] for r in history),
        "tokens_per_s": statistics.median(speeds) if speeds else None,
        "seconds": history[-1]["time"] if history else 0.0,
        "clipped_steps": sum(1 for r in history if r["clipped"]),
    }
    summary.update({k: v for k, v in last_eval.items() if isinstance(v, (int, float)) and k != "step"})
    return summary


def prepare(cfg: RunConfig):
    """(task, model) for a config, or a ConfigError / DataError that says what is wrong with it:
    an unknown setting, a dataset that is missing, empty, binary or too short for one batch."""
    cfg.validate()
    task = tasks.build(cfg.task, train=cfg.train)  # decoders read teacher forcing and beam width
    task.check_size(cfg.train.batch_size, cfg.train.seq_len)
    memory.check_fits(cfg, task.spec, devices.resolve(cfg.train.device))  # before the model's weights exist
    torch.manual_seed(cfg.train.seed)  # the model's initial weights come from the run's seed
    model = models.build(cfg.model, task.spec)
    penalties.check(cfg.train, model)  # a penalty that cannot apply to this cell or backend says so now
    return task, model


def execute(store: RunStore, run_id: str, callbacks: list[Callback] = (), stop: threading.Event | None = None,
            handle_signals: bool = True, recorder_class: type[StoreRecorder] = StoreRecorder) -> TrainResult | None:
    """Train the stored run `run_id`. SIGTERM / Ctrl-C stop it cleanly with status `stopped`.
    Returns None when the run never started (stopped in the queue, or a bad setting or dataset).
    `store` may be a stand-in with the same methods (a Ray worker's, ray_executor.py)."""
    stop = stop or threading.Event()
    if handle_signals and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    record = store.get_run(run_id)
    if record is None:
        raise ConfigError(f"no run {run_id!r} in {store.root}")
    cfg = record.config
    store.update_run(run_id, pid=os.getpid())
    try:
        ready = wait_for_slot(store, run_id, stop)
    except ConfigError as exc:  # PLAYGROUND_MAX_RUNS makes no sense
        store.update_run(run_id, status="failed", message=str(exc))
        return None
    if not ready:
        store.update_run(run_id, status="stopped", message="stopped while waiting in the queue")
        return None
    try:
        torch.set_num_threads(min(cfg.train.threads, cores()))  # a stored config from a bigger machine
        device = devices.resolve(cfg.train.device)
        task, model = prepare(cfg)
    except (ConfigError, DataError) as exc:
        store.update_run(run_id, status="failed", message=str(exc))
        store.add_event(run_id, 0, "failed", str(exc))
        return None
    recorder = recorder_class(store, run_id, cfg, task, stop)
    try:
        return Trainer(cfg.train, device).fit(model, task, [recorder, *callbacks], should_stop=stop.is_set)
    except Exception as exc:
        step = recorder.history[-1]["step"] if recorder.history else 0
        if disk_full(exc):  # a checkpoint or the metrics did not fit: say so, keep what was recorded, no traceback
            message = f"no space left on the disk at step {step}: free some space (metrics up to then are kept)"
            _record_failure(store, run_id, recorder, step, message)
            return None
        _record_failure(store, run_id, recorder, step, f"{type(exc).__name__}: {exc}")  # a bug: say what happened
        raise


def disk_full(exc: BaseException) -> bool:
    return atomic.no_space(exc) or (isinstance(exc, sqlite3.OperationalError) and "full" in str(exc))


def _record_failure(store: RunStore, run_id: str, recorder: StoreRecorder, step: int, message: str) -> None:
    """Mark the run failed; with a full disk the pending metrics may not fit, the status row must."""
    try:
        recorder.flush(step)
    except Exception:  # noqa: BLE001 - the status below matters more than the last half second of metrics
        recorder.pending = []
    store.update_run(run_id, status="failed", message=message, step=step)
    try:
        store.add_event(run_id, step, "failed", message)
    except sqlite3.OperationalError:
        pass


def wait_for_slot(store: RunStore, run_id: str, stop: threading.Event) -> bool:
    """Block while `max_parallel_runs()` others train; False if stopped meanwhile."""
    said = False
    while not store.claim_slot(run_id, max_parallel_runs()):
        if not said:
            store.update_run(run_id, message=f"queued: {max_parallel_runs()} runs are already training")
            said = True
        if stop.is_set() or store.controls(run_id).get("stop"):
            return False
        # a run whose process was killed must not hold its slot forever (a Ray worker's store reaps on the server)
        if hasattr(store, "reap"):
            store.reap()
        else:
            jobs.reap(store)
        stop.wait(POLL_SECONDS)
    return not stop.is_set()
