"""Try a forecaster: its forecast of the held-out tail against the truth and the baselines' forecasts, and
the scores of all of them on the same origins."""
from __future__ import annotations

import streamlit as st

from playground.config import ConfigError
from playground.data.errors import DataError
from playground.runstore.checkpoint import Loaded
from playground.viz.forecast_charts import forecast_figure, score_rows, verdict

from .plain import plain
from .plot import plot

SPLIT_NOTE = ("The held-out part is the **end** of the series (a chronological split, never a shuffled one): "
              "neighbouring values are nearly equal, so a shuffled split would score the model on values it has all "
              "but seen during training, and a real forecast is always of a future nobody has seen.")


def draw_scores(scores: dict, key: str) -> None:
    """The network's and every baseline's RMSE, MAE and MASE on the same origins, best first, and the verdict."""
    st.dataframe(score_rows(scores), hide_index=True, key=key, column_config={
        "RMSE": st.column_config.NumberColumn(format="%.4g"), "MAE": st.column_config.NumberColumn(format="%.4g"),
        "MASE": st.column_config.NumberColumn(format="%.3f", help="MAE divided by the in-sample MAE of the naive "
                                                                  "forecast on the training part: below 1 beats it")})
    said = verdict(scores)
    if said:
        st.markdown(plain(said))


def draw(loaded: Loaded) -> None:
    st.markdown(SPLIT_NOTE)
    try:
        view = loaded.task.forecast_view(loaded.model)
    except (DataError, ConfigError) as exc:
        st.error(f"Cannot forecast this series: {plain(exc)}", icon=":material/warning:")
        return
    plot(forecast_figure(view["chart"], revision="try-forecast"), key="try-forecast")
    st.caption(f"Every point of the held-out tail is an origin ({view['origins']:,} of them): the network reads the "
               f"{view['window']} values before it and forecasts the next {view['chart']['horizon']}; the chart shows "
               "the last of those steps for the latest origins. The baselines forecast the same origins from the "
               "same past.")
    draw_scores(view["scores"], key="try-forecast-scores")
