"""Figure builders: plain lists / arrays in, plotly figures out. No Streamlit here.

Every builder downsamples long series to about 2,000 points (keeping spikes and gaps), draws
non-finite values as gaps, and uses SVG `Scatter` traces: light for a browser without a GPU.
`revision` becomes plotly's `uirevision`, so a chart that is redrawn every second keeps the
user's zoom and hidden legend entries.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from .series import as_array, downsample, downsample_indices, robust_upper, smooth

PALETTE = ["#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#EECA3B", "#9D755D", "#FF9DA6", "#BAB0AC"]
BEFORE, AFTER, THRESHOLD, CLIPPED, DIVERGED, VALIDATION = "#9ecae9", "#1f5fa0", "#d62728", "#d62728", "#b00020", "#F58518"
HEIGHT = 330


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str, *, log_y: bool = False,
            revision: str | None = None, height: int = HEIGHT) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=15)),
        height=height, margin=dict(l=10, r=10, t=64, b=10), uirevision=revision or title,
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0, font=dict(size=11)),
        hovermode="x unified",
    )
    fig.update_xaxes(title_text=x_title, showgrid=True)
    fig.update_yaxes(title_text=y_title, showgrid=True, type="log" if log_y else "-",  # "-": plotly guesses
                     exponentformat="power" if log_y else "none")
    legend_entries = sum(1 for t in fig.data if t.showlegend is not False and t.name)
    if legend_entries > 4:  # a crowded legend above the plot would run into the title: put it underneath
        fig.update_layout(legend=dict(y=-0.22, yanchor="top"), height=height + 22 * math.ceil(legend_entries / 3),
                          margin=dict(b=10 + 22 * math.ceil(legend_entries / 3)))
    return fig


def _log_ticks(fig: go.Figure, values: Sequence[np.ndarray], axis: str = "y") -> None:
    """Readable ticks on a log axis: within about two decades label 1, 2 and 5 of each decade,
    over more only the powers of ten (plotly's default labels every digit, which crowds)."""
    finite = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in values]) if values else np.array([])
    if finite.size == 0:
        return
    decades = math.log10(finite.max() / finite.min())
    update = fig.update_yaxes if axis == "y" else fig.update_xaxes
    update(dtick="D2" if decades <= 2 else max(1, math.ceil(decades / 6)))  # at most ~6 labels


def _positive(y: np.ndarray) -> np.ndarray:
    """Values for a log axis: zero or negative norms become gaps rather than errors."""
    y = y.copy()
    y[~(y > 0)] = np.nan
    return y


def _vline(fig: go.Figure, x: float, text: str, line_color: str, dash: str = "dot", position: str = "top left") -> None:
    fig.add_vline(x=x, line=dict(color=line_color, dash=dash, width=1.5),
                  annotation=dict(text=text, font=dict(size=11, color=line_color)), annotation_position=position)


