"""Poll the store only while something is live: an idle page costs (almost) no server CPU.

Streamlit reruns a fragment every `run_every` seconds; with `run_every=None` it never does. The
fragment is declared with polling on only if a run was live when the page was drawn, and asks
for one full rerun when that run ends, which redraws the page with polling off.
"""
from __future__ import annotations

import math
from typing import Callable

import streamlit as st

POLL_SECONDS = 1.0  # progress and numbers
CHART_SECONDS = 2.0  # charts: a browser without a GPU spends ~0.7 of a core redrawing four plotly charts every second
# A class: each open tab polls on its own, and at 30 tabs the server's one Python core was full (page renders of
# 10 s, training at 0.4x; benchmarks/classroom_load.py). Every SESSIONS_PER_STEP open tabs add one interval.
SESSIONS_PER_STEP = 10
MOST_SLOWER = 4


def open_tabs() -> int:
    """Browser sessions connected to this server now (1 when there is no server, as under AppTest)."""
    try:
        from streamlit.runtime import Runtime

        return max(Runtime.instance()._session_mgr.num_active_sessions(), 1)  # no public API for the count
    except Exception:  # noqa: BLE001 - another Streamlit version, or no runtime: poll as for one tab
        return 1


def slower() -> int:
    """How many times the base interval every live section waits now: 1 up to 10 open tabs, then up to 4."""
    return min(max(math.ceil(open_tabs() / SESSIONS_PER_STEP), 1), MOST_SLOWER)


def live_section(render: Callable[[], bool], live: bool, key: str, every: float = POLL_SECONDS) -> None:
    """Draw `render()` now and, while `live`, again every `every` seconds. `render` returns
    whether what it shows is still live."""

    @st.fragment(run_every=every * slower() if live else None, key=key)
    def section() -> None:
        still_live = render()
        if live and not still_live:
            st.rerun()  # the whole page: drop the polling, show the finished run's actions

    section()
