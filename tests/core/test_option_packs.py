"""A task's own options (an option pack): declared and registered in the task's file, held by the config
under the pack's name, round-tripped through JSON, validated, and made into flags by a settings row."""
from __future__ import annotations

import argparse
from dataclasses import dataclass

import pytest

from playground import config, options
from playground.cli import train_flags
from playground.config import ConfigError, RunConfig
from playground.setting import Setting


@dataclass
class ToyOptions:
    horizon: int = 1  # toy: values predicted at once
    season: str = "none"  # toy: the season's name

    def validate(self) -> None:
        if not 1 <= self.horizon <= 50:
            raise ConfigError("horizon must be between 1 and 50")


@pytest.fixture
def toy_pack(monkeypatch):
    monkeypatch.setitem(config._PACKS, "task", {**config._PACKS["task"]})
    config.register_options("task", "toy")(ToyOptions)
    return Setting("task.toy.horizon", label="Horizon", widget="number", low=1, high=50, step=1)


def test_a_pack_reads_as_its_defaults_until_set(toy_pack):
    cfg = RunConfig()
    assert cfg.task.toy.horizon == 1
    cfg.task.toy.horizon = 4
    assert cfg.task.toy.horizon == 4 and cfg.task.packs["toy"] == ToyOptions(horizon=4)


def test_a_pack_round_trips_through_json_under_its_name(toy_pack):
    cfg = RunConfig()
    cfg.task.toy.horizon, cfg.task.toy.season = 7, "weekly"
    data = cfg.to_dict()
    assert data["task"]["toy"] == {"horizon": 7, "season": "weekly"} and "packs" not in data["task"]
    back = RunConfig.from_json(cfg.to_json())
    assert back.task.toy == ToyOptions(7, "weekly") and back == cfg
    assert "toy" not in RunConfig().to_dict()["task"]  # a pack no one touched is not recorded


def test_a_pack_is_validated_with_the_config(toy_pack):
    cfg = RunConfig()
    cfg.task.toy.horizon = 99
    with pytest.raises(ConfigError, match="horizon must be between 1 and 50"):
        cfg.validate()
    with pytest.raises(ConfigError, match="ToyOptions.horizon must be a whole number"):
        RunConfig.from_dict({"task": {"toy": {"horizon": "4"}}})
    with pytest.raises(ConfigError, match="unknown ToyOptions setting"):
        RunConfig.from_dict({"task": {"toy": {"horizn": 4}}})
    cfg.task.toy.horizon = float("nan")
    with pytest.raises(ConfigError, match="finite"):
        cfg.validate()


def test_a_packs_row_reads_its_type_default_and_comment(toy_pack):
    assert (toy_pack.type, toy_pack.default, toy_pack.url_key, toy_pack.cli_flag) == (int, 1, "horizon", "horizon")
    assert toy_pack.comment == "toy: values predicted at once"
    cfg = RunConfig()
    toy_pack.set(cfg, 12)
    assert toy_pack.get(cfg) == 12 == cfg.task.toy.horizon


def test_a_packs_row_becomes_a_cli_flag(toy_pack, monkeypatch):
    monkeypatch.setattr(options, "SETTINGS", options.SETTINGS + (toy_pack,))
    monkeypatch.setitem(options.BY_PATH, toy_pack.path, toy_pack)
    parser = argparse.ArgumentParser()
    train_flags.add_train_arguments(parser)
    cfg = train_flags.config_from_args(parser.parse_args(["--horizon", "5", "--steps", "3"]))
    assert cfg.task.toy.horizon == 5 and cfg.train.steps == 3


def test_reset_unused_drops_a_pack_whose_settings_do_not_apply(toy_pack, monkeypatch):
    monkeypatch.setattr(options, "SETTINGS", options.SETTINGS + (toy_pack,))
    cfg = RunConfig()
    cfg.task.toy.horizon = 3  # the char task has no use for it
    assert "toy" not in options.reset_unused(cfg).to_dict()["task"]


def test_every_registered_packs_fields_have_rows():
    assert options.check_complete() == []
    assert len({s.url_key for s in options.SETTINGS}) == len(options.SETTINGS)  # URL keys are unique
    assert len({s.cli_flag for s in options.SETTINGS}) == len(options.SETTINGS)


def test_word_tokens_on_the_text_task_make_a_next_word_run():
    """`--task char --tokenization word` is the words task (perplexity per word), not an ignored flag."""
    parser = argparse.ArgumentParser()
    train_flags.add_train_arguments(parser)
    args = parser.parse_args(["--task", "char", "--tokenization", "word", "--steps", "3"])
    cfg = train_flags.config_from_args(args)
    assert cfg.task.name == "words" and cfg.task.tokenization == "auto"
    assert train_flags.unused_flags(args, cfg) == []
    assert train_flags.config_from_args(parser.parse_args(["--task", "char", "--tokenization", "char"])).task.name == "char"
