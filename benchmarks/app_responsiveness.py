"""How the app feels, measured in headless Chromium against a real `streamlit run app.py`.

    python benchmarks/app_responsiveness.py [--window 20] [--json out.json]

1. warm page render, once the server is warm: moving to each page with the top navigation (what a
   user does), and opening it in a fresh tab (which also boots Streamlit's frontend), until its
   title is drawn, the script run has finished and no widget is a placeholder (median of 3)
2. server CPU while a page sits idle (Train, nothing training), in % of one core
3. a training run's tokens/s with no browser, then with the Train page open and polling it, and
   the server's CPU meanwhile

Targets: warm render < 1.5 s, idle CPU < 5 % of a core, training slowed by at most 10 %. This is a
benchmark, not a test: on a machine shared with other work the figures move; compare runs taken
back to back.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "e2e")]

from playground.runstore import jobs, runner  # noqa: E402
from playground.config import ModelConfig, RunConfig, TaskConfig, TrainConfig  # noqa: E402
from playground.runstore.store import LIVE, RunStore  # noqa: E402
from streamlit_server import chromium_page, running_server, wait_until_idle  # noqa: E402

PAGES = {"home": "", "train": "train", "gradients": "gradients", "inside": "inside", "compare": "compare", "data": "data",
         "try": "try"}
TITLES = {"home": "Sequence Playground", "train": "Train", "gradients": "Gradients", "inside": "Inside the model",
          "compare": "Compare", "data": "Data", "try": "Try"}  # each page's h1
# The run whose speed is compared: the default char LSTM, long enough to outlast both windows.
TIMED_RUN = RunConfig(name="benchmark LSTM", task=TaskConfig(dataset="tiny"), model=ModelConfig(arch="lstm", hidden=128),
                      train=TrainConfig(steps=1_000_000, batch_size=32, seq_len=64, eval_every=100))


def seed_runs(store: RunStore) -> None:
    """Two short finished runs, so Compare, Gradients and Try have something to draw."""
    for arch in ("lstm", "rnn-tanh"):
        cfg = RunConfig(task=TaskConfig(dataset="tiny"), model=ModelConfig(arch=arch, hidden=64),
                        train=TrainConfig(steps=100, eval_every=20))
        runner.execute(store, store.create_run(cfg), handle_signals=False)


def render_seconds(browser_page, url: str) -> float:
    started = time.perf_counter()
    browser_page.goto(url)
    wait_until_idle(browser_page)
    return time.perf_counter() - started


def navigation_seconds(browser_page, name: str) -> float:
    """Click the page's link in the top navigation; wait until its title is drawn and the run is over."""
    started = time.perf_counter()
    browser_page.get_by_role("link", name=name.capitalize(), exact=True).first.click()
    wait_until_idle(browser_page, selector=f"[data-testid='stMain'] h1:has-text('{TITLES[name]}')")
    return time.perf_counter() - started


def cpu_percent(server, seconds: float) -> float:
    before, started = server.cpu_seconds(), time.perf_counter()
    time.sleep(seconds)
    return 100 * (server.cpu_seconds() - before) / (time.perf_counter() - started)


def training_speed(store: RunStore, run_id: str, seconds: float) -> dict:
    """Tokens/s over the next `seconds`: per step as the trainer measures it (median), and overall
    (steps completed in the window, evaluations included)."""
    first = store.get_run(run_id).step
    time.sleep(seconds)
    records = store.metrics(run_id, "train", after_step=first)
    if len(records) < 2:
        return {"median_tokens_per_s": 0.0, "effective_tokens_per_s": 0.0}
    tokens = TIMED_RUN.train.batch_size * TIMED_RUN.train.seq_len
    elapsed = records[-1]["time"] - records[0]["time"]
    return {"median_tokens_per_s": statistics.median(r["tokens_per_s"] for r in records),
            "effective_tokens_per_s": (len(records) - 1) * tokens / elapsed if elapsed > 0 else 0.0}


