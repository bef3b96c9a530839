"""Scores of output token sequences against references: exact match, token accuracy, corpus BLEU, chrF.

Sequences are lists of tokens (characters for a character-level target, words for a word-level one).
BLEU is sacrebleu's corpus BLEU (0-100) over those tokens joined by spaces with sacrebleu's own
tokenizer off: for a character-level target such as '1998-03-03' it is character n-gram BLEU (up to
4-grams of characters), not the word BLEU of machine translation papers. chrF (sacrebleu's character
n-gram F-score, 0-100, Popovic 2015) is the measure made for characters, and is reported beside it.
"""
from __future__ import annotations

from sacrebleu.metrics import BLEU, CHRF

Tokens = list[str]


def exact_match(outputs: list[Tokens], references: list[Tokens]) -> float:
    """Share of outputs identical to their reference."""
    return sum(o == r for o, r in zip(outputs, references)) / max(len(references), 1)


def token_accuracy(outputs: list[Tokens], references: list[Tokens]) -> float:
    """Share of positions right, over the longer of output and reference: a missing token is wrong, and so is
    an extra one ('1998-03-0399999' against '1998-03-03' scores 10 of 15, not 10 of 10)."""
    right = sum(sum(a == b for a, b in zip(o, r)) for o, r in zip(outputs, references))
    return right / max(sum(max(len(o), len(r)) for o, r in zip(outputs, references)), 1)


def corpus_bleu(outputs: list[Tokens], references: list[Tokens]) -> float:
    """sacrebleu corpus BLEU (0-100) over the given tokens."""
    # space-separated tokens; a token that holds a space itself (a char-level space) becomes a visible mark
    def join(tokens: Tokens) -> str:
        return " ".join("▁" if t.isspace() else t for t in tokens)

    bleu = BLEU(tokenize="none", effective_order=False)
    return bleu.corpus_score([join(o) for o in outputs], [[join(r) for r in references]]).score


def corpus_chrf(outputs: list[Tokens], references: list[Tokens]) -> float:
    """sacrebleu corpus chrF (0-100): character n-grams (up to 6) of the output strings, whitespace ignored."""
    return CHRF().corpus_score([" ".join(o) for o in outputs], [[" ".join(r) for r in references]]).score
