"""Impact figures: methodology (factors, fiscal years, benchmark model), hourly aggregation and
roll-ups, and a throughput measurement of the whole pipeline. Energy in Wh and joules, CO2 in
milligrams: all integers, derived exactly as contracts/ImpactOracle.sol derives them.
"""
