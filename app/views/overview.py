"""The landing page: the three questions an investor comes with, at a glance. What the bond is
(terms, status, next coupon); what the money did (the bond's attributable energy reduction and CO2
avoided, last 24 h and since issuance, with coverage and freshness); how to check it (Verify)."""

import sys
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

import streamlit as st  # noqa: E402

from app import ui  # noqa: E402

settings, t = ui.setup("Overview")
f = t.f
b = ui.run(ui.bond_overview, settings.rpc_url, settings.deployments_dir)
st.title(t("Digital green bond"))
st.markdown(f"**{b.name}** ({b.symbol}) · {t('Issuer')}: {b.issuer}")

# -- what the bond is: four short values, each with room for its longest form at 1280 px
st.subheader(t("What the bond is"))
# two columns: the longest values (a Japanese date, an amount) keep their whole width at 1280 px
c = st.columns(2)
c[0].metric(t("Amount issued"), f.oku_yen(b.issue_volume, b.currency), help=f.money(b.issue_volume, b.currency))
c[1].metric(t("Coupon rate"), f.percent_ppm(b.coupon_rate_ppm),
            help=t("{rate} a year, paid {n} times a year", rate=f.percent_ppm(b.coupon_rate_ppm), n=b.coupon_frequency))
c = st.columns(2)
c[0].metric(t("Status"), t.state(b.status))
if b.next_coupon:
    c[1].metric(t("Next coupon"), f.date(b.next_coupon), t("in {days} days", days=b.days_to_next_coupon),
                delta_color="off", delta_arrow="off")
else:
    c[1].metric(t("Next coupon"), t("no further coupon"))
st.caption(t("Term") + ": " + t("{start} to {end}", start=f.date(b.issue_date), end=f.date(b.maturity_date)))
st.page_link("views/bond.py", label=t("Terms, coupons and documents"), icon=":material/description:")

# -- what the money did: the bond's share, with what it covers
st.subheader(t("What the money did"))
v = ui.run(ui.impact_view, settings.rpc_url, settings.deployments_dir)
cov = v.coverage
recent, total = st.columns(2)
recent.metric(t("Energy reduction, last 24 h"), f.energy_mj(v.last24_energy_j))
recent.metric(t("CO2 avoided, last 24 h"), f.co2_t(v.last24_co2_mg, 3))
total.metric(t("Energy reduction since issuance"), f.energy_mj(v.energy_reduction_j))
total.metric(t("CO2 avoided since issuance"), f.co2_t(v.co2_avoided_mg, 1))
c = st.columns(2)   # a date and time with its zone needs half the width at 1280 px
c[0].metric(t("Coverage"), cov.percent_text,
            help=f"{f.hours(cov.hours_reported)} / {f.hours(cov.hours_elapsed)}")
latest = max((x for x in v.freshness if x.age_s is not None), key=lambda x: x.last_period_end, default=None)
if latest is not None:
    # the age is the value (short in both languages); the hour itself, with its date and zone, the delta
    c[1].metric(t("Latest reported hour ended"), t("{age} ago", age=f.duration(latest.age_s)),
                f.hour_range(latest.last_period_end - 3600, ZoneInfo(v.timezone)), delta_color="off", delta_arrow="off")
else:
    c[1].metric(t("Latest reported hour ended"), t("no report yet"))
st.caption(t("The bond's share of the facilities it finances (allocated proceeds / financed cost), from the hourly "
             "reports on chain; coverage is hours reported / hours elapsed since reporting started."))
if v.not_financed:
    st.caption(t("Not in these figures: {names} (not financed by this bond).",
                 names=", ".join(x.short for x in v.not_financed)))
if cov.complete:
    st.success(t("Every closed hour since reporting started has a report."))
else:
    st.warning(t("{missing} hours are missing in {gaps} gaps: see the Impact page.",
                 missing=f.num(cov.missing_hours), gaps=f.num(len(v.gaps))))
for x in v.freshness:
    if x.stale:
        st.warning(t("Data for {name} is stale: its latest reported hour ended {age} ago (heartbeat {hb}).",
                     name=x.name, age=f.duration(x.age_s), hb=f.hours(v.heartbeat_s // 3600)))
st.page_link("views/impact.py", label=t("All figures and charts"), icon=":material/monitoring:")

# -- how to check it
st.subheader(t("How to check it"))
st.markdown(t("Every figure comes from signed hourly reports on chain. Each report's Merkle root can be checked "
              "against the raw meter readings the operator publishes, one file per facility and day."))
st.page_link("views/verify.py", label=t("Check a reading"), icon=":material/fact_check:")
ui.footer()
