"""How long an LSTM takes to solve the adding problem at T=100 on this CPU, and whether a tanh RNN, a GRU and
an echo state network solve it within the same budget.

Every architecture gets the same task (the adding problem, T=100), the same seed (so the same training
batches and the same 512 held-out sequences), the same wall-clock budget and the same step budget, one
torch thread. The trained cells use Adam at lr 0.01 with clipping by norm at 1 and 64 hidden units; the
echo state network the lab's leaky 400-unit reservoir, its ridge readout solved after every batch. Every 100
steps the held-out MSE is measured; a run ends as soon as it is at or below the solved threshold (0.01,
chance is about 0.167) or when its budget is spent.

    python benchmarks/adding_problem.py                      # ~10 minutes at most (4 x 140 s)
    python benchmarks/adding_problem.py --budget-seconds 60 --archs lstm esn
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from playground.experiments import lab
from playground.runstore import runner  # noqa: E402
from playground.train.trainer import Callback, Trainer  # noqa: E402

ARCHS = ["lstm", "rnn-tanh", "gru", "esn"]
# settings for one architecture alone: the lab's long-memory reservoir (leaky, radius 0.99) with 400 units for the ESN
MODEL_OVERRIDES = {"esn": {**lab.ESN_MEMORY_SETTINGS, "hidden": 400}}


class EvalLog(Callback):
    """Keeps (step, seconds since the start, held-out MSE) of every evaluation."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.points: list[tuple[int, float, float]] = []

    def on_eval(self, trainer, record):
        self.points.append((record["step"], time.perf_counter() - self.started, record["mse"]))


def run(arch: str, args) -> dict:
    cfg = lab.sweep_base_config("adding", steps=args.max_steps, hidden=args.hidden, seed=args.seed)
    cfg.model.arch = arch
    for key, value in MODEL_OVERRIDES.get(arch, {}).items():
        setattr(cfg.model, key, value)
    cfg.train.seq_len, cfg.train.eval_every, cfg.task.test_sequences = args.seq_len, 100, 512
    cfg.train.threads, cfg.train.device = 1, "cpu"
    task, model = runner.prepare(cfg.validate())
    log = EvalLog()
    deadline = log.started + args.budget_seconds
    result = Trainer(cfg.train).fit(model, task, [log], should_stop=lambda: time.perf_counter() > deadline)
    seconds = time.perf_counter() - log.started
    solved = bool(result.evals and result.evals[-1].get("solved"))
    return {
        "arch": arch, "parameters": model.parameter_count(), "solved": solved, "steps": result.steps,
        "seconds": seconds, "final_mse": log.points[-1][2] if log.points else None,
        "best_mse": min(p[2] for p in log.points) if log.points else None,
        "chance": result.evals[-1]["chance"] if result.evals else None,
        "steps_per_s": result.steps / seconds if seconds else None, "evaluations": log.points,
    }


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", nargs="+", default=ARCHS, choices=ARCHS)
    parser.add_argument("--seq-len", type=int, default=100, help="T (default 100)")
    parser.add_argument("--budget-seconds", type=float, default=140, help="wall-clock budget per architecture")
    parser.add_argument("--max-steps", type=int, default=6000, help="step budget per architecture")
    parser.add_argument("--hidden", type=int, default=64, help="hidden units of the trained cells")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args()
    torch.set_num_threads(1)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"adding problem, T={args.seq_len}: budget {args.budget_seconds:g} s or {args.max_steps} steps each, seed "
          f"{args.seed}, batch 32, held-out 512 sequences, solved at MSE <= 0.01\n{cpu_name()}, {os.cpu_count()} cores, "
          f"1 torch thread, torch {torch.__version__}, load average {load:.1f} at the start\n")
    results = []
    for arch in args.archs:
        results.append(run(arch, args))
        r = results[-1]
        print(f"  {arch}: {'solved' if r['solved'] else 'not solved'} after {r['steps']} steps, {r['seconds']:.0f} s",
              file=sys.stderr)

    print(f"{'architecture':14} {'params':>7} {'solved':>7} {'steps':>6} {'seconds':>8} {'steps/s':>8} "
          f"{'best MSE':>9} {'final MSE':>9}")
    for r in results:
        print(f"{r['arch']:14} {r['parameters']:>7,} {'yes' if r['solved'] else 'no':>7} {r['steps']:>6} "
              f"{r['seconds']:>8.1f} {r['steps_per_s']:>8.1f} {r['best_mse']:>9.4f} {r['final_mse']:>9.4f}")
    chance = next((r["chance"] for r in results if r["chance"] is not None), None)
    if chance is not None:
        print(f"(chance: MSE {chance:.4f} for always predicting the mean)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)}, "cpu": cpu_name(),
                                         "load_average": load, "results": results}, indent=2))


if __name__ == "__main__":
    main()
