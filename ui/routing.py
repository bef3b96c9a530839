"""Make sure every page runs under app.py's router, even on a server's very first visit.

Because this project keeps its pages in a folder called `pages/`, Streamlit starts in its old
"pages folder" mode: until app.py has called `st.navigation` once in this server process, a
visit straight to a page's address (a bookmark, a shared link, after a restart) runs that page
file alone: no wide layout, no top navigation, no reaping of lost runs. Each page calls
`ensure_routed()` first; in that mode it switches the flag off and reruns, which runs app.py.
"""
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager  # streamlit is pinned (1.67): see requirements.txt


def ensure_routed() -> None:
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False  # what app.py's st.navigation sets on its first run
        st.rerun()
