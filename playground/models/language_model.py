"""Next-token language model: embedding -> recurrent core -> linear head over the vocabulary."""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from ..config import ConfigError, ModelConfig
from .base import ModelOutput, SequenceModel
from .recurrent import RecurrentCore


class LanguageModel(SequenceModel):
    """Predicts token t+1 from tokens 0..t. Batches hold `x` and `y` = x shifted by one, both (B, T)."""

    def __init__(self, cfg: ModelConfig, vocab_size: int) -> None:
        super().__init__()
        if cfg.bidirectional:
            raise ConfigError(
                "a bidirectional model cannot predict the next character: its backward half reads "
                "the text from the right and would see the answer. Turn bidirectional off for this task."
            )
        self.embed = nn.Embedding(vocab_size, cfg.embedding)
        self.core = RecurrentCore(cfg, cfg.embedding)
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(self.core.output_size, vocab_size)

    def forward(self, batch: dict[str, Tensor], state=None) -> ModelOutput:
        x = self.embed(batch["x"])  # (B, T, E)
        hidden, state = self.core(x, state)  # (B, T, H)
        logits = self.head(self.drop(hidden))  # (B, T, V)
        loss = None
        if "y" in batch:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch["y"].reshape(-1))
        return ModelOutput(logits, loss, state)

    def last_step_loss(self, batch: dict[str, Tensor]) -> Tensor:
        logits = self.forward({"x": batch["x"]}).logits  # (B, T, V)
        return F.cross_entropy(logits[:, -1], batch["y"][:, -1])
