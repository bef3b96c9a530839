"""Issue 11, items 3, 6, 7 and 8: settings that passed validation and then crashed, damaged store rows,
upload limits that disagreed, a path as a dataset name, and deleting a run that still trains."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time

from pathlib import Path

import pytest

from playground import cli
from playground.runstore import memory

from playground.runstore import jobs, runner
from playground.config import ConfigError, RunConfig, cores
from playground.data import pair_files, uploads
from playground.data.errors import DataError
from playground.data.text import characters_needed
from playground.runstore.store import DamagedRunError, RunLiveError, RunStore

ROOT = Path(__file__).resolve().parents[2]


# -- item 6: every number finite and in range ------------------------------------------------------------
@pytest.mark.parametrize("part, name, value, words", [
    ("train", "lr", float("inf"), "lr must be a finite number"),
    ("train", "lr", float("nan"), "lr must be positive"),
    ("train", "clip_threshold", float("inf"), "clip_threshold must be a finite number"),
    ("train", "momentum", float("inf"), "momentum must be a finite number"),
    ("train", "weight_decay", -1.0, "weight_decay must be between"),
    ("train", "threads", 100_000, "threads must be at most"),
    ("train", "batch_size", 10**9, "batch_size must be between"),
    ("train", "sample_temperature", float("inf"), "sample_temperature must be a finite number"),
    ("model", "spectral_radius", float("nan"), "spectral_radius must be a finite number"),
    ("model", "spectral_radius", float("inf"), "spectral_radius must be a finite number"),
    ("model", "input_scaling", float("inf"), "input_scaling must be a finite number"),
    ("model", "ridge", float("inf"), "ridge must be a finite number"),
    ("task", "max_upload_bytes", 400_000_000, "max_upload_bytes must be between"),
    ("task", "scene_noise", float("nan"), "scene_noise must be a finite number"),
    ("task", "dataset", "../../x", "not a path"),
    ("task", "dataset", "/etc/passwd", "not a path"),
])
def test_every_invalid_number_is_refused_before_a_run(part, name, value, words, tiny_config):
    cfg = tiny_config()
    setattr(getattr(cfg, part), name, value)
    with pytest.raises(ConfigError, match=words):
        cfg.validate()


def test_threads_up_to_the_cores_are_fine(tiny_config):
    tiny_config(train={"threads": cores()})


@pytest.mark.parametrize("flags, words", [
    (["--clip-threshold", "inf"], "clip_threshold must be a finite number"),
    (["--lr", "inf"], "lr must be a finite number"),
    (["--spectral-radius", "nan"], "spectral_radius must be a finite number"),
    (["--threads", "100000"], "threads must be at most"),
    (["--dataset", "../../x"], "not a path"),
])
def test_the_cli_refuses_bad_numbers_in_one_line(store, flags, words, capsys, restore_signals):
    code = cli.main(["train", "--steps", "2", "--hidden", "8", "--quiet", *flags])
    err = capsys.readouterr().err
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1
    assert store.list_runs() == []  # nothing recorded


@pytest.mark.parametrize("value", ["0", "-1", "abc", "2.5"])
def test_a_bad_max_runs_setting_fails_the_run_with_a_clear_message(store, monkeypatch, value, tiny_config):
    monkeypatch.setenv("PLAYGROUND_MAX_RUNS", value)
    with pytest.raises(ConfigError, match="PLAYGROUND_MAX_RUNS must be a whole number of at least 1"):
        runner.max_parallel_runs()
    run_id = store.create_run(tiny_config())
    assert runner.execute(store, run_id, handle_signals=False) is None  # never queues forever
    record = store.get_run(run_id)
    assert record.status == "failed" and "PLAYGROUND_MAX_RUNS" in record.message


def test_max_runs_is_read_when_valid(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_MAX_RUNS", " 3 ")
    assert runner.max_parallel_runs() == 3


def test_a_model_too_large_for_memory_is_refused_with_both_numbers(store, capsys, restore_signals, tiny_config):
    cfg = tiny_config(task={"name": "adding"}, model={"hidden": 4096, "layers": 4, "embedding": 4096},
                      train={"batch_size": 100_000, "seq_len": 100_000})
    with pytest.raises(ConfigError, match=r"needs about .* TiB .* but only .* of memory is available"):
        runner.prepare(cfg)
    code = cli.main(["train", "--task", "adding", "--hidden", "4096", "--layers", "4", "--batch-size", "100000", "--seq-len", "20000",
                     "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "of memory is available" in err and len(err.strip().splitlines()) == 1


def test_the_memory_estimate_counts_parameters_exactly(tiny_task, tiny_config):
    from playground import models

    for arch, init in (("lstm", "orthogonal"), ("gru", "spectral"), ("rnn-tanh", "default")):
        cfg = tiny_config(model={"arch": arch, "init": init, "hidden": 24, "layers": 2})
        built = models.build(cfg.model, tiny_task.spec)
        expected = sum(p.numel() for p in built.parameters()) + sum(b.numel() for b in built.buffers())
        assert memory.count_parameters(cfg, tiny_task.spec) == expected
    small = memory.estimate(tiny_config(), tiny_task.spec)
    big = memory.estimate(tiny_config(train={"batch_size": 64}), tiny_task.spec)
    assert big.activation_bytes == 16 * small.activation_bytes  # batch 4 -> 64
    assert small.total_bytes < 50 * 2**20


def test_memory_limit_from_the_environment(monkeypatch, tiny_task, tiny_config):
    monkeypatch.setenv("PLAYGROUND_MEMORY_LIMIT", "1000")
    with pytest.raises(ConfigError, match="only 0 MiB of memory is available"):
        memory.check_fits(tiny_config(), tiny_task.spec)
    monkeypatch.setenv("PLAYGROUND_MEMORY_LIMIT", "lots")
    with pytest.raises(ConfigError, match="PLAYGROUND_MEMORY_LIMIT must be a number"):
        memory.check_fits(tiny_config(), tiny_task.spec)


# -- item 7: upload limits --------------------------------------------------------------------------------
def test_the_upload_minimum_is_what_a_default_run_needs(store, tiny_config):
    from playground.config import TaskConfig, TrainConfig

    assert uploads.MIN_CHARACTERS == characters_needed(TrainConfig().batch_size, TrainConfig().seq_len,
                                                        TaskConfig().val_fraction) == 2312
    text = ("x" * 59 + "\n") * 34  # 2,040 characters: too short for a default run, so refused at upload
    with pytest.raises(DataError, match="at least 2,312"):
        uploads.save_upload(text.encode(), "short.txt")
    saved = uploads.save_upload((text * 2).encode(), "long-enough.txt")
    task_cfg = tiny_config(task={"dataset": saved.name, "max_chars": None},
                           train={"batch_size": 32, "seq_len": 64})
    runner.prepare(task_cfg)  # what the upload check accepted, a default-sized run trains on


def test_an_unclosed_csv_quote_names_its_line():
    text = 'source,target\nhello,bonjour\n"good night,bonne nuit\nthank you,merci\n'
    with pytest.raises(DataError, match=r"line 3 of pairs.csv opens a quote .* never closed"):
        pair_files.parse_pairs(text, "pairs.csv")
    assert pair_files.parse_pairs('a,b\n"two\nlines",c\n', "ok.csv") == [("a", "b"), ("two\nlines", "c")]


# -- item 3: damaged rows ---------------------------------------------------------------------------------
def _damage(store: RunStore, run_id: str, **columns) -> None:
    with sqlite3.connect(store.path) as db:
        for column, value in columns.items():
            db.execute(f"UPDATE runs SET {column} = ? WHERE id = ?", (value, run_id))


def test_a_damaged_row_is_listed_as_damaged_and_hides_nothing(store, capsys, tiny_config):
    good = store.create_run(tiny_config(name="good one"))
    bad_config = store.create_run(tiny_config())
    bad_summary = store.create_run(tiny_config())
    bad_live = store.create_run(tiny_config())
    _damage(store, bad_config, config="{not json")
    _damage(store, bad_summary, summary="[1, 2")
    _damage(store, bad_live, status="running", pid=os.getpid(), config=json.dumps({"model": {"arch": 5}}))
    assert [r.id for r in store.list_runs()] == [good]
    assert {d.id for d in store.damaged_runs()} == {bad_config, bad_summary, bad_live}
    assert jobs.reap(store) == []  # a damaged live row does not take the reaper (and every page) down
    with pytest.raises(DamagedRunError, match=f"run {bad_config} is damaged"):
        store.get_run(bad_config)

    assert cli.main(["runs"]) == 0
    out = capsys.readouterr().out
    assert good in out and "good one" in out
    assert all(f"{run_id:32} damaged" in out for run_id in (bad_config, bad_summary, bad_live))

    assert cli.main(["runs", "--delete", bad_config, "--yes"]) == 0
    assert bad_config not in {d.id for d in store.damaged_runs()}


# -- item 8: deleting a run that trains -----------------------------------------------------------------
def test_deleting_a_training_run_is_refused_or_stops_it_first(job_store, subprocess_env, wait, capsys, tiny_config):
    store = job_store
    run_id = jobs.start(store, tiny_config(train={"steps": 1_000_000, "eval_every": 50}))
    wait(lambda: store.metrics(run_id, "train"), timeout=60, what="the run to train")
    pid = store.get_run(run_id).pid

    with pytest.raises(RunLiveError, match="stop it before deleting it"):
        jobs.delete(store, run_id)
    assert cli.main(["runs", "--delete", run_id, "--yes"]) == 2
    assert "stop it before deleting it" in capsys.readouterr().err
    assert store.get_run(run_id).live

    assert cli.main(["runs", "--delete", run_id, "--yes", "--stop"]) == 0
    assert not jobs._alive(pid), "the run's process ended before its rows went"
    assert store.get_run(run_id) is None and not store.checkpoint_dir(run_id).exists()
    time.sleep(1.5)  # a process still running would keep writing rows for the deleted run
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM metric_blocks WHERE run_id = ?", (run_id,)).fetchone()[0] == 0


def test_runs_delete_asks_first(store, monkeypatch, capsys, tiny_config):
    run_id = store.create_run(tiny_config())
    store.update_run(run_id, status="completed")
    result = subprocess.run([sys.executable, "-m", "playground", "runs", "--delete", run_id], cwd=ROOT,
                            env={**os.environ, "PLAYGROUND_HOME": str(store.root), "PYTHONPATH": str(ROOT)},
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--yes" in result.stderr and store.get_run(run_id) is not None
    assert cli.main(["runs", "--delete", "no-such-run", "--yes"]) == 2
    assert "there is no run 'no-such-run'" in capsys.readouterr().err
