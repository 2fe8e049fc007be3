"""Impact, as the Green Tracking Hub shows it: energy reduction and CO2 avoided, hourly, daily,
monthly, per facility; the bond's share of each facility it finances, and how much of the time
is covered by reports (the missing hours shown as gaps); the methodology in force; data
freshness; a CSV export."""

import sys
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

import altair as alt  # noqa: E402
import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from app import ui  # noqa: E402

GAP_ROWS = 50   # missing-hour ranges listed on the page (all of them are counted)

settings = ui.setup("Impact")
st.title("Environmental impact")
# The browser loads its chart library (Vega, about 1 MB of JavaScript) only when a chart first
# arrives: a blank one-pixel chart sent before the chain is read lets it load in parallel; it is
# removed as soon as the figures are in.
prefetch = st.empty()
prefetch.altair_chart(alt.Chart(pd.DataFrame({"x": [0]})).mark_point(opacity=0).encode(x=alt.X("x:Q", axis=None))
                      .properties(width=1, height=1), width="content")
v = ui.run(ui.impact_view, settings.rpc_url, settings.deployments_dir)
prefetch.empty()
cov = v.coverage

for f in v.freshness:
    if f.stale:
        st.warning(
            f"Data for {f.name} is stale: the latest reported hour ended {f.age_text} ago "
            f"(more than the {v.heartbeat_s // 3600} h heartbeat)."
            + ("" if f.coverage.complete else
               f" That is the latest hour only: earlier hours are missing too ({f.earlier_text}).")
        )
for p in v.problems:
    st.error(p)

st.markdown(
    "**The bond's impact**: its share of each facility it finances (allocated proceeds / the facility's "
    "financed cost), from the hourly reports on chain."
)
# two columns, the metrics stacked in each: a metric's label and value are cut off (not wrapped)
# when its column is narrow, and a since-issuance figure of years of reports is a long number
recent, total = st.columns(2, gap="large")
with recent:
    st.metric("Energy reduction, last 24 h (MJ)", f"{v.last24_energy_mj:,.1f}")
    st.metric("CO2 avoided, last 24 h (t-CO2)", f"{v.last24_co2_t:,.3f}")
    st.caption(f"The bond's share over the last 24 hours reported ({v.window_text}): {v.window_note}.")
with total:
    st.metric("Energy reduction since issuance (MJ)", f"{v.energy_mj:,.0f}")
    st.metric("CO2 avoided since issuance (t-CO2)", f"{v.co2_t:,.1f}")
    st.caption(v.covers_text)

with st.expander("How the bond's share is computed"):
    st.markdown(
        "- Each facility's hourly figures are exact integers (joules, milligrams of CO2), derived on chain from "
        "the signed meter data.\n"
        "- The issuer records, per facility and bond, **allocation versions**: proceeds of the bond allocated "
        "to the facility and the facility's total financed cost, applying from a given hour on. They are "
        "append-only and can only start at an hour not yet reported, so no reported hour changes its share.\n"
        "- Per **allocation period** of the facility (a new period starts at each version's hour), the bond's "
        "share is the period's total × allocated proceeds / financed cost, **truncated toward zero**; the "
        "bond's figure is the sum over its facilities and periods (ImpactOracle `attributedTotals`, "
        "`bondTotals`). The last-24-hours figure applies the same rule to the window's hours.\n"
        "- A facility with no allocation from this bond (the demo solar plant) is tracked and shown on its own "
        "below, and is **not** in the bond's figures.\n"
        "- **Coverage** is hours with a report in force / closed hours since the facility's reporting start; "
        "any missing hour can still be reported late, which fills its gap. Hours whose readings were partly "
        "estimated (flagged by the data operators) are counted."
    )

st.subheader("Coverage")
c = st.columns(5)
c[0].metric("Coverage", cov.percent_text, help="hours reported / hours elapsed for the facilities the bond "
            "finances, rounded down: 100.0% only when no hour is missing")
c[1].metric("Hours reported", f"{cov.hours_reported:,}")
c[2].metric("Hours elapsed", f"{cov.hours_elapsed:,}")
c[3].metric("Hours estimated", f"{cov.estimated_hours:,}")
c[4].metric("Hours missing", f"{cov.missing_hours:,}")
st.caption(
    "Of the facilities the bond finances (" + (", ".join(f.short for f in v.financed) or "none") + "), "
    "since their reporting start, to the latest block's time."
)
st.table(pd.DataFrame([{
    "facility": f.short, "in the bond's figures": "yes" if f.financed else "no: not financed by this bond",
    "coverage": f.coverage.percent_text, "hours reported": f"{f.coverage.hours_reported:,}",
    "hours elapsed": f"{f.coverage.hours_elapsed:,}", "hours estimated": f"{f.coverage.estimated_hours:,}",
    "hours missing": f"{f.coverage.missing_hours:,}", "gaps": f"{len(f.coverage.gaps):,}",
} for f in v.facilities]), hide_index=True, width="stretch")
gaps = v.gaps
if gaps:
    st.markdown(f"**Missing hours** ({len(gaps):,} gap{'' if len(gaps) == 1 else 's'}, oldest first; "
                "no report on chain for these hours yet)")
    shorts, tz = {f.facility_id: f.short for f in v.facilities}, ZoneInfo(v.timezone)
    st.table(pd.DataFrame([{
        "facility": shorts.get(g.facility_id, str(g.facility_id)), "missing from": ui.pv.local_time(g.start, tz),
        "missing until": ui.pv.local_time(g.end, tz), "hours missing": f"{g.hours:,}",
    } for g in gaps[:GAP_ROWS]]), hide_index=True, width="stretch")
    if len(gaps) > GAP_ROWS:
        st.caption(f"... and {len(gaps) - GAP_ROWS:,} more gaps; the count above includes every one.")
