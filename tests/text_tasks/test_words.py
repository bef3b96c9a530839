"""Next-word prediction: a vocabulary capped by frequency with <unk>, the out-of-vocabulary share and the
perplexity against direct computations, learning well below the uniform perplexity, and sampling words."""
from __future__ import annotations

import math
from collections import Counter

import pytest
import torch
import torch.nn.functional as F

from playground import tasks
from playground.config import ConfigError, ModelConfig, TaskConfig, TrainConfig
from playground.tasks.words import joined, word_tokens

from text_helpers import train


def words_config(max_vocab: int = 5000, dataset: str = "tiny") -> TaskConfig:
    cfg = TaskConfig(name="words", dataset=dataset)
    cfg.words.max_vocab = max_vocab
    return cfg


def test_tokens_and_their_text():
    tokens = word_tokens("The cat sat.\nA dog, too!")
    assert tokens == ["The", "cat", "sat", ".", "\n", "A", "dog", ",", "too", "!"]
    assert joined(tokens) == "The cat sat.\nA dog, too!"


def test_the_vocabulary_is_capped_by_frequency_and_the_rest_is_unknown():
    task = tasks.build(words_config(max_vocab=20, dataset="pydoc"))
    train_tokens, held_tokens = task.parts()
    counts = Counter(train_tokens)
    assert len(task.vocab) == 21 and task.vocab.symbols[0] == "<unk>"
    assert set(task.vocab.symbols[1:]) == {t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:20]}
    outside = sum(t not in task.vocab.index for t in held_tokens) / len(held_tokens)
    assert task.describe()["out_of_vocabulary"] == pytest.approx(outside) and 0.2 < outside < 0.9
    with pytest.raises(ConfigError, match="max_vocab"):
        words_config(max_vocab=3).validate()


def test_learns_words_and_reports_perplexity_per_word():
    task, model, metrics = train(words_config(), ModelConfig(arch="lstm", hidden=48, embedding=16),
                                 TrainConfig(steps=120, batch_size=16, seq_len=16, lr=1e-2, eval_every=1000,
                                             eval_in_background=False))
    assert metrics["perplexity"] == pytest.approx(math.exp(metrics["val_loss"]))
    assert metrics["uniform_perplexity"] == len(task.vocab) and metrics["out_of_vocabulary"] == 0.0
    assert metrics["perplexity"] < 0.25 * metrics["uniform_perplexity"], metrics
    held = task.split()[1][:65].view(1, -1)
    with torch.no_grad():
        direct = F.cross_entropy(model({"x": held[:, :-1]}).logits[0], held[0, 1:])
    assert task.evaluate(model, 1, 64, 1)["val_loss"] == pytest.approx(float(direct), rel=1e-5)

    sample = task.sample(model, length=12, temperature=0.7, prime="The cat", generator=torch.Generator().manual_seed(0))
    assert "".join(sample["pieces"]) == sample["text"] and len(sample["probs"]) == 12
    greedy = task.sample(model, length=5, prime="The cat", top_k=1, generator=torch.Generator().manual_seed(1))
    assert all(p == pytest.approx(1.0) for p in greedy["probs"])  # only the likeliest word is left to pick
