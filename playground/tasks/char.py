"""Character-level text generation (char-rnn): predict each next character of a text."""
from __future__ import annotations

import math
from typing import Iterator

import torch
import torch.nn.functional as F

from ..config import TaskConfig
from ..data.corpora import BUILTIN, split_by_line
from ..data.errors import DataError
from ..data.text import characters_needed, read_text_file, require_length
from ..data.vocab import Vocabulary
from ..models import SequenceModel
from ..models.inference import evaluating
from ..paths import datasets_dir
from ..data.uploads import dataset_choices
from .base import Inspection, Task
from .spec import MetricSpec, TaskSpec

SPEC = TaskSpec(
    name="char", title="character-level text generation",
    metrics=(MetricSpec("val_loss", "validation loss", "nats per character (cross-entropy)", False, chance_key="uniform_loss"),
             MetricSpec("bits_per_char", "bits per character", "bpc", False, chance_key="uniform_bits_per_char",
                        charted=False)),
    headline="bits_per_char",
    settings={"task.dataset": "Dataset", "train.seq_len": "Truncated-BPTT window (characters)", "task.data_path": "Text file", "task.max_upload_bytes": "Largest file accepted (bytes)",
              "task.val_fraction": "Held-out share of the text", "task.max_chars": "Keep only the first N characters",
              "train.sample_length": "Sample length (characters)", "train.sample_temperature": "Sample temperature",
              "task.tokenization": "Tokens (word: next-word prediction)"},
    becomes=(("task.tokenization", "word", "words"),),  # word tokens: the words task, scored by perplexity per word
    datasets=dataset_choices, default_dataset="tiny", race_entrants=(("rnn-tanh", "none", False), ("lstm", "none", False),
                                                                   ("gru", "none", False)),
    sample_heading="What the model writes at step {step}", sample_caption="sampled at temperature {temperature}",
    try_view="sample", try_controls=("temperature", "prime", "length"), stream_label="characters")


def load_text(cfg: TaskConfig) -> str:
    """The task's text: a file path, a built-in corpus, or a dataset uploaded through the app."""
    if cfg.data_path:
        text = read_text_file(cfg.data_path, cfg.max_upload_bytes)
    elif cfg.dataset in BUILTIN:
        corpus = BUILTIN[cfg.dataset]
        text = corpus.load(cfg.max_chars or corpus.default_max_chars)
    else:
        path = datasets_dir() / f"{cfg.dataset}.txt"
        if not path.is_file():
            names = ", ".join(sorted(BUILTIN) + uploaded_datasets())
            raise DataError(f"unknown dataset {cfg.dataset!r}; available: {names}")
        text = read_text_file(path, cfg.max_upload_bytes)
    return text[: cfg.max_chars] if cfg.max_chars else text


def uploaded_datasets() -> list[str]:
    return sorted(path.stem for path in datasets_dir().glob("*.txt"))


