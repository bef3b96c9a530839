"""`python -m playground lab flow|twins|omega|sweep`: the gradient lab from the terminal.

    lab flow  --arch rnn-tanh --arch lstm --spectral-radius 0.9 --spectral-radius 1.2
    lab twins                       (an IRNN on temporal-order whose gradients explode; any train flag changes it)
    lab twins --arch lstm --task adding --seq-len 100 --norm-threshold 1 --value-threshold 0.05
    lab omega                       (a tanh RNN on adding, T=50, without and with Pascanu et al.'s Omega penalty)
    lab sweep --task adding --archs rnn-tanh lstm --seq-lens 10 20 40
    lab sweep --background ...      (start the runs as jobs; the app's Gradients page follows them)
    lab sweep --show GROUP          (the summary of a sweep started earlier; likewise lab twins --show GROUP)

Training experiments are recorded in the run store like any run (their `group` ties them together).
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from .. import atomic
from ..config import ConfigError
from ..experiments import lab
from ..models.cells import CELLS
from ..runstore.store import RunStore
from ..tasks import TASK_SPECS
from .progress import ProgressBar
from .train_flags import add_train_arguments, config_from_args

ARCHITECTURES = tuple(CELLS)  # every cell in the registry
LONG_MEMORY_TASKS = tuple(name for name, spec in TASK_SPECS.items() if spec.generates_sequences)
DEFAULT_FLOW_ARCHS = ["rnn-tanh", "lstm", "gru", "esn"]
DEFAULT_SWEEP_ARCHS = ["rnn-tanh", "lstm", "gru", "esn"]
DEFAULT_SEQ_LENS = [10, 20, 40, 80]


def add_lab_parser(sub) -> None:
    p = sub.add_parser("lab", help="gradient lab: gradient flow at init, clipping twins, how long a model remembers")
    experiments = p.add_subparsers(dest="experiment", required=True)

    f = experiments.add_parser("flow", help="||dL_T/dx_t|| of untrained models against lag, beside radius^lag")
    f.add_argument("--arch", action="append", choices=ARCHITECTURES,
                   help=f"repeat for several (default {' '.join(DEFAULT_FLOW_ARCHS)})")
    f.add_argument("--spectral-radius", type=float, action="append", help="of W_hh; repeat for several (default 0.9)")
    f.add_argument("--seq-len", type=int, default=100, help="T (default 100)")
    f.add_argument("--hidden", type=int, default=64, help="hidden units (default 64)")
    f.add_argument("--task", choices=LONG_MEMORY_TASKS, default="adding", help="probe sequences (default adding)")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--every", type=int, default=10, help="print every N-th lag (default 10)")
    f.add_argument("--json", type=Path, help="write every curve as JSON to this file")

    t = experiments.add_parser("twins", help="train one model three times: no clipping, clip by norm, clip by value")
    add_train_arguments(t)
    t.add_argument("--norm-threshold", type=float, default=lab.TWINS_NORM_THRESHOLD,
                   help=f"clip-by-norm twin's max global norm (default {lab.TWINS_NORM_THRESHOLD:g})")
    t.add_argument("--value-threshold", type=float, default=lab.TWINS_VALUE_THRESHOLD,
                   help=f"clip-by-value twin's max |gradient| (default {lab.TWINS_VALUE_THRESHOLD:g})")
    _add_group_options(t)

    o = experiments.add_parser("omega", help="train one tanh RNN twice: without and with the Omega penalty")
    add_train_arguments(o)
    o.add_argument("--omega-weight", type=float, default=lab.OMEGA_WEIGHT,
                   help=f"the Omega twin's penalty weight (default {lab.OMEGA_WEIGHT:g})")
    _add_group_options(o)

    s = experiments.add_parser("sweep", help="train each architecture at each T; held-out metric against T")
    add_train_arguments(s)
    s.add_argument("--archs", nargs="+", choices=ARCHITECTURES, default=DEFAULT_SWEEP_ARCHS)
    s.add_argument("--seq-lens", nargs="+", type=int, default=DEFAULT_SEQ_LENS, metavar="T")
    s.add_argument("--esn-defaults", action=argparse.BooleanOptionalAction, default=True,
                   help=f"give esn runs a memory-friendly reservoir {lab.ESN_MEMORY_SETTINGS} (default on)")
    _add_group_options(s)


def _add_group_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--background", action="store_true", help="start the runs as background jobs and return")
    p.add_argument("--show", metavar="GROUP", help="print the summary of runs started earlier with this group label")


def run_lab(args) -> int:
    return {"flow": cmd_flow, "twins": cmd_twins, "sweep": cmd_sweep, "omega": cmd_omega}[args.experiment](args)


# -- flow ---------------------------------------------------------------------------------------------------
def cmd_flow(args) -> int:
    archs = args.arch or DEFAULT_FLOW_ARCHS
    radii = args.spectral_radius or [0.9]
    results = [lab.gradient_flow_at_init(arch, radius, args.seq_len, args.hidden, args.task, args.seed)
               for radius in radii for arch in archs]
    headers = [f"{r.arch} ρ={r.spectral_radius:g}" for r in results]
    print(f"||dL_T/dx_t|| at initialisation, {args.task}, T={args.seq_len}, hidden {args.hidden}, seed {args.seed}")
    print(f"{'lag':>5}  " + "  ".join(f"{h:>16}" for h in headers) + "  " +
          "  ".join(f"{f'ρ^lag (ρ={r:g})':>16}" for r in radii))
    for lag in range(0, args.seq_len, max(1, args.every)):
        measured = "  ".join(f"{r.flow[lag]:16.3e}" for r in results)
        theory = "  ".join(f"{radius ** lag:16.3e}" for radius in radii)
        print(f"{lag:>5}  {measured}  {theory}")
    print()
    for header, r in zip(headers, results):
        rate = "-" if r.decay_rate is None else f"{r.decay_rate:.3f}"
        decade = "" if r.steps_per_decade is None else f" (x10 every {r.steps_per_decade:.1f} steps)"
        print(f"{header:>20}: per-step factor {rate}: {r.verdict}{decade}; {_layer0(r)}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_text(args.json, json.dumps([r.to_dict() for r in results], indent=2))
    return 0


def _layer0(r) -> str:
    """The first layer's block radius, largest singular value, Jacobian radius and growth per step, in words."""
    parts = [f"block radius {_number(r.measured_radius.get('l0'))}",
             f"largest singular value {_number(r.largest_singular_value.get('l0'))}"]
    if r.jacobian:
        parts += [f"Jacobian radius {_number(r.jacobian['jacobian_radius'].get('l0'))}",
                  f"gradient growth {_number(r.jacobian['gradient_growth_per_step'].get('l0'))}/step"]
    return ", ".join(parts)


