"""The run store: round trips, non-finite values, a writer process and a reader at once, stopped runs."""
from __future__ import annotations

import subprocess
import textwrap
import threading
import time

import pytest

from playground.runstore import checkpoint, runner
from playground.runstore.store import RunStore
from playground.train.trainer import Callback


def test_run_round_trip(store, tiny_config):
    cfg = tiny_config(model={"arch": "gru", "hidden": 24}, train={"steps": 77}, name="round trip")
    run_id = store.create_run(cfg)
    assert "gru" in run_id and store.checkpoint_dir(run_id).is_dir()
    record = store.get_run(run_id)
    assert record.config == cfg and record.name == "round trip"
    assert (record.status, record.step, record.total_steps, record.live) == ("queued", 0, 77, True)
    store.update_run(run_id, status="running", step=5, device="CPU", message="hello",
                     summary={"a": 1.5, "nested": {"b": [1, 2]}})
    record = store.get_run(run_id)
    assert (record.status, record.step, record.device, record.message) == ("running", 5, "CPU", "hello")
    assert record.summary == {"a": 1.5, "nested": {"b": [1, 2]}}
    assert record.updated >= record.created

    other = store.create_run(tiny_config())
    store.update_run(other, status="completed")
    assert {r.id for r in store.list_runs()} == {run_id, other}
    assert [r.id for r in store.list_runs(("completed",))] == [other]
    assert len(store.list_runs(limit=1)) == 1
    # a second RunStore on the same folder (another process, say) sees the same runs
    assert RunStore(store.root).get_run(run_id).config == cfg
    assert store.get_run("no-such-run") is None

    store.delete_run(other)
    assert store.get_run(other) is None and not store.checkpoint_dir(other).exists()


def test_metrics_events_controls_round_trip(store, tiny_config):
    run_id = store.create_run(tiny_config())
    other = store.create_run(tiny_config())
    rows = [{"step": s, "loss": 1.0 / s, "layer_norms": {"rnn l0": s * 0.5}, "clipped": s % 2 == 0} for s in (3, 1, 2)]
    store.append_metrics(run_id, "train", rows)
    store.append_metrics(run_id, "eval", [{"step": 2, "val_loss": 0.5, "gradient_flow": [0.1, 0.2]}])
    store.append_metrics(other, "train", [{"step": 1, "loss": 9.0}])
    store.append_metrics(run_id, "train", [])
    assert store.metrics(run_id, "train") == sorted(rows, key=lambda r: r["step"])
    assert [r["step"] for r in store.metrics(run_id, "train", after_step=1)] == [2, 3]
    assert store.metrics(run_id, "eval") == [{"step": 2, "val_loss": 0.5, "gradient_flow": [0.1, 0.2]}]

    store.add_event(run_id, 0, "start", "training on CPU")
    store.add_event(run_id, 3, "clip", "clip by value at 0.5")
    assert [(e["step"], e["kind"], e["message"]) for e in store.events(run_id)] == [
        (0, "start", "training on CPU"), (3, "clip", "clip by value at 0.5")]
    assert store.events(other) == []

    store.set_control(run_id, "clip", {"mode": "norm", "threshold": 2.0})
    store.set_control(run_id, "stop", False)
    store.set_control(run_id, "stop", True)  # replaces the earlier value
    assert store.controls(run_id) == {"clip": {"mode": "norm", "threshold": 2.0}, "stop": True}
    assert store.controls(other) == {}

    store.delete_run(run_id)
    assert store.metrics(run_id) == [] and store.events(run_id) == [] and store.controls(run_id) == {}
    assert len(store.metrics(other)) == 1


def test_non_finite_values_read_back_as_none(store, tiny_config):
    run_id = store.create_run(tiny_config())
    nan, inf = float("nan"), float("inf")
    store.append_metrics(run_id, "train", [{"step": 1, "loss": nan, "grad_norm": inf, "fine": 2.0,
                                            "layer_norms": {"head": -inf, "embed": 1.0}, "flow": [1.0, nan]}])
    assert store.metrics(run_id) == [{"step": 1, "loss": None, "grad_norm": None, "fine": 2.0,
                                      "layer_norms": {"head": None, "embed": 1.0}, "flow": [1.0, None]}]
    store.update_run(run_id, summary={"train_loss": nan, "steps": 3})
    assert store.get_run(run_id).summary == {"train_loss": None, "steps": 3}
    # the packed block's text parts are strict JSON that any reader can parse (no NaN or Infinity constants)
    import sqlite3
    import zlib
    with sqlite3.connect(store.path) as db:
        blob = db.execute("SELECT data FROM metric_blocks WHERE run_id = ?", (run_id,)).fetchone()[0]
    raw = zlib.decompress(blob)
    assert b"NaN" not in raw and b"Infinity" not in raw


WRITER = """
import sys, time
from playground.runstore.store import RunStore
store, run_id, total = RunStore(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for start in range(1, total + 1, 10):
    store.append_metrics(run_id, "train", [{"step": s, "loss": 1.0 / s} for s in range(start, start + 10)])
    store.update_run(run_id, step=start + 9)
    store.add_event(run_id, start, "tick", "writer")
    time.sleep(0.01)
store.update_run(run_id, status="completed")
print("done")
"""


