"""Time series for forecasting: real ones shipped inside statsmodels, generated ones, and uploads.

Built-in (no network: statsmodels ships these files in its wheel):
    sunspots      yearly sunspot numbers, 1700-2008 (309 values)
    co2           weekly atmospheric CO2 at Mauna Loa, 1958-2001 (2,284 values; its 59 missing weeks are
                  filled by linear interpolation, and the description says so); season 52 weeks
    elnino        monthly sea surface temperature of the El Nino region, 1950-2010 (732 values); season 12
    nile          yearly flow of the Nile at Aswan, 1871-1970 (100 values)
Generated:
    mackey-glass  the Mackey-Glass delay equation with tau 17 (the echo state network's classic
                  benchmark, Jaeger 2001), integrated with steps of 0.1 and sampled every 3 time units
    sines         two sines (periods 16 and 48) plus Gaussian noise; season 48

Uploads: a CSV (or one value a line) whose last column holds the values, with an optional first
column of dates; checked on the server like every upload (non-numeric cells, gaps, dates out of
order, too short: the line is named), and kept as datasets/series/NAME.csv.
"""
from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from .. import atomic
from ..paths import datasets_dir
from .errors import DataError
from .pair_files import decode_pairs_bytes
from .text import DEFAULT_MAX_BYTES

MIN_POINTS = 30  # an upload needs at least this many values: a window, a horizon and a held-out tail
MAX_POINTS = 200_000


@dataclass(frozen=True)
class Series:
    name: str  # what TaskConfig.dataset holds
    title: str
    values: np.ndarray  # float64, finite, in time order
    season: int | None = None  # the seasonal period in steps (None: no fixed season)
    dates: tuple[str, ...] = ()  # one label per value, when the source has them
    source: str = "built-in"  # built-in | generated | uploaded
    note: str = ""  # what was done to the data (filled gaps, sampling)


def _statsmodels(loader: str, column: str) -> np.ndarray:
    from statsmodels import datasets  # imported here: statsmodels takes a second to import

    return getattr(datasets, loader).load_pandas().data[column].to_numpy(dtype=float)


def sunspots() -> Series:
    years = _statsmodels("sunspots", "YEAR").astype(int)
    return Series("sunspots", "Yearly sunspot numbers, 1700-2008 (statsmodels)", _statsmodels("sunspots", "SUNACTIVITY"),
                  dates=tuple(str(y) for y in years))


def co2() -> Series:
    from statsmodels import datasets

    frame = datasets.co2.load_pandas().data["co2"]
    missing = int(frame.isna().sum())
    values = frame.interpolate(limit_direction="both").to_numpy(dtype=float)
    return Series("co2", "Weekly CO2 at Mauna Loa, 1958-2001 (statsmodels)", values, season=52,
                  dates=tuple(str(d.date()) for d in frame.index),
                  note=f"{missing} missing weeks filled by linear interpolation")


def elnino() -> Series:
    from statsmodels import datasets

    frame = datasets.elnino.load_pandas().data
    months = frame.columns[1:]
    values = frame[months].to_numpy(dtype=float).reshape(-1)  # row = year, columns = months
    dates = tuple(f"{int(year)}-{m + 1:02d}" for year in frame["YEAR"] for m in range(len(months)))
    return Series("elnino", "Monthly El Nino sea surface temperature, 1950-2010 (statsmodels)", values, season=12,
                  dates=dates)


def nile() -> Series:
    years = _statsmodels("nile", "year").astype(int)
    return Series("nile", "Yearly flow of the Nile at Aswan, 1871-1970 (statsmodels)", _statsmodels("nile", "volume"),
                  dates=tuple(str(y) for y in years))


def mackey_glass(points: int = 1500, tau: float = 17.0, dt: float = 0.1, every: float = 3.0,
                 beta: float = 0.2, gamma: float = 0.1, power: int = 10, transient: int = 300) -> Series:
    """dx/dt = beta x(t - tau) / (1 + x(t - tau)^power) - gamma x(t), Euler steps of dt, sampled every `every`."""
    lag, stride = round(tau / dt), round(every / dt)
    total = (points + transient) * stride + lag
    x = np.empty(total)
    x[: lag + 1] = 1.2  # a constant history: the usual start
    for i in range(lag, total - 1):
        delayed = x[i - lag]
        x[i + 1] = x[i] + dt * (beta * delayed / (1.0 + delayed ** power) - gamma * x[i])
    sampled = x[lag + transient * stride:: stride][:points]
    return Series("mackey-glass", "Mackey-Glass delay equation, tau 17 (generated)", sampled, source="generated",
                  note=f"Euler steps of {dt:g}, sampled every {every:g} time units")


def sines(points: int = 960, noise: float = 0.2, seed: int = 0) -> Series:
    t = np.arange(points)
    rng = np.random.default_rng(seed)
    values = np.sin(2 * np.pi * t / 16) + 0.5 * np.sin(2 * np.pi * t / 48) + noise * rng.standard_normal(points)
    return Series("sines", "Two sines (periods 16 and 48) plus noise (generated)", values, season=48, source="generated",
                  note=f"Gaussian noise of standard deviation {noise:g}")


BUILTIN: dict[str, Callable[[], Series]] = {"sunspots": sunspots, "co2": co2, "elnino": elnino, "nile": nile,
                                            "mackey-glass": mackey_glass, "sines": sines}


# -- uploads ------------------------------------------------------------------------------------------------
def uploads_dir() -> Path:
    path = datasets_dir() / "series"
    path.mkdir(parents=True, exist_ok=True)
    return path


