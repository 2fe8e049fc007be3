"""`make bench`, the on-chain part: gas of the bond's transfers, mints and forced transfers
against a plain ERC20 (reports/bench.json), then gas of offering settlement and DvP trades against
the physical floor (reports/bench_offering.json).

Runs with `brownie run scripts/bench.py` on the development network; the logic lives in
bench/gas.py and bench/offering.py.
"""

from bench.gas import run
from bench.offering import run_offering_bench
from tests.helpers.brownie_compat import tolerate_dropped_race


def main():
    tolerate_dropped_race()
    run()
    run_offering_bench()
