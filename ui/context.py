"""Per-server and per-session objects the pages share: the run store and runs' metric histories."""
from __future__ import annotations

import streamlit as st

from playground.runstore import jobs
from playground import paths
from playground.runstore.history import RunHistory
from playground.runstore.store import RunRecord, RunStore


@st.cache_resource(show_spinner=False)
def _store(root: str) -> RunStore:
    return RunStore(root)


def store() -> RunStore:
    """The run store under $PLAYGROUND_HOME (one per server and home folder)."""
    return _store(str(paths.home()))


def reap_lost_runs() -> None:
    """Mark runs whose training process died (killed, machine restarted) as failed, so no page
    waits forever on them. Cheap: one query and a signal-0 per live run. Also keeps a spare training
    process ready (torch imported) for the next Start."""
    jobs.reap(store())
    jobs.keep_spare_ready(store())


def history(record: RunRecord) -> RunHistory:
    """The run's metrics, kept in the session and topped up with only what is new since the last call.
    A finished run is read once more after it ends (its final flush), then never again."""
    cache: dict[str, RunHistory] = st.session_state.setdefault("_histories", {})
    complete: set[str] = st.session_state.setdefault("_complete_histories", set())
    held = cache.get(record.id)
    if held is None:
        held = cache[record.id] = RunHistory(record.id)
    if record.id not in complete:
        held.refresh(store())
        if not record.live:  # status is written after the final flush: everything is in
            complete.add(record.id)
    return held
