"""Figures for sequence-to-sequence models: the attention map of one translation.

Tokens repeat ("0" twice in "1998-03-03"), so the axes are positions labelled with the tokens:
a categorical axis would merge equal tokens into one row or column.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from .charts import AXIS, FONT


def visible_token(token: str) -> str:
    """A token as an axis label: a space shows as ␣ (an empty label would hide it)."""
    return {" ": "␣", "\t": "⇥", "\n": "⏎"}.get(token, token)


def attention_heatmap(source_tokens: Sequence[str], output_tokens: Sequence[str],
                      weights: Sequence[Sequence[float]], title: str = "Where the decoder looked") -> go.Figure:
    """Attention weights: source tokens across (x), output tokens down (y, first output at the top).

    `weights` has one row per output token and one column per source token (each row sums to 1)."""
    z = np.asarray(weights, dtype=float)
    if z.shape != (len(output_tokens), len(source_tokens)):
        raise ValueError(f"attention of shape {z.shape} does not match {len(output_tokens)} output tokens "
                         f"x {len(source_tokens)} source tokens")
    xs, ys = np.arange(len(source_tokens)), np.arange(len(output_tokens))
    source_labels = [visible_token(t) for t in source_tokens]
    output_labels = [visible_token(t) for t in output_tokens]
    hover = [[f"output {output_labels[i]!r} (#{i + 1}) ← source {source_labels[j]!r} (#{j + 1})" for j in xs]
             for i in ys]
    trace = go.Heatmap(x=xs, y=ys, z=z, zmin=0, zmax=1, colorscale="Blues", customdata=hover,
                       colorbar={"title": {"text": "weight", "side": "right"}, "thickness": 12},
                       hovertemplate="%{customdata}<br>weight %{z:.1%}<extra></extra>", xgap=1, ygap=1)
    cell = 26  # pixels per token: labels stay readable and cells stay square-ish
    layout = {
        "title": {"text": title, "font": {**FONT, "size": 14}}, "font": FONT,
        "plot_bgcolor": "white", "paper_bgcolor": "white", "hovermode": "closest",
        "height": max(260, 120 + cell * len(output_tokens)),
        "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
        "xaxis": {**AXIS, "showgrid": False, "title": {"text": "source (input) tokens"}, "tickvals": list(xs),
                  "ticktext": source_labels, "tickangle": 0, "side": "bottom"},
        "yaxis": {**AXIS, "showgrid": False, "title": {"text": "output tokens"}, "tickvals": list(ys),
                  "ticktext": output_labels, "autorange": "reversed"},
    }
    return go.Figure(data=[trace], layout=layout)
