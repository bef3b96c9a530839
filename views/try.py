"""Try: generate text from a pretrained model, one of your runs, or an uploaded checkpoint."""

import torch
import streamlit as st

from playground.runstore.checkpoint import CheckpointError
from playground.data.errors import DataError
from playground.runstore.export import import_checkpoint
from playground.tasks import TASK_SPECS
from ui import identity, model_source, try_views, url_state
from ui.context import store
from ui.sample_view import legend_html, probability_html
from ui.plain import plain

st.title("Try")
st.markdown("Put a trained model to work: a text model writes, a translator translates, a captioner describes a "
            "picture. Pick a shipped pretrained model or one of your runs.")


def _count(value) -> str:
    """A number from the checkpoint's description, which a file supplies: shown only if it is one."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else "?"


def import_upload() -> None:
    file = st.session_state.get("checkpoint_upload")
    if file is None:
        return
    try:
        name = import_checkpoint(file.getvalue(), file.name)
    except CheckpointError as exc:
        st.session_state["import_message"] = ("error", plain(exc))
    else:
        store().set_owner("checkpoint", name, identity.current().name)
        st.session_state["import_message"] = ("success", f"Imported **{plain(file.name)}** as `{name}`.")
        st.session_state["model"] = f"imported:{name}"


def generate() -> None:
    s = st.session_state
    try:
        loaded = model_source.load(s["model"])
        generator = torch.Generator().manual_seed(int(s["sample_seed"]))
        controls = TASK_SPECS[loaded.config.task.name].try_controls if loaded.config.task.name in TASK_SPECS else ()
        given = {"length": int(s.get("length", 300)), "temperature": float(s.get("temperature", 0.8)),
                 "prime": s.get("prime") or "", "top_k": int(s.get("top_k", 0)) or None}
        # only the controls the task offers; other tasks show their own kind of sample
        result = loaded.task.sample(loaded.model, generator=generator, **{k: given[k] for k in controls})
    except (CheckpointError, DataError) as exc:
        s["generated"] = {"model": s["model"], "error": str(exc)}
    else:
        s["generated"] = {"model": s["model"], **result}


options = model_source.choices()
with st.expander(":material/upload_file: Load a checkpoint .zip (downloaded from a run's page)"):
    st.file_uploader("Checkpoint zip", type=["zip"], key="checkpoint_upload", on_change=import_upload)
    if "import_message" in st.session_state:
        kind, message = st.session_state["import_message"]
        (st.success if kind == "success" else st.error)(message)
if not options:
    st.info("No models to try yet. Train one on the Train page (a checkpoint is saved as it trains), or create the "
            "shipped ones with `python -m playground pretrain`.", icon=":material/arrow_back:")
    st.stop()

text_models = [ref for ref, entry in options.items() if entry["writes_text"]]
asked = st.query_params.get("model")
if asked and asked not in options and "model" not in st.session_state:  # a link to a model that is not here
    st.warning(plain(f"There is no model {asked!r} here (deleted, or from another server), so another one is shown. "
                     "Pick one below."), icon=":material/help:")
reference = url_state.selectbox("Model", list(options), lambda ref: options[ref]["label"], "model",
                                default=(text_models or list(options))[0])
if reference is None:
    st.stop()
try:
    loaded = model_source.load(reference)
except CheckpointError as exc:
    st.error(f"This model cannot be loaded: {plain(exc)}", icon=":material/warning:")
    st.stop()
cfg, metrics = loaded.config, loaded.meta.get("metrics", {})
facts = [f"{cfg.model.arch} {cfg.model.layers}×{cfg.model.hidden}", f"{_count(loaded.meta.get('parameters'))} parameters",
         f"trained {plain(loaded.meta.get('step', '?'))} steps on {plain(cfg.task.dataset)}"]
spec = TASK_SPECS.get(cfg.task.name)
shown = ("val_loss", spec.headline) if spec else ("val_loss",)
facts += [f"{k.replace('_', ' ')} {v:.3f}" for k, v in metrics.items() if k in shown and isinstance(v, (int, float))]
st.caption(" · ".join(facts))

if spec and spec.try_view in try_views.VIEWS:  # translate, caption: a view of their own
    try_views.VIEWS[spec.try_view].draw(loaded)
    st.stop()

if spec and spec.try_controls:
    controls = spec.try_controls  # only those the task's sample() takes
    if "temperature" in controls:
        st.markdown("**Temperature** divides the model's log-probabilities before sampling: below 1 it plays safe (and "
                    "repeats itself), above 1 it takes risks (and makes typos).")
    left, middle, right, last = st.columns([2, 3, 2, 1], vertical_alignment="bottom")
    if "temperature" in controls:
        left.slider("Temperature", 0.1, 2.0, 0.8, step=0.05, key="temperature", bind="query-params")
    if "prime" in controls:
        middle.text_input("Prime text (the model continues it)", "", key="prime", bind="query-params", max_chars=500)
    if "length" in controls:
        right.slider("Length", 20, 2000, 300, step=20, key="length", bind="query-params")
    if "top_k" in controls:
        left.number_input("Top k (0 = all)", 0, 100_000, 0, key="top_k",
                          help="Sample only among the k likeliest tokens; 0 samples among all of them.")
    last.number_input("Seed", 0, 2**31 - 1, 0, key="sample_seed")
    st.button("Generate", icon=":material/edit:", type="primary", on_click=generate)
else:
    st.info(f"This is a **{plain(spec.title if spec else cfg.task.name)}** model: it decodes its answer rather than "
            "sampling text, so temperature and length do not apply. Here is what it makes of a held-out example.",
            icon=":material/info:")
    st.number_input("Example", 0, 2**31 - 1, 0, key="sample_seed", help="Each number picks another held-out example.")
    st.button("Show an example", icon=":material/play_arrow:", type="primary", on_click=generate)

generated = st.session_state.get("generated")
if not generated or generated["model"] != reference:  # a first example without a click
    generate()
    generated = st.session_state["generated"]
if "error" in generated:
    st.error(plain(generated["error"]), icon=":material/warning:")
elif "probs" in generated:
    pieces = generated.get("pieces", generated["text"])  # a token each: a character, or a word with its space
    st.html(probability_html(generated["prime"], pieces, generated["probs"], generated["alternatives"]))
    st.html(legend_html())
    probs = generated["probs"]
    token = (spec.stream_label if spec else "characters").removesuffix("s")  # what one sampled step is
    st.caption(f"Average probability of the picked {token}: {sum(probs) / max(len(probs), 1):.0%}. "
               f"Hover a {token} to see what else the model considered.")
else:
    st.code(generated.get("text", ""), language=None, wrap_lines=True)
