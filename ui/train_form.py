"""The Train page's settings: widgets bound to the URL, turned into a `RunConfig`, started as a job.

Every setting's widget key is also its URL parameter (`?arch=gru&hidden=64&clip=none`), so a link
reproduces an experiment. Presets and "retry with..." buttons write the same keys.
"""
from __future__ import annotations

import streamlit as st
import torch

from playground import classroom, options
from playground.runstore import jobs, runner
from playground.config import ConfigError, RunConfig, TrainConfig
from playground.data.errors import DataError
from playground.models.cells import CELLS
from playground.options import Setting
from playground.tasks import TASK_SPECS
from playground.train import penalties

from . import identity
from .plain import plain
from .context import store

PAGE_PARAMETERS = ("run", "runs", "model", "at", "preset", "lesson")  # the Train page's URL parameters that are not settings
# What the form starts from: the library's defaults, except a quicker first run.
DEFAULTS = RunConfig(train=TrainConfig(steps=500, eval_every=25))
INIT_HELP = {
    "default": "torch's uniform ±1/√H",
    "xavier": "Glorot-uniform weights, zero biases",
    "orthogonal": "orthogonal W_hh: every eigenvalue on the unit circle",
    "identity": "W_hh = I (IRNN): meant for ReLU RNNs",
    "spectral": "random W_hh scaled to a chosen spectral radius ρ",
}
GROUP_NOTES = {  # a line under a section's title
    "Echo state reservoir": "An echo state network never trains its recurrent weights: only a linear readout is fitted "
                            "(ridge regression), so the reservoir's settings decide how long it remembers.",
    "Gradient clipping": "You can also change clipping while a run trains.",
    "Penalties": "Added to the loss against exploding (recurrent L2) and vanishing (Omega) gradients; each is "
                 "recorded per step beside the loss.",
}
EXPANDED = {"Task and data": True, "Architecture": True, "Echo state reservoir": True, "Decoder": True,
            "Training": False, "Gradient clipping": True, "Penalties": False}

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


CLIP_NAMES = {"none": "off", "norm": "by norm", "value": "by value"}  # in sentences; widgets show the values themselves


def arch_name(arch: str) -> str:
    return CELLS[arch].short if arch in CELLS else arch


def dataset_options(task: str) -> list[str]:
    """The datasets a task can train on: built-in ones first, then the user's uploads (none: it makes its own)."""
    return list(TASK_SPECS[task].datasets()) if task in TASK_SPECS else []


def task_defaults(task: str) -> RunConfig:
    """What Home's "Train it" starts for a task: the form's defaults on its first dataset, with the settings the
    task gives a first run (TaskSpec.first_run). ConfigError when those do not make a valid run."""
    cfg = RunConfig.from_dict(DEFAULTS.to_dict())
    cfg.task.name = task
    datasets = dataset_options(task)
    if datasets:
        cfg.task.dataset = datasets[0]
    for key, value in TASK_SPECS[task].first_run.items():
        options.BY_KEY[key].set(cfg, value)
    return options.reset_unused(cfg).validate()


def config_values(cfg: RunConfig) -> dict:
    """The form's values (URL keys) that describe `cfg` (those that do not apply hold their defaults)."""
    return {s.url_key: s.get(cfg) for s in options.SETTINGS if s.widget}


def preset_values(name: str) -> dict:
    return {**config_values(DEFAULTS), **PRESETS[name]}


def preset_query(name: str) -> dict[str, str]:
    """A preset as URL parameters (for links from other pages)."""
    return {k: str(v) for k, v in PRESETS[name].items()}


def task_query(task: str) -> dict[str, str]:
    """A task's first run as URL parameters: Home's "Set it up" opens Train with what "Train it" would start."""
    return {"task": task, **{k: str(v) for k, v in TASK_SPECS[task].first_run.items()}}


def apply_values(values: dict) -> None:
    """Set the form's widgets (call from a callback: before the widgets are drawn)."""
    for key, value in values.items():
        if key in options.BY_KEY:
            st.session_state[key] = value


def _form_config() -> RunConfig:
    """The settings the widgets hold now, unvalidated (widgets not drawn keep the defaults)."""
    cfg = RunConfig.from_dict(DEFAULTS.to_dict())
    for s in options.SETTINGS:
        if s.widget and st.session_state.get(s.url_key) is not None:
            s.set(cfg, st.session_state[s.url_key])
    return cfg


