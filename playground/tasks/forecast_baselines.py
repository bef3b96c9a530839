"""The forecasts a forecaster tries first, scored like the network on the same held-out origins.

An origin t is a point of the held-out tail: a forecaster sees y[:t] and predicts y[t : t + H].

    persistence     y[t + h] = y[t - 1]                      (the last value, for every step ahead)
    seasonal_naive  y[t + h] = the value one season before    (only where the series has a season m)
    arima           ARIMA(p, d, q) fitted on the training part only (Hannan-Rissanen estimates, d from an
                    augmented Dickey-Fuller test, p and q by AIC), then run over the whole series with those
                    parameters fixed: its Kalman filter's state at each origin gives the H-step forecast
    ets             Holt-Winters exponential smoothing (additive damped trend, and additive season where there is
                    one), fitted on the training part, its recursions then run on with the fitted parameters

Metrics (Hyndman & Koehler 2006): RMSE and MAE over every origin and step ahead, and MASE = MAE / the
in-sample MAE of the (seasonal) naive one-step forecast on the training part: below 1 beats that naive
forecast on average. No baseline ever sees a held-out value it is asked to predict.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

BASELINE_TITLES = {"persistence": "persistence (last value)", "seasonal_naive": "seasonal naive",
                   "arima": "ARIMA", "ets": "exponential smoothing"}


def origins(split: int, length: int, horizon: int, window: int) -> np.ndarray:
    """Every held-out origin: t >= split (the tail), a full window before it, H values after it."""
    return np.arange(max(split, window), length - horizon + 1)


def truth(values: np.ndarray, starts: np.ndarray, horizon: int) -> np.ndarray:
    """(origins, H): the values each origin's forecast is scored against."""
    return values[starts[:, None] + np.arange(horizon)]


def mase_scale(train: np.ndarray, season: int | None) -> float:
    """The in-sample MAE of the naive forecast (seasonal where the series has a season) on the training part."""
    lag = season if season and len(train) > season else 1
    scale = float(np.mean(np.abs(train[lag:] - train[:-lag])))
    return scale if scale > 0 else 1.0


def scores(forecast: np.ndarray, actual: np.ndarray, scale: float) -> dict:
    """RMSE, MAE and MASE of (origins, H) forecasts in the series' own units."""
    error = forecast - actual
    mae = float(np.mean(np.abs(error)))
    return {"rmse": float(np.sqrt(np.mean(error ** 2))), "mae": mae, "mase": mae / scale}


def persistence(values: np.ndarray, starts: np.ndarray, horizon: int) -> np.ndarray:
    return np.repeat(values[starts - 1][:, None], horizon, axis=1)


