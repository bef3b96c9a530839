"""Caption words <-> ids: a fixed word vocabulary from the scene grammar, and padded batches of captions."""
from __future__ import annotations

import torch

from .errors import DataError
from .scenes import LAYOUT_WORDS, SHAPES, SIZES

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"  # ids 0, 1, 2 in every caption vocabulary


def grammar_words(colours: tuple[str, ...]) -> list[str]:
    """Every word a caption of scenes with these colours can use, specials first."""
    relations = sorted({word for phrase in LAYOUT_WORDS.values() for word in phrase.split()})
    return [PAD, BOS, EOS, "a", *SIZES, *colours, *SHAPES, *relations]


class CaptionVocabulary:
    def __init__(self, words: list[str]) -> None:
        if words[:3] != [PAD, BOS, EOS]:
            raise DataError("a caption vocabulary starts with <pad>, <bos>, <eos>")
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}
        self.pad, self.bos, self.eos = 0, 1, 2

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, caption: str) -> list[int]:
        unknown = [w for w in caption.split() if w not in self.index]
        if unknown:
            raise DataError(f"the caption uses words this model does not know: {', '.join(unknown)}")
        return [self.index[w] for w in caption.split()]

    def decode(self, ids) -> str:
        """Words up to the first <eos>, specials dropped."""
        words = []
        for i in ids:
            i = int(i)
            if i == self.eos:
                break
            if i > self.eos:
                words.append(self.words[i])
        return " ".join(words)

    def teacher_forcing_batch(self, captions: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """(x, y), both (B, T) long: x = <bos> + words, y = words + <eos>, padded with <pad> (id 0)."""
        encoded = [self.encode(c) for c in captions]
        length = max(len(e) for e in encoded) + 1
        x = torch.zeros(len(encoded), length, dtype=torch.long)
        y = torch.zeros(len(encoded), length, dtype=torch.long)
        for row, ids in enumerate(encoded):
            x[row, : len(ids) + 1] = torch.tensor([self.bos, *ids])
            y[row, : len(ids) + 1] = torch.tensor([*ids, self.eos])
        return x, y
