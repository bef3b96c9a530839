"""Language identification: held-out words never trained on, learning far above chance, the classifier's
Try readout checked against reading each prefix directly, the CLI's metrics, and every bad upload."""
from __future__ import annotations

import json

import pytest
import torch

from playground import cli, models, tasks
from playground.cli import describe
from playground.config import ConfigError, ModelConfig, RunConfig, TaskConfig, TrainConfig
from playground.data.errors import DataError
from playground.data.labelled import decode_labelled, save_labelled, uploaded_labelled
from playground.tasks import TASK_SPECS

from text_helpers import langid_config, train


def test_held_out_words_never_occur_in_training():
    task = tasks.build(langid_config(sentence_words=3))
    train_words = {w for words, _ in task.data()["train_pools"] for w in words}
    texts, labels = task.heldout()
    held_words = {w for text in texts for w in text.split()}
    assert held_words and not held_words & train_words
    assert len(texts) == 400 and [labels.count(c) for c in range(4)] == [100] * 4  # balanced: chance is 1/4
    assert max(len(t.split()) for t in texts) == 3


def test_learns_far_above_chance_on_held_out_words(trained_langid):
    task, model, metrics = trained_langid
    assert metrics["chance"] == 0.25 and metrics["macro_f1_chance"] == pytest.approx(0.25)
    assert metrics["accuracy"] > 0.5 and metrics["macro_f1"] > 0.45, metrics
    counts = torch.tensor(metrics["confusion"]["counts"])
    assert metrics["confusion"]["classes"] == ["en", "fr", "de", "pl"] and int(counts.sum()) == 400
    assert float(counts.diagonal().sum()) / 400 == pytest.approx(metrics["accuracy"])
    texts, labels = task.heldout()
    direct = torch.cat([model({"x": torch.tensor([[task.index.get(c, 1) for c in t]])}).logits[:, -1] for t in texts[:50]])
    assert (direct.argmax(-1) == task.probabilities(model, texts[:50]).argmax(-1)).all()


def test_try_reads_every_prefix_as_a_text_of_its_own(trained_langid):
    task, model, _ = trained_langid
    result = task.classify(model, "  Zdrowie ")
    assert result["text"] == "Zdrowie" and result["characters"] == list("Zdrowie") and result["unknown"] == ["Z"]
    assert len(result["prefix_probs"]) == 7 and result["prefix_probs"][-1] == pytest.approx(result["probs"])
    with torch.no_grad():
        alone = torch.softmax(model({"x": torch.tensor([[task.index.get(c, 1) for c in "Zdr"]])}).logits[0, -1], -1)
    assert result["prefix_probs"][2] == pytest.approx(alone.tolist(), abs=1e-6)
    assert sum(result["probs"]) == pytest.approx(1.0)
    with pytest.raises(DataError, match="type some text"):
        task.classify(model, "   ")


def test_a_bidirectional_classifier_and_mean_pooling_train_and_reload(tmp_path):
    task, model, metrics = train(langid_config(pooling="mean", languages="en,pl"),
                                 ModelConfig(arch="lstm", hidden=16, embedding=8, bidirectional=True),
                                 TrainConfig(steps=80, batch_size=32, lr=5e-3, eval_every=1000, eval_in_background=False))
    assert metrics["accuracy"] > 0.7 and task.spec["pooling"] == "mean"
    again = tasks.build(langid_config(pooling="mean", languages="en,pl"), state=task.state())
    assert again.symbols == task.symbols and again.classes == ["en", "pl"]


def test_settings_are_checked():
    for options, message in [({"languages": "en"}, "at least 2"), ({"languages": "en,xx"}, "xx not in wordfreq"),
                             ({"pooling": "max"}, "pooling must be"), ({"sentence_words": 9}, "sentence_words")]:
        cfg = langid_config(**options)
        with pytest.raises(ConfigError, match=message):
            cfg.validate()


def test_describe_and_cli_metrics(tmp_path, capsys, restore_signals):
    assert "langid" in describe.text() and "metric macro_f1" in describe.text()
    spec = TASK_SPECS["langid"]
    assert spec.headline == "accuracy" and spec.metric("accuracy").chance == 0.125 and spec.try_view == "classify"
    out = tmp_path / "metrics.json"
    code = cli.main(["train", "--task", "langid", "--languages", "en,pl", "--words-per-language", "300",
                     "--test-examples", "40", "--steps", "5", "--hidden", "8", "--embedding", "8", "--batch-size", "8",
                     "--eval-every", "5", "--quiet", "--metrics-out", str(out)])
    assert code == 0
    metrics = json.loads(out.read_text())
    assert {"accuracy", "macro_f1", "chance"} <= set(metrics) and metrics["chance"] == 0.5


# -- uploads ---------------------------------------------------------------------------------------
GOOD = "text,label\n" + "".join(f"{w} is great,pos\n{w} is awful,neg\n" for w in
                                ("food", "film", "book", "song", "game", "trip", "cake", "play", "show", "town"))


@pytest.mark.parametrize("raw,message", [
    (b"", "is empty"),
    (b"  \n", "is empty"),
    (b"good,pos\x00\n", "binary"),
    ("nice,pos\nbad,neg\n".encode("utf-16"), "binary|not UTF-8"),
    (b"caf\xe9,pos\nbad,neg\n", "not UTF-8.*line 1 has an undecodable byte"),
    (b"nice,pos\nbad,neg\nnice,pos\nugly\n", "line 4 .*one column"),
    (b"nice,pos\nbad,neg,extra\n", "line 2 .*has 3 columns but line 1 has 2"),
    (b"nice,pos\nbad,\n", "line 2 .*empty label"),
    (b",pos\nbad,neg\n", "line 1 .*empty text"),
    (b"nice,pos\ngood,pos\nfine,pos\n", "only one class"),
    (b"nice,pos\ngood,pos\nbad,neg\n", "only one example of 'neg'"),
    (b'"nice,pos\nbad,neg\n', "line 1 .*never closed"),
])
def test_every_bad_upload_is_refused_with_a_clear_line(raw, message):
    with pytest.raises(DataError, match=message):
        decode_labelled(raw, "reviews.csv")


def test_an_uploaded_labelled_file_trains_the_same_task():
    name, examples = save_labelled(GOOD.encode(), "My Reviews.csv")
    assert name == "my-reviews" and len(examples) == 20 and name in uploaded_labelled()
    assert name in TASK_SPECS["langid"].datasets()
    cfg = TaskConfig(name="langid", dataset=name, val_fraction=0.3)
    task, model, metrics = train(cfg, ModelConfig(arch="gru", hidden=16, embedding=8),
                                 TrainConfig(steps=60, batch_size=16, lr=1e-2, eval_every=1000, eval_in_background=False))
    assert task.classes == ["neg", "pos"]
    texts, labels = task.heldout()
    train_texts = {t for t, _ in task.data()["train_rows"]}
    assert texts and not set(texts) & train_texts
    assert metrics["accuracy"] >= 0.8, metrics  # "great" against "awful": learnt from the training rows
    with pytest.raises(DataError, match="unknown langid dataset 'nope'"):
        tasks.build(TaskConfig(name="langid", dataset="nope"))
