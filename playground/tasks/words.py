"""Next-word prediction: text generation with word tokens instead of characters.

The same data, batches (truncated BPTT over parallel streams) and model as character generation
(char.py), but a token is a word, a punctuation mark or a line break. The vocabulary holds the
`max_vocab` most frequent tokens of the training text; every other token reads as <unk>, and the
share of held-out tokens that do is reported (out of vocabulary). The metric is perplexity per word,
exp(cross-entropy in nats per token): a model guessing uniformly over the vocabulary scores its size.
Sampling picks words, with a temperature and optionally among the `top_k` likeliest only.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import torch

from ..config import ConfigError, TaskConfig, register_options
from ..data.corpora import BUILTIN, split_by_line
from ..data.errors import DataError
from ..data.tokens import detokenize
from ..data.uploads import dataset_choices
from ..data.vocab import Vocabulary
from ..models import SequenceModel
from ..setting import Setting
from .char import CharTask, sample_after
from .spec import MetricSpec, TaskSpec

UNK = 0  # the id of <unk>: every word outside the vocabulary
_TOKEN = re.compile(r"\w+|[^\w\s]|\n")  # a word, one punctuation mark, or a line break


def word_tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def joined(tokens: list[str]) -> str:
    """Tokens back to text: spaces between words, none around punctuation or line breaks."""
    return re.sub(r" ?\n ?", "\n", detokenize(tokens, "word"))


@register_options("task", "words")
@dataclass
class WordOptions:
    max_vocab: int = 5000  # words: the most frequent training tokens kept; the rest read as <unk>
    top_k: int = 0  # words: samples pick among the k likeliest words only (0 = among all)

    def validate(self) -> None:
        if not 10 <= self.max_vocab <= 200_000:
            raise ConfigError("max_vocab must be between 10 and 200,000 words")
        if not 0 <= self.top_k <= 200_000:
            raise ConfigError("top_k must be between 0 (all words) and 200,000")


SPEC = TaskSpec(
    name="words", title="next-word prediction (text generation with word tokens)",
    metrics=(MetricSpec("val_loss", "validation loss", "nats per word (cross-entropy)", False, chance_key="uniform_loss"),
             MetricSpec("perplexity", "perplexity per word", "perplexity per word", False, chance_key="uniform_perplexity")),
    headline="perplexity",
    settings={"task.dataset": "Dataset", "train.seq_len": "Truncated-BPTT window (words)", "task.data_path": "Text file",
              "task.max_upload_bytes": "Largest file accepted (bytes)", "task.val_fraction": "Held-out share of the text",
              "task.max_chars": "Keep only the first N characters", "train.sample_length": "Sample length (words)",
              "train.sample_temperature": "Sample temperature"},
    options=(Setting("task.words.max_vocab", label="Vocabulary (most frequent words)", widget="number", low=10,
                     high=200_000, step=500, group="Task and data"),
             Setting("task.words.top_k", label="Sample among the k likeliest words (0 = all)", widget="number", low=0,
                     high=200_000, step=10, group="Task and data")),
    datasets=dataset_choices, default_dataset="tiny",
    race_entrants=(("rnn-tanh", "none", False), ("lstm", "none", False), ("gru", "none", False)),
    sample_heading="What the model writes at step {step}", sample_caption="sampled word by word at temperature {temperature}",
    try_view="sample", try_controls=("temperature", "prime", "length", "top_k"), stream_label="words")


class WordTask(CharTask):
    name = "words"
    about = SPEC

    def __init__(self, cfg: TaskConfig, state: dict | None = None, text: str | None = None) -> None:
        """With `state` (from a checkpoint) the vocabulary is fixed and the text is loaded lazily."""
        self.cfg, self._text, self._split, self._parts = cfg, text, None, None
        if state is not None:
            self.vocab = Vocabulary(state["vocab"])
        else:
            counts = Counter(self.parts()[0])
            kept = sorted(counts, key=lambda t: (-counts[t], t))[: cfg.words.max_vocab]
            self.vocab = Vocabulary(["<unk>"] + kept)

    def parts(self) -> tuple[list[str], list[str]]:
        """(training tokens, held-out tokens): the split of character generation, made of words."""
        if self._parts is None:
            corpus = BUILTIN.get(self.cfg.dataset) if not self.cfg.data_path else None
            if corpus is not None and corpus.disjoint_lines:
                train, held = split_by_line(self.text, self.cfg.val_fraction)
            else:
                cut = int(len(self.text) * (1 - self.cfg.val_fraction))
                train, held = self.text[:cut], self.text[cut:]
            self._parts = word_tokens(train), word_tokens(held)
        return self._parts

    def encode_tokens(self, tokens: list[str]) -> torch.Tensor:
        return torch.tensor([self.vocab.index.get(t, UNK) for t in tokens], dtype=torch.long)

    def split(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._split is None:
            train, held = self.parts()
            self._split = self.encode_tokens(train), self.encode_tokens(held)
        return self._split

    def check_size(self, batch_size: int, seq_len: int) -> None:
        train, held = self.parts()
        if len(train) < batch_size * (seq_len + 1) or len(held) < seq_len + 1:
            raise DataError(f"the text has {len(train):,} training and {len(held):,} held-out words; a batch of "
                            f"{batch_size} x {seq_len} words and a validation window need at least "
                            f"{batch_size * (seq_len + 1):,} and {seq_len + 1:,}. Use a longer text, or a smaller "
                            "batch size or sequence length.")

    def out_of_vocabulary(self) -> float:
        """The share of held-out tokens outside the vocabulary (read as <unk>)."""
        held = self.split()[1]
        return float((held == UNK).double().mean()) if len(held) else 0.0

    def describe(self) -> dict:
        train, held = self.parts()
        return {"words": len(train) + len(held), "distinct_words": len(set(train)), "vocab_size": len(self.vocab),
                "out_of_vocabulary": self.out_of_vocabulary(), "uniform_loss": math.log(len(self.vocab)),
                "uniform_perplexity": float(len(self.vocab))}

    def evaluate(self, model: SequenceModel, batch_size: int, seq_len: int, max_batches: int | None = None) -> dict:
        scores = super().evaluate(model, batch_size, seq_len, max_batches)
        loss = scores["val_loss"]
        return {"val_loss": loss, "perplexity": math.exp(min(loss, 700.0)), "uniform_loss": math.log(len(self.vocab)),
                "uniform_perplexity": float(len(self.vocab)), "out_of_vocabulary": self.out_of_vocabulary(),
                "eval_words": scores["eval_characters"]}

    @torch.no_grad()
    def sample(self, model: SequenceModel, length: int = 60, temperature: float = 1.0, prime: str = "",
               top_k: int | None = None, generator: torch.Generator | None = None, alternatives: int = 3) -> dict:
        """Generate `length` words after `prime` (its words outside the vocabulary read as <unk>). `pieces` are
        the generated words as they appear in `text` (with the space before them), one per probability."""
        if temperature <= 0:
            raise DataError("temperature must be positive")
        top_k = top_k if top_k is not None else self.cfg.words.top_k
        start = word_tokens(prime) or ["\n" if "\n" in self.vocab.index else self.vocab.symbols[-1]]
        tokens, probs, options = sample_after(model, self.encode_tokens(start), self.vocab.symbols, length,
                                              temperature, top_k, generator, alternatives)
        context = word_tokens(prime)
        text = joined(context + tokens)[len(joined(context)):] if context else joined(tokens)
        pieces, before = [], joined(context) if context else ""
        for i in range(len(tokens)):
            now = joined(context + tokens[: i + 1])
            pieces.append(now[len(before):])
            before = now
        return {"prime": prime, "text": text, "pieces": pieces, "probs": probs, "alternatives": options}