def empty_figure(title: str, message: str, height: int = HEIGHT) -> go.Figure:
    """A placeholder with a sentence in the middle, for charts whose data has not arrived yet."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font=dict(size=13, color="#777"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(title=dict(text=title, x=0, font=dict(size=15)), height=height, margin=dict(l=10, r=10, t=48, b=10))
    return fig


# -- one run, live -------------------------------------------------------------------------------
def loss_figure(steps: Sequence, loss: Sequence, eval_steps: Sequence = (), val_loss: Sequence = (), *,
                baseline: float | None = None, diverged_at: int | None = None, revision: str | None = None) -> go.Figure:
    """Training loss (raw and smoothed), validation loss, the uniform-guess baseline, and divergence."""
    x, y = np.asarray(steps, dtype=float), as_array(loss)
    if x.size == 0:
        return empty_figure("Loss", "waiting for the first training step...")
    fig = go.Figure()
    xs, ys = downsample(x, y)
    fig.add_trace(go.Scatter(x=xs, y=ys, name="train loss", mode="lines", line=dict(color=BEFORE, width=1)))
    xs, ys = downsample(x, smooth(y))
    fig.add_trace(go.Scatter(x=xs, y=ys, name="train (smoothed)", mode="lines", line=dict(color=AFTER, width=2)))
    if len(eval_steps):
        fig.add_trace(go.Scatter(x=np.asarray(eval_steps, dtype=float), y=as_array(val_loss), name="validation loss",
                                 mode="lines+markers", line=dict(color=VALIDATION, width=2), marker=dict(size=6)))
    if baseline is not None:
        fig.add_hline(y=baseline, line=dict(color="#888", dash="dash", width=1),
                      annotation=dict(text=f"guessing uniformly: ln V = {baseline:.2f}", font=dict(size=11, color="#666")),
                      annotation_position="bottom right")
    if diverged_at is not None:
        _vline(fig, diverged_at, f"diverged at step {diverged_at}", DIVERGED, dash="solid", position="top left")
    upper = robust_upper(np.concatenate([[baseline or np.nan], y, as_array(val_loss)]))
    _layout(fig, "Loss (nats per token)", "training step", "loss", revision=revision)
    if upper:  # a blow-up would flatten the rest: cut it off and say so
        fig.update_yaxes(range=[0, upper])
        fig.add_annotation(text="↑ larger values are off the chart", showarrow=False, xref="paper", yref="paper",
                           x=0.01, y=0.99, xanchor="left", yanchor="top", font=dict(size=11, color=DIVERGED))
    else:
        fig.update_yaxes(rangemode="tozero")
    return fig


def grad_norm_figure(steps: Sequence, before: Sequence, after: Sequence, clipped: Sequence[bool],
                     thresholds: Sequence, clip_changes: Sequence[dict] = (), *, diverged_at: int | None = None,
                     revision: str | None = None) -> go.Figure:
    """Global gradient norm before and after clipping on a log axis, with the threshold and clipped steps."""
    x = np.asarray(steps, dtype=float)
    if x.size == 0:
        return empty_figure("Global gradient norm", "waiting for the first training step...")
    pre, post = _positive(as_array(before)), _positive(as_array(after))
    keep = downsample_indices(pre)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x[keep], y=pre[keep], name="‖g‖ before clip", mode="lines", line=dict(color=BEFORE, width=1.5)))
    fig.add_trace(go.Scatter(x=x[keep], y=post[keep], name="after clip", mode="lines", line=dict(color=AFTER, width=1.5)))
    limit = as_array(thresholds)
    if np.isfinite(limit).any():
        changes = np.flatnonzero(np.diff(np.nan_to_num(limit, nan=-1.0))) + 1  # keep every step where it changed
        at = np.union1d(keep, np.union1d(changes, changes - 1))
        fig.add_trace(go.Scatter(x=x[at], y=limit[at], name="threshold", mode="lines", line=dict(color=THRESHOLD, dash="dash", width=1.5),
                                 line_shape="hv", hoverinfo="skip"))
    mask = np.asarray(clipped, dtype=bool)[keep]
    if mask.any():
        fig.add_trace(go.Scatter(x=x[keep][mask], y=pre[keep][mask], name="clipped", mode="markers",
                                 marker=dict(color=CLIPPED, size=5, symbol="x-thin", line=dict(width=1.5, color=CLIPPED))))
    for change in list(clip_changes)[-6:]:  # the latest few: more would hide the curve
        _vline(fig, change["step"], change["message"], "#6a3d9a")
    if diverged_at is not None:
        _vline(fig, diverged_at, f"diverged at step {diverged_at}", DIVERGED, dash="solid", position="bottom left")
    _layout(fig, "Global gradient norm ‖g‖", "training step", "‖g‖ (log scale)", log_y=True, revision=revision)
    _log_ticks(fig, [pre[keep], post[keep], limit])
    return fig


def layer_norms_figure(steps: Sequence, layers: dict[str, Sequence], *, revision: str | None = None) -> go.Figure:
    """Gradient norm of each layer (embedding, each recurrent layer, head) on a log axis."""
    x = np.asarray(steps, dtype=float)
    if x.size == 0 or not layers:
        return empty_figure("Gradient norm per layer", "waiting for the first training step...")
    fig, drawn = go.Figure(), []
    for i, (name, values) in enumerate(layers.items()):
        xs, ys = downsample(x, _positive(as_array(values)))
        drawn.append(ys)
        fig.add_trace(go.Scatter(x=xs, y=ys, name=name, mode="lines", line=dict(color=color(i), width=1.5)))
    _layout(fig, "Gradient norm per layer", "training step", "‖g_layer‖ (log scale)", log_y=True, revision=revision)
    _log_ticks(fig, drawn)
    return fig


def _log10_matrix(flows: Sequence[Sequence[float]]) -> np.ndarray:
    length = max(len(f) for f in flows)
    z = np.full((length, len(flows)), np.nan)
    for j, flow in enumerate(flows):
        column = _positive(as_array(flow))
        z[: len(column), j] = np.log10(column)
    return z


def gradient_flow_heatmap(eval_steps: Sequence[int], flows: Sequence[Sequence[float]], *,
                          revision: str | None = None) -> go.Figure:
    """‖∂L_T/∂x_t‖ for each time step t (rows) at each evaluation (columns), log colour scale."""
    if not flows:
        return empty_figure("Gradient flow through time", "measured at the first evaluation...")
    z = _log10_matrix(flows)
    finite = z[np.isfinite(z)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    ticks = list(range(math.floor(lo), math.ceil(hi) + 1)) or [0]
    if len(ticks) > 8:
        ticks = ticks[:: math.ceil(len(ticks) / 8)]
    fig = go.Figure(go.Heatmap(
        x=np.asarray(eval_steps, dtype=float), y=np.arange(z.shape[0]), z=z, colorscale="Viridis",
        zmin=lo, zmax=hi if hi > lo else lo + 1, customdata=np.power(10.0, z),
        colorbar=dict(title=dict(text="‖∂L_T/∂x_t‖", side="right"), tickvals=ticks, ticktext=[f"1e{t}" for t in ticks]),
        hovertemplate="training step %{x}<br>time step t = %{y}<br>‖∂L_T/∂x_t‖ = %{customdata:.3g}<extra></extra>",
    ))
    _layout(fig, "Gradient flow through time (loss at the last step T)", "training step", "time step t", revision=revision)
    fig.update_layout(hovermode="closest")
    if len(eval_steps) == 1:  # one column: label it with its step rather than fractions around it
        fig.update_xaxes(tickvals=list(eval_steps))
    return fig


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
    if not curves:
        return empty_figure("Gradient flow against lag", "no gradient-flow measurements yet")
    fig, drawn = go.Figure(), []
    for i, curve in enumerate(curves):
        lags, values, fitted = flow_fit(curve["flow"], curve.get("rate"))
        drawn.append(values)
        shade = curve.get("color") or color(i)
        rate = curve.get("rate")
        label = f"{curve['label']} (×{rate:.3f} per step)" if rate else curve["label"]
        fig.add_trace(go.Scatter(x=lags, y=values, name=label, mode="lines+markers", legendgroup=label,
                                 line=dict(color=shade, width=2), marker=dict(size=4)))
        if np.isfinite(fitted).any():  # dotted, in the same colour: the fitted exponential
            fig.add_trace(go.Scatter(x=lags, y=fitted, name="fit", mode="lines", legendgroup=label, showlegend=False,
                                     line=dict(color=shade, dash="dot", width=1.5), hoverinfo="skip"))
    _layout(fig, "Gradient flow against lag: ‖∂L_T/∂x_(T−lag)‖ (dotted: fitted decay)",
            "lag (time steps back from the loss)", "gradient norm (log scale)", log_y=True, revision=revision,
            height=HEIGHT + 30 * max(0, len(curves) - 2) // 2)
    _log_ticks(fig, drawn)
    return fig


def spectral_radius_figure(series: dict[str, tuple[Sequence, Sequence]], *, revision: str | None = None) -> go.Figure:
    """Spectral radius ρ(W_hh) of each run's recurrent layers over training, with ρ = 1 marked."""
    if not series:
        return empty_figure("Spectral radius of W_hh", "no evaluations yet")
    fig = go.Figure()
    for i, (label, (steps, values)) in enumerate(series.items()):
        fig.add_trace(go.Scatter(x=np.asarray(steps, dtype=float), y=as_array(values), name=label,
                                 mode="lines+markers", line=dict(color=color(i), width=2), marker=dict(size=5)))
    fig.add_hline(y=1.0, line=dict(color="#888", dash="dash", width=1),
                  annotation=dict(text="ρ = 1", font=dict(size=11, color="#666")), annotation_position="top left")
    return _layout(fig, "Spectral radius ρ(W_hh) over training", "training step", "ρ(W_hh)", revision=revision)


