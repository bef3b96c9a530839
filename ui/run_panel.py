"""One run on the Train page: Stop, live clipping, progress with ETA and headline numbers (redrawn
every second while it trains), the four gradient charts and samples (every two seconds); its
outcome, next steps and downloads once it has ended."""
from __future__ import annotations

import functools
import math
import re

import streamlit as st

from playground import classroom, options
from playground.config import CLIP_MODES, ConfigError
from playground.models.cells import CELLS
from playground.models.echo_state import echo_state_warning
from playground.runstore import checkpoint, export, jobs
from playground.runstore.history import RECENT, recent_train_loss
from playground.runstore.runner import describe_clip
from playground.runstore.store import RUN_NAME_LIMIT, RunRecord
from playground.runstore.summaries import baseline_loss, chance_remedies, chance_verdict, headline_spec, task_of
from playground.viz import charts, label_charts
from playground.viz.forecast_charts import forecast_figure
from playground.viz.numbers import readable

from . import identity, try_forecast
from .context import history, store
from .layout import chart_columns
from .plot import plot
from .polling import CHART_SECONDS, POLL_SECONDS, live_section, open_tabs, slower
from .runs import status_text
from .train_form import CLIP_NAMES, apply_values, arch_name, config_values, start
from .plain import plain

PENALTY_NAMES = {"recurrent_l2": "recurrent L2", "omega": "Omega"}


def duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 60}:{seconds % 60:02d} min" if seconds >= 60 else f"{seconds} s"


def number(value, digits: int = 3) -> str:
    """A metric for display (`viz.numbers.readable`): '–' when missing, 2.93e+34 when it has blown up."""
    return readable(value, digits)


DIVERGED_VALUE = re.compile(r"became (\S+) at step (\d+)")


def divergence(record: RunRecord) -> tuple[str, int] | None:
    """(what the value became, the step) for a run that diverged on a training step: the store keeps a
    non-finite number as a gap, the run's message says what it was."""
    found = DIVERGED_VALUE.search(record.message or "") if record.status == "diverged" else None
    if not found:
        return None
    value = {"inf": "∞", "-inf": "−∞", "nan": "NaN"}.get(found.group(1).lower(), found.group(1).rstrip(":"))
    return value, int(found.group(2))


def settings_line(record: RunRecord, clip: dict | None = None) -> str:
    """The run's settings in one line: only those that apply to its task and cell; `clip` ({mode, threshold}):
    clipping as changed while it trained."""
    cfg = record.config
    m, t = cfg.model, cfg.train
    applies = {s.path for s in options.applying(cfg)}
    parts = [f"{arch_name(m.arch)} {m.layers}×{m.hidden}"
             + (f" ({m.backend}, {m.init} init)" if "model.backend" in applies else "")]
    if "train.optimizer" in applies:
        parts.append(f"{t.optimizer} lr {t.lr:g}")
    seq_label = options.label_for(options.setting("train.seq_len"), cfg.task.name)
    parts.append(f"batch {t.batch_size}" + (f" · {seq_label} {t.seq_len}" if "train.seq_len" in applies else ""))
    if "train.clip" in applies:
        mode, threshold = (clip["mode"], clip["threshold"]) if clip else (t.clip, t.clip_threshold)
        parts.append("clipping " + ("off" if mode == "none" else f"{CLIP_NAMES.get(mode, mode)} at {float(threshold):g}")
                     + (" (changed while training)" if clip and (mode, float(threshold)) != (t.clip, t.clip_threshold) else ""))
    parts.append(f"seed {t.seed}")
    if "task.dataset" in applies:
        parts.append(f"data: {cfg.task.dataset}")
    return " · ".join(parts)


def _by_gradient(record: RunRecord) -> bool:
    cell = CELLS.get(record.config.model.arch)
    return cell is None or cell.trains_by_gradient


