"""Figures of forecasts: the series, where its held-out tail starts, the truth there and each method's
forecast of it. Plain data in (the `forecast` of an evaluation record), a plotly figure out."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .charts import AFTER, BEFORE, Spec, color, empty_figure
from .series import downsample

METHOD_NAMES = {"model": "this network", "persistence": "persistence", "seasonal_naive": "seasonal naive",
                "arima": "ARIMA", "ets": "exponential smoothing"}


def forecast_figure(chart: dict, *, revision: str | None = None, title: str = "") -> go.Figure:
    """The whole series (grey), the held-out tail's truth (black) and every method's H-step-ahead forecast
    of the latest held-out origins. `chart`: values, split, horizon, labels, at, truth, forecasts {method: values}."""
    horizon = chart.get("horizon", 1)
    title = title or (f"Held-out forecasts, {horizon} step{'s' if horizon > 1 else ''} ahead, against the truth")
    values = np.asarray(chart.get("values") or [], dtype=float)
    if not values.size:
        return empty_figure(title, "measured at the first evaluation...")
    spec = Spec(title, "t (position in the series)", "value", revision=revision)
    labels = chart.get("labels") or []
    t = np.arange(values.size, dtype=float)
    xs, ys = downsample(t, values)
    spec.trace(x=xs, y=ys, name="series", mode="lines", line={"color": BEFORE, "width": 1})
    at = np.asarray(chart.get("at") or [], dtype=float)
    hover = [labels[int(i)] for i in at] if labels and len(labels) == values.size else None
    spec.trace(x=at, y=np.asarray(chart.get("truth") or [], dtype=float), name="truth (held out)", mode="lines",
               line={"color": "#111", "width": 2}, hovertext=hover)
    for i, (method, forecast) in enumerate((chart.get("forecasts") or {}).items()):
        style = {"color": AFTER, "width": 2.5} if method == "model" else {"color": color(i + 1), "width": 1.5,
                                                                          "dash": "dot"}
        spec.trace(x=at, y=np.asarray(forecast, dtype=float), name=METHOD_NAMES.get(method, method), mode="lines",
                   line=style)
    split = chart.get("split")
    if split is not None:
        when = f" ({labels[split]})" if labels and split < len(labels) else ""
        spec.vline(float(split), f"held-out tail starts{when} ", "#666")
    return spec.figure()


def score_rows(scores: dict) -> list[dict]:
    """The scores of the network ("model") and of every baseline as table rows, best RMSE first; a baseline that
    could not be fitted comes last with the reason. `scores`: {method: {"name"?, "rmse", "mae", "mase"} or {"error"}}."""
    rows, failed = [], []
    for method, entry in scores.items():
        title = METHOD_NAMES.get(method, method) + (f" · {entry['name']}" if entry.get("name") else "")
        if "rmse" not in entry:
            failed.append({"forecaster": title, "RMSE": None, "MAE": None, "MASE": None,
                           "note": entry.get("error", "")})
            continue
        rows.append({"forecaster": title, "RMSE": entry["rmse"], "MAE": entry["mae"], "MASE": entry["mase"],
                     "note": "the network" if method == "model" else "baseline"})
    return sorted(rows, key=lambda row: row["RMSE"]) + failed


def verdict(scores: dict) -> str:
    """One sentence: does the network beat persistence and the best baseline (by RMSE)?"""
    model = scores.get("model", {}).get("rmse")
    fitted = {m: e["rmse"] for m, e in scores.items() if m != "model" and "rmse" in e}
    if model is None or not fitted:
        return ""
    best = min(fitted, key=fitted.get)
    persistence = fitted.get("persistence")
    if persistence is not None and model >= persistence:
        return (f"The network does not beat persistence (RMSE {model:.4g} against {persistence:.4g}): it has learned "
                "nothing a forecaster would use. On small real series classical methods often win (the M4 "
                "competition's finding).")
    if model > fitted[best]:
        return (f"The network beats persistence but loses to {METHOD_NAMES.get(best, best)} (RMSE {model:.4g} against "
                f"{fitted[best]:.4g}): on small real series classical methods often win (the M4 competition's finding).")
    return f"The network beats every baseline: RMSE {model:.4g}, the best baseline ({METHOD_NAMES.get(best, best)}) {fitted[best]:.4g}."
