"""Issue 15 in a real browser, at 1400 and at 900 pixels: the paths a newcomer takes work first time.

Data -> "Train on X" trains on X (also when Data was opened by a link); a file without a .txt extension uploads
and trains; a refused file says why in the page itself; Train opened on a run shows that run's settings;
the headline numbers are not cut; no request leaves localhost. Screenshots go to artifacts/e2e/."""
from __future__ import annotations

import time
from urllib.parse import urlparse

import pytest

from playground.data.uploads import MIN_CHARACTERS
from playground.runstore.store import RunStore
from streamlit_server import ROOT, chromium_page, running_server, wait_until_idle
from test_browser import stop_runs

SHOTS = ROOT / "artifacts" / "e2e"
LICENCE = ("The licenses for most software are designed to take away your freedom to share and change it. "
           * (MIN_CHARACTERS // 90 + 20)).encode()
# the headline numbers: none cut short ("0…") at this width
CUT_NUMBERS = """() => [...document.querySelectorAll("[data-testid='stMetricValue']")]
  .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.innerText)"""


def _watch_outside(page, outside: list[str]) -> None:
    def route(route):  # record and refuse anything the app does not serve itself
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()
    page.route("**/*", route)


def _newest_run(home, after: set[str], timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh = [r for r in RunStore(home).list_runs() if r.id not in after]
        if fresh:
            return fresh[0]
        time.sleep(0.3)
    raise AssertionError("no run started")


def _shot(page, name: str, width: int) -> None:
    tall = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": width, "height": min(max(tall, 900), 8000)})
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), timeout=90_000)
    page.set_viewport_size({"width": width, "height": 1000})


def _form_dataset(page) -> str:
    page.get_by_role("heading", name="Train").first.wait_for()
    wait_until_idle(page)
    return page.locator("[data-testid='stSidebar']").get_by_label("Dataset", exact=True).input_value()


@pytest.mark.browser
def test_a_newcomers_paths_at_1400_and_900_pixels(tmp_path):
    home = tmp_path / "home"
    SHOTS.mkdir(parents=True, exist_ok=True)
    outside: list[str] = []
    trained = None
    try:
        with running_server(home) as server:
            for width, dataset in ((1400, "pydoc"), (900, "stdlib")):
                with chromium_page(width, 1000) as page:
                    page.set_default_timeout(90_000)
                    _watch_outside(page, outside)

                    # Data opened by a link, then "Train on X": Train is set up for X (it once fell back to tiny)
                    page.goto(f"{server.url}/data?dataset={dataset}")
                    wait_until_idle(page)
                    page.get_by_role("link", name=f"Train on {dataset}").click()
                    assert _form_dataset(page) == dataset, f"{width}px"

                    # an upload without .txt is taken by its content; a refusal is said in the page
                    page.goto(f"{server.url}/data")
                    wait_until_idle(page)
                    name = f"GPL-{width}"
                    uploader = page.locator("[data-testid='stFileUploaderDropzoneInput']").first
                    uploader.set_input_files({"name": name, "mimeType": "application/octet-stream",
                                              "buffer": LICENCE + str(width).encode()})
                    page.get_by_text(f"as dataset gpl-{width}").wait_for()
                    uploader.set_input_files({"name": "picture.png", "mimeType": "image/png",
                                              "buffer": b"\x89PNG\r\n\x1a\n\x00\x00binary"})
                    refusal = page.locator("[data-testid='stAlertContentError']").filter(has_text="picture.png")
                    refusal.wait_for()
                    assert "binary" in refusal.inner_text()  # the reason, in the page, not a tooltip on a chip
                    _shot(page, "newcomer-data", width)
                    page.get_by_role("link", name=f"Train on gpl-{width}").click()
                    assert _form_dataset(page) == f"gpl-{width}", f"{width}px"

                    if trained is None:  # one run for both widths: it trains on the extension-less upload
                        before = {r.id for r in RunStore(home).list_runs()}
                        page.get_by_role("button", name="Start training").click()
                        trained = _newest_run(home, before)
                        deadline = time.monotonic() + 120
                        while RunStore(home).get_run(trained.id).step < 1 and time.monotonic() < deadline:
                            time.sleep(0.5)
                        assert RunStore(home).get_run(trained.id).step >= 1, "the upload did not train"
                        assert trained.config.task.dataset == "gpl-1400"
                        stop_runs(home)

                    # Train opened on that run shows its settings; its numbers read at this width
                    page.goto(f"{server.url}/train?run={trained.id}")
                    assert _form_dataset(page) == "gpl-1400", f"{width}px: the form shows another dataset"
                    page.get_by_text("Stopped at step").wait_for()
                    assert page.evaluate(CUT_NUMBERS) == [], f"{width}px: numbers cut"
                    _shot(page, "newcomer-train", width)
                    if width == 900:  # the narrow width is where layouts break: every other page, no error box
                        for path in ("", "gradients", "compare", "try"):
                            page.goto(f"{server.url}/{path}?runs={trained.id}")
                            wait_until_idle(page)
                            assert page.locator("[data-testid='stException']").count() == 0, f"/{path}"
                            _shot(page, f"newcomer-{path or 'home'}", width)
    finally:
        stop_runs(home)
    assert outside == [], f"pages asked for outside addresses: {outside}"
