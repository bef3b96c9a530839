"""Gradients page, "Memory sweep" tab: the held-out metric against sequence length T, per architecture."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from playground.experiments import lab
from playground.viz import lab_charts
from playground.config import ConfigError
from playground.models.cells import CELLS
from playground.tasks import TASK_SPECS

from . import identity, lab_groups
from .context import store
from .plot import plot
from playground.viz.numbers import readable
from .polling import live_section
from .plain import plain

KEY = "sweep_group"
MAX_CELLS = 24  # runs one sweep may start (they queue beyond the parallel-run cap)
BASE = lab.sweep_base_config()


def parse_seq_lens(text: str) -> list[int]:
    """'10, 20 40' -> [10, 20, 40]; a clear ValueError for anything else."""
    parts = [p for p in text.replace(",", " ").split() if p]
    if not parts:
        raise ValueError("give at least one sequence length T, e.g. 10, 30, 60")
    values = []
    for part in parts:
        if not part.isdigit() or not 2 <= int(part) <= 2000:
            raise ValueError(f"{part!r} is not a sequence length: use whole numbers from 2 to 2000")
        values.append(int(part))
    return sorted(set(values))


def _start_sweep() -> None:
    s = st.session_state
    try:
        archs = s["sweep_archs"]
        if not archs:
            raise ValueError("choose at least one architecture")
        seq_lens = parse_seq_lens(s["sweep_T"])
        if len(archs) * len(seq_lens) > MAX_CELLS:
            raise ValueError(f"{len(archs) * len(seq_lens)} runs is too many for one sweep (at most {MAX_CELLS})")
        cfg = lab.sweep_base_config(s["sweep_task"], int(s["sweep_steps"]), int(s["sweep_hidden"]), int(s["sweep_seed"]))
        cfg.train.eval_every = min(cfg.train.eval_every, cfg.train.steps)
        reservoirs = {name: lab.ESN_MEMORY_SETTINGS for name, cell in CELLS.items() if not cell.trains_by_gradient}
        configs = lab.memory_sweep(cfg, archs, seq_lens, model_overrides=reservoirs)
    except (ConfigError, ValueError) as exc:
        s["sweep_error"] = f"Cannot start this sweep: {plain(exc)}"
        return
    s.pop("sweep_error", None)
    lab.start_group(store(), configs, owner=identity.current().name)
    s[KEY] = configs[0].group


DEFAULT_ARCHS = ["rnn-tanh", "lstm"]  # the form's first sweep (benchmarks/time_to_insight.py times it)
DEFAULT_SEQ_LENS = "10, 30, 60"


def settings_form() -> None:
    with st.form("sweep_form", border=True):
        st.markdown("**Start a sweep**: one run per architecture and T; each stops once it solves the task")
        a, b = st.columns([1, 2])
        memory_tasks = [name for name, spec in TASK_SPECS.items() if spec.generates_sequences]
        a.selectbox("Task", memory_tasks, key="sweep_task",
                    help="; ".join(f"{name}: {TASK_SPECS[name].title}" for name in memory_tasks))
        b.multiselect("Architectures", list(CELLS), default=DEFAULT_ARCHS, key="sweep_archs")
        a, b, c, d = st.columns(4)
        a.text_input("Sequence lengths T", DEFAULT_SEQ_LENS, key="sweep_T", help="Whole numbers, separated by commas.")
        b.number_input("Steps (at most)", 5, 20_000, BASE.train.steps, step=100, key="sweep_steps")
        c.number_input("Hidden units", 4, 512, BASE.model.hidden, key="sweep_hidden",
                       help=f"An ESN uses its own reservoir of {lab.ESN_MEMORY_SETTINGS['hidden']} units.")
        d.number_input("Seed", 0, 2**31 - 1, BASE.train.seed, key="sweep_seed")
        st.form_submit_button(":material/play_arrow: Start the sweep", type="primary", on_click=_start_sweep)
    if st.session_state.get("sweep_error"):
        st.error(st.session_state["sweep_error"], icon=":material/warning:")


def _describe(records) -> str:
    archs = ", ".join(dict.fromkeys(r.config.model.arch for r in records))
    lens = sorted({r.config.train.seq_len for r in records})
    return f"{records[0].config.task.name}: {archs} at T = {', '.join(map(str, lens))}"


def draw_group(group: str) -> bool:
    run_ids = [r.id for r in lab.runs_in_group(store(), group)]
    summary = lab.summarize_sweep(store(), run_ids)
    st.progress(summary.progress, text=f"{summary.finished} of {len(summary.cells)} runs finished "
                                       f"({summary.progress:.0%} of the steps)")
    longest = {arch: summary.longest_solved(arch) for arch in summary.archs}
    plot(lab_charts.sweep_figure({arch: summary.curve(arch) for arch in summary.archs}, summary.metric,
                                 summary.solved_threshold, summary.higher_is_better, longest,
                                 revision=f"sweep-{group}"), f"sweep-{group}")
    words = [f"**{arch}**: " + (f"solved up to T = {best}" if best else "solved none of these T yet")
             for arch, best in longest.items()]
    st.markdown(" · ".join(words))
    st.dataframe(pd.DataFrame([{
        "architecture": c.arch, "T": c.seq_len, "status": c.status, "steps": f"{c.step} / {c.total_steps}",
        f"held-out {summary.metric}": readable(c.metric), "chance": readable(c.chance), "solved?": "yes" if c.solved else "no",
    } for c in summary.cells]), hide_index=True, key=f"sweep-table-{group}")
    st.caption("Each point is the run's latest evaluation on a fixed held-out set for that T. A run stops at the first "
               "evaluation that passes the threshold, so a solved cell may show fewer steps.")
    return any(c.status in ("queued", "running") for c in summary.cells)


def render() -> None:
    st.markdown("How long can each architecture carry information? Train on a long-memory task at growing sequence "
                "lengths T and find the longest T each one solves. Runs train in the background: leave and come back.")
    settings_form()
    found = lab_groups.groups("sweep")
    group = lab_groups.pick_group("Sweep to show", found, KEY, _describe)
    if not group:
        st.info("No sweeps yet: start one above.", icon=":material/info:")
        return
    live = any(r.live for r in found[group])
    live_section(lambda: draw_group(group), live, key="sweep-live")
