"""One run setting: its place in a RunConfig, CLI flag, URL key, form widget and when it applies.

`options.SETTINGS` is the table of them; a task's file declares the rows of its own option pack here
too (`TaskSpec.options`), which is why this class sits below both `options` and the task registry.
A path is "section.field" ("train.lr") or, for a field of an option pack, "section.pack.field"
("task.forecast.horizon").
"""
from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Callable

from .config import ModelConfig, RunConfig, TaskConfig, TrainConfig, option_packs

SECTIONS = {"task": TaskConfig, "model": ModelConfig, "train": TrainConfig}


@dataclass(frozen=True)
class Setting:
    path: str  # "section.field" of RunConfig ("train.lr"), or "section.pack.field" for an option pack's field
    key: str = ""  # URL parameter and widget key ("" = the field name); old links' keys are kept (rho, batch, ...)
    flag: str = ""  # CLI flag without dashes ("" = the field name with - for _)
    label: str = ""  # the form's label when the task's spec gives none
    widget: str = ""  # how the form draws it: select | segmented | radio | slider | select_slider | number |
    #                   toggle | text ("" = CLI and configs only)
    choices: tuple = ()  # allowed values for select-like widgets and CLI choices (empty: read from the registries)
    low: float | None = None  # smallest value the widget offers (the config's validate() has the last word)
    high: float | None = None  # largest value the widget offers
    step: float | None = None  # widget step
    group: str = "Training"  # the form's section
    by_gradient: bool = False  # True: applies only to cells trained by gradient (optimiser, clipping, ...)
    when: Callable[[RunConfig], bool] | None = None  # a further condition on the other settings (momentum: sgd only)
    help: str = ""  # extra help for the form ("" = the field's comment in its dataclass)
    value_labels: tuple = ()  # (value, name) pairs: how a select names some values ("" -> "same as the encoder")

    @property
    def section(self) -> str:
        return self.path.split(".")[0]

    @property
    def field(self) -> str:
        return self.path.split(".")[-1]

    @property
    def pack(self) -> str:
        """The option pack's name ("" for a field of the section itself)."""
        parts = self.path.split(".")
        return parts[1] if len(parts) == 3 else ""

    @property
    def owner(self) -> type:
        """The dataclass that declares the field."""
        return option_packs(self.section)[self.pack] if self.pack else SECTIONS[self.section]

    @property
    def url_key(self) -> str:
        return self.key or self.field

    @property
    def cli_flag(self) -> str:
        return self.flag or self.field.replace("_", "-")

    @cached_property
    def type(self) -> type:
        """The field's type without None (`int | None` -> int)."""
        hint = typing.get_type_hints(self.owner)[self.field]
        return next(t for t in (typing.get_args(hint) or (hint,)) if t is not type(None))

    @cached_property
    def default(self) -> Any:
        return getattr(self.owner(), self.field)

    @cached_property
    def comment(self) -> str:
        return field_comments(self.owner).get(self.field, "")

    def _holder(self, cfg: RunConfig):
        part = getattr(cfg, self.section)
        return getattr(part, self.pack) if self.pack else part

    def get(self, cfg: RunConfig) -> Any:
        return getattr(self._holder(cfg), self.field)

    def set(self, cfg: RunConfig, value: Any) -> None:
        setattr(self._holder(cfg), self.field, value)


@lru_cache(maxsize=None)
def field_comments(kind: type) -> dict[str, str]:
    """{field: its comment in the source}: the one description of each setting, reused as CLI and form help.
    Read from `kind` and the dataclasses it is made of."""
    comments, last = {}, None
    lines = [line for base in kind.__mro__ if dataclasses.is_dataclass(base)
             for line in inspect.getsource(base).splitlines()]
    for line in lines:
        match = re.match(r"\s+(\w+): [^#]*#\s*(.*)$", line)
        if match:
            last = match.group(1)
            comments.setdefault(last, match.group(2).strip())
        elif last and re.match(r"\s+#\s{3,}", line):  # a continuation line of the comment above
            comments[last] += " " + line.strip().lstrip("#").strip()
        else:
            last = None
    return comments
