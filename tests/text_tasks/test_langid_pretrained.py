"""The shipped language identifier (`pretrained/langid`): small, regenerable, loads weights-only, and reads
held-out words and phrases of eight languages far above the 1/8 of guessing, as its model card says."""
from __future__ import annotations

import pytest

from playground.config import RunConfig
from playground.paths import PRETRAINED_DIR
from playground.runstore import checkpoint
from playground.runstore.pretrained import RECIPES

FOLDER = PRETRAINED_DIR / "langid"


@pytest.fixture(scope="module")
def langid():
    return checkpoint.load(FOLDER)


def test_shipped_small_with_a_card_and_regenerable():
    assert (FOLDER / "model.pt").stat().st_size < 1_000_000
    card = (FOLDER / "README.md").read_text()
    assert "| class | precision | recall | F1 |" in card and "Limits:" in card
    saved, recipe = RunConfig.from_dict(checkpoint.read_meta(FOLDER)["config"]).to_dict(), RECIPES["langid"].to_dict()
    assert (saved["task"], saved["model"], saved["train"]["steps"]) == (recipe["task"], recipe["model"],
                                                                       recipe["train"]["steps"])


def test_reads_held_out_text_far_above_chance(langid):
    metrics = langid.task.evaluate(langid.model, batch_size=256, seq_len=0)
    assert metrics["eval_examples"] == 2000 and metrics["chance"] == 0.125
    assert metrics["accuracy"] > 0.5 and metrics["macro_f1"] > 0.5, metrics
    shipped = checkpoint.read_meta(FOLDER)["metrics"]
    assert metrics["accuracy"] == pytest.approx(shipped["accuracy"], abs=1e-6)  # the same fixed held-out set


@pytest.mark.parametrize("text,language", [("the weather is very nice today", "en"),
                                           ("je ne sais pas pourquoi", "fr"),
                                           ("ich habe keine zeit", "de"),
                                           ("dziękuję bardzo", "pl")])
def test_phrases(langid, text, language):
    result = langid.task.classify(langid.model, text)
    assert result["classes"][max(range(8), key=result["probs"].__getitem__)] == language, result["probs"]
