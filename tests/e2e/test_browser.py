"""End to end in headless Chromium: start the server, open Train, train a tiny LSTM, watch the loss
chart update, stop the run, find it on Compare. Screenshots go to artifacts/e2e/."""
from __future__ import annotations

import time

import pytest

from playground.runstore import jobs
from playground.runstore.store import LIVE, RunStore
from streamlit_server import ROOT, chromium_page, running_server, wait_until_idle

TINY_LSTM = "arch=lstm&hidden=16&embedding=8&batch=8&seq_len=16&eval_every=5&steps=100000"
SHOTS = ROOT / "artifacts" / "e2e"
# How many points the live loss chart's train-loss trace holds. Plotly keeps numpy data as base64
# typed arrays ({dtype, bdata}); Streamlit's theme wraps the title in <b>.
LOSS_POINTS = """() => {
  const chart = [...document.querySelectorAll('.js-plotly-plot')]
    .find(el => (el.layout?.title?.text || '').includes('Loss'));
  const x = chart?.data?.[0]?.x;
  if (!x) return 0;
  if (x.bdata) return atob(x.bdata).length / ({f8: 8, f4: 4, i4: 4, u4: 4, i2: 2, u2: 2}[x.dtype] || 1);
  return x.length;
}"""


def stop_runs(home) -> None:
    store = RunStore(home)
    for record in store.list_runs(LIVE):
        jobs.stop(store, record.id)
    deadline = time.monotonic() + 30
    while store.list_runs(LIVE) and time.monotonic() < deadline:
        time.sleep(0.3)


@pytest.mark.browser
def test_train_watch_stop_and_compare_in_chromium(tmp_path):
    home = tmp_path / "home"
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with running_server(home) as server, chromium_page(1500, 1800) as page:
            page.set_default_timeout(90_000)
            page.goto(f"{server.url}/train?{TINY_LSTM}")
            wait_until_idle(page)
            page.get_by_role("button", name="Start training").click()

            # the loss chart appears and keeps growing while the run trains
            page.wait_for_function(f"({LOSS_POINTS})() >= 5", polling=500)
            first = page.evaluate(LOSS_POINTS)
            page.wait_for_function(f"({LOSS_POINTS})() > {first}", polling=500)
            page.screenshot(path=str(SHOTS / "train-live.png"), timeout=90_000)

            page.get_by_role("button", name="Stop").click()
            page.get_by_text("Stopped at step").wait_for()
            runs = RunStore(home).list_runs()
            assert len(runs) == 1 and runs[0].status == "stopped" and runs[0].step > first

            page.get_by_role("link", name="Compare").first.click()
            page.get_by_role("heading", name="Compare").wait_for()
            wait_until_idle(page)
            page.get_by_text("lstm 1x16 on char:tiny").first.wait_for()  # picked by default: the latest run
            page.get_by_text("Samples side by side").wait_for()
            page.screenshot(path=str(SHOTS / "compare.png"), timeout=90_000)
    finally:
        stop_runs(home)
