"""Methodology: loading and validation, fiscal years, the benchmark profile and hourly figures
checked by hand (the arithmetic is in the comments)."""

import datetime as dt
import tomllib

import pytest

from greenbond.impact.facilities import load_facilities
from greenbond.impact.hourly import (
    HourlyAggregator,
    HourlyFigure,
    hourly_figure,
    hourly_report,
    period_key,
    quality_flags,
    rollup,
)
from greenbond.impact.methodology import (
    DEFAULT_METHODOLOGY,
    MethodologyError,
    benchmark_wh,
    co2_avoided_mg,
    energy_reduction_j,
    fiscal_year,
    fiscal_year_weight_total,
    hour_weight,
    load_methodology,
    parse_methodology,
)
from greenbond.merkle import MerkleTree, reading_leaf, verify
from greenbond.meters.model import JST, QuarantineEntry, Reading, jst, to_unix
from greenbond.meters.simulator import simulate
from greenbond.meters.vee import Vee


@pytest.fixture(scope="module")
def m():
    return load_methodology()


@pytest.fixture(scope="module")
def facilities():
    return load_facilities()


def test_load_v1(m):
    assert m.primary_energy_factor_kj_per_kwh == 9760
    assert m.benchmark_model == "office-standard-profile" and m.benchmark_model_version == 1
    assert sorted(m.grid_factors) == [2023, 2024, 2025, 2026, 2027, 2028]
    assert m.grams_per_kwh(2024) == 462 and not m.grid_factors[2024].final
    with pytest.raises(MethodologyError, match="fiscal year 2030"):
        m.grams_per_kwh(2030)


@pytest.mark.parametrize("edit, field", [
    (lambda d: d["methodology"].pop("primary_energy_factor_kj_per_kwh"), "methodology.primary_energy_factor_kj_per_kwh: missing"),
    (lambda d: d["methodology"].update(primary_energy_factor_kj_per_kwh=9.76), "methodology.primary_energy_factor_kj_per_kwh: must be an integer"),
    (lambda d: d["methodology"].update(primary_energy_factor_kj_per_kwh=0), "primary_energy_factor_kj_per_kwh: 0 outside"),
    (lambda d: d["methodology"].update(benchmark_model="nope"), "methodology.benchmark_model: unknown model"),
    (lambda d: d["methodology"].update(labl="x"), "methodology.labl: unknown field"),
    (lambda d: d["grid_factor"][2].update(grams_per_kwh=0.462), "grid_factor[2].grams_per_kwh: must be an integer"),
    (lambda d: d["grid_factor"][1].update(fiscal_year=2023), "grid_factor[1].fiscal_year: 2023 given twice"),
    (lambda d: d["grid_factor"][0].pop("final"), "grid_factor[0].final: missing"),
    (lambda d: d.update(grid_factor=[]), "grid_factor: at least one"),
    (lambda d: d.update(extra={}), "extra: unknown table"),
])
def test_validation_names_the_field(edit, field):
    data = tomllib.loads(DEFAULT_METHODOLOGY.read_text())
    edit(data)
    with pytest.raises(MethodologyError) as exc:
        parse_methodology(data)
    assert field in str(exc.value)


def test_fiscal_year_boundaries():
    assert fiscal_year(jst(2024, 3, 31, 23, 30)) == 2023
    assert fiscal_year(jst(2024, 4, 1, 0, 0)) == 2024
    # the same instants in UTC: 2024-03-31 14:30Z and 15:00Z
    assert fiscal_year(dt.datetime(2024, 3, 31, 14, 30, tzinfo=dt.timezone.utc)) == 2023
    assert fiscal_year(dt.datetime(2024, 3, 31, 15, 0, tzinfo=dt.timezone.utc)) == 2024
    assert fiscal_year(jst(2023, 12, 14)) == 2023 and fiscal_year(jst(2024, 1, 1)) == 2023


