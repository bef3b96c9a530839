"""Long-memory stress tasks: the experiments that show why vanilla RNNs fail on long sequences.

    adding          (Hochreiter & Schmidhuber 1997; Le, Jaitly & Hinton 2015) T steps of (value, marker):
                    values uniform in [0, 1], exactly two marked, one in each half; predict the sum of the
                    two marked values (a regression, scored by MSE). Chance: always predicting the mean.
    temporal-order  (Hochreiter & Schmidhuber 1997, experiment 6) T symbols: B, noise from {a, b, c, d}, E,
                    with 2 (or 3) markers X/Y hidden early, mid-way (and late); classify their order
                    (XX, XY, YX, YY, ...). Chance: 1 / classes.
    copy            (Hochreiter & Schmidhuber 1997; Arjovsky, Shah & Bengio 2016) `copy_length` symbols from
                    8, a long blank, a delimiter, then reproduce the symbols in order: the model reads T
                    steps in all and recalls each symbol T - copy_length steps after seeing it. Scored by
                    the accuracy of the recalled symbols. Chance: 1 / 8.

T is the run's sequence length (TrainConfig.seq_len, `--seq-len`). Training examples are drawn fresh
for every batch from the trainer's generator (reproducible by seed, never repeated); the held-out set
of each T is fixed, drawn from its own seed (`data_seed`, the task and T), and every evaluation scores
all of it, so `solved` means the same in every run. Evaluations report the held-out metric (`mse` or
`accuracy`), its `chance` level, the `solved_threshold` and whether it is `solved`.
"""
from __future__ import annotations

import zlib
from typing import Iterator

import torch
import torch.nn.functional as F

from ..config import TaskConfig, TrainConfig
from ..data.errors import DataError
from ..models import SequenceModel
from ..models.inference import evaluating
from .base import Task
from .spec import MetricSpec, TaskSpec

# What every long-memory task's settings are and mean (T is the run's sequence length).
MEMORY_SETTINGS = {"train.seq_len": "T (sequence length)", "task.data_seed": "Seed of the held-out set",
                   "task.test_sequences": "Held-out sequences per T", "train.stop_when_solved": "Stop when solved"}
MEMORY_ENTRANTS = (("rnn-tanh", "none", False), ("lstm", "none", False), ("esn", "none", False))


# A first run that solves the task in seconds (the lab's sweep settings at T=30), stopping once solved; at the
# form's defaults (T=64, 500 steps) an LSTM ends at chance on all three, which teaches nothing
MEMORY_FIRST_RUN = {"arch": "lstm", "hidden": 32, "lr": 0.01, "seq_len": 30, "steps": 1500, "eval_every": 50,
                    "stop_when_solved": True}


def memory_spec(name: str, title: str, metrics: tuple[MetricSpec, ...], embeds_inputs: bool = True,
                first_run: dict | None = None, **settings: str) -> TaskSpec:
    return TaskSpec(name=name, title=title, metrics=metrics, headline=metrics[1].name, embeds_inputs=embeds_inputs,
                    generates_sequences=True, first_run={**MEMORY_FIRST_RUN, **(first_run or {})},
                    settings={**MEMORY_SETTINGS, **settings}, bidirectional=True, race_entrants=MEMORY_ENTRANTS,
                    sample_heading="A held-out sequence and the model's answer at step {step}",
                    stream_label="time steps", data_label=lambda cfg: f" T={cfg.train.seq_len}")

DEFAULT_SEQ_LEN = TrainConfig().seq_len  # the T of samples and descriptions when no run settings were given


