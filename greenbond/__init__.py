"""greenbond: the off-chain side of the digital green bond platform.

One package for everything that is not Solidity: bond terms (`config`), chain access and
deployments (`chain`), sealed holder details (`holders`), deployment (`deploy`), the demo and
the benchmark. Scripts, the feeder and the Streamlit page stay thin and call into it.
"""

__version__ = "0.1.0"
