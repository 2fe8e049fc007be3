"""Fixtures shared by the tests and the benchmarks (bench/): private dev chains and a demo-like
chain, the browser launcher, Brownie work-arounds. Not part of the product package greenbond,
which never imports them (tests/python/test_layout.py checks)."""