def current_lesson() -> classroom.Lesson | None:
    """The lesson the page was opened with (?lesson=ID), or None."""
    lesson_id = st.query_params.get("lesson")
    return classroom.get_lesson(store(), lesson_id) if lesson_id else None


def _enforce_lesson(lesson: classroom.Lesson | None) -> None:
    """Put the lesson's values in the form once, and its locked ones back on every rerun: a student's
    session (or a doctored URL) cannot change what the teacher locked."""
    if lesson is None:
        return
    if st.session_state.get("_lesson_applied") != lesson.id:
        st.session_state["_lesson_applied"] = lesson.id
        apply_values(lesson.values)
    apply_values({key: lesson.values[key] for key in lesson.locked if key in lesson.values})
    for key in lesson.locked:
        if key in st.query_params:
            del st.query_params[key]


def config_from_form() -> RunConfig:
    """The RunConfig the widgets describe; settings that do not apply to its task and cell are not recorded.
    A lesson's locked settings are the lesson's, whatever the widgets hold."""
    lesson = current_lesson()
    cfg = _form_config()
    if lesson is not None:
        for key in lesson.locked:
            if key in options.BY_KEY and key in lesson.values:
                options.BY_KEY[key].set(cfg, lesson.values[key])
    cfg = options.reset_unused(options.resolve_task(cfg))  # char with word tokens is the words task
    cfg.name = (st.session_state.get("run_name") or "").strip()
    return cfg.validate()


def start(cfg: RunConfig) -> str | None:
    """Validate and start a run; on bad settings, leave the message for the page and return None."""
    me = identity.current()
    try:
        if me.classroom and not me.name:
            raise ConfigError("type your name in the box on the left first: it marks the runs you start")
        classroom.check_cap(store(), me)
        runner.prepare(cfg)  # fail now, with the data's own message, not a second later in the child
        cap = runner.max_parallel_runs()  # a bad PLAYGROUND_MAX_RUNS is said here, not by a failed run
        executor = jobs.executor_name()  # a bad PLAYGROUND_EXECUTOR likewise
    except (ConfigError, DataError) as exc:
        st.session_state["train_error"] = str(exc)
        return None
    st.session_state.pop("train_error", None)
    busy = len(store().list_runs(("running", "queued")))
    lesson = current_lesson()
    run_id = jobs.start(store(), cfg, owner=me.name, lesson=lesson.id if lesson else "")
    if executor != "local":
        busy = 0  # the cluster's scheduler says when it starts
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
    datasets = dataset_options(st.session_state["task"])
    if datasets:
        st.session_state["dataset"] = datasets[0]


def _value(key: str, default) -> dict:
    """`value=` for a widget unless the session (or the URL) already holds one: Streamlit warns
    when a widget gets both."""
    return {} if key in st.session_state else {"value": default}


def _index(key: str, options: list, default) -> dict:
    return {} if key in st.session_state else {"index": options.index(default) if default in options else 0}


def _nearest(options: list, value):
    return min(options, key=lambda option: abs(option - value))


def _choices(s: Setting, cfg: RunConfig) -> list:
    values = list(options.choices(s, cfg.task.name, cfg.model.arch))
    if s.path == "train.device":  # only the devices this machine has
        values = ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    return values


