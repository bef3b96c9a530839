"""Gradients: a deep-dive into how gradient flows back through time in one or more runs."""

import math

import pandas as pd
import streamlit as st

from playground.models.cells import CELLS
from playground.runstore.history import JACOBIAN_LABELS
from playground.viz import charts
from playground.train.diagnostics import decay_rate
from ui.context import history, store
from ui.polling import live_section
from ui.layout import chart_columns
from ui.plot import plot
from ui.runs import newest, pick_runs, recent_runs, short_label
from ui import lab_flow, lab_gates, lab_sweep, lab_twins
from ui.plain import plain
from playground.viz.numbers import readable

st.title("Gradients")
st.markdown(
    "Backpropagation through time multiplies one Jacobian per step. If those factors are mostly below 1 the "
    "gradient from the loss at step T **vanishes** before it reaches early inputs, and the network cannot learn "
    "long-range dependencies; above 1 it **explodes**. Pick runs to see which happened.")

your_runs_tab, *experiment_tabs = st.tabs(["Your runs", "Flow at init", "Clipping twins", "Memory sweep", "Gate watch"])
with your_runs_tab:
    runs = recent_runs()
    chosen = pick_runs("Runs", runs, default=[newest(runs)] if runs else [])
    if not chosen:
        st.info("No runs yet: start one on the Train page, or race a few architectures on Compare.", icon=":material/arrow_back:")


NO_RATE = ("no rate: lag here is not distance from the loss (a bidirectional core, or an encoder whose gradient "
           "arrives through a decoder)")


def halving(rate: float | None) -> str:
    """A rate per step in words: how many steps back the gradient halves (or doubles)."""
    if not rate or rate == 1 or not math.isfinite(rate):
        return "–"
    steps = abs(math.log(0.5) / math.log(rate))
    return f"halves every {steps:.1f} steps" if rate < 1 else f"doubles every {steps:.1f} steps"


def flow_ratio(flow: list) -> str:
    """‖∂L_T/∂x_0‖ / ‖∂L_T/∂x_T‖ for reading: an underflowed 0 is said, not shown as 0.00e+0."""
    first, last = (flow[0], flow[-1]) if flow else (None, None)
    if first == 0:
        return "below float precision"
    if not first or not last or not all(map(math.isfinite, (first, last))):
        return readable(None)
    return readable(first / last)


def flow_section(records, histories) -> None:
    st.subheader("Gradient flow against lag")
    st.caption("‖∂L_T/∂x_t‖ on a fixed held-out batch: lag 0 is the step where the loss is taken. A straight line on "
               "this log axis is exponential decay; the dotted fit gives its factor per step.")
    all_steps = sorted({s for h in histories.values() for s in h.gradient_flows()[0]})
    if not all_steps:
        st.info("No gradient-flow measurements yet: the first one comes at step 1.")
        return
    default = sorted({all_steps[0], all_steps[-1]})
    kwargs = {} if "at" in st.session_state else {"default": default}
    at = st.multiselect("At training steps", all_steps, key="at", bind="query-params", **kwargs,
                        help="Each run is shown at its evaluation nearest to each chosen step.") or default
    curves, rows = [], []
    colors = charts.colors_for(chosen)  # the same colour for a run on every chart of the page
    for run_id, record in records.items():
        steps, flows = histories[run_id].gradient_flows()
        if not steps:
            continue
        causal = histories[run_id].flow_causal(record.config.model.bidirectional)
        # each chosen step's nearest evaluation, once: a run that diverged at step 4 has one, whatever was asked
        picked = list(dict.fromkeys(min(range(len(steps)), key=lambda k: abs(steps[k] - step)) for step in sorted(at)))
        for nearest in picked:
            rate = decay_rate(flows[nearest]) if causal else None
            later = nearest != picked[-1]  # a run keeps its colour; its earlier steps are fainter
            curves.append({"label": f"{short_label(record)} @ {steps[nearest]}", "flow": flows[nearest], "rate": rate,
                           "color": colors[run_id], "opacity": 0.45 if later else 1.0})
            words = halving(rate) if causal else NO_RATE
            rows.append({"run": short_label(record), "step": steps[nearest], "factor per step": rate,
                         "in words": words, "‖∂L_T/∂x_0‖ / ‖∂L_T/∂x_T‖": flow_ratio(flows[nearest])})
    plot(charts.flow_vs_lag_figure(curves, revision="flow-lag"), "flow-lag")
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
        "factor per step": st.column_config.NumberColumn(format="%.3f")})