# -- twins and sweeps ------------------------------------------------------------------------------------------
def _start_or_run(store: RunStore, configs, args) -> list[str]:
    if args.background:
        run_ids = lab.start_group(store, configs)
        print(f"started {len(run_ids)} runs in group {configs[0].group} (store: {store.root}); "
              f"see them with: python -m playground lab {args.experiment} --show {configs[0].group}", file=sys.stderr)
        return []
    bars = (lambda cfg: []) if args.quiet else (lambda cfg: [ProgressBar(cfg.train.steps)])
    return lab.run_in_process(store, configs, bars)


def _group_run_ids(store: RunStore, group: str) -> list[str]:
    records = lab.runs_in_group(store, group)
    if not records:
        raise ConfigError(f"no runs in group {group!r} in the store at {store.root}")
    return [r.id for r in records]


def cmd_twins(args) -> int:
    store = RunStore()
    if args.show:
        run_ids = _group_run_ids(store, args.show)
    else:
        base = config_from_args(args, base=lab.twins_demo_config())
        configs = lab.clipping_twins(base, args.norm_threshold, args.value_threshold, group=args.group or None)
        print(f"clipping twins of {base.label()} (group {configs[0].group})", file=sys.stderr)
        run_ids = _start_or_run(store, configs, args)
        if not run_ids:
            return 0
    twins = lab.summarize_twins(store, run_ids)
    metric = twins[0].metric if twins else "metric"
    print(f"{'twin':60} {'status':10} {'steps':>6} {'clipped':>8} {'diverged':>9} {'final loss':>11} "
          f"{'max |g|':>10} {'held-out ' + metric:>22} {'chance':>7}")
    for t in twins:
        diverged = f"step {t.diverged_at}" if t.diverged else "no"
        print(f"{t.name[:60]:60} {t.status:10} {t.steps:>6} {t.clipped_steps:>8} {diverged:>9} "
              f"{_number(t.final_loss):>11} {_number(t.max_grad_norm):>10} {_number(t.value):>22} {_number(t.chance):>7}")
    _write_json(args.metrics_out, [{k: v for k, v in asdict(t).items()} for t in twins])
    return 0


