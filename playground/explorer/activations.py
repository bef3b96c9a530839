"""What every unit of a model does over one input: the traced activations, the text, and the units of a pattern.

    exploration = explore(model, task, text)      # text None: the task's held-out example
    exploration.traces["core"]["h"]               # (layers, units, positions) numpy
    ranked, baseline = exploration.find(regex="\\d")

The task says what its input is and what each core's positions read (`Task.inspection`); the activations come
from the model's own forward pass (`models.trace`). Nothing here knows a task's or a cell's name.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..data.errors import DataError
from ..models import SequenceModel
from ..models.trace import trace
from ..tasks.base import Inspection, Task
from .patterns import PRESETS, mask_for, rank_units

PATTERN_CORE = "core"  # the core whose positions are the inspected text's characters (the LM's, the encoder's)


@dataclass
class Exploration:
    inspection: Inspection
    traces: dict[str, dict[str, np.ndarray]]  # core path -> part -> (layers, units, positions)

    @property
    def text(self) -> str | None:
        return self.inspection.text

    def parts(self, core: str = PATTERN_CORE) -> list[str]:
        return list(self.traces.get(core, {}))

    def mask(self, regex: str | None = None, preset: str | None = None, span: tuple[int, int] | None = None):
        if self.text is None and span is None:
            raise DataError("this input is not one character per position: mark a span of positions instead")
        text = self.text if self.text is not None else " " * len(self.inspection.positions[PATTERN_CORE])
        return mask_for(text, regex, preset, span)

    def find(self, regex: str | None = None, preset: str | None = None, span: tuple[int, int] | None = None,
             parts: list[str] | None = None):
        """(units of the pattern core ranked by |correlation| with the pattern, shuffled baseline of the best)."""
        return rank_units(self.traces, self.mask(regex, preset, span), PATTERN_CORE, parts)

    def to_dict(self, find: str | None = None, units: int = 10, preset: str | None = None) -> dict:
        """Plain JSON: every core's positions and activations (layers x units x positions per part), and with a
        pattern the best `units` units, every unit's correlation and the shuffled baseline."""
        out = {"text": self.text, "notes": self.inspection.notes, "layout": "layers x units x positions", "cores": {
            name: {"positions": self.inspection.positions.get(name, []),
                   "parts": {part: np.round(values, 5).tolist() for part, values in parts.items()}}
            for name, parts in self.traces.items()}}
        if find is not None or preset is not None:
            ranked, baseline = self.find(regex=find, preset=preset)
            out["find"] = {
                "pattern": find if find is not None else PRESETS[preset].regex, "core": PATTERN_CORE,
                "best": [unit.to_dict() for unit in ranked[:units]], "shuffled_baseline": baseline,
            }
            table: dict[str, list[list[float]]] = {}
            for unit in ranked:
                rows = table.setdefault(unit.part, [])
                while len(rows) <= unit.layer:
                    rows.append([0.0] * self.traces[PATTERN_CORE][unit.part].shape[1])
                rows[unit.layer][unit.unit] = round(unit.correlation, 4)
            out["find"]["correlation"] = table  # part -> layers x units
        return out


def explore(model: SequenceModel, task: Task, text: str | None = None) -> Exploration:
    """Trace `model` on the task's input for `text` (None: its held-out example)."""
    inspection = task.inspection(model, text)
    device = next(model.parameters(), torch.zeros(())).device
    batch = {key: value.to(device) for key, value in inspection.batch.items()}
    traces, _ = trace(model, batch)
    return Exploration(inspection, {core: {part: values.numpy() for part, values in parts.items()}
                                    for core, parts in traces.items()})
