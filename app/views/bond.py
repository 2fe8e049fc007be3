"""The bond: terms, status, coupon schedule, documents (each a download, its hash checked against
the chain), use of proceeds, the offering and the open DvP trades."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from app import ui  # noqa: E402

settings, t = ui.setup("Bond")
f = t.f
b = ui.run(ui.bond_overview, settings.rpc_url, settings.deployments_dir)
st.title(f"{b.name} ({b.symbol})")
st.markdown(
    f"**{t('Issuer')}:** {b.issuer} &nbsp;·&nbsp; **{t('ISIN')}:** `{b.isin}`"
    + (f" *({t('placeholder: the real ISIN is not in our sources')})*" if b.isin_placeholder else "")
)
# two metrics a row: the longest values ("JPY 10,000,000,000", "2028年12月14日") keep their width at 1280 px
c = st.columns(2)
c[0].metric(t("Amount issued"), f.money(b.issue_volume, b.currency))
c[1].metric(t("Denomination"), f.money(b.denomination, b.currency))
c = st.columns(2)
c[0].metric(t("Coupon rate"), f.percent_ppm(b.coupon_rate_ppm),
            help=t("{rate} a year, paid {n} times a year", rate=f.percent_ppm(b.coupon_rate_ppm), n=b.coupon_frequency)
            + f" · {t('Day count')}: {b.day_count}")
c[1].metric(t("Status"), t.state(b.status))
c = st.columns(2)
c[0].metric(t("Issue date"), f.date(b.issue_date))
c[1].metric(t("Maturity date"), f.date(b.maturity_date))
c = st.columns(2)
c[0].metric(t("Outstanding units"), f.num(b.outstanding_units), help=t("of {n} units", n=f.num(b.max_units)))
if b.next_coupon:
    c[1].metric(t("Next coupon"), f.date(b.next_coupon), t("in {days} days", days=b.days_to_next_coupon),
                delta_color="off", delta_arrow="off")
else:
    c[1].metric(t("Next coupon"), t("no further coupon"))

st.subheader(t("Coupon schedule"))
st.dataframe(
    pd.DataFrame([{
        "#": r.number, t("payment date"): f.date(r.payment_date), t("record date"): f.date(r.record_date),
        t("per unit"): f.money(r.per_unit, b.currency),
        t("total"): f.money(r.total, b.currency) if r.total is not None else t("fixed at the record date"),
        t("state"): t.state(r.status),
    } for r in b.coupons]),
    hide_index=True, width="stretch",
)

st.subheader(t("Documents"))
for d in b.documents:
    if d.ok:
        st.success(t("{name}: the file's keccak256 matches the hash recorded on chain.", name=d.name))
    else:
        st.error(t("{name}: the file's hash does not match the chain ({check}).", name=d.name, check=d.check))
    data = ui.document_bytes(d.uri) if d.ok else None  # only a file the chain vouches for
    if data is not None:
        st.download_button(t("Download {name}", name=Path(d.uri).name), data, file_name=Path(d.uri).name,
                           mime="text/markdown", key=f"doc-{d.name}")
st.dataframe(
    pd.DataFrame([{t("document"): d.name, t("hash on chain"): d.chain_hash, t("hash of the file"): d.file_hash,
                   t("check"): t(d.check)} for d in b.documents]),
    hide_index=True, width="stretch",
)

st.subheader(t("Use of proceeds"))
st.write(b.use_of_proceeds)
NOT_FINANCED = t("not financed by this bond")
st.dataframe(
    pd.DataFrame([{
        t("facility"): x.name, t("kind"): t(x.kind),
        t("allocated"): f.money(x.allocated_proceeds, b.currency) if x.financed else NOT_FINANCED,
        t("financed cost"): f.money(x.financed_cost, b.currency) if x.financed else "",
        t("bond's share of its impact"): f"{float(x.share) * 100:.4g}%" if x.financed else t("none"),
        t("share of the issue"): f"{x.share_of_issue:.1%}", t("active"): t("yes") if x.active else t("no"),
    } for x in b.facilities]),
    hide_index=True, width="stretch",
)
st.caption(t("Allocations as recorded on the impact oracle, the version in force now. A facility not financed by this "
             "bond is shown on its own on the Impact page, never in the bond's figures."))

st.subheader(t("Primary offering and secondary trades"))
mkt = ui.run(ui.market_view, settings.rpc_url, settings.deployments_dir)
if mkt.offering is None:
    st.info(t("No on-chain offering on this chain: the units were issued directly by the agent."))
else:
    o, terms = mkt.offering, mkt.offering["terms"]
    st.markdown(t(
        "Offering {state}: {requested} units requested of {offered} offered at {price} a unit; {settled} units "
        "issued against {cash} paid to the issuer, delivery versus payment per investor.",
        state=t.state(o["state"].lower()), requested=f.num(o["total_requested"]), offered=f.num(terms["units_offered"]),
        price=f.money(terms["price_per_unit"], b.currency), settled=f.num(o["units_settled"]),
        cash=f.money(o["cash_raised"], b.currency)))
    st.dataframe(
        pd.DataFrame([{t("investor wallet"): r["investor"], t("requested"): f.num(r["requested"]),
                       t("allotted"): f.num(r["allotted"]), t("settled"): t("yes") if r["settled"] else t("no")}
                      for r in o["subscribers"]]),
        hide_index=True, width="stretch",
    )
if mkt.trades is None:
    st.caption(t("No DvP contract on this chain."))
elif not mkt.trades:
    st.caption(t("No open DvP offers."))
else:
    st.markdown("**" + t("Open DvP offers (units locked in the seller's wallet; cash and units move together on "
                         "acceptance)") + "**")
    st.dataframe(
        pd.DataFrame([{
            t("trade"): tr["id"], t("seller"): tr["seller"], t("buyer"): tr["buyer"] or t("any eligible buyer"),
            t("units"): f.num(tr["units"]), t("price"): f.money(tr["price"], b.currency),
            t("expires"): tr["expires"], t("state"): t.state(tr["status"]),
        } for tr in mkt.trades]),
        hide_index=True, width="stretch",
    )

st.caption(t("Chain {chain}, block {block} ({time}). Bond at {bond}; impact oracle at {oracle}.",
             chain=b.chain_id, block=f.num(b.block), time=b.block_time, bond=b.addresses.get("GreenBond", ""),
             oracle=b.addresses.get("ImpactOracle", "")))
ui.footer()
