"""Translation toy: a sentence in, a sentence out (sequence to sequence, with or without attention).

Data: a generated dataset (dates, numbers, reverse, sort; see data/pairs.py) or uploaded pairs
(data/pair_files.py), tokenised by character or by word. Metrics on the held-out set: teacher-forced
`val_loss`, and on free-running decoding (greedy, or beam search of width `beam`) `exact_match`,
`token_accuracy` and corpus `bleu` (sacrebleu, 0-100).

Teacher forcing: the trainer knows nothing of it. `tasks.build(cfg.task, train=cfg.train)` hands the
task the run's `teacher_forcing` ratio and `beam` width; each training batch then carries a `forced`
mask drawn from the trainer's seeded generator (where False the decoder reads its own previous
prediction), and evaluation decodes with the beam width.
"""
from __future__ import annotations

import dataclasses
import json
import math
import sys
import re
from collections import Counter
from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import torch

from ..config import ConfigError, TaskConfig, TrainConfig
from ..data import cache
from ..data import pair_files as pair_files_code, pairs as pairs_code, tokens as tokens_code
from ..data.errors import DataError
from ..data.pair_files import read_pairs_file, split_by_source
from ..data.pairs import GENERATED, Pair, generate
from ..data.tokens import BOS, EOS, PAD, TokenVocabulary, detokenize, tokenize
from ..models import SequenceModel
from ..models.inference import evaluating
from ..models.decoding import Hypothesis, beam_search, greedy
from ..paths import datasets_dir
from . import sequence_metrics
from .base import Inspection, Task
from .spec import MetricSpec, TaskSpec

CACHE_CODE = [pairs_code, pair_files_code, tokens_code, sys.modules[__name__]]  # the code whose output the cache keeps
MAX_BEAM = 20  # wider beams cost time and rarely change a toy's answer
DECODE_SLACK = 10  # free-running outputs may run this many tokens past the longest training target
DECODE_BATCH = 256  # held-out pairs decoded at once


def uploaded_pair_files() -> dict[str, Path]:
    """Pair files saved through the app: datasets/NAME.tsv or NAME.csv."""
    return {p.stem: p for p in sorted(datasets_dir().glob("*")) if p.suffix in (".tsv", ".csv")}


def load_pairs(cfg: TaskConfig) -> tuple[list[Pair], list[Pair], tuple[str, str]]:
    """(train pairs, held-out pairs, natural (source, target) tokenization) for a task config."""
    if cfg.data_path or cfg.dataset not in GENERATED:
        path = Path(cfg.data_path) if cfg.data_path else uploaded_pair_files().get(cfg.dataset)
        if path is None:
            names = ", ".join(list(GENERATED) + list(uploaded_pair_files()))
            raise DataError(f"unknown translation dataset {cfg.dataset!r}; available: {names} (or --data FILE)")
        train, test = split_by_source(read_pairs_file(path, cfg.max_upload_bytes), cfg.data_seed, cfg.val_fraction)
        return train, test, ("word", "word")
    train, test = generate(cfg.dataset, cfg.pairs, cfg.data_seed, cfg.val_fraction)
    return train, test, GENERATED[cfg.dataset].tokenization


def surface_form(text: str) -> str:
    """What a sentence looks like, not what it says: each run of letters is 'a', each digit '9' (their count
    kept: 2/29/2000 and 02/29/2000 differ), everything else as it is. 'March 3rd, 1998' -> 'a 9a, 9999'."""
    return re.sub(r"[^\W\d_]+", "a", re.sub(r"\d", "9", text.strip().lower()))


FORM_FIELDS = ("name", "dataset", "data_path", "pairs", "data_seed", "val_fraction", "max_upload_bytes")


@lru_cache(maxsize=8)
def _training_forms(fields: tuple) -> frozenset[str]:
    """The surface forms of a dataset's training sources (what `load_pairs` reads for these config fields)."""
    train, _, _ = load_pairs(TaskConfig(**dict(zip(FORM_FIELDS, fields))))
    return frozenset(surface_form(source) for source, _ in train)


