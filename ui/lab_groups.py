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
    started = time.strftime("%b %d %H:%M:%S", time.localtime(records[0].created))
    live = sum(r.live for r in records)
    return f"{describe(records)} · {started}" + (f" · {live} training" if live else "")


def pick_group(label: str, found: dict[str, list[RunRecord]], key: str, describe) -> str | None:
    """A selectbox of the groups; a group just started (written to session_state[key]) is selected."""
    options = list(found)
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0] if options else None
    return st.selectbox(label, options, key=key, format_func=lambda g: group_label(found[g], describe),
                        placeholder="None yet")
