"""Command line: `python -m playground train|runs|eval|sample|pretrain ...`.

Runs started here are recorded in the same store as the app's, so each shows up in the other.
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from pathlib import Path

import torch

from .. import atomic, devices
from ..config import DEVICES, ConfigError, RunConfig
from ..data.errors import DataError
from ..models.echo_state import echo_state_warning
from ..options import reset_unused
from ..runstore import checkpoint, pretrained, runner
from ..runstore.checkpoint import CheckpointError
from ..runstore.store import DamagedRun, RunStore
from ..runstore.summaries import headline_spec
from ..tasks.translation import attention_text
from ..train import diagnostics
from ..viz import imaging
from .describe import cmd_describe
from .lab import add_lab_parser, run_lab
from .progress import ProgressBar
from .train_flags import add_train_arguments, config_from_args, unused_flags

EXIT_CODES = {"completed": 0, "stopped": 0, "diverged": 3}


def cmd_train(args) -> int:
    store = RunStore()
    if args.run:
        run_id = args.run
        record = store.get_run(run_id)
        if record is None:
            raise ConfigError(f"no run {run_id!r} in the store at {store.root}")
        cfg = record.config
    else:
        cfg = config_from_args(args)
        unused = unused_flags(args, cfg)
        if unused:  # the CLI accepts only what the task and the cell read
            raise ConfigError(f"{', '.join(unused)} does not apply to {cfg.model.arch} on the {cfg.task.name} task "
                              "(`python -m playground describe` lists what applies)")
        reset_unused(cfg)
        check_run(cfg)  # bad data or settings: one error line, and no run row or folder left behind
        run_id = store.create_run(cfg)
        print(f"run {run_id}: {cfg.label()} (store: {store.root})", file=sys.stderr)
    callbacks = [] if args.quiet else [ProgressBar(cfg.train.steps)]
    runner.execute(store, run_id, callbacks)
    record = store.get_run(run_id)
    if record.status == "failed":
        print(f"error: {record.message}", file=sys.stderr)
    warning = echo_state_warning(store.metrics(run_id, "eval"))
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    if args.metrics_out:
        write_metrics(args.metrics_out, store, run_id)
    return EXIT_CODES.get(record.status, 2)


def check_run(cfg: RunConfig) -> None:
    """Raise the ConfigError or DataError a run would fail with, before anything is recorded."""
    devices.resolve(cfg.train.device)
    runner.prepare(cfg)


# the state Jacobian's readouts per layer (train/state_jacobian.py) and the block's largest singular value
JACOBIAN_READOUTS = ("block_singular_value", "jacobian_radius", "jacobian_norm", "gradient_growth_per_step",
                     "effective_memory", "jacobian_eigenvalues")
# a decoder's attention at every evaluation (models/attention_readouts.py); the map only at the last one
ATTENTION_READOUTS = ("attention_entropy", "attention_entropy_uniform", "attention_monotonicity")
# long lists `eval` writes to --metrics-out but does not print
UNPRINTED = ("eigenvalues", "jacobian_eigenvalues", "attention_map")


def write_metrics(path: Path, store: RunStore, run_id: str) -> None:
    """The run's results as JSON: headline numbers plus per-step gradient norms and the last gradient flow."""
    record = store.get_run(run_id)
    steps = store.metrics(run_id, "train")
    evals = store.metrics(run_id, "eval")
    last_eval = evals[-1] if evals else {}
    out = {
        "run_id": run_id, "status": record.status, "message": record.message, "device": record.summary.get("device", ""),
        "steps": record.step, "config": record.config.to_dict(),
        **{k: record.summary.get(k) for k in ("train_loss", "val_loss", "tokens_per_s", "clipped_steps", "seconds")},
        **{k: v for k, v in record.summary.items() if isinstance(v, (int, float))},
        "loss": [r["loss"] for r in steps],
        "grad_norm": [r["grad_norm"] for r in steps],
        "grad_norm_clipped": [r["grad_norm_clipped"] for r in steps],
        "gradient_flow": last_eval.get("gradient_flow", []),
        "spectral_radius": last_eval.get("spectral_radius", {}),  # the block radius: W_hh's candidate block if gated
        "block_radius": last_eval.get("spectral_radius", {}),  # the same, under the name `eval` gives it
        **{key: last_eval.get(key, {}) for key in JACOBIAN_READOUTS},
        **({"echo_state": last_eval["echo_state"]} if "echo_state" in last_eval else {}),
        # the task's own baselines, scored on the same held-out data (a forecaster's persistence, ARIMA, ...)
        **({"baselines": last_eval["baselines"]} if "baselines" in last_eval else {}),
        "eigenvalues": last_eval.get("eigenvalues", {}),  # per layer, [re, im] pairs of the block above
        **attention_series(evals),
        "sample": last_eval.get("sample", ""),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(path, json.dumps(out, indent=2))


def attention_series(evals: list[dict]) -> dict:
    """For a decoder with attention: the last evaluation's readouts and map, and each readout over training."""
    scored = [record for record in evals if "attention_entropy" in record]
    if not scored:
        return {}
    last = scored[-1]
    return {**{key: last[key] for key in ATTENTION_READOUTS if key in last}, "attention_map": last.get("attention_map"),
            "attention_labels": last.get("attention_labels"),
            "attention_over_training": [{"step": r.get("step"), **{k: r[k] for k in ATTENTION_READOUTS if k in r}}
                                        for r in scored]}


def cmd_runs(args) -> int:
    store = RunStore()
    from ..runstore.jobs import delete, reap

    if args.delete:
        return delete_runs(store, args.delete, args.yes, args.stop, delete)
    if args.rename:
        run_id, name = args.rename
        print(f"run {run_id} is now called {store.rename_run(run_id, name)!r}")
        return 0
    reap(store)
    rows = store.list_runs_and_damaged(limit=args.limit)
    if not rows:
        print(f"no runs yet in {store.root}")
        return 0
    print(f"{'run id':32} {'status':10} {'steps':>11} {'metric':>12}  name")
    for r in rows:
        if isinstance(r, DamagedRun):  # listed with its id, so it can be deleted; never hides the others
            print(f"{r.id:32} {'damaged':10} {'-':>11} {'-':>12}  {r.reason}")
            continue
        spec = headline_spec(r)
        metric = r.summary.get(spec.name)
        shown = f"{metric:.3f} {spec.unit}" if isinstance(metric, (int, float)) else "-"
        print(f"{r.id:32} {r.status:10} {f'{r.step}/{r.total_steps}':>11} {shown:>12}  {r.name}")
    return 0


def delete_runs(store: RunStore, run_ids: list[str], yes: bool, stop_first: bool, delete) -> int:
    """`runs --delete ID...`: asks first (or --yes); a live run is refused unless --stop."""
    damaged = {d.id for d in store.damaged_runs()}
    for run_id in run_ids:
        if run_id not in damaged and store.get_run(run_id) is None:
            raise ConfigError(f"there is no run {run_id!r} in {store.root}")
    if not yes:
        if not sys.stdin.isatty():
            raise ConfigError("say --yes to delete without a question (stdin is not a terminal)")
        answer = input(f"delete {len(run_ids)} run(s) with their metrics and checkpoints: {', '.join(run_ids)}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 1
    for run_id in run_ids:
        delete(store, run_id, stop_first=stop_first)
        print(f"deleted {run_id}")
    return 0


def cmd_eval(args) -> int:
    loaded = checkpoint.load(pretrained.resolve(args.ref), devices.resolve(args.device))
    cfg = loaded.config
    metrics = loaded.task.evaluate(loaded.model, cfg.train.batch_size, cfg.train.seq_len)
    metrics.update(ref=args.ref, step=loaded.meta.get("step"), device=str(next(loaded.model.parameters()).device))
    metrics.update(gradient_readouts(loaded.model, loaded.task, cfg))
    for key, value in metrics.items():
        if key in UNPRINTED:
            continue
        print(f"{key:24} {value:.4f}" if isinstance(value, float) else f"{key:24} {_readout_text(value)}")
    if args.metrics_out:
        args.metrics_out.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_text(args.metrics_out, json.dumps(metrics, indent=2))
    return 0


# `eval` measures the state Jacobian more thoroughly than an evaluation during training: 16 full Jacobians per
# layer and every step of the probe
EVAL_JACOBIANS = 16


def gradient_readouts(model, task, cfg: RunConfig) -> dict:
    """The block radius, its largest singular value and the state Jacobian's readouts on the held-out probe."""
    probe = task.probe_batch(cfg.train.batch_size, cfg.train.seq_len)
    device = next(model.parameters()).device
    probe = {key: value.to(device) if isinstance(value, torch.Tensor) else value for key, value in probe.items()}
    return {"block_radius": diagnostics.spectral_radii(model), "eigenvalues": diagnostics.eigenvalues(model),
            **model.diagnostics(probe),
            **diagnostics.block_singular_values_and_jacobian(model, probe, max_positions=EVAL_JACOBIANS,
                                                              max_steps=None)}


def _readout_text(value) -> str:
    """{layer: number} as 'l0 1.17, l1 0.98'; anything else as it is."""
    if isinstance(value, dict) and all(isinstance(v, (int, float)) or v is None for v in value.values()):
        return ", ".join(f"{k} {'-' if v is None else f'{v:.4g}'}" for k, v in value.items()) or "-"
    return str(value)


def cmd_sample(args) -> int:
    loaded = checkpoint.load(pretrained.resolve(args.ref), devices.resolve(args.device))
    generator = torch.Generator().manual_seed(args.seed)
    out = loaded.task.sample(loaded.model, length=args.length, temperature=args.temperature, prime=args.prime,
                             top_k=args.top_k, generator=generator)
    print(out["prime"] + out["text"])
    return 0


def cmd_caption(args) -> int:
    """Caption a described (--scene) or random (--seed) scene; print the caption, optionally write PNGs."""
    if args.scene is None and args.seed is None:
        raise ConfigError('say which scene: --scene "a small red circle above a large blue square" or --seed N')
    loaded = checkpoint.load(pretrained.resolve(args.ref), devices.resolve(args.device))
    task = loaded.task
    if not hasattr(task, "caption"):
        raise ConfigError(f"{args.ref} is a {loaded.config.task.name} model, not a captioner")
    scene = task.parse_scene(args.scene, seed=args.seed or 0) if args.scene else task.random_scene(args.seed)
    out = task.caption(loaded.model, scene, beam=args.beam)
    print(out["caption"])
    print(f"scene: {scene.caption}" + ("  (matched)" if out["caption"] == scene.caption else ""), file=sys.stderr)
    image = task.render(scene)
    if args.out:
        imaging.write_png(args.out, imaging.enlarge(image, args.scale))
    if args.attention_out:
        if out["attention"] is None:
            raise ConfigError(f"{args.ref} has no attention (attention = none): nothing to write to --attention-out")
        overlays = [imaging.enlarge(imaging.attention_overlay(image, a), args.scale) for a in out["attention"]]
        imaging.write_png(args.attention_out, imaging.strip(overlays))
        print("attention strip, one panel per word: " + " | ".join(out["words"]), file=sys.stderr)
    return 0


def cmd_translate(args) -> int:
    """Translate one sentence with a run's or a pretrained translation model; print the output first."""
    loaded = checkpoint.load(pretrained.resolve(args.ref), devices.resolve(args.device))
    if not hasattr(loaded.task, "translate"):
        raise ConfigError(f"{args.ref} is a {loaded.config.task.name} model, not a translation model")
    out = loaded.task.translate(loaded.model, args.text, beam=args.beam)
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    print(out["output"])
    if out["unknown"]:
        print(f"note: never seen in training, read as <unk>: {' '.join(out['unknown'])}", file=sys.stderr)
    if args.beam > 1:
        print(f"beam of {args.beam}, best first (log-probability, probability):")
        for alt in out["alternatives"]:
            print(f"  {alt['score']:9.4f}  {alt['probability']:<9.3g}  {alt['output']}")
    if args.attention_map:
        if out["attention"] is None:
            raise ConfigError(f"{args.ref} has no attention (attention = none): there is no map to show")
        print(attention_text(out["source_tokens"], out["output_tokens"], out["attention"]))
    return 0


def cmd_inspect(args) -> int:
    """Every unit's activation over a text (or the task's held-out example) as JSON; with --find, the units that
    follow a regular expression and the correlation chance gives."""
    from ..explorer.activations import explore  # here: the explorer is needed by this command alone

    if args.text is not None and args.file is not None:
        raise ConfigError("give --text or --file, not both")
    text = args.text
    if args.file is not None:
        try:
            text = args.file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise DataError(f"{args.file} is not UTF-8 text") from None
    if args.units < 1:
        raise ConfigError("--units must be at least 1")
    loaded = checkpoint.load(pretrained.resolve(args.ref), devices.resolve(args.device))
    exploration = explore(loaded.model, loaded.task, text)
    out = {"ref": args.ref, "step": loaded.meta.get("step"), "arch": loaded.config.model.arch,
           **exploration.to_dict(find=args.find, units=args.units)}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(args.json, json.dumps(out, ensure_ascii=False))
    shapes = "; ".join(f"{core}: " + ", ".join(f"{part} {'x'.join(map(str, values.shape))}" for part, values in parts.items())
                       for core, parts in exploration.traces.items())
    print(f"wrote {args.json} ({shapes}, layers x units x positions)")
    if "find" in out:
        found = out["find"]
        baseline = found["shuffled_baseline"]
        print(f"units following {found['pattern']!r} (shuffled baseline of the best unit: mean {baseline['mean']:.3f}, "
              f"95th percentile {baseline['p95']:.3f}):")
        for unit in found["best"]:
            print(f"  {unit['part']:>8} layer {unit['layer']} unit {unit['unit']:<5} r = {unit['correlation']:+.3f}")
    return 0


def cmd_lab(args) -> int:
    """The gradient lab's experiments: `lab flow`, `lab twins`, `lab sweep` (see cli/lab.py)."""
    return run_lab(args)


def cmd_pretrain(args) -> int:
    unknown = set(args.only or []) - set(pretrained.RECIPES)
    if unknown:
        raise ConfigError(f"unknown pretrained recipe(s) {', '.join(sorted(unknown))}; known: {', '.join(pretrained.RECIPES)}")
    torch.set_num_threads(args.threads)
    for name in args.only or list(pretrained.RECIPES):
        bar = [] if args.quiet else [ProgressBar(pretrained.RECIPES[name].train.steps)]
        pretrained.pretrain([name], args.out, bar)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m playground", description="Sequence Playground from the terminal.")
    parser.add_argument("--home", help="the store folder (default: $PLAYGROUND_HOME or runs/ beside the code)")
    sub = parser.add_subparsers(dest="command", required=True)
    add_train_arguments(sub.add_parser("train", help="train a model (recorded in the run store)"))
    p = sub.add_parser("runs", help="list recorded runs, or rename or delete some")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--delete", nargs="+", metavar="ID", help="delete these runs with their metrics and checkpoints")
    p.add_argument("--yes", action="store_true", help="with --delete: do not ask first")
    p.add_argument("--stop", action="store_true", help="with --delete: stop a run that is still training (else refused)")
    p.add_argument("--rename", nargs=2, metavar=("ID", "NAME"), help="give a run the name lists and legends show")
    p = sub.add_parser("eval", help="score a run's or a pretrained model's checkpoint on held-out data")
    p.add_argument("ref", help="run id, pretrained model name or checkpoint folder")
    p.add_argument("--device", choices=DEVICES, default="auto")
    p.add_argument("--metrics-out", type=Path)
    p = sub.add_parser("sample", help="generate text from a run or a pretrained model")
    p.add_argument("ref", help="run id, pretrained model name or checkpoint folder")
    p.add_argument("--length", type=int, default=300)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--prime", default="")
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=DEVICES, default="auto")
    p = sub.add_parser("caption", help="caption a generated scene with a run's or a pretrained captioner")
    p.add_argument("ref", help="run id, pretrained model name (e.g. captioner) or checkpoint folder")
    p.add_argument("--scene", help='a description: "a small red circle above a large blue square" (relations: '
                                   "above, below, left of, right of; the size is optional)")
    p.add_argument("--seed", type=int, help="draw a random scene from this seed (with --scene: seeds the positions)")
    p.add_argument("--beam", type=int, default=1, help="beam width (1 = greedy decoding)")
    p.add_argument("--out", type=Path, help="write the scene as a PNG")
    p.add_argument("--attention-out", type=Path, help="write each word's attention over the scene as a PNG strip")
    p.add_argument("--scale", type=int, default=4, choices=range(1, 17), metavar="1-16",
                   help="enlarge the PNGs this many times (default 4)")
    p.add_argument("--device", choices=DEVICES, default="auto")
    p = sub.add_parser("translate", help="translate a sentence with a run's or a pretrained translation model")
    p.add_argument("ref", help="run id, pretrained model name (dates, numbers) or checkpoint folder")
    p.add_argument("text", help='the sentence, e.g. "tuesday 3 march 1998"')
    p.add_argument("--beam", type=int, default=1, help="beam width (1 = greedy); >1 also lists the alternatives")
    p.add_argument("--attention-map", action="store_true", help="print the attention weights (output x input tokens)")
    p.add_argument("--json", action="store_true", help="print everything (output, attention, alternatives) as JSON")
    p.add_argument("--device", choices=DEVICES, default="auto")
    p = sub.add_parser("inspect", help="every unit's activation over a text, and the units that follow a pattern")
    p.add_argument("ref", help="run id, pretrained model name or checkpoint folder")
    p.add_argument("--text", help="the text to read (default: the task's held-out example)")
    p.add_argument("--file", type=Path, help="read the text from this UTF-8 file")
    p.add_argument("--find", metavar="REGEX", help=r'rank the units by correlation with the characters a regular '
                                                   r'expression matches, e.g. "\d" or "^[ ]+"')
    p.add_argument("--units", type=int, default=10, help="how many of the best units --find lists (default 10)")
    p.add_argument("--json", type=Path, required=True, metavar="OUT", help="write the activations here")
    p.add_argument("--device", choices=DEVICES, default="auto")
    add_lab_parser(sub)
    p = sub.add_parser("describe", help="list every task and architecture and what each says about itself")
    p.add_argument("--json", action="store_true", help="print it as JSON (for tooling)")
    p = sub.add_parser("pretrain", help="regenerate the shipped models in pretrained/")
    p.add_argument("--only", nargs="*", help=f"some of: {', '.join(pretrained.RECIPES)}")
    p.add_argument("--out", type=Path, default=pretrained.PRETRAINED_DIR)
    p.add_argument("--threads", type=int, default=max(1, (os.cpu_count() or 1)))
    p.add_argument("--quiet", action="store_true")
    return parser


COMMANDS = {"train": cmd_train, "runs": cmd_runs, "eval": cmd_eval, "sample": cmd_sample, "caption": cmd_caption, "translate": cmd_translate,
            "inspect": cmd_inspect,
            "pretrain": cmd_pretrain, "lab": cmd_lab, "describe": cmd_describe}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.home:
        os.environ["PLAYGROUND_HOME"] = str(Path(args.home).resolve())
    try:
        return COMMANDS[args.command](args)
    except (ConfigError, DataError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OSError, sqlite3.OperationalError) as exc:
        if atomic.no_space(exc) or "disk is full" in str(exc):  # one line, like every other bad situation
            print(f"error: no space left on the disk: {exc.strerror if isinstance(exc, OSError) else exc}",
                  file=sys.stderr)
            return 2
        raise
    except KeyboardInterrupt:
        return 130
