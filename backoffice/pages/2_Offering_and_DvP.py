"""The primary offering's state and subscribers, and the live DvP offers."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from backoffice import ui  # noqa: E402
from greenbond.backoffice import views  # noqa: E402

settings = ui.setup("Offering and DvP")
user = ui.require_login(settings)
st.title("Offering and DvP")
m = ui.run(views.market_status, settings, user)

st.subheader("Primary offering")
if m.offering is None:
    st.info("No offering contract is deployed on this chain.")
else:
    o = m.offering
    c = st.columns(4)
    c[0].metric("State", o["state"])
    c[1].metric("Units requested", f"{o['total_requested']:,}")
    c[2].metric("Units settled", f"{o['units_settled']:,}")
    c[3].metric("Cash raised", f"{o['cash_raised']:,}")
    st.caption(f"Offering contract {o['address']}")
    with st.expander("Terms"):
        st.dataframe(pd.DataFrame([{"term": k, "value": str(v)} for k, v in o["terms"].items()]),
                     hide_index=True, width="stretch")
    st.dataframe(pd.DataFrame(o["subscribers"], columns=["investor", "requested", "allotted", "settled", "escrow"]),
                 hide_index=True, width="stretch")

st.subheader("Secondary market (DvP): live offers")
if m.trades is None:
    st.info("No DvP contract is deployed on this chain.")
elif not m.trades:
    st.write("No open offers.")
else:
    st.dataframe(pd.DataFrame(m.trades).astype(str), hide_index=True, width="stretch")
ui.footer()
