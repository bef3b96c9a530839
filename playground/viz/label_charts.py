"""Figures for models that label: a classifier's confusion matrix and class probabilities, how its
prediction evolves as it reads a text, and a tagger's probability per character. Plain data in."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from .charts import AXIS, FONT, color
from .seq2seq_charts import visible_token


def _layout(title: str, height: int, **axes) -> dict:
    return {"title": {"text": title, "x": 0, "xanchor": "left", "font": {**FONT, "size": 15, "weight": "bold"}},
            "font": FONT, "plot_bgcolor": "white", "paper_bgcolor": "white", "height": height,
            "margin": {"l": 10, "r": 10, "t": 56, "b": 10}, **axes}


def confusion_figure(classes: Sequence[str], counts: Sequence[Sequence[int]], title: str = "Confusion matrix",
                     revision: str | None = None) -> go.Figure:
    """Rows: the true class (first at the top); columns: the predicted one. Each cell shows its count, and its
    colour the share of that true class (so a rare class's mistakes show as clearly as a common one's)."""
    z = np.asarray(counts, dtype=float)
    if z.shape != (len(classes), len(classes)):
        raise ValueError(f"a confusion matrix of shape {z.shape} for {len(classes)} classes")
    shares = z / np.maximum(z.sum(axis=1, keepdims=True), 1)
    labels = [str(c) for c in classes]
    text = [[f"{int(v):,}" for v in row] for row in z]
    hover = [[f"true {labels[i]}, predicted {labels[j]}: {int(z[i, j]):,} ({shares[i, j]:.0%} of {labels[i]})"
              for j in range(len(labels))] for i in range(len(labels))]
    trace = go.Heatmap(x=labels, y=labels, z=shares, zmin=0, zmax=1, colorscale="Blues", text=text,
                       texttemplate="%{text}", customdata=hover, hovertemplate="%{customdata}<extra></extra>",
                       colorbar={"title": {"text": "share of the row", "side": "right"}, "thickness": 12,
                                 "tickformat": ".0%"}, xgap=1, ygap=1)
    size = max(300, 110 + 34 * len(labels))
    return go.Figure(data=[trace], layout=_layout(
        title, size, uirevision=revision or title,
        xaxis={**AXIS, "showgrid": False, "title": {"text": "predicted"}, "type": "category", "side": "bottom"},
        yaxis={**AXIS, "showgrid": False, "title": {"text": "true"}, "type": "category", "autorange": "reversed"}))


def class_probability_figure(classes: Sequence[str], probs: Sequence[float],
                             title: str = "Probability of each class") -> go.Figure:
    """Horizontal bars, likeliest on top."""
    order = np.argsort(-np.asarray(probs, dtype=float))
    names = [str(classes[i]) for i in order]
    values = [float(probs[i]) for i in order]
    trace = go.Bar(x=values, y=names, orientation="h", marker={"color": [color(int(i)) for i in order]},
                   text=[f"{v:.1%}" for v in values], textposition="outside", cliponaxis=False,
                   hovertemplate="%{y}: %{x:.1%}<extra></extra>")
    return go.Figure(data=[trace], layout=_layout(
        title, max(220, 80 + 28 * len(names)),
        xaxis={**AXIS, "range": [0, 1.15], "tickformat": ".0%", "title": {"text": "probability"}},
        yaxis={**AXIS, "showgrid": False, "type": "category", "autorange": "reversed"}))


def reading_figure(characters: Sequence[str], classes: Sequence[str], prefix_probs: Sequence[Sequence[float]],
                   title: str = "The prediction as the network reads") -> go.Figure:
    """One line per class: its probability after each character has been read (x: the characters in order).
    Only the classes that ever reach 5% are drawn, so eight languages do not tangle."""
    z = np.asarray(prefix_probs, dtype=float)
    if z.shape != (len(characters), len(classes)):
        raise ValueError(f"probabilities of shape {z.shape} for {len(characters)} characters x {len(classes)} classes")
    xs = list(range(len(characters)))
    ticks = [visible_token(c) for c in characters]
    traces = [go.Scatter(x=xs, y=z[:, k], mode="lines+markers", name=str(name), line={"color": color(k), "width": 2},
                         customdata=ticks, hovertemplate=f"{name} after %{{customdata}} (#%{{x}}): %{{y:.1%}}<extra></extra>")
              for k, name in enumerate(classes) if z[:, k].max() >= 0.05]
    return go.Figure(data=traces, layout=_layout(
        title, 330, hovermode="closest",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0},
        xaxis={**AXIS, "title": {"text": "characters read so far"}, "tickvals": xs, "ticktext": ticks, "tickangle": 0},
        yaxis={**AXIS, "range": [0, 1.02], "tickformat": ".0%", "title": {"text": "probability"}}))


def tag_probability_figure(characters: Sequence[str], probs: Sequence[float], tag: str,
                           title: str = "Each character's probability") -> go.Figure:
    """A bar per character: the probability of the tag (a space follows); the dashed line is the 50% decision."""
    xs = list(range(len(characters)))
    ticks = [visible_token(c) for c in characters]
    values = [float(p) for p in probs]
    trace = go.Bar(x=xs, y=values, marker={"color": ["#1f5fa0" if v > 0.5 else "#9ecae9" for v in values]},
                   customdata=ticks, hovertemplate=f"after %{{customdata}} (#%{{x}}): p({tag}) = %{{y:.1%}}<extra></extra>")
    layout = _layout(title, 300, hovermode="closest",
                     xaxis={**AXIS, "title": {"text": "characters"}, "tickvals": xs, "ticktext": ticks, "tickangle": 0},
                     yaxis={**AXIS, "range": [0, 1.02], "tickformat": ".0%", "title": {"text": f"p({tag})"}})
    layout["shapes"] = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 0.5, "y1": 0.5,
                         "line": {"color": "#d62728", "dash": "dash", "width": 1}}]
    return go.Figure(data=[trace], layout=layout)
