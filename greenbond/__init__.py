"""greenbond: the off-chain side of the digital green bond platform.

One package for everything that is not Solidity: bond terms (`config`), chain access and
deployments (`chain`), sealed holder details (`holders`), deployment (`deploy`) and the demo.
Scripts, the feeder and the Streamlit page stay thin and call into it. The benchmarks and the
load test (bench/) and the test fixtures (tests/helpers/) are harness: they import greenbond,
never the other way round (tests/python/test_layout.py).
"""

__version__ = "0.1.0"