class MemoryTask(Task):
    carries_state = False  # every sequence is a fresh example
    # (about.bidirectional: the label depends on the whole sequence; reading it backwards sees no answer)
    min_seq_len = 2
    solved_threshold = 0.0  # the held-out metric a model must reach to count as having solved the task

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "about" in cls.__dict__:
            cls.solved_threshold = cls.about.headline_metric.solved

    def __init__(self, cfg: TaskConfig, state: dict | None = None) -> None:
        """With `state` (from a checkpoint) samples use the T the model was trained on."""
        self.cfg = cfg
        self.seq_len = (state or {}).get("seq_len", DEFAULT_SEQ_LEN)
        self._heldout: dict[int, dict] = {}

    def use_train_settings(self, train: TrainConfig) -> None:
        self.seq_len = train.seq_len  # samples and descriptions use the run's T

    def state(self) -> dict:
        return {"seq_len": self.seq_len}

    # -- what subclasses define -------------------------------------------------------------------
    def examples(self, count: int, seq_len: int, generator: torch.Generator) -> dict:
        """`count` random examples of length `seq_len`: a batch of CPU tensors."""
        raise NotImplementedError

    def score(self, logits: torch.Tensor, batch: dict) -> dict:
        """Held-out metric(s) of a model's logits on a batch, with `chance`."""
        raise NotImplementedError

    def is_solved(self, metrics: dict) -> bool:
        raise NotImplementedError

    def explain(self, batch: dict, logits: torch.Tensor) -> str:
        """One example (batch of one) and the model's answer, in words."""
        raise NotImplementedError

    # -- data -------------------------------------------------------------------------------------
    def check_size(self, batch_size: int, seq_len: int) -> None:
        if seq_len < self.min_seq_len:
            raise DataError(f"the {self.name} task needs sequences of at least {self.min_seq_len} steps "
                            f"(got seq_len {seq_len})")

    def train_batches(self, batch_size: int, seq_len: int, generator: torch.Generator) -> Iterator[dict]:
        self.check_size(batch_size, seq_len)
        while True:
            yield self.examples(batch_size, seq_len, generator)

    def heldout(self, seq_len: int) -> dict:
        """The fixed held-out set for sequences of `seq_len` steps (the same in every run with this data_seed)."""
        if seq_len not in self._heldout:
            self.check_size(1, seq_len)
            seed = zlib.crc32(f"{self.name}/{self.cfg.data_seed}/{seq_len}".encode())
            self._heldout[seq_len] = self.examples(self.cfg.test_sequences, seq_len, torch.Generator().manual_seed(seed))
        return self._heldout[seq_len]

    @property
    def inspect_length(self) -> int:
        """The explorer steps through a held-out example of the run's own T."""
        return self.seq_len

    def probe_batch(self, batch_size: int, seq_len: int) -> dict:
        return rows(self.heldout(seq_len), slice(0, min(batch_size, 8)))

    def batch_tokens(self, batch: dict) -> int:
        return batch["x"].shape[0] * batch["x"].shape[1]  # time steps read, whatever each step holds

    def describe(self) -> dict:
        metrics = self.score(None, self.heldout(self.seq_len))
        return {"task": self.name, "seq_len": self.seq_len, "test_sequences": self.cfg.test_sequences,
                "chance": metrics["chance"], "solved_threshold": self.solved_threshold,
                "headline_metric": self.headline_metric}

    # -- metrics and samples ----------------------------------------------------------------------
    @torch.no_grad()
    def run(self, model: SequenceModel, batch: dict, batch_size: int) -> tuple[torch.Tensor, float]:
        """(logits of every example, mean loss) of `batch`, in chunks of `batch_size`."""
        with evaluating(model):
            device = next(model.parameters()).device
            count = len(batch["y"])
            logits, loss_sum = [], 0.0
            for start in range(0, count, batch_size):
                chunk = {k: v.to(device) for k, v in rows(batch, slice(start, start + batch_size)).items()}
                out = model(chunk)
                logits.append(out.logits.float().cpu())
                loss_sum += out.loss.item() * len(chunk["y"])
        return torch.cat(logits), loss_sum / max(count, 1)

    def evaluate(self, model: SequenceModel, batch_size: int, seq_len: int, max_batches: int | None = None) -> dict:
        """Metrics on the whole fixed held-out set of this T (max_batches does not apply: the set is small,
        scoring is forward-only, and a partial set would make `solved` depend on the run's settings)."""
        heldout = self.heldout(seq_len)
        logits, loss = self.run(model, heldout, batch_size)
        metrics = {"val_loss": loss, **self.score(logits, heldout)}
        return {**metrics, "solved_threshold": self.solved_threshold, "solved": self.is_solved(metrics),
                "eval_sequences": len(heldout["y"]), "seq_len": seq_len}

    def sample(self, model: SequenceModel, generator: torch.Generator | None = None, seq_len: int | None = None,
               **_options) -> dict:
        """One held-out example (picked by `generator`) and the model's answer (length and temperature do not apply)."""
        heldout = self.heldout(seq_len or self.seq_len)
        index = int(torch.randint(len(heldout["y"]), (1,), generator=generator))
        example = rows(heldout, slice(index, index + 1))
        logits, _ = self.run(model, example, 1)
        return {"text": self.explain(example, logits), "index": index}


