"""Poll the store only while something is live: an idle page costs (almost) no server CPU.

Streamlit reruns a fragment every `run_every` seconds; with `run_every=None` it never does. The
fragment is declared with polling on only if a run was live when the page was drawn, and asks
for one full rerun when that run ends, which redraws the page with polling off.
"""
from __future__ import annotations

from typing import Callable

import streamlit as st

POLL_SECONDS = 1.0  # progress and numbers
CHART_SECONDS = 2.0  # charts: a browser without a GPU spends ~0.7 of a core redrawing four plotly charts every second


def live_section(render: Callable[[], bool], live: bool, key: str, every: float = POLL_SECONDS) -> None:
    """Draw `render()` now and, while `live`, again every `every` seconds. `render` returns
    whether what it shows is still live."""

    @st.fragment(run_every=every if live else None, key=key)
    def section() -> None:
        still_live = render()
        if live and not still_live:
            st.rerun()  # the whole page: drop the polling, show the finished run's actions

    section()
