"""Issue 15: charts that read at a glance. Legends under the plot with short labels, readable log ticks, one
colour per run across a page, the gradient-flow heatmap as ratios on one fixed scale, numbers for reading."""
from __future__ import annotations

import math

import numpy as np
import pytest

from playground.viz import charts
from playground.viz.layout import legend_rows, log_ticks, short_label, wrap_title
from playground.viz.numbers import readable, tick_label


def _curves(count: int, long: bool = False) -> list[dict]:
    name = "a rather long run name that goes on and on to test legends"
    return [{"label": f"{name if long else 'lstm'} · {i:04d}", "x": [1, 2, 3], "y": [3.0, 2.0, 1.0 + i]}
            for i in range(count)]


@pytest.mark.parametrize("count", [1, 3, 10])
@pytest.mark.parametrize("long", [False, True])
def test_the_legend_sits_under_the_plot_and_the_figure_grows_by_its_rows(count, long):
    fig = charts.overlay_figure(_curves(count, long), "Training loss by step", "training step", "loss")
    if count == 1:  # plotly shows no legend for one trace: no room is kept for one
        assert fig.layout.height == charts.HEIGHT
        return
    legend = fig.layout.legend
    assert legend.yref == "container" and legend.y == 0 and legend.yanchor == "bottom"  # never over the title
    names = [t.name for t in fig.data if t.showlegend is not False]
    assert all(len(n) <= 28 for n in names)  # cut, so an entry never runs off the chart
    rows = legend_rows(names)
    assert fig.layout.height == charts.HEIGHT + 20 * rows + 8  # the plot keeps its own height
    assert fig.layout.margin.b >= 20 * rows
    assert rows <= math.ceil(count / 2)


def test_a_cut_label_keeps_the_full_name_on_hover_and_markup_is_text():
    name = "<b>bold</b> run whose name is far too long for a legend · 1a2b"
    fig = charts.overlay_figure([{"label": name, "x": [1, 2], "y": [1, 2]}, *_curves(1)], "t", "x", "y")
    trace = fig.data[0]
    assert trace.name.endswith("1a2b") and "…" in trace.name and "<b>" not in trace.name
    assert trace.meta == name.replace("<", "&lt;").replace(">", "&gt;") and "%{meta}" in trace.hovertemplate
    assert short_label("short") == "short"


def test_log_ticks_label_decades_and_halves_as_whole_numbers():
    values, labels = log_ticks(0.3, 40)
    assert labels == ["0.5", "1", "5", "10"]  # halves between decades, never a bare "5" under "1"
    values, labels = log_ticks(2e-9, 5e3)  # many decades: every second power of ten
    assert all(math.log10(v).is_integer() for v in values) and labels[0].startswith("10<sup>−") and len(values) <= 8
    values, labels = log_ticks(48, 52)  # inside one stretch of a decade: still two labelled ticks
    assert len(values) >= 2 and all(48 <= v <= 52 for v in values)
    for low, high in [(1e-30, 1), (0.01, 0.02), (3, 9e6), (1.1, 1.3)]:
        values, labels = log_ticks(low, high)
        assert len(values) >= 2 and all(low <= v <= high for v in values)
        assert all(_number(label) == pytest.approx(v) for label, v in zip(labels, values))
    _, labels = log_ticks(1, 1e8)  # one form for every power of ten on an axis: not "10000" beside "1e+6"
    assert labels == ["1", "100", "10<sup>4</sup>", "10<sup>6</sup>", "10<sup>8</sup>"]


def _number(label: str) -> float:
    """A tick label read back: "0.5", "10<sup>−4</sup>", "2×10<sup>6</sup>"."""
    if "<sup>" not in label:
        return float(label)
    mantissa, _, power = label.partition("10<sup>")
    return float(mantissa.rstrip("×") or 1) * 10.0 ** int(power.removesuffix("</sup>").replace("−", "-"))


def test_log_axes_get_those_ticks():
    fig = charts.overlay_figure(_curves(2), "Global gradient norm", "step", "‖g‖", log_y=True)
    assert fig.layout.yaxis.tickmode == "array" and len(fig.layout.yaxis.tickvals) >= 2
    assert list(fig.layout.yaxis.ticktext) == [tick_label(v) for v in fig.layout.yaxis.tickvals]


