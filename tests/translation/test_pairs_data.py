"""Generated datasets: correct, reproducible by seed, held-out set disjoint from training."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from playground.data.errors import DataError
from playground.data.pairs import GENERATED, MONTHS, WEEKDAYS, generate, number_words, ordinal


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_same_seed_same_pairs_other_seed_other_pairs(name):
    assert generate(name, 400, seed=3) == generate(name, 400, seed=3)
    assert generate(name, 400, seed=3) != generate(name, 400, seed=4)


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_held_out_set_is_disjoint_from_training_by_meaning(name):
    train, test = generate(name, 2000, seed=0, val_fraction=0.1)
    assert len(train) == 1800 and len(test) == 200
    assert len({s for s, _ in test}) == len(test)  # no duplicates in the held-out set
    assert not {s for s, _ in test} & {s for s, _ in train}
    # the target is the meaning (a date, a number, the sorted letters): never trained on in any surface form
    assert not {t for _, t in test} & {t for _, t in train}


def parse_number_words(text: str) -> int:
    """An independent reading of English number words, to check the generator."""
    values = {w: i for i, w in enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                                          "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen",
                                          "sixteen", "seventeen", "eighteen", "nineteen"])}
    values.update({w: 10 * i for i, w in enumerate(["twenty", "thirty", "forty", "fifty", "sixty", "seventy",
                                                    "eighty", "ninety"], 2)})
    total = group = 0
    for word in text.replace("-", " ").split():
        if word == "and":
            continue
        if word == "hundred":
            group *= 100
        elif word == "thousand":
            total, group = total + group * 1000, 0
        else:
            group += values[word]
    return total + group


def test_number_words_read_back_to_their_digits():
    train, test = generate("numbers", 3000, seed=1)
    for source, target in train + test:
        assert parse_number_words(source) == int(target), source
    assert {len(t) for _, t in train} == {1, 2, 3, 4, 5, 6}  # every size of number is represented


@pytest.mark.parametrize("n,words", [
    (312, "three hundred and twelve"), (0, "zero"), (42005, "forty-two thousand and five"),
    (100, "one hundred"), (999999, "nine hundred and ninety-nine thousand nine hundred and ninety-nine"),
    (1010, "one thousand and ten"), (20, "twenty"),
])
def test_number_words_examples(n, words):
    assert number_words(n) == words
    assert number_words(n, british_and=False, hyphen=False) == words.replace(" and", "").replace("-", " ")


def test_ordinals():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "31st"]


def check_date(source: str, target: str) -> None:
    """Every field the source states agrees with the ISO target."""
    day = dt.date.fromisoformat(target)
    lower = source.lower()
    numbers = [int(n) for n in re.findall(r"\d+", source)]
    names = [m for m in MONTHS if m[:3] in re.findall(r"[a-z]+", lower) or m in lower.split()
             or m in re.findall(r"[a-z]+", lower)]
    if names:  # day, month name and year (2 or 4 digits)
        assert MONTHS.index(names[0]) + 1 == day.month, source
        assert day.day in numbers and (day.year in numbers or day.year % 100 in numbers), source
    else:  # numeric: day first
        d, m, y = numbers
        assert (d, m) == (day.day, day.month), source
        assert y == day.year or (y < 100 and (1900 + y if y >= 50 else 2000 + y) == day.year), source
    for weekday in WEEKDAYS:
        if weekday in lower or re.search(rf"\b{weekday[:3]}\b", lower):
            assert WEEKDAYS.index(weekday) == day.weekday(), source


def test_dates_are_correct_and_varied():
    train, test = generate("dates", 3000, seed=2)
    for source, target in train + test:
        check_date(source, target)
    assert len({re.sub(r"[A-Za-z]+", "W", re.sub(r"\d+", "9", s)) for s, _ in train}) >= 10  # many formats
    examples = {s for s, _ in GENERATED["dates"].examples}
    assert {"tuesday 3 march 1998", "3/03/98", "March 3rd, 1998"} == examples
    for source, target in GENERATED["dates"].examples:
        check_date(source, target)


def test_reverse_and_sort_targets():
    for source, target in sum(generate("reverse", 300), []):
        assert target == source[::-1]
    for source, target in sum(generate("sort", 300), []):
        assert target == "".join(sorted(source))


def test_unknown_dataset_is_a_data_error():
    with pytest.raises(DataError, match="available: dates, numbers, reverse, sort"):
        generate("klingon", 100)
