"""The cell registry: one line per architecture. A cell's own file holds its module and its `CellSpec`."""
from __future__ import annotations

from .specs import ESN, GRU, LSTM, RNN_RELU, RNN_TANH
from .spec import CellSpec
from .textbook import GateRecorder, GRUCell, LSTMCell, RNNCell, gate_count, make_cell

CELLS: dict[str, CellSpec] = {spec.name: spec for spec in (RNN_TANH, RNN_RELU, LSTM, GRU, ESN)}


def cell_spec(name: str) -> CellSpec:
    """The spec of architecture `name`; an unknown name is a clear error, never a silent default."""
    try:
        return CELLS[name]
    except KeyError:
        raise KeyError(f"unknown architecture {name!r}; available: {', '.join(CELLS)}") from None


__all__ = ["CELLS", "CellSpec", "cell_spec", "GateRecorder", "RNNCell", "LSTMCell", "GRUCell", "make_cell", "gate_count"]
