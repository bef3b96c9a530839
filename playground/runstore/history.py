"""A run's recorded metrics as plain columns, read incrementally from the store.

A page that watches a live run keeps one `RunHistory` and calls `refresh()` about once a second:
only rows newer than those already held are read, so polling a long run stays cheap. Step
records are kept as float columns (about 100 bytes a step rather than a dict's 1.5 KB), so a
browser tab can hold a 100,000-step run.
"""
from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field

import numpy as np

from ..viz.series import as_array
from .store import RunStore

RECENT = 20  # training losses averaged into a run's "train loss" (one step's loss is noisy)


def recent_train_loss(losses) -> float | None:
    """The mean of the last RECENT finite training losses: the one definition of a run's train loss."""
    finite = np.asarray([x for x in losses if x is not None and math.isfinite(x)], dtype=float)
    return float(finite[-RECENT:].mean()) if finite.size else None


# per-layer evaluation readouts drawn together, and their labels (train/state_jacobian.py says what they are)
JACOBIAN_LABELS = {"spectral_radius": "block radius", "block_singular_value": "block's largest singular value",
                   "jacobian_radius": "Jacobian radius", "gradient_growth_per_step": "gradient growth per step"}
NUMERIC = ("step", "loss", "grad_norm", "grad_norm_clipped", "clip_threshold", "lr", "tokens_per_s", "time")


def _float(value) -> float:
    """NaN for None and non-finite values: JSON has no NaN, so the store writes null."""
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else math.nan


def _or_none(value: float):
    return None if math.isnan(value) else value


