"""The cell registry: one line per architecture. A cell's own file holds its module and its `CellSpec`.

This package imports nothing from `playground` outside itself (only torch), so anything may import it.
"""
from __future__ import annotations

from .base import Cell
from .gates import GateRecorder
from .spec import CellSettingError, CellSpec

# The registry: one line per cell, in the order pickers, races and `describe` list them.
from .rnn import RNN_TANH, RNN_RELU  # noqa: E402
from .lstm import LSTM  # noqa: E402
from .gru import GRU  # noqa: E402
from .reservoir import ESN  # noqa: E402
from .indrnn import INDRNN  # noqa: E402
from .mgu import MGU  # noqa: E402

CELLS: dict[str, CellSpec] = {value.name: value for value in list(globals().values()) if isinstance(value, CellSpec)}


def cell_spec(name: str) -> CellSpec:
    """The spec of architecture `name`; an unknown name is a clear error, never a silent default."""
    try:
        return CELLS[name]
    except KeyError:
        raise KeyError(f"unknown architecture {name!r}; available: {', '.join(CELLS)}") from None


__all__ = ["CELLS", "Cell", "CellSettingError", "CellSpec", "GateRecorder", "cell_spec"]
