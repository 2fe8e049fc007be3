"""Issuer view: the bond register at a chosen date (greenbond.register), with a CSV download."""

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

import streamlit as st  # noqa: E402

from app import ui  # noqa: E402

settings = ui.setup("Issuer")
st.title("Issuer: bond register")
c = st.columns([2, 2, 3])
latest = c[0].checkbox("Latest block", value=False)
day = c[1].date_input("Register at 00:00 (bond time zone) of", value=dt.date.today(), disabled=latest)
details = c[2].checkbox("Include personal details (needs the issuer key)", value=True)
at = "latest" if latest else day.isoformat()
reg = ui.run(ui.register_view, settings.rpc_url, settings.deployments_dir, settings.issuer_key, at, details)

st.subheader(reg.title)
st.caption(reg.at_description)
if not reg.personal_details:
    st.info(reg.key_note)
c = st.columns(3)
c[0].metric("Holders", f"{reg.holders:,}")
c[1].metric("Units", f"{reg.total_units:,}")
c[2].metric(f"Face amount ({reg.currency})", f"{reg.total_face:,}")
st.dataframe(reg.table, hide_index=True, width="stretch")
st.download_button("Download the register (CSV)", reg.csv, file_name=f"register-{at}.csv", mime="text/csv")
with st.expander("Checks against the chain"):
    for line in reg.checks:
        st.write(line)
ui.footer()
