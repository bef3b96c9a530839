"""Layout rules every chart shares: the legend under the plot (never over the title), short legend labels
with the full name on hover, and readable ticks on log axes.

A legend above a plot ran into the title once there were three runs or a long name; below the plot,
in rows, it holds from 1 to 10 runs. The figure grows by the rows it needs, so the plot keeps its height.
"""
from __future__ import annotations

import math

import numpy as np

from .numbers import tick_label

LABEL_CHARS = 28  # a legend entry longer than this is cut with "…" (the hover shows it whole)
ROW_PX = 20  # one row of legend entries


def plotly_text(text: str) -> str:
    """`text` as typed in a plotly label: plotly reads <b>, <a href> and entities in names, titles and notes."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def short_label(name: str, limit: int = LABEL_CHARS) -> str:
    """A legend label: the whole name when it fits, else its start and end around an ellipsis."""
    name = str(name)
    if len(name) <= limit:
        return name
    keep = limit - 1
    head = math.ceil(keep * 0.6)
    return f"{name[:head]}…{name[-(keep - head):]}"


def wrap_title(title: str, width: int = 52) -> str:
    """A chart title in lines of at most ~`width` characters (plotly never wraps one; a two-column chart at
    900 px holds about 52 characters of the 15 px bold title)."""
    words, lines = str(title).split(" "), [""]
    for word in words:
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}" if lines[-1] else word
    return "<br>".join(lines)


def legend_columns(labels: list[str]) -> int:
    """Entries a legend row holds: each entry gets an equal share of the width (plotly's `entrywidth` as a
    fraction), so the rows are predictable at any width and no entry runs off the right edge."""
    longest = max((len(label) for label in labels), default=0)
    return 4 if longest <= 12 else 3 if longest <= 20 else 2


def legend_rows(labels: list[str]) -> int:
    return math.ceil(len(labels) / legend_columns(labels)) if labels else 0


def legend_below(layout: dict, labels: list[str], plot_height: int) -> None:
    """Put the legend under the x-axis title in `layout` and grow the figure by its rows."""
    columns = legend_columns(labels)
    extra = ROW_PX * legend_rows(labels) + 8
    layout["legend"] = {**layout.get("legend", {}), "orientation": "h", "x": 0, "xanchor": "left",
                        "yref": "container", "y": 0, "yanchor": "bottom", "valign": "top",
                        "entrywidthmode": "fraction", "entrywidth": 1 / columns - 0.005}
    layout["height"] = plot_height + extra
    layout["margin"] = {**layout.get("margin", {}), "b": 10 + extra}


MANTISSAS = ((1,), (1, 5), (1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9))


def log_ticks(low: float, high: float, most: int = 7) -> tuple[list[float], list[str]]:
    """Tick values and their labels for a log axis from `low` to `high` (both > 0): decades, and where the
    range is short their halves (5) and fifths (2), every label a whole number (0.5, not a bare "5").
    At least two labelled ticks; over many decades every k-th power of ten."""
    low, high = min(low, high), max(low, high)
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    decades = list(range(first, last + 1))
    if len(decades) - 1 > most:
        inside = [d for d in decades if low <= 10.0 ** d <= high]
        step = math.ceil((len(inside) - 1) / most) if len(inside) > 1 else 1
        values = [10.0 ** d for d in inside[::step]]
    else:
        values = []
        for mantissas in MANTISSAS:  # the coarsest set that labels at least three ticks
            values = [m * 10.0 ** d for d in decades for m in mantissas if low <= m * 10.0 ** d <= high]
            if len(values) >= 3:
                break
        if len(values) < 2:  # inside one small stretch of a decade: its ends, to 2 significant digits
            values = sorted({float(f"{low:.2g}"), float(f"{high:.2g}")})
    return values, [tick_label(v) for v in values]


def apply_log_ticks(axis: dict, values: list[np.ndarray]) -> None:
    """Set `axis`'s ticks from the positive finite values it will show."""
    arrays = [np.asarray(v, dtype=float).ravel() for v in values]
    finite = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in arrays]) if arrays else np.array([])
    if not finite.size:
        return
    ticks, labels = log_ticks(float(finite.min()), float(finite.max()))
    axis.update(tickmode="array", tickvals=ticks, ticktext=labels)
    axis.pop("dtick", None)
