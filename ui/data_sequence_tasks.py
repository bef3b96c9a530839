"""The Data page's part for the decoder tasks: upload translation pair files, preview pair datasets
(generated or uploaded) with the task's facts, and look at a few scenes of each captioning preset."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from playground.viz import imaging
from playground.config import TaskConfig
from playground.data import scenes
from playground.data.errors import DataError
from playground.data.pair_files import save_upload
from playground.data.pairs import GENERATED
from playground.tasks.captioning import CaptioningTask
from playground.tasks.translation import TranslationTask, uploaded_pair_files

from .uploads import save_new_uploads
from .plain import plain

PREVIEW_PAIRS = 2_000  # pairs generated for a built-in dataset's preview (training makes 20,000)
SCENES_SHOWN = 6


def save_pairs(file) -> str:
    name, kept = save_upload(file.getvalue(), file.name)
    st.session_state["pair_dataset"] = name
    return (f"Saved **{plain(file.name)}** as translation dataset `{name}`: {kept:,} pairs. "
            "Pick it on Train with the translation task.")


def handle_pair_uploads() -> None:
    """Runs once per change of the uploader: keep each new file, or say why it cannot be used."""
    save_new_uploads("pair_uploads", save_pairs, "pair_upload_messages")


@st.cache_data(show_spinner="Reading the pairs...", max_entries=8)
def pair_facts(name: str, version: float) -> dict:
    """The translation task's facts about a dataset; `version` makes a changed upload a new cache entry."""
    return TranslationTask(TaskConfig(name="translation", dataset=name, pairs=PREVIEW_PAIRS)).describe()


@st.cache_data(show_spinner=False, max_entries=8)
def preset_scenes(preset: str, count: int, seed: int) -> tuple[list[np.ndarray], list[str], dict]:
    """A few random scenes of a captioning preset: (pictures, captions, the task's facts)."""
    task = CaptioningTask(TaskConfig(name="captioning", dataset=preset))
    drawn = [task.random_scene(seed + i) for i in range(count)]
    facts = {k: v for k, v in task.describe().items() if k != "test_scenes"}
    return [task.render(scene) for scene in drawn], [scene.caption for scene in drawn], facts


def draw_pairs() -> None:
    st.subheader("Sentence pairs for translation")
    st.markdown("A translation model reads a source sentence and writes a target one. Upload your own pairs: "
                "one pair a line, the source then the target, separated by a tab (.tsv) or a comma (.csv). "
                "Extra columns are ignored; a header line like `source<TAB>target` is skipped.")
    st.file_uploader("Sentence pairs (.tsv, .csv, .txt or any text file)", accept_multiple_files=True,  # content decides
                     key="pair_uploads", on_change=handle_pair_uploads,
                     help="Every line is checked on the server; a bad line is named by its number.")
    for kind, message in st.session_state.get("pair_upload_messages", []):
        (st.success if kind == "success" else st.error)(
            message, icon=":material/check_circle:" if kind == "success" else ":material/warning:")

    uploads = uploaded_pair_files()
    choices = list(GENERATED) + [name for name in uploads if name not in GENERATED]
    kwargs = {} if "pair_dataset" in st.session_state else {"index": 0}
    name = st.selectbox("Pair dataset", choices, key="pair_dataset", **kwargs,
                        format_func=lambda n: f"{GENERATED[n].title} ({n})" if n in GENERATED else f"uploaded · {n}")
    if name in GENERATED:
        st.caption(GENERATED[name].description)
    try:
        facts = pair_facts(name, uploads[name].stat().st_mtime if name in uploads else 0.0)
    except DataError as exc:
        st.error(str(exc), icon=":material/warning:")
        return
    columns = st.columns(4)
    columns[0].metric("Training pairs", f"{facts['train_pairs']:,}",
                      help=f"Held out for testing: {facts['test_pairs']:,}." +
                           (f" Generated for this preview: {PREVIEW_PAIRS:,}; training makes more." if name in GENERATED else ""))
    columns[1].metric("Source vocabulary", facts["source_vocab_size"], help=f"Tokens: {facts['source_tokenization']}s.")
    columns[2].metric("Target vocabulary", facts["target_vocab_size"], help=f"Tokens: {facts['target_tokenization']}s.")
    columns[3].metric("Longest source / target", f"{facts['max_source_len']} / {facts['max_target_len']}",
                      help="In tokens. Pairs longer than the task's max_len are left out.")
    if facts["dropped_pairs"]:
        st.warning(f"{facts['dropped_pairs']:,} pairs are longer than the task's limit and are left out.",
                   icon=":material/content_cut:")
    examples = GENERATED[name].examples + tuple(facts["examples"]) if name in GENERATED else facts["examples"]
    st.dataframe(pd.DataFrame(examples, columns=["source", "target"]), hide_index=True, key="pair_preview")


def draw_scenes() -> None:
    st.subheader("Scenes for captioning")
    st.markdown("A captioner reads a small generated picture and describes it. Scenes are drawn fresh for every "
                "training batch; a preset fixes how many shapes, how many colours, the noise and the image size.")
    left, right = st.columns([3, 1])
    preset = left.selectbox("Scene preset", list(scenes.PRESETS), index=list(scenes.PRESETS).index("shapes2"),
                            key="scene_preset")
    seed = right.number_input("Seed", 0, 2**31 - 1, 0, key="scene_preview_seed")
    pictures, captions, facts = preset_scenes(preset, SCENES_SHOWN, int(seed))
    columns = st.columns(4)
    columns[0].metric("Shapes per scene", facts["shapes_per_scene"])
    columns[1].metric("Colours", facts["colours"])
    columns[2].metric("Image size", f"{facts['image_size']} px", help=f"Pixel noise σ = {facts['noise']:g}.")
    columns[3].metric("Distinct captions", f"{facts['distinct_captions']:,}",
                      help=f"Vocabulary: {facts['vocab_size']} words.")
    st.image([imaging.enlarge(p, max(1, 144 // p.shape[0])) for p in pictures], caption=captions)


def draw() -> None:
    st.divider()
    draw_pairs()
    draw_scenes()