def uploaded_names() -> list[str]:
    return sorted(path.stem for path in uploads_dir().glob("*.csv"))


def series_choices() -> list[str]:
    """Every series the forecast task can train on: built-in first, then uploads."""
    return list(BUILTIN) + [n for n in uploaded_names() if n not in BUILTIN]


def _number(cell: str) -> float | None:
    try:
        value = float(cell.strip().replace("_", "x"))  # '1_000' is not a number in a data file
    except ValueError:
        return None
    return value


def parse_series(text: str, name: str = "the file") -> tuple[np.ndarray, tuple[str, ...]]:
    """(values, date labels or ()) from a CSV's lines: the last column holds the values, an optional first
    column the dates (or any labels, in time order). A first line whose value is not a number is a header.
    DataError, naming the line, for a non-numeric or non-finite value, an empty one (a gap), a ragged line,
    a date that cannot be read or comes before the one above it, and for too few values."""
    delimiter = "\t" if "\t" in text.split("\n", 1)[0] else ("," if "," in text or name.lower().endswith(".csv") else ";")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    values, labels, width = [], [], None
    try:
        for number, row in enumerate(reader, 1):
            if not any(cell.strip() for cell in row):
                continue
            if width is None:
                width = len(row)
                if width > 2:
                    raise DataError(f"line {number} of {name} has {width} columns: keep a value column and at most a "
                                    "date column before it.")
                if _number(row[-1]) is None and row[-1].strip():  # a header: "date,value"
                    continue
            elif len(row) != width:
                raise DataError(f"line {number} of {name} has {len(row)} columns but the first line has {width}: "
                                "every line needs the same columns.")
            cell = row[-1].strip()
            if not cell:
                raise DataError(f"line {number} of {name} has no value (a gap): fill it in or remove the line.")
            value = _number(cell)
            if value is None:
                raise DataError(f"line {number} of {name} has {cell[:30]!r} where a number should be.")
            if not math.isfinite(value):
                raise DataError(f"line {number} of {name} has {cell[:30]!r}: values must be finite numbers.")
            values.append(value)
            labels.append((number, row[0].strip()) if width == 2 else None)
    except csv.Error as exc:
        raise DataError(f"{name} is not valid CSV near line {reader.line_num}: {exc}.") from None
    if len(values) < MIN_POINTS:
        raise DataError(f"{name} has {len(values)} values; a forecast needs at least {MIN_POINTS} (a window of past "
                        "values, a horizon and a held-out tail).")
    if len(values) > MAX_POINTS:
        raise DataError(f"{name} has {len(values):,} values; the limit is {MAX_POINTS:,}.")
    return np.asarray(values, dtype=float), _checked_dates([label for label in labels if label is not None], name)


def _checked_dates(labels: list[tuple[int, str]], name: str) -> tuple[str, ...]:
    """Dates in time order, or a DataError naming the first line that cannot be read or goes back in time."""
    if not labels:
        return ()
    import pandas as pd

    previous = None
    for number, label in labels:
        if not label:
            raise DataError(f"line {number} of {name} has no date: fill it in or remove the date column.")
        try:
            when = pd.Timestamp(label)
        except (ValueError, TypeError, OverflowError):
            raise DataError(f"line {number} of {name} has {label[:30]!r} where a date should be "
                            "(2001-03-15, 2001-03 or 2001).") from None
        if previous is not None and not when > previous:
            raise DataError(f"line {number} of {name} has the date {label[:30]!r}, not after the line above: rows "
                            "must be in time order, one value per date.")
        previous = when
    return tuple(label for _, label in labels)


def save_upload(raw: bytes, filename: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Series:
    """Validate an uploaded series and keep it as datasets/series/NAME.csv; returns it with its final name."""
    values, dates = parse_series(decode_pairs_bytes(raw, filename, max_bytes), filename)
    stem = re.sub(r"[^a-z0-9_-]+", "-", Path(filename).stem.lower()).strip("-_")[:40] or "series"
    name, n = stem, 2
    while name in BUILTIN or (uploads_dir() / f"{name}.csv").exists():
        name, n = f"{stem}-{n}", n + 1
    lines = [f"{date},{float(v)!r}" for date, v in zip(dates, values)] if dates else [repr(float(v)) for v in values]
    try:
        atomic.write_text(uploads_dir() / f"{name}.csv", "\n".join(lines) + "\n")
    except atomic.DiskFullError as exc:
        raise DataError(f"{filename} was not saved: {exc.strerror}") from None
    return Series(name, f"uploaded: {filename}", values, dates=dates, source="uploaded")


def delete_upload(name: str) -> None:
    if name not in uploaded_names():
        raise DataError(f"there is no uploaded series called {name!r}")
    (uploads_dir() / f"{name}.csv").unlink()


def load_series(name: str) -> Series:
    """A built-in or generated series, or an upload (checked again: the file may have been edited)."""
    if name in BUILTIN:
        return _builtin(name)
    path = uploads_dir() / f"{name}.csv"
    if name in uploaded_names():
        values, dates = parse_series(decode_pairs_bytes(path.read_bytes(), path.name), path.name)
        return Series(name, f"uploaded: {name}", values, dates=dates, source="uploaded")
    raise DataError(f"unknown series {name!r}; available: {', '.join(series_choices())}")


@lru_cache(maxsize=None)
def _builtin(name: str) -> Series:
    return BUILTIN[name]()
