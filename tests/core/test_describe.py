"""`python -m playground describe [--json]` and the settings table behind the CLI and the Train form."""
from __future__ import annotations

import json
import math

import pytest

from playground import cli, options
from playground.config import RunConfig
from playground.models.cells import CELLS
from playground.tasks import TASK_SPECS, TASKS


def test_describe_json_lists_every_task_and_architecture(capsys):
    assert cli.main(["describe", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    tasks = {t["name"]: t for t in data["tasks"]}
    assert set(tasks) == set(TASKS)
    for name, task in tasks.items():
        assert task["title"] and task["headline"] in {m["name"] for m in task["metrics"]}
        for metric in task["metrics"]:
            assert metric["unit"] and isinstance(metric["higher_is_better"], bool)
            assert "chance" in metric and "solved" in metric
        assert task["settings"]["train.steps"] == "Steps"  # the generic ones are listed too
    assert tasks["adding"]["settings"]["train.seq_len"] == "T (sequence length)"
    assert tasks["char"]["settings"]["train.seq_len"].startswith("Truncated-BPTT window")
    assert "train.seq_len" not in tasks["translation"]["settings"]  # a pair is as long as it is
    adding = {m["name"]: m for m in tasks["adding"]["metrics"]}["mse"]
    assert adding["unit"] == "MSE" and adding["higher_is_better"] is False
    assert adding["chance"] == pytest.approx(1 / 6) and adding["solved"] == 0.01
    order = {m["name"]: m for m in tasks["temporal-order"]["metrics"]}["accuracy"]
    assert order["chance"] == 0.25 and order["higher_is_better"] is True
    archs = {a["name"]: a for a in data["architectures"]}
    assert set(archs) == set(CELLS)
    assert archs["lstm"]["state_parts"] == ["h", "c"] and archs["lstm"]["backends"] == ["fused", "scratch"]
    assert archs["esn"]["backends"] == [] and "leak_rate" in archs["esn"]["settings"]
    concerns = {o["name"]: o for o in data["options"]}
    assert concerns["ReservoirOptions"]["fields"] == ["leak_rate", "input_scaling", "sparsity", "ridge", "washout"]
    assert concerns["TranslationOptions"]["section"] == "task" and concerns["TranslationOptions"]["about"]
    flags = {s["flag"] for s in data["settings"]}
    assert {"--weight-decay", "--momentum", "--eval-batches", "--sample-temperature"} <= flags


def test_describe_text_names_units_and_chance(capsys):
    assert cli.main(["describe"]) == 0
    out = capsys.readouterr().out
    assert "metric mse (MSE, lower is better, chance 0.167, solved at 0.01) [headline]" in out
    assert "lstm: LSTM" in out and "state: (h, c)" in out


def test_every_config_field_is_in_the_settings_table():
    assert options.check_complete() == []
    for s in options.SETTINGS:
        assert s.comment, f"{s.path} has no comment in config.py to explain it"


def test_old_configs_load_as_they_are(tmp_path):
    """The options dataclasses keep each section one flat JSON object: configs written before them, the
    shipped pretrained/ ones among them, load unchanged and round-trip."""
    from pathlib import Path

    shipped = sorted((Path(__file__).resolve().parents[2] / "pretrained").glob("*/config.json"))
    assert shipped
    for path in shipped:
        saved = json.loads(path.read_text())["config"]
        cfg = RunConfig.from_dict(saved).validate()
        assert RunConfig.from_json(cfg.to_json()) == cfg
        assert cfg.to_dict()["task"].keys() >= saved["task"].keys()


def test_every_task_declares_a_complete_spec():
    for name, task in TASKS.items():
        spec = TASK_SPECS[name]
        assert task.about is spec and spec.name == name and task.headline_metric == spec.headline
        assert spec.loss is not None and spec.headline_metric is not None
        for path in spec.settings:
            assert path in options.BY_PATH, f"{name} declares an unknown setting {path}"
        for arch, attention, _bi in spec.race_entrants:
            assert arch in CELLS and (attention == "none" or attention in spec.attention)


def test_weight_decay_and_momentum_reach_the_config_from_the_cli():
    args = cli.build_parser().parse_args(["train", "--optimizer", "sgd", "--momentum", "0.5", "--weight-decay",
                                          "0.01", "--eval-batches", "2", "--no-bidirectional"])
    cfg = cli.config_from_args(args)
    assert (cfg.train.momentum, cfg.train.weight_decay, cfg.train.eval_batches) == (0.5, 0.01, 2)
    assert cfg.model.bidirectional is False


def test_a_flag_that_does_not_apply_is_one_clear_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path))
    assert cli.main(["train", "--arch", "lstm", "--leak-rate", "0.5", "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --leak-rate does not apply to lstm") and len(err.strip().splitlines()) == 1


def test_settings_that_do_not_apply_are_not_recorded():
    cfg = RunConfig()
    cfg.model.leak_rate, cfg.train.momentum, cfg.model.arch = 0.3, 0.5, "lstm"  # adam: momentum waits, not reset
    options.reset_unused(cfg)
    assert cfg.model.leak_rate == 1.0 and cfg.train.momentum == 0.5
    esn = RunConfig()
    esn.model.arch, esn.train.lr, esn.train.clip = "esn", 0.5, "value"
    options.reset_unused(esn)  # a reservoir trains by no gradient: optimiser and clipping do not apply
    assert esn.train.lr == RunConfig().train.lr and esn.train.clip == "norm"
    applied = {s.path for s in options.applying(RunConfig(task=RunConfig().task.__class__(name="adding")))}
    assert "model.embedding" not in applied and "task.dataset" not in applied and "train.seq_len" in applied


def test_at_chance_is_judged_in_the_metric_s_direction():
    accuracy = TASK_SPECS["temporal-order"].headline_metric
    assert accuracy.at_chance(0.26, 0.25) and not accuracy.at_chance(0.6, 0.25)
    mse = TASK_SPECS["adding"].headline_metric
    assert mse.at_chance(0.16, 1 / 6) and not mse.at_chance(0.05, 1 / 6) and not mse.at_chance(math.nan, 1 / 6)
    assert accuracy.chance_in({"chance": 0.125}) == 0.125 and accuracy.chance_in({}) == 0.25


def test_every_task_setting_a_task_reads_is_in_its_spec():
    """A setting left out of a task's spec would be reset to its default before a run is recorded: every
    TaskConfig field a task's code reads must be listed."""
    import dataclasses
    import inspect
    import re

    from playground.config import TaskConfig
    from playground.tasks.memory import MemoryTask

    fields = {f.name for f in dataclasses.fields(TaskConfig)} - {"name", "dataset"}
    for name, task in TASKS.items():
        if issubclass(task, MemoryTask):
            source = inspect.getsource(task) + inspect.getsource(MemoryTask)
        else:
            source = inspect.getsource(inspect.getmodule(task))
        read = set(re.findall(r"cfg\.(\w+)", source)) & fields
        listed = {path.split(".")[1] for path in TASK_SPECS[name].settings if path.startswith("task.")}
        assert read <= listed, f"{name} reads {sorted(read - listed)} without declaring them"
