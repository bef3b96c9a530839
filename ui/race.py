"""A race: the same task, data, seed and budget for several model variants, started together."""
from __future__ import annotations

import streamlit as st

from playground.config import CLIP_MODES, ConfigError, RunConfig, TaskConfig, TrainConfig
from playground.experiments.race import default_entrants, entrants, race_configs
from playground.tasks import TASK_SPECS

from .train_form import dataset_options, start


def _start_race() -> None:
    s = st.session_state
    task = s["race_task"]
    base = RunConfig(task=TaskConfig(name=task, dataset=s.get(f"race_dataset-{task}") or TaskConfig.dataset),
                     train=TrainConfig(steps=s["race_steps"], seq_len=s.get("race_seq_len", TrainConfig.seq_len), lr=s["race_lr"],
                                       clip=s["race_clip"], clip_threshold=s["race_clip_at"], seed=s["race_seed"],
                                       eval_every=min(100, max(1, s["race_steps"] // 20))))
    base.model.hidden = s["race_hidden"]
    try:
        configs = race_configs(base, s.get(f"race_archs-{task}") or [])
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
        task = st.selectbox("Task", list(TASK_SPECS), key="race_task", format_func=lambda t: TASK_SPECS[t].title)
        spec = TASK_SPECS[task]
        with st.form("race"):
            # keyed by task: switching the task starts from that task's own entrants, never the last task's
            st.multiselect("Racers", entrants(task), default=default_entrants(task), key=f"race_archs-{task}",
                           format_func=lambda e: e.label,
                           help="Each racer differs only in its model: the cell, and for translation and captioning "
                                "the attention and a bidirectional encoder.")
            first, second, third, fourth = st.columns(4)
            datasets = dataset_options(task)
            if datasets:
                first.selectbox("Dataset", datasets, key=f"race_dataset-{task}")
            second.select_slider("Hidden units", [16, 32, 64, 128, 256], value=64, key="race_hidden")
            third.number_input("Steps", min_value=10, max_value=100_000, value=300, step=50, key="race_steps")
            if "train.seq_len" in spec.settings:
                fourth.select_slider(spec.settings["train.seq_len"], [16, 32, 64, 128, 256], value=64,
                                     key="race_seq_len")
            first.number_input("Learning rate", min_value=1e-5, max_value=10.0, value=2e-3, format="%.4g", key="race_lr")
            second.selectbox("Clipping", CLIP_MODES, index=1, key="race_clip")
            third.number_input("Clip threshold", min_value=1e-4, value=1.0, format="%.4g", key="race_clip_at")
            fourth.number_input("Seed", min_value=0, value=0, key="race_seed")
            st.form_submit_button(":material/flag: Start the race", type="primary", on_click=_start_race)
        if st.session_state.get("race_error"):
            st.error(st.session_state["race_error"], icon=":material/warning:")
        st.caption("Runs beyond the parallel limit wait in a queue and start as others finish; "
                   "the charts below follow them all.")
