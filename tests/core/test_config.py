"""RunConfig JSON round trip and clear ConfigErrors; device resolution."""
from __future__ import annotations

import json

import pytest
import torch

from playground import devices
from playground.config import ConfigError, ModelConfig, RunConfig, TaskConfig, TrainConfig


def test_json_round_trip_keeps_every_setting():
    cfg = RunConfig(
        task=TaskConfig(dataset="pydoc", val_fraction=0.2, max_chars=5000),
        model=ModelConfig(arch="gru", layers=3, hidden=48, embedding=12, dropout=0.25, backend="scratch",
                          init="spectral", spectral_radius=0.7),
        train=TrainConfig(steps=123, batch_size=7, seq_len=9, lr=0.05, optimizer="sgd", clip="value",
                          clip_threshold=0.3, seed=42, device="cpu", eval_every=11),
        name="my run",
    ).validate()
    text = cfg.to_json()
    assert json.loads(text)["model"]["arch"] == "gru"
    back = RunConfig.from_json(text)
    assert back == cfg
    assert back.to_json() == text
    assert RunConfig.from_dict(cfg.to_dict()) == cfg
    assert back.label() == "my run"


def test_partial_json_uses_defaults():
    cfg = RunConfig.from_json('{"model": {"hidden": 32}}')
    assert cfg.model.hidden == 32
    assert cfg.model.arch == ModelConfig().arch and cfg.train == TrainConfig() and cfg.task == TaskConfig()


@pytest.mark.parametrize("data, words", [
    ({"bogus": 1}, ["unknown", "RunConfig", "bogus"]),
    ({"model": {"hiden": 3}}, ["unknown", "ModelConfig", "hiden"]),
    ({"train": {"stepz": 3, "lrate": 1}}, ["TrainConfig", "lrate", "stepz"]),
    ({"task": {"colour": "red"}}, ["TaskConfig", "colour"]),
    ({"model": [1, 2]}, ["ModelConfig", "JSON object"]),
])
def test_unknown_keys_are_named(data, words):
    with pytest.raises(ConfigError) as err:
        RunConfig.from_dict(data)
    for word in words:
        assert word in str(err.value)


@pytest.mark.parametrize("section, field, value, words", [
    ("model", "arch", "transformer", ["arch", "rnn-tanh", "transformer"]),
    ("model", "backend", "cuda", ["backend", "fused"]),
    ("model", "init", "zeros", ["init", "orthogonal"]),
    ("model", "layers", 0, ["layers", "1 and 4"]),
    ("model", "layers", 9, ["layers"]),
    ("model", "hidden", 0, ["hidden"]),
    ("model", "dropout", 1.0, ["dropout"]),
    ("model", "spectral_radius", 0.0, ["spectral_radius", "positive"]),
    ("train", "steps", 0, ["steps", "at least 1"]),
    ("train", "lr", -0.1, ["lr", "positive"]),
    ("train", "optimizer", "lbfgs", ["optimizer", "adam"]),
    ("train", "clip", "sometimes", ["clip", "norm"]),
    ("train", "clip_threshold", 0.0, ["clip_threshold", "positive"]),
    ("train", "device", "tpu", ["device", "cuda"]),
    ("train", "sample_temperature", 0.0, ["sample_temperature"]),
    ("task", "val_fraction", 0.7, ["val_fraction"]),
    ("task", "max_chars", 10, ["max_chars", "1000"]),
])
def test_bad_values_give_clear_errors(section, field, value, words):
    with pytest.raises(ConfigError) as err:
        RunConfig.from_dict({section: {field: value}}).validate()
    for word in words:
        assert word in str(err.value)


@pytest.mark.parametrize("data, field", [
    ({"train": {"steps": "10"}}, "steps"),
    ({"train": {"steps": 2.5}}, "steps"),
    ({"train": {"lr": "fast"}}, "lr"),
    ({"model": {"hidden": None}}, "hidden"),
    ({"model": {"bidirectional": "yes"}}, "bidirectional"),
    ({"model": {"arch": 3}}, "arch"),
])
def test_wrong_json_types_are_config_errors(data, field):
    """A value of the wrong type is a ConfigError naming the field, never a TypeError from a comparison."""
    with pytest.raises(ConfigError, match=field):
        RunConfig.from_dict(data).validate()


def test_ints_are_accepted_for_floats_and_none_for_optionals():
    cfg = RunConfig.from_dict({"train": {"lr": 1, "clip_threshold": 2}, "task": {"max_chars": None}}).validate()
    assert cfg.train.lr == 1 and cfg.task.max_chars is None


@pytest.mark.parametrize("text, words", [("{not json", "not valid JSON"), ("[1, 2]", "JSON object")])
def test_bad_json_text(text, words):
    with pytest.raises(ConfigError, match=words):
        RunConfig.from_json(text)


def test_clip_none_needs_no_threshold():
    RunConfig.from_dict({"train": {"clip": "none", "clip_threshold": 0.0}}).validate()


# -- devices ---------------------------------------------------------------------------------------
def test_resolve_auto_gives_a_usable_device():
    device = devices.resolve("auto")
    assert isinstance(device, torch.device) and device.type in ("cuda", "mps", "cpu")
    assert torch.ones(2, device=device).sum().item() == 2.0
    if torch.cuda.is_available():
        assert device.type == "cuda"
    assert isinstance(devices.describe(device), str) and devices.describe(device)
    assert devices.resolve("cpu") == torch.device("cpu")
    assert "CPU" in devices.describe("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present here")
def test_missing_cuda_is_a_clear_error():
    with pytest.raises(ConfigError, match="no CUDA GPU is available"):
        devices.resolve("cuda")


def test_missing_mps_is_a_clear_error():
    if devices._mps_available():
        pytest.skip("Apple MPS is available here")
    with pytest.raises(ConfigError, match="mps"):
        devices.resolve("mps")


def test_unknown_device_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown device"):
        devices.resolve("tpu")
