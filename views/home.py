"""Home: what the playground is, where training runs, what is training now, and two ways to begin."""

import streamlit as st

from playground import devices
from playground.config import ConfigError
from playground.models.cells import CELLS
from playground.runstore import jobs, pretrained, runner
from playground.tasks import TASK_SPECS
from ui import identity
from ui.context import store
from ui.polling import live_section
from ui.runs import run_label, status_text
from ui.train_form import preset_query, start, task_defaults, task_query
from ui.plain import plain

PAGE_GUIDE = [
    ("views/train.py", "Train", ":material/model_training:", "Pick a cell, its size and how to train it; watch loss, gradient norms, clipping "
     "and gradient flow live, and change clipping while it trains."),
    ("views/gradients.py", "Gradients", ":material/insights:", "Gradient flow against lag with a fitted decay rate, the spectral radius "
     "of W_hh, how often clipping fired, gate saturation."),
    ("views/compare.py", "Compare", ":material/compare_arrows:", "Overlay runs' loss curves by step or by time, compare their numbers and "
     "samples, or race several architectures on the same data."),
    ("views/data.py", "Data", ":material/description:", "Look inside the built-in corpora or upload your own text (any file name): size, vocabulary and "
     "the loss of guessing."),
    ("views/try.py", "Try", ":material/auto_awesome:", "Generate text from a pretrained model or one of your runs, with temperature, "
     "a prime and each character's probability."),
]

EXPERIMENTS = [
    ("Exploding gradients: ReLU RNN, identity init, no clipping",
     "Watch ‖g‖ shoot up and the loss turn into NaN within a few steps; then retry with clipping on."),
    ("Vanishing gradients: a tanh RNN on long sequences",
     "The gradient-flow heatmap goes dark for early time steps: the loss hardly depends on them."),
    ("Gate saturation: a GRU from textbook cells",
     "The scratch backend records every gate: the Gradients page shows how many are stuck open or shut."),
]


def start_pretrained_recipe() -> None:
    cfg = pretrained.RECIPES["char-tiny"]
    st.session_state["home_started"] = jobs.start(store(), cfg, owner=identity.current().name)


def start_task(task: str) -> None:
    """One click: a short run of the task (the form's defaults on its first dataset, with the task's own first-run
    settings), then watch it on Train."""
    try:
        cfg = task_defaults(task)
    except ConfigError as exc:
        st.session_state["home_error"] = f"{TASK_SPECS[task].title}: {exc}"
        return
    run_id = start(cfg)
    if run_id:
        st.session_state["home_started"] = run_id
    else:
        st.session_state["home_error"] = st.session_state.pop("train_error", "the run could not start")


st.title("Sequence Playground")
cells = ", ".join(cell.short for cell in CELLS.values())  # from the registries: a new cell or task appears here
tasks = "; ".join(spec.title for spec in TASK_SPECS.values())
st.markdown(
    f"Train recurrent networks ({cells}) live, and see what their gradients do: why a plain RNN forgets, why a "
    "large step explodes, and what gradient clipping changes. Every chart is measured on a real model training "
    "right now.")
st.caption(plain(f"Tasks: {tasks}."))
try:
    cap = f"Up to {runner.max_parallel_runs()} runs train at once; more wait in a queue."
except ConfigError as exc:  # a server setting: say what is wrong with it instead of failing the page
    cap = plain(str(exc))
st.caption(f"Training runs on **{devices.describe()}**. {cap} Runs keep training when you close or reload the page.")

if st.session_state.get("home_error"):
    st.error(plain(st.session_state.pop("home_error")), icon=":material/warning:")
started = st.session_state.pop("home_started", None)
if started:  # set by the button's callback: go and watch it
    st.switch_page("views/train.py", query_params={"run": started})

first, second = st.columns(2)
with first.container(border=True):
    st.markdown("#### :material/rocket_launch: Train your first model")
    st.markdown("A small LSTM learns a toy grammar of short sentences in about half a minute. "
                "Watch the samples turn from noise into words.")
    st.page_link("views/train.py", label="Open Train with a first LSTM", icon=":material/model_training:",
                 query_params=preset_query("A first LSTM on tiny sentences"))
with second.container(border=True):
    st.markdown("#### :material/auto_awesome: Try a pretrained model")
    shipped = pretrained.available()
    if shipped:
        st.markdown(f"{len(shipped)} models ship with the playground, trained on the built-in data: each opens on Try.")
        for model in shipped:  # every shipped model, whatever its task, one click away
            spec = TASK_SPECS.get(model.get("config", {}).get("task", {}).get("name"))
            what = spec.title.split(" (")[0] if spec else "model"  # a link label never wraps: no parenthesis
            st.page_link("views/try.py", label=plain(f"{model['name']} · {what}"), icon=":material/auto_awesome:",
                         query_params={"model": f"pretrained:{model['name']}"})
    else:
        st.markdown("No pretrained models ship with this copy (`python -m playground pretrain` makes them). "
                    "Train the smallest recipe here instead: about a minute on a CPU, then try it.")
        st.button("Train the small pretrained LSTM", icon=":material/settings:", on_click=start_pretrained_recipe)


def draw_live_runs() -> bool:
    live = store().list_runs(("running", "queued"))
    st.subheader("Runs in progress")
    if not live:
        st.caption("Nothing is training right now.")
    for record in live:
        text = f"{status_text(record)} · {run_label(record)}"
        if record.status == "queued":
            text += f" · {record.message or 'starting'}"
        row_left, row_right = st.columns([5, 1], vertical_alignment="center")
        row_left.progress(min(record.step / max(record.total_steps, 1), 1.0),
                          text=plain(f"{text} · step {record.step:,} of {record.total_steps:,}"))
        row_right.page_link("views/train.py", label="Watch", icon=":material/visibility:", query_params={"run": record.id})
    return bool(live)


live_section(draw_live_runs, bool(store().list_runs(("running", "queued"))), key="home-live")

st.subheader("Every task, one click away")
st.caption("Start a short run of any task, with settings that show its lesson within a minute, and watch it train; "
           "or open Train set up the same way to change the settings first.")
for name, spec in TASK_SPECS.items():
    with st.container(border=True, gap="small"):  # the text, then its two buttons: the same at every width
        headline = spec.headline_metric
        st.markdown(f"**{spec.title}**: scored by {headline.label} ({headline.unit})")  # registry text
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            st.button("Train it", key=f"home_task_{name}", icon=":material/play_arrow:", on_click=start_task,
                      args=(name,))
            st.page_link("views/train.py", label="Set it up", icon=":material/tune:", query_params=task_query(name))

st.subheader("What each page does")
cards = st.columns(len(PAGE_GUIDE))
for column, (path, title, icon, text) in zip(cards, PAGE_GUIDE):
    with column.container(border=True, height="stretch"):
        st.page_link(path, label=title, icon=icon)
        st.caption(text)

st.subheader("Three experiments to start with")
for name, what in EXPERIMENTS:
    with st.container(border=True):
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.markdown(f"**{name}**  \n{what}")
        right.page_link("views/train.py", label="Set it up", icon=":material/science:", query_params=preset_query(name))
