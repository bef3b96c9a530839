"""Time to insight: for each experiment the Home page and the gradient lab offer (each task's "Train it" on
Home among them), the wall time from pressing Start until the page can show its lesson (a verdict, a
divergence, a solved T).

Each experiment runs the way the app runs it: its runs are started as background jobs (child
processes, `playground.runstore.jobs`), at the preset's or lab form's default settings, into a fresh store,
and the store is polled every 0.2 s, as a page would, until the lesson is there. One experiment at
a time, so they do not compete for the cores (a twins or sweep group runs its runs side by side,
as it does in the app). Also printed: each experiment's start-up, Start to the first recorded step, and
for each task a table of start-up with the dataset cache empty (the first run of those settings) and
filled (every later one; `playground/data/cache.py`).

    python benchmarks/time_to_insight.py [--only NAME ...] [--limit 180]
Target: each lesson within 60 s on a 2-core CPU; start-up under 1.5 s.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PLAYGROUND_HOME", tempfile.mkdtemp(prefix="time-to-insight-"))

from playground.experiments import lab  # noqa: E402
from playground.runstore import jobs  # noqa: E402
from playground.config import RunConfig  # noqa: E402
from playground.runstore.store import RunStore  # noqa: E402

TARGET_SECONDS, STARTUP_TARGET = 60.0, 1.5
POLL = 0.2


@dataclass
class Lesson:
    text: str  # what the page can now say
    seen: bool  # whether the lesson is there yet


@dataclass
class Experiment:
    name: str
    configs: Callable[[], list[RunConfig]]  # what pressing Start starts
    lesson: Callable[[RunStore, list[str]], Lesson]  # what the page would show, from the store alone


def form_run(**values) -> RunConfig:
    """What the Train page starts for these form values (URL keys) on top of its defaults, without a browser."""
    from playground import options
    from ui import train_form

    cfg = RunConfig.from_dict(train_form.DEFAULTS.to_dict())
    for key, value in values.items():
        options.BY_KEY[key].set(cfg, value)
    return options.reset_unused(cfg).validate()


def preset(name: str) -> RunConfig:
    """A Train-page preset exactly as the form builds it."""
    from ui import train_form

    return form_run(**train_form.PRESETS[name])


def evals(store: RunStore, run_id: str) -> list[dict]:
    return store.metrics(run_id, "eval")


def finished(store: RunStore, run_id: str) -> bool:
    record = store.get_run(run_id)
    return record is not None and record.status not in ("queued", "running")


def first_lstm_lesson(store: RunStore, run_ids: list[str]) -> Lesson:
    """The samples turn into words: held-out bits per character below 1.5 (uniform guessing: 4.95)."""
    scores = [e.get("bits_per_char") for e in evals(store, run_ids[0])]
    best = min((s for s in scores if isinstance(s, (int, float))), default=math.inf)
    return Lesson(f"held-out {best:.2f} bits/char", best < 1.5)


def divergence_lesson(store: RunStore, run_ids: list[str]) -> Lesson:
    record = store.get_run(run_ids[0])
    return Lesson(f"{record.status} at step {record.step}", record.status == "diverged")


def clipped_lesson(store: RunStore, run_ids: list[str]) -> Lesson:
    """The clipped twin of the exploding preset trains to its end with its gradients clipped."""
    record = store.get_run(run_ids[0])
    clipped = record.summary.get("clipped_steps") or 0
    return Lesson(f"{record.status}, {clipped} clipped steps", record.status == "completed" and clipped > 0)


def vanishing_lesson(store: RunStore, run_ids: list[str]) -> Lesson:
    """The flow heatmap needs two evaluations: the first shows the early steps' gradient is tiny."""
    flows = [e["gradient_flow"] for e in evals(store, run_ids[0]) if e.get("gradient_flow")]
    if not flows:
        return Lesson("no gradient flow yet", False)
    ratio = flows[-1][0] / max(flows[-1][-1], 1e-300)
    return Lesson(f"||dL/dx_1|| / ||dL/dx_T|| = {ratio:.1e}", len(flows) >= 2)


def gates_lesson(store: RunStore, run_ids: list[str]) -> Lesson:
    gates = [e["gate_stats"] for e in evals(store, run_ids[0]) if e.get("gate_stats")]
    return Lesson(f"{len(gates)} gate snapshots", len(gates) >= 2)


def all_finished_lesson(describe: Callable[[RunStore, list[str]], str]):
    def lesson(store: RunStore, run_ids: list[str]) -> Lesson:
        done = all(finished(store, r) for r in run_ids)
        return Lesson(describe(store, run_ids) if done else "running", done)
    return lesson


def twins_text(store: RunStore, run_ids: list[str]) -> str:
    parts = []
    for twin in lab.summarize_twins(store, run_ids):
        parts.append(f"{twin.clip}: {'diverged at ' + str(twin.diverged_at) if twin.diverged else twin.status}")
    return "; ".join(parts)


