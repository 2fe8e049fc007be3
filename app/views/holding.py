"""My holding: for a wallet the visitor enters (public chain data only): units, face value,
eligibility, coupons received, claimable and next, redemption, and the holding's pro-rata part of
the bond's impact. Nothing here reads personal details: a wallet is a public address."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from app import ui  # noqa: E402

settings, t = ui.setup("My holding")
f = t.f
st.title(t("My holding"))
address = st.text_input(t("Wallet address"), placeholder="0x...", value=st.query_params.get("address", ""),
                        key="address")
if not address.strip():
    st.info(t("Enter a wallet address to see its holding (public data on chain only)."))
    ui.footer()
    st.stop()
h = ui.run(ui.holding, settings.rpc_url, settings.deployments_dir, address)
b = ui.run(ui.bond_overview, settings.rpc_url, settings.deployments_dir)
v = ui.run(ui.impact_view, settings.rpc_url, settings.deployments_dir)
o = ui.pv.holding_outlook(h, b, v)
cur = h.currency

st.markdown(f"**{t('Wallet')}** `{h.address}`"
            + (f" · {t('registered investor')}" if h.registered else f" · {t('not registered')}"))
# two metrics a row: an institution's face value ("JPY 4,250,000,000") keeps its width at 1280 px
c = st.columns(2)
c[0].metric(t("Units"), f.num(h.units), help=t("of {n} units outstanding", n=f.num(o.outstanding_units)))
c[1].metric(t("Face value"), f.money(h.face_value, cur))
c = st.columns(2)
c[0].metric(t("Coupons received"), f.money(h.received_on_chain + h.paid_off_chain, cur),
            help=t("{on} on chain, {off} paid off chain", on=f.money(h.received_on_chain, cur),
                   off=f.money(h.paid_off_chain, cur)))
c[1].metric(t("Claimable now"), f.money(h.claimable, cur))
c = st.columns(2)
if o.next_coupon_date:
    c[0].metric(t("Next coupon"), f.money(o.next_coupon_amount, cur), f.date(o.next_coupon_date), delta_color="off", delta_arrow="off",
                help=t("If the units are still held at the record date ({record}).", record=f.date(o.next_record_date)))
else:
    c[0].metric(t("Next coupon"), t("no further coupon"))
c[1].metric(t("Eligible to hold"), t("yes") if h.eligible else t("no"))
st.caption(t("Redemption: {amount} at par on {date}.", amount=f.money(h.redemption_amount, cur),
             date=f.date(h.redemption_date)))
if h.claimable:
    st.info(t("{n} coupon(s) are funded, due and unpaid: claim them with claimCoupon or claimAll.",
              n=len(h.claimable_coupons)))
if h.frozen:
    st.warning(t("This wallet is frozen: it cannot transfer or be paid until an agent unfreezes it."))

st.subheader(t("This holding's part of the bond's impact"))
c = st.columns(2)
c[0].metric(t("Energy reduction since issuance"), f.energy_mj(o.energy_reduction_j))
c[1].metric(t("CO2 avoided since issuance"), f.co2_t(o.co2_avoided_mg, 3))
st.caption(t("Pro rata to the units held now: {units} of {out} units outstanding ({share} of the bond), times the "
             "bond's attributable figures (coverage {coverage}). It attributes the bond's totals to today's "
             "holding; it is not a record of who held the bond in each hour.",
             units=f.num(o.units), out=f.num(o.outstanding_units), share=f"{o.share_ppm / 10_000:.4g}%",
             coverage=v.coverage.percent_text))

st.subheader(t("Coupons"))
STATES = {"received": t("received"), "paid off chain": t("paid off chain"), "claimable": t("claimable"),
          "not yet due": t("not yet due"), "funded, not yet due": t("funded, not yet due"),
          "late: not funded": t("late: not funded"), "nothing owed": t("nothing owed")}
PAYMENTS = {"none": t("none"), "on chain": t("on chain"), "off chain": t("off chain")}
st.dataframe(pd.DataFrame([{
    "#": x.number, t("payment date"): f.date(x.payment_date), t("units at record date"): f.num(x.units_at_record),
    t("amount"): f.money(x.amount, cur), t("paid"): PAYMENTS.get(x.payment, x.payment), t("for this wallet"): STATES.get(x.state, x.state),
} for x in h.coupons]), hide_index=True, width="stretch")
ui.footer()