def draw_run(run_id: str) -> None:
    record = store().get_run(run_id)
    if record is None:
        st.warning("This run is not in the store any more.")
        return
    left, right = st.columns([6, 1], vertical_alignment="center")
    left.subheader(plain(record.name))  # a run's name is the user's text, never markdown
    clip = store().controls(record.id).get("clip")  # a live change of clipping shows in the header too
    me = identity.current()
    mine = classroom.may_manage(me, record.owner)
    by = f" · started by {plain(classroom.owner_label(record.owner))}" if me.classroom else ""
    left.caption(f"{plain(settings_line(record, clip))} · run `{record.id}`{by}")
    if record.live and mine:
        right.button("Stop", icon=":material/stop:", key=f"stop-{run_id}", on_click=_stop, args=(run_id,),
                     width="stretch", help="Stops after the current step and saves a checkpoint: nothing is lost.")
        _rename_control(record, right)
        _clipping_control(record)
    elif record.live:
        st.caption(f"You are watching {plain(classroom.owner_label(record.owner))}'s run: only they or the teacher "
                   "can stop it or change its clipping.")
    else:
        _outcome(record)
    live_section(functools.partial(_live_numbers, run_id), record.live, key=f"numbers-{run_id}")
    live_section(functools.partial(_live_charts, run_id), record.live, key=f"charts-{run_id}", every=CHART_SECONDS)
    if not record.live:
        _finished_actions(record, mine)


# -- while it trains ---------------------------------------------------------------------------------
def _allowed(run_id: str) -> bool:
    """Checked again when a button fires: the page may have been drawn for someone else's session state."""
    record = store().get_run(run_id)
    try:
        classroom.check_may_manage(identity.current(), record.owner if record else "")
    except ConfigError as exc:
        st.toast(plain(exc), icon=":material/lock:")
        return False
    return True


def _stop(run_id: str) -> None:
    if not _allowed(run_id):
        return
    jobs.stop(store(), run_id)
    st.toast("Stopping: the run saves a checkpoint at its current step.", icon=":material/stop:")


def _apply_clip(run_id: str) -> None:
    if not _allowed(run_id):
        return
    mode = st.session_state[f"live_clip-{run_id}"]
    threshold = st.session_state.get(f"live_clip_at-{run_id}", 1.0)
    jobs.set_clipping(store(), run_id, mode, threshold)
    st.toast(f"Sent: {describe_clip(mode, threshold)}. The gradient chart marks the step where it applies.",
             icon=":material/content_cut:")


def _clipping_control(record: RunRecord) -> None:
    requested = store().controls(record.id).get("clip") or {"mode": record.config.train.clip,
                                                             "threshold": record.config.train.clip_threshold}
    with st.container(border=True):
        mode_col, threshold_col, button_col = st.columns([3, 2, 1], vertical_alignment="bottom")
        mode_key, threshold_key = f"live_clip-{record.id}", f"live_clip_at-{record.id}"
        # the sidebar's own names (none / norm / value): a bound widget's URL holds its labels, so those stay the values
        mode_col.segmented_control("Change gradient clipping while it trains", CLIP_MODES, key=mode_key, required=True,
                                   **({} if mode_key in st.session_state else {"default": requested["mode"]}))
        threshold_col.number_input("Threshold", min_value=1e-4, max_value=1e6, format="%.4g", step=0.25,
                                   key=threshold_key, disabled=st.session_state.get(mode_key) == "none",
                                   **({} if threshold_key in st.session_state else {"value": float(requested["threshold"])}))
        button_col.button("Apply", key=f"apply_clip-{record.id}", on_click=_apply_clip, args=(record.id,), width="stretch")


def _live_numbers(run_id: str) -> bool:
    record = store().get_run(run_id)
    if record is None:
        return False
    hist = history(record)
    _progress(record, hist)
    _numbers(record, hist)
    return record.live


def _live_charts(run_id: str) -> bool:
    record = store().get_run(run_id)
    if record is None:
        return False
    hist = history(record)
    _charts(record, hist)
    _samples(record, hist)
    return record.live


