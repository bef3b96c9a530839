"""Does the Inside page slow a run it watches? A training run's tokens/s alone, with the Inside page open on it
(re-reading each new checkpoint through the model and polling its evaluations), and alone again.

    python benchmarks/inside_live.py [--window 30] [--json out.json]

Target: at most 10 % slower with the page open (the app's budget). The page computes in the server's process
(a trace per new checkpoint, never inside the training process). Measured side by side; on a machine shared with
other work the figures move.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "e2e"), str(ROOT / "benchmarks")]

from app_responsiveness import TIMED_RUN, training_speed, wait_until_training  # noqa: E402
from playground.runstore import checkpoint, jobs  # noqa: E402
from playground.runstore.store import LIVE, RunStore  # noqa: E402
from streamlit_server import chromium_page, running_server, wait_until_idle  # noqa: E402

# checkpoints every 100 steps (a few seconds apart): the page re-reads each one, the worst case for this budget
WATCHED_RUN = dataclasses.replace(TIMED_RUN, train=dataclasses.replace(TIMED_RUN.train, checkpoint_every=100))


def measure(window: float) -> dict:
    home = Path(tempfile.mkdtemp(prefix="playground-inside-"))
    os.environ["PLAYGROUND_HOME"] = str(home)
    store = RunStore(home)
    results: dict = {}
    with running_server(home) as server, chromium_page(1400, 1200) as browser:
        run_id = jobs.start(store, WATCHED_RUN)
        try:
            wait_until_training(store, run_id)
            while not (store.checkpoint_dir(run_id) / checkpoint.META).is_file():
                time.sleep(0.5)
            results["no_browser"] = training_speed(store, run_id, window)
            browser.goto(f"{server.url}/inside?model=run:{run_id}")
            wait_until_idle(browser, timeout_ms=120_000)
            before = server.cpu_seconds()
            results["inside_page_open"] = training_speed(store, run_id, window)
            results["server_cpu_percent"] = 100 * (server.cpu_seconds() - before) / window
            browser.goto("about:blank")
            results["no_browser_again"] = training_speed(store, run_id, window)
        finally:
            jobs.stop(store, run_id)
            deadline = time.monotonic() + 30
            while store.list_runs(LIVE) and time.monotonic() < deadline:
                time.sleep(0.5)
    baseline = statistics.fmean([results["no_browser"]["effective_tokens_per_s"],
                                 results["no_browser_again"]["effective_tokens_per_s"]])
    results["slowdown_percent"] = 100 * (1 - results["inside_page_open"]["effective_tokens_per_s"] / baseline)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--window", type=float, default=30, help="seconds per measurement")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = measure(args.window)
    for key in ("no_browser", "inside_page_open", "no_browser_again"):
        print(f"{key:18} {results[key]['effective_tokens_per_s']:9,.0f} tokens/s overall")
    print(f"server CPU with the Inside page open: {results['server_cpu_percent']:.1f} % of a core")
    print(f"slowdown by the open Inside page (target <= 10 %): {results['slowdown_percent']:.1f} %")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
