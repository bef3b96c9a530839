"""The classical baselines are what their names say: each checked against a direct computation or against
statsmodels' own forecast of one origin."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from playground.data.series import load_series
from playground.tasks import forecast_baselines as fb


def test_persistence_and_seasonal_naive_by_hand():
    values = np.arange(20, dtype=float) ** 2
    starts = np.array([10, 15])
    assert fb.persistence(values, starts, 3).tolist() == [[81, 81, 81], [196, 196, 196]]
    # season 4: y[t + h] is the value 4 steps before it (8 steps before when h >= 4)
    assert fb.seasonal_naive(values, starts[:1], 5, 4).tolist() == [[36, 49, 64, 81, 36]]


def test_scores_and_the_mase_scale():
    scored = fb.scores(np.array([[1.0, 2.0]]), np.array([[2.0, 4.0]]), scale=0.5)
    assert scored == pytest.approx({"rmse": np.sqrt(2.5), "mae": 1.5, "mase": 3.0})
    train = np.array([0.0, 1.0, 3.0, 6.0, 10.0])
    assert fb.mase_scale(train, None) == pytest.approx(2.5)  # mean |y_t - y_{t-1}|
    assert fb.mase_scale(train, 2) == pytest.approx((3 + 5 + 7) / 3)  # mean |y_t - y_{t-2}|


def test_arima_rolling_forecasts_match_statsmodels_dynamic_prediction():
    values = load_series("sunspots").values
    split = 240
    fitted, order = fb.fit_arima(values[:split], max_p=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = fitted.apply(values)
    starts = np.array([split, split + 7, len(values) - 4])
    ours = fb.state_space_forecasts(full, starts, 4)
    for row, t in zip(ours, starts):
        theirs = full.get_prediction(start=int(t), end=int(t) + 3, dynamic=0).predicted_mean
        assert row == pytest.approx(np.asarray(theirs), rel=1e-8)
    assert np.array_equal(full.params, fitted.params)  # run over the tail with the training part's parameters


def test_holt_winters_recursions_match_statsmodels():
    series = load_series("sines")
    values, split = series.values, 700
    fitted, season = fb.fit_ets(values[:split], series.season)
    params = dict(fitted.params)
    starts = np.arange(100, split)
    one_step = fb.holt_winters(values, params, season, starts, 1)[:, 0]
    assert one_step == pytest.approx(fitted.fittedvalues[starts], abs=1e-9)
    ahead = fb.holt_winters(values, params, season, np.array([split]), season - 1)[0]
    assert ahead == pytest.approx(fitted.forecast(season - 1), abs=1e-9)


def test_every_baseline_forecasts_the_same_origins():
    series = load_series("sines")
    made = fb.baseline_forecasts(series.values, 760, 3, 20, series.season)
    assert set(made) == {"persistence", "seasonal_naive", "arima", "ets"}
    shapes = {entry["forecast"].shape for entry in made.values()}
    assert shapes == {(len(fb.origins(760, len(series.values), 3, 20)), 3)}
