"""The terminal's progress line for a training run (the CLI and the lab's commands use it)."""
from __future__ import annotations

import sys
import time

from ..train.trainer import Callback


class ProgressBar(Callback):
    """One self-rewriting line on stderr: step, loss, speed, ETA."""

    def __init__(self, total: int, stream=sys.stderr) -> None:
        self.total, self.stream, self.started, self.last = total, stream, time.monotonic(), 0.0

    def on_step(self, trainer, record):
        now = time.monotonic()
        if now - self.last < 0.2 and record["step"] != self.total:
            return
        self.last = now
        step = record["step"]
        done = int(30 * step / self.total)
        eta = (now - self.started) / step * (self.total - step)
        clip = " clipped" if record["clipped"] else ""
        self.stream.write(f"\r{step:>6}/{self.total} [{'#' * done}{'.' * (30 - done)}] loss {record['loss']:.3f} "
                          f"|g| {record['grad_norm']:.2f}{clip:8} {record['tokens_per_s']:,.0f} tok/s "
                          f"ETA {int(eta) // 60}:{int(eta) % 60:02d} ")
        self.stream.flush()

    def on_eval(self, trainer, record):
        metrics = ", ".join(f"{k} {record[k]:.3f}" for k in trainer.headline_keys if k in record)
        self.stream.write(f"\n  step {record['step']}: val loss {record['val_loss']:.3f} {metrics}\n")

    def on_end(self, trainer, result):
        self.stream.write(f"\n{result.status}: {result.steps} steps. {result.message}\n")
