"""The Train form's echo-state-network settings: the reservoir is fixed, so these shape its memory."""
from __future__ import annotations

import streamlit as st

# URL key -> ModelConfig field (the widget key is also the query parameter)
ESN_FIELDS = {"rho": ("model", "spectral_radius"), "leak": ("model", "leak_rate"),
              "input_scaling": ("model", "input_scaling"), "sparsity": ("model", "sparsity")}


def draw(defaults: dict, value) -> None:
    """Reservoir sliders; `value(key, default)` gives `value=` unless the session already holds one."""
    st.caption("An echo state network never trains its recurrent weights: only a linear readout is fitted (ridge "
               "regression), so the reservoir's settings decide how long it remembers.")
    st.slider("Spectral radius ρ of the reservoir", 0.1, 1.5, step=0.01, key="rho", bind="query-params",
              **value("rho", defaults["rho"]), help="Below 1 an input's echo fades; near 1 it lasts longest. Above about 1, with gentle inputs, "
                   "the echo-state property can fail (the state keeps its own history): the run page "
                   "measures it at every evaluation and warns.")
    st.slider("Leak rate", 0.01, 1.0, step=0.01, key="leak", bind="query-params", **value("leak", defaults["leak"]),
              help="Share of the new state mixed in each step: small = slow units, long memory.")
    st.slider("Input scaling", 0.05, 2.0, step=0.05, key="input_scaling", bind="query-params",
              **value("input_scaling", defaults["input_scaling"]), help="Size of the random input weights.")
    st.slider("Sparsity of W_hh", 0.0, 0.99, step=0.01, key="sparsity", bind="query-params",
              **value("sparsity", defaults["sparsity"]), help="Share of recurrent connections that are zero.")