def wait_until_training(store: RunStore, run_id: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while store.get_run(run_id).step < 20:
        if time.monotonic() > deadline:
            raise TimeoutError(f"run {run_id} did not start training: {store.get_run(run_id).message}")
        time.sleep(0.5)


def measure(window: float) -> dict:
    home = Path(tempfile.mkdtemp(prefix="playground-bench-"))
    os.environ["PLAYGROUND_HOME"] = str(home)
    store = RunStore(home)
    seed_runs(store)
    results: dict = {}
    with running_server(home) as server, chromium_page(1500, 1200) as browser:
        for path in PAGES.values():  # warm up: imports, caches, the browser's code for each widget
            render_seconds(browser, f"{server.url}/{path}")
        moves = {name: [] for name in PAGES}
        for _ in range(3):
            for name in PAGES:  # each page reached from the one before it, as a user clicks through
                moves[name].append(navigation_seconds(browser, name))
        results["warm_render_s"] = {name: statistics.median(times) for name, times in moves.items()}
        renders = {}
        for name, path in PAGES.items():
            times = []
            for _ in range(3):
                tab = browser.context.new_page()
                times.append(render_seconds(tab, f"{server.url}/{path}"))
                tab.close()
            renders[name] = statistics.median(times)
        results["fresh_tab_s"] = renders

        idle_tab = browser  # the Train page, open, with nothing training
        render_seconds(idle_tab, f"{server.url}/train")
        results["idle_cpu_percent"] = cpu_percent(server, window)

        run_id = jobs.start(store, TIMED_RUN)
        try:
            idle_tab.goto("about:blank")  # no page of the app open: the run alone
            wait_until_training(store, run_id)
            results["no_browser"] = training_speed(store, run_id, window)
            render_seconds(idle_tab, f"{server.url}/train?run={run_id}")
            before = server.cpu_seconds()
            results["train_page_open"] = training_speed(store, run_id, window)
            results["training_cpu_percent"] = 100 * (server.cpu_seconds() - before) / window
            idle_tab.goto("about:blank")  # and the run alone once more: the machine's load drifts
            results["no_browser_again"] = training_speed(store, run_id, window)
        finally:
            jobs.stop(store, run_id)
            deadline = time.monotonic() + 30
            while store.list_runs(LIVE) and time.monotonic() < deadline:
                time.sleep(0.5)
    baseline = statistics.fmean([results["no_browser"]["effective_tokens_per_s"],
                                 results["no_browser_again"]["effective_tokens_per_s"]])
    results["slowdown_percent"] = 100 * (1 - results["train_page_open"]["effective_tokens_per_s"] / baseline)
    return results


def report(results: dict) -> str:
    lines = ["Warm page render, median of 3 (target < 1.5 s):   by the top navigation   in a fresh tab"]
    lines += [f"  {name:10} {seconds:40.2f} s {results['fresh_tab_s'][name]:14.2f} s"
              for name, seconds in results["warm_render_s"].items()]
    lines.append(f"Server CPU, Train page open, nothing training (target < 5 %): {results['idle_cpu_percent']:.1f} % of a core")
    lines.append(f"Server CPU, Train page polling a live run:                    {results['training_cpu_percent']:.1f} % of a core")
    for key, title in (("no_browser", "no browser"), ("train_page_open", "Train page open"),
                       ("no_browser_again", "no browser again")):
        r = results[key]
        lines.append(f"Training, {title:17} {r['effective_tokens_per_s']:9,.0f} tokens/s overall, "
                     f"{r['median_tokens_per_s']:9,.0f} per step (median)")
    lines.append(f"Slowdown by the open page (target <= 10 %): {results['slowdown_percent']:.1f} %")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--window", type=float, default=20.0, help="seconds per CPU and speed measurement")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    results = measure(args.window)
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
