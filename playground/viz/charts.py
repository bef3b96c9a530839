"""Figure builders: plain lists / arrays in, plotly figures out. No Streamlit here.

Every builder downsamples long series to about 2,000 points (keeping spikes and gaps), draws
non-finite values as gaps, and uses SVG `scatter` traces: light for a browser without a GPU.
`revision` becomes plotly's `uirevision`, so a chart that is redrawn every second keeps the
user's zoom and hidden legend entries.

Figures are written as one plain spec and validated once (`Spec.figure()`): plotly's
`add_trace` / `update_layout` / `add_vline` re-validate and deep-copy on every call, which cost
~50 ms a chart against ~5 ms, on a server that redraws four charts every two seconds.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from .layout import apply_log_ticks, legend_below, plotly_text, short_label, wrap_title
from .numbers import readable, tick_label
from .series import as_array, downsample, downsample_indices, robust_upper, shared_top, smooth

PALETTE = ["#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#EECA3B", "#9D755D", "#FF9DA6", "#BAB0AC"]
BEFORE, AFTER, THRESHOLD, CLIPPED, DIVERGED, VALIDATION = "#9ecae9", "#1f5fa0", "#d62728", "#d62728", "#b00020", "#F58518"
HEIGHT = 330
FONT = {"family": "Source Sans Pro, Source Sans 3, Helvetica, Arial, sans-serif", "size": 12, "color": "#31333F"}
AXIS = {"showgrid": True, "gridcolor": "#EBF0F8", "linecolor": "#EBF0F8", "zeroline": False, "automargin": True, "ticks": ""}


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def colors_for(keys: Sequence[str]) -> dict[str, str]:
    """One colour per key (a run id) in the order a page lists them: every chart on the page draws a run in
    the same colour, even a chart that leaves some runs out (an echo state network has no gradient norms)."""
    return {key: color(i) for i, key in enumerate(dict.fromkeys(keys))}


class Spec:
    """A figure as plain data: traces, axes, lines and notes; `figure()` validates it once."""

    def __init__(self, title: str, x_title: str, y_title: str, *, log_y: bool = False, revision: str | None = None,
                 height: int = HEIGHT) -> None:
        self.traces: list[dict] = []
        self.shapes: list[dict] = []
        self.notes: list[dict] = []
        self.height = height
        self.layout: dict = {
            # plotly_white's look, spelled out: naming a template deep-copies it into every figure (~30 ms)
            "template": "none", "font": FONT, "colorway": PALETTE, "height": height,
            "paper_bgcolor": "white", "plot_bgcolor": "white",
            "title": {"text": wrap_title(title), "x": 0, "xanchor": "left", "font": {"size": 15, "weight": "bold"}},
            "margin": {"l": 10, "r": 10, "t": 40 + 18 * wrap_title(title).count("<br>"), "b": 10},
            "uirevision": revision or title, "hovermode": "x unified",
            "legend": {"orientation": "h", "font": {"size": 11}},
            "xaxis": {"title": {"text": x_title}, **AXIS, "nticks": 7},
            "yaxis": {"title": {"text": y_title}, **AXIS, "type": "log" if log_y else "-",
                      "exponentformat": "power" if log_y else "none"},
        }

    def trace(self, **trace) -> None:
        self.traces.append({"type": "scatter", **trace})

    def vline(self, x: float, text: str, line_color: str, dash: str = "dot", top: bool = True) -> None:
        """A vertical line across the plot at data x, labelled at its top (or bottom) left."""
        self.shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
                            "line": {"color": line_color, "dash": dash, "width": 1.5}})
        self.notes.append({"text": text, "x": x, "xref": "x", "y": 1 if top else 0, "yref": "paper", "showarrow": False,
                           "xanchor": "right", "yanchor": "top" if top else "bottom",
                           "font": {"size": 11, "color": line_color}})

    def hline(self, y: float, text: str, line_color: str = "#888", above: bool = False) -> None:
        """A dashed horizontal line at data y (a log axis takes the value itself), labelled at the right, under
        the line or (`above`) over it: a line at the foot of the plot keeps its label off the axis's ticks."""
        self.shapes.append({"type": "line", "xref": "paper", "yref": "y", "x0": 0, "x1": 1, "y0": y, "y1": y,
                            "line": {"color": line_color, "dash": "dash", "width": 1}})
        log_y = self.layout["yaxis"]["type"] == "log"
        self.notes.append({"text": text, "x": 1, "xref": "paper", "y": math.log10(y) if log_y else y, "yref": "y",
                           "showarrow": False, "xanchor": "right", "yanchor": "bottom" if above else "top",
                           "font": {"size": 11, "color": "#666"}})

    def note(self, text: str, x: float = 0.5, y: float = 0.5, **style) -> None:
        """Text placed in paper coordinates (0-1 across the plot)."""
        self.notes.append({"text": text, "x": x, "y": y, "xref": "paper", "yref": "paper", "showarrow": False, **style})

    def log_ticks(self, values: Sequence[np.ndarray], axis: str = "yaxis") -> None:
        """Readable ticks on a log axis (`layout.log_ticks`): decades, and on short ranges their halves,
        every label a whole number, never plotly's bare minor digits."""
        apply_log_ticks(self.layout[axis], list(values))

    def figure(self) -> go.Figure:
        layout = {**self.layout, "shapes": self.shapes, "annotations": self.notes}
        plot_height = layout["height"]
        traces = [_legend_ready(t) for t in self.traces]
        labels = [t["name"] for t in traces if t.get("showlegend", True) and t.get("name")]
        if labels and (len(traces) > 1 or any(t.get("showlegend") for t in traces)) and layout.get("showlegend", True):
            legend_below(layout, labels, plot_height)
        return go.Figure({"data": traces, "layout": layout})


