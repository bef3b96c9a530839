"""Restoring spaces: the data's round trip, metrics against a direct count, a bidirectional model beating the
same cell read one way on held-out text, and the Try readout."""
from __future__ import annotations

import pytest
import torch

from playground import tasks
from playground.config import ModelConfig, TaskConfig, TrainConfig
from playground.data.errors import DataError
from playground.tasks import TASK_SPECS
from playground.tasks.spaces import spaced, unspaced

from text_helpers import train

SETTINGS = TrainConfig(steps=120, batch_size=32, seq_len=32, lr=5e-3, eval_every=1000, eval_in_background=False)


@pytest.fixture(scope="module")
def race():
    """The same GRU one way and both ways, same data, seed and budget."""
    return {bi: train(TaskConfig(name="spaces", dataset="tiny"),
                      ModelConfig(arch="gru", hidden=32, embedding=16, bidirectional=bi), SETTINGS)
            for bi in (False, True)}


def test_removing_and_restoring_spaces_round_trips():
    characters, boundaries = unspaced("the cat  sat\non it ")
    assert characters == "thecatsat\nonit" and sum(boundaries) == 4
    assert boundaries[2] == 1 and boundaries[5] == 1 and boundaries[-1] == 1
    assert spaced(characters, boundaries) == "the cat sat\non it "


def test_bidirectional_beats_one_way_on_held_out_text(race):
    (_, _, one_way), (_, _, both_ways) = race[False], race[True]
    for metrics in (one_way, both_ways):
        assert metrics["f1"] > 0.8 and metrics["accuracy"] > metrics["majority_accuracy"] + 0.1, metrics
    assert both_ways["f1"] > one_way["f1"] + 0.02, (one_way["f1"], both_ways["f1"])
    assert both_ways["val_loss"] < one_way["val_loss"]


def test_metrics_match_a_direct_count(race):
    task, model, metrics = race[False]
    held = task.windows(SETTINGS.seq_len, SETTINGS.batch_size * SETTINGS.eval_batches)
    with torch.no_grad():
        guess = model({"x": held["x"]}).logits.argmax(-1).reshape(-1).tolist()
    truth = held["y"].reshape(-1).tolist()
    tp = sum(g == 1 and t == 1 for g, t in zip(guess, truth))
    precision, recall = tp / max(sum(guess), 1), tp / sum(truth)
    assert metrics["precision"] == pytest.approx(precision) and metrics["recall"] == pytest.approx(recall)
    assert metrics["f1"] == pytest.approx(2 * precision * recall / (precision + recall))
    assert metrics["accuracy"] == pytest.approx(sum(g == t for g, t in zip(guess, truth)) / len(truth))
    share = sum(truth) / len(truth)
    assert metrics["majority_accuracy"] == pytest.approx(1 - share) and 0.1 < share < 0.4


def test_held_out_lines_are_never_trained_on():
    task = tasks.build(TaskConfig(name="spaces", dataset="tiny"))
    train_text, held_text = task.texts()
    assert not set(held_text.split("\n")) & set(train_text.split("\n"))


def test_try_spaces_pasted_text(race):
    task, model, _ = race[True]
    result = task.tag(model, "The cat sees the red ball.")
    assert result["characters"] == list("Thecatseestheredball.") and len(result["probs"]) == 21
    assert result["text"] == "The cat sees the red ball.", result
    assert result["text"].replace(" ", "") == "Thecatseestheredball."
    with pytest.raises(DataError, match="paste some text"):
        task.tag(model, "   ")


def test_described_with_its_metrics_and_race():
    spec = TASK_SPECS["spaces"]
    assert spec.headline == "f1" and spec.metric("f1").chance == 0.0 and spec.bidirectional
    assert {m.name for m in spec.metrics} >= {"precision", "recall", "f1", "accuracy"}
    assert [e[2] for e in spec.race_entrants] == [False, True] and len({e[0] for e in spec.race_entrants}) == 1
