"""Run labels and pickers. A picker's choice lives in the URL, so a link reopens the same runs."""
from __future__ import annotations

import time

import streamlit as st

from playground.store import RunRecord

from .context import store

# Plain symbols, not emoji: option lists render them with the page's font on every system.
STATUS = {
    "queued": ("…", "queued"),
    "running": ("●", "training"),
    "completed": ("✓", "completed"),
    "stopped": ("■", "stopped"),
    "diverged": ("↯", "diverged"),
    "failed": ("✗", "failed"),
}
RECENT = 60  # how many recent runs a picker offers


def status_text(record: RunRecord) -> str:
    icon, word = STATUS.get(record.status, ("•", record.status))
    return f"{icon} {word}"


def run_label(record: RunRecord) -> str:
    """'lstm 1x128 on char:tiny · Nov 22 14:02 · a1b2' (the id's tail tells same-named runs apart).
    No status here: a picker's labels are drawn once, while a run's status changes as it trains."""
    started = time.strftime("%b %d %H:%M", time.localtime(record.created))
    return f"{record.name} · {started} · {record.id[-4:]}"


def short_label(record: RunRecord) -> str:
    """A legend entry: the run's name and the tail of its id."""
    return f"{record.name} · {record.id[-4:]}"


def recent_runs() -> dict[str, RunRecord]:
    return {r.id: r for r in store().list_runs(limit=RECENT)}


def pick_runs(label: str, runs: dict[str, RunRecord], default: list[str], key: str = "runs",
              help: str | None = None) -> list[str]:
    """A multiselect of runs bound to the URL (?runs=ID&runs=ID)."""
    kwargs = {} if key in st.session_state else {"default": [r for r in default if r in runs]}
    chosen = st.multiselect(label, list(runs), format_func=lambda run_id: run_label(runs[run_id]), key=key,
                            bind="query-params", placeholder="Choose runs", help=help, **kwargs)
    return [run_id for run_id in chosen if run_id in runs]


def pick_run(label: str, runs: dict[str, RunRecord], default: str | None, key: str = "run",
             help: str | None = None) -> str | None:
    """A selectbox of one run bound to the URL (?run=ID)."""
    options = list(runs)
    kwargs = {} if key in st.session_state else {"index": options.index(default) if default in runs else None}
    return st.selectbox(label, options, format_func=lambda run_id: run_label(runs[run_id]), key=key,
                        bind="query-params", placeholder="Choose a run", help=help, **kwargs)


def newest(runs: dict[str, RunRecord], live_only: bool = False) -> str | None:
    for run_id, record in runs.items():  # newest first
        if record.live or not live_only:
            return run_id
    return None
