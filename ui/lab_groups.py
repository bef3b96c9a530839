"""Experiments started together share a `group` label in the store: find them again after a reload."""
from __future__ import annotations

import time

import streamlit as st

from playground.runstore.store import RunRecord

from .context import store


def groups(kind: str) -> dict[str, list[RunRecord]]:
    """{group: its runs, oldest first} for groups named '<kind>-...', newest group first."""
    found: dict[str, list[RunRecord]] = {}
    for record in store().list_runs(group_prefix=f"{kind}-"):
        group = record.config.group or ""
        if group.startswith(f"{kind}-"):
            found.setdefault(group, []).append(record)
    for records in found.values():
        records.sort(key=lambda r: r.created)
    return dict(sorted(found.items(), key=lambda item: -item[1][0].created))


def group_label(records: list[RunRecord], describe) -> str:
    """No live count here: a picker's labels are drawn once, so "3 training" stayed after the runs finished
    (each experiment's live section says what is still training)."""
    started = time.strftime("%b %d %H:%M:%S", time.localtime(records[0].created))
    return f"{describe(records)} · {started} · {len(records)} runs"


def live_note(records: list[RunRecord]) -> str:
    """'2 of 3 still training' for a group's live section (read from the store at each poll), or ''."""
    fresh = [store().get_run(r.id) for r in records]
    live = sum(1 for r in fresh if r is not None and r.live)
    return f"{live} of {len(records)} still training" if live else ""


def pick_group(label: str, found: dict[str, list[RunRecord]], key: str, describe) -> str | None:
    """A selectbox of the groups; a group just started (written to session_state[key]) is selected."""
    options = list(found)
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0] if options else None
    return st.selectbox(label, options, key=key, format_func=lambda g: group_label(found[g], describe),
                        placeholder="None yet")
