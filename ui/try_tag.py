"""Try a tagger (TaskSpec.try_view = "tag"): paste text, see the model's tag for every character and its
probability. Any task whose `tag(model, text)` returns {"characters", "probs", "tag", "text", "unknown"}
(the spaces task: the text with its spaces removed, then put back where the model says)."""
from __future__ import annotations

import streamlit as st

from playground.config import ConfigError
from playground.data.errors import DataError
from playground.runstore.checkpoint import Loaded
from playground.viz.label_charts import tag_probability_figure

from .plain import plain
from .plot import plot

MAX_SHOWN = 120  # characters drawn in the chart


def draw(loaded: Loaded) -> None:
    st.markdown("Paste some text: its spaces are removed, and the model tags every remaining character with the "
                "probability that a space followed it. A bidirectional model also sees the next characters.")
    key = f"tag_text_{loaded.config.task.name}"
    text = st.text_area("Text (spaces are removed before the model reads it)", value="thecatseesaredball", key=key,
                        max_chars=4000, height=90)
    try:
        result = loaded.task.tag(loaded.model, text)
    except (DataError, ConfigError) as exc:
        st.error(f"Cannot tag this: {plain(exc)}", icon=":material/warning:")
        return
    st.markdown("**As the model spaces it**")
    st.code(result["text"], language=None, wrap_lines=True)
    if result["unknown"]:
        st.warning("The model never saw these characters in training and reads each as one unknown symbol: "
                   + " ".join(plain(c) for c in result["unknown"]), icon=":material/help:")
    shown = min(len(result["characters"]), MAX_SHOWN)
    plot(tag_probability_figure(result["characters"][:shown], result["probs"][:shown], result["tag"],
                                title=f"Probability that {result['tag']}, per character"), "tag-probs")
    st.caption("Dark bars are above the dashed 50% line: there the model puts a space."
               + (f" The first {MAX_SHOWN} characters are drawn." if shown < len(result["characters"]) else ""))
