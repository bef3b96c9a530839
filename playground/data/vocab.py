"""Character vocabularies: the sorted set of characters seen in the training text."""
from __future__ import annotations

import torch

from .errors import DataError


class Vocabulary:
    def __init__(self, symbols: list[str]) -> None:
        self.symbols = list(symbols)
        self.index = {s: i for i, s in enumerate(self.symbols)}

    @classmethod
    def from_text(cls, text: str) -> "Vocabulary":
        return cls(sorted(set(text)))

    def __len__(self) -> int:
        return len(self.symbols)

    def encode(self, text: str) -> torch.Tensor:
        unknown = sorted(set(text) - set(self.index))
        if unknown:
            shown = "".join(unknown[:20])
            raise DataError(f"the text contains characters this model never saw: {shown!r}")
        return torch.tensor([self.index[c] for c in text], dtype=torch.long)

    def decode(self, ids) -> str:
        return "".join(self.symbols[int(i)] for i in ids)
