"""The Train page's settings: widgets bound to the URL, turned into a `RunConfig`, started as a job.

Every setting's widget key is also its URL parameter (`?arch=gru&hidden=64&clip=none`), so a link
reproduces an experiment. Presets and "retry with..." buttons write the same keys.
"""
from __future__ import annotations

import streamlit as st
import torch

from playground import jobs, runner, tasks
from playground.config import ARCHITECTURES, CELLS, CLIP_MODES, INITS, OPTIMIZERS, ConfigError, RunConfig, TrainConfig
from playground.data.errors import DataError
from playground.data.uploads import dataset_choices

from . import esn_settings
from .plain import plain
from .context import store

# URL key -> (config section, field). The key is the widget's key and its query parameter.
FIELDS = {
    "task": ("task", "name"), "dataset": ("task", "dataset"),
    "arch": ("model", "arch"), "layers": ("model", "layers"), "hidden": ("model", "hidden"),
    "embedding": ("model", "embedding"), "dropout": ("model", "dropout"), "backend": ("model", "backend"),
    "init": ("model", "init"), "rho": ("model", "spectral_radius"),
    "optimizer": ("train", "optimizer"), "lr": ("train", "lr"), "steps": ("train", "steps"),
    "batch": ("train", "batch_size"), "seq_len": ("train", "seq_len"), "seed": ("train", "seed"),
    "clip": ("train", "clip"), "clip_at": ("train", "clip_threshold"), "eval_every": ("train", "eval_every"),
    "device": ("train", "device"),
    **esn_settings.ESN_FIELDS,  # esn only: reservoir settings
    # decoder tasks only (translation, captioning)
    "attention": ("model", "attention"), "teacher_forcing": ("train", "teacher_forcing"), "beam": ("train", "beam"),
}
# What the form starts from: the library's defaults, except a quicker first run.
DEFAULTS = RunConfig(train=TrainConfig(steps=500, eval_every=25))

ARCH_NAMES = {"rnn-tanh": "RNN (tanh)", "rnn-relu": "RNN (ReLU)", "lstm": "LSTM", "gru": "GRU", "esn": "Echo state network"}
TASK_TITLES = {"char": "character-level text generation", "translation": "translation (sequence to sequence)",
               "captioning": "image captioning", "adding": "long memory: add two marked numbers (MSE)",
               "temporal-order": "long memory: classify the order of hidden markers",
               "copy": "long memory: repeat the first symbols at the end"}
# Attention each decoder task's model accepts (the char task has no decoder).
ATTENTION_CHOICES = {"translation": ["none", "bahdanau", "luong-dot", "luong-general"], "captioning": ["none", "soft"]}
INIT_HELP = {
    "default": "torch's uniform ±1/√H",
    "xavier": "Glorot-uniform weights, zero biases",
    "orthogonal": "orthogonal W_hh: every eigenvalue on the unit circle",
    "identity": "W_hh = I (IRNN): meant for ReLU RNNs",
    "spectral": "random W_hh scaled to a chosen spectral radius ρ",
}
HIDDEN_SIZES = [8, 16, 32, 64, 128, 256, 512, 1024]
EMBEDDING_SIZES = [8, 16, 32, 64, 128, 256]
BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256]
SEQ_LENS = [8, 16, 32, 64, 100, 128, 200, 256, 512]

PRESETS: dict[str, dict] = {
    "A first LSTM on tiny sentences": {},
    "Vanishing gradients: a tanh RNN on long sequences": {
        "arch": "rnn-tanh", "hidden": 64, "seq_len": 128, "clip": "none", "steps": 400},
    "Exploding gradients: ReLU RNN, identity init, no clipping": {
        "arch": "rnn-relu", "init": "identity", "optimizer": "sgd", "lr": 0.03, "hidden": 64, "clip": "none", "steps": 300},
    "The same, with clipping by norm": {
        "arch": "rnn-relu", "init": "identity", "optimizer": "sgd", "lr": 0.03, "hidden": 64, "clip": "norm",
        "clip_at": 1.0, "steps": 300},
    "Gate saturation: a GRU from textbook cells": {
        "arch": "gru", "backend": "scratch", "hidden": 64, "seq_len": 32, "steps": 200},
}


def arch_name(arch: str) -> str:
    return ARCH_NAMES.get(arch, arch)


def dataset_options(task: str) -> list[str]:
    """The datasets a task can train on: built-in ones first, then the user's uploads."""
    if task == "char":
        return dataset_choices()
    if task == "translation":
        from playground.data.pairs import GENERATED
        from playground.tasks.translation import uploaded_pair_files

        return list(GENERATED) + list(uploaded_pair_files())
    if task == "captioning":
        from playground.data.scenes import PRESETS

        return list(PRESETS)
    return [DEFAULTS.task.dataset]


