"""Tokenisers (character or word level) and vocabularies with the special tokens a decoder needs."""
from __future__ import annotations

import re

import torch

PAD, BOS, EOS, UNK = 0, 1, 2, 3  # the same ids in every vocabulary, so models and masks can rely on them
SPECIALS = ["<pad>", "<s>", "</s>", "<unk>"]

_WORD = re.compile(r"\w+|[^\w\s]")  # a run of letters/digits, or one punctuation mark
_NO_SPACE_BEFORE = re.compile(r" ([.,!?;:%)\]}»'-])")
_NO_SPACE_AFTER = re.compile(r"([(\[{«¿¡'-]) ")


def tokenize(text: str, mode: str) -> list[str]:
    """'char': every character is a token; 'word': words and punctuation marks ("forty-two" -> forty - two)."""
    return list(text) if mode == "char" else _WORD.findall(text)


def detokenize(tokens: list[str], mode: str) -> str:
    """Tokens back to readable text (word level: spaces between words, none around punctuation)."""
    if mode == "char":
        return "".join(tokens)
    text = " ".join(tokens)
    return _NO_SPACE_AFTER.sub(r"\1", _NO_SPACE_BEFORE.sub(r"\1", text))


class TokenVocabulary:
    """Token <-> id, with <pad>, <s>, </s>, <unk> first. Unknown tokens map to <unk>."""

    def __init__(self, symbols: list[str]) -> None:
        if symbols[: len(SPECIALS)] != SPECIALS:
            symbols = SPECIALS + [s for s in symbols if s not in SPECIALS]
        self.symbols = list(symbols)
        self.index = {s: i for i, s in enumerate(self.symbols)}

    @classmethod
    def from_sequences(cls, sequences) -> "TokenVocabulary":
        """Every token seen, in a fixed (sorted) order so the same data gives the same ids."""
        return cls(SPECIALS + sorted({token for seq in sequences for token in seq}))

    def __len__(self) -> int:
        return len(self.symbols)

    def unknown(self, tokens: list[str]) -> list[str]:
        return sorted({t for t in tokens if t not in self.index})

    def ids(self, tokens: list[str]) -> list[int]:
        return [self.index.get(t, UNK) for t in tokens]

    def encode(self, tokens: list[str], bos: bool = False, eos: bool = False) -> torch.Tensor:
        return torch.tensor(([BOS] if bos else []) + self.ids(tokens) + ([EOS] if eos else []), dtype=torch.long)

    def decode(self, ids) -> list[str]:
        """Ids to tokens, stopping at </s> and skipping <pad> and <s>."""
        out = []
        for i in ids:
            i = int(i)
            if i == EOS:
                break
            if i not in (PAD, BOS):
                out.append(self.symbols[i])
        return out
