"""Scores of output token sequences against references: exact match, token accuracy, corpus BLEU.

Sequences are lists of tokens (characters for a character-level target, words for a word-level one).
BLEU is sacrebleu's corpus BLEU (0-100) over those tokens joined by spaces with sacrebleu's own
tokenizer off, so a character-level target such as '1998-03-03' is scored on character n-grams.
"""
from __future__ import annotations

from sacrebleu.metrics import BLEU

Tokens = list[str]


def exact_match(outputs: list[Tokens], references: list[Tokens]) -> float:
    """Share of outputs identical to their reference."""
    return sum(o == r for o, r in zip(outputs, references)) / max(len(references), 1)


def token_accuracy(outputs: list[Tokens], references: list[Tokens]) -> float:
    """Share of reference tokens matched at the same position of the output (a missing token is wrong)."""
    right = sum(sum(a == b for a, b in zip(o, r)) for o, r in zip(outputs, references))
    return right / max(sum(len(r) for r in references), 1)


def corpus_bleu(outputs: list[Tokens], references: list[Tokens]) -> float:
    """sacrebleu corpus BLEU (0-100) over the given tokens."""
    # space-separated tokens; a token that holds a space itself (a char-level space) becomes a visible mark
    def join(tokens: Tokens) -> str:
        return " ".join("▁" if t.isspace() else t for t in tokens)

    bleu = BLEU(tokenize="none", effective_order=False)
    return bleu.corpus_score([join(o) for o in outputs], [[join(r) for r in references]]).score
