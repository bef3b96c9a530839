"""Every run setting in one table: its config field, CLI flag, URL key, form widget, and when it applies.

The CLI's flags (`cli.add_train_arguments`), the Train form's widgets and URL parameters
(`ui/train_form.py`) and `python -m playground describe` are all generated from `SETTINGS`, so a
field added to a config dataclass (with its comment) and a row here is settable everywhere.

Whether a setting applies is read from the registries, never from a name: a task's spec lists the
task and training fields it reads (`TaskSpec.all_settings()`), a cell's spec the model fields it
reads (`CellSpec.settings`); settings that only matter for training by gradient (optimiser,
clipping, ...) do not apply to a cell that `trains_by_gradient` is False for. This module sits above
both `config` and the registries (config.py imports neither).
"""
from __future__ import annotations

import dataclasses

from .config import (ATTENTION_ALIASES, BACKENDS, CLIP_MODES, DEVICES, INITS, OPTIMIZERS, TOKENIZATIONS, RunConfig,
                     option_packs)
from .models.cells import CELLS, cell_spec
from .setting import SECTIONS, Setting, field_comments
from .tasks import GENERIC_SETTINGS, TASK_SPECS

GENERIC = tuple(GENERIC_SETTINGS)  # the task-independent settings (optimiser, steps, clipping, ...)
ALWAYS = ("task.name", "model.arch")  # what every run records: they pick the task and the cell


def label_for(s: Setting, task: str) -> str:
    """The setting's label on this task's form: the task's own word for it (T for the memory tasks' seq_len)."""
    spec = TASK_SPECS.get(task)
    return (spec.all_settings().get(s.path) if spec else None) or s.label or s.field.replace("_", " ")


def _trained_cells() -> tuple[str, ...]:
    return tuple(name for name, cell in CELLS.items() if cell.trains_by_gradient)


