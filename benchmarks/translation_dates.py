"""Dates task: steps and wall time for a GRU to reach 0.95 held-out exact match, with and without attention.

Both models (GRU, 1 layer of 128, embedding 32; one without attention, one with Bahdanau attention)
train on the same generated dates (20,000 pairs, 10% held out) with the same batches (64), Adam at
lr 3e-3 and clipping by norm at 1, in one process on one thread, alternating chunks of steps so
that machine noise hits both alike. Every `--eval-every` steps each is scored on 1,000 held-out
pairs (greedy decoding); a model stops when it reaches the target there, and its exact match on
the whole held-out set is then reported too. Wall time counts training steps only, not evaluations.

    python benchmarks/translation_dates.py [--target 0.95] [--max-steps 6000] [--budget 540]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ALLOCATOR = {"MALLOC_MMAP_THRESHOLD_": "268435456", "MALLOC_TRIM_THRESHOLD_": "268435456"}
if any(os.environ.get(k) != v for k, v in ALLOCATOR.items()):  # see train_throughput.py: fewer page faults
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **ALLOCATOR})

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from playground import models, tasks  # noqa: E402
from playground.config import ModelConfig, TaskConfig, TrainConfig  # noqa: E402
from playground.train.trainer import make_optimizer  # noqa: E402

CONTENDERS = {"GRU, no attention": "none", "GRU + Bahdanau attention": "bahdanau"}


class Contender:
    def __init__(self, label: str, attention: str, task, train: TrainConfig) -> None:
        torch.manual_seed(train.seed)
        self.label, self.task, self.train_cfg = label, task, train
        self.model = models.build(ModelConfig(arch="gru", hidden=128, embedding=32, attention=attention), task.spec)
        self.optimizer = make_optimizer(train, self.model.parameters())
        self.batches = task.train_batches(train.batch_size, 0, torch.Generator().manual_seed(train.seed))
        self.steps, self.seconds, self.reached_at, self.history = 0, 0.0, None, []

    def run(self, steps: int) -> None:
        self.model.train()
        started = time.perf_counter()
        for _ in range(steps):
            loss = self.model(next(self.batches)).loss
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.train_cfg.clip_threshold)
            self.optimizer.step()
        self.steps += steps
        self.seconds += time.perf_counter() - started

    def exact_match(self, pairs: int | None) -> float:
        batches = None if pairs is None else pairs // 100
        return self.task.evaluate(self.model, 100, 0, max_batches=batches)["exact_match"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--max-steps", type=int, default=6000, help="give up on a model after this many steps")
    parser.add_argument("--budget", type=float, default=540, help="stop everything after this many seconds")
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--eval-pairs", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    train = TrainConfig(batch_size=64, lr=3e-3, clip="norm", clip_threshold=1.0, seed=0)
    task = tasks.build(TaskConfig(name="translation", dataset="dates", pairs=20_000, data_seed=0), train=train)
    contenders = [Contender(label, attention, task, train) for label, attention in CONTENDERS.items()]
    started = time.perf_counter()
    while time.perf_counter() - started < args.budget:
        running = [c for c in contenders if c.reached_at is None and c.steps < args.max_steps]
        if not running:
            break
        for c in running:
            c.run(args.eval_every)
            score = c.exact_match(args.eval_pairs)
            c.history.append((c.steps, round(c.seconds, 1), score))
            print(f"{c.label:26} step {c.steps:5}  {c.seconds:7.1f} s  exact match {score:.3f}", flush=True)
            if score >= args.target:
                c.reached_at = (c.steps, c.seconds)
    print(f"\nDates to ISO 8601, target {args.target} exact match on {args.eval_pairs} held-out pairs "
          f"(torch {torch.__version__}, 1 thread, {os.cpu_count()} cores)\n")
    print(f"| model | steps to {args.target} | train wall time | ms/step | exact match, all "
          f"{len(task.splits()[1])} held-out |")
    print("|---|---:|---:|---:|---:|")
    for c in contenders:
        per_step = 1000 * c.seconds / max(c.steps, 1)
        if c.reached_at:
            steps, seconds = c.reached_at
            print(f"| {c.label} | {steps} | {seconds:.0f} s | {per_step:.0f} | {c.exact_match(None):.3f} |")
        else:
            best = max((h[2] for h in c.history), default=0.0)
            print(f"| {c.label} | not within {c.steps} steps (best {best:.3f}) | > {c.seconds:.0f} s | {per_step:.0f} "
                  f"| {c.exact_match(None):.3f} |")


if __name__ == "__main__":
    main()