def test_profile_weights_sum_to_one_year():
    # W(FY2023) = sum over months of month weight x (weekdays x 1,543 + weekend days x 815), with
    # sum(WEEKDAY_HOUR_WEIGHTS) = 1,543 and sum(WEEKEND_HOUR_WEIGHTS) = 815:
    #  Apr 90 x (20 x 1543 + 10 x 815) = 3,510,900   May 88 x (23, 8) = 3,696,792   Jun 95 x (22, 8) = 3,844,270
    #  Jul 115 x (21, 10) = 4,663,595                 Aug 125 x (23, 8) = 5,251,125  Sep 110 x (21, 9) = 4,371,180
    #  Oct 92 x (22, 9) = 3,797,852                   Nov 95 x (22, 8) = 3,844,270   Dec 108 x (21, 10) = 4,379,724
    #  Jan 115 x (23, 8) = 4,831,035                  Feb 112 x (21, 8) = 4,359,376  Mar 100 x (21, 10) = 4,055,300
    assert fiscal_year_weight_total(2023) == 50_605_419
    # the same total hour by hour, and the benchmark of every hour summing to (just under) 142 kWh/m2
    t, total_w, total_wh = jst(2023, 4, 1), 0, 0
    while t < jst(2024, 4, 1):
        total_w += hour_weight(t)
        total_wh += benchmark_wh(16_000, t)
        t += dt.timedelta(hours=1)
    assert total_w == 50_605_419
    annual = 16_000 * 142_000                        # 2,272,000,000 Wh
    assert annual - 8_784 < total_wh <= annual       # floors lose < 1 Wh per hour (FY2023 has 8,784 hours)


def test_benchmark_hour_by_hand():
    # Friday 2024-01-05 10:00 JST: weekday hour-10 weight 100 x January 115 = 11,500
    h = jst(2024, 1, 5, 10)
    assert hour_weight(h) == 11_500
    # 16,000 m2 x 142,000 Wh x 11,500 / 50,605,419 = 26,128,000,000,000 / 50,605,419 = 516,308.34 -> 516,308 Wh
    assert benchmark_wh(16_000, h) == 516_308
    # Saturday 2024-01-06 10:00: weekend weight 40 x 115 = 4,600 -> 10,451,200,000,000 / 50,605,419 = 206,523
    assert benchmark_wh(16_000, jst(2024, 1, 6, 10)) == 206_523
    with pytest.raises(MethodologyError):
        benchmark_wh(16_000, jst(2024, 1, 5, 10, 30))


def test_conversions_like_the_contract(m):
    # the brief's example: benchmark 812,345 Wh, actual 600,000 Wh -> reduction 212,345 Wh
    # energy: 212,345 x 9,760 J = 2,072,487,200 J (2,072 MJ); CO2: 212,345 x 462 mg = 98,103,390 mg (98.1 kg)
    assert energy_reduction_j(212_345, m) == 2_072_487_200
    assert co2_avoided_mg(212_345, m, 2023) == 98_103_390
    assert energy_reduction_j(-1, m) == -9_760


def _r(fid, meter, t, wh, flags=0):
    return Reading(fid, meter, t, wh, flags, "t")


def test_building_hour_by_hand(m, facilities):
    kyoso = facilities[0]
    h = jst(2024, 1, 5, 10)
    half = h + dt.timedelta(minutes=30)
    rs = [_r(1, "KYOSO-MAIN-A", h, 100_000), _r(1, "KYOSO-MAIN-B", h, 95_000),
          _r(1, "KYOSO-MAIN-A", half, 105_000), _r(1, "KYOSO-MAIN-B", half, 100_000)]
    fig = hourly_figure(kyoso, m, to_unix(h), rs)
    # actual 100,000 + 95,000 + 105,000 + 100,000 = 400,000 Wh; benchmark 516,308 Wh (above)
    # reduction 516,308 - 400,000 = 116,308 Wh
    # energy 116,308 x 9,760 = 1,135,166,080 J ; CO2 116,308 x 462 = 53,734,296 mg (FY2023 factor)
    assert (fig.actual_wh, fig.benchmark_wh, fig.reduction_wh) == (400_000, 516_308, 116_308)
    assert (fig.energy_reduction_j, fig.co2_avoided_mg) == (1_135_166_080, 53_734_296)
    assert (fig.reading_count, fig.expected_count, fig.quality_flags, fig.factor_year) == (4, 4, 0, 2023)
    assert fig.readings_root == MerkleTree([reading_leaf(r) for r in rs]).root
    assert verify(fig.readings_root, reading_leaf(rs[2]), fig.proof(2))

    # a worse hour: actual 600,000 -> reduction 516,308 - 600,000 = -83,692 Wh (negative is allowed)
    # energy -83,692 x 9,760 = -816,833,920 J ; CO2 -83,692 x 462 = -38,665,704 mg
    rs2 = rs[:3] + [_r(1, "KYOSO-MAIN-B", half, 300_000, flags=1)]
    fig2 = hourly_figure(kyoso, m, to_unix(h), rs2, quarantined=1)
    assert (fig2.reduction_wh, fig2.energy_reduction_j, fig2.co2_avoided_mg) == (-83_692, -816_833_920, -38_665_704)
    # one estimated of four: flag 1; actual coverage 3/4 = 75% < 90%: flag 2; a quarantined value: flag 4
    assert fig2.quality_flags == 1 | 2 | 4

    rep = hourly_report(fig, methodology_version=1, signer_set_version=3)
    assert (rep.facilityId, rep.periodStart, rep.actualWh, rep.benchmarkWh, rep.readingCount, rep.factorYear) == \
        (1, 1704416400, 400_000, 516_308, 4, 2023)
    assert rep.readingsRoot == fig.readings_root and rep.signerSetVersion == 3


