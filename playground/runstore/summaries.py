"""Headline numbers of runs for lists and tables, whatever their task."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .history import RunHistory, recent_train_loss
from .store import RunRecord
from ..tasks import TASK_SPECS, MetricSpec, TaskSpec

VAL_LOSS = MetricSpec("val_loss", "validation loss", "loss", False)  # what a run of an unknown task is judged by


def task_of(record: RunRecord) -> TaskSpec | None:
    return TASK_SPECS.get(record.config.task.name)


def headline_metric(record: RunRecord) -> str:
    """The metric a run's task is judged by (bits_per_char for text, ...); val_loss if unknown."""
    return headline_spec(record).name


def headline_spec(record: RunRecord) -> MetricSpec:
    spec = task_of(record)
    return spec.headline_metric if spec else VAL_LOSS


def extra_metrics(record: RunRecord) -> list[MetricSpec]:
    """The task's held-out metrics beyond its loss and headline (BLEU, token accuracy, ...)."""
    spec = task_of(record)
    return [m for m in spec.metrics if m.name not in ("val_loss", spec.headline)] if spec else []


def baseline_loss(record: RunRecord, summary_or_eval: dict) -> float | None:
    """The validation loss of a model that learned nothing (ln V when guessing uniformly, the variance of the
    target for a regression), where the task declares or reports it."""
    spec = task_of(record)
    return spec.loss.chance_in(summary_or_eval) if spec else None


def chance_verdict(record: RunRecord, summary: dict | None = None) -> str:
    """A sentence when the run's headline metric ended no better than chance ("" otherwise)."""
    summary = record.summary if summary is None else summary
    metric = headline_spec(record)
    value, chance = summary.get(metric.name), metric.chance_in(summary)
    if not isinstance(value, (int, float)) or not metric.at_chance(value, chance):
        return ""
    return (f"Its {metric.label} ({value:.3g}) is at chance level ({chance:.3g}): the model has learned "
            f"nothing the task asks for.")


def chance_remedies(record: RunRecord) -> str:
    """What to try after a run that ended at chance, for its own cell and task (a GRU is not told to try a
    gated cell, a captioner has no T to shorten)."""
    from ..models.cells import CELLS  # deferred: the cells import torch, and lists of runs do not need them

    cell, spec = CELLS.get(record.config.model.arch), task_of(record)
    tries = []
    if cell is not None and cell.trains_by_gradient and not cell.gates:
        gated = [c.short for c in CELLS.values() if c.gates and c.trains_by_gradient][:2]
        tries.append(f"a gated cell ({', '.join(gated)})")
    if spec is not None and spec.generates_sequences:  # T is the memory span asked for, not a BPTT window
        tries.append(f"a shorter T (this run: {record.config.train.seq_len})")
    if cell is not None and not cell.trains_by_gradient:
        tries.append("a larger reservoir or another spectral radius")
    else:
        tries.append("more steps or another learning rate")
    return "Try " + (", ".join(tries[:-1]) + ", or " + tries[-1] if len(tries) > 1 else tries[0]) + "."


def summary_so_far(record: RunRecord, history: RunHistory) -> dict:
    """The run's summary, completed from its history while it still trains (the store writes
    the final summary only when a run ends)."""
    summary = dict(record.summary)
    if record.live or "train_loss" not in summary:
        speeds = history.column("tokens_per_s")[1:]  # the first step includes warming up
        speeds = speeds[np.isfinite(speeds)]
        summary.update({
            "train_loss": recent_train_loss(history.column("loss")),
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
        **({"attention": cfg.model.attention} if task_of(record) and task_of(record).attention else {}),
        **({"bidirectional": cfg.model.bidirectional} if task_of(record) and task_of(record).bidirectional else {}),
        "layers × hidden": f"{cfg.model.layers} × {cfg.model.hidden}",
        "parameters": summary.get("parameters"),
        "dataset": cfg.task.dataset,
        "steps": record.step,
        "clip": "none" if cfg.train.clip == "none" else f"{cfg.train.clip} {cfg.train.clip_threshold:g}",
        "lr": cfg.train.lr,
        "train loss": summary.get("train_loss"),
        "val loss": summary.get("val_loss"),
        metric.replace("_", " "): summary.get(metric),
        **{m.name.replace("_", " "): summary[m.name] for m in extra_metrics(record) if m.name in summary},
        "clipped steps": clipped / steps if isinstance(clipped, int) and steps else None,
        "tokens/s": summary.get("tokens_per_s"),
        "time (s)": seconds,
        "device": record.device or summary.get("device", ""),
    }


def compare_frame(records: list[RunRecord], histories: dict[str, RunHistory] | None = None) -> pd.DataFrame:
    histories = histories or {}
    return pd.DataFrame([run_row(r, histories.get(r.id)) for r in records])


def baseline_ranking(records: list[RunRecord], histories: dict[str, RunHistory], labels: dict[str, str]) -> pd.DataFrame:
    """Runs and the baselines their task scored on the same held-out data (an evaluation's `baselines`: a
    forecaster's persistence, ARIMA, ...) in one table, ranked by the task's headline metric within each
    dataset; empty when no run's task reports baselines. `labels`: run id -> how the page names the run."""
    rows, seen = [], set()
    for record in records:
        history, spec = histories.get(record.id), task_of(record)
        last = history.evals[-1] if history is not None and history.evals else {}
        if "baselines" not in last or spec is None:
            continue
        cfg = record.config
        data = f"{cfg.task.name}{spec.data_label(cfg)} · {options_label(record)}"
        names = [m.name for m in spec.metrics if m.name != "val_loss"]
        rows.append({"data": data, "entry": labels.get(record.id, record.name), "kind": "run",
                     **{name: last.get(name) for name in names}, "_headline": last.get(spec.headline)})
        for method, entry in last["baselines"].items():
            if (data, method) in seen or spec.headline not in entry:
                continue
            seen.add((data, method))
            title = method.replace("_", " ") + (f" · {entry['name']}" if entry.get("name") else "")
            rows.append({"data": data, "entry": title, "kind": "baseline", **{name: entry.get(name) for name in names},
                         "_headline": entry.get(spec.headline)})
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows)
    ascending = not spec.headline_metric.higher_is_better
    frame = frame.sort_values(["data", "_headline"], ascending=[True, ascending], na_position="last")
    frame.insert(0, "rank", frame.groupby("data").cumcount() + 1)
    return frame.drop(columns=["_headline"]).rename(columns=lambda c: c.replace("_", " "))


def options_label(record: RunRecord) -> str:
    """The settings that decide what a run is scored on, besides its data: the window it reads."""
    return f"window {record.config.train.seq_len}"
