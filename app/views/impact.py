"""Impact, as the Green Tracking Hub shows it: energy reduction and CO2 avoided, hourly, daily,
monthly, per facility; the bond's share of each facility it finances, and how much of the time
is covered by reports (the missing hours shown as gaps); the methodology in force; data
freshness; a CSV export with actual and benchmark kWh, quality flags and coverage per hour."""

import sys
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

import altair as alt  # noqa: E402
import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from app import ui  # noqa: E402

GAP_ROWS = 50   # missing-hour ranges listed on the page (all of them are counted)

settings, t = ui.setup("Impact")
f = t.f
st.title(t("Environmental impact"))
# The browser loads its chart library (Vega, about 1 MB of JavaScript) only when a chart first
# arrives: a blank one-pixel chart sent before the chain is read lets it load in parallel; it is
# removed as soon as the figures are in.
prefetch = st.empty()
prefetch.altair_chart(alt.Chart(pd.DataFrame({"x": [0]})).mark_point(opacity=0).encode(x=alt.X("x:Q", axis=None))
                      .properties(width=1, height=1), width="content")
v = ui.run(ui.impact_view, settings.rpc_url, settings.deployments_dir)
prefetch.empty()
cov = v.coverage
tz = ZoneInfo(v.timezone)
shorts = {x.facility_id: x.short for x in v.facilities}


def coverage_text(c) -> str:
    return t("{percent} ({reported} of {elapsed} reported), {estimated} estimated, {missing} missing",
             percent=c.percent_text, reported=f.hours(c.hours_reported), elapsed=f.hours(c.hours_elapsed),
             estimated=f.hours(c.estimated_hours), missing=f.hours(c.missing_hours))


