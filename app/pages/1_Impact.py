"""Impact, as the Green Tracking Hub shows it: energy reduction and CO2 avoided, hourly, daily,
monthly, per facility; the methodology in force; data freshness; a CSV export."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

import altair as alt  # noqa: E402
import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from app import ui  # noqa: E402

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

for f in v.freshness:
    if f.stale:
        st.warning(
            f"Data for {f.name} is stale: the latest reported hour ended {f.age_text} ago "
            f"(more than the {v.heartbeat_s // 3600} h heartbeat)."
        )

st.caption(f"Last 24 hours reported: {v.window_text}")
c = st.columns(4)
c[0].metric("Energy reduction, last 24 h (MJ)", f"{v.last24_energy_mj:,.1f}")
c[1].metric("CO2 avoided, last 24 h (t-CO2)", f"{v.last24_co2_t:,.3f}")
c[2].metric("Energy reduction since issuance (MJ)", f"{v.energy_mj:,.0f}")
c[3].metric("CO2 avoided since issuance (t-CO2)", f"{v.co2_t:,.1f}")

st.subheader("Last 24 hours: benchmark against actual")
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
st.table(pd.DataFrame([{
    "facility": f.name, "kind": f.kind, "reports": f.report_count,
    "energy reduction since issuance (MJ)": round(f.energy_reduction_j / 1e6, 3),
    "CO2 avoided since issuance (t)": round(f.co2_avoided_mg / 1e9, 6),
    "energy reduction, last 24 h (MJ)": round(f.last24_energy_j / 1e6, 3),
    "CO2 avoided, last 24 h (t)": round(f.last24_co2_mg / 1e9, 6),
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
st.table(pd.DataFrame([{
    "facility": f.name, "latest reported hour": f.last_hour, "age": f.age_text,
    "heartbeat": f"{f.heartbeat_s // 3600} h", "state": "STALE" if f.stale else "fresh",
} for f in v.freshness]), hide_index=True, width="stretch")

# the CSV (a year of hourly reports is megabytes) is generated when the button is clicked, not on every render
st.download_button("Download every hourly report (CSV)", lambda: v.csv, file_name="impact-hourly.csv", mime="text/csv")
st.caption(f"{v.report_count:,} hourly reports in force. Times in {v.timezone}.")
ui.footer()
