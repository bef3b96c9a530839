"""The equations of each cell, read from its CellSpec (as its own file computes them), and of gradient
clipping as `train/trainer.py` applies it."""
from __future__ import annotations

import streamlit as st

from playground.models.cells import CELLS

OUTPUT = r"p(x_{t+1} \mid x_{\le t}) = \operatorname{softmax}(W_{hy} h_t + b_y), \qquad L = -\frac{1}{T}\sum_t \ln p(x_{t+1} \mid x_{\le t})"
CLIPPING = {
    "norm": r"\text{by norm:}\quad g \leftarrow g \cdot \frac{\tau}{\lVert g \rVert + 10^{-6}} \quad \text{if } \lVert g \rVert > \tau",
    "value": r"\text{by value:}\quad g_i \leftarrow \min\left(\tau, \max(-\tau, g_i)\right) \quad \text{for every element}",
}


def draw_cell(arch: str) -> None:
    cell = CELLS[arch]
    for line in cell.equations:
        st.latex(line)
    if cell.gradient:
        st.markdown("**Backpropagation through one step:**" if cell.trains_by_gradient else "**How it learns:**")
        st.latex(cell.gradient)
    fused = (f"; the fused backend runs torch's {cell.fused.__name__} with the same parameters"
             if cell.fused is not None else "")
    code = f" Code: `{cell.code}`{fused}." if cell.code else ""
    st.caption(f"{cell.note}{code}")


def draw_all(selected: str | None = None) -> None:
    """An expander per architecture in the registry (the selected one open), then the output layer and clipping."""
    for arch, cell in CELLS.items():
        with st.expander(f"Equations: {cell.title}", expanded=arch == selected):
            draw_cell(arch)
    with st.expander("Equations: output layer, loss and gradient clipping"):
        st.latex(OUTPUT)
        st.caption("The loss is in nats; bits per character = loss / ln 2. Guessing uniformly over V characters gives ln V.")
        for line in CLIPPING.values():
            st.latex(line)
        st.caption("Clipping is applied after backpropagation and before the optimiser step "
                   "(`Trainer.clip_gradients`); ‖g‖ is the norm of all gradients together.")
