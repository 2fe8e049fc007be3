"""Impact figures: methodology (factors, fiscal years, benchmark model), hourly aggregation and
roll-ups. Energy in Wh and joules, CO2 in milligrams: all integers, derived exactly as
contracts/ImpactOracle.sol derives them. (The pipeline's throughput measurement is harness:
bench/impact_throughput.py.)
"""