def _legend_ready(trace: dict) -> dict:
    """A trace whose legend label is short and markup-free; the full name stays in its hover."""
    name = trace.get("name")
    if not name:
        return trace
    trace = {**trace, "name": plotly_text(short_label(str(name)))}  # names are shown as typed, never as markup
    if short_label(str(name)) != str(name) and "hovertemplate" not in trace and trace.get("hoverinfo") != "skip":
        trace.update(meta=plotly_text(str(name)), hovertemplate="%{meta}: %{y:.4g}<extra></extra>")
    return trace


def _positive(y: np.ndarray) -> np.ndarray:
    """Values for a log axis: zero or negative norms become gaps rather than errors."""
    y = y.copy()
    y[~(y > 0)] = np.nan
    return y


def empty_figure(title: str, message: str, height: int = HEIGHT) -> go.Figure:
    """A placeholder with a sentence in the middle, for charts whose data has not arrived yet."""
    spec = Spec(title, "", "", height=height)
    spec.note(message, font={"size": 13, "color": "#777"})
    spec.layout["xaxis"] = {"visible": False}
    spec.layout["yaxis"] = {"visible": False}
    spec.layout["margin"]["t"] = 48
    return spec.figure()


# -- one run, live -------------------------------------------------------------------------------
def loss_figure(steps: Sequence, loss: Sequence, eval_steps: Sequence = (), val_loss: Sequence = (), *,
                baseline: float | None = None, diverged_at: int | None = None, revision: str | None = None,
                unit: str = "nats per token", baseline_label: str = "guessing uniformly: ln V = {value:.2f}") -> go.Figure:
    """Training loss (raw and smoothed) in the task's `unit` (Task.loss_unit), validation loss, the loss of a model
    that learned nothing (`baseline`: ln V for a text, the target's variance for a regression), and divergence."""
    x, y = np.asarray(steps, dtype=float), as_array(loss)
    title = f"Loss ({unit})"
    if x.size == 0:
        return empty_figure(title, "waiting for the first training step...")
    spec = Spec(title, "training step", unit, revision=revision)
    xs, ys = downsample(x, y)
    spec.trace(x=xs, y=ys, name="train loss", mode="lines", line={"color": BEFORE, "width": 1})
    xs, ys = downsample(x, smooth(y))
    spec.trace(x=xs, y=ys, name="train (smoothed)", mode="lines", line={"color": AFTER, "width": 2})
    if len(eval_steps):
        spec.trace(x=np.asarray(eval_steps, dtype=float), y=as_array(val_loss), name="validation loss",
                   mode="lines+markers", line={"color": VALIDATION, "width": 2}, marker={"size": 6})
    if baseline is not None:
        spec.hline(baseline, baseline_label.format(value=baseline))
    if diverged_at is not None:
        spec.vline(diverged_at, f"diverged at step {diverged_at}", DIVERGED, dash="solid")
    upper = robust_upper(np.concatenate([[baseline or np.nan], y, as_array(val_loss)]))
    if upper:  # a blow-up would flatten the rest: cut it off and say so
        spec.layout["yaxis"]["range"] = [0, upper]
        spec.note("↑ larger values are off the chart", x=0.01, y=0.99, xanchor="left", yanchor="top",
                  font={"size": 11, "color": DIVERGED})
    else:
        spec.layout["yaxis"]["rangemode"] = "tozero"
    return spec.figure()