def config_values(cfg: RunConfig) -> dict:
    """The form's values (URL keys) that describe `cfg`."""
    return {key: getattr(getattr(cfg, section), name) for key, (section, name) in FIELDS.items()}


def preset_values(name: str) -> dict:
    return {**config_values(DEFAULTS), **PRESETS[name]}


def preset_query(name: str) -> dict[str, str]:
    """A preset as URL parameters (for links from other pages)."""
    return {k: str(v) for k, v in PRESETS[name].items()}


def apply_values(values: dict) -> None:
    """Set the form's widgets (call from a callback: before the widgets are drawn)."""
    for key, value in values.items():
        if key in FIELDS:
            st.session_state[key] = value


def config_from_form() -> RunConfig:
    """The RunConfig the widgets describe (widgets not drawn keep the defaults)."""
    cfg = RunConfig.from_dict(DEFAULTS.to_dict())
    for key, (section, name) in FIELDS.items():
        if st.session_state.get(key) is not None:
            setattr(getattr(cfg, section), name, st.session_state[key])
    cfg.name = (st.session_state.get("run_name") or "").strip()
    return cfg.validate()


def start(cfg: RunConfig) -> str | None:
    """Validate and start a run; on bad settings, leave the message for the page and return None."""
    try:
        runner.prepare(cfg)  # fail now, with the data's own message, not a second later in the child
        cap = runner.max_parallel_runs()  # a bad PLAYGROUND_MAX_RUNS is said here, not by a failed run
    except (ConfigError, DataError) as exc:
        st.session_state["train_error"] = str(exc)
        return None
    st.session_state.pop("train_error", None)
    busy = len(store().list_runs(("running", "queued")))
    run_id = jobs.start(store(), cfg)
    if busy >= cap:
        st.toast(f"Queued: {busy} runs are already training or waiting; this one starts when a slot frees up.", icon=":material/hourglass_top:")
    st.session_state["run"] = run_id  # the watched-run picker, bound to ?run=
    return run_id


def start_from_form() -> None:
    try:
        cfg = config_from_form()
    except ConfigError as exc:
        st.session_state["train_error"] = str(exc)
        return
    start(cfg)


def _apply_preset() -> None:
    name = st.session_state.get("preset")
    if name in PRESETS:
        apply_values(preset_values(name))


def _task_changed() -> None:
    st.session_state["dataset"] = dataset_options(st.session_state["task"])[0]


def _value(key: str, default) -> dict:
    """`value=` for a widget unless the session (or the URL) already holds one: Streamlit warns
    when a widget gets both."""
    return {} if key in st.session_state else {"value": default}


def _index(key: str, options: list, default) -> dict:
    return {} if key in st.session_state else {"index": options.index(default) if default in options else 0}


def _nearest(options: list, value):
    return min(options, key=lambda option: abs(option - value))


