"""How big the run store grows, and whether the pages stay quick when it holds a class's runs.

    python benchmarks/store_size.py [--runs 300] [--steps 2000] [--flush 25] [--no-browser] [--json out.json]

1. bytes per recorded step: the packed step metrics of a 1-layer model (records shaped as the trainer writes
   them, from a real short run), flushed `--flush` steps at a time (half a second at 50 steps/s), beside what
   the same records cost as JSON rows (the store before it packed them). Also the database file's size.
2. page render with `--runs` runs of `--steps` steps in the store, moving to each page with the top
   navigation of headless Chromium against a real server (median of 3; target < 1.5 s).

A benchmark, not a test: on a shared machine the render times move; the byte counts do not.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "e2e")]

from playground.config import ModelConfig, RunConfig, TaskConfig, TrainConfig  # noqa: E402
from playground.runstore import runner  # noqa: E402
from playground.runstore.store import RunStore, dumps  # noqa: E402

PAGES = {"home": "", "train": "train", "gradients": "gradients", "inside": "inside", "compare": "compare", "data": "data",
         "try": "try"}


def template_records(store: RunStore) -> tuple[list[dict], list[dict], RunConfig]:
    """A real 1-layer LSTM's step and eval records (a short run), to copy the shape of."""
    cfg = RunConfig(task=TaskConfig(dataset="tiny"), model=ModelConfig(arch="lstm", hidden=64, layers=1),
                    train=TrainConfig(steps=40, batch_size=16, seq_len=32, eval_every=20, threads=1))
    run_id = store.create_run(cfg)
    runner.execute(store, run_id, handle_signals=False)
    return store.metrics(run_id), store.metrics(run_id, "eval"), cfg


def jitter(record: dict, step: int, rng: random.Random) -> dict:
    """The template record at another step, its measured values moved a little (real runs do not repeat)."""
    out = {}
    for key, value in record.items():
        if isinstance(value, float):
            out[key] = value * rng.uniform(0.9, 1.1)
        elif isinstance(value, dict):
            out[key] = {k: v * rng.uniform(0.9, 1.1) if isinstance(v, float) else v for k, v in value.items()}
        else:
            out[key] = value
    out["step"] = step
    return out


def fill(store: RunStore, runs: int, steps: int, flush: int, steps_template: list[dict], evals_template: list[dict],
         cfg: RunConfig, eval_every: int = 100, compact: bool = True) -> list[str]:
    rng = random.Random(0)
    ids = []
    for n in range(runs):
        run_id = store.create_run(cfg, owner=f"student {n % 30}")
        store.append_metric_blocks(run_id, "train", [  # each block as one flush of the trainer writes it
            [jitter(steps_template[(s - 1) % len(steps_template)], s, rng) for s in range(first, min(first + flush, steps + 1))]
            for first in range(1, steps + 1, flush)])
        for s in range(eval_every, steps + 1, eval_every):  # one evaluation at a time, as the trainer writes them
            store.append_metrics(run_id, "eval", [jitter(evals_template[-1], s, rng)])
        if compact:
            store.compact_metrics(run_id)  # as the runner does when a run ends
        store.update_run(run_id, status="completed", step=steps, summary={"steps": steps, "train_loss": 1.5,
                                                                          "bits_per_char": 2.0 + rng.random()})
        ids.append(run_id)
    return ids


def bytes_per_step(store: RunStore, steps_template: list[dict], cfg: RunConfig, steps: int, flush: int,
                   compact: bool) -> float:
    before = store.metrics_bytes()
    fill(store, 1, steps, flush, steps_template, [{"step": 1}], cfg, eval_every=steps + 1, compact=compact)
    return (store.metrics_bytes() - before) / steps


def measure(runs: int, steps: int, flush: int, browser: bool) -> dict:
    home = Path(tempfile.mkdtemp(prefix="playground-store-"))
    os.environ["PLAYGROUND_HOME"] = str(home)
    store = RunStore(home)
    steps_template, evals_template, cfg = template_records(store)
    results = {"flush": flush,
               "live_bytes_per_step": bytes_per_step(store, steps_template, cfg, steps, flush, compact=False),
               "finished_bytes_per_step": bytes_per_step(store, steps_template, cfg, steps, flush, compact=True),
               "worst_case_bytes_per_step_flush_1": bytes_per_step(store, steps_template, cfg, 200, 1, compact=False),
               "json_row_bytes_per_step": statistics.fmean(len(dumps(r)) + 40 for r in steps_template)}  # + id, kind, step
    started = time.perf_counter()
    fill(store, runs, steps, flush, steps_template, evals_template, cfg)
    results["fill_seconds"] = time.perf_counter() - started
    results["runs"], results["steps"] = runs, steps
    import sqlite3
    with sqlite3.connect(store.path) as db:  # fold the write-ahead log into the file before weighing it
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    results["database_mb"] = store.path.stat().st_size / 1e6
    results["database_bytes_per_step"] = store.path.stat().st_size / (runs * steps)
    started = time.perf_counter()
    newest = store.list_runs(limit=1)[0].id
    store.metrics(newest)
    results["read_one_run_s"] = time.perf_counter() - started
    if browser:
        from app_responsiveness import navigation_seconds, render_seconds
        from streamlit_server import chromium_page, running_server

        with running_server(home) as server, chromium_page(1500, 1200) as tab:
            for path in PAGES.values():
                render_seconds(tab, f"{server.url}/{path}")
            moves = {name: [] for name in PAGES}
            for _ in range(3):
                for name in PAGES:
                    moves[name].append(navigation_seconds(tab, name))
        results["render_s"] = {name: statistics.median(times) for name, times in moves.items()}
    return results


def report(r: dict) -> str:
    lines = [f"Bytes per recorded step, 1-layer LSTM (target <= 150): {r['live_bytes_per_step']:.0f} while it trains "
             f"(flushes of {r['flush']}), {r['finished_bytes_per_step']:.0f} once finished (compacted), against "
             f"{r['json_row_bytes_per_step']:.0f} as JSON rows",
             f"  worst case, one step a flush: {r['worst_case_bytes_per_step_flush_1']:.0f} bytes while it trains",
             f"Store with {r['runs']} runs x {r['steps']:,} steps: database {r['database_mb']:.1f} MB "
             f"({r['database_bytes_per_step']:.0f} bytes a step, evaluations, runs and SQLite's pages included) "
             f"(filled in {r['fill_seconds']:.0f} s); one run's steps read in {r['read_one_run_s'] * 1000:.0f} ms"]
    if "render_s" in r:
        lines.append("Page render by the top navigation, median of 3 (target < 1.5 s):")
        lines += [f"  {name:10} {seconds:6.2f} s" for name, seconds in r["render_s"].items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--flush", type=int, default=25, help="steps per flush (the trainer flushes every 0.5 s)")
    parser.add_argument("--no-browser", action="store_true", help="sizes only, no page renders")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = measure(args.runs, args.steps, args.flush, not args.no_browser)
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
