"""Screenshots of every page at 1400 and 900 px with N finished runs, for looking at layouts.

    .venv/bin/python scripts/page_shots.py --runs 3 --out artifacts/shots
Seeds a fresh PLAYGROUND_HOME with N short runs (different cells, one with a long name, one diverged, the
third a 2-layer captioner),
serves the app there and saves full-page PNGs named PAGE-WIDTH.png.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "e2e")]

from playground.config import ModelConfig, RunConfig, TaskConfig, TrainConfig  # noqa: E402
from playground.runstore import runner  # noqa: E402
from playground.runstore.store import RunStore  # noqa: E402
from streamlit_server import chromium_page, running_server, wait_until_idle  # noqa: E402

ARCHS = ["lstm", "rnn-tanh", "gru", "esn", "rnn-relu", "lstm", "gru", "rnn-tanh", "lstm", "gru"]
PAGES = ["", "train", "train-captioning", "train-esn", "gradients", "inside", "compare", "data", "try"]


def seed(home: Path, count: int) -> list[str]:
    store = RunStore(home)
    ids = []
    for i in range(count):
        arch = ARCHS[i % len(ARCHS)]
        train = TrainConfig(steps=30, batch_size=4, seq_len=16, eval_every=10, seed=i)
        model = ModelConfig(arch=arch, hidden=16, embedding=8)
        name = "a rather long run name that goes on and on to test legends" if i == 1 else ""
        if arch == "rnn-relu":  # one that blows up
            model.init, train.optimizer, train.lr, train.clip = "identity", "sgd", 5.0, "none"
        task = TaskConfig(dataset="tiny", max_chars=6000)
        if i == 2:  # a 2-layer captioner: per-layer legends beside a char model's
            task = TaskConfig(name="captioning", dataset="shapes2", test_scenes=64)
            model.layers, model.attention = 2, "soft"
        cfg = RunConfig(task=task, model=model, train=train, name=name)
        run_id = store.create_run(cfg)
        runner.execute(store, run_id, handle_signals=False)
        ids.append(run_id)
    return ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default="artifacts/shots")
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--widths", default="1400,900")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="shots-"))
    ids = seed(home, args.runs)
    runs = "&".join(f"runs={i}" for i in ids)
    with running_server(home) as server:
        for width in (int(w) for w in args.widths.split(",")):
            with chromium_page(width, 1000) as page:
                page.set_default_timeout(90_000)
                for name in args.pages.split(","):
                    query = {"gradients": runs, "compare": runs, "train": f"run={ids[-1]}", "inside": f"model=run:{ids[0]}",
                             "train-captioning": f"run={ids[min(2, len(ids) - 1)]}",
                             "train-esn": f"run={ids[min(3, len(ids) - 1)]}"}.get(name, "")
                    page.goto(f"{server.url}/{name.split('-')[0]}?{query}")
                    wait_until_idle(page)
                    page.wait_for_timeout(1500)
                    # Streamlit scrolls its main block, not the document: make the window as tall as the content
                    tall = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
                    page.set_viewport_size({"width": width, "height": min(max(tall, 1000), 12000)})
                    page.wait_for_timeout(800)
                    path = out / f"{name or 'home'}-{width}.png"
                    page.screenshot(path=str(path))
                    page.set_viewport_size({"width": width, "height": 1000})
                    print(path)
    print("home:", home)


if __name__ == "__main__":
    main()