def padded_table(rows: list[list[int]]) -> torch.Tensor:
    """(N, longest) id table with <pad> on the right; built from lists in one call (fast for 10^5 rows)."""
    width = max(len(r) for r in rows)
    return torch.tensor([r + [PAD] * (width - len(r)) for r in rows], dtype=torch.long)


@dataclass
class EncodedPairs:
    """A split as padded id tables: row i is pair i."""
    src: torch.Tensor  # (N, S) source ids, <pad> on the right
    src_len: torch.Tensor  # (N,) source lengths
    tgt: torch.Tensor  # (N, T) <s> target ids </s>, <pad> on the right
    tgt_len: torch.Tensor  # (N,) target lengths with <s> and </s>
    references: list[list[str]]  # target tokens, for the metrics

    def __len__(self) -> int:
        return len(self.references)

    def batch(self, rows: torch.Tensor) -> dict:
        src_len, tgt_len = self.src_len[rows], self.tgt_len[rows]
        src = self.src[rows, : int(src_len.max())]
        tgt = self.tgt[rows, : int(tgt_len.max())]
        return {"src": src, "src_len": src_len, "tgt_in": tgt[:, :-1], "tgt_out": tgt[:, 1:]}


def attention_text(source_tokens: list[str], output_tokens: list[str], weights: list[list[float]]) -> str:
    """The attention map as a plain-text table: one row per output token, one column per source
    token, weights in percent (blank below 5%) and the row's largest weight marked with *."""
    def label(token: str) -> str:
        return "␣" if token == " " else token[:5]

    lines = ["      " + "".join(f"{label(t):>6}" for t in source_tokens)]
    for token, row in zip(output_tokens, weights):
        top = max(range(len(row)), key=row.__getitem__)
        cells = "".join(f"{round(100 * w):>5}{'*' if i == top else ' '}" if w >= 0.05 else "      "
                        for i, w in enumerate(row))
        lines.append(f"{label(token):>5} {cells}".rstrip())
    return "\n".join(lines)


def translation_datasets() -> list[str]:
    """The generated pair datasets, then the pair files uploaded through the app."""
    return list(GENERATED) + list(uploaded_pair_files())


SPEC = TaskSpec(
    name="translation", title="translation (sequence to sequence)",
    metrics=(MetricSpec("val_loss", "validation loss", "nats per target token (cross-entropy)", False),
             MetricSpec("exact_match", "exact match", "share of outputs exactly right", True, chance=0.0, solved=0.95),
             MetricSpec("token_accuracy", "token accuracy", "share of tokens right", True),
             MetricSpec("bleu", "BLEU", "BLEU (0-100)", True),
             MetricSpec("chrf", "chrF", "chrF (0-100)", True)),
    headline="exact_match",
    settings={"task.dataset": "Dataset", "task.data_path": "Pair file", "task.max_upload_bytes": "Largest file accepted (bytes)", "task.val_fraction": "Held-out share of the pairs",
              "task.pairs": "Pairs to generate", "task.data_seed": "Data seed", "task.tokenization": "Tokens",
              "task.max_len": "Longest pair kept (tokens)", "model.attention": "Attention",
              "model.decoder_arch": "Decoder cell", "train.teacher_forcing": "Teacher forcing",
              "train.beam": "Beam width at evaluation"},
    datasets=translation_datasets, default_dataset="dates",  # what `--task translation` trains on without --dataset
    attention=("none", "bahdanau", "luong-dot", "luong-general"),
    bidirectional=True,  # the whole source is known before the first output token
    race_entrants=(("gru", "none", False), ("gru", "bahdanau", False), ("lstm", "luong-general", True)),
    sample_heading="A held-out sentence translated at step {step}", sample_caption="decoded with beam width {beam}",
    try_view="translate")