def draw_form() -> None:
    """The settings, in the sidebar. Start is on top, so it is always in view."""
    d = config_values(DEFAULTS)
    sidebar = st.sidebar
    sidebar.button(":material/play_arrow: Start training", type="primary", on_click=start_from_form, width="stretch", key="start")
    if st.session_state.get("train_error"):
        sidebar.error(plain(st.session_state["train_error"]), icon=":material/warning:")
    sidebar.selectbox("Start from a preset", list(PRESETS), index=None, key="preset", on_change=_apply_preset,
                      placeholder="Pick an experiment...", help="Fills in the settings below; nothing starts until you press Start.")

    with sidebar.expander("Task and data", expanded=True):
        task_names = [n for n in TASK_TITLES if n in tasks.TASKS]
        task = st.selectbox("Task", task_names, key="task", bind="query-params", on_change=_task_changed,
                            **_index("task", task_names, d["task"]),
                            help="; ".join(f"{name}: {title}" for name, title in TASK_TITLES.items()))
        st.caption(TASK_TITLES.get(task, ""))
        datasets = dataset_options(task)
        current = st.session_state.get("dataset") or st.query_params.get("dataset")
        if current not in datasets:  # a link or an earlier choice named another task's data
            st.session_state["dataset"] = datasets[0]
        st.selectbox("Dataset", datasets, key="dataset", bind="query-params",
                     help="Built-in data first, then your uploads (add text on the Data page).")

    with sidebar.expander("Architecture", expanded=True):
        st.segmented_control("Recurrent cell", ARCHITECTURES, key="arch", bind="query-params", required=True, **({} if "arch" in st.session_state else {"default": d["arch"]}))
        st.select_slider("Hidden units", HIDDEN_SIZES, key="hidden", bind="query-params",
                         **_value("hidden", _nearest(HIDDEN_SIZES, d["hidden"])))
        st.number_input("Layers", 1, 4, key="layers", bind="query-params", **_value("layers", d["layers"]))
        st.select_slider("Embedding size", EMBEDDING_SIZES, key="embedding", bind="query-params",
                         **_value("embedding", _nearest(EMBEDDING_SIZES, d["embedding"])))
        if st.session_state.get("layers", 1) > 1:
            st.slider("Dropout between layers", 0.0, 0.8, step=0.05, key="dropout", bind="query-params",
                      **_value("dropout", d["dropout"]))
        init = st.selectbox("Initialisation", INITS, key="init", bind="query-params",
                            **_index("init", list(INITS), d["init"]))
        st.caption(INIT_HELP.get(init, ""))
        if st.session_state.get("init") == "spectral" and st.session_state.get("arch") != "esn":  # esn: its own ρ below
            st.slider("Spectral radius ρ of W_hh", 0.1, 3.0, step=0.05, key="rho", bind="query-params",
                      **_value("rho", d["rho"]))
        st.radio("Backend", ["fused", "scratch"], key="backend", bind="query-params", horizontal=True,
                 **_index("backend", ["fused", "scratch"], d["backend"]),
                 help="fused: torch's nn.RNN/LSTM/GRU kernels (fast). scratch: the textbook cells in Python "
                      "(2-3x slower), which also record gate statistics.")

    if st.session_state.get("arch") == "esn":
        with sidebar.expander("Echo state reservoir", expanded=True):
            esn_settings.draw(d, _value)

    if task in ATTENTION_CHOICES:
        with sidebar.expander("Decoder", expanded=True):
            st.selectbox("Attention", ATTENTION_CHOICES[task], key="attention", bind="query-params",
                         **_index("attention", ATTENTION_CHOICES[task], "none"))
            st.slider("Teacher forcing", 0.0, 1.0, step=0.05, key="teacher_forcing", bind="query-params",
                      **_value("teacher_forcing", d["teacher_forcing"]),
                      help="How often the decoder is fed the true previous token while training (1 = always).")
            st.number_input("Beam width at evaluation", 1, 20, key="beam", bind="query-params", **_value("beam", d["beam"]))

    with sidebar.expander("Training", expanded=False):
        st.selectbox("Optimiser", OPTIMIZERS, key="optimizer", bind="query-params",
                     **_index("optimizer", list(OPTIMIZERS), d["optimizer"]))
        st.number_input("Learning rate", min_value=1e-5, max_value=10.0, format="%.4g", step=1e-3, key="lr",
                        bind="query-params", **_value("lr", d["lr"]))
        st.number_input("Steps", min_value=1, max_value=200_000, step=100, key="steps", bind="query-params",
                        **_value("steps", d["steps"]))
        st.select_slider("Batch size", BATCH_SIZES, key="batch", bind="query-params", **_value("batch", d["batch"]))
        st.select_slider("Sequence length (truncated BPTT)", SEQ_LENS, key="seq_len", bind="query-params",
                         **_value("seq_len", _nearest(SEQ_LENS, d["seq_len"])))
        st.number_input("Measure gradient flow and sample every N steps", min_value=1, max_value=10_000, step=5,
                        key="eval_every", bind="query-params", **_value("eval_every", d["eval_every"]))
        st.number_input("Seed", min_value=0, max_value=2**31 - 1, key="seed", bind="query-params", **_value("seed", d["seed"]))
        devices = ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        st.selectbox("Device", devices, key="device", bind="query-params", **_index("device", devices, d["device"]))
        st.text_input("Run name (optional)", key="run_name", placeholder="derived from the settings")

    with sidebar.expander("Gradient clipping", expanded=True):
        st.segmented_control("Clip", CLIP_MODES, key="clip", bind="query-params", required=True,
                             **({} if "clip" in st.session_state else {"default": d["clip"]}),
                             help="none: no clipping. norm: rescale the whole gradient when its norm is above the "
                                  "threshold. value: clamp every element to ±threshold.")
        if st.session_state.get("clip", d["clip"]) != "none":
            st.number_input("Threshold", min_value=1e-4, max_value=1e6, format="%.4g", step=0.25, key="clip_at",
                            bind="query-params", **_value("clip_at", d["clip_at"]),
                            help="by norm: the largest allowed global norm ‖g‖. by value: the largest |g_i| of any element.")
        st.caption("You can also change clipping while a run trains.")
