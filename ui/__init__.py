"""Streamlit helpers shared by the pages: the store, run pickers, the live-run panel, the train form.

Only this package and `views/` call Streamlit; `playground/` stays importable without it.
"""
