"""The back office's home: the login form, then who you are, your role and whether the chain
confirms it, and a logout button."""

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root

import streamlit as st  # noqa: E402

from backoffice import ui  # noqa: E402
from greenbond.backoffice.audit import AuditError  # noqa: E402
from greenbond.backoffice.auth import ROLES, AuthError  # noqa: E402
from greenbond.backoffice.views import role_check  # noqa: E402

settings = ui.setup("Back office")
st.title("Green bond back office")
store = settings.store()
user = ui.current_user(settings)

if user is None:
    st.write("For the issuer and the paying agent only. Every opening of personal details and every export "
             "is written to the audit log.")
    if not store.has_accounts():
        st.info(f"No accounts in {settings.accounts_path} yet: create one with "
                "`python -m greenbond.backoffice accounts add USER --role agent --address 0x...`.")
    with st.form("login", clear_on_submit=True):
        username = st.text_input("User name", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        try:
            result = store.login(username, password)
        except (AuthError, AuditError) as exc:
            result = None
            st.error(str(exc))
        if result is not None and result.ok:
            st.session_state[ui.TOKEN] = result.session.token
            st.rerun()
        elif result is not None:
            st.error(result.message)
    ui.footer()
    st.stop()

contract, role_name = ROLES[user.role]
st.success(f"Logged in as **{user.username}**, acting as **{user.role}** ({role_name} of {contract}) "
           f"for `{user.address}`.")
started = dt.datetime.fromtimestamp(user.created, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
st.caption(f"Session since {started}; it ends after 30 minutes without use and 8 hours after login.")
try:
    check = role_check(settings, user)
    (st.info if check.confirmed else st.warning)("Chain check: " + check.sentence)
except Exception as exc:  # noqa: BLE001 -- a node that does not answer is a sentence, not a stop
    st.warning(f"Chain check not possible: {exc}")
st.markdown("Pages: **Register** (holders with personal details, CSV), **Offering and DvP**, **Holders** "
            "(register a holder), **Documents**, **Audit log**.")
if st.button("Log out"):
    ui.logout(settings)
ui.footer()
