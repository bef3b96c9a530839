"""Configuration dataclasses: one per concern, every field commented, JSON round trip.

A run is fully described by a `RunConfig` (task + model + training settings).
The CLI, the app and checkpoints all exchange it as plain JSON.
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import math
import os
import re
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .models.cells import CELLS as CELL_REGISTRY


class ConfigError(ValueError):
    """A setting is missing, unknown or out of range; the message is shown to the user as is."""


# the cell registry (models/cells: one file per cell; it imports only torch, so no import circle)
CELLS = tuple(name for name, cell in CELL_REGISTRY.items() if cell.trains_by_gradient)  # recurrent cells trained by gradient
RESERVOIRS = tuple(name for name, cell in CELL_REGISTRY.items() if not cell.trains_by_gradient)  # fixed maps, closed-form readout
ARCHITECTURES = CELLS + RESERVOIRS
BACKENDS = ("fused", "scratch")
INITS = ("default", "xavier", "orthogonal", "identity", "spectral")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
CLIP_MODES = ("none", "norm", "value")
ATTENTIONS = ("none", "bahdanau", "luong-dot", "luong-general", "soft")
ATTENTION_ALIASES = {"luong": "luong-general"}  # short names accepted in configs and flags, stored in full
TOKENIZATIONS = ("auto", "char", "word")
DEVICES = ("auto", "cpu", "cuda", "mps")
MAX_UPLOAD_BYTES = 50_000_000  # the most max_upload_bytes may allow: a text this size trains in about 1 GB
SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}")  # a dataset name: never a path (no '/', no leading '.')


# -- options per concern: each task family's and cell family's own settings, one commented dataclass each.
# The configs below are made of them (a TaskConfig *is* TranslationOptions + SceneOptions + MemoryOptions +
# the generic fields), so JSON stays one flat object per section and every config written before loads as it
# is. Which options a task or a cell reads is said by its spec (TaskSpec.settings, CellSpec.settings);
# `options.SETTINGS` turns every field into a CLI flag, URL key and form field.
@dataclass
class TranslationOptions:
    """translation: the generated or uploaded sentence pairs."""
    pairs: int = 20_000  # translation: pairs generated for a built-in dataset (val_fraction of them held out)
    tokenization: str = "auto"  # translation: auto (the dataset's natural choice; words for uploads) | char | word
    max_len: int = 50  # translation: pairs whose source or target has more tokens than this are left out


@dataclass
class SceneOptions:
    """captioning: `dataset` names a scene preset (shapes1, shapes2 = two-shapes, shapes3, shapes2-hard); data_seed
    seeds its fixed held-out scenes, training scenes follow train.seed. None below = the preset's value."""
    scene_shapes: int | None = None  # captioning: shapes per scene, 1-3
    scene_colours: int | None = None  # captioning: how many colours scenes use (the first N of the palette), 2-8
    scene_noise: float | None = None  # captioning: standard deviation of Gaussian pixel noise (pixels in [0, 1]), 0-0.5
    image_size: int | None = None  # captioning: image side in pixels, a multiple of 8 from 32 to 128
    test_scenes: int = 500  # captioning: scenes in the fixed held-out set (never trained on)


@dataclass
class MemoryOptions:
    """long-memory tasks (adding, temporal-order, copy): they generate their own sequences of length T = seq_len."""
    test_sequences: int = 512  # long-memory tasks: sequences in the fixed held-out set of each sequence length T
    markers: int = 2  # temporal-order: marker symbols whose order is the class, 2 (4 classes) or 3 (8 classes)
    copy_length: int = 10  # copy: symbols shown at the start and to be reproduced at the end (T >= 2 * this + 1)


@dataclass
class ReservoirOptions:
    """echo state networks (arch = "esn"): a fixed random reservoir of `hidden` leaky tanh units whose W_hh has
    `spectral_radius`; only the linear readout learns, by ridge regression (closed form, no backprop through time)."""
    leak_rate: float = 1.0  # esn: share of the new state mixed in each step, 0-1 (1 = no leak; small = slow, long memory)
    input_scaling: float = 1.0  # esn: input weights and biases are uniform in [-input_scaling, input_scaling]
    sparsity: float = 0.9  # esn: share of the reservoir's recurrent connections that are zero, 0-0.99
    ridge: float = 1e-6  # esn: L2 penalty of the ridge-regression readout, relative to the features' mean square
    washout: int = 10  # esn: steps at the start of a sequence whose states the readout is not fitted on (the
    #                    reservoir still remembers its zero initial state there); at most half of a sequence


