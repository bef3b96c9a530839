"""Which language is this? Many-to-one classification: a recurrent encoder reads a text character by
character, and its last state (or the mean of its states) goes to a linear classifier.

Built-in data (`dataset="wordfreq"`): the word lists the `wordfreq` package ships (no network). Each
example is one word, or a short pseudo-sentence of up to `sentence_words` words drawn by their frequency
in the language, labelled with its language. The held-out words are picked by a seeded hash of the word
itself, so a held-out word never occurs in training, in any language; training examples are drawn fresh
for every batch (seeded by the run's seed), the held-out set is fixed (seeded by `data_seed`) and
balanced, `test_examples` in all.

Your own labelled text (`dataset` = an upload's name, or `data_path`): `text,label` rows of any labels
(data/labelled.py); a seeded hash of each text sends it wholly to training or to the held-out share.

Metrics: accuracy and macro-F1 on the held-out set, their chance levels (guessing uniformly at random:
1/classes for accuracy), and the confusion matrix (rows: the true class, columns: the predicted one).
Texts in a batch are padded on the right and carry their `lengths`: the model never reads a padded position.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

import torch
import torch.nn.functional as F

from ..config import ConfigError, TaskConfig, register_options
from ..data.errors import DataError
from ..data.labelled import read_labelled_file, uploaded_labelled
from ..models import SequenceModel
from ..models.inference import evaluating
from ..setting import Setting
from . import label_metrics
from .base import Task
from .spec import MetricSpec, TaskSpec

BUILTIN = "wordfreq"  # the built-in dataset: words and pseudo-sentences from wordfreq's lists
PAD, UNK = 0, 1  # character ids: padding (never read) and a character the training texts never had
POOLINGS = ("last", "mean")


@register_options("task", "langid")
@dataclass
class LangidOptions:
    languages: str = "en,fr,de,es,it,nl,pt,pl"  # langid: wordfreq languages to tell apart, comma-separated (at least 2)
    words_per_language: int = 5000  # langid: the most frequent words of each language that examples are made of
    sentence_words: int = 1  # langid: words per example, at most (1 = single words; more = short pseudo-sentences)
    pooling: str = "last"  # classifiers: what the classifier reads: last (the final states) | mean (every state, averaged)
    test_examples: int = 2000  # classifiers: examples in the fixed held-out set of the built-in data
    max_text: int = 200  # classifiers: characters of each text read (longer texts are cut there)

    def codes(self) -> list[str]:
        return [code.strip() for code in self.languages.split(",") if code.strip()]

    def validate(self) -> None:
        codes = self.codes()
        known = available_languages()
        unknown = [code for code in codes if code not in known]
        if unknown:
            raise ConfigError(f"languages: {', '.join(unknown)} not in wordfreq's lists; available: {', '.join(known)}")
        if len(set(codes)) < 2 or len(set(codes)) != len(codes):
            raise ConfigError("languages must name at least 2 different languages, each once (e.g. en,fr,de)")
        if not 50 <= self.words_per_language <= 50_000:
            raise ConfigError("words_per_language must be between 50 and 50,000")
        if not 1 <= self.sentence_words <= 8:
            raise ConfigError("sentence_words must be between 1 and 8")
        if self.pooling not in POOLINGS:
            raise ConfigError(f"pooling must be one of {', '.join(POOLINGS)} (got {self.pooling!r})")
        if not 20 <= self.test_examples <= 100_000:
            raise ConfigError("test_examples must be between 20 and 100,000")
        if not 4 <= self.max_text <= 2000:
            raise ConfigError("max_text must be between 4 and 2,000 characters")


@lru_cache(maxsize=1)
def available_languages() -> tuple[str, ...]:
    import wordfreq  # deferred: only this task needs it

    return tuple(sorted(wordfreq.available_languages(wordlist="best")))


@lru_cache(maxsize=64)
def language_words(code: str, count: int) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """The `count` most frequent alphabetic words of a language (lower case) and their frequencies."""
    import wordfreq

    words, freqs, seen = [], [], set()
    for bucket, members in enumerate(wordfreq.get_frequency_list(code, wordlist="best")):
        for word in members:  # bucket i holds the words of frequency 10^(-i/100)
            if word.isalpha() and word not in seen:
                seen.add(word)
                words.append(word)
                freqs.append(10 ** (-bucket / 100))
                if len(words) == count:
                    return tuple(words), tuple(freqs)
    return tuple(words), tuple(freqs)


def held_out(text: str, seed: int, fraction: float) -> bool:
    """A seeded hash of the text itself: the same text lands on the same side in every language and run."""
    digest = hashlib.sha256(f"{seed}:{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64 < fraction


def langid_datasets() -> list[str]:
    return [BUILTIN] + [name for name in uploaded_labelled() if name != BUILTIN]


SPEC = TaskSpec(
    name="langid", title="which language is this? (many-to-one classification, or your labelled text)",
    metrics=(MetricSpec("val_loss", "validation loss", "nats per text (cross-entropy)", False, chance_key="uniform_loss"),
             MetricSpec("accuracy", "accuracy", "share of texts labelled right", True, chance=1 / 8, chance_key="chance"),
             MetricSpec("macro_f1", "macro-F1", "mean F1 over the classes", True, chance=1 / 8,
                        chance_key="macro_f1_chance")),
    headline="accuracy",
    settings={"task.dataset": "Dataset", "task.data_path": "Labelled file (text,label per line)",
              "task.max_upload_bytes": "Largest file accepted (bytes)",
              "task.val_fraction": "Held-out share (of the words, or of an upload's texts)", "task.data_seed": "Data seed"},
    options=(Setting("task.langid.languages", label="Languages (wordfreq codes)", widget="text", group="Task and data"),
             Setting("task.langid.words_per_language", label="Words per language", widget="number", low=50,
                     high=50_000, step=500, group="Task and data"),
             Setting("task.langid.sentence_words", label="Words per example (at most)", widget="number", low=1, high=8,
                     step=1, group="Task and data"),
             Setting("task.langid.pooling", label="Classifier reads", widget="radio", choices=POOLINGS,
                     group="Architecture"),
             Setting("task.langid.test_examples", label="Held-out examples", widget="number", low=20, high=100_000,
                     step=100, group="Task and data"),
             Setting("task.langid.max_text", label="Characters read per text", widget="number", low=4, high=2000,
                     step=10, group="Task and data")),
    datasets=langid_datasets, default_dataset=BUILTIN, bidirectional=True,
    race_entrants=(("rnn-tanh", "none", False), ("gru", "none", False), ("lstm", "none", False), ("lstm", "none", True)),
    sample_heading="A held-out text and the model's label at step {step}", try_view="classify",
    stream_label="characters")


class LangidTask(Task):
    name = "langid"
    about = SPEC

    def __init__(self, cfg: TaskConfig, state: dict | None = None) -> None:
        """With `state` (from a checkpoint) the characters and classes are fixed and the data loads lazily."""
        self.cfg, self.options = cfg, cfg.langid
        self._data: dict | None = None
        if state is not None:
            self.symbols, self.classes = list(state["symbols"]), list(state["classes"])
        else:
            data = self.data()
            self.symbols, self.classes = data["symbols"], data["classes"]
        self.index = {s: i for i, s in enumerate(self.symbols)}
        self._heldout: dict | None = None

    @property
    def builtin(self) -> bool:
        return not self.cfg.data_path and self.cfg.dataset == BUILTIN

    # -- data ---------------------------------------------------------------------------------
    def data(self) -> dict:
        """{"classes", "symbols", and either per-class word pools (built-in) or (text, class id) rows}."""
        if self._data is None:
            self._data = self._builtin() if self.builtin else self._uploaded()
        return self._data

    def _builtin(self) -> dict:
        seed, fraction, train, test = self.cfg.data_seed, self.cfg.val_fraction, [], []
        for code in self.options.codes():
            words, freqs = language_words(code, self.options.words_per_language)
            sides = [held_out(word, seed, fraction) for word in words]
            train.append(_pool([w for w, s in zip(words, sides) if not s], [f for f, s in zip(freqs, sides) if not s]))
            test.append(_pool([w for w, s in zip(words, sides) if s], [f for f, s in zip(freqs, sides) if s]))
            if not len(train[-1][0]) or not len(test[-1][0]):
                raise DataError(f"wordfreq's {code} list is too short to hold words out: raise words_per_language")
        characters = {c for pool in train for word in pool[0] for c in word} | {" "}
        return {"classes": self.options.codes(), "symbols": ["<pad>", "<unk>"] + sorted(characters),
                "train_pools": train, "test_pools": test}

    def _uploaded(self) -> dict:
        if self.cfg.data_path:
            path = self.cfg.data_path
        else:
            path = uploaded_labelled().get(self.cfg.dataset)
            if path is None:
                raise DataError(f"unknown langid dataset {self.cfg.dataset!r}; available: {', '.join(langid_datasets())} "
                                "(or --data FILE of text,label rows)")
        rows = read_labelled_file(path, self.cfg.max_upload_bytes)
        classes = sorted({label for _, label in rows})
        ids = {label: i for i, label in enumerate(classes)}
        cut = self.options.max_text
        train = [(text[:cut], ids[label]) for text, label in rows if not held_out(text, self.cfg.data_seed, self.cfg.val_fraction)]
        test = [(text[:cut], ids[label]) for text, label in rows if held_out(text, self.cfg.data_seed, self.cfg.val_fraction)]
        if not train or not test:
            raise DataError(f"the {len(rows)} rows are too few to hold some out for testing (val_fraction "
                            f"{self.cfg.val_fraction:g}): add rows or raise val_fraction")
        characters = {c for text, _ in train for c in text}
        return {"classes": classes, "symbols": ["<pad>", "<unk>"] + sorted(characters), "train_rows": train,
                "test_rows": test}

    def encode(self, texts: list[str]) -> dict:
        """Texts -> {"x": (B, longest) ids padded with PAD, "lengths": (B,)}; an unseen character is UNK."""
        texts = [t[: self.options.max_text] or " " for t in texts]
        width = max(len(t) for t in texts)
        x = torch.full((len(texts), width), PAD, dtype=torch.long)
        for row, text in enumerate(texts):
            x[row, : len(text)] = torch.tensor([self.index.get(c, UNK) for c in text], dtype=torch.long)
        return {"x": x, "lengths": torch.tensor([len(t) for t in texts], dtype=torch.long)}

    def draw(self, count: int, generator: torch.Generator, test: bool = False,
             balanced: bool = False) -> tuple[list[str], list[int]]:
        """`count` examples (texts, class ids): drawn from the word pools, or rows of an upload."""
        data = self.data()
        if not self.builtin:
            rows = data["test_rows" if test else "train_rows"]
            picks = torch.randint(len(rows), (count,), generator=generator).tolist()
            return [rows[i][0] for i in picks], [rows[i][1] for i in picks]
        pools = data["test_pools" if test else "train_pools"]
        classes = len(pools)
        labels = [i % classes for i in range(count)] if balanced else torch.randint(classes, (count,), generator=generator).tolist()
        lengths = torch.randint(1, self.options.sentence_words + 1, (count,), generator=generator).tolist()
        texts = [""] * count
        for label in range(classes):
            rows = [i for i, c in enumerate(labels) if c == label]
            if not rows:
                continue
            words, weights = pools[label]
            picked = torch.multinomial(weights, sum(lengths[i] for i in rows), replacement=True, generator=generator).tolist()
            start = 0
            for i in rows:
                texts[i] = " ".join(words[j] for j in picked[start:start + lengths[i]])
                start += lengths[i]
        return texts, labels

    def batch(self, texts: list[str], labels: list[int]) -> dict:
        return {**self.encode(texts), "y": torch.tensor(labels, dtype=torch.long)}

    def heldout(self) -> tuple[list[str], list[int]]:
        """The fixed held-out set: balanced draws from the held-out words, or an upload's held-out rows."""
        if self._heldout is None:
            if self.builtin:
                generator = torch.Generator().manual_seed(self.cfg.data_seed + 7919)
                self._heldout = self.draw(self.options.test_examples, generator, test=True, balanced=True)
            else:
                rows = self.data()["test_rows"]
                self._heldout = [t for t, _ in rows], [c for _, c in rows]
        return self._heldout

    @property
    def spec(self) -> dict:
        return {"family": "readout", "input": "tokens", "input_size": len(self.symbols), "outputs": len(self.classes),
                "objective": "classify", "positions": "last", "pooling": self.options.pooling}

    def state(self) -> dict:
        return {"symbols": self.symbols, "classes": self.classes}

    def train_batches(self, batch_size: int, seq_len: int, generator: torch.Generator) -> Iterator[dict]:
        while True:
            yield self.batch(*self.draw(batch_size, generator))

    def probe_batch(self, batch_size: int, seq_len: int) -> dict:
        """Held-out texts of one length, so the probe's core sees no padding: the longest length that enough
        texts have (the gradient flow then reaches back over more characters)."""
        texts, labels = self.heldout()
        lengths = [min(len(t), self.options.max_text) for t in texts]
        wanted = min(batch_size, 8)
        common = max(set(lengths), key=lambda n: (lengths.count(n) >= wanted, n if lengths.count(n) >= wanted else lengths.count(n)))
        rows = [i for i, n in enumerate(lengths) if n == common][:wanted]
        batch = self.batch([texts[i] for i in rows], [labels[i] for i in rows])
        return {"x": batch["x"], "y": batch["y"]}

    def batch_tokens(self, batch: dict) -> int:
        return int(batch["lengths"].sum())

    def describe(self) -> dict:
        texts, labels = self.heldout()
        facts = {"classes": len(self.classes), "characters": len(self.symbols) - 2, "test_examples": len(texts),
                 "chance": 1 / len(self.classes)}
        if self.builtin:
            facts["train_words"] = sum(len(pool[0]) for pool in self.data()["train_pools"])
            facts["test_words"] = sum(len(pool[0]) for pool in self.data()["test_pools"])
        else:
            facts["train_examples"] = len(self.data()["train_rows"])
        return facts

    # -- metrics and samples -------------------------------------------------------------------
    @torch.no_grad()
    def probabilities(self, model: SequenceModel, texts: list[str], batch_size: int = 256) -> torch.Tensor:
        """(N, classes) class probabilities of each text."""
        with evaluating(model):
            device = next(model.parameters()).device
            out = []
            for start in range(0, len(texts), batch_size):
                batch = {k: v.to(device) for k, v in self.encode(texts[start:start + batch_size]).items()}
                out.append(F.softmax(model(batch).logits[:, -1].float(), dim=-1).cpu())
        return torch.cat(out)

    def evaluate(self, model: SequenceModel, batch_size: int, seq_len: int, max_batches: int | None = None) -> dict:
        """Every held-out example, every time (the set is small and fixed, so runs compare)."""
        texts, labels = self.heldout()
        probs = self.probabilities(model, texts, max(batch_size, 64))
        truth = torch.tensor(labels, dtype=torch.long)
        loss = float(F.nll_loss(probs.clamp_min(1e-12).log(), truth))
        counts = label_metrics.confusion(truth, probs.argmax(-1), len(self.classes))
        shares = (counts.sum(1).double() / max(len(labels), 1)).tolist()
        return {"val_loss": loss, "accuracy": label_metrics.accuracy(counts), "macro_f1": label_metrics.macro_f1(counts),
                "chance": 1 / len(self.classes), "macro_f1_chance": label_metrics.random_guess_macro_f1(shares),
                "majority_share": max(shares), "uniform_loss": math.log(len(self.classes)),
                "eval_examples": len(labels), "confusion": {"classes": self.classes, "counts": counts.tolist()}}

    def sample(self, model: SequenceModel, generator: torch.Generator | None = None, **_options) -> dict:
        """One held-out text and the model's label (temperature and length do not apply)."""
        texts, labels = self.heldout()
        index = int(torch.randint(len(texts), (1,), generator=generator))
        probs = self.probabilities(model, [texts[index]])[0]
        top = probs.topk(min(3, len(self.classes)))
        guess, truth = int(top.indices[0]), labels[index]
        mark = "✓" if guess == truth else f"✗ (truth {self.classes[truth]})"
        others = ", ".join(f"{self.classes[int(i)]} {float(p):.0%}" for p, i in zip(top.values[1:], top.indices[1:]))
        return {"text": f"«{texts[index][:self.options.max_text]}» → {self.classes[guess]} ({float(top.values[0]):.0%}) "
                        f"{mark}" + (f"; then {others}" if others else ""), "index": index}

    def card_notes(self, metrics: dict) -> str:
        counts = torch.tensor(metrics["confusion"]["counts"])
        precision, recall, f1 = label_metrics.per_class(counts)
        rows = "\n".join(f"| {name} | {p:.3f} | {r:.3f} | {f:.3f} |"
                         for name, p, r, f in zip(self.classes, precision, recall, f1))
        worst = max(((i, j) for i in range(len(self.classes)) for j in range(len(self.classes)) if i != j),
                    key=lambda ij: int(counts[ij]))
        data = (f"words of {', '.join(self.classes)} from wordfreq's lists (the {self.options.words_per_language:,} "
                f"commonest alphabetic words of each), examples of 1 to {self.options.sentence_words} words drawn by "
                "frequency; the held-out words (a seeded hash of each word) never occur in training, in any language"
                if self.builtin else f"the uploaded labelled texts `{self.cfg.dataset}`, held out by a hash of each text")
        return f"""
## Data, per-class scores and limits

Trained on {data}. Held-out scores per class:

| class | precision | recall | F1 |
|---|---|---|---|
{rows}

The commonest confusion: {int(counts[worst]):,} held-out {self.classes[worst[0]]} examples read as {self.classes[worst[1]]}. Limits: a single short word is often ambiguous (words shared by several languages, such as names and loanwords, count for each); the model knows only the characters it was trained on (others read as one unknown symbol) and only these classes: any other language is still given one of them.
"""

    def classify(self, model: SequenceModel, text: str) -> dict:
        """What the Try page shows: the class probabilities of `text`, and of each of its prefixes (how the
        prediction evolves as the network reads). Each prefix is read as a text of its own, so this holds for a
        bidirectional encoder and for mean pooling too."""
        text = text.strip()[: self.options.max_text]
        if not text:
            raise DataError("type some text to classify")
        prefixes = [text[: i + 1] for i in range(len(text))]
        probs = self.probabilities(model, prefixes)
        unknown = sorted({c for c in text if c not in self.index})
        return {"text": text, "classes": self.classes, "probs": probs[-1].tolist(), "characters": list(text),
                "prefix_probs": probs.tolist(), "unknown": unknown}


def _pool(words: list[str], freqs: list[float]) -> tuple[list[str], torch.Tensor]:
    return words, torch.tensor(freqs, dtype=torch.double)
