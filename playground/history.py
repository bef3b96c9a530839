"""A run's recorded metrics as plain columns, read incrementally from the store.

A page that watches a live run keeps one `RunHistory` and calls `refresh()` about once a second:
only rows newer than those already held are read, so polling a long run stays cheap.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .series import as_array
from .store import RunStore


@dataclass
class RunHistory:
    run_id: str
    steps: list[dict] = field(default_factory=list)  # one record per training step, in order
    evals: list[dict] = field(default_factory=list)  # one record per evaluation, in order
    events: list[dict] = field(default_factory=list)  # start, clipping changes, end

    def refresh(self, store: RunStore) -> bool:
        """Read what the run wrote since the last call; True if anything new arrived."""
        last_step = self.steps[-1]["step"] if self.steps else 0
        last_eval = self.evals[-1]["step"] if self.evals else 0
        new_steps = store.metrics(self.run_id, "train", after_step=last_step)
        new_evals = store.metrics(self.run_id, "eval", after_step=last_eval)
        self.steps.extend(new_steps)
        self.evals.extend(new_evals)
        self.events = store.events(self.run_id)
        return bool(new_steps or new_evals)

    @classmethod
    def load(cls, store: RunStore, run_id: str) -> "RunHistory":
        history = cls(run_id)
        history.refresh(store)
        return history

    # -- columns ---------------------------------------------------------------------------------
    def column(self, key: str, source: str = "steps") -> np.ndarray:
        """A numeric column (NaN where missing or non-finite) of the step or eval records."""
        return as_array(record.get(key) for record in getattr(self, source))

    def step_numbers(self, source: str = "steps") -> np.ndarray:
        return np.array([record["step"] for record in getattr(self, source)], dtype=float)

    def clipped(self) -> np.ndarray:
        return np.array([bool(record.get("clipped")) for record in self.steps], dtype=bool)

    def norm_thresholds(self) -> np.ndarray:
        """The clip threshold of each step where clipping is by global norm (NaN otherwise):
        only then is it comparable with the gradient norm on the same axis."""
        return as_array(r.get("clip_threshold") if r.get("clip") == "norm" else None for r in self.steps)

    def layer_norms(self) -> dict[str, np.ndarray]:
        names: list[str] = []
        for record in self.steps[:1] + self.steps[-1:]:
            names.extend(n for n in record.get("layer_norms", {}) if n not in names)
        return {name: as_array(r.get("layer_norms", {}).get(name) for r in self.steps) for name in names}

    def gradient_flows(self) -> tuple[list[int], list[list[float]]]:
        """(eval steps, ||dL_T/dx_t|| per time step, oldest first) for every evaluation that has one."""
        pairs = [(r["step"], r["gradient_flow"]) for r in self.evals if r.get("gradient_flow")]
        return [s for s, _ in pairs], [f for _, f in pairs]

    def spectral_radii(self) -> dict[str, tuple[list[int], list[float]]]:
        """{layer: (eval steps, spectral radius of its W_hh)}"""
        out: dict[str, tuple[list[int], list[float]]] = {}
        for record in self.evals:
            for layer, value in (record.get("spectral_radius") or {}).items():
                steps, values = out.setdefault(layer, ([], []))
                steps.append(record["step"])
                values.append(value)
        return out

    def gate_stats(self) -> tuple[list[int], list[dict]]:
        """(eval steps, gate statistics) where the scratch backend recorded them."""
        pairs = [(r["step"], r["gate_stats"]) for r in self.evals if r.get("gate_stats")]
        return [s for s, _ in pairs], [g for _, g in pairs]

    def samples(self) -> list[tuple[int, str]]:
        return [(r["step"], r["sample"]) for r in self.evals if r.get("sample")]

    def clip_changes(self) -> list[dict]:
        """Clipping changes made while the run trained: [{step, message}]."""
        return [e for e in self.events if e["kind"] == "clip"]

    # -- headline numbers -------------------------------------------------------------------------
    def last(self, key: str, source: str = "steps"):
        """The latest finite value of `key`, or None."""
        for record in reversed(getattr(self, source)):
            value = record.get(key)
            if isinstance(value, (int, float)) and value == value and abs(value) != float("inf"):
                return value
        return None

    def first_nonfinite_step(self) -> int | None:
        """The first step whose loss or gradient norm was not a finite number (stored as null)."""
        for record in self.steps:
            if record.get("loss") is None or record.get("grad_norm") is None:
                return record["step"]
        return None

    def clipped_fraction(self) -> float | None:
        return float(self.clipped().mean()) if self.steps else None
