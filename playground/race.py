"""Races: one task, one dataset, one seed and one budget, several model variants started together.

An entrant is the part of a model that differs between racers (the cell, and for decoder tasks
the attention and a bidirectional encoder); everything else comes from one base config, so the
racers see the same batches and differ only in what the race is about.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from .config import ATTENTIONS, CELLS, RESERVOIRS, ConfigError, RunConfig
from .models.cells import CELLS as CELL_REGISTRY

CELL_TITLES = {name: cell.short for name, cell in CELL_REGISTRY.items()}  # each cell's spec names it
ATTENTION_TITLES = {"none": "", "bahdanau": " + Bahdanau", "luong-dot": " + Luong (dot)",
                    "luong-general": " + Luong (general)", "soft": " + soft attention"}


@dataclass(frozen=True)
class Entrant:
    arch: str  # the recurrent cell (the decoder's too, for decoder tasks)
    attention: str = "none"  # decoder tasks: how the decoder looks back at the input
    bidirectional: bool = False  # translation: read the source in both directions

    @property
    def label(self) -> str:
        return f"{'bi-' if self.bidirectional else ''}{CELL_TITLES[self.arch]}{ATTENTION_TITLES[self.attention]}"


def entrants(task_name: str) -> list[Entrant]:
    """Every model variant that can race on a task, in a stable order."""
    if task_name == "translation":
        return [Entrant(cell, attention, bi) for bi in (False, True) for cell in CELLS
                for attention in ATTENTIONS if attention != "soft"]
    if task_name == "captioning":
        return [Entrant(cell, attention) for cell in CELLS for attention in ("none", "soft")]
    return [Entrant(arch) for arch in (*CELLS, *RESERVOIRS)]  # text and long-memory tasks: every cell, and the ESN


def race_configs(base: RunConfig, racers: list[Entrant]) -> list[RunConfig]:
    """One validated config per entrant, identical to `base` in everything else (seed included)."""
    if len(racers) < 2:
        raise ConfigError("pick at least two entrants to race")
    if len(set(racers)) != len(racers):
        raise ConfigError("each entrant can race only once")
    group = f"race {time.strftime('%H:%M:%S')}"
    configs = []
    for racer in racers:
        model = dataclasses.replace(base.model, arch=racer.arch, attention=racer.attention,
                                    bidirectional=racer.bidirectional)
        cfg = dataclasses.replace(base, name=f"{group} · {racer.label}", group=group, model=model,
                                  task=dataclasses.replace(base.task), train=dataclasses.replace(base.train))
        configs.append(cfg.validate())
    return configs
