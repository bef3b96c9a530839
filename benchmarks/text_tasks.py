"""The text lessons on this CPU: for language identification (langid) and restoring spaces (spaces), the
held-out metric a tanh RNN, a GRU, an LSTM and a bidirectional LSTM reach within one step budget, and the
training time each took to get there.

Every model gets the same task settings, seed (so the same training batches and held-out set), step budget,
64 hidden units, Adam at lr 5e-3, clipping by norm at 1 and one torch thread. Every `eval_every` steps the
held-out headline metric is measured (langid: accuracy on 2,000 balanced held-out words of 8 languages, chance
0.125; spaces: boundary F1 on the held-out lines of `tiny` (or --spaces-dataset), and the per-character accuracy
beside the majority guess). Reported: the best held-out metric, and the training seconds (evaluation time not
counted) until the first evaluation within 0.01 of it. Models train one after another, so their seconds are
comparable with each other on a quiet machine; on a shared one, read the ratios.

    python benchmarks/text_tasks.py                       # ~2-4 minutes
    python benchmarks/text_tasks.py --steps 300 --tasks spaces
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from playground import models, tasks  # noqa: E402
from playground.config import ModelConfig, TaskConfig, TrainConfig  # noqa: E402
from playground.train.trainer import Callback, Trainer  # noqa: E402

ENTRANTS = [("rnn-tanh", False), ("gru", False), ("lstm", False), ("lstm", True)]


class Clock(Callback):
    """Training seconds (evaluations excluded) at every evaluation, with the headline metric."""

    def __init__(self, metric: str) -> None:
        self.metric, self.points, self.training, self.last = metric, [], 0.0, None

    def before_step(self, trainer, step):
        self.last = time.perf_counter()

    def on_step(self, trainer, record):
        self.training += time.perf_counter() - self.last

    def on_eval(self, trainer, record):
        self.points.append((record["step"], self.training, record[self.metric], record))


def task_config(name: str, args) -> TaskConfig:
    if name == "langid":
        return TaskConfig(name="langid", dataset="wordfreq")  # its defaults: 8 languages, single words
    return TaskConfig(name="spaces", dataset=args.spaces_dataset)


def run(task_name: str, arch: str, bidirectional: bool, args) -> dict:
    torch.manual_seed(args.seed)
    train = TrainConfig(steps=args.steps, batch_size=64, seq_len=64, lr=5e-3, eval_every=args.eval_every,
                        eval_batches=8, eval_in_background=False, seed=args.seed)
    task = tasks.build(task_config(task_name, args), train=train)
    model = models.build(ModelConfig(arch=arch, hidden=args.hidden, embedding=32, bidirectional=bidirectional),
                         task.spec)
    clock = Clock(task.headline_metric)
    Trainer(train, torch.device("cpu")).fit(model, task, [clock])
    best = max(value for _, _, value, _ in clock.points)
    step, seconds, value, record = next(p for p in clock.points if p[2] >= best - 0.01)
    extra = {k: round(record[k], 4) for k in ("macro_f1", "accuracy", "majority_accuracy", "precision", "recall")
             if k in record and k != task.headline_metric}
    return {"task": task_name, "model": f"{'bi-' if bidirectional else ''}{arch}", "metric": task.headline_metric,
            "best": round(best, 4), "reached_at_step": step, "training_seconds": round(seconds, 1),
            "total_training_seconds": round(clock.training, 1), **extra}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", default=["langid", "spaces"], choices=["langid", "spaces"])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--spaces-dataset", default="tiny")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, 1 thread, "
          f"{args.steps} steps, hidden {args.hidden}")
    rows = []
    for task_name in args.tasks:
        for arch, bidirectional in ENTRANTS:
            row = run(task_name, arch, bidirectional, args)
            rows.append(row)
            extra = "  ".join(f"{k} {v}" for k, v in row.items() if k in ("macro_f1", "accuracy", "majority_accuracy"))
            print(f"{row['task']:7} {row['model']:9} held-out {row['metric']} {row['best']:.3f} reached at step "
                  f"{row['reached_at_step']} after {row['training_seconds']:.1f} s of training "
                  f"(all {args.steps} steps: {row['total_training_seconds']:.1f} s)  {extra}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