def _progress(record: RunRecord, hist) -> None:
    notice = st.container()  # always drawn, so everything below keeps its place from one poll to the next
    if record.status == "queued":
        position = store().queue_position(record.id)
        line = (f"Number {position} in the queue: runs take turns by who started them, so one student's "
                "many runs do not hold up the class." if position else "")
        notice.info(" ".join(filter(None, [record.message or "Starting the training process (loading PyTorch takes "
                                           "a few seconds)...", line])), icon=":material/hourglass_top:")
    elapsed = hist.elapsed()
    step, total = record.step, max(record.total_steps, 1)
    text = f"{status_text(record)} · step {step:,} of {total:,} · {duration(elapsed)}"
    if record.live and step:
        text += f" elapsed · about {duration(elapsed / step * (total - step))} left"
        factor = slower()
        if factor > 1:  # said, so a slower page is not read as a stalled run
            text += f" · updated every {POLL_SECONDS * factor:g} s while {open_tabs()} tabs watch this server"
    st.progress(min(step / total, 1.0), text=text)


def _numbers(record: RunRecord, hist) -> None:
    headline = headline_spec(record)
    metric = headline.name
    spec = task_of(record)
    loss_unit = spec.loss.unit if spec else "loss"
    last_step = hist.steps[-1] if hist.steps else {}
    clip = last_step.get("clip", record.config.train.clip)
    clip_now = "off" if clip == "none" else f"{clip} {last_step.get('clip_threshold', record.config.train.clip_threshold):g}"
    # a wrapping row of fixed-width numbers: six across at 1400 px, three a row at 900 px, never cut to "0…"
    row = st.container(horizontal=True, gap="medium", key=f"headline-{record.id}")
    width = 150
    row.metric("Train loss", number(recent_train_loss(hist.column("loss"))), width=width,
               help=f"Mean of the last {RECENT} steps, in {loss_unit}.")
    row.metric("Validation loss", number(hist.last("val_loss", "evals")), width=width,
               help=f"On held-out data the model never trains on, in {loss_unit}.")
    chance = headline.chance_in(hist.evals[-1] if hist.evals else {})
    row.metric(headline.label.capitalize(), number(hist.last(metric, "evals")), width=width,
               help=f"The task's headline metric, in {headline.unit} "
                    f"({'higher' if headline.higher_is_better else 'lower'} is better)."
                    + (f" A model that learned nothing scores {chance:.3g}." if chance is not None else "")
                    + (f" Solved at {headline.solved:g}." if headline.solved is not None else ""))
    if _by_gradient(record):
        blown = divergence(record)
        if blown:  # the latest finite norm would hide the one that ended the run
            row.metric("‖g‖ latest", f"{blown[0]}", delta=f"at step {blown[1]:,}", delta_color="inverse", width=width,
                       delta_arrow="off", help="The gradient norm of the step where training diverged, before clipping.")
        else:
            row.metric("‖g‖ latest", number(hist.last("grad_norm")), width=width,
                       help="Global gradient norm of the latest step, before clipping.")
        fraction = hist.clipped_fraction()
        row.metric("Clipped steps", "–" if fraction is None else f"{fraction:.0%}", width=width,
                   help=f"Clipping now: {clip_now}.")
    else:
        row.metric("‖g‖ latest", "n/a", width=width, help="Nothing here learns by gradient: the readout is solved in closed form.")
        row.metric("Clipped steps", "n/a", width=width, help="No gradient, so nothing to clip.")
    speed = hist.last("tokens_per_s")
    counted = spec.stream_label if spec else "tokens"  # characters, time steps, tokens: what the task reads
    row.metric(f"{counted.capitalize()} / s", "–" if speed is None else f"{speed:,.0f}", width=width,
               help=f"{counted.capitalize()} read per second of training, on {record.device or 'its device'}.")
    warning = echo_state_warning(hist.evals)
    if warning:
        st.warning(warning[0].upper() + warning[1:] + ".", icon=":material/waves:")


