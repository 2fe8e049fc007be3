"""Gas of an hourly report with 3 signatures: under 150,000 (issue 12's bound) for every hour a
feeder sends after a facility's first. Gas is deterministic on a given chain, so this is a bound,
not a timing.

Each case is the transaction's whole gas (the 21,000 base and calldata included): the next hour,
a late hour filling a gap before the latest one (the replay check is a bitmap, not a cursor: it
must not cost more), an hour in a new bitmap word (256 hours later), and per report in a batch of
24 (what the feeder sends). The first report of a facility's life is the one exception: it also
turns the facility's totals from zero to non-zero (two slots, about 34,000 gas more, once a
facility), and is bounded apart.
"""

import pytest

from oracle_kit import THRESHOLD

REPORT_GAS_BOUND = 150_000
FIRST_REPORT_GAS_BOUND = 180_000   # once a facility: its totals from zero


def gas(tx) -> int:
    return int(tx.gas_used)


@pytest.fixture
def submit_one(kit):
    def submit(hour):
        return gas(kit.submit(kit.report(hour=hour)))
    return submit


def test_three_signatures_is_the_threshold():
    assert THRESHOLD == 3


def test_first_report_of_a_facility(submit_one):
    first = submit_one(0)
    assert first < FIRST_REPORT_GAS_BOUND
    assert first - submit_one(1) < 2 * 20_000          # no more than two slots from zero


def test_next_hour(submit_one):
    submit_one(0)
    assert submit_one(1) < REPORT_GAS_BOUND


def test_late_hour_filling_a_gap_costs_no_more_than_the_next_hour(kit, submit_one):
    submit_one(0)
    next_hour = submit_one(1)
    submit_one(10)
    late = submit_one(5)
    assert late < REPORT_GAS_BOUND
    assert late <= next_hour


def test_hour_in_a_new_bitmap_word(submit_one):
    submit_one(0)
    assert submit_one(256 + 7) < REPORT_GAS_BOUND


def test_per_report_in_a_batch_of_24(kit):
    tx = kit.submit(*[kit.report(hour=h) for h in range(24)])
    assert len(tx.events["ReportAccepted"]) == 24
    assert gas(tx) // 24 < REPORT_GAS_BOUND
    # a batch shares the base cost: a report in it is cheaper than one sent alone
    single = gas(kit.submit(kit.report(hour=24)))
    assert gas(tx) // 24 < single
