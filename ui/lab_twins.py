"""Gradients page, "Clipping twins" tab: one model, one seed, one batch order; no clipping, by norm, by value."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from playground.experiments import lab
from playground.viz import lab_charts
from playground.config import CELLS, ConfigError

from . import identity, lab_groups
from .context import history, store
from .layout import chart_columns
from .plot import plot
from .polling import live_section
from .plain import plain
from playground.viz.numbers import readable

KEY = "twins_group"
DEMO = lab.twins_demo_config()


def _start_twins() -> None:
    s = st.session_state
    try:
        cfg = lab.twins_demo_config(steps=int(s["twins_steps"]), seed=int(s["twins_seed"]))
        cfg.model.arch, cfg.model.hidden = s["twins_arch"], int(s["twins_hidden"])
        cfg.train.lr, cfg.train.seq_len = float(s["twins_lr"]), int(s["twins_seq_len"])
        cfg.train.eval_every = max(1, cfg.train.steps // 10)
        cfg.train.checkpoint_every = cfg.train.steps
        configs = lab.clipping_twins(cfg.validate(), float(s["twins_norm"]), float(s["twins_value"]))
    except (ConfigError, ValueError) as exc:
        s["twins_error"] = f"These settings cannot train: {plain(exc)}"
        return
    s.pop("twins_error", None)
    lab.start_group(store(), configs, owner=identity.current().name)
    s[KEY] = configs[0].group


def settings_form() -> None:
    with st.form("twins_form", border=True):
        st.markdown(f"**Start three twins** (defaults: a ReLU RNN with W_hh = I on the {DEMO.task.name} task at "
                    f"T={DEMO.train.seq_len}, SGD with momentum {DEMO.train.momentum:g}: its gradients explode, "
                    "its forward pass does not)")
        a, b, c, d = st.columns(4)
        a.selectbox("Architecture", list(CELLS), index=list(CELLS).index(DEMO.model.arch), key="twins_arch")
        b.number_input("Learning rate", 1e-4, 10.0, DEMO.train.lr, format="%.4g", key="twins_lr")
        c.number_input("Steps", 5, 5000, DEMO.train.steps, step=50, key="twins_steps")
        d.number_input("Seed", 0, 2**31 - 1, DEMO.train.seed, key="twins_seed")
        a, b, c, d = st.columns(4)
        a.number_input("Clip by norm at", 1e-4, 1e6, lab.TWINS_NORM_THRESHOLD, format="%.4g", key="twins_norm",
                       help="The largest allowed global gradient norm ‖g‖.")
        b.number_input("Clip by value at", 1e-5, 1e6, lab.TWINS_VALUE_THRESHOLD, format="%.4g", key="twins_value",
                       help="The largest allowed |g_i| of any single gradient element.")
        c.number_input("Hidden units", 4, 512, DEMO.model.hidden, key="twins_hidden")
        d.number_input("Sequence length", 5, 500, DEMO.train.seq_len, key="twins_seq_len")
        st.form_submit_button(":material/play_arrow: Start the twins", type="primary", on_click=_start_twins)
    if st.session_state.get("twins_error"):
        st.error(st.session_state["twins_error"], icon=":material/warning:")


def _describe(records) -> str:
    cfg = records[0].config
    return f"{cfg.model.arch} lr {cfg.train.lr:g}, {cfg.train.steps} steps"


def _series(summary, record, key: str) -> dict:
    h = history(record)
    return {"label": summary.name.split(" · ")[-1], "steps": h.step_numbers(), "values": h.column(key),
            "clip_steps": summary.clip_steps, "diverged_at": summary.diverged_at}


def draw_group(group: str) -> bool:
    records = {r.id: r for r in lab.runs_in_group(store(), group)}
    summaries = lab.summarize_twins(store(), list(records))
    note = lab_groups.live_note(list(records.values()))
    if note:  # said here, in the live section, so it changes the moment they finish
        st.caption(note)
    losses = [_series(s, records[s.run_id], "loss") for s in summaries]
    norms = [_series(s, records[s.run_id], "grad_norm") for s in summaries]
    left, right = chart_columns(key=f"twins-{group}")
    plot(lab_charts.twins_figure(losses, "Training loss", "loss (log)", revision=f"twins-loss-{group}"),
         f"twins-loss-{group}", left)
    plot(lab_charts.twins_figure(norms, "Gradient norm ‖g‖ before clipping", "‖g‖ (log)",
                                 revision=f"twins-norm-{group}"), f"twins-norm-{group}", right)
    st.dataframe(pd.DataFrame([{  # every number as text for reading (readable): no 2.926733287637822e+34, no None
        "twin": s.name, "status": s.status, "steps": s.steps, "clipped steps": s.clipped_steps,
        "clipped share": "–" if s.clipped_fraction is None else f"{s.clipped_fraction:.0%}",
        "diverged at step": readable(s.diverged_at) if s.diverged else "no",
        "final loss": readable(s.final_loss), "largest ‖g‖": readable(s.max_grad_norm),
        f"held-out {s.metric}": readable(s.value), "chance": readable(s.chance),
    } for s in summaries]), hide_index=True, key=f"twins-table-{group}")
    for s in summaries:
        if s.diverged:
            st.warning(f"**{plain(s.name)}** diverged at step {s.diverged_at}: its loss or gradient became infinite or NaN, "
                       f"and training stopped. That is the lesson: one exploding gradient step (largest finite ‖g‖ "
                       f"{readable(s.max_grad_norm)}) throws the weights where the loss cannot be computed. "
                       f"Compare the clipped twins, which took the same batches.", icon=":material/bolt:")
    if any(s.status == "failed" for s in summaries):
        st.error("A twin failed to train: its log is on the Train page.", icon=":material/error:")
    return any(r.live for r in store().list_runs(("queued", "running")) if r.id in records)


def render() -> None:
    st.markdown("Three copies of one model (same seed, so the same initial weights and the same batches) that differ "
                "only in gradient clipping: none, by global norm, by value. Watch what the unclipped one does.")
    settings_form()
    found = lab_groups.groups("twins")
    group = lab_groups.pick_group("Twins to show", found, KEY, _describe)
    if not group:
        st.info("No twins yet: start three above.", icon=":material/info:")
        return
    live = any(r.live for r in found[group])
    live_section(lambda: draw_group(group), live, key="twins-live")