def _charts(record: RunRecord, hist) -> None:
    """The loss, the task's headline metric (with chance), and, for a cell trained by gradient, the gradient
    norms, per-layer norms and gradient flow: two charts a row."""
    steps, revision = hist.step_numbers(), record.id
    diverged_at = hist.first_nonfinite_step()
    spec, headline = task_of(record), headline_spec(record)
    last_eval = hist.evals[-1] if hist.evals else {}
    by_gradient = _by_gradient(record)
    panels = [("loss", charts.loss_figure(
        steps, hist.column("loss"), hist.step_numbers("evals"), hist.column("val_loss", "evals"),
        baseline=baseline_loss(record, last_eval), diverged_at=diverged_at, revision=revision,
        unit=spec.loss.unit if spec else "loss", baseline_label="a model that learned nothing: {value:.3g}"),
        "Validation above train and rising: the model memorises. Flat at the dashed line: it learns nothing.")]
    if headline.charted and headline.name != "val_loss":
        panels.append(("metric", charts.metric_figure(
            hist.step_numbers("evals"), hist.column(headline.name, "evals"), label=headline.label, unit=headline.unit,
            higher_is_better=headline.higher_is_better, chance=headline.chance_in(last_eval), solved=headline.solved,
            revision=revision), "The task's headline metric on held-out data; at the dashed chance line the model has "
                                "learned nothing."))
    confusion = last_eval.get("confusion")
    if isinstance(confusion, dict) and confusion.get("classes"):  # a task that labels reports how it errs
        panels.append(("confusion", label_charts.confusion_figure(
            confusion["classes"], confusion["counts"], title=f"Confusion matrix at step {last_eval['step']:,}",
            revision=revision), "Held-out examples by true class (rows) and the model's answer (columns); the "
                                "colour is the share of the row. A perfect model fills the diagonal."))
    if by_gradient:
        panels.append(("grad", charts.grad_norm_figure(
            steps, hist.column("grad_norm"), hist.column("grad_norm_clipped"), hist.clipped(), hist.norm_thresholds(),
            hist.clip_changes(), diverged_at=diverged_at, revision=revision),
            "When ‖g‖ is above the dashed threshold, clipping scales the whole gradient down to it (×). "
            "Spikes of many orders of magnitude are exploding gradients."))
        panels.append(("layers", charts.layer_norms_figure(steps, hist.layer_norms(), revision=revision),
                       "Which part of the network gets gradient: the embedding, each recurrent layer, the output head."))
    flow_steps, flows = hist.gradient_flows()
    if by_gradient or flows:
        panels.append(("flow", charts.gradient_flow_heatmap(flow_steps, flows, revision=revision),
                       "How much the loss at the last time step T depends on each earlier input x_t, as a multiple "
                       "of its dependence on x_T, on one scale for every run. Dark toward early t: the gradient "
                       "vanishes on the way back; yellow there: it grows (explodes); grey: it underflowed to 0."))
    penalties = hist.penalties()
    if penalties:
        panels.append(("penalties", charts.overlay_figure(
            [{"label": "loss", "x": steps, "y": hist.column("loss")}] +
            [{"label": PENALTY_NAMES.get(name, name), "x": steps, "y": values} for name, values in penalties.items()],
            "Penalties beside the loss", "training step", "value before its weight (log)", log_y=True, smoothing=0.6,
            revision=f"penalties-{revision}"),
            "What each penalty adds, before its weight: the recurrent L2 is the sum of W_hh squared; Omega is 0 when "
            "every step keeps the norm of the gradient flowing back through it."))
    if "forecast" in last_eval:  # a forecaster's held-out tail against the truth and the baselines
        panels.append(("forecast", forecast_figure(last_eval["forecast"], revision=f"forecast-{revision}"),
                       "The end of the series is held out (a chronological split: never shuffled). Thick line: this "
                       "network; dotted: the baselines, fitted on the same training part."))
    jacobian = hist.jacobian_series()
    if jacobian:
        panels.append(("jacobian", charts.layer_readout_figure(jacobian, "The state Jacobian over training", "per step",
                                                               revision=revision), JACOBIAN_CAPTION))
    for start in range(0, len(panels), 2):
        for column, (name, figure, caption) in zip(chart_columns(key=f"panels-{start}"), panels[start:start + 2]):
            with column:
                plot(figure, key=f"{name}-{record.id}")
                st.caption(caption)
    if "baselines" in last_eval:
        scores = {"model": {m: last_eval.get(m) for m in ("rmse", "mae", "mase")}, **last_eval["baselines"]}
        st.markdown(f"**Held-out scores beside the baselines at step {last_eval.get('step', 0):,}**")
        try_forecast.draw_scores(scores, key=f"scores-{record.id}")
    if not by_gradient:
        st.caption("This cell learns no weights by gradient (its readout is solved in closed form): there are no "
                   "gradient norms, clipping or per-layer gradients to chart.")


