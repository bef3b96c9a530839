"""Try a classifier (TaskSpec.try_view = "classify"): type a text, see the probability of each class, and
how the prediction evolves character by character as the network reads (the many-to-one picture).
Any task whose `classify(model, text)` returns {"classes", "probs", "characters", "prefix_probs", "unknown"}."""
from __future__ import annotations

import streamlit as st

from playground.config import ConfigError
from playground.data.errors import DataError
from playground.runstore.checkpoint import Loaded
from playground.viz.label_charts import class_probability_figure, reading_figure

from .plain import plain
from .plot import plot

MAX_SHOWN = 60  # characters drawn in the reading chart (the probabilities above use the whole text)


def draw(loaded: Loaded) -> None:
    st.markdown("Type a text: the network reads it one character at a time, and only after the last one does "
                "its classifier answer (**many-to-one**). The second chart shows what it would answer had the "
                "text stopped after each character.")
    key = f"classify_text_{loaded.config.task.name}_{loaded.config.task.dataset}"
    text = st.text_input("Text to classify", value="bonjour", key=key, max_chars=500)
    try:
        result = loaded.task.classify(loaded.model, text)
    except (DataError, ConfigError) as exc:
        st.error(f"Cannot classify this: {plain(exc)}", icon=":material/warning:")
        return
    best = max(range(len(result["classes"])), key=lambda i: result["probs"][i])
    st.markdown(f"**Answer: {plain(result['classes'][best])}** ({result['probs'][best]:.1%})")
    if result["unknown"]:
        st.warning("The model never saw these characters in training and reads each as one unknown symbol: "
                   + " ".join(plain(c) for c in result["unknown"]), icon=":material/help:")
    left, right = st.columns([2, 3])
    plot(class_probability_figure(result["classes"], result["probs"]), "classify-probs", left)
    shown = min(len(result["characters"]), MAX_SHOWN)
    plot(reading_figure(result["characters"][:shown], result["classes"], result["prefix_probs"][:shown]),
         "classify-reading", right)
    right.caption("Each point reads the text up to that character as a text of its own. Classes that never "
                  "reach 5% are left out." + (f" The first {MAX_SHOWN} characters are drawn." if shown < len(result["characters"]) else ""))
