"""The forecast task: a chronological split, normalisation from the training part only, windows for
many-to-one and many-to-many models, and an LSTM that beats persistence on Mackey-Glass."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from playground import cli, models, tasks
from playground.config import ConfigError, RunConfig, TrainConfig
from playground.data import series as series_data
from playground.data.errors import DataError
from playground.runstore.history import RunHistory
from playground.runstore.summaries import baseline_ranking
from playground.train.trainer import Trainer


def config(dataset="sunspots", horizon=1, outputs="last", holdout=0.2, classical=False, seq_len=12, **train):
    cfg = RunConfig()
    cfg.task.name, cfg.task.dataset = "forecast", dataset
    cfg.task.forecast.horizon, cfg.task.forecast.outputs = horizon, outputs
    cfg.task.forecast.holdout, cfg.task.forecast.classical = holdout, classical
    cfg.model.arch, cfg.model.hidden = "lstm", 16
    cfg.train = TrainConfig(seq_len=seq_len, batch_size=16, eval_every=1000, eval_in_background=False,
                            **{"steps": 5, **train})
    return cfg.validate()


@pytest.fixture
def ramp(monkeypatch):
    """A series whose value is its own index, so every window says where in the series it came from."""
    ramp = series_data.Series("ramp", "0, 1, 2, ...", np.arange(200, dtype=float))
    monkeypatch.setitem(series_data.BUILTIN, "ramp", lambda: ramp)
    series_data._builtin.cache_clear()
    yield ramp
    series_data._builtin.cache_clear()


def indices(task, tensor):
    return torch.round(tensor * task.std + task.mean).long()


@pytest.mark.parametrize("outputs", ["last", "every"])
def test_the_split_is_chronological_and_training_never_sees_the_tail(ramp, outputs):
    cfg = config("ramp", horizon=3, outputs=outputs)
    task = tasks.build(cfg.task, train=cfg.train)
    split = task.split
    assert split == 160
    batches = task.train_batches(16, 12, torch.Generator().manual_seed(0))
    for _ in range(50):
        batch = next(batches)
        assert indices(task, batch["x"]).max() < split and indices(task, batch["y"]).max() < split
    starts = task.heldout_origins(12)
    assert starts.min() == split and starts.max() == 200 - 3  # every point of the tail, each with H values after it
    probe = task.probe_batch(16, 12)
    scored = probe["y"] if outputs == "last" else probe["y"][:, -1]  # many-to-many: the window's end is scored
    assert (indices(task, scored) >= split).all()  # what held-out windows are scored on is the tail


def test_windows_line_up_for_many_to_one_and_many_to_many(ramp):
    last = tasks.build(config("ramp", horizon=2).task)
    batch = last.windows(np.array([50]), 4)
    assert indices(last, batch["x"])[0, :, 0].tolist() == [46, 47, 48, 49]
    assert indices(last, batch["y"])[0].tolist() == [50, 51]
    every = tasks.build(config("ramp", horizon=2, outputs="every").task)
    batch = every.windows(np.array([50]), 4)
    assert indices(every, batch["y"])[0].tolist() == [[47, 48], [48, 49], [49, 50], [50, 51]]
    assert every.spec["positions"] == "every" and last.spec["positions"] == "last" and last.spec["outputs"] == 2


def test_normalisation_comes_from_the_training_part_only(ramp, monkeypatch):
    task = tasks.build(config("ramp").task)
    train = ramp.values[:160]
    assert (task.mean, task.std) == pytest.approx((train.mean(), train.std()))
    wild = series_data.Series("ramp", "tail changed", np.concatenate([train, ramp.values[160:] * 1000]))
    monkeypatch.setitem(series_data.BUILTIN, "ramp", lambda: wild)
    series_data._builtin.cache_clear()
    changed = tasks.build(config("ramp").task)
    assert (changed.mean, changed.std) == (task.mean, task.std)  # the held-out tail leaks nothing into the scale


def test_a_small_lstm_beats_persistence_on_mackey_glass():
    cfg = config("mackey-glass", horizon=1, seq_len=16, steps=150, lr=1e-2)
    torch.manual_seed(0)
    task = tasks.build(cfg.task, train=cfg.train)
    model = models.build(cfg.model, task.spec)
    result = Trainer(cfg.train).fit(model, task)
    final = result.evals[-1]
    assert final["rmse"] < 0.7 * final["persistence_rmse"], (final["rmse"], final["persistence_rmse"])
    assert final["beats_persistence"] and final["baselines"]["persistence"]["rmse"] == final["persistence_rmse"]
    # the metrics are what their labels say: recomputed here from the forecasts themselves
    starts = task.heldout_origins(16)
    predicted = task.forecast(model, starts, 16)[:, 0]
    truth = task.values[starts]
    assert final["rmse"] == pytest.approx(float(np.sqrt(np.mean((predicted - truth) ** 2))), rel=1e-5)
    assert final["mae"] == pytest.approx(float(np.mean(np.abs(predicted - truth))), rel=1e-5)
    naive = np.mean(np.abs(np.diff(task.values[: task.split])))
    assert final["mase"] == pytest.approx(final["mae"] / naive, rel=1e-9)
    assert final["persistence_rmse"] == pytest.approx(float(np.sqrt(np.mean((task.values[starts - 1] - truth) ** 2))))


def test_every_architecture_forecasts_the_echo_state_network_included():
    for arch in ("rnn-tanh", "gru", "esn"):
        cfg = config("sines", horizon=2, outputs="every" if arch == "esn" else "last", steps=3)
        cfg.model.arch = arch
        task = tasks.build(cfg.task, train=cfg.train)
        result = Trainer(cfg.train).fit(models.build(cfg.model, task.spec), task)
        final = result.evals[-1]
        assert result.status == "completed" and np.isfinite(final["rmse"]), arch
        assert "seasonal_naive" in final["baselines"]  # sines has a season of 48


def test_bad_settings_and_short_series_are_clear_errors():
    with pytest.raises(ConfigError, match="outputs must be one of"):
        config(outputs="some")
    with pytest.raises(ConfigError, match="holdout"):
        config(holdout=0.9)
    task = tasks.build(config("nile").task)
    with pytest.raises(DataError, match="window \\(seq_len\\) of at most 79"):
        task.check_size(16, 100)


def test_metrics_out_has_the_metrics_and_the_baselines(store, tmp_path, restore_signals):
    out = tmp_path / "m.json"
    code = cli.main(["train", "--task", "forecast", "--dataset", "sines", "--arch", "gru", "--hidden", "8",
                     "--steps", "3", "--seq-len", "16", "--forecast-horizon", "2", "--quiet", "--metrics-out", str(out)])
    assert code == 0
    data = json.loads(out.read_text())
    assert {"rmse", "mae", "mase"} <= set(data)
    assert set(data["baselines"]) == {"persistence", "seasonal_naive", "arima", "ets"}
    for entry in data["baselines"].values():
        assert {"rmse", "mae", "mase"} <= set(entry)
    # Compare's table: the run and its baselines ranked together by the headline metric (MASE)
    record = store.list_runs()[0]
    ranking = baseline_ranking([record], {record.id: RunHistory.load(store, record.id)}, {record.id: "the run"})
    assert len(ranking) == 5 and list(ranking["rank"]) == [1, 2, 3, 4, 5]
    assert list(ranking["mase"]) == sorted(ranking["mase"]) and "the run" in set(ranking["entry"])
    assert ranking.loc[ranking["entry"] == "the run", "mase"].item() == pytest.approx(data["mase"])
