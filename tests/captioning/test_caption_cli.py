"""`python -m playground train --task captioning ...` and `python -m playground caption ...`."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from playground.runstore import checkpoint
from playground import cli, models, tasks
from playground.config import ModelConfig, RunConfig, TaskConfig
from playground.data import scenes as sc
from playground.data.captions import grammar_words

VOCABULARY = grammar_words(sc.resolve_settings("shapes2").colours)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run trained for a few steps through the CLI: (store folder, run id, metrics)."""
    home = tmp_path_factory.mktemp("caption-home")
    out = home / "metrics.json"
    code = cli.main(["--home", str(home), "train", "--task", "captioning", "--arch", "lstm", "--attention", "soft",
                     "--hidden", "32", "--embedding", "16", "--steps", "4", "--batch-size", "8", "--eval-every", "4",
                     "--quiet", "--metrics-out", str(out)])
    assert code == 0
    metrics = json.loads(out.read_text())
    return home, metrics["run_id"], metrics


def caption(home, *args) -> int:
    return cli.main(["--home", str(home), "caption", *args])


def test_train_writes_caption_metrics(trained):
    _, _, metrics = trained
    assert metrics["status"] == "completed" and metrics["steps"] == 4
    assert metrics["config"]["task"]["dataset"] == "shapes2"  # the task's default preset
    for key in ("exact_match", "word_accuracy", "bleu", "val_loss", "colour_attention"):
        assert isinstance(metrics[key], float), key
    assert len(metrics["gradient_flow"]) > 5 and all(v > 0 for v in metrics["gradient_flow"])
    assert " " in metrics["sample"]  # "caption = truth" or "caption ≠ truth"


def test_caption_random_scene_writes_png(trained, tmp_path, capsys):
    home, run_id, _ = trained
    png, strip = tmp_path / "scene.png", tmp_path / "attention.png"
    assert caption(home, run_id, "--seed", "3", "--out", str(png), "--attention-out", str(strip)) == 0
    words = capsys.readouterr().out.strip().split()
    with Image.open(png) as image:
        assert image.size == (48 * 4, 48 * 4) and image.mode == "RGB"
        pixels = np.asarray(image)
    with Image.open(strip) as panels:
        assert panels.size == (len(words) * (48 * 4 + 2) - 2, 48 * 4)
    task = tasks.build(TaskConfig(name="captioning", dataset="shapes2"))
    assert np.array_equal(pixels[::4, ::4], task.render(task.random_scene(3)))  # the scene --seed 3 names


def test_caption_described_scene(trained, tmp_path, capsys):
    home, run_id, _ = trained
    png = tmp_path / "described.png"
    assert caption(home, run_id, "--scene", "a small red circle below a large blue square", "--seed", "1",
                   "--beam", "3", "--out", str(png), "--scale", "1") == 0
    captured = capsys.readouterr()
    assert captured.out.count("\n") == 1 and set(captured.out.split()) <= set(VOCABULARY)
    assert "scene: a large blue square above a small red circle" in captured.err
    with Image.open(png) as image:
        pixels = np.asarray(image)
    for colour, least in (("red", 30), ("blue", 150)):  # a small circle and a large square, under pixel noise
        near = (np.abs(pixels.astype(int) - sc.PALETTE[colour]) < 50).all(axis=-1)
        assert near.sum() > least, colour


@pytest.mark.parametrize("args, message", [
    (["--scene", "a small red hexagon"], "error: expected a shape"),
    (["--scene", "a red circle beside a blue square"], "error: expected a relation"),
    ([], "error: say which scene"),
    (["--seed", "1", "--beam", "0"], "error: beam must be between"),
])
def test_bad_caption_requests_get_one_line(trained, capsys, args, message):
    home, run_id, _ = trained
    assert caption(home, run_id, *args) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1 and "Traceback" not in err


def test_caption_refuses_a_model_that_is_not_a_captioner(tmp_path, capsys):
    cfg = RunConfig(task=TaskConfig(name="char", dataset="tiny"), model=ModelConfig(hidden=8, embedding=4))
    task = tasks.build(cfg.task)
    folder = checkpoint.save(tmp_path / "char-model", models.build(cfg.model, task.spec), cfg, task, step=0)
    assert caption(tmp_path, str(folder), "--seed", "1") == 2
    assert "is a char model, not a captioner" in capsys.readouterr().err
