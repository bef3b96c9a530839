"""Step metrics packed per flush: one compressed block of typed columns instead of a JSON row a step.

A block's *layout* (column names and types) is the same for every flush of a run, so the store keeps
each layout once and a block names it by id. Columns:
  f  float64 (None and non-finite values as NaN, read back as None, as the JSON rows did)
  i  int64    b  bool    s  strings (a JSON list: compresses to almost nothing when constant)
  a  nested float dict (layer norms): one float64 column per key, the path joined by "/"
Whatever does not fit a typed column (a key missing from some records, lists, text samples) goes to a
per-record JSON "rest" column, so any record round-trips.
"""
from __future__ import annotations

import json
import math
import zlib

import numpy as np

REST = "\x00rest"  # the layout name of the leftovers column (no record key starts with NUL)
SEPARATOR = "/"


def finite(value):
    """JSON has no NaN or infinity: store them as null, so every reader can parse the data."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def _column_type(values: list):
    """The typed column these values fit, or None (they go to the rest column)."""
    if all(isinstance(v, bool) for v in values):
        return "b"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "i" if all(-2**63 <= v < 2**63 for v in values) else None
    if all(isinstance(v, float) or v is None for v in values) and any(isinstance(v, float) for v in values):
        return "f"
    if all(isinstance(v, str) for v in values):
        return "s"
    if all(isinstance(v, dict) and v for v in values):
        keys = list(values[0])
        if all(list(v) == keys and all(isinstance(x, float) or x is None for x in v.values()) for v in values) \
                and all(isinstance(k, str) and SEPARATOR not in k for k in keys):
            return "a:" + SEPARATOR.join(keys)
    return None


def pack(records: list[dict]) -> tuple[str, bytes]:
    """(layout as JSON, compressed block) for records of one kind."""
    keys = list(dict.fromkeys(k for r in records for k in r))
    layout, parts = [], []
    rest: list[dict] = [{} for _ in records]
    for key in keys:
        values = [r.get(key) for r in records]
        kind = _column_type(values) if all(key in r for r in records) else None
        if kind is None:
            for leftover, record in zip(rest, records):
                if key in record:
                    leftover[key] = record[key]
            continue
        layout.append([key, kind])
        if kind == "f":
            parts.append(np.array([np.nan if v is None else v for v in values], dtype="<f8").tobytes())
        elif kind == "i":
            parts.append(np.array(values, dtype="<i8").tobytes())
        elif kind == "b":
            parts.append(np.array(values, dtype=np.uint8).tobytes())
        elif kind == "s":
            parts.append(_json_part(values))
        else:
            names = kind[2:].split(SEPARATOR)
            grid = [[np.nan if v[name] is None else v[name] for name in names] for v in values]
            parts.append(np.array(grid, dtype="<f8").T.copy().tobytes())  # column by column: compresses better
    if any(rest):
        layout.append([REST, "j"])
        parts.append(_json_part([finite(r) for r in rest]))
    header = np.array([len(records), *(len(p) for p in parts)], dtype="<u4").tobytes()
    return json.dumps(layout), zlib.compress(header + b"".join(parts), 6)


def _json_part(values: list) -> bytes:
    return json.dumps(values, allow_nan=False, separators=(",", ":")).encode()


def _floats(data: bytes) -> list:
    array = np.frombuffer(data, dtype="<f8")
    return [None if not math.isfinite(x) else x for x in array.tolist()]


def unpack(layout_json: str, blob: bytes) -> list[dict]:
    """The records `pack` was given (non-finite floats as None, as the store always returned them)."""
    layout = json.loads(layout_json)
    raw = zlib.decompress(blob)
    count = int(np.frombuffer(raw[:4], dtype="<u4")[0])
    sizes = np.frombuffer(raw[4:4 + 4 * len(layout)], dtype="<u4").tolist()
    offset = 4 + 4 * len(layout)
    records: list[dict] = [{} for _ in range(count)]
    columns = []
    for (key, kind), size in zip(layout, sizes):
        data = raw[offset:offset + size]
        offset += size
        columns.append((key, kind, data))
    for key, kind, data in columns:
        if kind == "f":
            values = _floats(data)
        elif kind == "i":
            values = np.frombuffer(data, dtype="<i8").tolist()
        elif kind == "b":
            values = [bool(x) for x in data]
        elif kind in ("s", "j"):
            values = json.loads(data)
        else:
            names = kind[2:].split(SEPARATOR)
            flat = _floats(data)
            values = [{name: flat[j * count + i] for j, name in enumerate(names)} for i in range(count)]
        if key == REST:
            for record, leftover in zip(records, values):
                record.update(leftover)
        else:
            for record, value in zip(records, values):
                record[key] = value
    return records
