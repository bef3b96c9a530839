"""Figure builders for the gradient lab (the Gradients page's experiments). No Streamlit here.

Plain data in (lists, dicts of lists), plotly figures out, in the same style as `charts.py`:
SVG scatter traces, long series downsampled, non-finite values drawn as gaps.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from .charts import CLIPPED, DIVERGED, Spec, _positive, color, empty_figure
from .series import as_array, downsample_indices

THEORY = "#555555"


def flow_at_init_figure(curves: Sequence[dict], spectral_radius: float, *, revision: str | None = None) -> go.Figure:
    """||dL_T/dx_t|| against lag for untrained models, each divided by its value at lag 0, beside
    radius^lag (a linearised vanilla RNN). Each curve: {"label", "flow"} with flow[k] at lag k."""
    title = f"Gradient flow at initialisation (ρ = {spectral_radius:g})"
    curves = [c for c in curves if len(c["flow"])]
    if not curves:
        return empty_figure(title, "choose at least one architecture")
    spec = Spec(title, "lag T − t (steps back from the loss)", "‖∂L_T/∂x_t‖ / ‖∂L_T/∂x_T‖ (log)", log_y=True,
                revision=revision)
    drawn = []
    longest = 0
    for i, curve in enumerate(curves):
        flow = as_array(curve["flow"])
        start = flow[0] if flow.size and np.isfinite(flow[0]) and flow[0] > 0 else np.nan
        relative = _positive(flow / start)
        lags = np.arange(flow.size, dtype=float)
        spec.trace(x=lags, y=relative, name=curve["label"], mode="lines", line={"color": color(i), "width": 2})
        drawn.append(relative)
        longest = max(longest, flow.size)
    lags = np.arange(longest, dtype=float)
    theory = _positive(np.power(float(spectral_radius), lags))
    spec.trace(x=lags, y=theory, name=f"theory ρ^lag = {spectral_radius:g}^lag", mode="lines",
               line={"color": THEORY, "width": 2, "dash": "dash"})
    floor = [d[np.isfinite(d)] for d in drawn]
    smallest = min((f.min() for f in floor if f.size), default=1e-12)
    if np.nanmin(theory) < smallest * 1e-3:  # keep a steep theory line from flattening the measured curves
        spec.layout["yaxis"]["range"] = [np.log10(max(smallest, 1e-30)) - 1, None]
    spec.log_ticks(drawn + [theory])
    return spec.figure()


def twins_figure(twins: Sequence[dict], title: str, y_title: str, *, log_y: bool = True,
                 revision: str | None = None) -> go.Figure:
    """The clipping twins on one chart. Each twin: {"label", "steps", "values", "clip_steps", "diverged_at"};
    clip events are crosses on the curve, a divergence a vertical line in the twin's colour."""
    twins = [t for t in twins if len(t["steps"])]
    if not twins:
        return empty_figure(title, "waiting for the first training steps...")
    spec = Spec(title, "training step", y_title, log_y=log_y, revision=revision)
    drawn = []
    for i, twin in enumerate(twins):
        x, y = np.asarray(twin["steps"], dtype=float), as_array(twin["values"])
        if log_y:
            y = _positive(y)
        keep = downsample_indices(y)
        spec.trace(x=x[keep], y=y[keep], name=twin["label"], mode="lines", line={"color": color(i), "width": 1.8})
        drawn.append(y[keep])
        clip_steps = np.asarray(twin.get("clip_steps") or [], dtype=float)
        if clip_steps.size:
            on_curve = np.interp(clip_steps, x, np.nan_to_num(y, nan=np.nanmax(y) if np.isfinite(y).any() else 1.0))
            pick = downsample_indices(on_curve, 400)
            spec.trace(x=clip_steps[pick], y=on_curve[pick], name="clip event", legendgroup="clip events",
                       mode="markers", marker={"color": CLIPPED, "size": 5, "symbol": "x-thin",
                                               "line": {"width": 1.2, "color": color(i)}}, showlegend=not any(t.get("name") == "clip event" for t in spec.traces))
        if twin.get("diverged_at") is not None:
            spec.vline(twin["diverged_at"], f"{twin['label']}: diverged at {twin['diverged_at']}",
                       DIVERGED, dash="solid", top=False)
    if log_y:
        spec.log_ticks(drawn)
    return spec.figure()


