"""Captioning throughput on this machine: images/s of training and of captioning, and the time the
pretrained recipe (`pretrained.RECIPES["captioner"]`: LSTM 128 + soft attention, two-shape scenes)
takes to reach the quality its tests ask for.

    python benchmarks/captioning_throughput.py [--threads 1] [--budget 480] [--json out.json]

1. Training images/s: `Trainer.fit` on the recipe, wall clock over whole runs (scene drawing,
   evaluations every 250 steps and the diagnostics included), with and without attention.
2. Captioning images/s: held-out scenes decoded greedily in batches of 100 and with a beam of 3,
   and one image at a time (what the Try page and `python -m playground caption` do).
3. Time to quality: the recipe trained from scratch, the whole held-out set (500 scenes) scored
   every 100 steps; the clock (training only, scoring excluded) stops at the first check with
   exact match >= 0.9 and colour-word attention on the named shape > 0.5.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

# glibc's allocator default makes fused kernels page-fault on every step; the app's child processes
# set these too (playground/runstore/jobs.py). Re-exec once with them in the environment.
ALLOCATOR = {"MALLOC_MMAP_THRESHOLD_": "268435456", "MALLOC_TRIM_THRESHOLD_": "268435456"}
if any(os.environ.get(k) != v for k, v in ALLOCATOR.items()):
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **ALLOCATOR})

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from playground.runstore import checkpoint, pretrained
from playground import models, tasks  # noqa: E402
from playground.config import RunConfig  # noqa: E402
from playground.tasks.captioning import decode  # noqa: E402
from playground.train.trainer import Callback, Trainer  # noqa: E402

TARGET_EXACT, TARGET_ATTENTION = 0.9, 0.5


def recipe(attention: str = "soft", steps: int | None = None) -> RunConfig:
    cfg = RunConfig.from_dict(pretrained.RECIPES["captioner"].to_dict())  # a copy
    cfg.model.attention = attention
    if steps is not None:
        cfg.train.steps = steps
    return cfg


def build(cfg: RunConfig):
    torch.manual_seed(cfg.train.seed)
    task = tasks.build(cfg.task, train=cfg.train)
    return task, models.build(cfg.model, task.spec)


def training_images_per_s(attention: str, steps: int) -> float:
    cfg = recipe(attention, steps)
    task, model = build(cfg)
    started = time.perf_counter()
    result = Trainer(cfg.train).fit(model, task)
    return result.steps * cfg.train.batch_size / (time.perf_counter() - started)


def captioning_images_per_s(task, model) -> dict:
    model.eval()
    scenes = task.heldout
    images = task.images(scenes)
    out = {}
    for beam in (1, 3):
        started = time.perf_counter()
        for start in range(0, len(scenes), 100):
            decode(model, images[start: start + 100], beam)
        out[f"batched_beam{beam}"] = len(scenes) / (time.perf_counter() - started)
    started = time.perf_counter()
    for scene in scenes[:100]:
        task.caption(model, scene)
    out["one_at_a_time_greedy"] = 100 / (time.perf_counter() - started)
    return out


class QualityClock(Callback):
    """Scores the whole held-out set every `every` steps; stops the run once the targets are met."""

    def __init__(self, task, every: int) -> None:
        self.task, self.every = task, every
        self.scoring = 0.0
        self.started = time.perf_counter()
        self.reached: dict | None = None
        self.checks: list[dict] = []

    def before_step(self, trainer, step):  # the model as the step before left it (step records come a window late)
        done = step - 1
        if done == 0 or done % self.every or self.reached:
            return
        tick = time.perf_counter()
        trained = tick - self.started - self.scoring  # wall clock so far, minus earlier scoring
        metrics = self.task.evaluate(trainer.model, 100, 0)
        self.scoring += time.perf_counter() - tick
        check = {"step": done, "train_seconds": round(trained, 1),
                 "exact_match": metrics["exact_match"], "colour_attention": metrics["colour_attention"]}
        self.checks.append(check)
        print(f"  step {check['step']:5}: {check['train_seconds']:7.1f} s training, exact {check['exact_match']:.3f}, "
              f"colour attention {check['colour_attention']:.3f}", flush=True)
        if metrics["exact_match"] >= TARGET_EXACT and metrics["colour_attention"] > TARGET_ATTENTION:
            self.reached = check


def time_to_quality(budget: float, every: int = 100) -> dict:
    cfg = recipe("soft", steps=100_000)
    task, model = build(cfg)
    clock = QualityClock(task, every)
    def should_stop() -> bool:
        return clock.reached is not None or time.perf_counter() - clock.started > budget

    Trainer(cfg.train).fit(model, task, [clock], should_stop=should_stop)
    return {"reached": clock.reached, "checks": clock.checks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1, as runs use)")
    parser.add_argument("--steps", type=int, default=300, help="training steps per throughput measurement")
    parser.add_argument("--budget", type=float, default=480, help="seconds allowed to reach the quality target")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               "unknown CPU") if Path("/proc/cpuinfo").exists() else "unknown CPU"
    print(f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, {args.threads} thread(s)")
    figures: dict = {"cpu": cpu, "threads": args.threads}
    for attention in ("soft", "none"):
        rate = training_images_per_s(attention, args.steps)
        figures[f"train_images_per_s_{attention}"] = rate
        print(f"training, attention {attention:4}: {rate:7.1f} images/s "
              f"(batch {recipe().train.batch_size}, evaluations included)")
    shipped = checkpoint.load(pretrained.resolve("captioner"))
    for name, rate in captioning_images_per_s(shipped.task, shipped.model).items():
        figures[f"caption_images_per_s_{name}"] = rate
        print(f"captioning, {name.replace('_', ' '):22}: {rate:7.1f} images/s")
    print(f"time to exact match >= {TARGET_EXACT} and colour attention > {TARGET_ATTENTION} "
          "on the 500 held-out scenes:")
    quality = time_to_quality(args.budget)
    figures["time_to_quality"] = quality
    if quality["reached"]:
        r = quality["reached"]
        print(f"reached after {r['step']} steps, {r['train_seconds']:.0f} s of training "
              f"(exact {r['exact_match']:.3f}, colour attention {r['colour_attention']:.3f})")
    else:
        print(f"not reached within {args.budget:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
