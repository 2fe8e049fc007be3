"""The audit log: logins, failures, locks, openings of personal details, exports, registrations."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

import streamlit as st  # noqa: E402

from backoffice import ui  # noqa: E402
from greenbond.backoffice import views  # noqa: E402

settings = ui.setup("Audit log")
user = ui.require_login(settings)
st.title("Audit log")
st.caption(f"{settings.audit_path} (newest first; the last 500 entries; no personal data is logged)")
table = ui.run(views.audit_table, settings, user)
st.dataframe(table, hide_index=True, width="stretch")
ui.footer()
