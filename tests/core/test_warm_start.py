"""Warm start: the app keeps one spare training process with torch imported and hands it the next run."""
from __future__ import annotations

import pytest

from playground.runstore import checkpoint, jobs

pytestmark = pytest.mark.slow


@pytest.fixture
def warm(monkeypatch):
    monkeypatch.setenv(jobs.WARM_START_ENV, "1")
    yield
    with jobs._lock:
        jobs._drop_spare()


def test_the_next_run_is_trained_by_the_waiting_spare(job_store, tiny_config, wait, warm):
    first = jobs.start(job_store, tiny_config(train={"steps": 5}))
    spare = jobs._spare
    assert spare is not None and spare.poll() is None, "a spare process waits after the first Start"
    second = jobs.start(job_store, tiny_config(train={"steps": 12}, name="warm"))
    assert job_store.get_run(second).pid == spare.pid, "the second run went to the spare"
    assert jobs._spare is not None and jobs._spare.pid != spare.pid, "and a new spare waits for the next one"
    for run_id, steps in ((first, 5), (second, 12)):
        wait(lambda: not job_store.get_run(run_id).live, timeout=120, what="the run to finish")
        record = job_store.get_run(run_id)
        log = job_store.log_path(run_id).read_text()
        assert record.status == "completed", f"{record.message}\n{log}"
        assert record.step == steps and len(job_store.metrics(run_id)) == steps
        assert checkpoint.load(job_store.checkpoint_dir(run_id)).meta["step"] == steps
        assert "Traceback" not in log


def test_a_spare_of_another_store_is_not_used(job_store, tiny_config, warm, tmp_path):
    from playground.runstore.store import RunStore

    other = RunStore(tmp_path / "other-home")
    jobs.start(other, tiny_config(train={"steps": 2}))
    spare_of_other = jobs._spare
    run_id = jobs.start(job_store, tiny_config(train={"steps": 2}))
    assert job_store.get_run(run_id).pid != spare_of_other.pid  # it would write into the other store
    spare_of_other.wait(timeout=60)  # dropped: its input closed, so it ended by itself


def test_stop_reaches_a_run_in_the_spare(job_store, tiny_config, wait, warm):
    jobs.start(job_store, tiny_config(train={"steps": 2}))
    run_id = jobs.start(job_store, tiny_config(train={"steps": 1_000_000, "eval_every": 1_000_000,
                                                      "checkpoint_every": 1_000_000}))
    wait(lambda: job_store.get_run(run_id).step >= 2, timeout=120, what="the run to train")
    jobs.stop(job_store, run_id)
    wait(lambda: job_store.get_run(run_id).status == "stopped", timeout=60, what="the run to stop")


def test_a_spare_can_be_made_ready_before_the_first_start(job_store, tiny_config, wait, warm):
    jobs.keep_spare_ready(job_store)
    spare = jobs._spare
    assert spare is not None and spare.poll() is None
    jobs.keep_spare_ready(job_store)  # idempotent: the same process keeps waiting
    assert jobs._spare is spare
    run_id = jobs.start(job_store, tiny_config(train={"steps": 3}))
    assert job_store.get_run(run_id).pid == spare.pid
    wait(lambda: job_store.get_run(run_id).status == "completed", timeout=120, what="the run to finish")


def test_the_spares_warm_up_leaves_the_random_state_alone():
    """The spare runs one tiny step of each fused module before waiting; a run's seeded randomness is untouched."""
    import torch

    from playground.runstore import spare

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    spare.warm_up()
    assert torch.equal(torch.rand(3), expected)