def _widget(s: Setting, cfg: RunConfig, locked: bool = False) -> None:
    """One setting's widget; its key is also its URL parameter. A lesson's locked setting is greyed out."""
    key, label, default = s.url_key, options.label_for(s, cfg.task.name), s.get(DEFAULTS)
    tip = s.help or s.comment or None
    if locked:
        tip = "Locked by the lesson. " + (tip or "")
    # a locked widget is not bound to the URL: a doctored link must not show (or send) another value
    common = {"key": key, "help": tip, "disabled": locked, **({} if locked else {"bind": "query-params"})}
    if s.widget in ("select", "segmented", "radio", "select_slider"):
        values = _choices(s, cfg)
        if not values:
            return
        wanted = st.session_state[key] if key in st.session_state else st.query_params.get(key)
        if wanted is not None and all(isinstance(v, str) for v in values) and wanted not in values:
            st.session_state[key] = default if default in values else values[0]  # another task's or cell's choice
        if s.widget == "select":
            names = dict(s.value_labels)
            named = {"format_func": lambda value: names.get(value, str(value))} if names else {}
            st.selectbox(label, values, **_index(key, values, default), **named, **common)
        elif s.widget == "radio":
            st.radio(label, values, horizontal=True, **_index(key, values, default), **common)
        elif s.widget == "segmented":
            st.segmented_control(label, values, required=True, **common,
                                 **({} if key in st.session_state else {"default": default if default in values else values[0]}))
        else:
            st.select_slider(label, values, **_value(key, _nearest(values, default)), **common)
    elif s.widget == "slider":
        st.slider(label, s.low, s.high, step=s.step, **_value(key, default), **common)
    elif s.widget == "number":
        if s.type is int:
            bounds = {"min_value": int(s.low), "max_value": int(s.high), "step": int(s.step or 1)}
        else:
            bounds = {"min_value": float(s.low), "max_value": float(s.high), "format": "%.4g",
                      **({"step": float(s.step)} if s.step else {})}
        st.number_input(label, **bounds, **_value(key, default), **common)
    elif s.widget == "toggle":
        st.toggle(label, **_value(key, default), **common)
    elif s.widget == "text":
        st.text_input(label, **_value(key, default), **common)


def _migrate_link() -> None:
    """A link made before today's settings opens the same experiment: old values are rewritten in today's
    terms (attention=luong -> luong-general); parameters that no longer mean anything are named once."""
    given = {key: st.query_params.get(key) for key in st.query_params}
    migrated, notes = options.migrate_url(given, others=PAGE_PARAMETERS)
    for key, value in migrated.items():
        if value != given.get(key):
            st.query_params[key] = value
            if st.session_state.get(key) in (None, given.get(key)):
                st.session_state[key] = value
    if notes and not st.session_state.get("link_noted"):
        st.session_state["link_noted"] = True
        st.toast(plain(" ".join(notes)), icon=":material/link_off:")  # names from the link are the user's text


def _from_url(s: Setting, text: str):
    """A URL parameter's text as the setting's widget value (None when it does not read as one)."""
    try:
        if s.type is bool:
            return {"true": True, "false": False}.get(text.lower())
        return s.type(float(text)) if s.type is int else s.type(text)
    except (TypeError, ValueError):
        return None


def _link_wins() -> None:
    """A link that arrives with settings (Data's "Train on X", Home's experiments) beats values the session
    kept from an earlier visit: the address changed since this page last drew, so its values are the user's."""
    now = {key: st.query_params.get(key) for key in st.query_params if key in options.BY_KEY}
    seen = st.session_state.get("train_url_seen")
    if seen is None or now == seen:
        return
    for key, text in now.items():
        if seen.get(key) == text:
            continue
        value = _from_url(options.BY_KEY[key], text)
        if value is not None:
            st.session_state[key] = value


def _remember_url() -> None:
    st.session_state["train_url_seen"] = {key: st.query_params.get(key) for key in st.query_params
                                          if key in options.BY_KEY}


def settings_from_watched_run() -> None:
    """Train opened on a run (`?run=ID`, a link or a Watch button) with no settings in the address: the form
    shows that run's settings, not the defaults beside it. Once per run, so the user's edits stay."""
    run_id = st.query_params.get("run")
    if not run_id or st.session_state.get("form_from_run") == run_id:
        return
    if any(key in options.BY_KEY for key in st.query_params):
        return  # the link says the settings itself
    record = store().get_run(run_id)
    if record is None:
        return
    st.session_state["form_from_run"] = run_id
    apply_values(config_values(record.config))