def spectral_section(records, histories) -> None:
    st.subheader("Block radius and the state Jacobian")
    st.caption("The block radius is the largest |eigenvalue| of W_hh (for an LSTM or GRU, of its candidate block "
               "alone). It is not what gradients meet: each step back multiplies them by the state Jacobian "
               "∂s_t/∂s_{t-1}, gates and nonlinearity included, and for a non-normal W_hh even ρ < 1 allows growth "
               "(only a largest singular value below 1 guarantees shrinking for tanh). The Jacobian radius is that "
               "Jacobian's mean spectral radius on held-out sequences; the growth per step is how much a "
               "backpropagated gradient actually grows (> 1) or shrinks (< 1) each step along them.")
    readouts = list(JACOBIAN_LABELS.values())
    few = ["Jacobian radius", "block radius"]  # four readouts for ten runs made a legend of forty entries
    kwargs = {} if "rho_readouts" in st.session_state else {"default": readouts if len(records) <= 2 else few}
    shown = st.pills("Readouts", readouts, selection_mode="multi", key="rho_readouts", **kwargs,
                     help="Each readout is one line per run and layer: with many runs, show fewer at once.") or few
    series, styles = {}, {}
    colors = charts.colors_for(chosen)  # the same colour for a run on every chart of the page
    for run_id, record in records.items():
        # the readout first, the run last: a legend cut in the middle keeps both ("l0 block radius…tiny · 3350")
        jacobian = {f"{label} · {short_label(record)}": values
                    for label, values in histories[run_id].jacobian_series().items()}
        if not jacobian:  # no Jacobian readouts recorded: the block radius alone
            jacobian = {f"{layer} block radius · {short_label(record)}": values
                        for layer, values in histories[run_id].spectral_radii().items()}
        jacobian = {label: values for label, values in jacobian.items() if any(f" {r} · " in label for r in shown)}
        series.update(jacobian)
        styles.update({label: (colors[run_id], k) for k, label in enumerate(jacobian)})  # run = colour, readout = dash
    plot(charts.layer_readout_figure(series, "Block radius and the state Jacobian over training", "per step",
                                     styles=styles, revision="rho"), "rho")


def norms_section(records, histories) -> None:
    st.subheader("How large the gradients were, and how often clipping fired")
    trained = {run_id: record for run_id, record in records.items()
               if getattr(CELLS.get(record.config.model.arch), "trains_by_gradient", True)}
    if len(trained) < len(records):  # a reservoir's readout is solved in closed form: no gradient steps to chart
        others = ", ".join(short_label(r) for run_id, r in records.items() if run_id not in trained)
        st.caption(f"{others}: no weights learn by gradient, so there are no gradient norms or clipping to show.")
    records = trained
    if not records:
        return
    by_run = charts.colors_for(chosen)
    colors = {short_label(record): by_run[run_id] for run_id, record in records.items()}
    norms = {short_label(record): histories[run_id].column("grad_norm") for run_id, record in records.items()}
    thresholds = {short_label(record): record.config.train.clip_threshold
                  for record in records.values() if record.config.train.clip == "norm"}
    left, right = chart_columns(spec=[3, 2], key="norms")
    plot(charts.norm_distribution_figure(norms, thresholds, colors=colors, revision="dist"), "dist", left)
    names = [short_label(record) for record in records.values()]
    fractions = [histories[run_id].clipped_fraction() or 0.0 for run_id in records]
    plot(charts.bar_figure(names, fractions, "Share of steps clipped", "steps clipped", percent=True,
                           colors=[colors[name] for name in names], revision="clipped"), "clipped", right)


def gates_section(records, histories) -> None:
    st.subheader("Gate saturation")
    recorded = {run_id: histories[run_id].gate_stats() for run_id in records}
    recorded = {run_id: stats for run_id, stats in recorded.items() if stats[0]}
    if not recorded:
        st.caption("Gate statistics are recorded by the scratch backend for LSTMs and GRUs (Train → Architecture → "
                   "Backend: scratch). A saturated gate (< 0.05 or > 0.95) passes almost no gradient to its inputs.")
        return
    for run_id, (steps, stats) in recorded.items():
        left, right = chart_columns(key=f"gates-{run_id}")
        plot(charts.gate_saturation_figure(steps, stats, revision=f"gates-{run_id}"), f"gates-{run_id}", left)
        plot(charts.gate_histogram_figure(stats[-1], revision=f"gate-hist-{run_id}"), f"gate-hist-{run_id}", right)
        st.caption(f"{plain(short_label(records[run_id]))}: a forget (LSTM) or update (GRU) gate near 1 carries the state, and "
                   "its gradient, across steps unchanged.")


def draw() -> bool:
    records = {run_id: store().get_run(run_id) for run_id in chosen}
    records = {run_id: record for run_id, record in records.items() if record is not None}
    histories = {run_id: history(record) for run_id, record in records.items()}
    flow_section(records, histories)
    spectral_section(records, histories)
    norms_section(records, histories)
    gates_section(records, histories)
    return any(record.live for record in records.values())


with your_runs_tab:
    if chosen:
        live_section(draw, any(runs[run_id].live for run_id in chosen), key="gradients-live")
for tab, experiment in zip(experiment_tabs, (lab_flow, lab_twins, lab_sweep, lab_gates)):
    with tab:
        experiment.render()
