"""Inside the model: what its units do over a text, its spectrum on the unit circle, and its attention over training."""

import streamlit as st

from playground.runstore import checkpoint
from playground.runstore.checkpoint import CheckpointError
from ui import inside_attention, inside_spectrum, inside_states, model_source, url_state
from ui.context import history, store
from ui.plain import plain
from ui.polling import POLL_SECONDS

st.title("Inside the model")
st.markdown("Look inside a trained model, or one that is training now: what each unit does over a text (and which "
            "units follow quotes, brackets or indentation), where the eigenvalues of its recurrence sit against the "
            "unit circle, and how a decoder's attention sharpens as it trains.")

options = model_source.choices()
if not options:
    st.info("No models yet. Train one on the Train page (a checkpoint is saved as it trains), or create the shipped "
            "ones with `python -m playground pretrain`.", icon=":material/arrow_back:")
    st.stop()
text_models = [ref for ref, entry in options.items() if entry["writes_text"]]
reference = url_state.selectbox("Model", list(options), lambda ref: options[ref]["label"], "model",
                                default=(text_models or list(options))[0],
                                help="A shipped model, or one of your runs (a live run is re-read as it saves "
                                     "checkpoints).")
if reference is None:
    st.stop()
kind, _, name = reference.partition(":")
record = store().get_run(name) if kind == "run" else None


def _version(path) -> float:
    description = path / checkpoint.META  # replaced last by every save
    return description.stat().st_mtime_ns if description.is_file() else 0.0


facts = st.empty()  # the checkpoint's facts, above the tabs
# only the open tab's charts are built and sent: the three tabs' dozen figures took 1.6 s to draw in the browser
states_tab, spectrum_tab, attention_tab = st.tabs(["Hidden states", "Eigenvalues", "Attention over training"],
                                                  key="inside_tab", on_change="rerun")


def signature(path) -> tuple:
    """What the page shows depends on: the checkpoint's version, the evaluations so far, whether the run is live."""
    current = store().get_run(name) if record is not None else None
    evals = len(history(current).evals) if current is not None else 0
    return _version(path), evals, bool(current is not None and current.live)


def draw() -> bool:
    """Everything that changes as a live run trains; returns whether the run is still live."""
    current = store().get_run(name) if record is not None else None
    try:
        path = model_source.folder(reference)
        loaded = model_source.load(reference)
    except CheckpointError as error:
        st.error(f"This model cannot be loaded: {plain(error)}", icon=":material/warning:")
        return False
    version = _version(path)
    cfg = loaded.config
    facts.caption(plain(f"{cfg.model.arch} {cfg.model.layers}×{cfg.model.hidden} on {cfg.task.name}:{cfg.task.dataset}, "
                     f"checkpoint of step {loaded.meta.get('step', '?')}")
               + (" · training: re-read at each new checkpoint" if current is not None and current.live else ""))
    if states_tab.open:
        with states_tab:
            inside_states.section(loaded, str(path), version, key="inside")
    if spectrum_tab.open:
        records = history(current).evals if current is not None else [
            inside_spectrum.measured_now(str(path), version, loaded)]
        with spectrum_tab:
            inside_spectrum.section(records, key="spectrum", revision=reference)
    if attention_tab.open:
        _attention(current, loaded)
    return current is not None and current.live


def _attention(current, loaded) -> None:
    """A run's attention at each evaluation; a shipped or uploaded model's, measured now on a probe batch."""
    with attention_tab:
        if current is not None:
            records = history(current).evals
        else:
            probe = _probe(loaded)
            readouts = loaded.model.diagnostics(probe)
            if "attention_map" in readouts:
                readouts["attention_labels"] = loaded.task.attention_labels(probe)
            records = [{"step": loaded.meta.get("step"), **readouts}]
        inside_attention.section(records, key="attention", revision=reference)


def _probe(loaded):
    cfg = loaded.config
    return loaded.task.probe_batch(cfg.train.batch_size, cfg.train.seq_len)


try:
    seen = signature(model_source.folder(reference))  # before drawing: what arrives meanwhile shows at the next poll
except CheckpointError:
    seen = None
if draw():
    # The charts are redrawn only when something new arrived (a checkpoint, an evaluation, the run's end): a browser
    # redrawing a dozen heatmaps every two seconds took a third of a training run's speed on a 2-core machine.
    st.session_state["inside_seen"] = seen

    @st.fragment(run_every=POLL_SECONDS)
    def watch() -> None:
        if signature(model_source.folder(reference)) != st.session_state.get("inside_seen"):
            st.rerun(scope="app")

    watch()
