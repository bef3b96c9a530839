"""Models: every one is a `SequenceModel` (see base.py) around the shared `RecurrentCore`."""
from __future__ import annotations

from ..config import RESERVOIRS, ModelConfig
from .base import ModelOutput, SequenceModel
from .captioner import Captioner
from .esn import EchoStateNetwork
from .language_model import LanguageModel
from .readout import ReadoutModel
from .recurrent import RecurrentCore
from .seq2seq import Seq2Seq

# A task's spec names the family of model it needs; the architecture is a setting inside it.
FAMILIES = {
    "language_model": lambda cfg, spec: LanguageModel(cfg, spec["vocab_size"]),
    "seq2seq": Seq2Seq,  # translation: spec has source_vocab_size and target_vocab_size
    "captioner": Captioner,  # captioning: spec has vocab_size, image_size, pad/bos/eos ids and max_words
    "readout": ReadoutModel,  # long-memory tasks: a label per sequence or per step (see readout.py for the spec)
}


def build(cfg: ModelConfig, spec: dict) -> SequenceModel:
    """The model a task asks for (`spec["family"]`), with the recurrent core `cfg` describes."""
    cfg.validate()
    if cfg.arch in RESERVOIRS:  # a fixed reservoir learns only its readout: one closed-form model for every task it can do
        return EchoStateNetwork(cfg, spec)
    return FAMILIES[spec["family"]](cfg, spec)


__all__ = ["build", "ModelOutput", "SequenceModel", "RecurrentCore", "LanguageModel", "Seq2Seq", "Captioner", "ReadoutModel",
           "EchoStateNetwork", "FAMILIES"]
