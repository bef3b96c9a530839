"""Data: look inside the corpora, and upload your own text (validated on the server)."""

import html
import math

import streamlit as st

from playground import models, tasks
from playground.config import ModelConfig, TaskConfig
from playground.models.cells import CELLS
from playground.tasks import TASK_SPECS
from playground.data.errors import DataError
from playground.data.text import DEFAULT_MAX_BYTES
from playground.data.uploads import (MIN_CHARACTERS, dataset_choices, dataset_version, delete_upload, load_dataset,
                                     save_upload)
from playground import classroom
from ui import data_labelled, data_sequence_tasks, data_series, identity, url_state
from ui.context import store
from ui.uploads import save_new_uploads
from ui.plain import plain

VISIBLE = {" ": "␣", "\n": "⏎", "\t": "⇥"}  # characters that would otherwise show as nothing

st.title("Data")
st.markdown("A character-level model reads text one character at a time and learns to predict the next. "
            "Here you can see what it reads, and add your own text.")


def save_text(file) -> str:
    saved = save_upload(file.getvalue(), file.name)
    store().set_owner("dataset", saved.name, identity.current().name)  # only they (or the teacher) may delete it
    st.session_state["data_view"] = saved.name  # show it below
    if saved.existing:
        return (f"**{plain(file.name)}** holds the same text as dataset `{saved.name}`, which is already saved: "
                "no copy was made. It is shown below and is a choice on Train.")
    return (f"Saved **{plain(file.name)}** as dataset `{saved.name}`: {saved.characters:,} characters, "
            f"{len(saved.vocabulary)} distinct. It is now a choice on Train.")


def handle_uploads() -> None:
    """Runs once per change of the uploader: save each new file, or say why it cannot be used."""
    save_new_uploads("uploads", save_text, "upload_messages", name_in_errors=False)  # decode_text names the file


@st.cache_data(show_spinner="Reading the dataset...", max_entries=8)
def facts(name: str, version: float) -> dict:
    """What the page shows about a dataset; `version` makes a changed upload a new cache entry."""
    dataset = load_dataset(name)
    return {"title": dataset.title, "source": dataset.source, "characters": dataset.characters,
            "vocabulary": len(dataset.vocabulary), "uniform_loss": dataset.uniform_loss,
            "frequency_loss": dataset.frequency_loss(), "counts": dataset.character_counts(),
            "preview": dataset.text[:1500]}


@st.cache_data(show_spinner="Reading the dataset as words...", max_entries=8)
def task_facts(task: str, name: str, version: float) -> dict:
    """What a task (at its default settings) makes of a dataset; `version` makes a changed upload a new cache entry."""
    return tasks.build(TaskConfig(name=task, dataset=name)).describe()


def delete_dataset(name: str) -> None:
    try:
        classroom.check_may_manage(identity.current(), store().owner_of("dataset", name), "this dataset")
    except classroom.NotYoursError as exc:
        st.session_state["upload_messages"] = [("error", plain(str(exc)))]
        return
    delete_upload(name)
    store().forget_owner("dataset", name)
    st.session_state.pop("data_view", None)
    st.session_state["upload_messages"] = [("success", f"Deleted dataset `{name}`.")]


st.subheader("Upload a text file")
# any file name (GPL-3, textwrap.py): the server reads the content and says in the page why a file cannot be used;
# no extension or size filter in the browser, whose refusals showed only as a tooltip on a small chip
# (the box's own "200MB per file" is the server's cap for checkpoints on Try; the label gives this page's limit)
st.file_uploader(f"Plain UTF-8 text, up to {DEFAULT_MAX_BYTES / 1e6:.0f} MB (any file name: .txt, .py, .md, README, ...)",
                 accept_multiple_files=True,
                 key="uploads", on_change=handle_uploads,
                 help=f"Between {MIN_CHARACTERS:,} characters and {DEFAULT_MAX_BYTES / 1e6:.0f} MB. "
                      "Every file is checked on the server: empty, binary or non-UTF-8 files are refused.")
for kind, message in st.session_state.get("upload_messages", []):
    (st.success if kind == "success" else st.error)(message, icon=":material/check_circle:" if kind == "success" else ":material/warning:")

st.subheader("Look inside a dataset")
choices = dataset_choices()
# its own widget key ("data_view"), the URL's ?dataset= as on Train: Train's dataset widget must never find this
# page's state under its key (a link from here trained on tiny)
name = url_state.selectbox("Dataset", choices, str, key="data_view", param="dataset", default=choices[0])
try:
    dataset = facts(name, dataset_version(name))
except DataError as exc:
    st.error(str(exc), icon=":material/warning:")
    st.stop()

columns = st.columns(4)
columns[0].metric("Characters", f"{dataset['characters']:,}")
columns[1].metric("Vocabulary V", dataset["vocabulary"], help="Distinct characters: the model's input and output size.")
columns[2].metric("Uniform-guess loss ln V", f"{dataset['uniform_loss']:.3f} nats",
                  help=f"= {dataset['uniform_loss'] / math.log(2):.2f} bits per character. A model that has learned "
                       "nothing starts here.")