else:
    st.success("No missing hours: every closed hour since each facility's reporting start has a report.")

st.subheader("Last 24 hours: benchmark against actual")
st.caption("Each facility's own hourly figures (the whole facility, not the bond's share).")
if v.hourly.empty:
    st.info("No hourly reports yet.")
else:
    long = v.hourly.melt(id_vars=["facility", "hour"], value_vars=["actual_kwh", "benchmark_kwh"],
                         var_name="series", value_name="kWh")
    long["series"] = long["series"].map({"actual_kwh": "actual", "benchmark_kwh": "benchmark"})
    for name, part in long.groupby("facility", sort=False):
        if (part.loc[part["series"] == "benchmark", "kWh"] == 0).all():
            part = part[part["series"] == "actual"].assign(series="generation")
        chart = alt.Chart(part).mark_line(point=True).encode(
            x=alt.X("hour:T", title="hour", axis=alt.Axis(format="%H:%M")),
            y=alt.Y("kWh:Q", title="kWh"),
            color=alt.Color("series:N", title=None),
            tooltip=["hour:T", "series:N", alt.Tooltip("kWh:Q", format=",.1f")],
        ).properties(title=name, height=240)
        st.altair_chart(chart, width="stretch")

st.subheader("Daily and monthly")
st.caption("Each facility's own figures (the whole facility, not the bond's share); a missing hour adds nothing "
           "to its day.")
measure = st.radio("Measure", ["Energy reduction (MJ)", "CO2 avoided (t-CO2)"], horizontal=True)
col = "energy_mj" if measure.startswith("Energy") else "co2_t"
for label, frame, key in (("Daily", v.daily, "day"), ("Monthly", v.monthly, "month")):
    if frame.empty:
        continue
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X(f"{key}:T", title=key, timeUnit="yearmonthdate" if key == "day" else "yearmonth"),
        y=alt.Y(f"{col}:Q", title=measure),
        color=alt.Color("short:N", title="facility"),
        tooltip=[alt.Tooltip(f"{key}:T", timeUnit="yearmonthdate" if key == "day" else "yearmonth"),
                 "facility:N", alt.Tooltip(f"{col}:Q", format=",.3f")],
    ).properties(title=label, height=260)
    st.altair_chart(chart, width="stretch")

st.subheader("Per facility")
st.caption("Each facility's own figures, and the part attributable to the bond: the facility's figures × its share, "
           "per allocation period, truncated toward zero.")


def part(f, value: str) -> str:
    return value if f.financed else "not financed"


st.table(pd.DataFrame([{
    "facility": f.short, "kind": f.kind, "reports": f"{f.report_count:,}",
    "bond's share (allocated / financed cost)": f.allocation,
    "energy since issuance, facility (MJ)": f"{f.energy_reduction_j / 1e6:,.1f}",
    "energy since issuance, bond's part (MJ)": part(f, f"{f.attributed_energy_j / 1e6:,.1f}"),
    "CO2 since issuance, facility (t)": f"{f.co2_avoided_mg / 1e9:,.3f}",
    "CO2 since issuance, bond's part (t)": part(f, f"{f.attributed_co2_mg / 1e9:,.3f}"),
    "energy last 24 h, facility (MJ)": f"{f.last24_energy_j / 1e6:,.1f}",
    "energy last 24 h, bond's part (MJ)": part(f, f"{f.attributed_last24_energy_j / 1e6:,.1f}"),
} for f in v.facilities]), hide_index=True, width="stretch")

st.subheader("Methodology and factors")
for m in v.methodologies:
    st.markdown(
        f"**Version {m.version}**{' (in force)' if m.in_force else ''}: benchmark model `{m.benchmark_model}` "
        f"v{m.benchmark_model_version}, primary energy {m.primary_energy_factor_kj_per_kwh / 1000:.2f} MJ/kWh; "
        f"data file `{m.source_uri}` (keccak256 `{m.source_hash[:18]}...`), recorded {m.created}"
    )
    st.table(pd.DataFrame([{
        "fiscal year": f"FY{x.fiscal_year}", "g-CO2/kWh": x.grams_per_kwh,
        "status": "final" if x.final else "provisional", "source": x.source,
    } for x in m.factors]), hide_index=True, width="stretch")

st.subheader("Data freshness")
st.caption("The age of each facility's latest reported hour against the oracle's heartbeat. It says nothing about "
           "earlier hours: when coverage is below 100%, some of them are missing (last column, and Coverage above).")
st.table(pd.DataFrame([{
    "facility": f.name, "latest reported hour": f.last_hour, "age of the latest reported hour": f.age_text,
    "heartbeat": f"{f.heartbeat_s // 3600} h", "state": "STALE" if f.stale else "fresh",
    "earlier hours": f.earlier_text,
} for f in v.freshness]), hide_index=True, width="stretch")

# the CSV (a year of hourly reports is megabytes) is generated when the button is clicked, not on every render
st.download_button("Download every hourly report (CSV)", lambda: v.csv, file_name="impact-hourly.csv", mime="text/csv")
st.caption(f"{v.report_count:,} hourly reports in force (each facility's own figures). Times in {v.timezone}. "
           f"Bond {v.bond}; chain read at block {v.block:,}.")
ui.footer()
