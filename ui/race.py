"""A race: the same task, data, seed and budget for several model variants, started together."""
from __future__ import annotations

import streamlit as st

from playground.config import CLIP_MODES, ConfigError, RunConfig, TaskConfig, TrainConfig
from playground.race import Entrant, entrants, race_configs

from .train_form import TASK_TITLES, dataset_options, start

DEFAULT_ENTRANTS = {  # a first race that tells a story on each task
    "char": [Entrant("rnn-tanh"), Entrant("lstm"), Entrant("gru")],
    "translation": [Entrant("gru"), Entrant("gru", "bahdanau"), Entrant("lstm", "luong-general", True)],
    "captioning": [Entrant("lstm"), Entrant("lstm", "soft")],
}


def _start_race() -> None:
    s = st.session_state
    task = s["race_task"]
    base = RunConfig(task=TaskConfig(name=task, dataset=s["race_dataset"]),
                     train=TrainConfig(steps=s["race_steps"], seq_len=s["race_seq_len"], lr=s["race_lr"],
                                       clip=s["race_clip"], clip_threshold=s["race_clip_at"], seed=s["race_seed"],
                                       eval_every=min(100, max(1, s["race_steps"] // 20))))
    base.model.hidden = s["race_hidden"]
    try:
        configs = race_configs(base, s.get("race_archs") or [])
    except ConfigError as exc:
        s["race_error"] = f"The race could not start: {exc}."
        return
    started = [run_id for run_id in (start(cfg) for cfg in configs) if run_id]
    s.pop("run", None)  # start() points Train's picker at each new run; this page watches them all
    if started:
        s["runs"] = started  # the Compare page's run picker (bound to ?runs=)
        s.pop("race_error", None)
    else:
        s["race_error"] = s.pop("train_error", "The race could not start.")


def draw_race_form(expanded: bool) -> None:
    with st.expander(":material/flag: Race models: same data, same seed, same budget", expanded=expanded):
        task = st.selectbox("Task", list(TASK_TITLES), key="race_task", format_func=lambda t: TASK_TITLES[t])
        with st.form("race"):
            options = entrants(task)
            default = [e for e in DEFAULT_ENTRANTS.get(task, options[:3]) if e in options]
            st.multiselect("Racers", options, default=default, key="race_archs", format_func=lambda e: e.label,
                           help="Each racer differs only in its model: the cell, and for translation and captioning "
                                "the attention and a bidirectional encoder.")
            first, second, third, fourth = st.columns(4)
            first.selectbox("Dataset", dataset_options(task), key="race_dataset")
            second.select_slider("Hidden units", [16, 32, 64, 128, 256], value=64, key="race_hidden")
            third.number_input("Steps", min_value=10, max_value=100_000, value=300, step=50, key="race_steps")
            fourth.select_slider("Sequence length", [16, 32, 64, 128, 256], value=64, key="race_seq_len",
                                 help="Text: the truncated-BPTT window. Long-memory tasks: T, the distance to remember.")
            first.number_input("Learning rate", min_value=1e-5, max_value=10.0, value=2e-3, format="%.4g", key="race_lr")
            second.selectbox("Clipping", CLIP_MODES, index=1, key="race_clip")
            third.number_input("Clip threshold", min_value=1e-4, value=1.0, format="%.4g", key="race_clip_at")
            fourth.number_input("Seed", min_value=0, value=0, key="race_seed")
            st.form_submit_button(":material/flag: Start the race", type="primary", on_click=_start_race)
        if st.session_state.get("race_error"):
            st.error(st.session_state["race_error"], icon=":material/warning:")
        st.caption("Runs beyond the parallel limit wait in a queue and start as others finish; "
                   "the charts below follow them all.")
