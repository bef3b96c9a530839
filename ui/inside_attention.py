"""Attention over training on the Inside page: entropy and monotonicity at each evaluation, the map at any step."""
from __future__ import annotations

import streamlit as st

from playground.viz import inside_charts
from playground.viz.seq2seq_charts import attention_heatmap

from .plot import plot


def section(records: list[dict], key: str, revision: str) -> None:
    scored = [r for r in records if "attention_entropy" in r]
    if not scored:
        st.info("No attention recorded: only a translator or captioner with attention records it, at each evaluation.",
                icon=":material/info:")
        return
    steps = [r["step"] for r in scored]
    plot(inside_charts.attention_over_training(
        steps, [r["attention_entropy"] for r in scored], [r.get("attention_entropy_uniform") for r in scored],
        [r.get("attention_monotonicity") for r in scored], revision=revision), key=f"{key}_over_training")
    st.caption("Entropy: how spread each output step's attention is (0: on one position; the dashed ceiling: spread "
               "evenly). Monotonicity (sequences only): the share of output steps whose peak is at or after the "
               "previous step's, 1 for an alignment that only moves forward.")
    step = steps[-1] if len(steps) == 1 else st.select_slider("Attention map at step", steps, value=steps[-1],
                                                               key=f"{key}_map_step")
    record = scored[steps.index(step)]
    weights = record.get("attention_map") or []
    if weights:
        labels = record.get("attention_labels") or {}
        keys, queries = labels.get("keys"), labels.get("queries")
        if not keys or len(keys) != len(weights[0]):  # a grid of image cells, or a record from before the labels
            keys = [str(i + 1) for i in range(len(weights[0]))]
        if not queries or len(queries) != len(weights):
            queries = [str(i + 1) for i in range(len(weights))]
        plot(attention_heatmap([inside_charts.plotly_text(k) for k in keys],
                               [inside_charts.plotly_text(q) for q in queries], weights,
                               title=f"The first held-out example's attention at step {step}"), key=f"{key}_map")
