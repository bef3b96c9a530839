"""Try a translation model: type a sentence, pick a beam width, see the output, where the decoder
looked (the attention map) and the other hypotheses the beam kept."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from playground.runstore.checkpoint import Loaded
from playground.config import ConfigError
from playground.data.errors import DataError
from playground.data.pairs import GENERATED
from playground.viz.seq2seq_charts import attention_heatmap
from playground.tasks.translation import MAX_BEAM

from .plot import plot
from .plain import plain

BEAM_KEY = "translate_beam"


def text_key(loaded: Loaded) -> str:
    """The sentence box's key: one per dataset, so switching from dates to numbers does not keep a date."""
    return f"translate_text_{loaded.config.task.dataset}"


def example_sources(loaded: Loaded, count: int = 4) -> list[str]:
    """Source sentences to suggest: the dataset's fixed examples, or pairs from an uploaded file."""
    dataset = GENERATED.get(loaded.config.task.dataset)
    if dataset is not None:
        return [source for source, _ in dataset.examples][:count]
    try:
        return [source for source, _ in loaded.task.describe()["examples"]][:count]
    except (DataError, OSError):  # the uploaded file is gone: no suggestions, typing still works
        return []


def _use_example(key: str, text: str) -> None:
    st.session_state[key] = text


def draw(loaded: Loaded) -> None:
    examples = example_sources(loaded)
    st.markdown("Type a sentence for the model to translate. With **beam search** the decoder keeps the "
                "*k* likeliest partial outputs at each step instead of only the best one.")
    if examples:
        st.caption("Examples from the training data's kind (click one to use it):")
        columns = st.columns(len(examples))
        for i, (column, text) in enumerate(zip(columns, examples)):
            column.button(plain(text), key=f"translate_example_{i}", on_click=_use_example, args=(text_key(loaded), text),
                          width="stretch")
    text_col, beam_col = st.columns([4, 1], vertical_alignment="bottom")
    text = text_col.text_input("Sentence to translate", value=examples[0] if examples else "", key=text_key(loaded),
                               max_chars=500)
    beam = beam_col.number_input("Beam width", 1, MAX_BEAM, value=3, key=BEAM_KEY,
                                 help="1 is greedy decoding. Wider beams return more alternatives.")
    try:
        result = loaded.task.translate(loaded.model, text, int(beam))
    except (DataError, ConfigError) as exc:
        st.error(f"Cannot translate this: {plain(exc)}", icon=":material/warning:")
        return

    st.markdown("**Translation**")
    st.code(result["output"] or "(empty output)", language=None)
    facts = [f"log-probability {result['score']:.3f}", f"probability {result['alternatives'][0]['probability']:.1%}"]
    if not result["finished"]:
        facts.append("stopped at the length limit without an end token")
    st.caption(" · ".join(facts))
    unlike = loaded.task.unlike_training(text)
    if unlike:  # confident is not the same as right: say when the input is nothing like the training data
        st.warning(plain(unlike), icon=":material/help:")
    if result["unknown"]:
        st.warning("The model never saw these tokens in training and reads them as <unk>: "
                   + ", ".join(plain(t) for t in result["unknown"]), icon=":material/help:")

    if result["attention"] is None:
        st.info("This model has no attention: the decoder sees the source only through the encoder's final "
                "state, so there is no map of where it looked.", icon=":material/visibility_off:")
    else:
        plot(attention_heatmap(result["source_tokens"], result["output_tokens"], result["attention"]),
             "translation-attention")
        st.caption("Each row is one output token; a dark cell is a source token the decoder read while writing it. "
                   "A date's digits should line up with the digits they copy.")

    st.markdown(f"**The beam's hypotheses** (beam width {int(beam)}, best first)")
    table = pd.DataFrame([{"rank": rank, "output": alt["output"], "log-probability": alt["score"],
                           "probability": alt["probability"], "finished": alt["finished"]}
                          for rank, alt in enumerate(result["alternatives"], 1)])
    st.dataframe(table, hide_index=True, column_config={
        "log-probability": st.column_config.NumberColumn(format="%.3f"),
        "probability": st.column_config.NumberColumn(format="percent"),
    })