@dataclass
class DecoderOptions:
    """decoders (translation, captioning): how the decoder reads what the encoder saw."""
    attention: str = "none"  # decoders only: none | bahdanau | luong-dot | luong-general (seq2seq) | soft (captioning)
    decoder_arch: str = ""  # decoders only: the decoder's cell ("" = same as arch)


@dataclass
class DecodingOptions:
    """decoders (translation, captioning): how they are trained and evaluated."""
    teacher_forcing: float = 1.0  # decoders only: probability of feeding the true previous token while training
    beam: int = 1  # decoders only: beam width when evaluating (1 = greedy decoding)


@dataclass
class SamplingOptions:
    """text generation: the samples taken at each evaluation."""
    sample_length: int = 120  # characters generated at each evaluation
    sample_temperature: float = 0.8  # temperature of those samples (lower = more conservative)


OPTIONS = {"task": (TranslationOptions, SceneOptions, MemoryOptions), "model": (ReservoirOptions, DecoderOptions),
           "train": (DecodingOptions, SamplingOptions)}  # each section's shared options, for describe and the tests


# -- options a task's own file declares (an "option pack"): the file defines a commented dataclass and
# registers it, `register_options("task", "forecast")`; the section then holds it under that name
# (`cfg.task.forecast.horizon`, JSON `{"task": {"forecast": {"horizon": 4}}}`), and its settings rows
# (TaskSpec.options) make its flags, URL keys and form fields. Nothing here names a task.
_PACKS: dict[str, dict[str, type]] = {"task": {}, "model": {}, "train": {}}
_REGISTRIES = ("playground.tasks",)  # the modules whose import registers every pack (tasks import this module)


def register_options(section: str, name: str):
    """Class decorator: `kind` (a dataclass whose every field has a default and a comment) becomes the
    option pack `name` of config section `section` ("task", "model" or "train")."""
    def register(kind):
        if not dataclasses.is_dataclass(kind):
            raise TypeError(f"option pack {name!r} must be a dataclass")
        known = _PACKS[section].get(name)
        if known is not None and known.__qualname__ != kind.__qualname__:
            raise TypeError(f"option pack {section}.{name} is registered twice ({known.__qualname__}, {kind.__qualname__})")
        _PACKS[section][name] = kind
        return kind
    return register


def option_packs(section: str) -> dict[str, type]:
    """{name: dataclass} of the packs registered for `section`, after the registries have loaded."""
    for module in _REGISTRIES:  # deferred: the task files import this module and register when imported
        importlib.import_module(module)
    return _PACKS[section]


@dataclass
class _HoldsPacks:
    """A config section that also holds the option packs registered for it, each under its name; a pack
    no one set reads as its defaults."""
    packs: dict[str, Any] = field(default_factory=dict, repr=False)  # the registered option packs, by name
    SECTION: ClassVar[str] = ""

    def __getattr__(self, name: str):  # only called for names that are not fields: a pack's name
        if name.startswith("_") or name == "packs":
            raise AttributeError(name)
        kinds = option_packs(self.SECTION)
        if name not in kinds:
            raise AttributeError(f"{type(self).__name__} has no setting or option pack {name!r}")
        return self.__dict__.setdefault("packs", {}).setdefault(name, kinds[name]())

    def validate_packs(self) -> None:
        for name, pack in self.packs.items():
            _numbers(pack, {})
            if hasattr(pack, "validate"):
                pack.validate()


