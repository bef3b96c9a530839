"""A class watching: N real websocket sessions against `streamlit run app.py` while 2 runs train.

    python benchmarks/classroom_load.py [--sessions 30] [--window 30] [--json out.json]

Each session is a small websocket client that speaks Streamlit's own protocol, as a browser tab does
(without drawing): it opens a page, and while that page polls a live run it sends the fragment reruns the
server asks for (`auto_rerun`, every 1-2 s). Every ~8 s it moves to another page (Train watching one of the
two runs, Compare, Home, Gradients), as students click around. Measured:
  - page render: from asking for a page to the server's `script_finished` (p50 / p95 over all moves);
    a browser adds its own drawing on top (benchmarks/app_responsiveness.py measures that for one tab)
  - fragment polls: the same for each fragment rerun
  - server CPU (% of one core) and resident memory while the class watches
  - the training slowdown: the 2 runs' tokens/s with nobody watching, with the class, and nobody again

A benchmark, not a test: on a machine shared with other work the figures move; compare runs taken back to back.
"""
from __future__ import annotations

import argparse
import asyncio
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

import websockets  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from playground.config import ModelConfig, RunConfig, TaskConfig, TrainConfig  # noqa: E402
from playground.runstore import jobs, runner  # noqa: E402
from playground.runstore.store import LIVE, RunStore  # noqa: E402
from streamlit_server import running_server  # noqa: E402

TRAINING = RunConfig(name="class benchmark", task=TaskConfig(dataset="tiny"), model=ModelConfig(arch="lstm", hidden=64),
                     train=TrainConfig(steps=1_000_000, batch_size=16, seq_len=64, eval_every=100, threads=1))
MOVE_SECONDS = 8.0


def seed_runs(store: RunStore) -> None:
    """Two finished runs, so Compare and Gradients have something to draw."""
    for arch in ("lstm", "gru"):
        cfg = RunConfig(task=TaskConfig(dataset="tiny"), model=ModelConfig(arch=arch, hidden=32),
                        train=TrainConfig(steps=60, eval_every=20))
        runner.execute(store, store.create_run(cfg), handle_signals=False)


def rerun(page: str, query: str, fragment: str = "") -> bytes:
    msg = BackMsg()
    msg.rerun_script.page_name = page
    msg.rerun_script.query_string = query
    if fragment:
        msg.rerun_script.fragment_id = fragment
        msg.rerun_script.is_auto_rerun = True
    return msg.SerializeToString()


async def student(url: str, destinations: list[tuple[str, str]], until: float, renders: list, polls: list,
                  seed: int) -> None:
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, 2))  # the class does not click in lockstep
    async with websockets.connect(url, subprotocols=["streamlit"], max_size=None, open_timeout=60) as ws:
        page, query = rng.choice(destinations)
        fragments: dict[str, float] = {}  # fragment id -> interval, as the server asked
        due: dict[str, float] = {}
        asked, asked_kind = time.perf_counter(), "page"
        await ws.send(rerun(page, query))
        moved = time.monotonic()
        while time.monotonic() < until:
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=0.2)
            except asyncio.TimeoutError:
                raw = None
            if raw is not None:
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                kind = msg.WhichOneof("type")
                if kind == "auto_rerun":
                    fragments[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
                    due.setdefault(msg.auto_rerun.fragment_id, time.monotonic() + msg.auto_rerun.interval)
                elif kind == "stop_auto_rerun":
                    fragments.clear()
                    due.clear()
                elif kind == "script_finished" and asked is not None:
                    (renders if asked_kind == "page" else polls).append(time.perf_counter() - asked)
                    asked = None
            if asked is not None:
                continue  # one request at a time, as the frontend does
            now = time.monotonic()
            if now - moved > MOVE_SECONDS:
                page, query = rng.choice(destinations)
                fragments.clear()
                due.clear()
                asked, asked_kind, moved = time.perf_counter(), "page", now
                await ws.send(rerun(page, query))
                continue
            for fragment, when in list(due.items()):
                if when <= now:
                    due[fragment] = now + fragments[fragment]
                    asked, asked_kind = time.perf_counter(), "poll"
                    await ws.send(rerun(page, query, fragment))
                    break


async def classroom(url: str, destinations: list[tuple[str, str]], sessions: int, seconds: float) -> tuple[list, list]:
    renders, polls = [], []
    until = time.monotonic() + seconds
    await asyncio.gather(*(student(url, destinations, until, renders, polls, seed) for seed in range(sessions)))
    return renders, polls


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def tokens_per_s(store: RunStore, run_ids: list[str], seconds: float) -> float:
    """The runs' combined tokens/s over the next `seconds` (steps completed, evaluations included)."""
    firsts = {run_id: store.get_run(run_id).step for run_id in run_ids}
    time.sleep(seconds)
    total = 0.0
    for run_id in run_ids:
        records = store.metrics(run_id, "train", after_step=firsts[run_id])
        elapsed = records[-1]["time"] - records[0]["time"] if len(records) > 1 else 0
        total += (len(records) - 1) * TRAINING.train.batch_size * TRAINING.train.seq_len / elapsed if elapsed > 0 else 0
    return total


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) >= 2 else (values[0] if values else float("nan"))