class TranslationTask(Task):
    name = "translation"
    about = SPEC
    carries_state = False

    def __init__(self, cfg: TaskConfig, state: dict | None = None) -> None:
        """With `state` (from a checkpoint) vocabularies are fixed and the data is loaded only if asked for."""
        self.cfg = cfg
        self.teacher_forcing, self.beam = 1.0, 1  # until use_train_settings() hands over the run's own
        self._splits: tuple[EncodedPairs, EncodedPairs] | None = None
        self._info: dict = {}
        if state is not None:
            self.source_mode, self.target_mode = state["tokenization"]
            self.source_vocab = TokenVocabulary(state["source_vocab"])
            self.target_vocab = TokenVocabulary(state["target_vocab"])
            self.max_source_len, self.max_target_len = state["max_source_len"], state["max_target_len"]
        else:
            self._load(vocab_from_data=True)

    def use_train_settings(self, train: TrainConfig) -> None:
        """The run's teacher-forcing ratio (training batches) and beam width (evaluation)."""
        self.teacher_forcing, self.beam = train.teacher_forcing, train.beam

    # -- data ----------------------------------------------------------------------------------
    def _load(self, vocab_from_data: bool) -> None:
        """The encoded splits (and, for a new run, the vocabularies), from the disk cache when these settings,
        this data and this code built them before (the dates set: about 1 s to build, milliseconds to read)."""
        inputs = {"task": dataclasses.asdict(self.cfg), "file": self._data_file_digest(),
                  "fixed_vocabulary": None if vocab_from_data else self.state()}
        if inputs["file"] == "missing":  # load_pairs says which datasets there are
            built = self._build(vocab_from_data)
        else:
            built = cache.cached("translation", inputs, CACHE_CODE, lambda: self._build(vocab_from_data))
        self.source_mode, self.target_mode = built["tokenization"]
        self.source_vocab = TokenVocabulary(built["source_vocab"])
        self.target_vocab = TokenVocabulary(built["target_vocab"])
        self.max_source_len, self.max_target_len = built["max_source_len"], built["max_target_len"]
        self._splits = tuple(EncodedPairs(**{**built[name], "references": json.loads(built[name]["references"])})
                             for name in ("train", "test"))
        self._info = {"dropped_pairs": built["dropped_pairs"], "examples": [tuple(e) for e in built["examples"]]}

    def _data_file_digest(self) -> str | None:
        """The content hash of the pair file this config reads; None for a generated set; "missing": no file."""
        if not self.cfg.data_path and self.cfg.dataset in GENERATED:
            return None
        path = Path(self.cfg.data_path) if self.cfg.data_path else uploaded_pair_files().get(self.cfg.dataset)
        try:
            return cache.file_digest(path) if path is not None else "missing"
        except OSError:
            return "missing"  # read_pairs_file says what is wrong with it

    def _build(self, vocab_from_data: bool) -> dict:
        """Generate or read the pairs, tokenise, (build the vocabularies,) encode: what the cache keeps."""
        train, test, natural = load_pairs(self.cfg)
        if vocab_from_data:
            chosen = self.cfg.tokenization
            self.source_mode, self.target_mode = natural if chosen == "auto" else (chosen, chosen)
        tokenized, dropped = {}, 0
        for split, pairs in (("train", train), ("test", test)):
            kept = []
            for source, target in pairs:
                src, tgt = tokenize(source, self.source_mode), tokenize(target, self.target_mode)
                if 0 < len(src) <= self.cfg.max_len and 0 < len(tgt) <= self.cfg.max_len:
                    kept.append((src, tgt))
                else:
                    dropped += 1
            if not kept:
                raise DataError(f"no {'training' if split == 'train' else 'held-out'} pair is at most "
                                f"{self.cfg.max_len} tokens long on both sides; raise max_len.")
            tokenized[split] = kept
        if vocab_from_data:
            self.source_vocab = TokenVocabulary.from_sequences(s for s, _ in tokenized["train"])
            self.target_vocab = TokenVocabulary.from_sequences(t for _, t in tokenized["train"])
            self.max_source_len = max(len(s) for s, _ in tokenized["train"])
            self.max_target_len = max(len(t) for _, t in tokenized["train"])
        # the references as one JSON text: torch.load(weights_only=True) unpickles 300,000 strings 50x slower
        splits = {name: {**vars(encoded), "references": json.dumps(encoded.references)}
                  for name, encoded in (("train", self._encode(tokenized["train"])), ("test", self._encode(tokenized["test"])))}
        return {**self.state(), **splits, "dropped_pairs": dropped, "examples": [[s, t] for s, t in train[:5]]}

    def _encode(self, pairs: list[tuple[list[str], list[str]]]) -> EncodedPairs:
        src = [self.source_vocab.ids(s) for s, _ in pairs]
        tgt = [[BOS, *self.target_vocab.ids(t), EOS] for _, t in pairs]
        return EncodedPairs(padded_table(src), torch.tensor([len(s) for s in src]),
                            padded_table(tgt), torch.tensor([len(t) for t in tgt]), [t for _, t in pairs])

    def splits(self) -> tuple[EncodedPairs, EncodedPairs]:
        if self._splits is None:
            self._load(vocab_from_data=False)
        return self._splits

    @property
    def spec(self) -> dict:
        return {"family": "seq2seq", "source_vocab_size": len(self.source_vocab),
                "target_vocab_size": len(self.target_vocab)}

    def state(self) -> dict:
        return {"tokenization": [self.source_mode, self.target_mode], "source_vocab": self.source_vocab.symbols,
                "target_vocab": self.target_vocab.symbols, "max_source_len": self.max_source_len,
                "max_target_len": self.max_target_len}

    def check_size(self, batch_size: int, seq_len: int) -> None:
        train = len(self.splits()[0])
        if train < batch_size:
            raise DataError(f"there are {train} training pairs, fewer than one batch of {batch_size}; "
                            "lower the batch size or use more pairs.")

    def describe(self) -> dict:
        train, test = self.splits()
        return {
            "train_pairs": len(train), "test_pairs": len(test), "dropped_pairs": self._info.get("dropped_pairs", 0),
            "source_vocab_size": len(self.source_vocab), "target_vocab_size": len(self.target_vocab),
            "max_source_len": self.max_source_len, "max_target_len": self.max_target_len,
            "source_tokenization": self.source_mode, "target_tokenization": self.target_mode,
            "examples": self._info.get("examples", []),
        }

    def batch_tokens(self, batch: dict) -> int:
        return int(batch["src_len"].sum()) + int((batch["tgt_out"] != PAD).sum())

    # -- batches -------------------------------------------------------------------------------
    def train_batches(self, batch_size: int, seq_len: int, generator: torch.Generator) -> Iterator[dict]:
        """Every training pair once per epoch, in a fresh order; `seq_len` does not apply.

        Batches are bucketed by source length: pairs whose sources have one length fill a batch, and the
        leftovers of every length are mixed into the last batches (those are padded, and packed). The
        encoder of an unpadded batch needs no packed sequence, whose backward pass on a CPU zero-fills a
        buffer of the whole batch at every time step (3-4x slower here).
        """
        self.check_size(batch_size, seq_len)
        train = self.splits()[0]
        while True:
            order = torch.randperm(len(train), generator=generator)
            batches, leftovers = [], []
            for length in train.src_len[order].unique().tolist():
                rows = order[train.src_len[order] == length]
                cut = len(rows) - len(rows) % batch_size
                batches += list(rows[:cut].split(batch_size)) if cut else []
                leftovers.append(rows[cut:])
            mixed = torch.cat(leftovers)
            mixed = mixed[torch.randperm(len(mixed), generator=generator)]
            batches += [rows for rows in mixed.split(batch_size) if len(rows) == batch_size]
            for index in torch.randperm(len(batches), generator=generator).tolist():
                batch = train.batch(batches[index])
                if self.teacher_forcing < 1.0:
                    batch["forced"] = torch.rand(batch["tgt_in"].shape, generator=generator) < self.teacher_forcing
                yield batch

    def probe_batch(self, batch_size: int, seq_len: int) -> dict:
        """Held-out pairs whose sources all have the most common length: the probe's x_t are real tokens."""
        test = self.splits()[1]
        length = Counter(test.src_len.tolist()).most_common(1)[0][0]
        rows = (test.src_len == length).nonzero().squeeze(1)[: min(batch_size, 8)]
        return test.batch(rows)

    # -- decoding and metrics ------------------------------------------------------------------
    def decode(self, model: SequenceModel, src: torch.Tensor, src_len: torch.Tensor,
               beam: int = 1) -> list[list[Hypothesis]]:
        """Hypotheses of each source, best first (one for greedy decoding)."""
        if not 1 <= beam <= MAX_BEAM:
            raise ConfigError(f"beam must be between 1 and {MAX_BEAM}")
        max_len = self.max_target_len + DECODE_SLACK
        if beam == 1:
            return [[h] for h in greedy(model, src, src_len, max_len)]
        return beam_search(model, src, src_len, max_len, beam)

    def output_tokens(self, hypothesis: Hypothesis) -> list[str]:
        return self.target_vocab.decode(hypothesis.ids)

    @torch.no_grad()
    def evaluate(self, model: SequenceModel, batch_size: int, seq_len: int, max_batches: int | None = None) -> dict:
        """Held-out metrics on the first `max_batches * batch_size` pairs (all of them without a limit)."""
        with evaluating(model):
            device = next(model.parameters()).device
            test = self.splits()[1]
            count = len(test) if max_batches is None else min(len(test), max_batches * batch_size)
            loss_sum, tokens, outputs = 0.0, 0, []
            for start in range(0, count, DECODE_BATCH):
                rows = torch.arange(start, min(start + DECODE_BATCH, count))
                batch = {k: v.to(device) for k, v in test.batch(rows).items()}
                scored = int((batch["tgt_out"] != PAD).sum())
                loss_sum += model(batch).loss.item() * scored
                tokens += scored
                hyps = self.decode(model, batch["src"], batch["src_len"], self.beam)
                outputs += [self.output_tokens(h[0]) for h in hyps]
        references = test.references[:count]
        return {
            "val_loss": loss_sum / max(tokens, 1),
            "exact_match": sequence_metrics.exact_match(outputs, references),
            "token_accuracy": sequence_metrics.token_accuracy(outputs, references),
            "bleu": sequence_metrics.corpus_bleu(outputs, references),  # character n-gram BLEU on a char target
            "chrf": sequence_metrics.corpus_chrf(outputs, references),
            "eval_pairs": count,
        }

    @torch.no_grad()
    def sample(self, model: SequenceModel, generator: torch.Generator | None = None, **_options) -> dict:
        """One held-out pair, translated (length and temperature do not apply to a translation)."""
        test = self.splits()[1]
        row = int(torch.randint(len(test), (1,), generator=generator))
        source = detokenize(self.source_vocab.decode(test.src[row, : int(test.src_len[row])]), self.source_mode)
        result = self.translate(model, source, beam=self.beam)
        reference = detokenize(test.references[row], self.target_mode)
        mark = "✓" if result["output"] == reference else f"✗ expected {reference}"
        return {**result, "reference": reference, "text": f"{source} → {result['output']}  {mark}"}

    def attention_labels(self, probe: dict) -> dict:
        """The first probe pair: the target tokens each step predicts (with </s>), and the source tokens."""
        source = probe["src"][0, : int(probe["src_len"][0])].tolist()
        return {"queries": [self.target_vocab.symbols[i] for i in probe["tgt_out"][0].tolist() if i != PAD],
                "keys": [self.source_vocab.symbols[i] for i in source]}

    def inspection(self, model: SequenceModel, text: str | None = None) -> Inspection:
        """`text` (or the first held-out source), translated greedily; the decoder then reads its own translation
        teacher-forced, so the explorer sees the encoder over the source and the decoder over what it wrote."""
        if not text:
            test = self.splits()[1]
            text = detokenize(self.source_vocab.decode(test.src[0, : int(test.src_len[0])]), self.source_mode)
        result = self.translate(model, text)
        output = self.target_vocab.ids(result["output_tokens"])
        batch = {"src": torch.tensor([self.source_vocab.ids(result["source_tokens"])]),
                 "src_len": torch.tensor([len(result["source_tokens"])]),
                 "tgt_in": torch.tensor([[BOS, *output]]), "tgt_out": torch.tensor([[*output, EOS]])}
        source = result["source_tokens"]
        chars = "".join(source) if all(len(token) == 1 for token in source) else None
        return Inspection(batch, {"core": source, "decoder": ["<s>", *result["output_tokens"]]}, chars,
                          [f"translated as {result['output']}"])

    def unlike_training(self, text: str) -> str | None:
        """A sentence why `text` is unlike every training source (None when one looked like it): a model answers
        such input as confidently as any other, so its answer means little. Compares surface forms (letters,
        digits, punctuation), so a date format or a kind of input the model never saw is caught."""
        try:
            forms = _training_forms(tuple(getattr(self.cfg, name) for name in FORM_FIELDS))
        except (DataError, OSError):  # an uploaded file that is gone: no judgement rather than a wrong one
            return None
        form = surface_form(text)
        if form in forms:
            return None
        return (f"No training sentence had this form ({form}, where a is a word and 9 a digit): the model was never "
                "shown input like this, so its answer and its confidence mean little.")

    def translate(self, model: SequenceModel, text: str, beam: int = 1) -> dict:
        """Translate one sentence: what the Try page and `python -m playground translate` show.

        Returns output (text), output_tokens, source_tokens, attention (one row per output token,
        one column per source token; None without attention), score (log-probability), finished,
        alternatives (the beam's hypotheses, best first, each with output, tokens, score and
        probability) and unknown (source tokens the model never saw; they are read as <unk>).
        """
        return self.translate_many(model, [text], beam)[0]

    @torch.no_grad()
    def translate_many(self, model: SequenceModel, texts: list[str], beam: int = 1) -> list[dict]:
        """`translate` for several sentences, decoded together as one batch."""
        tokenized = []
        for text in texts:
            tokens = tokenize(text.strip(), self.source_mode)
            if not tokens:
                raise DataError("there is nothing to translate: type a sentence.")
            if len(tokens) > self.cfg.max_len:
                raise DataError(f"the sentence has {len(tokens)} tokens; this model reads at most {self.cfg.max_len}.")
            tokenized.append(tokens)
        with evaluating(model):
            device = next(model.parameters()).device
            src = padded_table([self.source_vocab.ids(t) for t in tokenized])
            src_len = torch.tensor([len(t) for t in tokenized])
            results = self.decode(model, src.to(device), src_len.to(device), beam)
        return [self._translation(text, tokens, hyps) for text, tokens, hyps in zip(texts, tokenized, results)]

    def _translation(self, text: str, source_tokens: list[str], hyps: list[Hypothesis]) -> dict:
        best = hyps[0]
        alternatives = [{"output": detokenize(self.output_tokens(h), self.target_mode), "tokens": self.output_tokens(h),
                         "score": h.score, "probability": math.exp(h.score), "finished": h.finished} for h in hyps]
        return {
            "source": text, "source_tokens": source_tokens, "output": alternatives[0]["output"],
            "output_tokens": alternatives[0]["tokens"], "score": best.score, "finished": best.finished,
            "attention": None if best.attention is None else best.attention.tolist(),
            "alternatives": alternatives, "unknown": self.source_vocab.unknown(source_tokens),
        }