@dataclass
class TaskConfig(MemoryOptions, SceneOptions, TranslationOptions, _HoldsPacks):
    SECTION: ClassVar[str] = "task"
    name: str = "char"  # which task to learn; "char" = character-level text generation
    dataset: str = "tiny"  # a built-in corpus ("tiny", "pydoc", "stdlib") or an uploaded dataset's name
    data_path: str | None = None  # a UTF-8 text file to train on instead of `dataset`
    val_fraction: float = 0.1  # share of the text held out for validation (taken from the end)
    max_chars: int | None = None  # keep only the first N characters (None = the dataset's own cap)
    max_upload_bytes: int = 20_000_000  # files larger than this are refused with a clear message
    data_seed: int = 0  # translation: seeds the generated pairs and the held-out split (same seed = same data);
    #                     long-memory tasks (adding, temporal-order, copy): seeds the fixed held-out set of each T;
    #                     captioning: seeds the fixed held-out scenes

    def validate(self) -> None:
        _numbers(self, {"max_upload_bytes": (1, MAX_UPLOAD_BYTES), "data_seed": (0, 2**63 - 1)})
        if not SAFE_NAME.fullmatch(self.dataset):  # `--dataset ../../x` must not read outside the datasets folder
            raise ConfigError(f"dataset must be a dataset name (letters, digits, '-', '_', '.'), not a path "
                              f"(got {self.dataset!r}); to train on a file use data_path (--data FILE)")
        if not 0.0 < self.val_fraction < 0.5:
            raise ConfigError("val_fraction must be between 0 and 0.5")
        if self.max_chars is not None and self.max_chars < 1000:
            raise ConfigError("max_chars must be at least 1000 characters")
        _choice("tokenization", self.tokenization, TOKENIZATIONS)
        if not 100 <= self.pairs <= 1_000_000:
            raise ConfigError("pairs must be between 100 and 1,000,000")
        if not 2 <= self.max_len <= 1000:
            raise ConfigError("max_len must be between 2 and 1000 tokens")
        if self.scene_shapes is not None and not 1 <= self.scene_shapes <= 3:
            raise ConfigError("scene_shapes must be between 1 and 3")
        if self.scene_colours is not None and not 2 <= self.scene_colours <= 8:
            raise ConfigError("scene_colours must be between 2 and 8")
        if self.scene_noise is not None and not 0.0 <= self.scene_noise <= 0.5:
            raise ConfigError("scene_noise must be between 0 and 0.5")
        if self.image_size is not None and (not 32 <= self.image_size <= 128 or self.image_size % 8):
            raise ConfigError("image_size must be a multiple of 8 from 32 to 128 pixels")
        if not 10 <= self.test_scenes <= 100_000:
            raise ConfigError("test_scenes must be between 10 and 100,000")
        if not 10 <= self.test_sequences <= 100_000:
            raise ConfigError("test_sequences must be between 10 and 100,000")
        if self.markers not in (2, 3):
            raise ConfigError("markers must be 2 or 3")
        if not 1 <= self.copy_length <= 100:
            raise ConfigError("copy_length must be between 1 and 100")
        self.validate_packs()


@dataclass
class ModelConfig(DecoderOptions, ReservoirOptions, _HoldsPacks):
    SECTION: ClassVar[str] = "model"
    arch: str = "lstm"  # recurrent cell: rnn-tanh | rnn-relu | lstm | gru, or esn (echo state network: fixed reservoir)
    layers: int = 1  # stacked recurrent layers (1-4)
    hidden: int = 128  # hidden units per layer and direction (esn: the reservoir size)
    embedding: int = 64  # size of the learned input embedding of each token
    dropout: float = 0.0  # dropout between stacked layers and before the output head
    bidirectional: bool = False  # also read the sequence right-to-left (encoders and classifiers only)
    backend: str = "fused"  # "fused" = torch's nn.RNN/LSTM/GRU kernels; "scratch" = textbook cells in Python
    init: str = "default"  # weight init: default | xavier | orthogonal | identity (IRNN) | spectral (not esn)
    spectral_radius: float = 1.0  # target spectral radius of W_hh when init = "spectral"; always for an esn reservoir

    def validate(self) -> None:
        self.attention = ATTENTION_ALIASES.get(self.attention, self.attention)  # "luong" is stored as luong-general
        _choice("arch", self.arch, ARCHITECTURES)
        _choice("backend", self.backend, BACKENDS)
        _choice("init", self.init, INITS)
        _choice("attention", self.attention, ATTENTIONS)
        if self.decoder_arch:
            _choice("decoder_arch", self.decoder_arch, CELLS)
        if not 1 <= self.layers <= 4:
            raise ConfigError("layers must be between 1 and 4")
        if not 1 <= self.hidden <= 4096:
            raise ConfigError("hidden must be between 1 and 4096")
        if not 1 <= self.embedding <= 4096:
            raise ConfigError("embedding must be between 1 and 4096")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError("dropout must be in [0, 1)")
        if self.spectral_radius <= 0:
            raise ConfigError("spectral_radius must be positive")
        if not 0.0 < self.leak_rate <= 1.0:
            raise ConfigError("leak_rate must be in (0, 1]")
        if not self.input_scaling > 0:
            raise ConfigError("input_scaling must be positive")
        if not 0.0 <= self.sparsity <= 0.99:
            raise ConfigError("sparsity must be between 0 and 0.99")
        if not 0 <= self.washout <= 10_000:
            raise ConfigError("washout must be between 0 and 10000 steps")
        if not self.ridge > 0:
            raise ConfigError("ridge must be positive (it keeps the readout's least-squares problem well posed)")
        if self.arch in RESERVOIRS and self.dropout:
            raise ConfigError("an echo state network has no trained layers for dropout to regularise: set dropout to 0 "
                              "(its ridge penalty does that job)")
        _numbers(self, {"spectral_radius": (1e-6, 100.0), "input_scaling": (1e-6, 1e3), "ridge": (1e-12, 1e6)})
        self.validate_packs()