def seasonal_naive(values: np.ndarray, starts: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """y[t + h] from the same point of the last season seen: y[t + h - m * ceil((h + 1) / m)]."""
    steps = np.arange(horizon)
    back = season * np.ceil((steps + 1) / season).astype(int)
    return values[starts[:, None] + steps - back]


def state_space_forecasts(results, starts: np.ndarray, horizon: int) -> np.ndarray:
    """H-step forecasts from every origin of a statsmodels state-space result run over the whole series:
    from the predicted state a_{t|t-1}, y_{t+j} = Z T^j a + Z (sum of T^i c) + d (time-invariant models)."""
    ssm = results.model.ssm
    design, transition = ssm["design"], ssm["transition"]
    obs_intercept, state_intercept = ssm["obs_intercept"], ssm["state_intercept"]
    for matrix in (design, transition, obs_intercept, state_intercept):
        if matrix.shape[-1] != 1 and matrix.ndim == 3:
            raise ValueError("a time-varying state-space model")
    Z, T = design.reshape(design.shape[:2]), transition.reshape(transition.shape[:2])
    d, c = obs_intercept.reshape(-1), state_intercept.reshape(-1)
    state = results.predicted_state[:, starts]  # (states, origins): E[a_t | y_0 .. y_{t-1}]
    forecasts = []
    for _ in range(horizon):
        forecasts.append((Z @ state)[0] + d[0])
        state = T @ state + c[:, None]
    return np.stack(forecasts, axis=1)


def fit_arima(train: np.ndarray, max_p: int = 3):
    """(fitted ARIMA results, its order) on the training part: d = 1 when an ADF test cannot reject a unit
    root (p > 0.05), then p in 1..max_p and q in 0..1 by AIC (Hannan-Rissanen estimates, which are fast)."""
    from statsmodels.tsa.arima.model import ARIMA
    from statsmodels.tsa.stattools import adfuller

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = 1 if adfuller(train, maxlag=min(12, len(train) // 4))[1] > 0.05 else 0
        best = None
        for p in range(1, max_p + 1):
            for q in (0, 1):
                try:
                    fitted = ARIMA(train, order=(p, d, q), trend="c" if d == 0 else "n").fit(method="hannan_rissanen")
                except (ValueError, np.linalg.LinAlgError):
                    continue  # a non-invertible MA estimate: that order is left out
                if math.isfinite(fitted.aic) and (best is None or fitted.aic < best[0].aic):
                    best = (fitted, (p, d, q))
    if best is None:
        raise ValueError("no ARIMA order could be fitted")
    return best


def arima(values: np.ndarray, split: int, starts: np.ndarray, horizon: int) -> tuple[np.ndarray, str]:
    fitted, order = fit_arima(values[:split])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = fitted.apply(values)  # the same parameters, filtered over the whole series
    return state_space_forecasts(full, starts, horizon), f"ARIMA{order}"


def fit_ets(train: np.ndarray, season: int | None):
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    seasonal = season if season and len(train) >= 2 * season + 2 else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ExponentialSmoothing(train, trend="add", damped_trend=True, seasonal="add" if seasonal else None,
                                     seasonal_periods=seasonal, initialization_method="heuristic" if seasonal else
                                     "estimated")
        return model.fit(), seasonal


def holt_winters(values: np.ndarray, params: dict, season: int | None, starts: np.ndarray,
                 horizon: int) -> np.ndarray:
    """Additive Holt-Winters recursions (statsmodels' own: the season is updated from the previous level and
    trend) over the whole series with fixed parameters, and the H-step forecast made at each origin t from
    the states after y[t - 1]: level + h trend + the season h steps on."""
    alpha, beta = params["smoothing_level"], params["smoothing_trend"]
    gamma = params.get("smoothing_seasonal") or 0.0
    phi = params.get("damping_trend") or 1.0  # 1: an undamped trend
    level, trend, m = params["initial_level"], params["initial_trend"], season or 0
    last = int(starts.max()) if len(starts) else 0
    seasons = np.zeros(last + m + 1)  # seasons[i]: the seasonal term of y[i] (the first m are the initial ones)
    if m:
        seasons[:m] = np.asarray(params["initial_seasons"], dtype=float)
    wanted = {int(t): i for i, t in enumerate(starts)}
    out = np.empty((len(starts), horizon))
    ahead = np.arange(horizon)
    damped = np.cumsum(phi ** (ahead + 1.0))  # phi + phi^2 + ... + phi^h: how far the trend carries h steps on
    for i in range(last):  # take in y[i]
        new_level = alpha * (values[i] - seasons[i]) + (1 - alpha) * (level + phi * trend)
        if m:
            seasons[i + m] = gamma * (values[i] - level - phi * trend) + (1 - gamma) * seasons[i]
        trend = beta * (new_level - level) + (1 - beta) * phi * trend
        level = new_level
        if i + 1 in wanted:  # an origin: forecast y[i + 1 ...] from the states after y[i]
            season_part = seasons[i + 1 + ahead % m] if m else 0.0
            out[wanted[i + 1]] = level + damped * trend + season_part
    return out


def ets(values: np.ndarray, split: int, starts: np.ndarray, horizon: int, season: int | None) -> tuple[np.ndarray, str]:
    fitted, seasonal = fit_ets(values[:split], season)
    name = "Holt-Winters (additive damped trend" + (f", season {seasonal})" if seasonal else ")")
    return holt_winters(values, dict(fitted.params), seasonal, starts, horizon), name


def baseline_forecasts(values: np.ndarray, split: int, horizon: int, window: int, season: int | None,
                       classical: bool = True) -> dict[str, dict]:
    """{baseline: {"forecast": (origins, H), "name": what it is}} on the held-out origins; a classical model
    (ARIMA, ETS; left out unless `classical`) that cannot be fitted has the reason under "error"."""
    starts = origins(split, len(values), horizon, window)
    out = {"persistence": {"forecast": persistence(values, starts, horizon), "name": "last value"}}
    if season and split > season:
        out["seasonal_naive"] = {"forecast": seasonal_naive(values, starts, horizon, season),
                                 "name": f"value one season ({season} steps) before"}
    fitted = (("arima", lambda: arima(values, split, starts, horizon)),
              ("ets", lambda: ets(values, split, starts, horizon, season))) if classical else ()
    for key, make in fitted:
        try:
            forecast, name = make()
        except (ValueError, np.linalg.LinAlgError) as exc:
            out[key] = {"error": f"could not be fitted: {exc}"}
            continue
        out[key] = {"forecast": forecast, "name": name}
    return out
