"""Held-out forecast error of every architecture beside the classical baselines, on sunspots, CO2 and
Mackey-Glass, with the training time of each.

Every network gets the same series, split (the last 20% held out, chronologically), window, horizon
(one step ahead), seed, step budget and one torch thread: 32 hidden units, Adam at lr 0.005, clipping by
norm at 1, batch 32. The echo state network gets a 200-unit reservoir (radius 0.9) whose ridge readout
is solved from the same batches. The baselines (persistence, seasonal naive where the series has a season,
ARIMA and Holt-Winters) are fitted on the same training part and forecast the same held-out origins; their
"training time" is the time to fit them.

    python benchmarks/forecasting.py                         # ~10-15 minutes on two busy cores
    python benchmarks/forecasting.py --series sunspots --steps 300 --archs lstm esn
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from playground import models, tasks  # noqa: E402
from playground.config import RunConfig, TaskConfig  # noqa: E402
from playground.models.cells import CELLS  # noqa: E402
from playground.tasks import forecast_baselines as fb  # noqa: E402
from playground.train.trainer import Trainer  # noqa: E402

SERIES = {"sunspots": 20, "co2": 60, "mackey-glass": 32}  # the window (past values read) of each
ARCHS = list(CELLS)
MODEL_OVERRIDES = {"esn": {"hidden": 200, "spectral_radius": 0.9, "washout": 0}}


def network(series: str, arch: str, steps: int, seed: int) -> dict:
    cfg = RunConfig()
    cfg.task.name, cfg.task.dataset = "forecast", series
    cfg.task.forecast.classical = False  # fitted once below, timed apart
    cfg.model.arch, cfg.model.hidden = arch, 32
    for key, value in MODEL_OVERRIDES.get(arch, {}).items():
        setattr(cfg.model, key, value)
    cfg.train.steps, cfg.train.seq_len, cfg.train.batch_size, cfg.train.lr = steps, SERIES[series], 32, 5e-3
    cfg.train.eval_every, cfg.train.eval_in_background, cfg.train.seed = steps, False, seed
    cfg.validate()
    torch.manual_seed(seed)
    task = tasks.build(cfg.task, train=cfg.train)
    model = models.build(cfg.model, task.spec)
    started = time.perf_counter()
    result = Trainer(cfg.train).fit(model, task)
    seconds = time.perf_counter() - started
    final = result.evals[-1]
    return {"method": arch, "rmse": final["rmse"], "mase": final["mase"], "seconds": seconds, "status": result.status,
            "persistence_rmse": final["persistence_rmse"]}


def classical(series: str) -> list[dict]:
    task = tasks.build(TaskConfig(name="forecast", dataset=series))
    window, values, split = SERIES[series], task.values, task.split
    starts = fb.origins(split, len(values), 1, window)
    truth = fb.truth(values, starts, 1)
    rows = []
    for name, make in (("persistence", lambda: (fb.persistence(values, starts, 1), "last value")),
                       ("seasonal_naive", lambda: (fb.seasonal_naive(values, starts, 1, task.season), "season")),
                       ("arima", lambda: fb.arima(values, split, starts, 1)),
                       ("ets", lambda: fb.ets(values, split, starts, 1, task.season))):
        if name == "seasonal_naive" and not task.season:
            continue
        started = time.perf_counter()
        forecast, what = make()
        seconds = time.perf_counter() - started
        rows.append({"method": f"{name} ({what})", **fb.scores(forecast, truth, task.scale()), "seconds": seconds})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", nargs="+", default=list(SERIES), choices=list(SERIES))
    parser.add_argument("--archs", nargs="+", default=ARCHS, choices=ARCHS)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    table = {}
    for series in args.series:
        rows = classical(series) + [network(series, arch, args.steps, args.seed) for arch in args.archs]
        table[series] = rows
        print(f"\n{series}: held-out RMSE, one step ahead (the last 20% of the series), {args.steps} steps")
        print(f"  {'method':52} {'RMSE':>10} {'MASE':>7} {'seconds':>8}")
        for row in sorted(rows, key=lambda r: r["rmse"]):
            print(f"  {row['method']:52} {row['rmse']:10.4g} {row['mase']:7.3f} {row['seconds']:8.1f}")
        sys.stdout.flush()
    if args.json:
        args.json.write_text(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
