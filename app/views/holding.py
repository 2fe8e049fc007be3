"""My holding: units, face value, eligibility, coupons received and claimable, redemption."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from app import ui  # noqa: E402

settings = ui.setup("My holding")
st.title("My holding")
address = st.text_input("Wallet address", placeholder="0x...", value=st.query_params.get("address", ""), key="address")
if not address.strip():
    st.info("Enter a wallet address to see its holding.")
    ui.footer()
    st.stop()
h = ui.run(ui.holding, settings.rpc_url, settings.deployments_dir, address)

st.markdown(f"**Wallet** `{h.address}`" + (f" · investor `{h.investor_id[:18]}...`" if h.registered else " · not registered"))
c = st.columns(4)
c[0].metric("Units", f"{h.units:,}")
c[1].metric(f"Face value ({h.currency})", f"{h.face_value:,}")
c[2].metric("Eligible to hold", "yes" if h.eligible else "no")
c[3].metric(f"Redemption amount ({h.currency})", f"{h.redemption_amount:,}", help=f"at par on {h.redemption_date.isoformat()}")
c = st.columns(3)
c[0].metric(f"Coupons received on chain ({h.currency})", f"{h.received_on_chain:,}")
c[1].metric(f"Coupons paid off chain ({h.currency})", f"{h.paid_off_chain:,}")
c[2].metric(f"Claimable now ({h.currency})", f"{h.claimable:,}")
if h.claimable:
    st.info(f"{len(h.claimable_coupons)} coupon(s) are funded, due and unpaid: claim them with claimCoupon or claimAll.")
if h.frozen:
    st.warning("This wallet is frozen: it cannot transfer or be paid until an agent unfreezes it.")

st.subheader("Coupons")
st.dataframe(pd.DataFrame([{
    "#": x.number, "payment date": x.payment_date.isoformat(), "units at record date": x.units_at_record,
    f"amount ({h.currency})": x.amount, "paid": x.payment, "for this wallet": x.state,
} for x in h.coupons]), hide_index=True, width="stretch")
ui.footer()