class AddingTask(MemoryTask):
    name = "adding"
    # solved: MSE 0.01, about 6% of chance (1/6): both marked values are read to about +-0.07
    about = memory_spec("adding", "long memory: add two marked numbers (MSE)", (
        MetricSpec("val_loss", "validation loss", "squared error of the predicted sum (MSE)", False, chance=1 / 6,
                   chance_key="chance"),
        MetricSpec("mse", "mean squared error", "MSE", False, chance=1 / 6, chance_key="chance", solved=0.01)),
        embeds_inputs=False)  # (value, marker) vectors

    @property
    def spec(self) -> dict:
        return {"family": "readout", "input": "vectors", "input_size": 2, "outputs": 1, "objective": "regress",
                "positions": "last"}

    def examples(self, count: int, seq_len: int, generator: torch.Generator) -> dict:
        values = torch.rand(count, seq_len, generator=generator)
        half = seq_len // 2
        first = torch.randint(0, half, (count,), generator=generator)
        second = torch.randint(half, seq_len, (count,), generator=generator)
        marks = torch.zeros(count, seq_len)
        every = torch.arange(count)
        marks[every, first] = 1.0
        marks[every, second] = 1.0
        x = torch.stack([values, marks], dim=2)  # (B, T, 2): channel 0 the value, channel 1 the marker
        return {"x": x, "y": values[every, first] + values[every, second]}

    def score(self, logits: torch.Tensor | None, batch: dict) -> dict:
        y = batch["y"]
        chance = float(((y - y.mean()) ** 2).mean())  # always predicting the mean
        if logits is None:
            return {"chance": chance}
        return {"mse": float(((logits[:, -1, 0] - y) ** 2).mean()), "chance": chance}

    def is_solved(self, metrics: dict) -> bool:
        return metrics["mse"] <= self.solved_threshold

    def explain(self, batch: dict, logits: torch.Tensor) -> str:
        x, target, predicted = batch["x"][0], float(batch["y"][0]), float(logits[0, -1, 0])
        marked = x[:, 1].nonzero().squeeze(1).tolist()
        terms = " + ".join(f"{float(x[t, 0]):.3f} (t={t})" for t in marked)
        return (f"T={len(x)}: marked {terms} = {target:.3f}; predicted {predicted:.3f} "
                f"(error {predicted - target:+.3f})")


class TemporalOrderTask(MemoryTask):
    name = "temporal-order"
    about = memory_spec("temporal-order", "long memory: classify the order of hidden markers", (
        MetricSpec("val_loss", "validation loss", "nats per sequence (cross-entropy)", False),
        MetricSpec("accuracy", "accuracy", "share of orders right", True, chance=0.25, chance_key="chance",
                   solved=0.95)), **{"task.markers": "Markers to order (2 = 4 classes, 3 = 8)"})
    SYMBOLS = ("a", "b", "c", "d", "X", "Y", "B", "E")  # noise a-d, markers X and Y, start B, end E
    NOISE_SYMBOLS, MARKER, START, END = 4, 4, 6, 7  # a-d are noise; X = 4, Y = 5
    # where the markers hide, as fractions of T (Hochreiter & Schmidhuber's 6a and 6b at T=100)
    WINDOWS = {2: ((0.1, 0.2), (0.5, 0.6)), 3: ((0.1, 0.2), (0.33, 0.43), (0.66, 0.76))}

    @property
    def min_seq_len(self) -> int:
        return 10 if self.cfg.markers == 2 else 15  # room for disjoint marker windows

    @property
    def classes(self) -> int:
        return 2 ** self.cfg.markers

    @property
    def spec(self) -> dict:
        return {"family": "readout", "input": "tokens", "input_size": len(self.SYMBOLS), "outputs": self.classes,
                "objective": "classify", "positions": "last"}

    def class_name(self, label: int) -> str:
        bits = format(label, f"0{self.cfg.markers}b")
        return "".join("XY"[int(b)] for b in bits)

    def examples(self, count: int, seq_len: int, generator: torch.Generator) -> dict:
        x = torch.randint(0, self.NOISE_SYMBOLS, (count, seq_len), generator=generator)
        x[:, 0], x[:, -1] = self.START, self.END
        bits = torch.randint(0, 2, (count, self.cfg.markers), generator=generator)
        every = torch.arange(count)
        for i, (lo, hi) in enumerate(self.WINDOWS[self.cfg.markers]):
            start, end = max(1, round(lo * seq_len)), min(seq_len - 1, round(hi * seq_len) + 1)  # T=100: 10-20, 50-60
            position = torch.randint(start, end, (count,), generator=generator)
            x[every, position] = self.MARKER + bits[:, i]
        weights = 2 ** torch.arange(self.cfg.markers - 1, -1, -1)
        return {"x": x, "y": (bits * weights).sum(dim=1)}

    def score(self, logits: torch.Tensor | None, batch: dict) -> dict:
        chance = 1.0 / self.classes
        if logits is None:
            return {"chance": chance}
        return {"accuracy": float((logits[:, -1].argmax(-1) == batch["y"]).float().mean()), "chance": chance}

    def is_solved(self, metrics: dict) -> bool:
        return metrics["accuracy"] >= self.solved_threshold

    def explain(self, batch: dict, logits: torch.Tensor) -> str:
        x, label = batch["x"][0], int(batch["y"][0])
        probs = F.softmax(logits[0, -1], dim=-1)
        guess = int(probs.argmax())
        markers = ", ".join(f"{self.SYMBOLS[int(x[t])]} at t={t}" for t in (x >= self.MARKER).logical_and(
            x < self.START).nonzero().squeeze(1).tolist())
        mark = "✓" if guess == label else f"✗ (truth {self.class_name(label)})"
        return (f"T={len(x)}: {markers} among noise → order {self.class_name(label)}; predicted "
                f"{self.class_name(guess)} (p={float(probs[guess]):.2f}) {mark}")


