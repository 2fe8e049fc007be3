"""`make bench`: gas of the bond's transfers, mints and forced transfers against a plain ERC20.

Runs with `brownie run scripts/bench.py` on the development network; the logic lives in
greenbond/bench.py. Writes reports/bench.json and prints a table.
"""

from greenbond.bench import run


def main():
    run()
