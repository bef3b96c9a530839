"""Who is at this browser: a name typed once and kept in a cookie, or Streamlit's login (OIDC) when
`.streamlit/secrets.toml` configures `[auth]`; the teacher unlocks teacher mode with the key in
`[classroom] teacher_key`. With neither configured there is no classroom: nobody is asked for a name.

A typed name marks runs so a class can tell them apart; it is not a password (two students who type
the same name share their runs). Where that matters, configure `[auth]` and students log in.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from urllib.parse import unquote

import streamlit as st

from playground.classroom import Identity

from .plain import plain

NAME_COOKIE = "playground_name"
TEACHER_COOKIE = "playground_teacher"
NAME_LIMIT = 40
COOKIE_DAYS = 180


def _secrets(section: str) -> dict:
    try:
        return dict(st.secrets.get(section) or {})
    except Exception:  # noqa: BLE001 - no secrets.toml at all: no classroom
        return {}


def teacher_key() -> str:
    return str(_secrets("classroom").get("teacher_key") or "")


def login_configured() -> bool:
    return bool(_secrets("auth"))


def classroom_on() -> bool:
    return bool(teacher_key()) or login_configured()


def _cookie(name: str) -> str:
    try:
        value = st.context.cookies.get(name)
    except Exception:  # noqa: BLE001 - no browser behind this session: no cookies
        return ""
    return unquote(value) if isinstance(value, str) else ""  # AppTest's context is a stand-in, not a browser


def _teacher_token(name: str) -> str:
    """What the teacher cookie holds: proof of the key for this name, never the key itself."""
    return hmac.new(teacher_key().encode(), f"teacher:{name}".encode(), hashlib.sha256).hexdigest()


def clean_name(text: str) -> str:
    """A typed name, or ValueError saying what is wrong with it."""
    name = " ".join(str(text).split())
    if not name:
        raise ValueError("type a name first")
    if len(name) > NAME_LIMIT:
        raise ValueError(f"a name has at most {NAME_LIMIT} characters")
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise ValueError("a name cannot hold control characters")
    return name


def current() -> Identity:
    """This session's identity (every page asks; cheap)."""
    if not classroom_on():
        return Identity()
    if login_configured():
        user = st.user
        name = str(user.get("email") or user.get("name") or "") if user.get("is_logged_in") else ""
    else:
        name = st.session_state.get("identity_name") or _cookie(NAME_COOKIE)
    teacher = bool(teacher_key()) and bool(name) and (
        st.session_state.get("teacher_for") == name
        or hmac.compare_digest(_cookie(TEACHER_COOKIE), _teacher_token(name)))
    return Identity(name, teacher, True)


def _remember(cookies: dict[str, str]) -> None:
    """Write cookies in the browser (a few lines of script, nothing fetched); read back by st.context.cookies."""
    lines = "".join(
        f"document.cookie = {json.dumps(name)} + '=' + encodeURIComponent({json.dumps(value)}) + "
        f"'; path=/; max-age={COOKIE_DAYS * 86400 if value else 0}; SameSite=Strict';"
        for name, value in cookies.items())
    st.html(f"<script>{lines}</script>", unsafe_allow_javascript=True, width="content")


def _save_name() -> None:
    try:
        name = clean_name(st.session_state.get("identity_name_input", ""))
    except ValueError as exc:
        st.session_state["identity_error"] = str(exc)
        return
    st.session_state.pop("identity_error", None)
    st.session_state["identity_name"] = name
    st.session_state["cookies_to_write"] = {NAME_COOKIE: name}


def _unlock_teacher(name: str) -> None:
    typed = st.session_state.get("teacher_key_input", "")
    if teacher_key() and hmac.compare_digest(typed.encode(), teacher_key().encode()):
        st.session_state["teacher_for"] = name
        st.session_state["cookies_to_write"] = {TEACHER_COOKIE: _teacher_token(name)}
        st.session_state.pop("identity_error", None)
    else:
        st.session_state["identity_error"] = "that is not the teacher key"
    st.session_state["teacher_key_input"] = ""


def _leave_teacher_mode() -> None:
    st.session_state.pop("teacher_for", None)
    st.session_state["cookies_to_write"] = {TEACHER_COOKIE: ""}


def _change_name() -> None:
    st.session_state.pop("identity_name", None)
    st.session_state.pop("teacher_for", None)
    st.session_state["identity_name"] = ""
    st.session_state["cookies_to_write"] = {NAME_COOKIE: "", TEACHER_COOKIE: ""}


def draw_identity() -> Identity:
    """The sidebar's identity box (nothing outside a classroom); returns who is here."""
    me = current()
    if not me.classroom:
        return me
    cookies = st.session_state.pop("cookies_to_write", None)
    if cookies:
        _remember(cookies)
    box = st.sidebar.container(border=True)
    if login_configured():
        if me.name:
            box.caption(f"Signed in as {plain(me.name)}")
            box.button("Log out", key="logout", on_click=st.logout)
        else:
            box.button("Log in", key="login", on_click=st.login, type="primary")
    elif not me.name:
        box.text_input("Your name", key="identity_name_input", max_chars=NAME_LIMIT,
                       help="Typed once: it marks the runs you start. Everyone can watch every run; "
                            "only you (or the teacher) can stop or delete yours.")
        box.button("This is me", key="identity_save", on_click=_save_name)
    else:
        box.caption(f"You are **{plain(me.name)}**" + (" · teacher" if me.teacher else ""))
        if not login_configured():
            box.button("Not you?", key="identity_change", on_click=_change_name)
    if me.name and teacher_key():
        if me.teacher:
            box.button("Leave teacher mode", key="teacher_leave", on_click=_leave_teacher_mode)
        else:
            with box.popover("Teacher"):
                st.text_input("Teacher key", type="password", key="teacher_key_input")
                st.button("Unlock teacher mode", key="teacher_unlock", on_click=_unlock_teacher, args=(me.name,))
    if st.session_state.get("identity_error"):
        box.error(st.session_state["identity_error"], icon=":material/warning:")
    return current()
