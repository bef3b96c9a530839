"""The Data page's part for classifiers: upload labelled text (`text,label` rows, any labels), and look at
a labelled dataset (the built-in word lists or an upload) as the classifier task sees it."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from playground.config import TaskConfig
from playground.data.errors import DataError
from playground.data.labelled import save_labelled, uploaded_labelled
from playground.data.text import DEFAULT_MAX_BYTES
from playground.tasks.langid import BUILTIN, LangidTask, langid_datasets

from .plain import plain
from .uploads import save_new_uploads

EXAMPLES_SHOWN = 12


def save_file(file) -> str:
    name, examples = save_labelled(file.getvalue(), file.name, taken={BUILTIN})
    st.session_state["labelled_dataset"] = name
    classes = sorted({label for _, label in examples})
    return (f"Saved **{plain(file.name)}** as labelled dataset `{name}`: {len(examples):,} texts in "
            f"{len(classes)} classes. Pick it on Train with the language-identification task.")


def handle_uploads() -> None:
    save_new_uploads("labelled_uploads", save_file, "labelled_upload_messages")


@st.cache_data(show_spinner="Reading the labelled texts...", max_entries=8)
def facts(name: str, version: float) -> tuple[dict, list[tuple[str, str]]]:
    """The classifier task's facts about a dataset, and a few held-out examples; `version` makes a changed
    upload a new cache entry."""
    task = LangidTask(TaskConfig(name="langid", dataset=name))
    texts, labels = task.heldout()
    return task.describe(), [(t, task.classes[c]) for t, c in zip(texts[:EXAMPLES_SHOWN], labels[:EXAMPLES_SHOWN])]


def draw() -> None:
    st.divider()
    st.subheader("Labelled text for classifiers")
    st.markdown("A classifier reads a whole text and gives one label (**many-to-one**). The built-in data are "
                "words of eight languages from the `wordfreq` lists; upload your own labelled text (sentiment, "
                "spam, code or prose, anything): one example a line, the text then its label, separated by a comma "
                "(.csv; quote a text that holds commas) or a tab (.tsv). A header line `text,label` is skipped.")
    st.file_uploader("Labelled text (.csv, .tsv)", type=["csv", "tsv"], accept_multiple_files=True,
                     key="labelled_uploads", on_change=handle_uploads, max_upload_size=DEFAULT_MAX_BYTES // 1_000_000,
                     help="Every line is checked on the server: a bad line is named by its number; a file with "
                          "one class only is refused.")
    for kind, message in st.session_state.get("labelled_upload_messages", []):
        (st.success if kind == "success" else st.error)(
            message, icon=":material/check_circle:" if kind == "success" else ":material/warning:")
    uploads = uploaded_labelled()
    kwargs = {} if "labelled_dataset" in st.session_state else {"index": 0}
    name = st.selectbox("Labelled dataset", langid_datasets(), key="labelled_dataset", **kwargs,
                        format_func=lambda n: "wordfreq words (built-in)" if n == BUILTIN else f"uploaded · {n}")
    try:
        about, examples = facts(name, uploads[name].stat().st_mtime if name in uploads else 0.0)
    except DataError as exc:
        st.error(plain(exc), icon=":material/warning:")
        return
    columns = st.columns(4)
    columns[0].metric("Classes", about["classes"], help=f"Chance (guessing uniformly): {about['chance']:.1%}.")
    columns[1].metric("Held-out examples", f"{about['test_examples']:,}")
    if "train_words" in about:
        columns[2].metric("Training words", f"{about['train_words']:,}",
                          help=f"Held-out words, never trained on: {about['test_words']:,}.")
    else:
        columns[2].metric("Training examples", f"{about['train_examples']:,}")
    columns[3].metric("Distinct characters", about["characters"], help="In the training texts: the classifier's input symbols.")
    st.dataframe(pd.DataFrame(examples, columns=["text", "label"]), hide_index=True, key="labelled_preview")
    st.page_link("views/train.py", label=f"Train a classifier on {plain(name)}", icon=":material/model_training:",
                 query_params={"task": "langid", "dataset": name})
