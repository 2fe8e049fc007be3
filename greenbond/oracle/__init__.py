"""The off-chain side of the ImpactOracle: the report's EIP-712 encoding and signing."""
