"""RunHistory reads only what is new, keeps steps as compact columns, and fills a live run's summary."""
import math

import numpy as np

from playground.runstore.history import RunHistory
from playground.runstore.store import RunStore
from playground.runstore.summaries import run_row, summary_so_far

from app_helpers import tiny_config


def record(step: int, loss, clipped: bool = False, clip: str = "norm") -> dict:
    return {"step": step, "loss": loss, "grad_norm": 2.0, "grad_norm_clipped": 1.0 if clipped else 2.0,
            "clipped": clipped, "clip": clip, "clip_threshold": 1.0, "layer_norms": {"rnn l0": 0.5},
            "lr": 0.002, "tokens_per_s": 1000.0, "time": step / 10}


def test_refresh_reads_only_new_rows_and_keeps_gaps(home):
    store = RunStore()
    run_id = store.create_run(tiny_config(), status="running")
    store.append_metrics(run_id, "train", [record(1, 3.0), record(2, 2.5, clipped=True)])
    history = RunHistory.load(store, run_id)
    store.append_metrics(run_id, "train", [record(3, float("nan"), clip="none")])
    assert history.refresh(store) and not history.refresh(store)
    assert list(history.step_numbers()) == [1, 2, 3]
    assert math.isnan(history.column("loss")[2]) and history.first_nonfinite_step() == 3
    assert list(history.clipped()) == [False, True, False]
    assert np.isnan(history.norm_thresholds()[2])  # no norm threshold where clipping was off
    assert history.steps[-1]["loss"] is None and history.steps[1]["clipped"] is True
    assert len(history.steps) == 3 and history.elapsed() == 0.3


def test_a_live_run_gets_its_numbers_from_its_history(home):
    store = RunStore()
    run_id = store.create_run(tiny_config(), status="running")
    store.append_metrics(run_id, "train", [record(s, 3.0 - s / 10, clipped=s % 2 == 0) for s in range(1, 11)])
    store.append_metrics(run_id, "eval", [{"step": 10, "val_loss": 2.2, "bits_per_char": 3.17}])
    live = store.get_run(run_id)
    history = RunHistory.load(store, run_id)
    summary = summary_so_far(live, history)
    assert summary["clipped_steps"] == 5 and summary["tokens_per_s"] == 1000.0 and summary["seconds"] == 1.0
    assert abs(summary["train_loss"] - np.mean([3.0 - s / 10 for s in range(1, 11)])) < 1e-9
    row = run_row(live, history)
    assert row["bits per char"] == 3.17 and row["clipped steps"] == 0.5


def test_recent_train_loss_is_the_mean_of_the_last_finite_losses():
    from playground.runstore.history import RECENT, recent_train_loss

    losses = [float(i) for i in range(30)] + [float("nan"), None]
    assert recent_train_loss(losses) == sum(range(30 - RECENT, 30)) / RECENT
    assert recent_train_loss([float("inf"), None]) is None and recent_train_loss([]) is None