columns[3].metric("Letter-frequency loss", f"{dataset['frequency_loss']:.3f} nats",
                  help="The entropy of the character frequencies: a model that knows only how common each "
                       "character is gets this. Below it, the model has learned context.")

left, right = st.columns([3, 2])
with left:
    st.markdown(f"**Preview** ({dataset['source']}: {plain(dataset['title'])})")
    st.code(dataset["preview"] + ("\n..." if dataset["characters"] > 1500 else ""), language=None, wrap_lines=True,
            height=320)
with right:
    st.markdown("**Vocabulary, most frequent first**")
    chips = "".join(f"<span title='{count:,} times' style='display:inline-block;min-width:1.6em;text-align:center;"
                    "margin:2px;padding:1px 5px;border-radius:4px;background:#eef1f6;font-family:monospace'>"
                    f"{html.escape(VISIBLE.get(ch, ch))}</span>" for ch, count in dataset["counts"])
    st.html(f"<div>{chips}</div>")
    st.caption("␣ is a space, ⏎ a new line, ⇥ a tab. Hover a character to see how often it occurs.")

    st.markdown("**Is it enough text for the model?**")
    arch_col, hidden_col = st.columns(2)
    trained = [name for name, cell in CELLS.items() if cell.trains_by_gradient]  # whose parameters all learn
    arch = arch_col.selectbox("Cell", trained, key="size_arch", format_func=lambda name: CELLS[name].short)
    hidden = hidden_col.select_slider("Hidden units", [16, 32, 64, 128, 256, 512, 1024], value=128, key="size_hidden")
    model = models.build(ModelConfig(arch=arch, hidden=hidden), {"family": "language_model", "vocab_size": dataset["vocabulary"]})
    parameters = model.parameter_count()
    characters = dataset["characters"]
    ratio = characters / parameters
    if ratio < 1:
        st.warning(f"{characters:,} characters for {parameters:,} parameters: the data is small for this model. "
                   "Expect it to memorise the text (training loss keeps falling, validation loss rises). "
                   "Use fewer hidden units, or more text.", icon=":material/warning:")
    else:
        st.info(f"{characters:,} characters for {parameters:,} parameters ({ratio:.1f} per parameter).", icon="ℹ️")

word_tasks = [spec for spec in TASK_SPECS.values() if spec.stream_label == "words" and name in spec.datasets()]
for spec in word_tasks:  # the same text read as words (next-word prediction): how much of it the vocabulary covers
    try:
        words = task_facts(spec.name, name, dataset_version(name))
    except DataError as exc:
        st.warning(f"As words: {plain(exc)}", icon=":material/warning:")
        continue
    st.markdown(f"**As words** ({plain(spec.title)})")
    columns = st.columns(4)
    columns[0].metric("Words", f"{words['words']:,}", help="Words, punctuation marks and line breaks: the tokens.")
    columns[1].metric("Distinct words", f"{words['distinct_words']:,}", help="In the training share of the text.")
    columns[2].metric("Vocabulary kept", f"{words['vocab_size']:,}",
                      help="The most frequent training words, plus <unk> for every other word (the task's max_vocab).")
    columns[3].metric("Out of vocabulary", f"{words['out_of_vocabulary']:.1%}",
                      help="The share of held-out words outside the vocabulary: the model reads and predicts them as <unk>.")

if dataset["source"] == "uploaded" and classroom.may_manage(identity.current(), store().owner_of("dataset", name)):
    with st.popover(":material/delete: Delete this dataset"):
        st.write(f"Delete `{name}` for good? Runs trained on it keep their checkpoints, but cannot train again.")
        st.button("Delete", type="primary", on_click=delete_dataset, args=(name,))
st.page_link("views/train.py", label=f"Train on {plain(name)}", icon=":material/model_training:", query_params={"dataset": name})

data_sequence_tasks.draw()  # translation pairs and captioning scenes
data_series.draw()  # time series for forecasting
data_labelled.draw()  # labelled text for classifiers

generating = [spec for spec in TASK_SPECS.values() if not spec.datasets()]  # from the registry: new tasks appear here
if generating:
    st.subheader("Tasks that make their own data")
    st.markdown("These tasks draw fresh random sequences for every batch and score a fixed held-out set, so there is "
                "nothing to upload: pick them on Train and set how long the sequences are.")
    for spec in generating:
        headline = spec.headline_metric
        chance = f", chance {headline.chance:.3g}" if headline.chance is not None else ""
        solved = f", solved at {headline.solved:g}" if headline.solved is not None else ""
        st.page_link("views/train.py", label=f"{spec.title} — {headline.label} in {headline.unit}{chance}{solved}",
                     icon=":material/model_training:", query_params={"task": spec.name})
