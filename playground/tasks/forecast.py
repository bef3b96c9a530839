"""Time series forecasting: windows of past values in, the next H values out, scored on the held-out tail
beside the baselines a forecaster would try first (forecast_baselines.py).

    series   a built-in real series (statsmodels: sunspots, co2, elnino, nile), a generated one
             (mackey-glass, sines) or an upload (data/series.py); `dataset` names it
    split    chronological: the first (1 - holdout) of the series trains, the tail is held out. Never a
             shuffled split: neighbouring values are nearly equal, so a window drawn from between two
             training windows would be scored on values the model has all but seen, and a forecast is
             always made of a future nobody has seen yet
    scale    standardised with the mean and standard deviation of the training part only (the tail's
             would leak its level into training); metrics are in the series' own units
    windows  a window of W = seq_len past values; many-to-one (`outputs = last`): the forecast of the next
             H values is read at the window's end; many-to-many (`every`): every step of the window
             forecasts its next H values (more training signal per window), and the end's is scored
    origins  every point t of the tail is an origin: the model reads y[t - W : t] and forecasts y[t : t + H];
             each baseline forecasts the same origins from y[:t], so all scores cover the same values
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from ..config import ConfigError, TaskConfig, TrainConfig, register_options
from ..data import series as series_data
from ..data.errors import DataError
from ..models import SequenceModel
from ..models.inference import evaluating
from ..setting import Setting
from . import forecast_baselines as baselines
from .base import Task
from .spec import MetricSpec, TaskSpec

OUTPUTS = ("last", "every")
CHART_ORIGINS = 400  # the most held-out origins an evaluation record charts (the latest ones)


@register_options("task", "forecast")
@dataclass
class ForecastOptions:
    horizon: int = 1  # forecast: values predicted ahead from each window, H (1 = one-step forecasts)
    holdout: float = 0.2  # forecast: share of the series at its end held out for testing (a chronological split)
    outputs: str = "last"  # forecast: last = many-to-one (one forecast per window, at its end) | every = many-to-many
    season: int = -1  # forecast: seasonal period in steps for the seasonal-naive baseline and MASE (-1 = the series' own, 0 = none)
    classical: bool = True  # forecast: also fit ARIMA and exponential smoothing on the training part as baselines

    def validate(self) -> None:
        if not 1 <= self.horizon <= 500:
            raise ConfigError("horizon must be between 1 and 500 steps")
        if not 0.05 <= self.holdout <= 0.5:
            raise ConfigError("holdout must be between 0.05 and 0.5 of the series")
        if self.outputs not in OUTPUTS:
            raise ConfigError(f"outputs must be one of {', '.join(OUTPUTS)} (got {self.outputs!r})")
        if not -1 <= self.season <= 10_000:
            raise ConfigError("season must be -1 (the series' own), 0 (none) or a period of up to 10,000 steps")


def _metric(name: str, label: str, unit: str) -> MetricSpec:
    # chance: what persistence (the last value) scores on the same origins; a net no better than that learned nothing
    return MetricSpec(name, label, unit, False, chance_key=f"persistence_{name}")


SPEC = TaskSpec(
    name="forecast", title="time series forecasting (held-out tail)",
    metrics=(MetricSpec("val_loss", "validation loss", "MSE of the standardised forecast", False),
             _metric("mase", "MASE (mean absolute scaled error)", "MAE / naive MAE"),
             _metric("rmse", "RMSE (root mean squared error)", "series units"),
             _metric("mae", "MAE (mean absolute error)", "series units")),
    headline="mase",
    settings={"task.dataset": "Series", "train.seq_len": "Window (past values read)"},
    options=(Setting("task.forecast.horizon", flag="forecast-horizon", key="horizon_h", label="Horizon H (steps ahead)",
                     widget="number", low=1, high=500, step=1, group="Task and data"),
             Setting("task.forecast.outputs", flag="forecast-outputs", key="fc_outputs", label="Outputs",
                     widget="radio", choices=OUTPUTS, group="Task and data",
                     help="last: many-to-one, one forecast per window, at its end. every: many-to-many, each step "
                          "of the window forecasts its next H values."),
             Setting("task.forecast.holdout", label="Held-out tail (share of the series)", widget="slider", low=0.05,
                     high=0.5, step=0.05, group="Task and data",
                     help="Chronological: the last part of the series is held out, never a shuffled sample: "
                          "neighbouring values are nearly equal, so a shuffled split would test on values the "
                          "model has all but seen."),
             Setting("task.forecast.season", flag="forecast-season", key="fc_season", label="Season (steps; -1 = the series' own)",
                     widget="number", low=-1, high=10_000, step=1, group="Task and data"),
             Setting("task.forecast.classical", flag="classical-baselines", key="fc_classical",
                     label="Fit ARIMA and exponential smoothing baselines", widget="toggle", group="Task and data")),
    datasets=series_data.series_choices, default_dataset="sunspots",
    race_entrants=(("rnn-tanh", "none", False), ("lstm", "none", False), ("esn", "none", False)),
    sample_heading="A held-out forecast at step {step}",
    sample_caption="the held-out tail is the end of the series (a chronological split: never shuffled)",
    try_view="forecast", stream_label="time steps", embeds_inputs=False,
    data_label=lambda cfg: f":{cfg.task.dataset} H={cfg.task.forecast.horizon}")

_BASELINES: dict[tuple, dict] = {}  # (series, its length, split, H, W, season, classical) -> scored baselines


class ForecastTask(Task):
    name = "forecast"
    about = SPEC
    carries_state = False  # every window is a fresh example

    def __init__(self, cfg: TaskConfig, state: dict | None = None) -> None:
        self.cfg, self.options = cfg, cfg.forecast
        self.series = series_data.load_series(cfg.dataset)
        self.values = self.series.values
        self.window = int((state or {}).get("window", TrainConfig().seq_len))
        self.split = int(round(len(self.values) * (1 - self.options.holdout)))
        own = self.series.season
        self.season = (own if self.options.season < 0 else self.options.season) or None
        train = self.values[: self.split]
        self.mean, self.std = float(train.mean()), float(train.std()) or 1.0  # the training part's only
        self.scaled = torch.tensor((self.values - self.mean) / self.std, dtype=torch.float32)

    @property
    def horizon(self) -> int:
        return self.options.horizon

    @property
    def spec(self) -> dict:
        return {"family": "readout", "input": "vectors", "input_size": 1, "outputs": self.horizon,
                "objective": "regress", "positions": self.options.outputs}

    def use_train_settings(self, train: TrainConfig) -> None:
        self.window = train.seq_len

    def state(self) -> dict:
        return {"window": self.window}

    # -- windows ----------------------------------------------------------------------------------
    def train_origins(self, window: int) -> np.ndarray:
        """Origins whose window and every target lie in the training part."""
        return np.arange(window, self.split - self.horizon + 1)

    def heldout_origins(self, window: int) -> np.ndarray:
        return baselines.origins(self.split, len(self.values), self.horizon, window)

    def check_size(self, batch_size: int, seq_len: int) -> None:
        name, train_part = self.cfg.dataset, self.split
        if len(self.train_origins(seq_len)) < 1:
            raise DataError(f"the series {name!r} has {train_part} training values: a window of {seq_len} plus a "
                            f"horizon of {self.horizon} does not fit; use a window (seq_len) of at most "
                            f"{train_part - self.horizon}")
        if len(self.heldout_origins(seq_len)) < 1:
            raise DataError(f"the held-out tail of {name!r} ({len(self.values) - train_part} values) is shorter than "
                            f"the horizon {self.horizon}: hold out more (holdout) or forecast fewer steps")

    def windows(self, starts: np.ndarray, window: int) -> dict:
        """Inputs (B, W, 1) and targets: (B, H) at the window's end, or (B, W, H) at every step of it."""
        origin = torch.as_tensor(starts)[:, None]
        x = self.scaled[origin - window + torch.arange(window)].unsqueeze(-1)
        ahead = torch.arange(self.horizon)
        if self.options.outputs == "last":
            y = self.scaled[origin + ahead]
        else:  # position i reads y[t - W + i] and forecasts the H values after it
            positions = origin - window + 1 + torch.arange(window)
            y = self.scaled[positions[:, :, None] + ahead]
        return {"x": x, "y": y}

    def train_batches(self, batch_size: int, seq_len: int, generator: torch.Generator) -> Iterator[dict]:
        self.check_size(batch_size, seq_len)
        starts = torch.as_tensor(self.train_origins(seq_len))
        while True:
            picked = starts[torch.randint(len(starts), (batch_size,), generator=generator)]
            yield self.windows(picked.numpy(), seq_len)

    def probe_batch(self, batch_size: int, seq_len: int) -> dict:
        self.check_size(batch_size, seq_len)
        return self.windows(self.heldout_origins(seq_len)[: min(batch_size, 8)], seq_len)

    def batch_tokens(self, batch: dict) -> int:
        return batch["x"].shape[0] * batch["x"].shape[1]

    # -- forecasts and scores ---------------------------------------------------------------------
    @torch.no_grad()
    def forecast(self, model: SequenceModel, starts: np.ndarray, window: int, batch_size: int = 256) -> np.ndarray:
        """(origins, H) forecasts in the series' units, read at each window's end."""
        with evaluating(model):
            device = next(model.parameters()).device
            out = []
            for first in range(0, len(starts), batch_size):
                x = self.windows(starts[first: first + batch_size], window)["x"].to(device)
                out.append(model({"x": x}).logits[:, -1, :].float().cpu())
        scaled = torch.cat(out).numpy().astype(float) if out else np.zeros((0, self.horizon))
        return scaled * self.std + self.mean

    def scale(self) -> float:
        return baselines.mase_scale(self.values[: self.split], self.season)

    def baselines(self, window: int) -> dict:
        """{baseline: {"name", "forecast", "rmse", "mae", "mase"}} on the held-out origins (cached: fitted once)."""
        key = (self.cfg.dataset, len(self.values), float(self.values.sum()), self.split, self.horizon, window,
               self.season, self.options.classical)
        if key not in _BASELINES:
            made = baselines.baseline_forecasts(self.values, self.split, self.horizon, window, self.season,
                                                classical=self.options.classical)
            actual = baselines.truth(self.values, self.heldout_origins(window), self.horizon)
            _BASELINES[key] = {name: {**entry, **baselines.scores(entry["forecast"], actual, self.scale())}
                               if "forecast" in entry else entry for name, entry in made.items()}
        return _BASELINES[key]

    def evaluate(self, model: SequenceModel, batch_size: int, seq_len: int, max_batches: int | None = None) -> dict:
        """The model's forecast of every held-out origin, scored beside the baselines on the same origins
        (max_batches does not apply: the tail is small and a partial one would change what is scored)."""
        self.check_size(batch_size, seq_len)
        starts = self.heldout_origins(seq_len)
        predicted = self.forecast(model, starts, seq_len, batch_size)
        actual = baselines.truth(self.values, starts, self.horizon)
        scaled_error = (predicted - actual) / self.std
        record = {"val_loss": float(np.mean(scaled_error ** 2)), **baselines.scores(predicted, actual, self.scale()),
                  "eval_origins": len(starts), "horizon": self.horizon}
        found = self.baselines(seq_len)
        record["baselines"] = {name: ({k: entry[k] for k in ("name", "rmse", "mae", "mase")} if "rmse" in entry
                                      else {"error": entry["error"]}) for name, entry in found.items()}
        for name, entry in found.items():
            for metric in ("rmse", "mae", "mase"):
                if metric in entry:
                    record[f"{name}_{metric}"] = entry[metric]
        best = min((e["rmse"], n) for n, e in found.items() if "rmse" in e)
        record["beats_persistence"] = record["rmse"] < found["persistence"]["rmse"]
        record["best_baseline"] = best[1]
        record["forecast"] = self.chart_data(starts, predicted, actual, found)
        return record

    def chart_data(self, starts: np.ndarray, predicted: np.ndarray, actual: np.ndarray, found: dict) -> dict:
        """Plain data for a forecast chart: the series, where the tail starts, and each method's H-step-ahead
        forecast of the latest held-out origins (the value H steps after each origin)."""
        keep = slice(max(0, len(starts) - CHART_ORIGINS), len(starts))
        target = (starts[keep] + self.horizon - 1).tolist()
        labels = self.series.dates
        return {"values": self.values.tolist(), "split": self.split, "horizon": self.horizon,
                "labels": list(labels) if labels else [], "at": target, "truth": actual[keep, -1].tolist(),
                "forecasts": {"model": predicted[keep, -1].tolist(),
                              **{name: entry["forecast"][keep, -1].tolist() for name, entry in found.items()
                                 if "forecast" in entry}}}

    def forecast_view(self, model: SequenceModel, window: int | None = None) -> dict:
        """What the Try page draws: the chart data and the scores of the model and every baseline."""
        window = window or self.window
        record = self.evaluate(model, 256, window)
        return {"chart": record["forecast"], "scores": {"model": {m: record[m] for m in ("rmse", "mae", "mase")},
                                                        **record["baselines"]},
                "window": window, "origins": record["eval_origins"]}

    def sample(self, model: SequenceModel, generator: torch.Generator | None = None, seq_len: int | None = None,
               **_options) -> dict:
        """One held-out origin (picked by `generator`): its forecast against the truth and persistence."""
        window = seq_len or self.window
        self.check_size(1, window)
        starts = self.heldout_origins(window)
        index = int(torch.randint(len(starts), (1,), generator=generator))
        origin = starts[index : index + 1]
        predicted = self.forecast(model, origin, window)[0]
        actual = baselines.truth(self.values, origin, self.horizon)[0]
        when = self.label(int(origin[0]))
        steps = "; ".join(f"{self.label(int(origin[0]) + h)}: {p:.4g} (truth {a:.4g})"
                          for h, (p, a) in enumerate(zip(predicted[:5], actual[:5])))
        more = f" ... ({self.horizon} steps in all)" if self.horizon > 5 else ""
        last = float(self.values[origin[0] - 1])
        return {"text": f"from {when} on, after reading {window} values (the last {last:.4g}): {steps}{more}",
                "index": index}

    def label(self, t: int) -> str:
        dates = self.series.dates
        return dates[t] if 0 <= t < len(dates) else f"t={t}"

    def describe(self) -> dict:
        return {"task": self.name, "series": self.cfg.dataset, "title": self.series.title, "points": len(self.values),
                "train_points": self.split, "heldout_points": len(self.values) - self.split,
                "season": self.season, "train_mean": self.mean, "train_std": self.std, "note": self.series.note,
                "split": "chronological: the tail is held out (never shuffled)"}