def metric_figure(eval_steps: Sequence, values: Sequence, *, label: str, unit: str, higher_is_better: bool,
                  chance: float | None = None, solved: float | None = None, revision: str | None = None) -> go.Figure:
    """A held-out metric over training with the task's chance level and, where it has one, its solved line."""
    title = f"{label[:1].upper()}{label[1:]} on held-out data ({unit}, {'higher' if higher_is_better else 'lower'} is better)"
    if not len(eval_steps):
        return empty_figure(title, "measured at the first evaluation...")
    spec = Spec(title, "training step", unit, revision=revision)
    spec.trace(x=np.asarray(eval_steps, dtype=float), y=as_array(values), name=label, mode="lines+markers",
               line={"color": VALIDATION, "width": 2}, marker={"size": 6})
    if chance is not None:  # chance sits low when higher is better: its label goes over the line, solved's under
        spec.hline(chance, f"chance: {chance:.3g}", above=higher_is_better)
    if solved is not None:
        spec.hline(solved, f"solved: {'≥' if higher_is_better else '≤'} {solved:g}", line_color=AFTER,
                   above=not higher_is_better)
    spec.layout["yaxis"]["rangemode"] = "tozero"
    return spec.figure()


def grad_norm_figure(steps: Sequence, before: Sequence, after: Sequence, clipped: Sequence[bool],
                     thresholds: Sequence, clip_changes: Sequence[dict] = (), *, diverged_at: int | None = None,
                     revision: str | None = None) -> go.Figure:
    """Global gradient norm before and after clipping on a log axis, with the threshold and clipped steps."""
    x = np.asarray(steps, dtype=float)
    if x.size == 0:
        return empty_figure("Global gradient norm ‖g‖", "waiting for the first training step...")
    spec = Spec("Global gradient norm ‖g‖", "training step", "‖g‖ (log scale)", log_y=True, revision=revision)
    pre, post = _positive(as_array(before)), _positive(as_array(after))
    keep = downsample_indices(pre)
    spec.trace(x=x[keep], y=pre[keep], name="‖g‖ before clip", mode="lines", line={"color": BEFORE, "width": 1.5})
    spec.trace(x=x[keep], y=post[keep], name="after clip", mode="lines", line={"color": AFTER, "width": 1.5})
    limit = as_array(thresholds)
    if np.isfinite(limit).any():
        changes = np.flatnonzero(np.diff(np.nan_to_num(limit, nan=-1.0))) + 1  # keep every step where it changed
        at = np.union1d(keep, np.union1d(changes, changes - 1))
        spec.trace(x=x[at], y=limit[at], name="threshold", mode="lines", line_shape="hv", hoverinfo="skip",
                   line={"color": THRESHOLD, "dash": "dash", "width": 1.5})
    mask = np.asarray(clipped, dtype=bool)[keep]
    if mask.any():
        spec.trace(x=x[keep][mask], y=pre[keep][mask], name="clipped", mode="markers",
                   marker={"color": CLIPPED, "size": 5, "symbol": "x-thin", "line": {"width": 1.5, "color": CLIPPED}})
    for change in list(clip_changes)[-6:]:  # the latest few: more would hide the curve
        spec.vline(change["step"], change["message"], "#6a3d9a")
    if diverged_at is not None:
        spec.vline(diverged_at, f"diverged at step {diverged_at}", DIVERGED, dash="solid", top=False)
    spec.log_ticks([pre[keep], post[keep], limit])
    return spec.figure()


