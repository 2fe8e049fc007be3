"""The bond register at a date or the latest block, with the holders' personal details (opened
with the issuer key, after login) and a CSV download; both are written to the audit log."""

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

import streamlit as st  # noqa: E402

from backoffice import ui  # noqa: E402
from greenbond.backoffice import views  # noqa: E402

settings = ui.setup("Register")
user = ui.require_login(settings)
st.title("Bond register")
c = st.columns([2, 2, 3])
latest = c[0].checkbox("Latest block", value=False)
day = c[1].date_input("Register at 00:00 (bond time zone) of", value=dt.date.today(), disabled=latest)
details = c[2].checkbox("Include personal details (opened with the issuer key; logged)", value=True)
at = "latest" if latest else day.isoformat()
reg = ui.run(views.register_view, settings, user, at, details)

st.subheader(reg.title)
st.caption(reg.at_description)
if reg.personal_details:
    st.caption("This view of personal details has been written to the audit log.")
else:
    st.info(reg.key_note)
c = st.columns(3)
c[0].metric("Holders", f"{reg.holders:,}")
c[1].metric("Units", f"{reg.total_units:,}")
c[2].metric(f"Face amount ({reg.currency})", f"{reg.total_face:,}")
st.dataframe(reg.table, hide_index=True, width="stretch", column_config={   # grouped digits; the CSV keeps raw integers
    "units": st.column_config.NumberColumn(format="localized"),
    "face amount": st.column_config.NumberColumn(format="localized")})
st.download_button("Download the register (CSV)", reg.csv, file_name=f"register-{at}.csv", mime="text/csv",
                   on_click=views.record_export, args=(settings, user, reg))
with st.expander("Checks against the chain"):
    for line in reg.checks:
        st.write(line)
ui.footer()
