"""Models: every one is a `SequenceModel` (see base.py) around the shared `RecurrentCore`.

The names below load on first use (PEP 562), so that importing the cell registry
(`playground.models.cells`, which needs only torch) runs nothing else of this package: `config.py`
reads the registry without an import circle through the model modules, which read the config.
"""
from __future__ import annotations

from importlib import import_module

_EXPORTS = {  # name -> the module of this package that defines it (relative)
    "build": ".families", "FAMILIES": ".families", "ModelOutput": ".base", "SequenceModel": ".base",
    "RecurrentCore": ".recurrent", "LanguageModel": ".language_model", "Seq2Seq": ".seq2seq",
    "Captioner": ".captioner", "ReadoutModel": ".readout", "EchoStateNetwork": ".esn",
}


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name], __name__), name)


__all__ = list(_EXPORTS)
