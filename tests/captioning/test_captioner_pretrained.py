"""The shipped captioner (`python -m playground pretrain --only captioner`) on the held-out two-shape scenes."""
from __future__ import annotations

import pytest

from playground.runstore import checkpoint, pretrained
from playground.paths import PRETRAINED_DIR


@pytest.fixture(scope="module")
def loaded():
    return checkpoint.load(pretrained.resolve("captioner"))


def test_shipped_captioner_is_small_and_described():
    folder = PRETRAINED_DIR / "captioner"
    assert (folder / checkpoint.WEIGHTS).stat().st_size < 3_000_000
    card = (folder / "README.md").read_text()
    assert "pretrain --only captioner" in card and "exact_match" in card
    assert pretrained.RECIPES["captioner"].model.attention == "soft"


def test_exact_match_on_heldout_two_shape_scenes(loaded):
    task = loaded.task
    assert len(task.heldout) == 500 and all(len(scene.shapes) == 2 for scene in task.heldout)
    metrics = task.evaluate(loaded.model, batch_size=100, seq_len=0)
    assert metrics["eval_scenes"] == 500
    assert metrics["exact_match"] >= 0.9
    assert metrics["word_accuracy"] >= 0.95 and metrics["bleu"] >= 90


def test_colour_words_look_at_the_shape_they_name(loaded):
    hits = loaded.task.colour_attention_hits(loaded.model)
    assert hits["colour_words"] == 1000  # two colour words in each of the 500 held-out captions
    assert hits["named"] > 0.5  # more often than not the attention peaks inside the named shape
    assert hits["named"] > 5 * hits["other"]  # and rarely on the other shape instead


def test_beam_search_keeps_the_quality(loaded):
    task, model = loaded.task, loaded.model
    metrics = task.evaluate(model, batch_size=100, seq_len=0, max_batches=2, beam=3)
    assert metrics["exact_match"] >= 0.9
