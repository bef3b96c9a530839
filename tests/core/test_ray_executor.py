"""The Ray executor against a local Ray instance (real worker processes): a sweep, a stop, a change of
clipping, and a killed worker. One Ray instance for the module; `-m "not ray"` leaves these out."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest

ray = pytest.importorskip("ray")

from playground.experiments import lab  # noqa: E402
from playground.runstore import checkpoint, jobs, ray_executor  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]


@pytest.fixture(scope="module")
def local_ray():
    """Started the way the app starts it: from a Streamlit script thread that ends right after. Ray's local
    processes die with the thread that started them (ray-project/ray#45570) unless connect() keeps one."""
    assert not ray.is_initialized()
    script_thread = threading.Thread(target=ray_executor.connect)
    script_thread.start()
    script_thread.join()
    time.sleep(1.0)  # long enough for a SIGKILL sent as the thread ended to land
    assert ray.get(ray.remote(lambda: 42).remote(), timeout=60) == 42
    yield
    ray.shutdown()  # stops the raylet and every worker this module started


@pytest.fixture
def ray_store(local_ray, job_store, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_EXECUTOR", "ray")
    yield job_store
    for record in job_store.list_runs(("queued", "running")):
        jobs.stop(job_store, record.id)


def test_a_sweep_runs_as_ray_tasks_and_writes_through_the_writer_actor(ray_store, tiny_config, wait):
    configs = [tiny_config(model={"arch": arch}, train={"steps": 12, "checkpoint_every": 6}) for arch in ("lstm", "gru")]
    run_ids = lab.start_group(ray_store, configs)  # what sweeps, races and twins start with
    wait(lambda: all(not ray_store.get_run(r).live for r in run_ids), timeout=120, what="the sweep to finish")
    for run_id in run_ids:
        record = ray_store.get_run(run_id)
        assert (record.status, record.step, record.executor) == ("completed", 12, "ray"), record.message
        assert record.node and record.pid and record.pid != os.getpid()
        assert [r["step"] for r in ray_store.metrics(run_id)] == list(range(1, 13))
        assert checkpoint.load(ray_store.checkpoint_dir(run_id)).meta["step"] == 12  # shipped to the store's folder
        assert [e["kind"] for e in ray_store.events(run_id)][-1] == "completed"


def test_stop_and_a_change_of_clipping_reach_a_ray_run(ray_store, tiny_config, wait):
    run_id = jobs.start(ray_store, tiny_config(train={"steps": 100000, "clip": "norm", "clip_threshold": 1.0}))
    wait(lambda: len(ray_store.metrics(run_id)) >= 3, timeout=90, what="the Ray run to train")
    jobs.set_clipping(ray_store, run_id, "value", 0.25)
    wait(lambda: any(e["kind"] == "clip" for e in ray_store.events(run_id)), timeout=30, what="the clipping change")
    assert "clip by value at 0.25" in [e["message"] for e in ray_store.events(run_id)]
    jobs.stop(ray_store, run_id)
    wait(lambda: not ray_store.get_run(run_id).live, timeout=30, what="the run to stop")
    record = ray_store.get_run(run_id)
    assert record.status == "stopped" and record.step >= 3
    assert ray_store.metrics(run_id)[-1]["clip"] == "value"


def test_a_killed_worker_marks_its_run_failed_and_keeps_what_it_recorded(ray_store, tiny_config, wait):
    run_id = jobs.start(ray_store, tiny_config(train={"steps": 100000}))
    wait(lambda: len(ray_store.metrics(run_id)) >= 2, timeout=90, what="the Ray run to train")
    pid = ray_store.get_run(run_id).pid
    assert pid and pid != os.getpid()
    os.kill(pid, signal.SIGKILL)
    wait(lambda: not ray_store.get_run(run_id).live, timeout=60, what="the run to be marked failed")
    record = ray_store.get_run(run_id)
    assert record.status == "failed" and "Ray worker" in record.message and "died" in record.message
    assert len(ray_store.metrics(run_id)) >= 2
    # the executor carries on: the next run trains
    after = jobs.start(ray_store, tiny_config(train={"steps": 5}))
    wait(lambda: not ray_store.get_run(after).live, timeout=90, what="a run after the killed one")
    assert ray_store.get_run(after).status == "completed"
