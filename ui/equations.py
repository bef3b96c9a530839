"""The equations of each cell, as `playground/models/cells.py` computes them (gate order and
torch's GRU variant included), and of gradient clipping as `train/trainer.py` applies it."""
from __future__ import annotations

import streamlit as st

CELLS = {
    "rnn-tanh": {
        "title": "Vanilla RNN (tanh)",
        "equations": [r"h_t = \tanh\left(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}\right)"],
        "gradient": r"\frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}\left(1 - h_t^{2}\right) W_{hh}",
        "note": "The gradient reaching k steps back is a product of k such Jacobians. |tanh'| ≤ 1, so when the largest "
                "singular value of W_hh is below 1 every factor shrinks it and it vanishes geometrically (Pascanu et al. "
                "2013). A spectral radius ρ(W_hh) below 1 is not enough: for a non-normal W_hh the product can grow for "
                "many steps (ρ > 1 is needed only for it to explode). Gradients shows the measured Jacobian radius and "
                "growth per step.",
        "code": "RNNCell.step",
    },
    "rnn-relu": {
        "title": "Vanilla RNN (ReLU)",
        "equations": [r"h_t = \max\left(0,\; W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}\right)"],
        "gradient": r"\frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}\left(\mathbb{1}[h_t > 0]\right) W_{hh}",
        "note": "ReLU does not squash, but it switches units off (ReLU' = 0), and each Jacobian keeps only the active "
                "units' rows. A random W_hh at ρ = 1.2 therefore still decays, by about 0.94 per step in the lab (about half "
                "the units are off). With W_hh = I (IRNN) the factors start near 1, and the first large updates make "
                "the product explode: the clipping twins, where only the clipped twin survives.",
        "code": "RNNCell.step",
    },
    "lstm": {
        "title": "LSTM (gate order i, f, g, o as in torch's nn.LSTM)",
        "equations": [
            r"i_t = \sigma\left(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}\right) \quad \text{input gate}",
            r"f_t = \sigma\left(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}\right) \quad \text{forget gate}",
            r"g_t = \tanh\left(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}\right) \quad \text{candidate}",
            r"o_t = \sigma\left(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}\right) \quad \text{output gate}",
            r"c_t = f_t \odot c_{t-1} + i_t \odot g_t",
            r"h_t = o_t \odot \tanh(c_t)",
        ],
        "gradient": r"\frac{\partial c_t}{\partial c_{t-1}} = \operatorname{diag}(f_t) \;+\; \text{(terms through } h_{t-1}\text{)}",
        "note": "The cell state is updated additively: while the forget gate stays near 1, gradient flows back "
                "along c almost unchanged. The block radius shown is that of the candidate block W_hg alone; what "
                "gradients meet is the state Jacobian ∂(h, c)_t/∂(h, c)_{t-1}, whose radius and measured growth per "
                "step are shown beside it.",
        "code": "LSTMCell.step",
    },
    "gru": {
        "title": "GRU (torch's variant: r gates W_hn h before it is added)",
        "equations": [
            r"r_t = \sigma\left(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}\right) \quad \text{reset gate}",
            r"z_t = \sigma\left(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}\right) \quad \text{update gate}",
            r"n_t = \tanh\left(W_{in} x_t + b_{in} + r_t \odot \left(W_{hn} h_{t-1} + b_{hn}\right)\right) \quad \text{candidate}",
            r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}",
        ],
        "gradient": r"\frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}(z_t) \;+\; \text{(terms through } r_t, z_t, n_t\text{)}",
        "note": "Where the update gate z is near 1 the state, and its gradient, is copied across the step. "
                "The block radius shown is that of the candidate block W_hn alone; the state Jacobian ∂h_t/∂h_{t-1} "
                "(its radius and measured growth per step beside it) is what gradients meet.",
        "code": "GRUCell.step",
    },
}

OUTPUT = r"p(x_{t+1} \mid x_{\le t}) = \operatorname{softmax}(W_{hy} h_t + b_y), \qquad L = -\frac{1}{T}\sum_t \ln p(x_{t+1} \mid x_{\le t})"
CLIPPING = {
    "norm": r"\text{by norm:}\quad g \leftarrow g \cdot \frac{\tau}{\lVert g \rVert + 10^{-6}} \quad \text{if } \lVert g \rVert > \tau",
    "value": r"\text{by value:}\quad g_i \leftarrow \min\left(\tau, \max(-\tau, g_i)\right) \quad \text{for every element}",
}


def draw_cell(arch: str) -> None:
    cell = CELLS[arch]
    for line in cell["equations"]:
        st.latex(line)
    st.markdown("**Backpropagation through one step:**")
    st.latex(cell["gradient"])
    st.caption(f"{cell['note']} Code: `playground/models/cells.py`, `{cell['code']}`; the fused backend runs "
               "torch's kernels with the same parameters.")


def draw_all(selected: str | None = None) -> None:
    """An expander per architecture (the selected one open), then the output layer and clipping."""
    for arch, cell in CELLS.items():
        with st.expander(f"Equations: {cell['title']}", expanded=arch == selected):
            draw_cell(arch)
    with st.expander("Equations: output layer, loss and gradient clipping"):
        st.latex(OUTPUT)
        st.caption("The loss is in nats; bits per character = loss / ln 2. Guessing uniformly over V characters gives ln V.")
        for line in CLIPPING.values():
            st.latex(line)
        st.caption("Clipping is applied after backpropagation and before the optimiser step "
                   "(`Trainer.clip_gradients`); ‖g‖ is the norm of all gradients together.")
