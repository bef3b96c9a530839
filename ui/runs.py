"""Run labels and pickers. A picker's choice lives in the URL, so a link reopens the same runs."""
from __future__ import annotations

import time

import streamlit as st

from playground.runstore.store import DamagedRun, RunRecord

from . import url_state
from .context import store
from .plain import plain

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
    """The newest runs; a row the store cannot read is reported here and left out, never hiding the others."""
    rows = store().list_runs_and_damaged(limit=RECENT)
    damaged = [r for r in rows if isinstance(r, DamagedRun)]
    if damaged:
        st.warning(plain("Left out runs that cannot be read: " + "; ".join(r.reason for r in damaged))
                   + ". Delete them with `python -m playground runs --delete ID`.", icon=":material/warning:")
    return {r.id: r for r in rows if isinstance(r, RunRecord)}


def pick_runs(label: str, runs: dict[str, RunRecord], default: list[str], key: str = "runs",
              help: str | None = None) -> list[str]:
    """A multiselect of runs, kept in the URL as ?runs=ID&runs=ID."""
    return url_state.multiselect(label, list(runs), lambda run_id: run_label(runs[run_id]), key, default,
                                 placeholder="Choose runs", help=help)


def pick_run(label: str, runs: dict[str, RunRecord], default: str | None, key: str = "run",
             help: str | None = None) -> str | None:
    """A selectbox of one run, kept in the URL as ?run=ID."""
    return url_state.selectbox(label, list(runs), lambda run_id: run_label(runs[run_id]), key, default,
                               placeholder="Choose a run", help=help)


def newest(runs: dict[str, RunRecord], live_only: bool = False) -> str | None:
    for run_id, record in runs.items():  # newest first
        if record.live or not live_only:
            return run_id
    return None