def sweep_text(store: RunStore, run_ids: list[str]) -> str:
    summary = lab.summarize_sweep(store, run_ids)
    solved = {arch: summary.longest_solved(arch) for arch in summary.archs}
    return "; ".join(f"{arch} solved up to T={t}" if t else f"{arch} solved no T" for arch, t in solved.items())


def threshold_lesson(metric: str, threshold: float):
    def lesson(store: RunStore, run_ids: list[str]) -> Lesson:
        scores = [e.get(metric) for e in evals(store, run_ids[0])]
        best = max((s for s in scores if isinstance(s, (int, float))), default=-math.inf)
        return Lesson(f"{metric} {best:.3f}", best >= threshold)
    return lesson


def twins_configs() -> list[RunConfig]:
    return lab.clipping_twins(lab.twins_demo_config())


def sweep_configs() -> list[RunConfig]:
    """The lab form's default sweep (its architectures and T values)."""
    from ui import lab_sweep

    seq_lens = lab_sweep.parse_seq_lens(lab_sweep.DEFAULT_SEQ_LENS)
    return lab.memory_sweep(lab.sweep_base_config(), lab_sweep.DEFAULT_ARCHS, seq_lens,
                            model_overrides={"esn": lab.ESN_MEMORY_SETTINGS})


def attention_lesson(store: RunStore, run_ids: list[str]) -> Lesson:
    """Show, Attend and Tell's point: each colour word attends to the shape it names (share of held-out colour
    words whose attention peak is on their shape), which Try's per-word overlays draw."""
    scores = [(e.get("colour_attention"), e.get("exact_match")) for e in evals(store, run_ids[0])]
    scores = [(a, m) for a, m in scores if isinstance(a, (int, float))]
    if not scores:
        return Lesson("no evaluation yet", False)
    attention, exact = scores[-1]
    return Lesson(f"colour words on their shape {attention:.2f}, exact match {exact:.2f}", attention >= 0.9)


def verdict_lesson(store: RunStore, run_ids: list[str]) -> Lesson:
    """Home's "Train it": the run has ended and Train can give its verdict, its headline metric beside the
    task's chance level (the lesson is seen when the model learned something: not at chance)."""
    from playground.runstore.summaries import headline_spec

    record = store.get_run(run_ids[0])
    if record.live:
        return Lesson("running", False)
    metric = headline_spec(record)
    value, chance = record.summary.get(metric.name), metric.chance_in(record.summary)
    if not isinstance(value, (int, float)):
        return Lesson(f"{record.status}, no {metric.label}", False)
    against = f" (chance {chance:.3g})" if chance is not None else ""
    return Lesson(f"{metric.label} {value:.3g}{against}", record.status == "completed"
                  and not metric.at_chance(value, chance))


def task_experiments() -> list[Experiment]:
    """One per registered task, as Home's "Every task, one click away" starts it: a new task is timed too."""
    from playground.tasks import TASK_SPECS
    from ui import train_form

    return [Experiment(f"Train it: {name}", lambda name=name: [train_form.task_defaults(name)], verdict_lesson)
            for name in TASK_SPECS]


EXPERIMENTS = [
    Experiment("first LSTM on tiny", lambda: [preset("A first LSTM on tiny sentences")], first_lstm_lesson),
    Experiment("exploding (no clipping)", lambda: [preset("Exploding gradients: ReLU RNN, identity init, no clipping")],
               divergence_lesson),
    Experiment("the same, clipped", lambda: [preset("The same, with clipping by norm")], clipped_lesson),
    Experiment("vanishing (tanh RNN)", lambda: [preset("Vanishing gradients: a tanh RNN on long sequences")],
               vanishing_lesson),
    Experiment("gate saturation (scratch GRU)", lambda: [preset("Gate saturation: a GRU from textbook cells")], gates_lesson),
    Experiment("clipping twins", twins_configs, all_finished_lesson(twins_text)),
    Experiment("memory sweep", sweep_configs, all_finished_lesson(sweep_text)),
    Experiment("dates to 0.95 exact match",
               lambda: [form_run(task="translation", dataset="dates", arch="gru", attention="bahdanau")],
               threshold_lesson("exact_match", 0.95)),
    Experiment("captioner: attention on the named shape",
               lambda: [form_run(task="captioning", dataset="shapes2", arch="lstm", attention="soft")], attention_lesson),
]


def flow_at_init() -> tuple[float, str]:
    """The lab's flow-at-init tab computes in the page's own process: time its default comparison."""
    started = time.perf_counter()
    results = [lab.gradient_flow_at_init(arch, 0.9, 100) for arch in ("rnn-tanh", "lstm")]
    seconds = time.perf_counter() - started
    return seconds, "; ".join(f"{r.arch}: decay {r.decay_rate:.3f}/step" for r in results if r.decay_rate)