JACOBIAN_CAPTION = (
    "What gradients meet at each step back: the state Jacobian ∂s_t/∂s_{t-1} on held-out sequences (s = h, or (h, c) "
    "for an LSTM). Its mean spectral radius per layer, and the measured growth of a backpropagated gradient per step "
    "(below 1: it shrinks, e-fold every 1/(−ln growth) steps; above 1: it grows). The block radius beside them is "
    "ρ of W_hh (of its candidate block alone for an LSTM or GRU): not the factor gradients meet.")


def _samples(record: RunRecord, hist) -> None:
    samples = hist.samples()
    if not samples:
        return
    step, text = samples[-1]
    spec, train = task_of(record), record.config.train
    heading = (spec.sample_heading if spec else "A sample at step {step}").format(step=f"{step:,}")
    caption = spec.sample_caption.format(temperature=f"{train.sample_temperature:g}", beam=train.beam) if spec else ""
    st.markdown(f"**{heading}**" + (f" ({caption})" if caption else ""))
    st.code(text, language=None, wrap_lines=True)
    if len(samples) > 1:
        with st.expander(f"Earlier samples ({len(samples) - 1}): watch the text take shape"):
            for step, text in reversed(samples[:-1]):
                st.markdown(f"*step {step:,}*")
                st.code(text, language=None, wrap_lines=True)


# -- when it has ended -----------------------------------------------------------------------------
def _retry(run_id: str, change: str) -> None:
    cfg = store().get_run(run_id).config
    cfg.name = ""
    if change == "clip":
        cfg.train.clip, cfg.train.clip_threshold = "norm", 1.0
    elif change == "lr":
        cfg.train.lr = cfg.train.lr / 10
    apply_values(config_values(cfg))
    start(cfg)


def _load_settings(run_id: str) -> None:
    apply_values(config_values(store().get_run(run_id).config))
    st.toast("The run's settings are in the form: change what you like and press Start.", icon=":material/content_paste:")


def _outcome(record: RunRecord) -> None:
    summary = record.summary
    if record.status == "diverged":
        st.error(f"**Training diverged at step {record.step:,}.** {plain(record.message)}", icon=":material/error:")
        st.markdown(
            "A step was so large that the loss or the gradient overflowed to NaN or infinity, and every later "
            "update would be garbage, so training stopped there. The charts show what led up to it: look at "
            "‖g‖ in the steps before. Two remedies:")
        clip_col, lr_col, _ = st.columns([2, 2, 3])
        clip_col.button("Retry with clipping by norm at 1", icon=":material/content_cut:", key=f"retry_clip-{record.id}", on_click=_retry,
                        args=(record.id, "clip"), width="stretch")
        lr_col.button(f"Retry with learning rate {record.config.train.lr / 10:g}", icon=":material/speed:", key=f"retry_lr-{record.id}",
                      on_click=_retry, args=(record.id, "lr"), width="stretch")
    elif record.status == "failed":
        st.error(f"**This run could not train.** {plain(record.message)}", icon=":material/cancel:")
    elif record.status == "stopped":
        st.info(f"Stopped at step {record.step:,}. {'Its checkpoint at that step is saved.' if record.step else ''}", icon=":material/stop:")
    elif record.status == "completed":
        headline = headline_spec(record)
        value = summary.get(headline.name)
        shown = f" Final {headline.label}: **{value:.3f}** {headline.unit}." if isinstance(value, (int, float)) else ""
        done = f"Completed {record.step:,} steps in {duration(summary.get('seconds'))}.{shown}"
        verdict = chance_verdict(record)
        if verdict:  # finished is not the same as learned
            st.warning(f"{done} {verdict} {chance_remedies(record)}",
                       icon=":material/sentiment_dissatisfied:")
        else:
            st.success(done, icon=":material/check_circle:")


