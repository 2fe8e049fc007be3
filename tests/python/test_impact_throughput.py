"""The throughput helper runs end to end and its memory does not grow with the period."""

from bench.impact_throughput import measure_throughput


def test_throughput_helper_and_flat_memory():
    small = measure_throughput(n_readings=3_000, traced_readings=3_000)
    large = measure_throughput(n_readings=3_000, traced_readings=30_000)   # ten times the period
    assert small.readings == 3_000 and small.hours == 1_000  # 1,000 intervals of 3 meters = 500 h x 2 facilities and small.readings_per_minute > 0
    # a streamed pipeline: 10x the readings must not need anywhere near 10x the memory
    assert large.peak_traced_bytes < 2 * small.peak_traced_bytes + 200_000
