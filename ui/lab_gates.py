"""Gradients page, "Gate watch" tab: gate activation histograms over training for a scratch-backend run."""
from __future__ import annotations

import streamlit as st

from playground.experiments import lab
from playground.viz import lab_charts
from playground.models.cells import CELLS

from .context import history, store
from .plot import plot
from .polling import live_section
from .runs import run_label

GATED = tuple(name for name, cell in CELLS.items() if cell.gates)  # cells whose specs name gates to watch


def draw_run(run_id: str) -> bool:
    record = store().get_run(run_id)
    timelines = lab.gate_watch(history(record))
    if not timelines:
        st.info("No gate statistics recorded yet: they arrive with the first evaluation.", icon=":material/hourglass_top:")
        return record.live
    plot(lab_charts.saturation_figure({g: (t.steps, t.saturated) for g, t in timelines.items()},
                                      revision=f"saturation-{run_id}"), f"saturation-{run_id}")
    columns = st.columns(min(3, len(timelines)))
    for i, (gate, timeline) in enumerate(timelines.items()):
        plot(lab_charts.gate_timeline_figure(gate, timeline.steps, timeline.histograms, timeline.bin_edges,
                                             revision=f"gate-{gate}-{run_id}"), f"gate-{gate}-{run_id}",
             columns[i % len(columns)])
    latest = ", ".join(f"{gate} {t.saturated[-1]:.0%}" for gate, t in timelines.items())
    st.caption(f"Saturated at the latest evaluation: {latest}. A gate stuck near 0 or 1 passes almost no gradient to "
               "what feeds it; a forget (LSTM) or update (GRU) gate near 1 carries the state and its gradient far back.")
    return record.live


def render() -> None:
    st.markdown("How the gates of an LSTM (input, forget, output) or GRU (reset, update) open and close as the "
                "model trains: a darker cell is more of the gate's activations at that value.")
    runs = {r.id: r for r in store().list_runs(limit=60) if r.config.model.arch in GATED}
    if not runs:
        st.info("No LSTM or GRU runs yet. Train one on the Train page with Architecture → Backend: **scratch** "
                "(or the preset “Gate saturation: a GRU from textbook cells”).", icon=":material/info:")
        return
    scratch = [run_id for run_id, r in runs.items() if r.config.model.backend == "scratch"]
    run_id = st.selectbox("Run", list(runs), index=list(runs).index(scratch[0]) if scratch else 0, key="gate_run",
                          format_func=lambda rid: run_label(runs[rid]) + f" · {runs[rid].config.model.backend}")
    record = runs[run_id]
    if record.config.model.backend != "scratch":
        st.info(f"This run used the **fused** backend (torch's {record.config.model.arch.upper()} kernel), which does "
                "not expose its gates. To watch them, train it again with Architecture → Backend: **scratch** on the "
                "Train page (2-3x slower, textbook cells that record gate statistics).", icon=":material/info:")
        return
    live_section(lambda: draw_run(run_id), record.live, key="gates-live")
