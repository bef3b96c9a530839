"""Which units follow a pattern in the text: masks, correlation per unit, and what chance gives.

A pattern is a mask over the positions (1 where it holds): a preset (inside quotes, inside parentheses,
indentation, digits, the end of a line), a regular expression (every character a match covers) or a
span the user marked. Each unit's activation over the positions is correlated (Pearson) with the mask;
units are ranked by the size of that correlation, its sign kept (a unit may switch off in the pattern).

Chance: the mask is moved by a random circular shift (its runs keep their lengths, which matter because
activations change slowly: a plain permutation would break the runs and make chance look smaller) and the
best unit's |correlation| is measured again, SHUFFLES times. A unit well above that baseline follows the
pattern; one near it does no better than a pattern with nothing to do with the text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..data.errors import DataError

SHUFFLES = 200  # circular shifts drawn for the baseline


def _depth_mask(text: str, opening: str, closing: str) -> np.ndarray:
    """1 on the characters inside (at depth >= 1 of) the brackets, the brackets themselves excluded."""
    mask, depth = np.zeros(len(text)), 0
    for i, char in enumerate(text):
        if char == closing and depth:
            depth -= 1
        elif char == opening:
            depth += 1
            continue
        mask[i] = depth > 0 and char != closing
    return mask


def _regex_mask(text: str, pattern: str, group: int = 0) -> np.ndarray:
    mask = np.zeros(len(text))
    for match in re.finditer(pattern, text):
        mask[match.start(group):match.end(group)] = 1.0
    return mask


@dataclass(frozen=True)
class Preset:
    label: str  # how pickers name it
    regex: str  # shown to the user; the mask (None: a bracket-depth scan instead)
    mask: Callable[[str], np.ndarray]


PRESETS = {
    "quotes": Preset("inside quotes", r"""(["'])(.*?)\1 (the characters between)""",
                     lambda text: _regex_mask(text, r"""(["'])((?:(?!\1)[^\\\n]|\\.)*)\1""", 2)),
    "parentheses": Preset("inside parentheses", "depth of ( ) at least 1", lambda text: _depth_mask(text, "(", ")")),
    "indentation": Preset("indentation", r"^[ \t]+", lambda text: _regex_mask(text, r"(?m)^[ \t]+")),
    "digits": Preset("digits", r"\d", lambda text: _regex_mask(text, r"\d")),
    "line_end": Preset("the end of a line", r".\n (the last character and the newline)",
                       lambda text: _regex_mask(text, r".?\n")),
}


def mask_for(text: str, regex: str | None = None, preset: str | None = None,
             span: tuple[int, int] | None = None) -> np.ndarray:
    """The pattern's mask over `text` (one value per character); a clear DataError for a bad expression."""
    if preset is not None:
        if preset not in PRESETS:
            raise DataError(f"unknown pattern {preset!r}; known: {', '.join(PRESETS)}")
        return PRESETS[preset].mask(text)
    if span is not None:
        start, end = span
        if not 0 <= start < end <= len(text):
            raise DataError(f"the span {start}-{end} is not inside the text's {len(text)} characters")
        mask = np.zeros(len(text))
        mask[start:end] = 1.0
        return mask
    if not regex:
        raise DataError("give a pattern: a regular expression, a preset or a span")
    try:
        re.compile(regex)
    except re.error as error:
        raise DataError(f"the regular expression {regex!r} is not valid: {error}") from None
    return _regex_mask(text, regex)


def correlations(activations: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row of `activations` (units, positions) with `mask` (positions,);
    0 for a unit that never changes."""
    centred = activations - activations.mean(axis=1, keepdims=True)
    target = mask - mask.mean()
    denominator = np.sqrt((centred ** 2).sum(axis=1) * (target ** 2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        result = (centred @ target) / denominator
    return np.where(denominator > 0, result, 0.0)


def shuffled_baseline(activations: np.ndarray, mask: np.ndarray, shuffles: int = SHUFFLES,
                      seed: int = 0) -> dict[str, float]:
    """The best unit's |correlation| with circularly shifted masks: mean and 95th percentile over the shifts."""
    rng = np.random.default_rng(seed)
    positions = len(mask)
    shifts = rng.integers(1, positions, size=shuffles) if positions > 1 else np.zeros(0, dtype=int)
    if not len(shifts):
        return {"mean": 0.0, "p95": 0.0, "shuffles": 0}
    # every shift at once, as one matrix product (the page redraws this on each rerun): a shifted mask keeps
    # its mean and its norm, so only the numerator changes; rolled[k, i] = np.roll(mask, shifts[k])[i]
    target = mask - mask.mean()
    rolled = target[(np.arange(positions)[None, :] - shifts[:, None]) % positions]
    centred = activations - activations.mean(axis=1, keepdims=True)
    denominator = np.sqrt((centred ** 2).sum(axis=1) * (target ** 2).sum())[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        shifted = np.where(denominator > 0, (centred @ rolled.T) / denominator, 0.0)  # (units, shifts)
    best = np.abs(shifted).max(axis=0)
    return {"mean": float(np.mean(best)), "p95": float(np.percentile(best, 95)), "shuffles": len(best)}


@dataclass
class UnitScore:
    core: str  # the core's module path ("core", "decoder")
    part: str  # "h", "c", or a gate
    layer: int
    unit: int
    correlation: float

    def to_dict(self) -> dict:
        return {"core": self.core, "part": self.part, "layer": self.layer, "unit": self.unit,
                "correlation": round(self.correlation, 4)}


def rank_units(traces: dict[str, dict[str, np.ndarray]], mask: np.ndarray, core: str,
               parts: list[str] | None = None) -> tuple[list[UnitScore], dict[str, float]]:
    """Every unit of `core` (its `parts`, all of them by default) ranked by |correlation| with `mask`, and the
    shuffled baseline of the best one among them."""
    if mask.min() == mask.max():
        raise DataError("the pattern covers every character or none of them: nothing to correlate with")
    chosen = parts or list(traces[core])
    rows, labels = [], []
    for part in chosen:
        values = np.asarray(traces[core][part], dtype=np.float64)  # (layers, units, positions)
        if values.shape[-1] != len(mask):
            raise DataError(f"the pattern has {len(mask)} positions but the {core} read {values.shape[-1]}")
        for layer in range(values.shape[0]):
            rows.append(values[layer])
            labels += [(part, layer, unit) for unit in range(values.shape[1])]
    matrix = np.nan_to_num(np.concatenate(rows), nan=0.0, posinf=0.0, neginf=0.0)
    scores = correlations(matrix, mask)
    order = np.argsort(-np.abs(scores), kind="stable")
    ranked = [UnitScore(core, *labels[i], float(scores[i])) for i in order]
    return ranked, shuffled_baseline(matrix, mask)