def test_writer_process_and_concurrent_reader(store, tiny_config, subprocess_env, python):
    """A child writes a run's metrics while this process reads (and writes) them: no 'database is locked'."""
    total = 400
    run_id = store.create_run(tiny_config())
    store.update_run(run_id, status="running")
    child = subprocess.Popen([python, "-c", textwrap.dedent(WRITER), str(store.root), run_id, str(total)],
                             env=subprocess_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen, reads, partial_reads = [], 0, 0
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            status = store.get_run(run_id).status
            new = store.metrics(run_id, "train", after_step=seen[-1] if seen else 0)
            seen.extend(r["step"] for r in new)
            store.add_event(run_id, len(seen), "reader", "saw rows")  # the reader writes as well
            reads += 1
            partial_reads += 0 < len(seen) < total
            if status == "completed" and child.poll() is not None:
                seen.extend(r["step"] for r in store.metrics(run_id, "train", after_step=seen[-1] if seen else 0))
                break
        out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    assert "locked" not in err and out.strip() == "done"
    assert seen == list(range(1, total + 1)), "every row arrives once, in order"
    assert partial_reads > 0, "the reader should have seen the run while it was being written"
    kinds = [e["kind"] for e in store.events(run_id)]
    assert kinds.count("tick") == total // 10 and kinds.count("reader") == reads


def test_many_threads_write_one_store(store, tiny_config):
    run_id = store.create_run(tiny_config())
    errors = []

    def write(k):
        try:
            for i in range(20):
                store.append_metrics(run_id, "train", [{"step": k * 100 + i + 1, "loss": 0.0}])
                store.set_control(run_id, f"t{k}", i)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(store.metrics(run_id)) == 80
    assert store.controls(run_id) == {f"t{k}": 19 for k in range(4)}


class StopAt(Callback):
    """Asks for a stop during step `step` (step records come a window late, so not from `on_step`)."""

    def __init__(self, step, event):
        self.step, self.event = step, event

    def before_step(self, trainer, step):
        if step == self.step:
            self.event.set()


def test_stopped_run_keeps_metrics_and_last_checkpoint(store, tiny_config):
    stop = threading.Event()
    run_id = store.create_run(tiny_config(train={"steps": 1000, "checkpoint_every": 5, "eval_every": 3}))
    result = runner.execute(store, run_id, [StopAt(8, stop)], stop=stop, handle_signals=False)
    assert (result.status, result.steps) == ("stopped", 8)
    record = store.get_run(run_id)
    assert (record.status, record.step) == ("stopped", 8)
    assert [r["step"] for r in store.metrics(run_id)] == list(range(1, 9))
    assert [r["step"] for r in store.metrics(run_id, "eval")] == [1, 3, 6]
    loaded = checkpoint.load(store.checkpoint_dir(run_id))
    assert loaded.meta["step"] == 8  # the stop saved a checkpoint beyond the step-5 one
    assert record.summary["steps"] == 8 and record.summary["train_loss"] is not None
    kinds = [e["kind"] for e in store.events(run_id)]
    assert kinds[0] == "start" and kinds[-1] == "stopped"


def test_stop_control_in_the_store_stops_a_run(store, tiny_config, monkeypatch):
    monkeypatch.setattr(runner, "POLL_SECONDS", 0.0)
    run_id = store.create_run(tiny_config(train={"steps": 1000}))

    class Flag(Callback):
        def before_step(self, trainer, step):  # during step 3, after the recorder polled the controls
            if step == 3:
                store.set_control(run_id, "stop", True)

    result = runner.execute(store, run_id, [Flag()], handle_signals=False)
    # seen in the recorder's before_step of step 4, after that step's stop check: step 4 still runs
    assert (result.status, result.steps) == ("stopped", 4)
    assert checkpoint.weights_file(store.checkpoint_dir(run_id)).is_file()


def test_a_run_can_be_renamed_to_one_line_of_text(tmp_path, tiny_config):
    from playground.config import ConfigError
    from playground.runstore.store import RUN_NAME_LIMIT, RunStore

    store = RunStore(tmp_path)
    run_id = store.create_run(tiny_config())
    assert store.rename_run(run_id, " clipped\tat 1.0 **bold** ") == "clipped at 1.0 **bold**"
    assert store.get_run(run_id).name == "clipped at 1.0 **bold**"  # kept as typed: pages show it as text
    assert store.get_run(run_id).config.name == ""  # the settings stay as they were
    for bad, message in (("  \n ", "cannot be empty"), ("x" * (RUN_NAME_LIMIT + 1), "at most")):
        with pytest.raises(ConfigError, match=message):
            store.rename_run(run_id, bad)
    with pytest.raises(ConfigError, match="no run 'nope'"):
        store.rename_run("nope", "a name")


def test_runs_rename_on_the_command_line(tmp_path, tiny_config, capsys, monkeypatch):
    from playground import cli

    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path))
    run_id = RunStore(tmp_path).create_run(tiny_config())
    assert cli.main(["runs", "--rename", run_id, "baseline LSTM"]) == 0
    assert "now called 'baseline LSTM'" in capsys.readouterr().out
    assert RunStore(tmp_path).get_run(run_id).name == "baseline LSTM"
    assert cli.main(["runs", "--rename", run_id, " "]) == 2  # one line, no traceback
    assert capsys.readouterr().err.strip() == "error: a run's name cannot be empty"


def test_runs_made_in_the_same_second_never_share_an_id(tmp_path, tiny_config, monkeypatch):
    """Ids end in 4 random hex digits: 300 runs in one second drew the same one about half the time."""
    import secrets as secrets_module

    store = RunStore(tmp_path)
    draws = iter(["abcd", "abcd", "abcd", "ef01"])  # the second run draws the first's digits twice, then others
    monkeypatch.setattr(secrets_module, "token_hex", lambda n: next(draws))
    monkeypatch.setattr("time.strftime", lambda fmt, *a: "20261202-120000")
    first, second = store.create_run(tiny_config()), store.create_run(tiny_config())
    assert first != second and second.endswith("ef01") and len(store.list_runs()) == 2
