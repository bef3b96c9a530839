"""Restoring spaces: many-to-many aligned tagging, where reading right-to-left helps.

The input is a text with its spaces removed; for each character the model says whether a space
followed it. A left-to-right network must guess from what it has read; a bidirectional one also sees
the next characters, which is where the answer mostly lies ("the|cat" vs "then"): race the two on Compare.

Data: a built-in corpus (tiny, pydoc, stdlib) or an uploaded text, as for character generation; the
held-out text is the last `val_fraction` of it (for tiny, whole lines a hash picks, never trained on).
Training reads random windows of `seq_len` characters; evaluation the held-out text's first windows,
in order. Metrics: boundary precision, recall and F1 (a boundary = "a space follows"), per-character
accuracy, and the accuracy of always guessing the most frequent class (no space).
"""
from __future__ import annotations

from typing import Iterator

import torch
import torch.nn.functional as F

from ..config import TaskConfig
from ..data.corpora import BUILTIN, split_by_line
from ..data.errors import DataError
from ..data.uploads import dataset_choices
from ..models import SequenceModel
from ..models.inference import evaluating
from . import label_metrics
from .base import Task
from .char import load_text
from .spec import MetricSpec, TaskSpec

UNK = 0  # a character the training text never had
MAX_TRY_CHARACTERS = 4000  # what the Try page tags at once
MAX_EVAL_WINDOWS = 4096  # held-out windows scored when an evaluation sets no limit


def unspaced(text: str) -> tuple[str, list[int]]:
    """(the text without its spaces, for each remaining character 1 if a space followed it, else 0)."""
    characters, boundaries = [], []
    for ch in text:
        if ch == " ":
            if boundaries:
                boundaries[-1] = 1
            continue
        characters.append(ch)
        boundaries.append(0)
    return "".join(characters), boundaries


def spaced(characters: str, boundaries: list[int]) -> str:
    """The inverse: a space after every character marked 1."""
    return "".join(ch + (" " if b else "") for ch, b in zip(characters, boundaries))


SPEC = TaskSpec(
    name="spaces", title="restore the spaces (a tag per character; bidirectional helps)",
    metrics=(MetricSpec("val_loss", "validation loss", "nats per character (cross-entropy)", False),
             MetricSpec("f1", "boundary F1", "F1 of the predicted spaces", True, chance=0.0),
             MetricSpec("precision", "boundary precision", "share of predicted spaces that are real", True),
             MetricSpec("recall", "boundary recall", "share of real spaces predicted", True),
             MetricSpec("accuracy", "per-character accuracy", "share of characters tagged right", True,
                        chance_key="majority_accuracy")),
    headline="f1",
    settings={"task.dataset": "Dataset", "task.data_path": "Text file", "task.max_upload_bytes": "Largest file accepted (bytes)",
              "task.val_fraction": "Held-out share of the text", "task.max_chars": "Keep only the first N characters",
              "train.seq_len": "Window (characters without spaces)"},
    datasets=dataset_choices, default_dataset="tiny", bidirectional=True,
    race_entrants=(("lstm", "none", False), ("lstm", "none", True)),  # the same cell one-way and both ways
    sample_heading="A held-out window, spaced by the model at step {step}", try_view="tag", stream_label="characters")


