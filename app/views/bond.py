"""The bond: terms, status, coupon schedule, documents (hash-checked) and use of proceeds."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: greenbond and app

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from app import ui  # noqa: E402

settings = ui.setup("Bond")
st.title("Digital green bond")
b = ui.run(ui.bond_overview, settings.rpc_url, settings.deployments_dir)

st.subheader(f"{b.name} ({b.symbol})")
st.markdown(
    f"**Issuer:** {b.issuer} &nbsp;·&nbsp; **ISIN:** `{b.isin}`"
    + (" *(placeholder: the real ISIN is not in our sources)*" if b.isin_placeholder else "")
)
c = st.columns(4)
c[0].metric(f"Amount issued ({b.currency})", f"{b.issue_volume:,}")
c[1].metric(f"Denomination ({b.currency})", f"{b.denomination:,}")
c[2].metric("Coupon rate", b.coupon_rate_text, help=f"{b.coupon_rate_ppm:,} ppm, {b.coupon_frequency} payments a year, {b.day_count}")
c[3].metric("Status", b.status)
c = st.columns(4)
c[0].metric("Issue date", b.issue_date.isoformat())
c[1].metric("Maturity date", b.maturity_date.isoformat())
c[2].metric("Outstanding units", f"{b.outstanding_units:,}", help=f"of {b.max_units:,} units issued")
if b.next_coupon:
    c[3].metric("Next coupon", b.next_coupon.isoformat(), f"in {b.days_to_next_coupon} days", delta_color="off")
else:
    c[3].metric("Next coupon", "none")

st.subheader("Coupon schedule")
st.dataframe(
    pd.DataFrame([{
        "#": r.number, "payment date": r.payment_date.isoformat(), "record date": r.record_date.isoformat(),
        f"per unit ({b.currency})": f"{r.per_unit:,}",
        f"total ({b.currency})": f"{r.total:,}" if r.total is not None else "fixed at the record date",
        "state": r.status,
    } for r in b.coupons]),
    hide_index=True, width="stretch",
)

st.subheader("Documents")
for d in b.documents:
    (st.success if d.ok else st.error)(
        f"**{d.name}** ({d.uri}): the file's keccak256 {('matches the hash on chain' if d.ok else d.check)}"
    )
st.dataframe(
    pd.DataFrame([{"document": d.name, "file": d.uri, "hash on chain": d.chain_hash, "hash of the file": d.file_hash,
                   "check": d.check} for d in b.documents]),
    hide_index=True, width="stretch",
)

st.subheader("Use of proceeds")
st.write(b.use_of_proceeds)
NOT_FINANCED = "not financed by this bond"
st.table(
    pd.DataFrame([{
        "facility": f.name, "kind": f.kind,
        f"allocated ({b.currency})": f"{f.allocated_proceeds:,}" if f.financed else NOT_FINANCED,
        f"financed cost ({b.currency})": f"{f.financed_cost:,}" if f.financed else "",
        "bond's share of its impact": f"{float(f.share) * 100:.4g}%" if f.financed else "none",
        "share of the issue": f"{f.share_of_issue:.1%}", "active": "yes" if f.active else "no",
        "details": f.metadata_uri,
    } for f in b.facilities]),
    hide_index=True, width="stretch",
)
st.caption(
    "Allocations as recorded on the impact oracle, the version in force now. The bond's impact (Impact page) is, "
    "for each facility, the facility's figures × allocated / financed cost, per allocation period; a facility "
    f"{NOT_FINANCED} is tracked and shown on the Impact page on its own, never in the bond's figures."
)
st.subheader("Primary offering and secondary trades")
mkt = ui.run(ui.market_view, settings.rpc_url, settings.deployments_dir)
if mkt.offering is None:
    st.info("No on-chain offering on this chain: the units were issued directly by the agent.")
else:
    o = mkt.offering
    t = o["terms"]
    st.markdown(
        f"Offering **{o['state'].lower()}**: {o['total_requested']:,} units requested of {t['units_offered']:,} "
        f"offered at {b.currency} {t['price_per_unit']:,} a unit; **{o['units_settled']:,} units issued** against "
        f"{b.currency} {o['cash_raised']:,} paid to the issuer, delivery versus payment per investor."
    )
    st.dataframe(
        pd.DataFrame([{"investor": r["investor"], "requested": f"{r['requested']:,}", "allotted": f"{r['allotted']:,}",
                       "settled": "yes" if r["settled"] else "no"} for r in o["subscribers"]]),
        hide_index=True, width="stretch",
    )
if mkt.trades is None:
    st.caption("No DvP contract on this chain.")
elif not mkt.trades:
    st.caption("No open DvP offers.")
else:
    st.markdown("**Open DvP offers** (units locked in the seller's wallet; cash and units move together on acceptance)")
    st.dataframe(
        pd.DataFrame([{
            "trade": tr["id"], "seller": tr["seller"], "buyer": tr["buyer"] or "any eligible buyer",
            "units": f"{tr['units']:,}", f"price ({b.currency})": f"{tr['price']:,}",
            "expires": tr["expires"],
            "state": tr["status"],
        } for tr in mkt.trades]),
        hide_index=True, width="stretch",
    )

st.caption(
    f"Chain {b.chain_id}, block {b.block:,} ({b.block_time}). Bond at {b.addresses.get('GreenBond', '')}; "
    f"impact oracle at {b.addresses.get('ImpactOracle', '')}."
)
ui.footer()
