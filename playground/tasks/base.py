"""What every task provides to the trainer, the CLI and the pages."""
from __future__ import annotations

from typing import Iterator

import torch

from ..models import SequenceModel
from .spec import TaskSpec


class Task:
    name: str = ""  # the TaskConfig.name that selects this task
    about: TaskSpec  # what the task says about itself (title, metrics, settings, ...): pages and the CLI read it
    carries_state: bool = False  # True: the trainer carries (detached) recurrent state across batches
    headline_metric: str = "val_loss"  # set from `about.headline`: the metric a run is judged by
    default_dataset: str = ""  # set from `about.default_dataset`
    loss_unit: str = "the task's loss"  # set from `about.loss.unit`: what the training and validation loss measure

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        about = cls.__dict__.get("about")
        if about is not None:  # the trainer, the lab, the pretrained recipes and charts read these names
            cls.headline_metric, cls.default_dataset, cls.loss_unit = about.headline, about.default_dataset, \
                about.loss.unit

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

    def card_notes(self, metrics: dict) -> str:
        """Markdown a model card adds about this task's data and results (what the classes are, where the model
        errs, its limits), from the final held-out `metrics`; "" when there is nothing beyond the numbers."""
        return ""

    def state(self) -> dict:
        """What a checkpoint must keep to rebuild the task without its data (a vocabulary, say)."""
        return {}

