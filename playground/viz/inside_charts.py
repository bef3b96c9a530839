"""Figures of the inside of a model: units over a text, a unit coloured on the text, eigenvalues on the unit circle,
and a decoder's attention over training. Plain data in, plotly figures out.

Text a user typed reaches plotly as labels, and plotly reads a few HTML tags in labels: every label goes through
`plotly_text`, which writes < > & as entities, so a typed "<b>" shows as itself.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from .charts import AXIS, FONT, Spec, color, empty_figure
from .layout import plotly_text
from .seq2seq_charts import visible_token

DIVERGING = "RdBu_r"  # a state: negative blue, positive red, 0 white (Karpathy's figures use the same idea)
GATE = "Greens"  # a gate: 0 (shut) to 1 (open)
ROW_PIXELS = 22


def label(token: str) -> str:
    return plotly_text(visible_token(token))


def _scale(gate: bool) -> dict:
    return {"colorscale": GATE, "zmin": 0.0, "zmax": 1.0} if gate else {"colorscale": DIVERGING, "zmid": 0.0}


def units_heatmap(tokens: Sequence[str], values: np.ndarray, units: Sequence[int], title: str,
                  gate: bool = False) -> go.Figure:
    """Chosen units (rows) over the positions (columns), the tokens along the bottom."""
    z = np.asarray(values, dtype=float)  # (units, positions)
    if z.size == 0:
        return empty_figure(title, "no units chosen")
    xs = np.arange(z.shape[1])
    ticks = [label(t) for t in tokens]
    step = max(1, math.ceil(len(ticks) / 120))  # at most ~120 labels: denser ones overlap
    trace = go.Heatmap(z=z, x=xs, y=[f"unit {u}" for u in units], customdata=[ticks] * len(units), xgap=0, ygap=1,
                       hovertemplate="%{y} at %{x}: %{customdata}<br>%{z:.3f}<extra></extra>",
                       colorbar={"title": {"text": "gate" if gate else "activation", "side": "right"}, "thickness": 12},
                       **_scale(gate))
    layout = {"title": {"text": title, "x": 0, "font": {**FONT, "size": 14}}, "font": FONT, "plot_bgcolor": "white",
              "paper_bgcolor": "white", "height": max(220, 110 + ROW_PIXELS * len(units)), "hovermode": "closest",
              "margin": {"l": 10, "r": 10, "t": 46, "b": 40},
              "xaxis": {**AXIS, "showgrid": False, "tickvals": list(xs[::step]), "ticktext": ticks[::step],
                        "tickangle": 0, "title": {"text": "position (the token read there)"}},
              "yaxis": {**AXIS, "showgrid": False, "autorange": "reversed", "type": "category"}}
    return go.Figure(data=[trace], layout=layout)


def _wrap(tokens: Sequence[str], width: int) -> list[list[int]]:
    """Positions laid out in lines as the text is: a new line after each newline and every `width` tokens."""
    lines, line = [], []
    for position, token in enumerate(tokens):
        line.append(position)
        if token == "\n" or len(line) == width:
            lines.append(line)
            line = []
    if line:
        lines.append(line)
    return lines


def text_heatmap(tokens: Sequence[str], values: Sequence[float], title: str, gate: bool = False,
                 width: int = 80, mask: Sequence[float] | None = None) -> go.Figure:
    """One unit on the text, as in Karpathy's figures: each character on a cell coloured by the unit's value there.
    `mask` (1 where a pattern holds) underlines those characters."""
    values = np.asarray(values, dtype=float)
    lines = _wrap(tokens, width)
    columns = max((len(line) for line in lines), default=1)
    z = np.full((len(lines), columns), np.nan)
    text = [[""] * columns for _ in lines]
    for row, line in enumerate(lines):
        for column, position in enumerate(line):
            z[row, column] = values[position]
            token = tokens[position]
            shown = label(token) if token in ("\n", "\t") else plotly_text(token)
            text[row][column] = f"<u>{shown}</u>" if mask is not None and mask[position] else shown
    if values.size and not gate:
        bound = float(np.nanmax(np.abs(values))) or 1.0
        scale = {"colorscale": DIVERGING, "zmin": -bound, "zmax": bound}
    else:
        scale = _scale(gate)
    trace = go.Heatmap(z=z, text=text, texttemplate="%{text}", textfont={"family": "monospace", "size": 12},
                       hovertemplate="%{text}: %{z:.3f}<extra></extra>", xgap=0, ygap=2, showscale=True,
                       colorbar={"thickness": 10, "len": 0.9}, **scale)
    layout = {"title": {"text": title, "x": 0, "font": {**FONT, "size": 14}}, "font": FONT, "plot_bgcolor": "white",
              "paper_bgcolor": "white", "height": 70 + ROW_PIXELS * len(lines), "hovermode": "closest",
              "margin": {"l": 4, "r": 4, "t": 40, "b": 4},
              "xaxis": {"visible": False, "range": [-0.5, columns - 0.5]},
              "yaxis": {"visible": False, "autorange": "reversed"}}
    return go.Figure(data=[trace], layout=layout)


def eigenvalue_plane(groups: dict[str, Sequence[Sequence[float]]], title: str, revision: str | None = None) -> go.Figure:
    """Eigenvalues ([re, im] pairs per named group) on the complex plane, with the unit circle."""
    if not any(len(pairs) for pairs in groups.values()):
        return empty_figure(title, "no eigenvalues recorded at this step")
    spec = Spec(title, "real part", "imaginary part", revision=revision, height=420)
    angle = np.linspace(0, 2 * math.pi, 181)
    spec.trace(x=np.cos(angle), y=np.sin(angle), mode="lines", name="unit circle", hoverinfo="skip",
               line={"color": "#888", "dash": "dash", "width": 1})
    reach = 1.05
    for i, (name, pairs) in enumerate(groups.items()):
        points = np.asarray(pairs, dtype=float).reshape(-1, 2)
        finite = points[np.isfinite(points).all(axis=1)]
        if finite.size:
            reach = max(reach, float(np.abs(finite).max()) * 1.05)
        spec.trace(x=finite[:, 0], y=finite[:, 1], mode="markers", name=plotly_text(name),
                   marker={"color": color(i), "size": 6, "opacity": 0.75},
                   hovertemplate="%{x:.3f} %{y:+.3f}i<extra>" + plotly_text(name) + "</extra>")
    spec.layout["hovermode"] = "closest"
    spec.layout["xaxis"].update(range=[-reach, reach], zeroline=True, zerolinecolor="#ddd")
    spec.layout["yaxis"].update(range=[-reach, reach], zeroline=True, zerolinecolor="#ddd", scaleanchor="x",
                                scaleratio=1)
    return spec.figure()


def attention_over_training(steps: Sequence[int], entropy: Sequence[float], uniform: Sequence[float],
                            monotonicity: Sequence[float | None], revision: str | None = None) -> go.Figure:
    """Attention entropy (nats, with its ceiling: weights spread evenly) and, where it applies, monotonicity."""
    title = "Attention at each evaluation"
    if not len(steps):
        return empty_figure(title, "no attention recorded yet: the first evaluation brings it")
    spec = Spec(title, "training step", "entropy of a row (nats)", revision=revision)
    x = np.asarray(steps, dtype=float)
    spec.trace(x=x, y=np.asarray(entropy, dtype=float), name="entropy", mode="lines+markers",
               line={"color": color(0), "width": 2})
    spec.trace(x=x, y=np.asarray(uniform, dtype=float), name="even spread (ceiling)", mode="lines",
               line={"color": "#888", "dash": "dash", "width": 1})
    shares = np.asarray([math.nan if m is None else m for m in monotonicity], dtype=float)
    if np.isfinite(shares).any():
        spec.trace(x=x, y=shares, name="monotonicity (right axis)", mode="lines+markers", yaxis="y2",
                   line={"color": color(1), "width": 2})
        spec.layout["yaxis2"] = {**AXIS, "overlaying": "y", "side": "right", "range": [0, 1.05], "showgrid": False,
                                 "tickmode": "linear", "tick0": 0, "dtick": 0.25, "tickformat": ".0%",
                                 "title": {"text": "share of steps whose peak moves forward"}}
    return spec.figure()