def _delete(run_id: str) -> None:
    """Only a finished run is offered for deletion; jobs.delete refuses one that trains again meanwhile."""
    if not _allowed(run_id):
        return
    try:
        jobs.delete(store(), run_id)
    except ConfigError as exc:
        st.toast(plain(exc), icon=":material/warning:")
    else:
        st.toast(f"Deleted run {run_id}.", icon=":material/delete:")


def _rename_control(record: RunRecord, where=st) -> None:
    """The owner's (or the teacher's) way to give a run a name that says what it tried: lists, legends and
    the gallery show it; its settings stay as they were."""
    with where.popover("Rename", icon=":material/edit:"):
        st.text_input("New name", value=record.name, max_chars=RUN_NAME_LIMIT, key=f"rename_to-{record.id}")
        st.button("Rename the run", key=f"rename-{record.id}", on_click=_rename, args=(record.id,))


def _rename(run_id: str) -> None:
    if not _allowed(run_id):
        return
    try:
        name = store().rename_run(run_id, st.session_state.get(f"rename_to-{run_id}", ""))
    except ConfigError as exc:
        st.toast(plain(exc), icon=":material/warning:")
    else:
        st.toast(f"Renamed: {plain(name)}", icon=":material/edit:")


def _finished_actions(record: RunRecord, mine: bool = True) -> None:
    has_checkpoint = (store().checkpoint_dir(record.id) / checkpoint.META).is_file()
    with st.container(border=True, horizontal=True, vertical_alignment="center", gap="medium"):
        st.page_link("views/gradients.py", label="Gradients deep-dive", icon=":material/insights:",
                     query_params={"runs": record.id})
        st.page_link("views/compare.py", label="Compare", icon=":material/compare_arrows:", query_params={"runs": record.id})
        if has_checkpoint:
            st.page_link("views/try.py", label="Try it", icon=":material/auto_awesome:",
                         query_params={"model": f"run:{record.id}"})
        st.button("Load settings", icon=":material/content_paste:", key=f"load-{record.id}", on_click=_load_settings,
                  args=(record.id,), help="Put this run's settings in the form on the left.")
        st.download_button("Metrics CSV", icon=":material/download:", key=f"csv-{record.id}", on_click="ignore",
                           data=functools.partial(export.metrics_csv, store(), record.id),
                           file_name=f"{record.id}-metrics.csv", mime="text/csv")
        if has_checkpoint:
            st.download_button("Checkpoint", icon=":material/download:", key=f"zip-{record.id}", on_click="ignore",
                               data=functools.partial(export.checkpoint_zip, store(), record.id),
                               file_name=f"{record.id}.zip", mime="application/zip",
                               help="config.json + model.pt + metrics.csv; load it again on the Try page.")
        if not mine:
            return
        _rename_control(record)
        with st.popover("Delete", icon=":material/delete:"):  # a popover: one more click, so never by accident
            st.write("Delete this run for good: its metrics, samples and checkpoint?")
            st.button("Delete the run", type="primary", key=f"delete-{record.id}", on_click=_delete,
                      args=(record.id,))