def norm_distribution_figure(series: dict[str, Sequence], thresholds: dict[str, float] | None = None, *,
                             revision: str | None = None) -> go.Figure:
    """Distribution of the global gradient norm (before clipping) per run, on log-spaced bins."""
    logs = {label: np.log10(v[np.isfinite(v) & (v > 0)]) for label, v in ((k, as_array(s)) for k, s in series.items())}
    logs = {k: v for k, v in logs.items() if v.size}
    if not logs:
        return empty_figure("Gradient-norm distribution", "no training steps yet")
    everything = np.concatenate(list(logs.values()))
    edges = np.linspace(everything.min() - 0.05, everything.max() + 0.05, 41)
    fig = go.Figure()
    for i, (label, values) in enumerate(logs.items()):
        counts, _ = np.histogram(values, bins=edges)
        share = counts / counts.sum()
        fig.add_trace(go.Scatter(x=np.power(10.0, edges), y=np.append(share, share[-1]), name=label, mode="lines",
                                 line=dict(color=color(i), width=2, shape="hv"), fill="tozeroy", opacity=0.6))
    for i, (label, threshold) in enumerate((thresholds or {}).items()):
        if threshold:
            fig.add_vline(x=threshold, line=dict(color=color(list(logs).index(label)) if label in logs else THRESHOLD,
                                                 dash="dash", width=1.5))
    _layout(fig, "Distribution of ‖g‖ before clipping (dashed: clip threshold)", "‖g‖ (log scale)", "share of steps",
            revision=revision)
    fig.update_xaxes(type="log", exponentformat="power")
    _log_ticks(fig, [np.power(10.0, everything)], axis="x")
    fig.update_yaxes(tickformat=".0%")
    fig.update_layout(hovermode="closest")
    return fig


