"""Edge of chaos on the Inside page: eigenvalues of each layer's recurrent block and of the mean state Jacobian on the
complex plane, with the unit circle, at any evaluation of a run (or now, for a shipped model)."""
from __future__ import annotations

import math

import streamlit as st
import torch

from playground.runstore.checkpoint import Loaded
from playground.train import diagnostics
from playground.viz import inside_charts

from .plot import plot

READOUTS = {"spectral_radius": "block radius", "block_singular_value": "block's largest singular value",
            "jacobian_radius": "Jacobian radius (mean)", "jacobian_norm": "Jacobian's largest singular value (mean)"}


@st.cache_resource(show_spinner="Measuring the spectrum...", max_entries=4)
def measured_now(path: str, version: float, _loaded: Loaded) -> dict:
    """What an evaluation records about the spectrum, measured on the loaded checkpoint (no history to read)."""
    model, task, cfg = _loaded.model, _loaded.task, _loaded.config
    probe = task.probe_batch(cfg.train.batch_size, cfg.train.seq_len)
    device = next(model.parameters()).device
    probe = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in probe.items()}
    return {"step": _loaded.meta.get("step"), "spectral_radius": diagnostics.spectral_radii(model),
            "eigenvalues": diagnostics.eigenvalues(model),
            **diagnostics.block_singular_values_and_jacobian(model, probe)}


def _number(value) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) and math.isfinite(value) else "–"


def section(records: list[dict], key: str, revision: str) -> None:
    """`records`: evaluation records (a run's, or one measured now), oldest first."""
    spectral = [r for r in records if r.get("eigenvalues")]
    if not spectral:
        st.info("No eigenvalues recorded yet: they come with each evaluation (runs recorded before this view have "
                "none).", icon=":material/hourglass_empty:")
        return
    steps = [r["step"] for r in spectral]
    step = steps[-1] if len(steps) == 1 else st.select_slider(
        "At training step", steps, value=steps[-1], key=f"{key}_step",
        help="Each evaluation records the spectrum: slide to watch it move as the run trains.")
    record = spectral[steps.index(step)]
    left, right = st.columns(2)
    with left:
        plot(inside_charts.eigenvalue_plane({f"layer {k}": v for k, v in record["eigenvalues"].items()},
                                            f"Recurrent block W_hh at step {step}", revision=f"{revision}-block"),
             key=f"{key}_block")
    with right:
        jacobian = record.get("jacobian_eigenvalues") or {}
        if jacobian:
            plot(inside_charts.eigenvalue_plane({f"layer {k}": v for k, v in jacobian.items()},
                                                f"Mean state Jacobian ∂s_t/∂s_(t-1) at step {step}",
                                                revision=f"{revision}-jacobian"), key=f"{key}_jacobian")
        else:
            st.info("No state Jacobian here: a core that reads both ways or an attentive decoder has no single "
                    "direction of time to follow.", icon=":material/info:")
    rows = []
    for layer in record["eigenvalues"]:
        rows.append({"layer": layer, **{label: _number((record.get(name) or {}).get(layer))
                                        for name, label in READOUTS.items()}})
    st.dataframe(rows, hide_index=True, width="stretch")
    st.caption("Inside the dashed circle a direction shrinks at every step; outside it grows. The block is the part of "
               "W_hh whose radius is reported (the candidate block of a gated cell); the mean state Jacobian is what "
               "gradients are multiplied by, averaged over sampled positions of the probe batch. An ESN's reservoir "
               "sits at the radius it was drawn with; a vanilla RNN about to explode has eigenvalues leaving the circle.")