def test_a_run_keeps_its_colour_when_another_has_nothing_to_draw():
    colours = charts.colors_for(["lstm", "esn", "gru"])
    curves = [{"label": run, "x": [1, 2], "y": [1.0, 2.0] if run != "esn" else [None, None], "color": colours[run]}
              for run in colours]  # an echo state network has no gradient norms
    fig = charts.overlay_figure(curves, "‖g‖", "step", "‖g‖", log_y=True)
    drawn = {t.name: t.line.color for t in fig.data}
    assert drawn == {"lstm": colours["lstm"], "gru": colours["gru"]} and colours["gru"] == charts.color(2)
    plain = charts.overlay_figure([{k: v for k, v in c.items() if k != "color"} for c in curves], "‖g‖", "s", "g")
    assert {t.name: t.line.color for t in plain.data}["gru"] == charts.color(2)  # without colours: its place


def test_flow_heatmap_shows_ratios_to_the_last_step_on_one_fixed_scale():
    flows = [[1e-4, 1e-2, 2.0], [0.0, 0.5, 0.5], [1.19, 1.1, 1.0]]
    fig = charts.gradient_flow_heatmap([1, 50, 100], flows)
    heatmap = fig.data[0]
    for j, flow in enumerate(flows):  # against a direct computation
        expected = [math.log10(v / flow[-1]) if v > 0 else np.nan for v in flow]
        np.testing.assert_allclose(np.asarray(heatmap.z, dtype=float)[:, j], expected)
    assert (heatmap.zmin, heatmap.zmax) == charts.FLOW_RANGE  # the same colour means the same ratio in every run
    assert len(heatmap.colorbar.ticktext) >= 3 and heatmap.colorbar.ticktext[-2] == "1"
    assert heatmap.customdata[0][1] == "below float precision (0)"
    grey = fig.data[1]  # underflowed cells are drawn, not left blank
    assert grey.z[0][1] == 1 and np.isnan(grey.z[1][1])
    assert any("below float precision" in (a.text or "") for a in fig.layout.annotations)


def test_numbers_read_well():
    assert readable(2.926733287637822e+34) == "2.93e+34"
    assert readable(8570309099739825000) == "8.57e+18"
    assert readable(None) == "–" and readable(float("inf")) == "∞" and readable(float("nan")) == "NaN"
    assert readable(48.523) == "48.5" and readable(0.012345) == "0.0123" and readable(123456) == "123,456"
    assert readable(3.0) == "3" and readable(0) == "0" and readable(1e-5) == "1e-5"


def test_long_titles_wrap_for_narrow_charts():
    title = "Gradient flow through time: ‖∂L_T/∂x_t‖ relative to the last step T"
    lines = wrap_title(title, 40).split("<br>")
    assert len(lines) == 2 and all(len(line) <= 40 for line in lines) and " ".join(lines) == title


def test_one_diverged_run_does_not_flatten_the_others():
    """Losses near 3 beside a run that went to 4e8 (Compare, 10 runs): the axis fits the others, and a note
    names the run above the chart with its peak."""
    steps = list(range(1, 31))
    curves = [{"label": f"lstm {i}", "x": steps, "y": list(np.linspace(3.0 - i * 0.1, 2.0, 30))} for i in range(4)]
    curves.append({"label": "rnn-relu <b>blown</b>", "x": steps[:4], "y": [3.0, 4.4e8, 1.8e8, 1.3e8]})
    fig = charts.overlay_figure(curves, "Training loss by step", "training step", "loss")
    low, high = fig.layout.yaxis.range
    assert low == 0 and 3.0 <= high < 10
    notes = [a.text for a in fig.layout.annotations if "above the chart" in a.text]
    assert notes == ["↑ above the chart: rnn-relu &lt;b&gt;blown&lt;/b&gt; (up to 4.4e+8)"]
    calm = charts.overlay_figure(curves[:4], "Training loss by step", "training step", "loss")
    assert calm.layout.yaxis.range is None  # nothing to cut: the axis scales itself from zero
