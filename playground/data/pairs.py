"""Generated translation datasets: human dates to ISO 8601, number words to digits, reverse and sort toys.

Every dataset draws *items* (a date, a number, a string) and renders each as a (source, target) pair.
An item is held out when a seeded hash of it falls below `val_fraction`, so the held-out set is
disjoint from training by meaning, not only by spelling: a test date is never seen in any format.
The same seed gives the same pairs on every machine (Python's `random.Random` and SHA-256 only).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass
from typing import Callable

from .errors import DataError

Pair = tuple[str, str]  # (source text, target text)


# -- dates -------------------------------------------------------------------------------------
FIRST_DAY, LAST_DAY = dt.date(1950, 1, 1), dt.date(2049, 12, 31)  # two-digit years are unambiguous here
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, ... 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# Numeric formats are day first ("3/03/98" is 3 March). {wd}/{mon} are names, {Wd}/{Mon} capitalised.
DATE_FORMATS = [
    "{wd} {d} {month} {yyyy}",  # tuesday 3 march 1998
    "{d}/{mm}/{yy}",  # 3/03/98
    "{Month} {dth}, {yyyy}",  # March 3rd, 1998
    "{d} {mon} {yyyy}",  # 3 mar 1998
    "{dd}.{mm}.{yyyy}",  # 03.03.1998
    "{dth} of {month} {yyyy}",  # 3rd of march 1998
    "{Wd}, {d} {Mon} {yyyy}",  # Tue, 3 Mar 1998
    "{d} {month} {yy}",  # 3 march 98
    "{dd}/{mm}/{yyyy}",  # 03/03/1998
    "{wd}, {month} {d}, {yyyy}",  # tuesday, march 3, 1998
    "{d}-{mon}-{yy}",  # 3-mar-98
    "the {dth} of {Month} {yyyy}",  # the 3rd of March 1998
    "{Month} {d} {yyyy}",  # March 3 1998
    "{d}.{m}.{yy}",  # 3.3.98
]


def render_date(day: dt.date, fmt: str, rng: random.Random) -> str:
    month, weekday = MONTHS[day.month - 1], WEEKDAYS[day.weekday()]
    if rng.random() < 0.5:  # half the word forms capitalised, as people write them
        month, weekday = month.capitalize(), weekday.capitalize()
    fields = {
        "d": day.day, "dd": f"{day.day:02d}", "dth": ordinal(day.day), "m": day.month, "mm": f"{day.month:02d}",
        "yy": f"{day.year % 100:02d}", "yyyy": day.year, "month": month, "Month": month.capitalize(),
        "mon": month[:3], "Mon": month[:3].capitalize(), "wd": weekday, "Wd": weekday[:3].capitalize(),
    }
    return fmt.format(**fields)


def date_item(rng: random.Random) -> dt.date:
    return FIRST_DAY + dt.timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days + 1))


def date_pair(day: dt.date, rng: random.Random) -> Pair:
    return render_date(day, rng.choice(DATE_FORMATS), rng), day.isoformat()


# -- numbers -----------------------------------------------------------------------------------
UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
MAX_NUMBER = 999_999


def number_words(n: int, british_and: bool = True, hyphen: bool = True) -> str:
    """English words for 0 <= n <= 999,999: 312 -> 'three hundred and twelve' (British 'and' optional)."""
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"{n} is outside 0..{MAX_NUMBER}")
    if n == 0:
        return "zero"

    def below_thousand(k: int, lead: bool) -> list[str]:
        words = []
        hundreds, rest = divmod(k, 100)
        if hundreds:
            words += [UNITS[hundreds], "hundred"]
        if rest:
            if british_and and (hundreds or not lead):
                words.append("and")
            if rest < 20:
                words.append(UNITS[rest])
            else:
                tens, units = divmod(rest, 10)
                words.append(TENS[tens] + ("-" if hyphen else " ") + UNITS[units] if units else TENS[tens])
        return words

    thousands, rest = divmod(n, 1000)
    words = below_thousand(thousands, lead=True) + ["thousand"] if thousands else []
    if rest:
        # "one thousand and five": 'and' before a last group below 100 only when a thousand group precedes it
        words += below_thousand(rest, lead=not thousands or rest >= 100)
    return " ".join(words)


def number_item(rng: random.Random) -> int:
    """Digit counts equally likely (1 to 6 digits), so small numbers are not drowned by big ones."""
    digits = rng.randint(1, 6)
    return rng.randint(0 if digits == 1 else 10 ** (digits - 1), 10 ** digits - 1)


def number_pair(n: int, rng: random.Random) -> Pair:
    return number_words(n, british_and=rng.random() < 0.5, hyphen=rng.random() < 0.5), str(n)


# -- reverse / sort toys -----------------------------------------------------------------------
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def letters_item(rng: random.Random) -> str:
    return "".join(rng.choice(LETTERS) for _ in range(rng.randint(3, 10)))


# -- registry ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PairDataset:
    name: str  # the name used in configs and on the command line
    title: str  # a short human title
    description: str  # one sentence for the Data page
    draw: Callable[[random.Random], object]  # one random item (a date, a number, a string)
    render: Callable[[object, random.Random], Pair]  # the item as (source, target), in a random surface form
    tokenization: tuple[str, str]  # the natural (source, target) token levels: char | word
    examples: tuple[Pair, ...]  # fixed examples for the Data page
    # what an item means, the key of the held-out split: items that mean the same (two strings with the same
    # letters, for sort) must fall on the same side, so no held-out target is ever trained on
    meaning: Callable[[object], object] = lambda item: item


GENERATED = {
    d.name: d for d in (
        PairDataset("dates", "Dates to ISO 8601", "Human-written dates in 14 formats ('tuesday 3 march 1998', "
                    "'3/03/98', 'March 3rd, 1998') into ISO 8601 ('1998-03-03').", date_item, date_pair,
                    ("char", "char"), (("tuesday 3 march 1998", "1998-03-03"), ("3/03/98", "1998-03-03"),
                                       ("March 3rd, 1998", "1998-03-03"))),
        PairDataset("numbers", "Number words to digits", "English number words up to 999,999 into digits "
                    "('three hundred and twelve' into '312').", number_item, number_pair, ("word", "char"),
                    (("three hundred and twelve", "312"), ("forty-two thousand and five", "42005"))),
        PairDataset("reverse", "Reverse", "A random string of 3-10 letters into the same letters reversed: "
                    "checks the machinery (attention learns an anti-diagonal).", letters_item,
                    lambda s, rng: (s, s[::-1]), ("char", "char"), (("abcde", "edcba"),)),
        PairDataset("sort", "Sort", "A random string of 3-10 letters into its letters in alphabetical order.",
                    letters_item, lambda s, rng: (s, "".join(sorted(s))), ("char", "char"), (("dbca", "abcd"),),
                    meaning=lambda s: "".join(sorted(s))),  # the multiset of letters: every order sorts the same
    )
}


def held_out(item: object, seed: int, fraction: float) -> bool:
    """Whether `item` belongs to the held-out set: a seeded hash, stable across machines and runs."""
    digest = hashlib.sha256(f"{seed}:{item}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64 < fraction


def generate(name: str, total: int, seed: int = 0, val_fraction: float = 0.1) -> tuple[list[Pair], list[Pair]]:
    """(train pairs, held-out pairs) of the generated dataset `name`: about `total` pairs, a
    `val_fraction` share of them held out. Held-out pairs are distinct; their items never occur in training."""
    if name not in GENERATED:
        raise DataError(f"unknown generated dataset {name!r}; available: {', '.join(GENERATED)}")
    dataset = GENERATED[name]
    rng = random.Random(f"{name}:{seed}")
    n_test = max(1, round(total * val_fraction))
    train: list[Pair] = []
    test: dict[str, Pair] = {}  # by source: the held-out set has no duplicates
    attempts, limit = 0, 50 * total
    while (len(train) < total - n_test or len(test) < n_test) and attempts < limit:
        attempts += 1
        item = dataset.draw(rng)
        pair = dataset.render(item, rng)
        if held_out(dataset.meaning(item), seed, val_fraction):
            if len(test) < n_test:
                test.setdefault(pair[0], pair)
        elif len(train) < total - n_test:
            train.append(pair)
    if len(test) < n_test:
        raise DataError(f"the {name} dataset cannot provide {n_test} distinct held-out pairs; ask for fewer pairs")
    return train, list(test.values())
