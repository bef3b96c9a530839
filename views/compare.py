"""Compare: runs side by side (curves, numbers, samples), and races of architectures watched live."""

import streamlit as st

from playground.viz import charts, label_charts
from playground.runstore.summaries import baseline_ranking, compare_frame, extra_metrics, headline_metric, task_of
from ui.context import history, store
from ui.polling import live_section
from ui.race import draw_race_form
from ui.layout import chart_columns
from ui.plot import plot
from ui.run_panel import duration
from ui.runs import pick_runs, recent_runs, short_label, status_text
from ui.plain import plain

st.title("Compare")
runs = recent_runs()
draw_race_form(expanded=not runs)
chosen = pick_runs("Runs to compare", runs, default=list(runs)[:2],
                   help="The selection is part of the page's address: share the link to share the comparison.")
if not chosen:
    st.info("Pick two or more runs above, or start a race.", icon=":material/arrow_upward:")
    st.stop()
smoothing = st.slider("Smoothing of training curves", 0.0, 0.99, 0.8, step=0.01, key="smoothing", bind="query-params",
                      help="An exponential moving average, as in TensorBoard; the faint lines are the raw values.")


COLORS = charts.colors_for(chosen)  # one colour per run on every chart of the page


def curves(records, histories, x: str, y: str, source: str = "steps") -> list[dict]:
    out = []
    for run_id, record in records.items():
        h = histories[run_id]
        xs = h.column("time") if x == "time" else h.step_numbers(source)
        out.append({"label": short_label(record), "x": xs, "y": h.column(y, source), "color": COLORS[run_id]})
    return out


def flow_curves(records, histories) -> list[dict]:
    out = []
    for run_id, record in records.items():
        steps, flows = histories[run_id].gradient_flows()
        if steps:
            out.append({"label": f"{short_label(record)} @ {steps[-1]}", "flow": flows[-1], "color": COLORS[run_id]})
    return out


def draw() -> bool:
    records = {run_id: store().get_run(run_id) for run_id in chosen}
    records = {run_id: record for run_id, record in records.items() if record is not None}
    histories = {run_id: history(record) for run_id, record in records.items()}
    for record in records.values():
        if record.live:
            elapsed = histories[record.id].elapsed()
            st.progress(min(record.step / max(record.total_steps, 1), 1.0),
                        text=plain(f"{short_label(record)} · {status_text(record)} · step {record.step:,} of "
                                   f"{record.total_steps:,} · {duration(elapsed)} {record.message}"))
    units = {task_of(r).loss.unit if task_of(r) else "loss" for r in records.values()}
    loss_axis = f"loss ({units.pop()})" if len(units) == 1 else "loss (each task's own unit)"
    rows = [
        (charts.overlay_figure(curves(records, histories, "step", "loss"), "Training loss by step", "training step",
                               loss_axis, smoothing=smoothing, revision="by-step"),
         charts.overlay_figure(curves(records, histories, "time", "loss"), "Training loss by wall-clock time",
                               "seconds since the run started", loss_axis, smoothing=smoothing, revision="by-time")),
        (charts.overlay_figure(curves(records, histories, "step", "val_loss", "evals"), "Validation loss",
                               "training step", loss_axis, revision="val"),
         charts.overlay_figure(curves(records, histories, "step", "grad_norm"), "Global gradient norm before clipping",
                               "training step", "‖g‖ (log scale)", log_y=True, smoothing=smoothing, revision="norm")),
    ]
    for index, (left, right) in enumerate(rows):
        columns = chart_columns(key=f"compare-{index}")
        plot(left, f"compare-{index}-left", columns[0])
        plot(right, f"compare-{index}-right", columns[1])
    left, right = chart_columns(key="compare-flow")
    plot(charts.flow_vs_lag_figure(flow_curves(records, histories), revision="flow"), "compare-flow", left)
    right.markdown("**Reading the gradient-flow chart**")
    right.caption("Each line is the latest measurement of ‖∂L_T/∂x_t‖ against the lag T − t. The steeper it falls, "
                  "the less the loss at T can teach the network about inputs that many steps back. Same data and "
                  "seed make the comparison fair: only the architecture or setting differs.")

    st.subheader("Numbers")
    table = compare_frame(list(records.values()), histories)
    table["run"] = [short_label(record) for record in records.values()]  # same-named runs stay apart
    metric_names = {headline_metric(r).replace("_", " ") for r in records.values()}
    metric_names |= {m.name.replace("_", " ") for r in records.values() for m in extra_metrics(r)}
    st.dataframe(table.drop(columns=["id"]), hide_index=True, column_config={
        "parameters": st.column_config.NumberColumn(format="%d"),
        "lr": st.column_config.NumberColumn(format="%.4g"),
        "train loss": st.column_config.NumberColumn(format="%.3f"),
        "val loss": st.column_config.NumberColumn(format="%.3f"),
        **{name: st.column_config.NumberColumn(format="%.3f") for name in metric_names},
        "clipped steps": st.column_config.NumberColumn(format="percent"),
        "tokens/s": st.column_config.NumberColumn(format="%.0f"),
        "time (s)": st.column_config.NumberColumn(format="%.1f"),
    })

    ranking = baseline_ranking(list(records.values()), histories, {r.id: short_label(r) for r in records.values()})
    if not ranking.empty:  # tasks that score baselines on the same held-out data (forecasting)
        st.subheader("Runs against the baselines")
        st.caption("Ranked by each task's headline metric on the same held-out data; baselines are fitted on the "
                   "same training part. A run below persistence has learned nothing a forecaster would use.")
        st.dataframe(ranking, hide_index=True, key="baseline-ranking", column_config={
            name: st.column_config.NumberColumn(format="%.4g") for name in ranking.columns
            if name not in ("rank", "data", "entry", "kind")})

    confusions = {run_id: histories[run_id].evals[-1].get("confusion") for run_id in records if histories[run_id].evals}
    confusions = {run_id: c for run_id, c in confusions.items() if isinstance(c, dict) and c.get("classes")}
    if confusions:  # runs of a task that labels: where each one errs, side by side
        st.subheader("Confusion matrices")
        columns = st.columns(min(len(confusions), 3))
        for i, (run_id, confusion) in enumerate(confusions.items()):
            step = histories[run_id].evals[-1]["step"]
            plot(label_charts.confusion_figure(confusion["classes"], confusion["counts"],
                                               title=f"{short_label(records[run_id])} at step {step:,}",
                                               revision=f"confusion-{run_id}"), f"compare-confusion-{run_id}",
                 columns[i % len(columns)])
        st.caption("Rows: the true class; columns: the model's answer on held-out data; colour: the share of the row.")

    st.subheader("Samples side by side")
    columns = st.columns(min(len(records), 4))
    for i, (run_id, record) in enumerate(records.items()):
        with columns[i % len(columns)]:
            samples = histories[run_id].samples()
            st.markdown(f"**{plain(short_label(record))}**" + (f" at step {samples[-1][0]:,}" if samples else ""))
            st.code(samples[-1][1] if samples else "(no sample yet)", language=None, wrap_lines=True)
    return any(record.live for record in records.values())


live_section(draw, any(runs[run_id].live for run_id in chosen), key="compare-live")
