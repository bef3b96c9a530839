"""The shipped translators (`pretrained/dates`, `pretrained/numbers`): held-out quality and aligned attention."""
from __future__ import annotations

import datetime as dt
import random
import re

import pytest

from playground.config import RunConfig
from playground.runstore import checkpoint
from playground.data.pairs import DATE_FORMATS, MONTHS, render_date
from playground.paths import PRETRAINED_DIR
from playground.runstore.pretrained import RECIPES


@pytest.fixture(scope="module")
def dates():
    return checkpoint.load(PRETRAINED_DIR / "dates")


@pytest.fixture(scope="module")
def numbers():
    return checkpoint.load(PRETRAINED_DIR / "numbers")


@pytest.mark.parametrize("name", ["dates", "numbers"])
def test_shipped_checkpoints_are_small_and_regenerable(name):
    folder = PRETRAINED_DIR / name
    assert (folder / "model.pt").stat().st_size < 3_000_000
    assert (folder / "README.md").is_file()
    # `pretrain --only NAME` made it; read as any checkpoint is (fields added since then take their defaults)
    saved, recipe = RunConfig.from_dict(checkpoint.read_meta(folder)["config"]).to_dict(), RECIPES[name].to_dict()
    assert (saved["task"], saved["model"], saved["train"]["steps"]) == (recipe["task"], recipe["model"],
                                                                       recipe["train"]["steps"])


def test_date_model_exact_match_on_the_held_out_set(dates):
    metrics = dates.task.evaluate(dates.model, batch_size=256, seq_len=0)  # all 2,000 held-out pairs, greedy
    assert metrics["eval_pairs"] == 2000
    assert metrics["exact_match"] >= 0.95
    assert metrics["bleu"] >= 95


@pytest.mark.parametrize("text", ["tuesday 3 march 1998", "3/03/98", "March 3rd, 1998"])
def test_date_model_on_the_issues_examples(dates, text):
    assert dates.task.translate(dates.model, text)["output"] == "1998-03-03"


def date_fields(source: str) -> dict[str, tuple[int, int, int]]:
    """Each field's (start, end) span in the source and its number of digits (0 for a month name)."""
    numbers = [(m.start(), m.end(), len(m.group(1))) for m in re.finditer(r"(\d+)(?:st|nd|rd|th)?", source)]
    name = next((m for m in re.finditer(r"[A-Za-z]+", source) if m.group().lower()[:3] in [n[:3] for n in MONTHS]
                 and m.group().lower() in MONTHS + [n[:3] for n in MONTHS]), None)
    if name is not None:  # every format with a month name: the day is the number before the year
        return {"day": numbers[0], "month": (name.start(), name.end(), 0), "year": numbers[-1]}
    return {"day": numbers[0], "month": numbers[1], "year": numbers[2]}  # numeric formats are day first


def copied_digits(fields) -> dict[int, tuple[int, int]]:
    """Output position -> source span, for the ISO digits that come from a source token."""
    out = {}
    for field, positions in (("year", [0, 1, 2, 3]), ("month", [5, 6]), ("day", [8, 9])):
        start, end, digits = fields[field]
        # a two-digit year does not say its century; a one-digit day or month does not say its leading zero
        shown = positions if digits == 0 else positions[-digits:]
        for position in shown:
            out[position] = (start, end)
    return out


def test_date_attention_is_aligned_with_the_source_fields(dates):
    """Each output digit attends mostly to the input token it comes from: the year's digits to the
    year, the month's to the month (a name or a number), the day's to the day, in every format."""
    rng = random.Random(7)
    days = [dt.date.fromisoformat("".join(ref)) for ref in dates.task.splits()[1].references[:20]]  # held out
    hits = total = 0
    mass = []
    sources = [(day, render_date(day, fmt, rng)) for day in days for fmt in DATE_FORMATS]
    outputs = dates.task.translate_many(dates.model, [source for _, source in sources])
    for (day, source), out in zip(sources, outputs):
        assert out["output"] == day.isoformat(), source
        for position, (start, end) in copied_digits(date_fields(source)).items():
            row = out["attention"][position]
            top = max(range(len(row)), key=row.__getitem__)
            hits += start <= top < end
            total += 1
            mass.append(sum(row[start:end]))
    assert total > 20 * len(DATE_FORMATS) * 5
    # shipped model: 2001 of 2003 digits, with 0.92 of their weight on their field on average
    assert hits / total >= 0.95, f"only {hits}/{total} digits look at their own field"
    assert sum(mass) / len(mass) >= 0.8


def test_number_model_quality(numbers):
    metrics = numbers.task.evaluate(numbers.model, batch_size=256, seq_len=0)
    assert metrics["exact_match"] >= 0.95
    assert metrics["token_accuracy"] >= 0.97
    for text, digits in [("three hundred and twelve", "312"), ("forty-two thousand and five", "42005"),
                         ("nine hundred ninety nine thousand nine hundred ninety nine", "999999"), ("zero", "0")]:
        assert numbers.task.translate(numbers.model, text)["output"] == digits, text
