"""Races: one task, one dataset, one seed and one budget, several model variants started together.

An entrant is the part of a model that differs between racers (the cell, and for decoder tasks
the attention and a bidirectional encoder); everything else comes from one base config, so the
racers see the same batches and differ only in what the race is about.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from .. import options
from ..config import ConfigError, RunConfig
from ..models.cells import CELLS, cell_spec
from ..tasks import task_spec

ATTENTION_TITLES = {"none": "", "bahdanau": " + Bahdanau", "luong-dot": " + Luong (dot)",
                    "luong-general": " + Luong (general)", "soft": " + soft attention"}


@dataclass(frozen=True)
class Entrant:
    arch: str  # the recurrent cell (the decoder's too, for decoder tasks)
    attention: str = "none"  # decoder tasks: how the decoder looks back at the input
    bidirectional: bool = False  # translation: read the source in both directions

    @property
    def label(self) -> str:
        return f"{'bi-' if self.bidirectional else ''}{cell_spec(self.arch).short}{ATTENTION_TITLES[self.attention]}"


def entrants(task_name: str) -> list[Entrant]:
    """Every model variant that can race on a task, in a stable order: each architecture (only those trained
    by gradient behind a decoder), with each of the task's attention choices, one-way and (where the task
    allows it) bidirectional."""
    spec = task_spec(task_name)
    archs = [name for name, cell in CELLS.items() if cell.trains_by_gradient or not spec.attention]
    directions = (False, True) if spec.bidirectional else (False,)
    return [Entrant(arch, attention, bi) for bi in directions for arch in archs
            for attention in (spec.attention or ("none",))]


def default_entrants(task_name: str) -> list[Entrant]:
    """The task's first race (a story worth watching), or its first three entrants."""
    options = entrants(task_name)
    chosen = [Entrant(*e) for e in task_spec(task_name).race_entrants]
    return [e for e in chosen if e in options] or options[:3]


def race_configs(base: RunConfig, racers: list[Entrant]) -> list[RunConfig]:
    """One validated config per entrant, identical to `base` in everything else (seed included)."""
    if len(racers) < 2:
        raise ConfigError("pick at least two entrants to race")
    if len(set(racers)) != len(racers):
        raise ConfigError("each entrant can race only once")
    group = f"race {time.strftime('%H:%M:%S')}"
    spec = task_spec(base.task.name)
    on = f"{base.task.name}:{base.task.dataset}" if spec.datasets() else base.task.name  # what it raced on
    configs = []
    for racer in racers:
        model = dataclasses.replace(base.model, arch=racer.arch, attention=racer.attention,
                                    bidirectional=racer.bidirectional)
        cfg = dataclasses.replace(base, name=f"{racer.label} on {on} · {group}", group=group, model=model,
                                  task=dataclasses.replace(base.task), train=dataclasses.replace(base.train))
        configs.append(options.reset_unused(cfg).validate())  # a racer records only what applies to it
    return configs
