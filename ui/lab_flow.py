"""Gradients page, "Flow at init" tab: ||dL_T/dx_t|| of untrained models against lag, beside radius^lag."""
from __future__ import annotations

import streamlit as st

from playground.experiments import lab
from playground.viz import lab_charts
from playground.config import ConfigError
from playground.models.cells import CELLS

from .plot import plot
from .plain import plain

DEFAULT_ARCHS = ["rnn-tanh", "lstm"]


@st.cache_data(show_spinner=False, max_entries=64)
def measured_flow(arch: str, spectral_radius: float, seq_len: int) -> dict:
    """One untrained model's gradient flow (cached: the same settings always give the same numbers)."""
    return lab.gradient_flow_at_init(arch, spectral_radius, seq_len).to_dict()


def in_words(result: dict) -> str:
    verdict, per_decade = result["verdict"], result["steps_per_decade"]
    if verdict == "no rate":
        return f"**{result['arch']}**: no rate, lag is not distance from the loss here."
    if verdict == "holds" or per_decade is None:
        return f"**{result['arch']}** holds: the gradient keeps its size over {result['seq_len']} steps."
    direction = "shrinks" if verdict == "vanishes" else "grows"
    return (f"**{result['arch']}** {verdict}: the gradient {direction} tenfold every {per_decade:.1f} steps back "
            f"(factor {result['decay_rate']:.3f} per step).")


def render() -> None:
    st.markdown("No training here: each model is built with its recurrent weights W_hh scaled to spectral radius ρ, "
                "and we measure how much the loss at the last step T depends on each earlier input x_t.")
    left, middle, right = st.columns([2, 2, 1])
    archs = left.multiselect("Architectures", list(CELLS), default=DEFAULT_ARCHS, key="flow_archs")
    rho = middle.slider("Spectral radius ρ of W_hh", 0.5, 1.5, 0.9, step=0.05, key="flow_rho",
                        help="The largest |eigenvalue| of the recurrent weights (each gate block for LSTM/GRU). "
                             "Below each curve: the largest singular value and the measured state Jacobian.")
    seq_len = right.number_input("Sequence length T", 10, 300, 100, step=10, key="flow_T")
    if not archs:
        st.info("Choose at least one architecture.", icon=":material/info:")
        return
    results = []
    with st.spinner("Measuring gradient flow..."):
        for arch in archs:
            try:
                results.append(measured_flow(arch, float(rho), int(seq_len)))
            except (ConfigError, ValueError) as exc:
                st.error(f"{arch}: {plain(exc)}", icon=":material/warning:")
    if not results:
        return
    curves = [{"label": r["arch"], "flow": r["flow"]} for r in results]
    plot(lab_charts.flow_at_init_figure(curves, float(rho), revision="flow-init"), "flow-init")
    st.markdown("\n".join(f"- {in_words(r)}" for r in results))
    st.dataframe([{"architecture": r["arch"], "block radius ρ": r["measured_radius"].get("l0"),
                   "largest singular value": r["largest_singular_value"].get("l0"),
                   "Jacobian radius": (r.get("jacobian_radius") or {}).get("l0"),
                   "gradient growth per step": (r.get("gradient_growth_per_step") or {}).get("l0")} for r in results],
                 hide_index=True, key="flow-init-table")
    st.caption(
        f"The dashed line is ρ^lag: a linearised vanilla RNN with a normal W_hh, where each step back multiplies the "
        f"gradient by W_hh. It is a picture, not a bound: for a non-normal W_hh the gradient can grow for many steps "
        f"even with ρ < 1; only a largest singular value below 1 guarantees it shrinks (|tanh'| ≤ 1). A ReLU RNN "
        f"falls below its line because units that are off pass no gradient. The gated cells do not "
        f"follow it at initialisation: their forget/update gates start near 0.5, so the LSTM and GRU also vanish at "
        f"ρ = 0.9, and they only hold a gradient once training opens those gates. An ESN's reservoir is never trained, "
        f"so this picture is the one it keeps.")
