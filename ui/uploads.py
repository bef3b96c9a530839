"""The one way pages take uploads: each file once per uploader change, one message per file."""
from __future__ import annotations

from typing import Callable

import streamlit as st

from playground.data.errors import DataError


def save_new_uploads(uploader_key: str, save: Callable[[object], str], messages_key: str,
                     name_in_errors: bool = True) -> None:
    """Call `save(file)` for each file the uploader has not seen yet; it returns a success message or
    raises DataError, whose one line becomes an error message (prefixed with the file's name unless the
    errors name it already). Results land in st.session_state[messages_key]."""
    seen: set[str] = st.session_state.setdefault(f"{uploader_key}_seen", set())
    messages = []
    for file in st.session_state.get(uploader_key) or []:
        if file.file_id in seen:
            continue
        seen.add(file.file_id)
        try:
            messages.append(("success", save(file)))
        except DataError as exc:
            messages.append(("error", f"{file.name} was not saved: {exc}" if name_in_errors else str(exc)))
    st.session_state[messages_key] = messages