def sweep_figure(curves: dict[str, tuple[Sequence[int], Sequence[float | None]]], metric: str,
                 solved_threshold: float | None, higher_is_better: bool, longest_solved: dict[str, int | None], *,
                 revision: str | None = None) -> go.Figure:
    """Held-out metric against sequence length T, one line per architecture, the solved threshold dashed.
    `curves`: {arch: (T values, metric at each or None while it has no evaluation)}."""
    title = f"Held-out {metric} against sequence length T"
    curves = {arch: c for arch, c in curves.items() if len(c[0])}
    if not curves:
        return empty_figure(title, "no runs in this sweep yet")
    log_y = not higher_is_better  # an error (MSE) spans decades; accuracy sits in [0, 1]
    spec = Spec(title, "sequence length T", f"{metric}{' (log)' if log_y else ''}", log_y=log_y, revision=revision)
    drawn = []
    for i, (arch, (seq_lens, values)) in enumerate(curves.items()):
        y = as_array(values)
        if log_y:
            y = _positive(y)
        best = longest_solved.get(arch)
        label = f"{arch} (solved up to T={best})" if best else f"{arch} (solved none)"
        spec.trace(x=np.asarray(seq_lens, dtype=float), y=y, name=label, mode="lines+markers",
                   line={"color": color(i), "width": 2}, marker={"size": 8})
        drawn.append(y)
    if solved_threshold is not None:
        spec.hline(solved_threshold, f"solved: {metric} {'≥' if higher_is_better else '≤'} {solved_threshold:g}")
    if log_y:
        spec.log_ticks(drawn + [np.array([solved_threshold or np.nan])])
    else:
        spec.layout["yaxis"].update(range=[0, 1.05], tickformat=".0%")
    return spec.figure()


def gate_timeline_figure(gate: str, steps: Sequence[int], histograms: Sequence[Sequence[float]],
                         bin_edges: Sequence[float], *, revision: str | None = None) -> go.Figure:
    """One gate's activation histogram at each evaluation as a heatmap: training step across, gate value up."""
    title = f"{gate} gate: where its activations lie over training"
    if not len(steps):
        return empty_figure(title, "no gate statistics recorded")
    edges = np.asarray(bin_edges, dtype=float)
    centres = (edges[:-1] + edges[1:]) / 2
    z = np.array([as_array(h) for h in histograms]).T  # rows: gate-value bins, columns: evaluations
    spec = Spec(title, "training step", "gate value", revision=revision, height=280)
    spec.traces.append({"type": "heatmap", "x": np.asarray(steps, dtype=float), "y": centres, "z": z,
                        "colorscale": "Blues", "zmin": 0, "colorbar": {"title": {"text": "share"}, "tickformat": ".0%"},
                        "hovertemplate": "step %{x}<br>gate ≈ %{y:.2f}<br>%{z:.1%} of activations<extra></extra>"})
    spec.layout.update(hovermode="closest")
    spec.layout["yaxis"]["range"] = [0, 1]
    return spec.figure()


def saturation_figure(timelines: dict[str, tuple[Sequence[int], Sequence[float]]], *,
                      revision: str | None = None) -> go.Figure:
    """Share of saturated activations (< 0.05 or > 0.95) per gate over training. {gate: (steps, shares)}."""
    title = "Saturated gate activations (< 0.05 or > 0.95)"
    if not timelines:
        return empty_figure(title, "no gate statistics recorded")
    spec = Spec(title, "training step", "share saturated", revision=revision, height=280)
    for i, (gate, (steps, shares)) in enumerate(timelines.items()):
        spec.trace(x=np.asarray(steps, dtype=float), y=as_array(shares), name=f"{gate} gate", mode="lines+markers",
                   line={"color": color(i), "width": 2}, marker={"size": 5})
    spec.layout["yaxis"].update(tickformat=".0%", rangemode="tozero")
    return spec.figure()