@dataclass
class TrainConfig(SamplingOptions, DecodingOptions, _HoldsPacks):
    SECTION: ClassVar[str] = "train"
    steps: int = 500  # optimisation steps (one batch each)
    batch_size: int = 32  # sequences per batch
    seq_len: int = 64  # time steps per batch = truncated-BPTT length
    lr: float = 2e-3  # learning rate
    optimizer: str = "adam"  # adam | sgd (with momentum) | rmsprop
    momentum: float = 0.9  # momentum for sgd
    weight_decay: float = 0.0  # L2 penalty added by the optimiser
    recurrent_l2: float = 0.0  # weight of an L2 penalty on the recurrent weights W_hh only (apart from weight_decay)
    omega: float = 0.0  # weight of Pascanu et al.'s (2013) vanishing-gradient regulariser Omega (scratch backend)
    clip: str = "norm"  # gradient clipping: none | norm (global norm) | value (element-wise clamp)
    clip_threshold: float = 1.0  # max global norm (clip="norm") or max |gradient| (clip="value")
    seed: int = 0  # seeds weights, batches and sampling: same seed + same device = same losses
    device: str = "auto"  # auto (cuda, then mps, then cpu) | cpu | cuda | mps
    threads: int = 1  # torch CPU threads for this run (small RNNs are fastest on one)
    eval_every: int = 100  # every N steps: validation loss, sample, spectral radius, gradient flow
    eval_batches: int = 4  # validation batches per evaluation (more = steadier numbers, slower)
    eval_in_background: bool = True  # evaluate on a snapshot of the model in a worker thread while training goes on
    checkpoint_every: int = 250  # save a checkpoint every N steps (and always at the end)
    stop_when_solved: bool = False  # end the run at the first evaluation whose task reports `solved` (long-memory tasks)

    def validate(self) -> None:
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("clip", self.clip, CLIP_MODES)
        _choice("device", self.device, DEVICES)
        for name in ("steps", "batch_size", "seq_len", "eval_every", "eval_batches", "threads", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1")
        if self.threads > cores():  # more threads than cores only slow a run down; 100,000 crashed torch
            raise ConfigError(f"threads must be at most {cores()}, the CPU cores here (got {self.threads:,})")
        if not self.lr > 0:
            raise ConfigError("lr must be positive")
        if self.clip != "none" and not self.clip_threshold > 0:
            raise ConfigError("clip_threshold must be positive")
        if not 0.0 <= self.teacher_forcing <= 1.0:
            raise ConfigError("teacher_forcing must be between 0 and 1")
        if self.beam < 1:
            raise ConfigError("beam must be at least 1")
        if not self.sample_temperature > 0:
            raise ConfigError("sample_temperature must be positive")
        _numbers(self, {"steps": (1, 10**8), "batch_size": (1, 100_000), "seq_len": (1, 100_000), "lr": (0.0, 1e6),
                        "momentum": (0.0, 1.0), "weight_decay": (0.0, 10.0), "clip_threshold": (0.0, 1e9),
                        "recurrent_l2": (0.0, 100.0), "omega": (0.0, 100.0),
                        "beam": (1, 100), "seed": (0, 2**63 - 1), "eval_every": (1, 10**8), "eval_batches": (1, 10_000),
                        "sample_length": (0, 100_000), "sample_temperature": (0.0, 100.0),
                        "checkpoint_every": (1, 10**9)})  # 10**9: "only at the end", as the shipped recipes say
        self.validate_packs()


@dataclass
class RunConfig:
    task: TaskConfig = field(default_factory=TaskConfig)  # what to learn
    model: ModelConfig = field(default_factory=ModelConfig)  # which network
    train: TrainConfig = field(default_factory=TrainConfig)  # how to train it
    name: str = ""  # a label shown in lists and legends ("" = derived from the settings)
    group: str = ""  # runs started together (a race, clipping twins, a sweep) share this label ("" = none)

    def validate(self) -> "RunConfig":
        self.task.validate()
        self.model.validate()
        self.train.validate()
        return self

    def label(self) -> str:
        if self.name:
            return self.name
        m = self.model
        bi = "bi-" if m.bidirectional else ""
        spec = importlib.import_module("playground.tasks").TASK_SPECS.get(self.task.name)  # deferred: tasks import config
        data = spec.data_label(self) if spec else f":{self.task.dataset}"
        return f"{bi}{m.arch} {m.layers}x{m.hidden} on {self.task.name}{data}"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: one object per section, each option pack under its name inside its section."""
        data = dataclasses.asdict(self)
        for section in ("task", "model", "train"):
            data[section].update(data[section].pop("packs"))
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunConfig":
        data = dict(data)
        parts = {
            "task": _build(TaskConfig, data.pop("task", {})),
            "model": _build(ModelConfig, data.pop("model", {})),
            "train": _build(TrainConfig, data.pop("train", {})),
        }
        return _build(cls, data, **parts)

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"the run configuration is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError("the run configuration must be a JSON object")
        return cls.from_dict(data)


def _numbers(part, limits: dict[str, tuple[float, float]]) -> None:
    """Every number of `part` finite (JSON and flags can say inf and nan), and each named one within its
    inclusive (low, high) limits: a setting that passes here never crashes a run later."""
    for f in dataclasses.fields(part):
        value = getattr(part, f.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{f.name} must be a finite number (got {value})")
    for name, (low, high) in limits.items():
        value = getattr(part, name)
        if value is not None and not low <= value <= high:
            raise ConfigError(f"{name} must be between {_number(low)} and {_number(high)} (got {_number(value)})")


def _number(value: float) -> str:
    """50,000,000 rather than 5e+07; 0.001 and 1e-12 as they are."""
    return f"{int(value):,}" if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


def cores() -> int:
    """CPU cores this process may use: the most torch threads a run can ask for."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)} (got {value!r})")