def test_solar_hour_by_hand_and_fiscal_year_factor(m, facilities):
    solar = facilities[1]
    h = jst(2024, 4, 1, 11)           # FY2024
    rs = [_r(2, "SOLAR-PV-1", h, 120_000), _r(2, "SOLAR-PV-1", h + dt.timedelta(minutes=30), 130_500)]
    fig = hourly_figure(solar, m, to_unix(h), rs)
    # generation 250,500 Wh = reduction; energy 250,500 x 9,760 = 2,444,880,000 J; CO2 250,500 x 462 = 115,731,000 mg
    assert (fig.actual_wh, fig.benchmark_wh, fig.reduction_wh) == (250_500, 0, 250_500)
    assert (fig.energy_reduction_j, fig.co2_avoided_mg, fig.factor_year) == (2_444_880_000, 115_731_000, 2024)
    with pytest.raises(ValueError):
        hourly_figure(solar, m, to_unix(h), [_r(2, "SOLAR-PV-1", h + dt.timedelta(hours=1), 1)])


def test_quality_flags_thresholds():
    assert quality_flags(4, 0, 4, 0) == 0
    assert quality_flags(9, 0, 10, 0) == 0           # exactly 90%: not below
    assert quality_flags(8, 1, 10, 0) == 1 | 2       # 80%
    assert quality_flags(2, 0, 2, 3) == 4


def test_period_keys_in_jst():
    t = to_unix(jst(2024, 3, 31, 23))                # 14:00 UTC: still March 31 in JST
    assert [period_key(t, p) for p in ("day", "month", "year", "fiscal_year")] == ["2024-03-31", "2024-03", "2024", "FY2023"]
    t = to_unix(jst(2024, 4, 1, 0))                  # 2024-03-31 15:00 UTC, but April 1 in JST
    assert [period_key(t, p) for p in ("day", "month", "year", "fiscal_year")] == ["2024-04-01", "2024-04", "2024", "FY2024"]


