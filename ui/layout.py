"""Layouts that read at 1400 and at 900 pixels: chart rows that wrap instead of squeezing.

`st.columns(2)` keeps two charts side by side down to 640 px, so at 900 px beside the sidebar each chart
was about 230 px wide: titles cut, ticks running together ("100200300"). Columns inside a `chart_grid`
wrap to one a row once the page is narrower than two readable charts (`MIN_CHART_PX` each).
"""
from __future__ import annotations

import re

import streamlit as st

MIN_CHART_PX = 400
GRID_KEY = "chartgrid"
STYLE = f"""<style>
div[class*="st-key-{GRID_KEY}"] div[data-testid="stHorizontalBlock"] {{ flex-wrap: wrap; }}
div[class*="st-key-{GRID_KEY}"] div[data-testid="stColumn"] {{ min-width: min(100%, {MIN_CHART_PX}px); }}
.katex-display {{ overflow-x: auto; overflow-y: hidden; padding-bottom: 2px; }}
@media (max-width: 1100px) {{ .katex-display {{ font-size: 0.86em; }} }}
@media (max-width: 1000px) {{ .katex-display {{ font-size: 0.76em; }} }}
</style>"""
# (KaTeX never breaks a displayed equation: at 900 px an LSTM gate's line was cut at "forget gat"; it now
# shrinks a little on a narrow page and scrolls sideways when it is still too wide, never clipped)


def apply_styles() -> None:
    """Once per script run (app.py): style-only HTML takes no space on the page."""
    st.html(STYLE)


def chart_columns(key: str, count: int = 2, spec=None, where=st) -> list:
    """`count` columns (or widths `spec`) that wrap to one a row on a narrow page; use like st.columns.
    `key` names the row (unique on the page, stable across reruns so charts are not redrawn from scratch)."""
    grid = where.container(key=f"{GRID_KEY}-{re.sub(r'[^A-Za-z0-9_-]+', '-', key)}")  # a CSS class name
    return grid.columns(spec or count)
