"""`build(cfg, spec)`: the model a task asks for, with the recurrent core its config describes."""
from __future__ import annotations

from ..config import ConfigError, ModelConfig
from .base import SequenceModel
from .captioner import Captioner
from .cells import cell_spec
from .esn import EchoStateNetwork
from .language_model import LanguageModel
from .readout import ReadoutModel
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
    try:
        cell = cell_spec(cfg.arch)
    except KeyError as error:
        raise ConfigError(error.args[0]) from None
    if not cell.trains_by_gradient:  # a fixed map learns only its readout: one closed-form model for every task it can do
        return EchoStateNetwork(cfg, spec)
    return FAMILIES[spec["family"]](cfg, spec)
