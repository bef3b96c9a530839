"""A race: the same task, data, seed and budget for several architectures, started together."""
from __future__ import annotations

import time

import streamlit as st

from playground.config import CELLS, CLIP_MODES, ModelConfig, RunConfig, TaskConfig, TrainConfig
from playground.data.uploads import dataset_choices

from .train_form import arch_name, start


def race_configs(archs: list[str], dataset: str, hidden: int, steps: int, seq_len: int, lr: float, clip: str,
                 clip_at: float, seed: int) -> list[RunConfig]:
    """One config per architecture, identical in everything else (seed included: same batches)."""
    group = f"race {time.strftime('%H:%M:%S')}"
    return [
        RunConfig(name=f"{group} · {arch_name(arch)}", group=group, task=TaskConfig(dataset=dataset),
                  model=ModelConfig(arch=arch, hidden=hidden),
                  train=TrainConfig(steps=steps, seq_len=seq_len, lr=lr, clip=clip, clip_threshold=clip_at, seed=seed,
                                    eval_every=min(100, max(1, steps // 20))))
        for arch in archs
    ]


def _start_race() -> None:
    s = st.session_state
    archs = s.get("race_archs") or []
    if len(archs) < 2:
        st.session_state["race_error"] = "Pick at least two architectures to race."
        return
    configs = race_configs(archs, s["race_dataset"], s["race_hidden"], s["race_steps"], s["race_seq_len"],
                           s["race_lr"], s["race_clip"], s["race_clip_at"], s["race_seed"])
    started = [run_id for run_id in (start(cfg) for cfg in configs) if run_id]
    s.pop("run", None)  # start() points Train's picker at each new run; this page watches them all
    if started:
        s["runs"] = started  # the Compare page's run picker (bound to ?runs=)
        s.pop("race_error", None)
    else:
        s["race_error"] = s.pop("train_error", "The race could not start.")


def draw_race_form(expanded: bool) -> None:
    with st.expander(":material/flag: Race architectures: same data, same seed, same budget", expanded=expanded):
        with st.form("race"):
            st.multiselect("Architectures", CELLS, default=["rnn-tanh", "lstm", "gru"], key="race_archs",
                           format_func=arch_name)
            first, second, third, fourth = st.columns(4)
            datasets = dataset_choices()
            first.selectbox("Dataset", datasets, key="race_dataset")
            second.select_slider("Hidden units", [16, 32, 64, 128, 256], value=64, key="race_hidden")
            third.number_input("Steps", min_value=10, max_value=100_000, value=300, step=50, key="race_steps")
            fourth.select_slider("Sequence length", [16, 32, 64, 128, 256], value=64, key="race_seq_len")
            first.number_input("Learning rate", min_value=1e-5, max_value=10.0, value=2e-3, format="%.4g", key="race_lr")
            second.selectbox("Clipping", CLIP_MODES, index=1, key="race_clip")
            third.number_input("Clip threshold", min_value=1e-4, value=1.0, format="%.4g", key="race_clip_at")
            fourth.number_input("Seed", min_value=0, value=0, key="race_seed")
            st.form_submit_button(":material/flag: Start the race", type="primary", on_click=_start_race)
        if st.session_state.get("race_error"):
            st.error(st.session_state["race_error"], icon=":material/warning:")
        st.caption("Runs beyond the parallel limit wait in a queue and start as others finish; "
                   "the charts below follow them all.")
