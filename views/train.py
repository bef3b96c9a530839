"""Train: settings in the sidebar (and in the URL), the watched run live in the main area."""

import streamlit as st

from ui import equations
from ui.context import store
from ui.run_panel import draw_run
from ui.runs import newest, pick_run, recent_runs
from ui.train_form import draw_form

draw_form()

title, picker = st.columns([3, 2], vertical_alignment="bottom")
title.title("Train")
runs = recent_runs()
with picker:
    watched = pick_run("Watching", runs, default=newest(runs, live_only=True), key="run",
                       help="Runs keep training when you leave or reload the page; pick one to watch it again.")

if watched:
    draw_run(watched)
else:
    st.info("Choose the settings in the sidebar on the left (or start from a preset), then press **▶ Start training**. "
            "The run trains in the background: its loss, gradient norms and gradient flow appear here as it goes.",
            icon=":material/arrow_back:")

st.divider()
st.subheader("How the cells compute")
watched_record = store().get_run(watched) if watched else None  # the watched run's cell, not the form's
equations.draw_all(selected=watched_record.config.model.arch if watched_record else st.session_state.get("arch"))
