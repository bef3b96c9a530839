"""Issue 11 in a real browser: markdown in a run's name and in an imported checkpoint's dataset name is
shown as text (no image is fetched), no page asks for anything outside the server (fonts, icons), and
the server listens on 127.0.0.1 unless told otherwise."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlparse

import pytest

from playground import models, tasks

from playground.runstore import checkpoint, runner
from playground.config import ModelConfig, RunConfig, TaskConfig, TrainConfig
from playground.runstore.store import RunStore
from streamlit_server import ROOT, chromium_page, free_port, running_server, wait_until_idle

RUN_NAME = "![b](http://example.invalid/run.png) **bold**"
DATASET_NAME = "![c](http://example.invalid/dataset.png)"


def _tiny(name: str = "") -> RunConfig:
    return RunConfig(task=TaskConfig(dataset="tiny", max_chars=6000), model=ModelConfig(hidden=16, embedding=8),
                     train=TrainConfig(steps=3, batch_size=4, seq_len=16, eval_every=1000), name=name)


def _prepare(home) -> str:
    store = RunStore(home)
    run_id = store.create_run(_tiny(RUN_NAME))
    runner.execute(store, run_id, handle_signals=False)
    cfg = _tiny()
    task = tasks.build(cfg.task)
    cfg.task.dataset = DATASET_NAME  # as an uploaded zip may say: the playground never wrote this, a file did
    checkpoint.save(home / "imported" / "evil", models.build(cfg.model, task.spec), cfg, task, step=3)
    return run_id


@pytest.mark.browser
def test_names_are_text_and_no_page_needs_the_internet(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    run_id = _prepare(home)
    outside: list[str] = []
    with running_server(home) as server, chromium_page(1400, 1400) as page:
        page.set_default_timeout(90_000)

        def watch(route):  # record and refuse anything not served by the app itself
            host = urlparse(route.request.url).hostname
            if host in ("127.0.0.1", "localhost"):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", watch)
        for path, shown in ((f"/train?run={run_id}", RUN_NAME), (f"/compare?runs={run_id}", RUN_NAME),
                            ("/try?model=imported:evil", DATASET_NAME), ("/", None), ("/data", None),
                            ("/gradients", None)):
            page.goto(server.url + path)
            wait_until_idle(page)
            time.sleep(1.0)  # images and fonts load after the script run ends
            if shown:
                assert page.get_by_text(shown, exact=False).count() >= 1, f"{path}: {shown!r} not shown as text"
            assert page.locator("img[src*='example.invalid']").count() == 0, f"{path} rendered an image"
    assert outside == [], f"pages asked for outside addresses: {outside}"


def _listening(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on `port` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                found.add(address)
    return found


def test_the_server_listens_on_localhost_by_default(tmp_path):
    port = free_port()
    env = {**os.environ, "PLAYGROUND_HOME": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    log = open(tmp_path / "streamlit.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).close()
                break
            except OSError:
                assert process.poll() is None, (tmp_path / "streamlit.log").read_text()
                time.sleep(0.3)
        assert _listening(port) == {"0100007F"}, f"listening on {_listening(port)} (0100007F is 127.0.0.1)"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)
        log.close()