class CopyTask(MemoryTask):
    name = "copy"
    about = memory_spec("copy", "long memory: repeat the first symbols at the end", (
        MetricSpec("val_loss", "validation loss", "nats per recalled symbol (cross-entropy)", False),
        MetricSpec("accuracy", "accuracy", "share of recalled symbols right", True, chance=0.125, chance_key="chance",
                   solved=0.95)),
        # an LSTM stays at chance on copy at T=30 for 3,000 steps; at T=15 with 3 symbols it solves it by step 500
        first_run={"seq_len": 15, "copy_length": 3, "hidden": 64},
        **{"task.copy_length": "Symbols to copy"})
    ALPHABET = 8  # symbols 0-7 to remember; 8 = blank, 9 = the delimiter that asks for the recall
    BLANK, DELIMITER = 8, 9

    @property
    def min_seq_len(self) -> int:
        return 2 * self.cfg.copy_length + 1

    @property
    def spec(self) -> dict:
        return {"family": "readout", "input": "tokens", "input_size": self.ALPHABET + 2, "outputs": self.ALPHABET,
                "objective": "classify", "positions": "every"}

    def examples(self, count: int, seq_len: int, generator: torch.Generator) -> dict:
        n = self.cfg.copy_length
        symbols = torch.randint(0, self.ALPHABET, (count, n), generator=generator)
        x = torch.full((count, seq_len), self.BLANK)
        x[:, :n] = symbols
        x[:, seq_len - n - 1] = self.DELIMITER
        y = torch.zeros(count, seq_len, dtype=torch.long)
        y[:, seq_len - n:] = symbols
        mask = torch.zeros(count, seq_len, dtype=torch.bool)
        mask[:, seq_len - n:] = True  # only the recall is scored
        return {"x": x, "y": y, "mask": mask}

    def score(self, logits: torch.Tensor | None, batch: dict) -> dict:
        chance = 1.0 / self.ALPHABET
        if logits is None:
            return {"chance": chance}
        right = logits.argmax(-1)[batch["mask"]] == batch["y"][batch["mask"]]
        return {"accuracy": float(right.float().mean()), "chance": chance}

    def is_solved(self, metrics: dict) -> bool:
        return metrics["accuracy"] >= self.solved_threshold

    def explain(self, batch: dict, logits: torch.Tensor) -> str:
        n, length = self.cfg.copy_length, batch["x"].shape[1]
        shown = batch["x"][0, :n].tolist()
        recalled = logits[0, -n:].argmax(-1).tolist()
        right = sum(a == b for a, b in zip(shown, recalled))
        words = " ".join(str(s + 1) for s in shown)
        answer = " ".join(str(s + 1) if s == t else f"[{s + 1}]" for s, t in zip(recalled, shown))
        return (f"T={length}: remember {words}, blank for {length - 2 * n - 1} steps, then recall: {answer} "
                f"({right}/{n} right{', ✓' if right == n else ''})")


def rows(batch: dict, index: slice) -> dict:
    """The same rows of every tensor of a batch."""
    return {k: v[index] for k, v in batch.items()}


MEMORY_TASKS = {task.name: task for task in (AddingTask, TemporalOrderTask, CopyTask)}