class SpacesTask(Task):
    name = "spaces"
    about = SPEC

    def __init__(self, cfg: TaskConfig, state: dict | None = None) -> None:
        """With `state` (from a checkpoint) the characters are fixed and the text loads lazily."""
        self.cfg = cfg
        self._split: tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None = None
        self._texts: tuple[str, str] | None = None
        if state is not None:
            self.symbols = list(state["symbols"])
        else:
            self.symbols = ["<unk>"] + sorted(set(unspaced(self.texts()[0])[0]))
        self.index = {s: i for i, s in enumerate(self.symbols)}

    # -- data ---------------------------------------------------------------------------------
    def texts(self) -> tuple[str, str]:
        """(training text, held-out text), spaces still in."""
        if self._texts is None:
            text = load_text(self.cfg)
            corpus = BUILTIN.get(self.cfg.dataset) if not self.cfg.data_path else None
            if corpus is not None and corpus.disjoint_lines:
                self._texts = split_by_line(text, self.cfg.val_fraction)
            else:
                cut = int(len(text) * (1 - self.cfg.val_fraction))
                self._texts = text[:cut], text[cut:]
            if not any(" " in part for part in self._texts[0].split("\n")):
                raise DataError("the text has no spaces to restore: pick a text with words separated by spaces")
        return self._texts

    def ids(self, characters: str) -> torch.Tensor:
        return torch.tensor([self.index.get(c, UNK) for c in characters], dtype=torch.long)

    def split(self):
        """((train ids, train boundaries), (held-out ids, held-out boundaries)), each a 1-D tensor."""
        if self._split is None:
            parts = []
            for text in self.texts():
                characters, boundaries = unspaced(text)
                parts.append((self.ids(characters), torch.tensor(boundaries, dtype=torch.long)))
            self._split = tuple(parts)
        return self._split

    def check_size(self, batch_size: int, seq_len: int) -> None:
        (train, _), (held, _) = self.split()
        if len(train) <= seq_len or len(held) < seq_len:
            raise DataError(f"the text has {len(train):,} training and {len(held):,} held-out characters without "
                            f"spaces; a window of {seq_len} needs more of both. Use a longer text or a shorter window.")

    @property
    def spec(self) -> dict:
        return {"family": "readout", "input": "tokens", "input_size": len(self.symbols), "outputs": 2,
                "objective": "classify", "positions": "every"}

    def state(self) -> dict:
        return {"symbols": self.symbols}

    def train_batches(self, batch_size: int, seq_len: int, generator: torch.Generator) -> Iterator[dict]:
        self.check_size(batch_size, seq_len)
        ids, boundaries = self.split()[0]
        offsets = torch.arange(seq_len)
        while True:
            starts = torch.randint(0, len(ids) - seq_len + 1, (batch_size, 1), generator=generator)
            yield {"x": ids[starts + offsets], "y": boundaries[starts + offsets]}

    def windows(self, seq_len: int, count: int | None) -> dict:
        """The held-out text's first `count` non-overlapping windows, in order."""
        ids, boundaries = self.split()[1]
        available = len(ids) // seq_len
        n = min(available, count or MAX_EVAL_WINDOWS, MAX_EVAL_WINDOWS)
        return {"x": ids[: n * seq_len].view(n, seq_len), "y": boundaries[: n * seq_len].view(n, seq_len)}

    def probe_batch(self, batch_size: int, seq_len: int) -> dict:
        return {k: v[: min(batch_size, 8)] for k, v in self.windows(seq_len, 8).items()}

    def describe(self) -> dict:
        (train, train_b), (held, held_b) = self.split()
        share = float(held_b.double().mean()) if len(held_b) else 0.0
        return {"train_characters": len(train), "test_characters": len(held), "vocab_size": len(self.symbols),
                "boundary_share": share, "majority_accuracy": max(share, 1 - share)}

    # -- metrics and samples -------------------------------------------------------------------
    @torch.no_grad()
    def boundary_probs(self, model: SequenceModel, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """(N, T) probability that a space follows each character."""
        with evaluating(model):
            device = next(model.parameters()).device
            out = [F.softmax(model({"x": x[i:i + batch_size].to(device)}).logits.float(), dim=-1)[..., 1].cpu()
                   for i in range(0, len(x), batch_size)]
        return torch.cat(out) if out else torch.zeros(0, x.shape[1])

    def evaluate(self, model: SequenceModel, batch_size: int, seq_len: int, max_batches: int | None = None) -> dict:
        """The held-out text's first `batch_size * max_batches` windows (all of them, up to MAX_EVAL_WINDOWS, without a limit)."""
        self.check_size(batch_size, seq_len)
        held = self.windows(seq_len, batch_size * max_batches if max_batches else None)
        probs = self.boundary_probs(model, held["x"], max(batch_size, 64))
        truth = held["y"].reshape(-1)
        p = probs.reshape(-1).clamp(1e-12, 1 - 1e-12).double()
        loss = float(-(truth * p.log() + (1 - truth) * (1 - p).log()).mean())
        counts = label_metrics.confusion(truth, (probs.reshape(-1) > 0.5).long(), 2)
        precision, recall, f1 = (values[1] for values in label_metrics.per_class(counts))
        share = float(truth.double().mean())
        return {"val_loss": loss, "f1": f1, "precision": precision, "recall": recall,
                "accuracy": label_metrics.accuracy(counts), "majority_accuracy": max(share, 1 - share),
                "boundary_share": share, "eval_characters": int(truth.numel()),
                "confusion": {"classes": ["no space", "space"], "counts": counts.tolist()}}

    def sample(self, model: SequenceModel, generator: torch.Generator | None = None, seq_len: int | None = None,
               **_options) -> dict:
        """One held-out window (picked by `generator`): as the model spaces it, and as it was."""
        held = self.windows(seq_len or 64, None)
        index = int(torch.randint(len(held["x"]), (1,), generator=generator))
        characters = "".join(self.symbols[int(i)] for i in held["x"][index])
        guess = (self.boundary_probs(model, held["x"][index:index + 1])[0] > 0.5).long().tolist()
        truth = held["y"][index].tolist()
        right = sum(g == t for g, t in zip(guess, truth))
        return {"text": f"read:  {characters}\nmodel: {spaced(characters, guess)}\ntruth: {spaced(characters, truth)}\n"
                        f"({right}/{len(truth)} characters tagged right)", "index": index}

    def tag(self, model: SequenceModel, text: str) -> dict:
        """What the Try page shows: `text` with its spaces removed, each character's probability that a space
        follows, and the text spaced where that probability is above one half."""
        characters = unspaced(text.strip())[0][:MAX_TRY_CHARACTERS]
        if not characters:
            raise DataError("paste some text (its spaces are removed before the model reads it)")
        probs = self.boundary_probs(model, self.ids(characters).view(1, -1))[0].tolist()
        return {"characters": list(characters), "probs": probs, "tag": "a space follows",
                "text": spaced(characters, [int(p > 0.5) for p in probs]),
                "unknown": sorted({c for c in characters if c not in self.index})}