def cmd_omega(args) -> int:
    store = RunStore()
    if args.show:
        run_ids = _group_run_ids(store, args.show)
    else:
        base = config_from_args(args, base=lab.omega_demo_config())
        configs = lab.omega_twins(base, args.omega_weight, group=args.group or None)
        print(f"Omega twins of {base.label()} (group {configs[0].group})", file=sys.stderr)
        run_ids = _start_or_run(store, configs, args)
        if not run_ids:
            return 0
    twins = lab.summarize_omega(store, run_ids)
    for t in twins:
        print(f"{t.name} ({t.status}, {_number(t.seconds)} s; final Omega {_number(t.final_omega)})")
        print(f"  {'step':>6} {'held-out ' + t.metric:>16} {'flow at t<' + str(lab.FIRST_STEPS):>14} {'flow at T':>10}")
        flows = dict(t.first_steps_flow)
        last = dict(t.last_step_flow)
        for step, value in t.metric_by_step:
            print(f"  {step:>6} {_number(value):>16} {_number(flows.get(step)):>14} {_number(last.get(step)):>10}")
    _write_json(args.metrics_out, [asdict(t) for t in twins])
    return 0


def cmd_sweep(args) -> int:
    store = RunStore()
    if args.show:
        run_ids = _group_run_ids(store, args.show)
    else:
        base = config_from_args(args, base=lab.sweep_base_config())
        if base.task.name not in LONG_MEMORY_TASKS:
            raise ConfigError(f"a memory sweep needs a long-memory task: --task {' | '.join(LONG_MEMORY_TASKS)}")
        overrides = {"esn": lab.ESN_MEMORY_SETTINGS} if args.esn_defaults else None
        configs = lab.memory_sweep(base, args.archs, args.seq_lens, group=args.group or None, model_overrides=overrides)
        print(f"memory sweep on {base.task.name}: {len(configs)} runs (group {configs[0].group})", file=sys.stderr)
        run_ids = _start_or_run(store, configs, args)
        if not run_ids:
            return 0
    summary = lab.summarize_sweep(store, run_ids)
    better = "higher" if summary.higher_is_better else "lower"
    print(f"held-out {summary.metric} ({better} is better; solved at {_number(summary.solved_threshold)}) "
          f"on {summary.task}; * = solved")
    seq_lens = sorted({c.seq_len for c in summary.cells})
    print(f"{'T':>6}  {'chance':>8}  " + "  ".join(f"{a:>10}" for a in summary.archs))
    for seq_len in seq_lens:
        row = []
        chance = next((c.chance for c in summary.cells if c.seq_len == seq_len and c.chance is not None), None)
        for arch in summary.archs:
            cell = next((c for c in summary.cells if c.arch == arch and c.seq_len == seq_len), None)
            row.append(f"{_number(cell.metric) + ('*' if cell.solved else ' ') if cell else '':>10}")
        print(f"{seq_len:>6}  {_number(chance):>8}  " + "  ".join(row))
    print("longest T solved: " + ", ".join(f"{a} {summary.longest_solved(a) or '-'}" for a in summary.archs))
    _write_json(args.metrics_out, {"task": summary.task, "metric": summary.metric,
                                   "solved_threshold": summary.solved_threshold,
                                   "longest_solved": {a: summary.longest_solved(a) for a in summary.archs},
                                   "cells": [asdict(c) for c in summary.cells]})
    return 0


def _number(value) -> str:
    return "-" if value is None else f"{value:.4g}"


def _write_json(path: Path | None, data) -> None:
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_text(path, json.dumps(data, indent=2))
