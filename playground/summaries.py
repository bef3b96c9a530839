"""Headline numbers of runs for lists and tables, whatever their task."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .history import RunHistory
from .store import RunRecord
from .tasks import HIGHER_IS_BETTER, METRIC_UNITS, TASKS


# Held-out scores of the decoder tasks, shown beside their headline metric (exact_match) when a run has them.
TASK_METRICS = ("exact_match", "token_accuracy", "word_accuracy", "bleu", "chrf", "colour_attention")
DECODER_TASKS = ("translation", "captioning")  # tasks whose models may have attention


def headline_metric(record: RunRecord) -> str:
    """The metric a run's task is judged by (bits_per_char for text, ...); val_loss if unknown."""
    task = TASKS.get(record.config.task.name)
    return task.headline_metric if task else "val_loss"


def metric_label(name: str) -> str:
    unit = METRIC_UNITS.get(name)
    pretty = name.replace("_", " ")
    better = "higher is better" if name in HIGHER_IS_BETTER else "lower is better"
    return f"{pretty} ({unit}, {better})" if unit and unit != name else f"{pretty} ({better})"


def baseline_loss(summary_or_eval: dict) -> float | None:
    """The loss of guessing uniformly (ln V), where the task reports it."""
    bits = summary_or_eval.get("uniform_bits_per_char")
    return bits * math.log(2) if isinstance(bits, (int, float)) else None


def summary_so_far(record: RunRecord, history: RunHistory) -> dict:
    """The run's summary, completed from its history while it still trains (the store writes
    the final summary only when a run ends)."""
    summary = dict(record.summary)
    if record.live or "train_loss" not in summary:
        losses = history.column("loss")[-20:]
        losses = losses[np.isfinite(losses)]
        speeds = history.column("tokens_per_s")[1:]  # the first step includes warming up
        speeds = speeds[np.isfinite(speeds)]
        summary.update({
            "train_loss": float(losses.mean()) if losses.size else None,
            "tokens_per_s": float(np.median(speeds)) if speeds.size else None,
            "seconds": history.elapsed() if history.steps else None,
            "clipped_steps": int(history.clipped().sum()),
            "steps": len(history.steps),
        })
        if history.evals:
            summary.update({k: v for k, v in history.evals[-1].items() if isinstance(v, (int, float)) and k != "step"})
    return summary


def run_row(record: RunRecord, history: RunHistory | None = None) -> dict:
    """One row of the Compare table."""
    cfg = record.config
    summary = summary_so_far(record, history) if history is not None else record.summary
    metric = headline_metric(record)
    seconds = summary.get("seconds")
    clipped = summary.get("clipped_steps")
    steps = summary.get("steps") or record.step
    return {
        "run": record.name,
        "id": record.id,
        "status": record.status,
        "architecture": cfg.model.arch,
        **({"attention": cfg.model.attention, "bidirectional": cfg.model.bidirectional}
           if cfg.task.name in DECODER_TASKS else {}),
        "layers × hidden": f"{cfg.model.layers} × {cfg.model.hidden}",
        "parameters": summary.get("parameters"),
        "dataset": cfg.task.dataset,
        "steps": record.step,
        "clip": "none" if cfg.train.clip == "none" else f"{cfg.train.clip} {cfg.train.clip_threshold:g}",
        "lr": cfg.train.lr,
        "train loss": summary.get("train_loss"),
        "val loss": summary.get("val_loss"),
        metric.replace("_", " "): summary.get(metric),
        **{name.replace("_", " "): summary[name] for name in TASK_METRICS if name != metric and name in summary},
        "clipped steps": clipped / steps if isinstance(clipped, int) and steps else None,
        "tokens/s": summary.get("tokens_per_s"),
        "time (s)": seconds,
        "device": record.device or summary.get("device", ""),
    }


def compare_frame(records: list[RunRecord], histories: dict[str, RunHistory] | None = None) -> pd.DataFrame:
    histories = histories or {}
    return pd.DataFrame([run_row(r, histories.get(r.id)) for r in records])
