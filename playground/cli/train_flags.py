"""The training flags of `train` and the lab's commands, generated from `options.SETTINGS`: every
config field is a flag (named after it), with the field's comment as its help."""
from __future__ import annotations

import argparse
from pathlib import Path

from .. import options
from ..config import ATTENTION_ALIASES, RunConfig, TaskConfig
from ..tasks import TASK_SPECS

RUN_FLAGS = ("run", "config", "name", "group", "metrics_out", "quiet")  # flags that are about the run, not a setting


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run", help="train a run already recorded in the store (how the app starts runs)")
    p.add_argument("--config", type=Path, help="a RunConfig JSON file; flags given as well override it")
    p.add_argument("--name", help="a label for lists and legends")
    p.add_argument("--group", help="a label shared by runs started together (a race, clipping twins, a sweep)")
    for s in options.SETTINGS:
        kwargs: dict = {"dest": s.path.replace(".", "__"), "default": None, "metavar": s.field.upper(),
                        "help": f"{s.comment} (default {s.default!r})".replace("%", "%%")}
        if s.type is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
            del kwargs["metavar"]
        else:
            kwargs["type"] = s.type
            values = options.choices(s)
            if s.path == "model.attention":
                values = tuple(dict.fromkeys(a for spec in TASK_SPECS.values() for a in spec.attention)) + tuple(
                    ATTENTION_ALIASES)
            if values and s.widget in ("select", "segmented", "radio") and s.path not in ("task.dataset", "task.name"):
                kwargs["choices"], kwargs["metavar"] = values, "{" + ",".join(map(str, values)) + "}"
        p.add_argument(f"--{s.cli_flag}", **kwargs)
    p.add_argument("--metrics-out", type=Path, help="write the run's metrics as JSON to this file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def given_settings(args: argparse.Namespace) -> dict[str, object]:
    """{config path: value} of every setting flag given on the command line."""
    found = {}
    for s in options.SETTINGS:
        value = getattr(args, s.path.replace(".", "__"), None)
        if value is not None:
            found[s.path] = value
    return found


def config_from_args(args: argparse.Namespace, base: RunConfig | None = None) -> RunConfig:
    """The run the flags describe: --config (or `base`, or the defaults) with every given flag applied."""
    if args.config:
        cfg = RunConfig.from_json(args.config.read_text())
    else:
        cfg = RunConfig.from_dict(base.to_dict()) if base is not None else RunConfig()
    given = given_settings(args)
    if "model.attention" in given:
        given["model.attention"] = ATTENTION_ALIASES.get(given["model.attention"], given["model.attention"])
    for path, value in given.items():
        options.setting(path).set(cfg, value)
    if "task.dataset" not in given and not given.get("task.data_path") and cfg.task.dataset == TaskConfig.dataset:
        # no dataset named anywhere: the task's own default ("shapes2" for captioning), not the char corpus
        spec = TASK_SPECS.get(cfg.task.name)
        cfg.task.dataset = (spec.default_dataset if spec else "") or cfg.task.dataset
    if given.get("task.data_path"):
        cfg.task.data_path = str(Path(given["task.data_path"]).resolve())
        cfg.task.dataset = Path(given["task.data_path"]).stem
    options.resolve_task(cfg)
    if args.name:
        cfg.name = args.name
    if args.group:
        cfg.group = args.group
    return cfg.validate()


def unused_flags(args: argparse.Namespace, cfg: RunConfig) -> list[str]:
    """The setting flags given that do not apply to this run's task and cell (they are not recorded)."""
    return [f"--{options.setting(path).cli_flag}" for path in given_settings(args)
            if not options.applies(options.setting(path), cfg) and not options.consumed_by(path, cfg.task.name)]
