"""Models: every one is a `SequenceModel` (see base.py) around the shared `RecurrentCore`."""
from __future__ import annotations

from ..config import ModelConfig
from .base import ModelOutput, SequenceModel
from .language_model import LanguageModel
from .recurrent import RecurrentCore

# A task's spec names the family of model it needs; the architecture is a setting inside it.
FAMILIES = {"language_model": lambda cfg, spec: LanguageModel(cfg, spec["vocab_size"])}


def build(cfg: ModelConfig, spec: dict) -> SequenceModel:
    """The model a task asks for (`spec["family"]`), with the recurrent core `cfg` describes."""
    cfg.validate()
    return FAMILIES[spec["family"]](cfg, spec)


__all__ = ["build", "ModelOutput", "SequenceModel", "RecurrentCore", "LanguageModel", "FAMILIES"]
