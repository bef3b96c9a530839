"""What every task provides to the trainer, the CLI and the pages."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import torch

from ..data.errors import DataError
from ..models import SequenceModel
from .spec import TaskSpec


@dataclass
class Inspection:
    """One input for the hidden-state explorer: a batch of one sequence, and what each recurrent core reads."""
    batch: dict  # the model's batch (one row)
    positions: dict[str, list[str]]  # core path ("core", "decoder") -> a label per position it steps through
    text: str | None = None  # one character per position of `core`, for patterns (None: no text to match)
    notes: list[str] = field(default_factory=list)  # what was read, in words ("translated as ...")


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

    def inspection(self, model: SequenceModel, text: str | None = None) -> Inspection:
        """The explorer's input: `text` where the task reads text, else (and by default) a held-out example.
        Here: the first sequence of the probe batch, its positions numbered."""
        if text:
            raise DataError("this task reads generated sequences, not text: leave the text empty")
        batch = {key: value[:1] for key, value in self.probe_batch(1, self.inspect_length).items()
                 if isinstance(value, torch.Tensor)}
        steps = batch["x"].shape[1]
        return Inspection(batch, {"core": [str(t) for t in range(steps)]}, None, ["a held-out example"])

    def attention_labels(self, probe: dict) -> dict | None:
        """Labels of the first probe row's attention map ({"queries": output steps, "keys": what they attend to}),
        for a task whose model attends; None here."""
        return None

    inspect_length = 100  # time steps of the default example of a task that generates its sequences

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

