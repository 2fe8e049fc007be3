"""Verify: the raw readings of one hour, as the operator publishes them (a file per facility and
day, with the root each hour must hash to), against the report's Merkle root on chain, and the
signers who signed the report. Change a value to see the check fail; or upload a day file you
obtained yourself and check it the same way. The operator's private database is never read."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from app import ui  # noqa: E402

settings, t = ui.setup("Verify")
f = t.f
st.title(t("Verify a reading"))
mode = st.radio(t("Readings from"), ["published", "upload"], horizontal=True,
                format_func={"published": t("the operator's published file"), "upload": t("a file I upload")}.get)
uploaded = None
if mode == "upload":
    uploaded = st.file_uploader(t("Day file (JSON, as published: facility-N/YYYY-MM-DD.json)"), type=["json"])
    if uploaded is None:
        st.info(t("Upload a published day file to check its first hour against the chain."))
        ui.footer()
        st.stop()
else:
    names = ui.run(ui.facility_names, settings.rpc_url, settings.deployments_dir)
    if not names:
        ui.fail(ui.pv.PageError("This deployment has no facilities to verify."))
    fid = st.selectbox(t("Facility"), list(names), format_func=lambda x: f"{x}: {names[x]}")
    hours = ui.run(ui.report_hours, settings.rpc_url, settings.deployments_dir, fid)
    if not hours:
        ui.fail(ui.pv.PageError(f"{names[fid]} has no hourly reports on chain yet."))
    choice = st.selectbox(t("Hour"), range(len(hours)), format_func=lambda i: hours[i].label)
    hour = hours[choice]

scope = st.radio(t("Check"), ["all", "one"], horizontal=True,
                 format_func={"all": t("every reading of the hour"), "one": t("one reading")}.get)
only = None
if scope == "one":
    only = int(st.number_input(t("Reading #"), min_value=1, value=1, step=1)) - 1
tamper = None
if st.checkbox(t("Tamper with a reading (change its value before checking)")):
    c = st.columns(2)
    pos = int(c[0].number_input(t("Reading to change #"), min_value=1, value=(only or 0) + 1, step=1)) - 1
    wh = int(c[1].number_input(t("New value (Wh)"), min_value=0, value=1, step=1))
    tamper = (pos, wh)

if uploaded is not None:
    r = ui.run(ui.verify_uploaded, settings.rpc_url, settings.deployments_dir, settings.published_dir,
               uploaded.getvalue(), uploaded.name, only, tamper)
else:
    r = ui.run(ui.verify_report, settings.rpc_url, settings.deployments_dir, settings.published_dir, fid, hour.index,
               only, tamper)

if r.all_verified and r.roots_match:
    st.success(t("Verified: every one of the {n} readings is under the Merkle root the oracle stores for this hour "
                 "(verifyReading returned true).", n=len(r.checked)) if len(r.checked) > 1 else
               t("Verified: the reading is under the Merkle root the oracle stores for this hour (verifyReading "
                 "returned true)."))
else:
    bad = [x.position + 1 for x in r.checked if not x.on_chain]
    st.error(t("Check failed: reading {which} is not under the root on chain.",
               which=", ".join(f"#{b}" for b in bad) or "—")
             + (" " + t("The value was changed here, so the proof no longer leads to the stored root.")
                if any(x.tampered for x in r.readings) else ""))
for p in r.problems:
    st.warning(p)
if r.signatures_ok:
    st.success(t("Signed by {n} members of signer set v{version} (threshold {threshold}).",
                 n=sum(s.in_signer_set for s in r.signers), version=r.signer_set_version, threshold=r.threshold))
else:
    st.error(t("The signatures could not be matched to the signer set.") + " " + "; ".join(r.problems))

st.subheader(t("The file checked"))
if r.source == "published":
    st.markdown(t("Published file `{file}` (sha256 `{sha}`).", file=r.published_file, sha=r.published_sha256[:18] + "..."))
    data = ui.published_bytes(settings, r)
    if data is not None:
        st.download_button(t("Download this day file"), data, file_name=Path(r.published_file).name,
                           mime="application/json")
else:
    st.markdown(t("Uploaded file `{file}` (sha256 `{sha}`).", file=r.published_file, sha=r.published_sha256[:18] + "..."))
if r.file_matches_index is True:
    st.caption(t("The file is byte for byte the one the operator's index lists."))
elif r.file_matches_index is False:
    st.warning(t("The file differs from the one the operator's index lists."))
st.markdown(f"**{t('Root the file gives')}:** `{r.published_root}`  \n"
            f"**{t('Root of these readings')}:** `{r.local_root}` ({t('the same') if r.local_root == r.published_root else t('DIFFERENT')})  \n"
            f"**{t('Merkle root on chain')}:** `{r.chain_root}` ({t('the same') if r.roots_match else t('DIFFERENT')})")

c = st.columns(4)
c[0].metric(t("Actual (Wh)"), f.num(r.actual_wh))
c[1].metric(t("Benchmark (Wh)"), f.num(r.benchmark_wh))
c[2].metric(t("Energy reduction (MJ)"), f.num(r.energy_reduction_j / 1e6, 3))
c[3].metric(t("CO2 avoided (kg)"), f.num(r.co2_avoided_mg / 1e6, 3))
st.markdown(t("**Hour:** {hour} · **report** #{index} of facility {facility}{superseded} · methodology v{m}, factor "
              "year FY{fy}", hour=r.hour_text, index=r.index, facility=r.facility_id,
              superseded=t(" (superseded by a correction)") if r.superseded else "", m=r.methodology_version,
              fy=r.factor_year))

st.subheader(t("Raw readings"))
st.dataframe(pd.DataFrame([{
    "#": x.position + 1, t("meter"): x.meter_id, t("interval start"): x.interval_start, "Wh": f.num(x.wh),
    t("flags"): x.flags, t("changed here"): t("yes") if x.tampered else "",
    "verifyReading": "" if x.on_chain is None else ("true" if x.on_chain else "FALSE"),
} for x in r.readings]), hide_index=True, width="stretch")

st.subheader(t("Signers"))
st.dataframe(pd.DataFrame([{t("signer (recovered)"): s.address, t("in signer set"): t("yes") if s.in_signer_set else t("no")}
                           for s in r.signers]), hide_index=True, width="stretch")
st.markdown(f"**{t('EIP-712 digest')}:** `{r.digest}` "
            f"({t('equals the oracle reportDigest') if r.digest_matches_chain else t('DIFFERS from the oracle reportDigest')})")
st.markdown(f"**{t('Transaction')}:** `{r.tx_hash}` ({t('block')} {f.num(r.block)})")
ui.footer()