for x in v.freshness:
    if x.stale:
        st.warning(t("Data for {name} is stale: its latest reported hour ended {age} ago (heartbeat {hb}).",
                     name=x.name, age=f.duration(x.age_s), hb=f.hours(v.heartbeat_s // 3600))
                   + ("" if x.coverage.complete else " " + t("Earlier hours are missing too: {coverage}.",
                                                            coverage=coverage_text(x.coverage))))
for p in v.problems:
    st.error(p)

st.markdown("**" + t("The bond's impact") + "**: " + t(
    "its share of each facility it finances (allocated proceeds / the facility's financed cost), from the hourly "
    "reports on chain."))
# two columns, the metrics stacked in each: a since-issuance figure of years of reports is a long number
recent, total = st.columns(2, gap="large")
with recent:
    st.metric(t("Energy reduction, last 24 h"), f.energy_mj(v.last24_energy_j))
    st.metric(t("CO2 avoided, last 24 h"), f.co2_t(v.last24_co2_mg, 3))
    if v.window_end:
        st.caption(t("The bond's share over the last 24 hours reported ({start} to {end}): {have} of {want} "
                     "reported.", start=f.time(v.window_start, tz), end=f.time(v.window_end, tz),
                     have=f.hours(v.window_hours_reported), want=f.hours(v.window_hours)))
with total:
    st.metric(t("Energy reduction since issuance"), f.energy_mj(v.energy_reduction_j))
    st.metric(t("CO2 avoided since issuance"), f.co2_t(v.co2_avoided_mg, 1))
    st.caption(t("Covers: the bond's share of {names}; coverage {coverage}.",
                 names=v.share_text or t("none"), coverage=coverage_text(cov))
               + (" " + t("Not in these figures: {names} (not financed by this bond).",
                          names=", ".join(x.short for x in v.not_financed)) if v.not_financed else ""))
    cv = ui.run(ui.credits_view, settings.rpc_url, settings.deployments_dir)
    if cv is not None and cv.issued_kg:
        st.caption(t("Of which credited: {co2} of the bond's share, in hours from which carbon credits were issued. "
                     "Those tonnes are claimed by the credits' holders, not by the bond's investors.",
                     co2=f.co2_t(cv.bond_credited_co2_mg, 1)))

with st.expander(t("How the bond's share is computed")):
    st.markdown(t(
        "- Each facility's hourly figures are exact integers (joules, milligrams of CO2), derived on chain from "
        "the signed meter data.\n"
        "- The issuer records, per facility and bond, **allocation versions**: proceeds of the bond allocated "
        "to the facility and the facility's total financed cost, applying from a given hour on. They are "
        "append-only and can only start at an hour not yet reported, so no reported hour changes its share.\n"
        "- Per **allocation period** of the facility, the bond's share is the period's total × allocated "
        "proceeds / financed cost, **truncated toward zero**; the bond's figure is the sum over its facilities "
        "and periods (ImpactOracle `attributedTotals`, `bondTotals`).\n"
        "- A facility with no allocation from this bond is tracked and shown on its own below, and is **not** "
        "in the bond's figures.\n"
        "- **Coverage** is hours with a report in force / closed hours since the facility's reporting start; "
        "any missing hour can still be reported late, which fills its gap."))

st.subheader(t("Coverage"))
c = st.columns(5)
c[0].metric(t("Coverage"), cov.percent_text)
c[1].metric(t("Hours reported"), f.num(cov.hours_reported))
c[2].metric(t("Hours elapsed"), f.num(cov.hours_elapsed))
c[3].metric(t("Hours estimated"), f.num(cov.estimated_hours))
c[4].metric(t("Hours missing"), f.num(cov.missing_hours))
st.dataframe(pd.DataFrame([{
    t("facility"): x.short, t("in the bond's figures"): t("yes") if x.financed else t("not financed by this bond"),
    t("Coverage"): x.coverage.percent_text, t("Hours reported"): f.num(x.coverage.hours_reported),
    t("Hours elapsed"): f.num(x.coverage.hours_elapsed), t("Hours estimated"): f.num(x.coverage.estimated_hours),
    t("Hours missing"): f.num(x.coverage.missing_hours), t("gaps"): f.num(len(x.coverage.gaps)),
} for x in v.facilities]), hide_index=True, width="stretch")
gaps = v.gaps
if gaps:
    st.markdown("**" + t("Missing hours ({n} gaps, oldest first; no report on chain for these hours yet)",
                         n=f.num(len(gaps))) + "**")
    st.dataframe(pd.DataFrame([{
        t("facility"): shorts.get(g.facility_id, str(g.facility_id)), t("missing from"): f.time(g.start, tz),
        t("missing until"): f.time(g.end, tz), t("Hours missing"): f.num(g.hours),
    } for g in gaps[:GAP_ROWS]]), hide_index=True, width="stretch")
    if len(gaps) > GAP_ROWS:
        st.caption(t("... and {n} more gaps; the count above includes every one.", n=f.num(len(gaps) - GAP_ROWS)))
else:
    st.success(t("No missing hours: every closed hour since each facility's reporting start has a report."))

st.subheader(t("Last 24 hours: benchmark against actual"))
st.caption(t("Each facility's own hourly figures (the whole facility, not the bond's share)."))
SERIES = {"actual_kwh": t("actual"), "benchmark_kwh": t("benchmark")}
if v.hourly.empty:
    st.info(t("No hourly reports yet."))
else:
    long = v.hourly.melt(id_vars=["facility", "hour"], value_vars=["actual_kwh", "benchmark_kwh"],
                         var_name="series", value_name="kWh")
    long["series"] = long["series"].map(SERIES)
    for name, part in long.groupby("facility", sort=False):
        if (part.loc[part["series"] == SERIES["benchmark_kwh"], "kWh"] == 0).all():
            part = part[part["series"] == SERIES["actual_kwh"]].assign(series=t("generation"))
        chart = alt.Chart(part).mark_line(point=True).encode(
            x=alt.X("hour:T", title=t("hour"), axis=alt.Axis(format="%H:%M")),
            y=alt.Y("kWh:Q", title="kWh"),
            color=alt.Color("series:N", title=None),
            tooltip=["hour:T", "series:N", alt.Tooltip("kWh:Q", format=",.1f")],
        ).properties(title=name, height=240)
        st.altair_chart(chart, width="stretch")

st.subheader(t("Daily and monthly"))
st.caption(t("Each facility's own figures (the whole facility, not the bond's share); a missing hour adds nothing "
             "to its day."))
MEASURES = {"energy_mj": t("Energy reduction (MJ)"), "co2_t": t("CO2 avoided (t-CO2)")}
col = st.radio(t("Measure"), list(MEASURES), format_func=MEASURES.get, horizontal=True)
for label, frame, key in ((t("Daily"), v.daily, "day"), (t("Monthly"), v.monthly, "month")):
    if frame.empty:
        continue
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X(f"{key}:T", title=t(key), timeUnit="yearmonthdate" if key == "day" else "yearmonth"),
        y=alt.Y(f"{col}:Q", title=MEASURES[col]),
        color=alt.Color("short:N", title=t("facility")),
        tooltip=[alt.Tooltip(f"{key}:T", timeUnit="yearmonthdate" if key == "day" else "yearmonth"),
                 "facility:N", alt.Tooltip(f"{col}:Q", format=",.3f")],
    ).properties(title=label, height=260)
    st.altair_chart(chart, width="stretch")

st.subheader(t("Per facility"))
st.caption(t("Each facility's own figures, and the part attributable to the bond: the facility's figures × its share, "
             "per allocation period, truncated toward zero."))


def part(x, value: str) -> str:
    return value if x.financed else t("not financed by this bond")


st.dataframe(pd.DataFrame([{
    t("facility"): x.short, t("kind"): t(x.kind), t("reports"): f.num(x.report_count),
    t("bond's share (allocated / financed cost)"): x.allocation if x.financed else t("not financed by this bond"),
    t("energy since issuance, facility"): f.energy_mj(x.energy_reduction_j),
    t("energy since issuance, bond's part"): part(x, f.energy_mj(x.attributed_energy_j)),
    t("CO2 since issuance, facility"): f.co2_t(x.co2_avoided_mg, 3),
    t("CO2 since issuance, bond's part"): part(x, f.co2_t(x.attributed_co2_mg, 3)),
    t("energy last 24 h, facility"): f.energy_mj(x.last24_energy_j),
    t("energy last 24 h, bond's part"): part(x, f.energy_mj(x.attributed_last24_energy_j)),
} for x in v.facilities]), hide_index=True, width="stretch")

if cv is not None:
    st.subheader(t("Carbon credits"))
    st.caption(t("Credits (1 credit = 1 kg CO2e) issued only from hourly reports in force, for one facility and one "
                 "monitoring period a batch, approved by a verifier who is not the issuer; no hour is credited twice. "
                 "Retired credits are burned and certified. Contract {contract}.", contract=cv.contract))
    if not cv.batches:
        st.info(t("No credit batch yet."))
    else:
        c = st.columns(3)
        c[0].metric(t("Credits issued"), f.num(cv.issued_kg))
        c[1].metric(t("Credits retired"), f.num(cv.retired_kg))
        c[2].metric(t("Retirement certificates"), f.num(cv.certificates))
        st.dataframe(pd.DataFrame([{
            t("batch"): b.batch_id, t("facility"): shorts.get(b.facility_id, b.facility), t("period"): b.period,
            t("status"): t(b.status), t("hours"): f.num(b.hours), t("credits (kg CO2e)"): f.num(b.quantity_kg),
            t("retired"): f.num(b.retired_kg), t("serials"): b.serials, t("verifier"): b.verifier,
            t("verification document (keccak256)"): b.verification_doc_hash[:18] + "...",
            t("reports root"): b.reports_root[:18] + "...",
        } for b in cv.batches]), hide_index=True, width="stretch")
        st.caption(t("Check a retirement down to one meter reading: `greenbond credits verify --certificate N`."))

st.subheader(t("Methodology and factors"))
for m in v.methodologies:
    st.markdown(t(
        "**Version {version}**{in_force}: benchmark model `{model}` v{model_version}, primary energy {pe} MJ/kWh; "
        "data file `{uri}` (keccak256 `{hash}...`), recorded {created}",
        version=m.version, in_force=t(" (in force)") if m.in_force else "", model=m.benchmark_model,
        model_version=m.benchmark_model_version, pe=f"{m.primary_energy_factor_kj_per_kwh / 1000:.2f}",
        uri=m.source_uri, hash=m.source_hash[:18], created=m.created))
    st.dataframe(pd.DataFrame([{
        t("fiscal year"): f"FY{x.fiscal_year}", "g-CO2/kWh": f.num(x.grams_per_kwh),
        t("status"): t("final") if x.final else t("provisional"), t("source"): x.source,
    } for x in m.factors]), hide_index=True, width="stretch")

st.subheader(t("Data freshness"))
st.caption(t("The age of each facility's latest reported hour against the oracle's heartbeat. It says nothing about "
             "earlier hours: when coverage is below 100%, some of them are missing (last column, and Coverage above)."))
st.dataframe(pd.DataFrame([{
    t("facility"): x.name,
    t("latest reported hour"): f.time(x.last_period_end - 3600, tz) if x.age_s is not None else t("no report yet"),
    t("age"): f.duration(x.age_s), t("heartbeat"): f.hours(x.heartbeat_s // 3600),
    t("state"): t("STALE") if x.stale else t("fresh"),
    t("earlier hours"): t("all reported") if x.coverage.complete else coverage_text(x.coverage),
} for x in v.freshness]), hide_index=True, width="stretch")

# the CSV (a year of hourly reports is megabytes) is generated when the button is clicked, not on every render
st.download_button(t("Download every hour (CSV: actual and benchmark kWh, quality flags, coverage)"),
                   lambda: v.csv, file_name="impact-hourly.csv", mime="text/csv")
st.caption(t("{n} hourly reports in force (each facility's own figures). Times in {tz}. Bond {bond}; chain read at "
             "block {block}.", n=f.num(v.report_count), tz=v.timezone, bond=v.bond, block=f.num(v.block)))
ui.footer()
