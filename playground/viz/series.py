"""Plain numeric series for charts: non-finite values as gaps, and downsampling that keeps spikes.

A live chart of a long run must stay light (about 2,000 points) without hiding what matters
here: a gradient-norm spike or the step where the loss became NaN.
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

MAX_POINTS = 2000


def as_array(values: Iterable) -> np.ndarray:
    """float64 array with None, NaN and +-inf all turned into NaN (a gap in a plotly line)."""
    out = np.array([np.nan if v is None else v for v in values], dtype=float)
    out[~np.isfinite(out)] = np.nan
    return out


def downsample_indices(y: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices of at most ~max_points samples of `y` that keep its shape.

    Splits the series into buckets and keeps each bucket's first point, its minimum and maximum
    (so spikes survive) and its first NaN (so a gap stays a gap); plus the very last point.
    """
    n = len(y)
    if n <= max_points:
        return np.arange(n)
    buckets = max(1, max_points // 3)
    edges = np.linspace(0, n, buckets + 1).astype(int)
    keep = [n - 1]
    for lo, hi in zip(edges[:-1], edges[1:]):
        if hi <= lo:
            continue
        chunk = y[lo:hi]
        keep.append(lo)
        finite = np.isfinite(chunk)
        if finite.any():
            masked = np.where(finite, chunk, np.nan)
            keep.append(lo + int(np.nanargmin(masked)))
            keep.append(lo + int(np.nanargmax(masked)))
        if not finite.all():
            keep.append(lo + int(np.argmin(finite)))
    return np.unique(np.array(keep))


def downsample(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    index = downsample_indices(y, max_points)
    return x[index], y[index]


def smooth(y: np.ndarray, weight: float = 0.9) -> np.ndarray:
    """Exponential moving average that skips gaps and corrects the start-up bias (as TensorBoard does)."""
    out = np.full_like(y, np.nan)
    average, count = 0.0, 0
    for i, value in enumerate(y):
        if not math.isfinite(value):
            continue
        average = weight * average + (1 - weight) * value
        count += 1
        out[i] = average / (1 - weight**count)
    return out


def robust_upper(y: np.ndarray, head: int = 3, quantile: float = 0.95) -> float | None:
    """An upper axis limit that a final explosion does not flatten everything under: the larger of
    the first values (where a loss usually peaks) and, on longer series, the 95th percentile.
    None when nothing sticks out (let the chart scale itself)."""
    finite = y[np.isfinite(y)]
    if finite.size == 0:
        return None
    top = float(finite[:head].max())
    if finite.size >= 40:
        top = max(top, float(np.quantile(finite, quantile)))
    return top * 1.08 if top > 0 and finite.max() > top * 1.08 else None


def shared_top(series: list[np.ndarray], outlier: float = 20.0) -> tuple[float | None, list[int]]:
    """An upper limit for several runs on one axis, and the indices of the runs that go above it. Each run's
    top is its `robust_upper` (or its largest value); a run whose top is over `outlier` times the median of
    the others' (a diverged run at 10^8 among losses near 3) is left above the axis, so the rest stay legible.
    (None, []) when nothing needs cutting."""
    robust = [robust_upper(y) for y in series]
    tops = []
    for y, upper in zip(series, robust):
        finite = y[np.isfinite(y)]
        tops.append(upper or (float(finite.max()) if finite.size else None))
    known = [t for t in tops if t is not None and t > 0]
    if not known:
        return None, []
    reference = float(np.median(known))
    kept = [t for t in known if t <= outlier * reference]
    above = [i for i, t in enumerate(tops) if t is not None and t > outlier * reference]
    cut = any(upper is not None for upper in robust) or above
    return (max(kept) * 1.08 if cut and kept else None), above