def test_pipeline_two_days_aggregates_and_rolls_up(m, facilities):
    start, end = jst(2024, 3, 31), jst(2024, 4, 2)
    meters = {k: v for f in facilities for k, v in f.meter_specs().items()}
    sim = list(simulate(facilities, start, end, seed=9))
    # damage the stream: drop one reading, duplicate one, make one negative
    victim = sim[100]
    stream = sim[:100] + sim[101:]
    stream.insert(10, sim[10])
    from greenbond.meters.model import RawReading
    bad = sim[200]
    stream[stream.index(bad)] = RawReading(bad.facility_id, bad.meter_id, bad.interval_start, -7, 0, "t", "-7")
    vee = Vee(meters, start, end)
    agg = HourlyAggregator(facilities, m)
    out = list(agg.run(vee.run(stream)))
    figs = [x for x in out if isinstance(x, HourlyFigure)]
    assert len(figs) == 2 * 48                       # 2 facilities x 48 hours
    assert [x.reason for x in out if isinstance(x, QuarantineEntry)] == ["negative"]
    assert vee.stats.duplicates_identical == 1
    # the hours are in order per facility and sum every reading (estimates included)
    for fid in (1, 2):
        starts = [f.period_start for f in figs if f.facility_id == fid]
        assert starts == sorted(starts) and len(starts) == 48
    assert sum(f.reading_count for f in figs) == len(sim)
    flagged = {(f.facility_id, f.period_start): f.quality_flags for f in figs if f.quality_flags}
    key_victim = (victim.facility_id, victim.ts - victim.ts % 3600)
    key_bad = (bad.facility_id, bad.ts - bad.ts % 3600)
    # dropped reading: interpolated (1) so actual coverage < 90% (2); negative value: also quarantined (4)
    assert flagged[key_victim] == 1 | 2 and flagged[key_bad] == 1 | 2 | 4
    assert len(flagged) == 2
    # roll-ups: sums of the hourly integers, split at the JST day and fiscal-year boundary
    days = list(rollup(figs, "day"))
    assert [(d.facility_id, d.key, d.hours) for d in days] == [
        (1, "2024-03-31", 24), (2, "2024-03-31", 24), (1, "2024-04-01", 24), (2, "2024-04-01", 24)]
    fys = {(r.facility_id, r.key): r for r in rollup(figs, "fiscal_year")}
    for fid in (1, 2):
        hours = [f for f in figs if f.facility_id == fid]
        assert fys[(fid, "FY2023")].co2_avoided_mg + fys[(fid, "FY2024")].co2_avoided_mg == sum(f.co2_avoided_mg for f in hours)
        assert sum(d.energy_reduction_j for d in days if d.facility_id == fid) == sum(f.energy_reduction_j for f in hours)
    assert all(f.factor_year == (2023 if f.period_start < to_unix(jst(2024, 4, 1)) else 2024) for f in figs)


def test_a_live_feed_closes_each_complete_next_hour_at_once(m, facilities):
    """close_complete (the MQTT path): after the first hour closed by the lag, each next hour closes
    as soon as it holds every meter interval; an incomplete one, or one after a missing hour, waits
    for the lag. Without it (files), every hour waits for the lag. The figures are the same."""
    start = jst(2024, 5, 1)
    sim = list(simulate(facilities, start, jst(2024, 5, 2), seed=4))

    def closed_after(agg, items):
        out = []
        for i, item in enumerate(items):
            out += [(i, f.facility_id, f.period_start) for f in agg.feed(item) if isinstance(f, HourlyFigure)]
        return out

    first_day = [r for r in sim if r.ts < to_unix(start) + 7 * 3600]   # hours 0-6
    live = closed_after(HourlyAggregator(facilities, m, close_complete=True), first_day)
    lagged = closed_after(HourlyAggregator(facilities, m), first_day)
    last = {(fid, h): i for i, fid, h in live}
    h0 = to_unix(start)
    # hour 0 closes by the lag (the reading at 5:30 carries the watermark past 1:00), hours 1-5 at once
    # with it, being complete; hour 6 the moment its last reading (the 6:30 interval) arrives
    assert {h for _, h in last} == {h0 + k * 3600 for k in range(7)}
    assert last[(1, h0 + 6 * 3600)] == max(i for i, r in enumerate(first_day) if r.facility_id == 1)
    assert {(fid, h) for _, fid, h in lagged} == {(fid, h0 + k * 3600) for fid in (1, 2) for k in range(2)}
    # a missing interval in hour 7: it waits; hour 8, complete, waits behind it
    hour7 = [r for r in sim if h0 + 7 * 3600 <= r.ts < h0 + 9 * 3600]
    agg = HourlyAggregator(facilities, m, close_complete=True)
    closed_after(agg, first_day)
    gap = [r for r in hour7 if not (r.facility_id == 1 and r.ts == h0 + 7 * 3600 + 1800 and r.meter_id.endswith("A"))]
    assert [x for x in closed_after(agg, gap) if x[1] == 1] == []   # the solar plant's hours 7-8 are complete
    # the same figures either way
    whole_live = [f for f in HourlyAggregator(facilities, m, close_complete=True).run(sim) if isinstance(f, HourlyFigure)]
    whole = [f for f in HourlyAggregator(facilities, m).run(sim) if isinstance(f, HourlyFigure)]
    assert sorted(whole_live, key=lambda f: (f.facility_id, f.period_start)) == \
        sorted(whole, key=lambda f: (f.facility_id, f.period_start))