def measure(sessions: int, window: float) -> dict:
    home = Path(tempfile.mkdtemp(prefix="playground-class-"))
    os.environ["PLAYGROUND_HOME"] = str(home)
    store = RunStore(home)
    seed_runs(store)
    results: dict = {"sessions": sessions}
    with running_server(home) as server:
        url = server.url.replace("http://", "ws://") + "/_stcore/stream"
        asyncio.run(classroom(url, [("", ""), ("train", "")], 2, 10))  # warm up imports and caches
        run_ids = [jobs.start(store, TRAINING) for _ in range(2)]
        try:
            deadline = time.monotonic() + 120
            while min(store.get_run(r).step for r in run_ids) < 20:
                if time.monotonic() > deadline:
                    raise TimeoutError("the benchmark's runs did not start training")
                time.sleep(0.5)
            results["alone_tokens_per_s"] = tokens_per_s(store, run_ids, window)
            destinations = [("train", f"run={run_ids[0]}"), ("train", f"run={run_ids[1]}"), ("compare", ""),
                            ("", ""), ("gradients", "")]
            cpu_before, started = server.cpu_seconds(), time.perf_counter()
            firsts = {run_id: store.get_run(run_id).step for run_id in run_ids}
            renders, polls = asyncio.run(classroom(url, destinations, sessions, window))
            elapsed = time.perf_counter() - started
            results["server_cpu_percent"] = 100 * (server.cpu_seconds() - cpu_before) / elapsed
            results["server_rss_mb"] = rss_mb(server.process.pid)
            watched = 0.0
            for run_id in run_ids:
                records = store.metrics(run_id, "train", after_step=firsts[run_id])
                span = records[-1]["time"] - records[0]["time"] if len(records) > 1 else 0
                watched += (len(records) - 1) * TRAINING.train.batch_size * TRAINING.train.seq_len / span if span > 0 else 0
            results["watched_tokens_per_s"] = watched
            results["alone_again_tokens_per_s"] = tokens_per_s(store, run_ids, window)
            results["renders"], results["polls"] = len(renders), len(polls)
            results["render_p50_s"], results["render_p95_s"] = statistics.median(renders), percentile(renders, 95)
            results["poll_p50_s"] = statistics.median(polls) if polls else float("nan")
            results["poll_p95_s"] = percentile(polls, 95) if polls else float("nan")
        finally:
            for run_id in run_ids:
                jobs.stop(store, run_id)
            deadline = time.monotonic() + 30
            while store.list_runs(LIVE) and time.monotonic() < deadline:
                time.sleep(0.5)
    alone = statistics.fmean([results["alone_tokens_per_s"], results["alone_again_tokens_per_s"]])
    results["slowdown_percent"] = 100 * (1 - results["watched_tokens_per_s"] / alone) if alone else float("nan")
    return results


def report(r: dict) -> str:
    return "\n".join([
        f"{r['sessions']} websocket sessions watching while 2 runs train ({r['renders']} page moves, {r['polls']} fragment polls):",
        f"  page render (request -> script finished): p50 {r['render_p50_s']:.2f} s, p95 {r['render_p95_s']:.2f} s",
        f"  fragment poll:                            p50 {r['poll_p50_s']:.2f} s, p95 {r['poll_p95_s']:.2f} s",
        f"  server CPU {r['server_cpu_percent']:.0f} % of a core, resident memory {r['server_rss_mb']:.0f} MB",
        f"Training, 2 runs together: {r['alone_tokens_per_s']:,.0f} tokens/s alone, {r['watched_tokens_per_s']:,.0f} watched, "
        f"{r['alone_again_tokens_per_s']:,.0f} alone again: slowdown {r['slowdown_percent']:.0f} %",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--window", type=float, default=30.0, help="seconds per measurement")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = measure(args.sessions, args.window)
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
