"""The compact step store: packed blocks read back exactly what was written, an older store of JSON rows
migrates and reads the same, and a 1-layer model's step costs at most 150 bytes."""
from __future__ import annotations

import json
import math
import random
import sqlite3

from playground.runstore import packing
from playground.runstore.store import RunStore


def trainer_like_records(count: int, first: int = 1, layers: tuple[str, ...] = ("embedding", "core l0", "head"),
                         seed: int = 0) -> list[dict]:
    """Step records shaped as the trainer writes them (a 1-layer model has three norm groups)."""
    rng = random.Random(seed)
    out = []
    for step in range(first, first + count):
        norm = rng.lognormvariate(0, 1)
        out.append({"step": step, "loss": rng.uniform(1, 4), "grad_norm": norm, "grad_norm_clipped": min(norm, 1.0),
                    "clipped": norm > 1.0, "clip": "norm", "clip_threshold": 1.0,
                    "layer_norms": {name: rng.uniform(0, 2) for name in layers}, "lr": 0.002,
                    "tokens_per_s": rng.uniform(5e4, 6e4), "time": step * 0.02, "trains_by_gradient": True})
    return out


def test_pack_round_trips_every_shape():
    """Typed columns, non-finite values, keys missing from some records, lists, text and empty dicts."""
    records = trainer_like_records(5)
    records[1]["loss"] = math.nan
    records[2]["layer_norms"]["head"] = math.inf
    records[3]["sample"] = "a sample, with \"quotes\" and ünïcode"
    records[4]["gradient_flow"] = [0.1, math.nan, 3.0]
    records[0]["big"] = 2**70  # does not fit an int64 column
    records[2]["empty"] = {}
    expected = json.loads(json.dumps(records).replace("NaN", "null").replace("Infinity", "null"))
    layout, blob = packing.pack(records)
    assert packing.unpack(layout, blob) == expected
    kinds = dict(json.loads(layout))
    assert kinds["loss"] == "f" and kinds["step"] == "i" and kinds["clipped"] == "b" and kinds["clip"] == "s"
    assert kinds["layer_norms"].startswith("a:")  # per-layer norms are columns, not JSON re-parsed per point
    assert "sample" not in kinds and packing.REST in kinds


def test_store_reads_blocks_in_step_order_after_a_step(store, tiny_config):
    run_id = store.create_run(tiny_config())
    first, second = trainer_like_records(30), trainer_like_records(30, first=31, seed=1)
    store.append_metrics(run_id, "train", second)  # written out of order: read in step order
    store.append_metrics(run_id, "train", first)
    assert store.metrics(run_id) == first + second
    assert store.metrics(run_id, after_step=45) == second[15:]
    assert store.metrics(run_id, after_step=60) == []


OLD_SCHEMA = """
CREATE TABLE runs (id TEXT PRIMARY KEY, name TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL,
    status TEXT NOT NULL, config TEXT NOT NULL, step INTEGER NOT NULL DEFAULT 0, total_steps INTEGER NOT NULL DEFAULT 0,
    device TEXT NOT NULL DEFAULT '', pid INTEGER, message TEXT NOT NULL DEFAULT '', summary TEXT NOT NULL DEFAULT '{}');
CREATE TABLE metrics (run_id TEXT NOT NULL, kind TEXT NOT NULL, step INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE events (run_id TEXT NOT NULL, step INTEGER NOT NULL, time REAL NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL);
CREATE TABLE controls (run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (run_id, key));
"""


def test_an_older_store_of_json_rows_migrates_and_reads_the_same(tmp_path, tiny_config):
    root = tmp_path / "old"
    root.mkdir()
    cfg = tiny_config(name="from last year")
    steps = trainer_like_records(1200)  # more than one migrated block
    steps[7]["loss"] = None
    evals = [{"step": 600, "val_loss": 1.5, "gradient_flow": [0.5, 0.25], "sample": "hello"}]
    with sqlite3.connect(root / "playground.db") as db:
        db.executescript(OLD_SCHEMA)
        db.execute("INSERT INTO runs (id, name, created, updated, status, config, step, total_steps) VALUES "
                   "('old-run', 'from last year', 1.0, 2.0, 'completed', ?, 1200, 1200)", (cfg.to_json(),))
        db.executemany("INSERT INTO metrics VALUES ('old-run', ?, ?, ?)",
                       [("train", r["step"], json.dumps(r)) for r in reversed(steps)]
                       + [("eval", r["step"], json.dumps(r)) for r in evals])
    store = RunStore(root)
    record = store.get_run("old-run")
    assert (record.config, record.status, record.owner, record.executor) == (cfg, "completed", "", "local")
    assert store.metrics("old-run") == steps
    assert store.metrics("old-run", after_step=1100) == steps[1100:]
    assert store.metrics("old-run", "eval") == evals
    with sqlite3.connect(store.path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        blocks = db.execute("SELECT COUNT(*) FROM metric_blocks WHERE kind = 'train'").fetchone()[0]
    assert "metrics" not in tables and blocks == 3
    assert RunStore(root).metrics("old-run") == steps  # opening it again changes nothing


def test_a_recorded_step_of_a_one_layer_model_takes_at_most_150_bytes(store, tiny_config):
    """Flushes of 25 steps (half a second at 50 steps/s): the issue's target is 150 bytes a step."""
    run_id = store.create_run(tiny_config())
    total = 2000
    for first in range(1, total + 1, 25):
        store.append_metrics(run_id, "train", trainer_like_records(25, first=first, seed=first))
    per_step = store.metrics_bytes() / total
    assert per_step <= 150, f"{per_step:.0f} bytes a step"
    assert len(store.metrics(run_id)) == total


def test_a_finished_runs_flushes_are_compacted_into_full_blocks(store, tiny_config):
    from playground.runstore import runner

    run_id = store.create_run(tiny_config())
    records = trainer_like_records(1100)
    for first in range(0, 1100, 10):
        store.append_metrics(run_id, "train", records[first:first + 10])
    live_bytes = store.metrics_bytes()
    store.compact_metrics(run_id)
    assert store.metrics(run_id) == records and store.metrics(run_id, after_step=1000) == records[1000:]
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM metric_blocks WHERE run_id = ?", (run_id,)).fetchone()[0] == 3
    assert store.metrics_bytes() < 0.9 * live_bytes

    trained = store.create_run(tiny_config(train={"steps": 30}))
    runner.execute(store, trained, handle_signals=False)  # the runner compacts when a run ends
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM metric_blocks WHERE run_id = ? AND kind = 'train'",
                          (trained,)).fetchone()[0] == 1
    assert [r["step"] for r in store.metrics(trained)] == list(range(1, 31))