def run(experiment: Experiment, store: RunStore, limit: float) -> tuple[float | None, float | None, str]:
    """(seconds to the lesson or None, seconds to the first recorded step, what the page can say)."""
    started = time.perf_counter()
    run_ids = [jobs.start(store, cfg) for cfg in experiment.configs()]
    first_step, lesson = None, Lesson("", False)
    try:
        while time.perf_counter() - started < limit:
            now = time.perf_counter() - started
            if first_step is None and any(store.get_run(r).step >= 1 for r in run_ids):
                first_step = now
            ended = all(finished(store, r) for r in run_ids)  # read first: the runs may end while the lesson is read
            lesson = experiment.lesson(store, run_ids)
            if lesson.seen:
                return now, first_step, lesson.text
            if ended:
                return None, first_step, f"ended without the lesson: {lesson.text}"
            time.sleep(POLL)
        return None, first_step, f"not within {limit:.0f} s: {lesson.text}"
    finally:
        for run_id in run_ids:
            jobs.stop(store, run_id)
        deadline = time.time() + 10
        while time.time() < deadline and not all(finished(store, r) for r in run_ids):
            time.sleep(0.1)


STARTUP_CASES = [
    ("char LSTM on tiny (first LSTM preset)", lambda: preset("A first LSTM on tiny sentences")),
    ("dates translation (GRU + attention)", lambda: form_run(task="translation", dataset="dates", arch="gru",
                                                              attention="bahdanau")),
    ("captioner on shapes2", lambda: form_run(task="captioning", dataset="shapes2", arch="lstm", attention="soft")),
]


def startup_seconds(store: RunStore, cfg: RunConfig, limit: float = 60.0) -> float | None:
    """Start to the first progress update (the store's step 1), polled every 10 ms; the run is stopped then."""
    started = time.perf_counter()
    run_id = jobs.start(store, cfg)
    seconds = None
    try:
        while time.perf_counter() - started < limit:
            record = store.get_run(run_id)
            if record.step >= 1:
                seconds = time.perf_counter() - started
                break
            if finished(store, run_id):
                break
            time.sleep(0.01)
    finally:
        jobs.stop(store, run_id)
        deadline = time.time() + 10
        while time.time() < deadline and not finished(store, run_id):
            time.sleep(0.05)
    return seconds


def startup_table(store: RunStore) -> None:
    """Start-up with the dataset cache empty, then filled, per task (a spare process ready each time)."""
    import shutil

    from playground.data.cache import cache_dir

    print(f"\n{'start-up to the first progress update':40} {'cache empty':>12} {'filled':>9}  target {STARTUP_TARGET} s")
    for name, config in STARTUP_CASES:
        shutil.rmtree(cache_dir(), ignore_errors=True)
        times = []
        for _ in range(2):
            time.sleep(8)  # the spare process for the next Start imports torch meanwhile, as while a user reads
            times.append(startup_seconds(store, config()))
        shown = [f"{t:11.2f}s" if t is not None else f"{'-':>12}" for t in times]
        ok = all(t is not None and t <= STARTUP_TARGET for t in times[1:])
        print(f"{name:40} {shown[0]} {shown[1]:>9}  {'ok' if ok else 'MISSED':>6}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="experiment names (substrings) to run")
    parser.add_argument("--limit", type=float, default=180.0, help="seconds to wait for one lesson")
    parser.add_argument("--no-startup-table", action="store_true", help="leave out the cache-empty/filled start-ups")
    args = parser.parse_args()
    store = RunStore()
    jobs.keep_spare_ready(store)  # as the app does on its first page ...
    time.sleep(8)  # ... and a user reads it before pressing Start, while the spare imports torch
    print(f"{'experiment':40} {'lesson after':>12} {'start-up':>9}  target {TARGET_SECONDS:.0f} s / "
          f"{STARTUP_TARGET} s   what the page shows")
    if not args.only or any(o in "flow at init" for o in args.only):
        seconds, text = flow_at_init()
        print(f"{'flow at init (in the page)':40} {seconds:11.1f}s {'-':>9}  {'ok' if seconds <= TARGET_SECONDS else 'MISSED':>6}   {text}")
    for experiment in EXPERIMENTS + task_experiments():
        if args.only and not any(o in experiment.name for o in args.only):
            continue
        time.sleep(3)  # a user reads the last lesson before the next Start (the next spare imports torch meanwhile)
        seconds, startup, text = run(experiment, store, args.limit)
        shown = f"{seconds:11.1f}s" if seconds is not None else f"{'-':>12}"
        ok = seconds is not None and seconds <= TARGET_SECONDS and (startup or 0) <= STARTUP_TARGET
        print(f"{experiment.name:40} {shown} {startup or float('nan'):8.2f}s  {'ok' if ok else 'MISSED':>6}   {text}",
              flush=True)
    if not args.no_startup_table:
        startup_table(store)


if __name__ == "__main__":
    main()