def bar_figure(labels: Sequence[str], values: Sequence[float], title: str, value_title: str, *, percent: bool = False,
               revision: str | None = None) -> go.Figure:
    """Horizontal bars, one per run: long run names stay readable."""
    fig = go.Figure(go.Bar(y=list(labels), x=as_array(values), orientation="h",
                           marker_color=[color(i) for i in range(len(labels))],
                           text=[f"{v:.0%}" if percent else f"{v:.3g}" for v in values], textposition="outside"))
    _layout(fig, title, value_title, "", revision=revision, height=120 + 40 * len(labels))
    if percent:
        fig.update_xaxes(tickformat=".0%", range=[0, 1.15])
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(hovermode="closest", showlegend=False)
    return fig


def gate_saturation_figure(eval_steps: Sequence[int], stats: Sequence[dict], *, revision: str | None = None) -> go.Figure:
    """Share of saturated gate activations (below 0.05 or above 0.95) per gate over training."""
    if not stats:
        return empty_figure("Gate saturation", "gate statistics need the scratch backend and an LSTM or GRU")
    gates = list(stats[-1])
    fig = go.Figure()
    for i, gate in enumerate(gates):
        fig.add_trace(go.Scatter(x=np.asarray(eval_steps, dtype=float), y=as_array(s.get(gate, {}).get("saturated") for s in stats),
                                 name=f"{gate} gate", mode="lines+markers", line=dict(color=color(i), width=2)))
    _layout(fig, "Saturated gate activations (< 0.05 or > 0.95)", "training step", "share of activations", revision=revision)
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return fig


def gate_histogram_figure(stats: dict, *, revision: str | None = None) -> go.Figure:
    """Histogram of each gate's activations in [0, 1] over the latest evaluation window."""
    if not stats:
        return empty_figure("Gate activations", "no gate statistics recorded")
    fig = go.Figure()
    for i, (gate, entry) in enumerate(stats.items()):
        hist = entry.get("histogram") or []
        centers = (np.arange(len(hist)) + 0.5) / max(len(hist), 1)
        fig.add_trace(go.Bar(x=centers, y=hist, name=f"{gate} gate", marker_color=color(i), opacity=0.75))
    _layout(fig, "Gate activations at the latest evaluation", "gate value", "share of activations", revision=revision)
    fig.update_layout(barmode="overlay", hovermode="closest")
    fig.update_yaxes(tickformat=".0%")
    return fig


# -- comparing runs ---------------------------------------------------------------------------------
def overlay_figure(curves: Sequence[dict], title: str, x_title: str, y_title: str, *, log_y: bool = False,
                   smoothing: float = 0.0, markers: bool = False, revision: str | None = None) -> go.Figure:
    """Several runs on one chart. Each curve: {"label", "x", "y"}; optional smoothing (0 to 0.99);
    markers for sparse series (evaluations), where a single point would not show as a line."""
    curves = [c for c in curves if len(c["x"])]
    if not curves:
        return empty_figure(title, "no data yet")
    fig = go.Figure()
    uppers, drawn = [], []
    for i, curve in enumerate(curves):
        x, y = np.asarray(curve["x"], dtype=float), as_array(curve["y"])
        if log_y:
            y = _positive(y)
        if smoothing:
            fig.add_trace(go.Scatter(x=downsample(x, y)[0], y=downsample(x, y)[1], mode="lines", showlegend=False,
                                     line=dict(color=color(i), width=1), opacity=0.25, hoverinfo="skip"))
            y = smooth(y, smoothing)
        xs, ys = downsample(x, y)
        fig.add_trace(go.Scatter(x=xs, y=ys, name=curve["label"], mode="lines+markers" if markers else "lines",
                                 line=dict(color=color(i), width=2), marker=dict(size=5)))
        uppers.append(robust_upper(y))
        drawn.append(ys)
    _layout(fig, title, x_title, y_title, log_y=log_y, revision=revision)
    if log_y:
        _log_ticks(fig, drawn)
    if not log_y and uppers and all(uppers):  # every curve has a blow-up to cut off
        fig.update_yaxes(range=[0, max(uppers)])
    elif not log_y:
        fig.update_yaxes(rangemode="tozero")
    return fig