class StepRecords:
    """Read-only, list-like access to the step records (`len`, `[i]`, `[-20:]`), rebuilt on demand."""

    def __init__(self, history: "RunHistory") -> None:
        self.history = history

    def __len__(self) -> int:
        return len(self.history._numeric["step"])

    def __bool__(self) -> bool:
        return len(self) > 0

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self.history._record(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self.history._record(index)


@dataclass
class RunHistory:
    run_id: str
    evals: list[dict] = field(default_factory=list)  # one record per evaluation, in order
    events: list[dict] = field(default_factory=list)  # start, clipping changes, end
    _numeric: dict[str, array] = field(default_factory=lambda: {key: array("d") for key in NUMERIC})
    _clipped: array = field(default_factory=lambda: array("b"))
    _clip_modes: list[str] = field(default_factory=list)
    _layers: dict[str, array] = field(default_factory=dict)
    _penalties: dict[str, array] = field(default_factory=dict)  # each penalty's value per step (train/penalties.py)

    @property
    def steps(self) -> StepRecords:
        """The step records, as the trainer wrote them (non-finite values as None)."""
        return StepRecords(self)

    def refresh(self, store: RunStore) -> bool:
        """Read what the run wrote since the last call; True if anything new arrived."""
        last_step = int(self._numeric["step"][-1]) if self._numeric["step"] else 0
        last_eval = self.evals[-1]["step"] if self.evals else 0
        new_steps = store.metrics(self.run_id, "train", after_step=last_step)
        new_evals = store.metrics(self.run_id, "eval", after_step=last_eval)
        for record in new_steps:
            self._append(record)
        self.evals.extend(new_evals)
        self.events = store.events(self.run_id)
        return bool(new_steps or new_evals)

    @classmethod
    def load(cls, store: RunStore, run_id: str) -> "RunHistory":
        history = cls(run_id)
        history.refresh(store)
        return history

    def _append(self, record: dict) -> None:
        count = len(self._numeric["step"])
        for key in NUMERIC:
            self._numeric[key].append(_float(record.get(key)))
        self._clipped.append(bool(record.get("clipped")))
        self._clip_modes.append(record.get("clip", ""))
        norms = record.get("layer_norms") or {}
        for name in norms:
            if name not in self._layers:  # a layer first seen now: no value for the earlier steps
                self._layers[name] = array("d", [math.nan] * count)
        for name, column in self._layers.items():
            column.append(_float(norms.get(name)))
        penalties = record.get("penalties") or {}
        for name in penalties:
            if name not in self._penalties:
                self._penalties[name] = array("d", [math.nan] * count)
        for name, column in self._penalties.items():
            column.append(_float(penalties.get(name)))

    def _record(self, i: int) -> dict:
        record = {key: _or_none(column[i]) for key, column in self._numeric.items()}
        record["step"] = int(self._numeric["step"][i])
        record.update(clipped=bool(self._clipped[i]), clip=self._clip_modes[i],
                      layer_norms={name: _or_none(column[i]) for name, column in self._layers.items()})
        if self._penalties:
            record["penalties"] = {name: _or_none(column[i]) for name, column in self._penalties.items()}
        return record

    # -- columns ---------------------------------------------------------------------------------
    def column(self, key: str, source: str = "steps") -> np.ndarray:
        """A numeric column (NaN where missing or non-finite) of the step or eval records."""
        if source == "evals":
            return as_array(record.get(key) for record in self.evals)
        if key == "clipped":
            return self.clipped().astype(float)
        if key not in self._numeric:
            return np.full(len(self.steps), np.nan)
        return np.array(self._numeric[key], dtype=float)

    def step_numbers(self, source: str = "steps") -> np.ndarray:
        if source == "evals":
            return np.array([record["step"] for record in self.evals], dtype=float)
        return self.column("step")

    def clipped(self) -> np.ndarray:
        return np.array(self._clipped, dtype=bool)

    def norm_thresholds(self) -> np.ndarray:
        """The clip threshold of each step where clipping is by global norm (NaN otherwise):
        only then is it comparable with the gradient norm on the same axis."""
        by_norm = np.array([mode == "norm" for mode in self._clip_modes], dtype=bool)
        return np.where(by_norm, self.column("clip_threshold"), np.nan)

    def penalties(self) -> dict[str, np.ndarray]:
        """{penalty: its value at every step} for the penalties the run weighs in (none: {})."""
        return {name: np.array(column, dtype=float) for name, column in self._penalties.items()}

    def layer_norms(self) -> dict[str, np.ndarray]:
        return {name: np.array(column, dtype=float) for name, column in self._layers.items()}

    def gradient_flows(self) -> tuple[list[int], list[list[float]]]:
        """(eval steps, ||dL_T/dx_t|| per time step, oldest first) for every evaluation that has one."""
        pairs = [(r["step"], r["gradient_flow"]) for r in self.evals if r.get("gradient_flow")]
        return [s for s, _ in pairs], [f for _, f in pairs]

    def spectral_radii(self) -> dict[str, tuple[list[int], list[float]]]:
        """{layer: (eval steps, block radius: the spectral radius of its W_hh, the candidate block if gated)}"""
        return self.layer_readout("spectral_radius")

    def layer_readout(self, key: str) -> dict[str, tuple[list[int], list[float]]]:
        """{layer: (eval steps, value)} of a per-layer evaluation readout ("jacobian_radius", ...)."""
        out: dict[str, tuple[list[int], list[float]]] = {}
        for record in self.evals:
            for layer, value in (record.get(key) or {}).items():
                steps, values = out.setdefault(layer, ([], []))
                steps.append(record["step"])
                values.append(math.nan if value is None else value)
        return out

    def jacobian_series(self, prefix: str = "") -> dict[str, tuple[list[int], list[float]]]:
        """'{prefix}{layer} {readout}' -> (eval steps, values): block radius, Jacobian radius, growth per step."""
        if not self.layer_readout("jacobian_radius"):
            return {}  # evaluations from before these readouts, or a core that runs both ways
        return {f"{prefix}{layer} {label}": series
                for key, label in JACOBIAN_LABELS.items() for layer, series in self.layer_readout(key).items()}

    def flow_causal(self, bidirectional: bool) -> bool:
        """Whether the recorded gradient flow runs causally back from the loss (a decay rate means something):
        as the evaluations say, or for runs recorded before they said it, whether the core ran forward only."""
        flags = [r["flow_causal"] for r in self.evals if "flow_causal" in r]
        return flags[-1] if flags else not bidirectional

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
        if source == "steps":
            values = self.column(key)
            finite = values[np.isfinite(values)]
            return float(finite[-1]) if finite.size else None
        for record in reversed(self.evals):
            value = record.get(key)
            if isinstance(value, (int, float)) and math.isfinite(value):
                return value
        return None

    def elapsed(self) -> float:
        """Seconds from the run's first step to its latest, as the trainer timed them."""
        return self._numeric["time"][-1] if self._numeric["time"] else 0.0

    def first_nonfinite_step(self) -> int | None:
        """The first step whose loss or gradient norm was not a finite number (stored as null)."""
        bad = ~np.isfinite(self.column("loss")) | ~np.isfinite(self.column("grad_norm"))
        return int(self._numeric["step"][int(np.argmax(bad))]) if bad.any() else None

    def clipped_fraction(self) -> float | None:
        return float(self.clipped().mean()) if self._clipped else None