_SHARED_SETTINGS: tuple[Setting, ...] = (
    # -- task and data
    Setting("task.name", key="task", flag="task", label="Task", widget="select", group="Task and data"),
    Setting("task.dataset", label="Dataset", widget="select", group="Task and data"),
    Setting("task.data_path", flag="data", label="Text file"),
    Setting("task.val_fraction"), Setting("task.max_chars"), Setting("task.max_upload_bytes"),
    Setting("task.pairs", widget="number", low=100, high=1_000_000, step=1000, group="Task and data"),
    Setting("task.data_seed", widget="number", low=0, high=2**31 - 1, step=1, group="Task and data"),
    Setting("task.tokenization", widget="select", choices=TOKENIZATIONS, group="Task and data"),
    Setting("task.max_len", widget="number", low=2, high=1000, step=1, group="Task and data"),
    Setting("task.scene_shapes"), Setting("task.scene_colours"), Setting("task.scene_noise"),
    Setting("task.image_size"), Setting("task.test_scenes"),
    Setting("task.test_sequences", widget="number", low=10, high=100_000, step=64, group="Task and data"),
    Setting("task.markers", widget="select", choices=(2, 3), group="Task and data"),
    Setting("task.copy_length", widget="number", low=1, high=100, step=1, group="Task and data"),
    # -- architecture
    Setting("model.arch", key="arch", label="Recurrent cell", widget="segmented", group="Architecture"),
    Setting("model.hidden", label="Hidden units", widget="select_slider", choices=(8, 16, 32, 64, 128, 256, 512, 1024),
            group="Architecture"),
    Setting("model.layers", label="Layers", widget="number", low=1, high=4, step=1, group="Architecture"),
    Setting("model.embedding", label="Embedding size", widget="select_slider", choices=(8, 16, 32, 64, 128, 256),
            group="Architecture"),
    Setting("model.dropout", label="Dropout between layers", widget="slider", low=0.0, high=0.8, step=0.05,
            group="Architecture", when=lambda cfg: cfg.model.layers > 1),
    Setting("model.bidirectional", label="Bidirectional (also read right-to-left)", widget="toggle",
            group="Architecture"),
    Setting("model.init", label="Initialisation", widget="select", choices=INITS, group="Architecture"),
    Setting("model.spectral_radius", key="rho", label="Spectral radius ρ of W_hh", widget="slider", low=0.1, high=3.0,
            step=0.05, group="Architecture",
            when=lambda cfg: cfg.model.init == "spectral" or not cell_spec(cfg.model.arch).trains_by_gradient),
    Setting("model.backend", label="Backend", widget="radio", choices=BACKENDS, group="Architecture",
            help="fused: torch's kernels (fast). scratch: the textbook cells in Python (2-3x slower), which also "
                 "record gate statistics."),
    Setting("model.leak_rate", key="leak", label="Leak rate", widget="slider", low=0.01, high=1.0, step=0.01,
            group="Echo state reservoir"),
    Setting("model.input_scaling", label="Input scaling", widget="slider", low=0.05, high=2.0, step=0.05,
            group="Echo state reservoir"),
    Setting("model.sparsity", label="Sparsity of W_hh", widget="slider", low=0.0, high=0.99, step=0.01,
            group="Echo state reservoir"),
    Setting("model.ridge", label="Ridge penalty λ", widget="number", low=1e-12, high=10.0, group="Echo state reservoir"),
    Setting("model.washout", label="Washout (steps not fitted)", widget="number", low=0, high=10_000, step=1,
            group="Echo state reservoir"),
    # -- decoder
    Setting("model.attention", label="Attention", widget="select", group="Decoder"),
    Setting("model.decoder_arch", label="Decoder cell", widget="select", group="Decoder",
            value_labels=(("", "same as the encoder"),)),  # a select shows "" as its "Choose an option" placeholder
    Setting("train.teacher_forcing", label="Teacher forcing", widget="slider", low=0.0, high=1.0, step=0.05,
            group="Decoder"),
    Setting("train.beam", label="Beam width at evaluation", widget="number", low=1, high=20, step=1, group="Decoder"),
    # -- training
    Setting("train.optimizer", label="Optimiser", widget="select", choices=OPTIMIZERS, by_gradient=True),
    Setting("train.lr", label="Learning rate", widget="number", low=1e-5, high=10.0, step=1e-3, by_gradient=True),
    Setting("train.momentum", label="Momentum", widget="slider", low=0.0, high=0.99, step=0.01, by_gradient=True,
            when=lambda cfg: cfg.train.optimizer == "sgd"),
    Setting("train.weight_decay", label="Weight decay", widget="number", low=0.0, high=1.0, step=1e-4,
            by_gradient=True),
    Setting("train.steps", label="Steps", widget="number", low=1, high=200_000, step=100),
    Setting("train.batch_size", key="batch", label="Batch size", widget="select_slider",
            choices=(1, 2, 4, 8, 16, 32, 64, 128, 256)),
    Setting("train.seq_len", label="Sequence length", widget="select_slider",
            choices=(8, 16, 32, 64, 100, 128, 200, 256, 512)),
    Setting("train.eval_every", label="Measure gradient flow and sample every N steps", widget="number", low=1,
            high=10_000, step=5),
    Setting("train.eval_batches"), Setting("train.eval_in_background"), Setting("train.checkpoint_every"),
    Setting("train.threads"),
    Setting("train.sample_length"), Setting("train.sample_temperature"),
    Setting("train.stop_when_solved", label="Stop when solved", widget="toggle"),
    Setting("train.seed", label="Seed", widget="number", low=0, high=2**31 - 1, step=1),
    Setting("train.device", label="Device", widget="select", choices=DEVICES),
    # -- penalties against exploding and vanishing gradients (train/penalties.py)
    Setting("train.recurrent_l2", label="Recurrent L2 weight (W_hh only)", widget="number", low=0.0, high=100.0,
            step=1e-4, group="Penalties", by_gradient=True),
    Setting("train.omega", label="Omega weight (Pascanu et al. 2013)", widget="number", low=0.0, high=100.0, step=0.1,
            group="Penalties", by_gradient=True,
            help="Asks every step's Jacobian to keep the norm of the gradient flowing back through it: a remedy "
                 "for vanishing gradients. Needs the scratch backend (the fused kernels hide each step's state)."),
    # -- clipping
    Setting("train.clip", label="Clip", widget="segmented", choices=CLIP_MODES, group="Gradient clipping",
            by_gradient=True),
    Setting("train.clip_threshold", key="clip_at", label="Threshold", widget="number", low=1e-4, high=1e6, step=0.25,
            group="Gradient clipping", by_gradient=True, when=lambda cfg: cfg.train.clip != "none"),
)
# ... and the rows of the option packs the tasks' own files declare (TaskSpec.options), after the shared ones
SETTINGS: tuple[Setting, ...] = _SHARED_SETTINGS + tuple(
    {row.path: row for spec in TASK_SPECS.values() for row in spec.options}.values())
BY_PATH = {s.path: s for s in SETTINGS}
BY_KEY = {s.url_key: s for s in SETTINGS}
GROUPS = tuple(dict.fromkeys(s.group for s in SETTINGS if s.widget))  # the form's sections, in order


def setting(path: str) -> Setting:
    return BY_PATH[path]


