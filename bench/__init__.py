"""The benchmarks and the load test of `make bench` and `make load`: harness, not product.

Each module runs as `python -m bench.<name>` (scripts/bench.py is the Brownie part) and writes
its report under reports/:

    gas                 gas of the bond's transfers, mints and forced transfers against a plain ERC20
    offering            gas of offering settlement and DvP trades against the physical floor
    schedule            coupon payment: gas and time per holder count, register export
    feeder              the impact oracle feeder: reports per transaction, memory, readings per minute
    impact_throughput   readings per minute of the meter pipeline (used by feeder)
    pageview            the investor page's first render and RPC count
    report              the last step: every measured figure against its goal
    load                1,000 holders, 10,000 transfers, a coupon to all, a year of reports

The product package greenbond never imports this package (tests/python/test_layout.py checks).
"""