def _build(kind, data: dict[str, Any], **extra):
    if not isinstance(data, dict):
        raise ConfigError(f"{kind.__name__} must be a JSON object")
    if issubclass(kind, _HoldsPacks):  # its option packs, each under its name
        data, kinds = dict(data), option_packs(kind.SECTION)
        extra["packs"] = {name: _build(kinds[name], data.pop(name)) for name in list(data) if name in kinds}
        data.pop("packs", None)
    known = {f.name for f in dataclasses.fields(kind)} - {"packs"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown {kind.__name__} setting(s): {', '.join(unknown)}")
    hints = typing.get_type_hints(kind)
    for name, value in data.items():
        _check_type(kind, name, value, hints[name])
    return kind(**data, **extra)


_TYPE_WORDS = {int: "a whole number", float: "a number", str: "a string", bool: "true or false", type(None): "null"}


def _check_type(kind, name: str, value, hint) -> None:
    """A JSON value of the wrong type ("10" for a count, null for a size) is a ConfigError, not a TypeError later."""
    allowed = typing.get_args(hint) or (hint,)  # `int | None` -> (int, NoneType)
    if isinstance(value, bool):
        ok = bool in allowed
    else:
        ok = isinstance(value, allowed) or (float in allowed and isinstance(value, int))
    if not ok:
        words = " or ".join(_TYPE_WORDS.get(t, getattr(t, "__name__", str(t))) for t in allowed)
        raise ConfigError(f"{kind.__name__}.{name} must be {words} (got {value!r})")
