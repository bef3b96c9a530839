"""What a recurrent cell says about itself, so that the trainer, the pages and the CLI never test its name.

A cell's file defines its module(s) and one `CellSpec`; `cells/__init__.py` holds the registry
(`CELLS`, one line per cell). Everything that labels, builds or explains an architecture reads a
spec: the Train form (title, settings that apply), the equations panel (LaTeX), the gate watch
(gates), the hidden-state views (state parts), the backends (fused twin or none).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from torch import Tensor


class CellSettingError(ValueError):
    """A cell cannot be built with the settings given; the message is shown to the user as is."""


@dataclass(frozen=True)
class CellSpec:
    name: str  # the ModelConfig.arch value that selects this cell ("lstm")
    title: str  # the full title on pages ("LSTM (gate order i, f, g, o as in torch's nn.LSTM)")
    short: str  # a short label for legends, pickers and race names ("LSTM")
    equations: tuple[str, ...]  # LaTeX, one line per equation, as the cell computes them
    gradient: str = ""  # LaTeX: the one-step Jacobian that backpropagation through time multiplies
    note: str = ""  # one or two sentences on what the equations mean for gradients (shown under them)
    code: str = ""  # where the cell's step is written ("playground/models/cells/lstm.py, LSTMCell.step")
    gates: tuple[str, ...] = ()  # sigmoid gates whose statistics the scratch backend records ("input", "forget", ...)
    state_parts: tuple[str, ...] = ("h",)  # the recurrent state's parts: ("h",) or ("h", "c")
    blocks: int = 1  # gate blocks stacked in W_ih / W_hh (torch's layout: rows = blocks * H)
    recurrent_block: int = 0  # the block of W_hh whose spectral radius is reported (the candidate block)
    fused: Any = None  # torch's fused module with the same parameters (nn.LSTM), or None: scratch only
    fused_kwargs: dict = field(default_factory=dict)  # extra arguments for the fused module ({"nonlinearity": "relu"})
    # how to build one layer and direction: cell(input_size, hidden_size, options) -> a cells.base.Cell, where
    # options is the ModelConfig (a cell reads only the fields in its `settings`)
    cell: Callable[..., Any] | None = None
    # W_hh as stored -> the matrix whose spectral radius is reported; None: block `recurrent_block` of W_hh
    read_recurrent: Callable[[Tensor], Tensor] | None = None
    # the largest spectral radius the cell allows (IndRNN bounds |u|): a preset above it is cut to it; None: no bound
    radius_bound: float | None = None
    trains_by_gradient: bool = True  # False: a fixed recurrent map whose readout is solved in closed form (ESN)
    # ModelConfig fields that apply to this cell (the form shows, the CLI accepts and the config records only these)
    settings: tuple[str, ...] = ("layers", "hidden", "embedding", "dropout", "bidirectional", "backend", "init",
                                 "spectral_radius")

    @property
    def backends(self) -> tuple[str, ...]:
        """The backends this cell runs on: fused (torch's kernel) only where it has a twin."""
        if not self.trains_by_gradient:
            return ()
        return ("fused", "scratch") if self.fused is not None else ("scratch",)

    def recurrent_matrix(self, weight_hh: Tensor) -> Tensor:
        """The (H, H) recurrent matrix of one layer and direction, from its stored W_hh (either backend)."""
        if self.read_recurrent is not None:
            return self.read_recurrent(weight_hh)
        hidden = weight_hh.shape[1]
        return weight_hh[self.recurrent_block * hidden:(self.recurrent_block + 1) * hidden]

    def describe(self) -> dict:
        """Plain JSON for `python -m playground describe`."""
        return {"name": self.name, "title": self.title, "short": self.short, "equations": list(self.equations),
                "gates": list(self.gates), "state_parts": list(self.state_parts), "backends": list(self.backends),
                "fused": getattr(self.fused, "__name__", None), "trains_by_gradient": self.trains_by_gradient,
                "radius_bound": self.radius_bound,
                "settings": list(self.settings)}
