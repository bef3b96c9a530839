"""Background runs: child processes started, queued, stopped and reaped through `playground.jobs`."""
from __future__ import annotations

import os
import signal

import pytest

from playground.runstore import checkpoint, jobs

pytestmark = pytest.mark.slow

LONG = {"steps": 1_000_000, "eval_every": 1_000_000, "checkpoint_every": 1_000_000}


def _status(store, run_id):
    return store.get_run(run_id).status


def _training(store, run_id, min_step=2):
    record = store.get_run(run_id)
    return record.status == "running" and record.step >= min_step


def test_start_runs_a_tiny_run_to_completion(job_store, tiny_config, wait):
    run_id = jobs.start(job_store, tiny_config(train={"steps": 15}))
    record = job_store.get_run(run_id)
    assert record.pid and record.pid != os.getpid() and record.status in ("queued", "running", "completed")
    wait(lambda: not job_store.get_run(run_id).live, timeout=120, what="the child run to finish")
    record = job_store.get_run(run_id)
    log = job_store.log_path(run_id).read_text() if job_store.log_path(run_id).exists() else ""
    assert record.status == "completed", f"{record.message}\n{log}"
    assert record.step == 15 and len(job_store.metrics(run_id)) == 15
    assert checkpoint.load(job_store.checkpoint_dir(run_id)).meta["step"] == 15
    assert "Traceback" not in log
    wait(lambda: not jobs._alive(record.pid), timeout=30, what="the child process to exit")


def test_queue_cap_then_stop(job_store, tiny_config, wait, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_MAX_RUNS", "1")  # the children inherit it
    # two long runs started together (their imports overlap): one trains, the other must wait
    started = [jobs.start(job_store, tiny_config(train=LONG, name=f"long {k}")) for k in range(2)]

    def one_trains_one_waits():
        records = [job_store.get_run(r) for r in started]
        running = [r for r in records if r.status == "running" and r.step >= 2]
        waiting = [r for r in records if r.status == "queued" and "queued" in r.message]
        return (running[0].id, waiting[0].id) if running and waiting else None

    first, second = wait(one_trains_one_waits, timeout=120, what="one run training and one queued")
    record = job_store.get_run(second)
    assert record.status == "queued" and record.message == "queued: 1 runs are already training"
    assert record.step == 0 and job_store.metrics(second) == []

    jobs.stop(job_store, first)
    wait(lambda: _status(job_store, first) == "stopped", timeout=60, what="the first run to stop")
    stopped = job_store.get_run(first)
    assert stopped.step >= 2 and len(job_store.metrics(first)) == stopped.step
    assert checkpoint.load(job_store.checkpoint_dir(first)).meta["step"] == stopped.step

    wait(lambda: _training(job_store, second), timeout=60, what="the queued run to start once the slot is free")
    assert job_store.get_run(second).message == ""
    start_event = next(e for e in job_store.events(second) if e["kind"] == "start")
    stop_event = next(e for e in job_store.events(first) if e["kind"] == "stopped")
    assert start_event["time"] >= stop_event["time"], "the queued run must start only after the first ended"
    jobs.stop(job_store, second)
    wait(lambda: _status(job_store, second) == "stopped", timeout=60, what="the second run to stop")


def test_stop_while_queued(job_store, tiny_config, monkeypatch):
    """A run asked to stop while still in the queue ends as stopped without training (run in-process)."""
    from playground.runstore import runner

    monkeypatch.setenv("PLAYGROUND_MAX_RUNS", "1")
    blocker = job_store.create_run(tiny_config())
    job_store.update_run(blocker, status="running")  # holds the only slot
    run_id = job_store.create_run(tiny_config())
    job_store.set_control(run_id, "stop", True)
    assert runner.execute(job_store, run_id, handle_signals=False) is None
    record = job_store.get_run(run_id)
    assert record.status == "stopped" and "queue" in record.message and record.step == 0


def test_reap_marks_a_killed_run_failed(job_store, tiny_config, wait):
    run_id = jobs.start(job_store, tiny_config(train=LONG))
    wait(lambda: _training(job_store, run_id), timeout=120, what="the run to train")
    assert jobs.reap(job_store) == []  # alive: nothing to reap
    pid = job_store.get_run(run_id).pid
    os.kill(pid, signal.SIGKILL)  # our own child, by its id
    wait(lambda: not jobs._alive(pid), timeout=30, what="the killed process to end")
    assert jobs.reap(job_store) == [run_id]
    record = job_store.get_run(run_id)
    assert record.status == "failed" and "ended unexpectedly" in record.message
    assert len(job_store.metrics(run_id)) >= 1  # what it recorded before dying is kept
    assert jobs.reap(job_store) == []


def test_reap_marks_ray_runs_failed_once_the_server_that_sent_them_has_exited(job_store, tiny_config):
    """A restarted app server finds the Ray runs its predecessor sent still "live": Ray ended them with that
    process, so they read failed with the reason; a run whose sender lives, or is on another machine, stays."""
    import socket
    import subprocess
    import sys

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()  # a process id that has exited: the old server's
    here, gone, elsewhere = (job_store.create_run(tiny_config(), executor="ray") for _ in range(3))
    job_store.update_run(here, pid=0, driver=jobs.driver_label())  # sent by this process, which lives
    job_store.update_run(gone, status="running", driver=f"{socket.gethostname()} {ended.pid}")
    job_store.update_run(elsewhere, pid=0, driver=f"not-{socket.gethostname()} {ended.pid}")
    assert jobs.reap(job_store) == [gone]
    record = job_store.get_run(gone)
    assert record.status == "failed" and "sent it to the Ray cluster stopped" in record.message
    assert job_store.get_run(here).live and job_store.get_run(elsewhere).live
