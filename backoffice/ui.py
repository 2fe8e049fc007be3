"""What every back office page shares: the server's settings, the login check, errors as
sentences and the footer. The logic lives in greenbond.backoffice; this is Streamlit glue only.

The session token is kept in Streamlit's per-connection session state (server side, never in a
cookie or the URL); closing or reloading the tab ends the browser's hold on it, and the store
ends it after the idle or absolute timeout whatever the browser does.
"""

from __future__ import annotations

import time

import streamlit as st

from greenbond import pageview as pv
from greenbond.backoffice import views
from greenbond.backoffice.audit import AuditError
from greenbond.backoffice.auth import AuthError, Session

TOKEN = "backoffice_token"


def setup(title: str) -> views.BackofficeSettings:
    """Page config and the render counters; the configuration comes from the server's environment."""
    st.set_page_config(page_title=f"{title} · Green bond back office", page_icon="🔒", layout="wide")
    st.session_state["_rpc_before"] = pv.rpc_stats()
    st.session_state["_render_start"] = time.perf_counter()
    return views.settings_from_env()


def current_user(settings: views.BackofficeSettings) -> Session | None:
    """The logged-in session of this browser tab, or None (no login, expired, or account gone)."""
    token = st.session_state.get(TOKEN)
    if not token:
        return None
    try:
        user = settings.store().session(token)
    except (AuthError, AuditError) as exc:
        st.error(str(exc))
        footer()
        st.stop()
    if user is None:
        st.session_state.pop(TOKEN, None)
    return user


def require_login(settings: views.BackofficeSettings) -> Session:
    """The session, or a sentence and the end of the page: nothing else renders without a login."""
    user = current_user(settings)
    if user is None:
        st.warning("This page is for the issuer's staff: log in on the Home page first (sessions end after "
                   "30 minutes without use).")
        footer()
        st.stop()
    with st.sidebar:
        st.markdown(f"**{user.username}** · {user.role}")
        if st.button("Log out", key="logout_sidebar"):
            logout(settings)
    return user


def logout(settings: views.BackofficeSettings) -> None:
    settings.store().logout(st.session_state.get(TOKEN))
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.rerun()


def fail(exc: BaseException) -> None:
    """An error as a sentence (never a traceback), and the end of the page."""
    if isinstance(exc, pv.PageError):
        st.error(str(exc))
    else:
        st.error(f"The back office could not do that ({type(exc).__name__}); the server's log has the details.")
        import logging

        logging.getLogger("greenbond.backoffice").exception("page failure")
    footer()
    st.stop()


def run(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 -- every failure is a sentence on the page
        if type(exc).__name__ in ("StopException", "RerunException"):
            raise
        fail(exc)


def footer() -> None:
    d = pv.rpc_delta(st.session_state.get("_rpc_before", pv.rpc_stats()))
    took = time.perf_counter() - st.session_state.get("_render_start", time.perf_counter())
    st.caption(f"Back office · this render made {d['calls']} JSON-RPC calls in {d['requests']} HTTP requests "
               f"and took {took:.2f} s on the server.")
