"""What every task provides to the trainer, the CLI and the pages."""
from __future__ import annotations

from typing import Iterator

import torch

from ..models import SequenceModel


class Task:
    name: str = ""  # the TaskConfig.name that selects this task
    carries_state: bool = False  # True: the trainer carries (detached) recurrent state across batches
    allows_bidirectional: bool = False  # False when reading right-to-left would see the answer
    headline_metric: str = "val_loss"  # the metric Compare sorts by; lower is better unless listed in HIGHER_IS_BETTER
    loss_unit: str = "nats per target token (cross-entropy)"  # what the training and validation loss measure

    @property
    def spec(self) -> dict:
        """What `models.build` needs: the model family and its sizes."""
        raise NotImplementedError

    def use_train_settings(self, train) -> None:
        """Take the training settings this task's batches or metrics depend on (a TrainConfig).
        Most tasks need none; decoders read the teacher-forcing ratio and the beam width."""

    def check_size(self, batch_size: int, seq_len: int) -> None:
        """Raise DataError with a clear message when the data cannot fill one batch."""

    def train_batches(self, batch_size: int, seq_len: int, generator: torch.Generator) -> Iterator[dict]:
        """An endless stream of training batches (dicts of CPU tensors). A batch whose
        `new_stream` is True starts fresh text: the trainer resets the carried state."""
        raise NotImplementedError

    def probe_batch(self, batch_size: int, seq_len: int) -> dict:
        """A fixed held-out batch for the gradient-flow probe."""
        raise NotImplementedError

    def evaluate(self, model: SequenceModel, batch_size: int, seq_len: int, max_batches: int | None = None) -> dict:
        """Held-out metrics, always with `val_loss`."""
        raise NotImplementedError

    def sample(self, model: SequenceModel, **options) -> dict:
        """One example of what the model does now, with at least `text` for display."""
        raise NotImplementedError

    def batch_tokens(self, batch: dict) -> int:
        """How many tokens a training batch holds (for tokens/s)."""
        return batch["x"].numel()

    def describe(self) -> dict:
        """Facts about the data for the Data page and model cards."""
        return {}

    def state(self) -> dict:
        """What a checkpoint must keep to rebuild the task without its data (a vocabulary, say)."""
        return {}


HIGHER_IS_BETTER = {"accuracy", "exact_match", "token_accuracy", "bleu", "chrf", "word_accuracy", "colour_attention"}