def layer_norms_figure(steps: Sequence, layers: dict[str, Sequence], *, revision: str | None = None) -> go.Figure:
    """Gradient norm of each layer (embedding, each recurrent layer, head) on a log axis."""
    x = np.asarray(steps, dtype=float)
    if x.size == 0 or not layers:
        return empty_figure("Gradient norm per layer", "waiting for the first training step...")
    spec = Spec("Gradient norm per layer", "training step", "‖g_layer‖ (log scale)", log_y=True, revision=revision)
    drawn = []
    for i, (name, values) in enumerate(layers.items()):
        xs, ys = downsample(x, _positive(as_array(values)))
        drawn.append(ys)
        spec.trace(x=xs, y=ys, name=name, mode="lines", line={"color": color(i), "width": 1.5})
    spec.log_ticks(drawn)
    return spec.figure()


FLOW_RANGE = (-6.0, 2.0)  # log10 of the ratio to the last step's gradient: one fixed scale for every run
UNDERFLOW = "#c9c9c9"


def flow_ratios(flows: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(log10 ratio, absolute norm, underflow mask), each (time steps, evaluations): every column divided by
    its value at the last step t = T (where the loss is taken), so equal colours are equal ratios in any run.
    A norm of exactly 0 underflowed float precision: it has no ratio and is marked instead."""
    length = max(len(f) for f in flows)
    ratio, absolute = np.full((length, len(flows)), np.nan), np.full((length, len(flows)), np.nan)
    underflow = np.zeros((length, len(flows)), dtype=bool)
    for j, flow in enumerate(flows):
        column = as_array(flow)
        absolute[: column.size, j] = column
        underflow[: column.size, j] = column == 0
        positive = _positive(column)
        reference = positive[-1] if column.size and np.isfinite(positive[-1]) else np.nanmax(positive, initial=np.nan)
        if np.isfinite(reference):
            ratio[: column.size, j] = np.log10(positive / reference)
    return ratio, absolute, underflow


def gradient_flow_heatmap(eval_steps: Sequence[int], flows: Sequence[Sequence[float]], *,
                          revision: str | None = None) -> go.Figure:
    """‖∂L_T/∂x_t‖ / ‖∂L_T/∂x_T‖ for each time step t (rows) at each evaluation (columns) on one fixed log colour
    scale (1e-6 to 100: the same colour is the same ratio in every run); underflowed cells in grey."""
    title = "Gradient flow through time: ‖∂L_T/∂x_t‖ relative to the last step T"
    if not flows:
        return empty_figure(title, "measured at the first evaluation...")
    ratio, absolute, underflow = flow_ratios(flows)
    lo, hi = FLOW_RANGE
    ticks = list(range(int(lo), int(hi) + 1, 2))
    labels = [("≤ " if t == lo else "≥ " if t == hi else "") + tick_label(10.0 ** t) for t in ticks]
    x, y = np.asarray(eval_steps, dtype=float), np.arange(ratio.shape[0])
    hover = np.where(underflow, "below float precision (0)",
                     np.char.add(np.char.add(np.vectorize(readable)(absolute), " = ×"),
                                 np.vectorize(readable)(np.power(10.0, ratio))))
    spec = Spec(title, "training step", "time step t (T at the top)", revision=revision)
    spec.traces.append({
        "type": "heatmap", "x": x, "y": y, "z": ratio, "colorscale": "Viridis", "zmin": lo, "zmax": hi,
        "customdata": hover, "colorbar": {"title": {"text": "× of t = T", "side": "right"}, "tickvals": ticks,
                                          "ticktext": labels, "thickness": 14},
        "hovertemplate": "training step %{x}<br>time step t = %{y}<br>‖∂L_T/∂x_t‖ = %{customdata} of t = T"
                         "<extra></extra>",
    })
    if underflow.any():  # grey, not blank white: the gradient got there as 0 in float arithmetic
        spec.traces.append({"type": "heatmap", "x": x, "y": y, "z": np.where(underflow, 1.0, np.nan),
                            "colorscale": [[0, UNDERFLOW], [1, UNDERFLOW]], "showscale": False, "hoverinfo": "skip"})
        spec.note("grey: below float precision (0)", x=0, y=1.0, xanchor="left", yanchor="bottom",
                  font={"size": 11, "color": "#666"})
    spec.layout["hovermode"] = "closest"
    if len(eval_steps) == 1:  # one column: label it with its step rather than fractions around it
        spec.layout["xaxis"]["tickvals"] = list(eval_steps)
    return spec.figure()


# -- gradients deep-dive ----------------------------------------------------------------------------
def flow_fit(flow: Sequence[float], rate: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lags, ‖∂L_T/∂x_{T-lag}‖, fitted rate**lag line through the data's log-mean); lag 0 = the last step."""
    values = _positive(as_array(flow))[::-1]
    lags = np.arange(values.size, dtype=float)
    fitted = np.full_like(values, np.nan)
    finite = np.isfinite(values)
    if rate and finite.sum() >= 2:
        mean_lag, mean_log = lags[finite].mean(), np.log(values[finite]).mean()
        fitted = np.exp(mean_log + (lags - mean_lag) * math.log(rate))
    return lags, values, fitted


def flow_vs_lag_figure(curves: Sequence[dict], *, revision: str | None = None) -> go.Figure:
    """Gradient flow against lag on a log axis, one curve per (run, step) with its fitted decay.
    Each curve: {"label", "flow" (oldest first), "rate" (fitted factor per step or None)}."""
    title = "Gradient flow against lag: ‖∂L_T/∂x_(T−lag)‖ (dotted: fitted decay)"
    if not curves:
        return empty_figure(title, "no gradient-flow measurements yet")
    spec = Spec(title, "lag (time steps back from the loss)", "gradient norm (log scale)", log_y=True, revision=revision,
                height=HEIGHT + 30 * max(0, len(curves) - 2) // 2)
    drawn = []
    for i, curve in enumerate(curves):
        lags, values, fitted = flow_fit(curve["flow"], curve.get("rate"))
        drawn.append(values)
        shade, rate = curve.get("color") or color(i), curve.get("rate")
        label = curve["label"]  # the fitted rate goes in the hover (and the page's table): legends stay short
        rate_text = f" (×{rate:.3f} per step)" if rate else ""
        spec.trace(x=lags, y=values, name=label, mode="lines+markers", legendgroup=label,
                   meta=f"{label}{rate_text}".replace("<", "&lt;"), hovertemplate="%{meta}: %{y:.3g}<extra></extra>",
                   opacity=curve.get("opacity", 1.0), line={"color": shade, "width": 2}, marker={"size": 4})
        if np.isfinite(fitted).any():  # dotted, in the same colour: the fitted exponential
            spec.trace(x=lags, y=fitted, name="fit", mode="lines", legendgroup=label, showlegend=False,
                       line={"color": shade, "dash": "dot", "width": 1.5}, hoverinfo="skip")
    spec.log_ticks(drawn)
    return spec.figure()


def spectral_radius_figure(series: dict[str, tuple[Sequence, Sequence]], *, revision: str | None = None) -> go.Figure:
    """Block radius of each run's recurrent layers over training: ρ(W_hh), of its candidate block for a gated cell."""
    return layer_readout_figure(series, "Block radius ρ(W_hh) over training (gated cells: candidate block)",
                                "ρ(W_hh block)", revision=revision)


DASHES = ("solid", "dash", "dot", "dashdot", "longdash")


def layer_readout_figure(series: dict[str, tuple[Sequence, Sequence]], title: str, y_title: str, *,
                         styles: dict[str, tuple[str, int]] | None = None, revision: str | None = None) -> go.Figure:
    """Per-layer readouts over training (label -> (eval steps, values)), with 1 marked: below 1 shrinks per step.
    `styles`: label -> (colour, dash index), so one run keeps one colour and its readouts differ by dash."""
    if not series:
        return empty_figure(title, "no evaluations yet")
    spec = Spec(title, "training step", y_title, revision=revision)
    for i, (label, (steps, values)) in enumerate(series.items()):
        shade, dash = (styles or {}).get(label, (color(i), 0))
        spec.trace(x=np.asarray(steps, dtype=float), y=as_array(values), name=label, mode="lines+markers",
                   line={"color": shade, "width": 2, "dash": DASHES[dash % len(DASHES)]}, marker={"size": 5})
    spec.hline(1.0, "1")
    return spec.figure()


def norm_distribution_figure(series: dict[str, Sequence], thresholds: dict[str, float] | None = None, *,
                             colors: dict[str, str] | None = None, revision: str | None = None) -> go.Figure:
    """Distribution of the global gradient norm (before clipping) per run, on log-spaced bins,
    with each run's clip threshold as a dashed line in its colour."""
    title = "Distribution of ‖g‖ before clipping (dashed: clip threshold)"
    logs = {label: np.log10(v[np.isfinite(v) & (v > 0)]) for label, v in ((k, as_array(s)) for k, s in series.items())}
    colors = {label: (colors or {}).get(label) or color(i) for i, label in enumerate(logs)}
    logs = {k: v for k, v in logs.items() if v.size}
    if not logs:
        return empty_figure(title, "no training steps yet")
    everything = np.concatenate(list(logs.values()))
    edges = np.linspace(everything.min() - 0.05, everything.max() + 0.05, 41)
    spec = Spec(title, "‖g‖ (log scale)", "share of steps", revision=revision)
    top = 0.0
    for i, (label, values) in enumerate(logs.items()):
        counts, _ = np.histogram(values, bins=edges)
        share = counts / counts.sum()
        top = max(top, float(share.max()))
        spec.trace(x=np.power(10.0, edges), y=np.append(share, share[-1]), name=label, mode="lines",
                   line={"color": colors[label], "width": 2, "shape": "hv"}, fill="tozeroy", opacity=0.6)
    for label in logs:
        threshold = (thresholds or {}).get(label)
        if threshold:  # a line made of a trace: shapes on a log axis want log coordinates
            spec.trace(x=[threshold, threshold], y=[0, top * 1.05], mode="lines", showlegend=False, hoverinfo="skip",
                       line={"color": colors[label], "dash": "dash", "width": 1.5})
    spec.layout["xaxis"].update(type="log", exponentformat="power")
    spec.layout["yaxis"]["tickformat"] = ".0%"
    spec.layout["hovermode"] = "closest"
    spec.log_ticks([np.power(10.0, everything)], axis="xaxis")
    return spec.figure()


def bar_figure(labels: Sequence[str], values: Sequence[float], title: str, value_title: str, *, percent: bool = False,
               colors: Sequence[str] | None = None, revision: str | None = None) -> go.Figure:
    """Horizontal bars, one per run: long run names stay readable (cut in the middle, whole on hover)."""
    spec = Spec(title, value_title, "", revision=revision, height=120 + 40 * len(labels))
    spec.traces.append({"type": "bar", "y": [short_label(str(label), 28) for label in labels], "x": as_array(values),
                        "orientation": "h", "customdata": [str(label) for label in labels],
                        "hovertemplate": "%{customdata}: %{x:" + (".0%" if percent else ".3g") + "}<extra></extra>",
                        "marker": {"color": list(colors) if colors else [color(i) for i in range(len(labels))]},
                        "text": [f"{v:.0%}" if percent else f"{v:.3g}" for v in values], "textposition": "outside"})
    if percent:
        spec.layout["xaxis"].update(tickformat=".0%", range=[0, 1.15])
    spec.layout["yaxis"]["autorange"] = "reversed"
    spec.layout.update(hovermode="closest", showlegend=False)
    return spec.figure()


def gate_saturation_figure(eval_steps: Sequence[int], stats: Sequence[dict], *, revision: str | None = None) -> go.Figure:
    """Share of saturated gate activations (below 0.05 or above 0.95) per gate over training."""
    title = "Saturated gate activations (< 0.05 or > 0.95)"
    if not stats:
        return empty_figure(title, "gate statistics need the scratch backend and an LSTM or GRU")
    spec = Spec(title, "training step", "share of activations", revision=revision)
    for i, gate in enumerate(stats[-1]):
        spec.trace(x=np.asarray(eval_steps, dtype=float), y=as_array(s.get(gate, {}).get("saturated") for s in stats),
                   name=f"{gate} gate", mode="lines+markers", line={"color": color(i), "width": 2})
    spec.layout["yaxis"].update(tickformat=".0%", rangemode="tozero")
    return spec.figure()


def gate_histogram_figure(stats: dict, *, revision: str | None = None) -> go.Figure:
    """Histogram of each gate's activations in [0, 1] over the latest evaluation window."""
    title = "Gate activations at the latest evaluation"
    if not stats:
        return empty_figure(title, "no gate statistics recorded")
    spec = Spec(title, "gate value", "share of activations", revision=revision)
    for i, (gate, entry) in enumerate(stats.items()):
        hist = entry.get("histogram") or []
        centers = (np.arange(len(hist)) + 0.5) / max(len(hist), 1)
        spec.traces.append({"type": "bar", "x": centers, "y": hist, "name": f"{gate} gate", "opacity": 0.75,
                            "marker": {"color": color(i)}})
    spec.layout.update(barmode="overlay", hovermode="closest")
    spec.layout["yaxis"]["tickformat"] = ".0%"
    return spec.figure()


# -- comparing runs ---------------------------------------------------------------------------------
def overlay_figure(curves: Sequence[dict], title: str, x_title: str, y_title: str, *, log_y: bool = False,
                   smoothing: float = 0.0, markers: bool = False, revision: str | None = None) -> go.Figure:
    """Several runs on one chart. Each curve: {"label", "x", "y"}; optional smoothing (0 to 0.99);
    markers for sparse series (evaluations), where a single point would not show as a line."""
    curves = [{"color": color(i), **c} for i, c in enumerate(curves)]  # a dropped curve does not shift the colours
    curves = [c for c in curves if len(c["x"]) and np.isfinite(as_array(c["y"])).any()]
    if not curves:
        return empty_figure(title, "no data yet")
    spec = Spec(title, x_title, y_title, log_y=log_y, revision=revision)
    uppers, drawn = [], []
    for curve in curves:
        x, y = np.asarray(curve["x"], dtype=float), as_array(curve["y"])
        if log_y:
            y = _positive(y)
        if smoothing:  # the raw values stay as a faint line under the smoothed one
            xs, ys = downsample(x, y)
            spec.trace(x=xs, y=ys, mode="lines", showlegend=False, hoverinfo="skip", opacity=0.25,
                       line={"color": curve["color"], "width": 1})
            y = smooth(y, smoothing)
        xs, ys = downsample(x, y)
        spec.trace(x=xs, y=ys, name=curve["label"], mode="lines+markers" if markers else "lines",
                   line={"color": curve["color"], "width": 2}, marker={"size": 5})
        uppers.append(y)
        drawn.append(ys)
    top, above = (None, []) if log_y else shared_top(uppers)
    if log_y:
        spec.log_ticks(drawn)
    elif top is not None:  # a blow-up, or one run far above the rest: cut off, so the others stay legible
        spec.layout["yaxis"]["range"] = [min(0.0, *(float(np.nanmin(y)) for y in uppers if np.isfinite(y).any())), top]
        if above:
            names = ", ".join(plotly_text(short_label(curves[i]["label"], 24)) for i in above[:2])
            more = f" and {len(above) - 2} more" if len(above) > 2 else ""
            peak = max(float(np.nanmax(uppers[i])) for i in above)
            spec.note(f"↑ above the chart: {names}{more} (up to {readable(peak)})", x=1, y=1, xanchor="right",
                      yanchor="bottom", font={"size": 11, "color": "#666"})
    else:
        spec.layout["yaxis"]["rangemode"] = "tozero"
    return spec.figure()
