"""Chart data: long series are downsampled without losing spikes or gaps; figures are SVG Scatter
with non-finite values as gaps; the threshold and clipped steps are drawn."""
import math

import numpy as np
import plotly.graph_objects as go

from playground.viz import charts
from playground.viz.series import as_array, downsample_indices, robust_upper, smooth


def test_as_array_turns_none_nan_and_inf_into_gaps():
    values = as_array([1.0, None, float("nan"), float("inf"), -float("inf"), 2])
    assert np.isnan(values[1:5]).all() and values[0] == 1 and values[5] == 2


def test_downsampling_keeps_spikes_gaps_and_the_last_point():
    y = np.ones(100_000)
    y[31_337] = 1e6  # one exploding step
    y[70_000] = np.nan  # one non-finite step
    index = downsample_indices(y, 2000)
    assert len(index) <= 2100
    assert 31_337 in index and 70_000 in index and 99_999 in index and 0 in index


def test_short_series_are_not_downsampled():
    assert list(downsample_indices(np.arange(10.0), 2000)) == list(range(10))


def test_smoothing_skips_gaps_and_starts_without_bias():
    out = smooth(np.array([2.0, np.nan, 2.0, 2.0]), 0.9)
    assert out[0] == 2.0 and math.isnan(out[1]) and abs(out[3] - 2.0) < 1e-12


def test_robust_upper_ignores_a_final_explosion():
    y = np.concatenate([np.linspace(4, 1, 1000), [1e9]])
    assert robust_upper(y) < 5


def _scatter_points(fig: go.Figure) -> list[int]:
    return [len(trace.x) for trace in fig.data if isinstance(trace, go.Scatter)]


def test_live_charts_stay_light_on_long_runs():
    n = 50_000
    steps = np.arange(1, n + 1)
    loss = np.linspace(4, 1, n)
    fig = charts.loss_figure(steps, loss, [1, n], [4.0, 1.2], baseline=math.log(65))
    assert max(_scatter_points(fig)) <= 2100
    assert not any(isinstance(t, go.Scattergl) for t in fig.data)


def test_gradient_norm_chart_draws_threshold_clipped_steps_gaps_and_clip_changes():
    before = [0.5, 2.0, 3.0, None, 0.4]
    after = [0.5, 1.0, 1.0, None, 0.4]
    clipped = [False, True, True, False, False]
    thresholds = [1.0, 1.0, 1.0, 1.0, float("nan")]
    fig = charts.grad_norm_figure([1, 2, 3, 4, 5], before, after, clipped, thresholds,
                                  [{"step": 5, "message": "clipping off"}], diverged_at=None)
    names = [t.name for t in fig.data]
    assert names == ["‖g‖ before clip", "after clip", "threshold", "clipped"]
    assert fig.layout.yaxis.type == "log"
    assert math.isnan(fig.data[0].y[3])  # the non-finite step is a gap
    assert list(fig.data[3].x) == [2, 3]  # the clipped steps are marked
    assert any("clipping off" in (a.text or "") for a in fig.layout.annotations)


def test_gradient_flow_heatmap_uses_a_log_colour_scale():
    fig = charts.gradient_flow_heatmap([1, 50], [[1e-6, 1e-3, 1.0], [1e-2, 1e-1, 1.0]])
    heatmap = fig.data[0]
    assert heatmap.z.shape == (3, 2)
    assert np.allclose(heatmap.z[:, 0], [-6, -3, 0])
    assert heatmap.colorbar.ticktext[0] == "≤ 10<sup>−6</sup>"  # drawn raised: 10 to the −6


def test_flow_fit_is_a_straight_line_on_a_log_axis():
    rate = 0.8
    flow = [rate ** lag for lag in range(20)][::-1]  # oldest first, lag 0 = last
    lags, values, fitted = charts.flow_fit(flow, rate)
    assert np.allclose(values, fitted)


def test_empty_data_gives_a_placeholder_not_an_error():
    fig = charts.loss_figure([], [])
    assert "waiting" in fig.layout.annotations[0].text