class CharTask(Task):
    name = "char"
    about = SPEC
    carries_state = True

    def __init__(self, cfg: TaskConfig, state: dict | None = None, text: str | None = None) -> None:
        """With `state` (from a checkpoint) the vocabulary is fixed and the text is loaded lazily."""
        self.cfg = cfg
        self._text = text
        if state is not None:
            self.vocab = Vocabulary(state["vocab"])
        else:
            self.vocab = Vocabulary.from_text(self.text)
        self._split: tuple[torch.Tensor, torch.Tensor] | None = None

    # -- data ---------------------------------------------------------------------------------
    @property
    def text(self) -> str:
        if self._text is None:
            self._text = load_text(self.cfg)
        return self._text

    @property
    def spec(self) -> dict:
        return {"family": "language_model", "vocab_size": len(self.vocab)}

    def state(self) -> dict:
        return {"vocab": self.vocab.symbols}

    def split(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(train ids, validation ids): the validation text is the last `val_fraction` of the text, or, for a
        corpus of repeating lines (`Corpus.disjoint_lines`: tiny), the lines a hash picks, never seen in training."""
        if self._split is None:
            corpus = BUILTIN.get(self.cfg.dataset) if not self.cfg.data_path else None
            if corpus is not None and corpus.disjoint_lines:
                train, held = split_by_line(self.text, self.cfg.val_fraction)
                self._split = self.vocab.encode(train), self.vocab.encode(held)
            else:
                ids = self.vocab.encode(self.text)
                cut = int(len(ids) * (1 - self.cfg.val_fraction))
                self._split = ids[:cut], ids[cut:]
        return self._split

    def check_size(self, batch_size: int, seq_len: int) -> None:
        """A clear DataError when the text is too short for one training batch and one validation window."""
        needed = characters_needed(batch_size, seq_len, self.cfg.val_fraction)
        require_length(self.text, needed, f"a batch of {batch_size} x {seq_len} characters plus a validation window")

    def describe(self) -> dict:
        """Facts for the Data page: size, vocabulary and the loss of guessing uniformly."""
        return {
            "characters": len(self.text),
            "vocab_size": len(self.vocab),
            "uniform_loss": math.log(len(self.vocab)),
            "uniform_bits_per_char": math.log2(len(self.vocab)),
            "uniform_loss": math.log(len(self.vocab)),  # guessing uniformly over the vocabulary, in nats
        }

    # -- batches (truncated BPTT: B parallel streams read left to right) -----------------------
    @staticmethod
    def _streams(ids: torch.Tensor, batch_size: int) -> torch.Tensor:
        length = len(ids) // batch_size
        return ids[: batch_size * length].view(batch_size, length)  # (B, L): row b is one contiguous stream

    def train_batches(self, batch_size: int, seq_len: int, generator: torch.Generator) -> Iterator[dict]:
        self.check_size(batch_size, seq_len)
        streams = self._streams(self.split()[0], batch_size)
        length = streams.shape[1]
        while True:
            # a fresh random offset each epoch so the window boundaries move
            slack = (length - 1) - seq_len
            offset = int(torch.randint(0, min(seq_len, slack) + 1, (1,), generator=generator)) if slack > 0 else 0
            starts = range(offset, length - seq_len, seq_len)
            for i, start in enumerate(starts):
                chunk = streams[:, start: start + seq_len + 1]  # (B, T+1)
                yield {"x": chunk[:, :-1], "y": chunk[:, 1:], "new_stream": i == 0}

    def _val_windows(self, batch_size: int, seq_len: int) -> tuple[torch.Tensor, int]:
        val = self.split()[1]
        batch = max(1, min(batch_size, (len(val) - 1) // (seq_len + 1)))
        streams = self._streams(val, batch)
        return streams, max(0, (streams.shape[1] - 1) // seq_len)

    def probe_batch(self, batch_size: int, seq_len: int) -> dict:
        streams, _ = self._val_windows(min(batch_size, 8), seq_len)
        chunk = streams[:, : seq_len + 1]
        return {"x": chunk[:, :-1], "y": chunk[:, 1:]}

    INSPECT_CHARS = 320  # characters of held-out text the explorer reads by default (four lines of 80: each of the
    # page's four text maps draws one SVG label per character, and 600 took a second to draw in the browser)

    def inspection(self, model: SequenceModel, text: str | None = None) -> Inspection:
        """`text`, or held-out text from the start of a line: one position per character."""
        if not text:
            held = self.vocab.decode(self.split()[1][: 4 * self.INSPECT_CHARS])
            start = held.find("\n") + 1 if "\n" in held[: self.INSPECT_CHARS] else 0
            text = held[start: start + self.INSPECT_CHARS]
        ids = self.vocab.encode(text)  # a clear DataError for characters the model never saw
        return Inspection({"x": ids.view(1, -1)}, {"core": list(text)}, text)

    # -- metrics and samples -------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, model: SequenceModel, batch_size: int, seq_len: int, max_batches: int | None = None) -> dict:
        with evaluating(model):
            device = next(model.parameters()).device
            streams, windows = self._val_windows(batch_size, seq_len)
            if max_batches is not None:
                windows = min(windows, max_batches)
            total, count, state = 0.0, 0, None
            for w in range(windows):
                chunk = streams[:, w * seq_len: w * seq_len + seq_len + 1].to(device)
                out = model({"x": chunk[:, :-1], "y": chunk[:, 1:]}, state)
                state = out.state
                total += out.loss.item() * chunk[:, 1:].numel()
                count += chunk[:, 1:].numel()
        loss = total / max(count, 1)
        return {
            "val_loss": loss,
            "bits_per_char": loss / math.log(2),
            "uniform_bits_per_char": math.log2(len(self.vocab)),
            "uniform_loss": math.log(len(self.vocab)),  # guessing uniformly over the vocabulary, in nats
            "eval_characters": count,
        }

    @torch.no_grad()
    def sample(self, model: SequenceModel, length: int = 200, temperature: float = 1.0, prime: str = "",
               top_k: int | None = None, generator: torch.Generator | None = None, alternatives: int = 3) -> dict:
        """Generate `length` characters after `prime`.

        Temperature divides the log-probabilities: below 1 sharpens the distribution (safer,
        more repetitive), above 1 flattens it (more surprising). top_k keeps only the k likeliest.
        Each generated character comes with its probability and the likeliest alternatives.
        """
        if temperature <= 0:
            raise DataError("temperature must be positive")
        ids = self.vocab.encode(prime or ("\n" if "\n" in self.vocab.index else self.vocab.symbols[0]))
        chars, probs, options = sample_after(model, ids, self.vocab.symbols, length, temperature, top_k, generator,
                                             alternatives)
        return {"prime": prime, "text": "".join(chars), "probs": probs, "alternatives": options}


def sample_after(model: SequenceModel, ids: torch.Tensor, symbols: list[str], length: int, temperature: float,
                 top_k: int | None, generator: torch.Generator | None, alternatives: int):
    """Feed the token ids `ids`, then draw `length` tokens one at a time (temperature, optionally among the top_k
    likeliest): (tokens, each one's probability, the likeliest alternatives with theirs). Shared by every task
    that samples a language model (characters, words)."""
    tokens, probs, options = [], [], []
    with evaluating(model):
        device = next(model.parameters()).device
        out = model({"x": ids.to(device).view(1, -1)})
        state, logits = out.state, out.logits[0, -1]
        for _ in range(length):
            scaled = logits.float() / temperature
            if top_k:
                kth = torch.topk(scaled, min(top_k, scaled.numel())).values[-1]
                scaled = scaled.masked_fill(scaled < kth, float("-inf"))
            p = F.softmax(scaled, dim=-1)
            choice = torch.multinomial(p.cpu(), 1, generator=generator).item()
            top = torch.topk(p, min(alternatives, p.numel()))
            tokens.append(symbols[choice])
            probs.append(p[choice].item())
            options.append([(symbols[i], v) for v, i in zip(top.values.tolist(), top.indices.tolist())])
            out = model({"x": torch.tensor([[choice]], device=device)}, state)
            state, logits = out.state, out.logits[0, -1]
    return tokens, probs, options
