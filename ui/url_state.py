"""Choices kept in the URL whose options are shown with friendlier labels than their values.

Streamlit's `bind="query-params"` writes a widget's *label* (its format_func output) to the URL,
so a run picker would put "lstm 1x64 on char:tiny · Nov 22 14:02 · a1b2" there. These helpers
keep the raw value instead (`?run=20261122-140200-lstm-a1b2`) and sync it by hand.
"""
from __future__ import annotations

from typing import Callable

import streamlit as st


def selectbox(label: str, options: list[str], format_func: Callable[[str], str], key: str,
              default: str | None = None, param: str | None = None, **kwargs) -> str | None:
    """A selectbox whose value is `?PARAM=VALUE` in the URL (None: no choice, no parameter). `param` defaults
    to `key`; give another when two pages use one URL name for different widgets (Data's and Train's
    `?dataset=`), so one page's widget state never stands in for the other's."""
    param = param or key
    if key not in st.session_state:  # first drawn on this page: the URL wins over the default
        wanted = st.query_params.get(param)
        st.session_state[key] = wanted if wanted in options else (default if default in options else None)
    elif st.session_state[key] not in options:
        st.session_state[key] = None
    choice = st.selectbox(label, options, format_func=format_func, key=key, **kwargs)
    if choice is None:
        st.query_params.pop(param, None)
    elif st.query_params.get(param) != choice:
        st.query_params[param] = choice
    return choice


def multiselect(label: str, options: list[str], format_func: Callable[[str], str], key: str,
                default: list[str] = (), **kwargs) -> list[str]:
    """A multiselect whose values are `?KEY=A&KEY=B` in the URL."""
    if key not in st.session_state:
        wanted = [v for v in st.query_params.get_all(key) if v in options]
        st.session_state[key] = wanted or [v for v in default if v in options]
    else:
        st.session_state[key] = [v for v in st.session_state[key] if v in options]
    chosen = st.multiselect(label, options, format_func=format_func, key=key, **kwargs)
    if not chosen:
        st.query_params.pop(key, None)
    elif st.query_params.get_all(key) != chosen:
        st.query_params[key] = chosen
    return chosen