def choices(s: Setting, task: str = "", arch: str = "") -> tuple:
    """The values a setting may take now: its own list, or what the registries offer for this task and cell."""
    if s.path == "task.name":
        return tuple(TASK_SPECS)
    if s.path == "task.dataset":
        spec = TASK_SPECS.get(task)
        return tuple(spec.datasets()) if spec else ()
    if s.path == "model.arch":
        return tuple(CELLS)
    if s.path == "model.decoder_arch":
        return ("",) + _trained_cells()
    if s.path == "model.attention":
        spec = TASK_SPECS.get(task)
        return tuple(spec.attention) if spec and spec.attention else ("none",)
    if s.path == "model.backend" and arch in CELLS:
        return CELLS[arch].backends or s.choices
    return s.choices


def applies(s: Setting, cfg: RunConfig) -> bool:
    """Whether the setting means anything for this run's task and cell (and its other settings)."""
    if s.path in ALWAYS:
        return True
    task, cell = TASK_SPECS.get(cfg.task.name), CELLS.get(cfg.model.arch)
    if task is None or cell is None:
        return True  # validation reports the unknown name; say nothing more here
    if s.by_gradient and not cell.trains_by_gradient:
        return False
    if s.section == "model":
        if s.path in task.settings:  # the decoder's settings: the task reads them
            pass
        elif s.field not in cell.settings:
            return False
        elif s.field == "bidirectional" and not task.bidirectional:
            return False
        elif s.field == "embedding" and not task.embeds_inputs:
            return False
    elif s.path not in task.all_settings():
        return False
    return s.when is None or bool(s.when(cfg))


def applying(cfg: RunConfig) -> list[Setting]:
    return [s for s in SETTINGS if applies(s, cfg)]


def resolve_task(cfg: RunConfig) -> RunConfig:
    """Apply the task's `becomes`: a setting whose value makes the run another task (char with
    tokenization=word is next-word prediction, the words task)."""
    spec = TASK_SPECS.get(cfg.task.name)
    for path, value, task in (spec.becomes if spec else ()):
        if setting(path).get(cfg) == value:
            cfg.task.name = task
            setting(path).set(cfg, setting(path).default)
            break
    return cfg


def consumed_by(path: str, task: str) -> bool:
    """Whether `path` is a setting some task's `becomes` turned into `task` (so it was used, not ignored)."""
    return any(p == path and target == task for spec in TASK_SPECS.values() for p, _, target in spec.becomes)


def reset_unused(cfg: RunConfig) -> RunConfig:
    """Put every setting that does not apply back to its default, so a run records no stray values
    (a leak rate left over from an ESN on an LSTM run, say); an option pack none of whose settings
    apply is not recorded at all."""
    for s in SETTINGS:
        if not applies(s, cfg) and s.when is None and not s.pack:  # `when` settings keep their value: a switch shows them again
            s.set(cfg, s.default)
    for section in SECTIONS:
        packs = getattr(cfg, section).packs
        for name in list(packs):
            if not any(applies(s, cfg) for s in SETTINGS if s.section == section and s.pack == name):
                del packs[name]
    return cfg


def migrate_url(params: dict[str, str], others: tuple[str, ...] = ()) -> tuple[dict[str, str], list[str]]:
    """Old links' parameters in today's terms, and a sentence per change a user should know of. `others`
    are the page's own parameters that are not run settings (a watched run, say)."""
    params, notes = dict(params), []
    attention = setting("model.attention").url_key
    if params.get(attention) in ATTENTION_ALIASES:
        params[attention] = ATTENTION_ALIASES[params[attention]]
    unknown = sorted(k for k in params if k not in BY_KEY and k not in others)
    if unknown:
        notes.append(f"This link names settings the playground no longer has ({', '.join(unknown)}); they were left out.")
    return params, notes


def describe_settings() -> list[dict]:
    """Plain JSON of the table for `python -m playground describe`."""
    return [{"path": s.path, "flag": f"--{s.cli_flag}", "url_key": s.url_key, "type": s.type.__name__,
             "default": s.default, "help": s.comment, "by_gradient": s.by_gradient} for s in SETTINGS]


def check_complete() -> list[str]:
    """Config fields and option-pack fields with no row in SETTINGS (a test keeps this empty)."""
    paths = [f"{section}.{f.name}" for section, kind in SECTIONS.items() for f in dataclasses.fields(kind)
             if f.name != "packs"]
    paths += [f"{section}.{name}.{f.name}" for section in SECTIONS for name, kind in option_packs(section).items()
              for f in dataclasses.fields(kind)]
    return [path for path in paths if path not in BY_PATH]
