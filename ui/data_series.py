"""The Data page's part for forecasting: upload a time series (a CSV checked on the server) and look at
the built-in, generated and uploaded series with the split the forecast task makes."""
from __future__ import annotations

import streamlit as st

from playground.config import TaskConfig
from playground.data import series as series_data
from playground.data.errors import DataError
from playground.data.text import DEFAULT_MAX_BYTES
from playground.tasks.forecast import ForecastTask
from playground.viz.forecast_charts import forecast_figure

from .plain import plain
from .plot import plot
from .uploads import save_new_uploads


def save_series(file) -> str:
    saved = series_data.save_upload(file.getvalue(), file.name)
    st.session_state["series_dataset"] = saved.name
    return (f"Saved **{plain(file.name)}** as series `{saved.name}`: {len(saved.values):,} values. Pick it on Train "
            "with the forecast task.")


def handle_series_uploads() -> None:
    save_new_uploads("series_uploads", save_series, "series_upload_messages")


@st.cache_data(show_spinner="Reading the series...", max_entries=8)
def series_facts(name: str, version: float) -> dict:
    task = ForecastTask(TaskConfig(name="forecast", dataset=name))
    return {**task.describe(), "chart": {"values": task.values.tolist(), "split": task.split, "horizon": 1,
                                         "labels": list(task.series.dates), "at": [], "truth": [], "forecasts": {}}}


def draw() -> None:
    st.divider()
    st.subheader("Time series for forecasting")
    st.markdown("A forecaster reads a window of past values and predicts the next ones. Upload your own series: a "
                "CSV whose last column holds the values, with an optional first column of dates (a header line "
                "like `date,value` is skipped). Rows must be in time order with no gaps.")
    st.file_uploader("A time series (.csv, .tsv, .txt)", type=["csv", "tsv", "txt"], accept_multiple_files=True,
                     key="series_uploads", on_change=handle_series_uploads,
                     max_upload_size=DEFAULT_MAX_BYTES // 1_000_000,
                     help=f"At least {series_data.MIN_POINTS} values. Every line is checked on the server; a bad "
                          "line is named by its number.")
    for kind, message in st.session_state.get("series_upload_messages", []):
        (st.success if kind == "success" else st.error)(
            message, icon=":material/check_circle:" if kind == "success" else ":material/warning:")
    choices = series_data.series_choices()
    kwargs = {} if "series_dataset" in st.session_state else {"index": 0}
    name = st.selectbox("Series", choices, key="series_dataset", **kwargs)
    path = series_data.uploads_dir() / f"{name}.csv"
    try:
        facts = series_facts(name, path.stat().st_mtime if path.is_file() else 0.0)
    except DataError as exc:
        st.error(plain(exc), icon=":material/warning:")
        return
    columns = st.columns(4)
    columns[0].metric("Values", f"{facts['points']:,}")
    columns[1].metric("Training part", f"{facts['train_points']:,}", help="The first 80%: the forecast task's default.")
    columns[2].metric("Held-out tail", f"{facts['heldout_points']:,}",
                      help="The last 20%: a chronological split, never a shuffled one.")
    columns[3].metric("Season", facts["season"] or "none", help="The period of the seasonal-naive baseline and MASE.")
    st.caption(plain(facts["title"] + (f" · {facts['note']}" if facts["note"] else "")))
    plot(forecast_figure(facts["chart"], title=f"{name}: the series and its held-out tail"), key="series-preview")
    st.page_link("views/train.py", label=f"Forecast {plain(name)} on Train", icon=":material/model_training:",
                 query_params={"task": "forecast", "dataset": name})
