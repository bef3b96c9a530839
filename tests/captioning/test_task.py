"""The captioning task: batches, metrics, checkpoint state, training settings, single-image captions."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from playground.runstore import checkpoint
from playground import models, tasks
from playground.config import ConfigError, ModelConfig, RunConfig, TaskConfig, TrainConfig
from playground.data import scenes as sc
from playground.data.errors import DataError
from playground.tasks.captioning import caption_scores, colour_positions


@pytest.fixture(scope="module")
def task():
    return tasks.build(TaskConfig(name="captioning", dataset="shapes2", test_scenes=40))


@pytest.fixture(scope="module")
def model(task):
    torch.manual_seed(0)
    return models.build(ModelConfig(hidden=32, embedding=16, attention="soft"), task.spec)


def test_metrics_score_known_captions():
    refs = ["a small red circle above a large blue square", "a large green diamond left of a small red circle"]
    perfect = caption_scores(refs, refs)
    assert perfect["exact_match"] == 1.0 and perfect["word_accuracy"] == 1.0 and perfect["bleu"] == pytest.approx(100)
    one_word = caption_scores(["a small red circle above a large green square", refs[1]], refs)
    assert one_word["exact_match"] == 0.5
    assert one_word["word_accuracy"] == pytest.approx(18 / 19)
    assert 50 < one_word["bleu"] < 100


def test_training_batches_are_reproducible_and_count_words(task):
    first = next(task.train_batches(6, 0, torch.Generator().manual_seed(4)))
    again = next(task.train_batches(6, 0, torch.Generator().manual_seed(4)))
    assert torch.equal(first["images"], again["images"]) and torch.equal(first["y"], again["y"])
    assert first["images"].shape == (6, 3, 48, 48) and first["images"].dtype == torch.float32
    assert task.batch_tokens(first) == sum(len(task.vocab.decode(row).split()) + 1 for row in first["y"])
    assert "forced" not in first


def test_run_settings_reach_batches_and_evaluation(task, model):
    train = TrainConfig(teacher_forcing=0.5, beam=3)
    tuned = tasks.build(TaskConfig(name="captioning", dataset="shapes2", test_scenes=40), train=train)
    assert (tuned.teacher_forcing, tuned.beam) == (0.5, 3)
    batch = next(tuned.train_batches(8, 0, torch.Generator().manual_seed(0)))
    assert batch["forced"].dtype == torch.bool and 0.2 < batch["forced"].float().mean() < 0.8
    with pytest.raises(ConfigError, match="beam must be between"):
        tuned.evaluate(model, 8, 0, max_batches=1, beam=99)


def test_evaluate_reports_the_issue_metrics(task, model):
    metrics = task.evaluate(model, 16, 0, max_batches=2)
    assert metrics["eval_scenes"] == 32
    for key in ("val_loss", "exact_match", "word_accuracy", "bleu", "colour_attention"):
        assert np.isfinite(metrics[key])
    assert all(0 <= metrics[key] <= 1 for key in ("exact_match", "word_accuracy", "colour_attention"))
    assert 0 <= metrics["bleu"] <= 100


def test_probe_batch_lines_up_word_positions(task):
    probe = task.probe_batch(32, 0)
    assert probe["x"].shape == probe["y"].shape and probe["x"].shape[0] <= 8
    assert (probe["y"] > task.vocab.eos).all()  # every position a real word: step t is word t in every row


def test_colour_positions_point_at_colour_words(task):
    for scene in task.heldout[:20]:
        words = scene.caption.split()
        assert [words[i] for i in colour_positions(scene)] == [s.colour for s in scene.shapes]


def test_state_rebuilds_the_task_without_its_settings(task, model, tmp_path):
    cfg = RunConfig(task=TaskConfig(name="captioning", dataset="shapes2", test_scenes=40),
                    model=ModelConfig(hidden=32, embedding=16, attention="soft"))
    checkpoint.save(tmp_path, model, cfg, task, step=1)
    loaded = checkpoint.load(tmp_path)
    assert loaded.task.vocab.words == task.vocab.words and loaded.task.settings == task.settings
    scene = loaded.task.random_scene(3)
    assert loaded.task.caption(loaded.model, scene)["caption"] == task.caption(model, scene)["caption"]


def test_caption_one_scene_or_image(task, model):
    scene = task.parse_scene("a small red circle above a large blue square", seed=2)
    out = task.caption(model, scene, beam=2)
    assert out["reference"] == "a small red circle above a large blue square"
    assert out["caption"] == " ".join(out["words"])
    assert out["attention"].shape == (len(out["words"]), 6, 6)
    np.testing.assert_allclose(out["attention"].sum(axis=(1, 2)), 1.0, rtol=1e-5)
    from_pixels = task.caption(model, sc.render(scene, task.settings), beam=2)
    assert from_pixels["words"] == out["words"] and "reference" not in from_pixels
    assert task.caption(model, task.render(scene))["words"]  # uint8 pixels are read too
    with pytest.raises(DataError, match="48x48 RGB"):
        task.caption(model, np.zeros((32, 32, 3), dtype=np.uint8))


def test_sample_shows_caption_beside_truth(task, model):
    sample = task.sample(model, length=120, temperature=0.8, generator=torch.Generator().manual_seed(1))
    assert sample["reference"] in sample["text"] and sample["caption"] in sample["text"]


def test_bad_task_settings_are_clear(task):
    with pytest.raises(ConfigError, match="scene_shapes"):
        tasks.build(TaskConfig(name="captioning", dataset="shapes2", scene_shapes=4))
    with pytest.raises(DataError, match="unknown scene preset"):
        tasks.build(TaskConfig(name="captioning", dataset="shapes9"))
    with pytest.raises(DataError, match="at least 2 scenes"):
        task.check_size(1, 0)
    described = tasks.build(TaskConfig(name="captioning", dataset="shapes3", scene_colours=3)).describe()
    assert described["shapes_per_scene"] == 3 and described["colours"] == 3
    assert described["distinct_captions"] == 2 * (4 * 3 * 2) ** 3
