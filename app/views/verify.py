"""Verify: the raw readings of one hour against the report's Merkle root on chain, and the
signers who signed the report; change a value to see the check fail."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from app import ui  # noqa: E402

settings, t = ui.setup("Verify")
st.title("Verify a reading")
names = ui.run(ui.facility_names, settings.rpc_url, settings.deployments_dir)
if not names:
    ui.fail(ui.pv.PageError("This deployment has no facilities to verify."))
fid = st.selectbox("Facility", list(names), format_func=lambda f: f"{f}: {names[f]}")
hours = ui.run(ui.report_hours, settings.rpc_url, settings.deployments_dir, fid)
if not hours:
    ui.fail(ui.pv.PageError(f"{names[fid]} has no hourly reports on chain yet."))
choice = st.selectbox("Hour", range(len(hours)), format_func=lambda i: hours[i].label)
hour = hours[choice]

scope = st.radio("Check", ["every reading of the hour", "one reading"], horizontal=True)
only = None
if scope == "one reading":
    only = int(st.number_input("Reading #", min_value=1, value=1, step=1)) - 1
tamper = None
if st.checkbox("Tamper with a reading (change its value before checking)"):
    c = st.columns(2)
    pos = int(c[0].number_input("Reading to change #", min_value=1, value=(only or 0) + 1, step=1)) - 1
    wh = int(c[1].number_input("New value (Wh)", min_value=0, value=1, step=1))
    tamper = (pos, wh)

r = ui.run(ui.verify_report, settings.rpc_url, settings.deployments_dir, settings.feeder_db, fid, hour.index, only, tamper)

if r.all_verified and r.roots_match:
    st.success(
        f"Verified: {'every one of the ' + str(len(r.checked)) + ' readings' if len(r.checked) > 1 else 'the reading'} "
        f"is under the Merkle root the oracle stores for this hour (verifyReading returned true)."
    )
else:
    bad = [x.position + 1 for x in r.checked if not x.on_chain]
    st.error(
        f"Check failed: reading {', '.join(f'#{b}' for b in bad) or '(none checked)'} is not under the root on chain"
        + (" — the value was changed here, so the proof no longer leads to the stored root." if r.readings and any(x.tampered for x in r.readings) else ".")
    )
if r.signatures_ok:
    st.success(f"Signed by {sum(s.in_signer_set for s in r.signers)} members of signer set v{r.signer_set_version} "
               f"(threshold {r.threshold}).")
else:
    st.error("The signatures could not be matched to the signer set: " + "; ".join(r.problems or ["digest or signers differ"]))

c = st.columns(4)
c[0].metric("Actual (Wh)", f"{r.actual_wh:,}")
c[1].metric("Benchmark (Wh)", f"{r.benchmark_wh:,}")
c[2].metric("Energy reduction (MJ)", f"{r.energy_reduction_j / 1e6:,.3f}")
c[3].metric("CO2 avoided (kg)", f"{r.co2_avoided_mg / 1e6:,.3f}")
st.markdown(
    f"**Hour:** {r.hour_text} &nbsp;·&nbsp; **report** #{r.index} of facility {r.facility_id}"
    f"{' (superseded by a correction)' if r.superseded else ''} &nbsp;·&nbsp; methodology v{r.methodology_version}, "
    f"factor year FY{r.factor_year}"
)
st.markdown(f"**Merkle root on chain:** `{r.chain_root}`  \n**Root of these readings:** `{r.local_root}` "
            f"({'the same' if r.roots_match else 'DIFFERENT'})")

st.subheader("Raw readings")
st.dataframe(pd.DataFrame([{
    "#": x.position + 1, "meter": x.meter_id, "interval start": x.interval_start, "Wh": x.wh, "flags": x.flags,
    "changed here": "yes" if x.tampered else "", "verifyReading": "" if x.on_chain is None else ("true" if x.on_chain else "FALSE"),
} for x in r.readings]), hide_index=True, width="stretch")

st.subheader("Signers")
st.dataframe(pd.DataFrame([{"signer (recovered)": s.address, "in signer set": "yes" if s.in_signer_set else "NO"}
                           for s in r.signers]), hide_index=True, width="stretch")
st.markdown(f"**EIP-712 digest:** `{r.digest}` ({'equals' if r.digest_matches_chain else 'DIFFERS from'} the oracle's reportDigest)")
st.markdown(f"**Transaction:** `{r.tx_hash}` (block {r.block:,}; a dev chain has no explorer)")
ui.footer()