def draw_form() -> None:
    """The settings, in the sidebar, generated from `options.SETTINGS`: only those that apply to the chosen
    task and cell are shown. Start is on top, so it is always in view."""
    sidebar = st.sidebar
    _migrate_link()
    _link_wins()
    settings_from_watched_run()
    lesson = current_lesson()
    _enforce_lesson(lesson)
    locked = set(lesson.locked) if lesson else set()
    sidebar.button(":material/play_arrow: Start training", type="primary", on_click=start_from_form, width="stretch", key="start")
    if st.session_state.get("train_error"):
        sidebar.error(plain(st.session_state["train_error"]), icon=":material/warning:")
    if lesson is not None:
        sidebar.info(f"Lesson: **{plain(lesson.title)}**" + (f" · the teacher locked {len(locked)} settings (greyed out)"
                                                             if locked else ""), icon=":material/school:")
    else:
        sidebar.selectbox("Start from a preset", list(PRESETS), index=None, key="preset", on_change=_apply_preset,
                          placeholder="Pick an experiment...", help="Fills in the settings below; nothing starts until you press Start.")
    cfg = _form_config()  # the widgets' values as this rerun starts; kept up to date as each is drawn
    for group in options.GROUPS:
        rows = [s for s in options.SETTINGS if s.group == group and s.widget]
        if not any(options.applies(s, cfg) for s in rows):
            continue
        with sidebar.expander(group, expanded=EXPANDED.get(group, True)):
            if group in GROUP_NOTES and group != "Gradient clipping":
                st.caption(GROUP_NOTES[group])
            for s in rows:
                if not options.applies(s, cfg):  # read after the widgets above: they may change what applies
                    continue
                if s.path == "task.name":
                    names = list(TASK_SPECS)
                    st.selectbox(s.label, names, key="task", on_change=_task_changed, disabled="task" in locked,
                                 **({} if "task" in locked else {"bind": "query-params"}),
                                 **_index("task", names, DEFAULTS.task.name),
                                 help="; ".join(f"{name}: {spec.title}" for name, spec in TASK_SPECS.items()))
                    task = st.session_state.get("task", DEFAULTS.task.name)
                    st.caption(TASK_SPECS[task].title if task in TASK_SPECS else "")
                else:
                    _widget(s, cfg, locked=s.url_key in locked)
                if st.session_state.get(s.url_key) is not None:
                    s.set(cfg, st.session_state[s.url_key])
                if s.path == "model.init":
                    st.caption(INIT_HELP.get(st.session_state.get("init", DEFAULTS.model.init), ""))
                if s.section == "train" and s.field in penalties.PENALTIES and s.get(cfg):
                    reason = penalties.applies(cfg.model, s.field)
                    if reason:  # Start would refuse it: say why here, before anything is started
                        st.warning(plain(f"{s.label} does not apply: {reason}."), icon=":material/block:")
            if group == "Gradient clipping":
                st.caption(GROUP_NOTES[group])
            if group == "Training":
                st.text_input("Run name (optional)", key="run_name", placeholder="derived from the settings")
    _remember_url()
    if identity.current().teacher:
        _lesson_maker(sidebar, cfg)


def _save_lesson() -> None:
    try:
        values = config_values(config_from_form())
        lesson = classroom.create_lesson(store(), st.session_state.get("lesson_title", ""), values,
                                         list(st.session_state.get("lesson_locked") or []),
                                         owner=identity.current().name)
    except ConfigError as exc:
        st.session_state["lesson_message"] = ("error", str(exc))
        return
    st.session_state["lesson_message"] = ("success", lesson.id)


def lesson_link(lesson_id: str) -> str:
    """The address students open: this server's Train page with ?lesson=ID."""
    try:
        base = (st.context.url or "").split("?")[0].rsplit("/", 1)[0]
    except Exception:  # noqa: BLE001 - no browser (AppTest)
        base = ""
    return f"{base}/train?lesson={lesson_id}"


def _lesson_maker(sidebar, cfg: RunConfig) -> None:
    """Teacher mode: save the form as a lesson, choosing which settings students cannot change."""
    with sidebar.expander("Teacher: save as a lesson", icon=":material/school:"):
        keys = [s.url_key for s in options.SETTINGS if s.widget and options.applies(s, cfg)]
        labels = {s.url_key: options.label_for(s, cfg.task.name) for s in options.SETTINGS if s.widget}
        labels["task"] = "Task"
        st.text_input("Lesson title", key="lesson_title", placeholder="Vanishing gradients, part 1")
        st.multiselect("Locked settings (students cannot change them)", keys, key="lesson_locked",
                       format_func=lambda key: labels.get(key, key))
        st.button("Save the lesson", key="lesson_save", on_click=_save_lesson)
        message = st.session_state.get("lesson_message")
        if message and message[0] == "error":
            st.error(plain(message[1]), icon=":material/warning:")
        elif message:
            st.success("Saved. Share this link with the class:", icon=":material/link:")
            st.code(lesson_link(message[1]), language=None)
