"""Serves the investor page with Streamlit after importing, once for the server process, the
modules every page script needs (pandas, numpy, pyarrow, altair, web3, greenbond.pageview,
app.ui) and parsing the contracts' ABIs: the first visitor then does not wait for them.

    python -m app.serve [streamlit run options ...]     (serves app/main.py)

The time these imports take is printed ("preloaded in ... s") so that a benchmark can report the
server's own cold start apart from the page's render; `streamlit run app/main.py` works too,
with the imports made by the first page visit instead.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def preload() -> float:
    t = time.perf_counter()
    import altair  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401
    import streamlit  # noqa: F401
    import web3  # noqa: F401

    from app import ui  # noqa: F401
    from greenbond import pageview  # noqa: F401
    from greenbond.chain import ChainError, load_abi

    # altair validates a chart against the Vega-Lite schema: load the schema and its validator now
    altair.Chart(pandas.DataFrame({"x": [1]})).mark_bar().encode(x="x:Q").to_dict()
    for name in ("GreenBond", "HolderRegistry", "CouponSchedule", "SettlementToken", "ImpactOracle"):
        try:
            load_abi(name)
        except ChainError:
            pass
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT))
    took = preload()
    print(f"preloaded in {took:.2f} s", flush=True)
    from streamlit.web import cli

    # a public server: the visitor's toolbar has no "Deploy" or developer menu, and an unexpected
    # error shows no traceback or message (the pages show their own sentences); options given on
    # the command line come after these and win
    public = ["--client.toolbarMode", "viewer", "--client.showErrorDetails", "none",
              "--browser.gatherUsageStats", "false", "--server.enableXsrfProtection", "true"]
    sys.argv = ["streamlit", "run", str(ROOT / "app" / "main.py"), *public, *(sys.argv[1:] if argv is None else argv)]
    return cli.main(prog_name="streamlit")


if __name__ == "__main__":
    sys.exit(main())
