"""Start `streamlit run app.py` on a free port for a browser test or a benchmark, and stop it after.

Also launches Debian's Chromium through Playwright (its own browser download cannot work offline).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StreamlitServer:
    def __init__(self, home: Path, port: int | None = None, extra_args: list[str] = ()) -> None:
        self.home, self.port = Path(home), port or free_port()
        self.extra_args = list(extra_args)  # more `streamlit run` options (--secrets.files FILE, ...)
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log = self.home / "streamlit.log"

    def start(self, timeout: float = 60) -> "StreamlitServer":
        self.home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PLAYGROUND_HOME": str(self.home), "PYTHONUNBUFFERED": "1",
               "PLAYGROUND_WARM_START": "1"}  # as a user's server runs: a spare training process waits
        command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
                   "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false", *self.extra_args]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise TimeoutError(f"streamlit did not answer within {timeout} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # its own session: the server and nothing else
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far (from /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def running_server(home: Path, extra_args: list[str] = ()):
    server = StreamlitServer(home, extra_args=extra_args).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def chromium_page(width: int = 1500, height: int = 1000):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            yield context.new_page()  # page.context.new_page() opens more tabs of the same size
        finally:
            browser.close()


def wait_until_idle(page, timeout_ms: int = 60_000, selector: str = "[data-testid='stMain'] h1") -> None:
    """Wait until the page has drawn (its title is there), Streamlit's script run has finished (the
    app root reports `notRunning`; a polling fragment leaves such gaps every second) and no widget
    is still a loading placeholder."""
    page.wait_for_selector(selector, timeout=timeout_ms)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout_ms)
    # widgets' code loads lazily: placeholders stand in until it has arrived
    page.wait_for_function("() => !document.querySelector(\"[data-testid^='stSkeleton']\")", timeout=timeout_ms)
