"""Deploys the bond suite with Brownie: settlement token (dev chains only), registry, bond.

Everything is validated before the first transaction: the config (greenbond.config), the
settlement token on a live network (it must be a contract), the documents' files. Each
contract is recorded in `deployments/<chainId>.json` as soon as it exists, and a recorded
contract is reused only when the chain still holds its code, at its block, from the same build
and constructor arguments. So a run that stops half-way resumes where it stopped, and a fresh
dev chain gets a fresh deployment, never a duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from eth_utils import keccak

from greenbond.config import BondTerms, REPO_ROOT
from greenbond.deployments import (
    ContractRecord,
    Deployment,
    DeploymentError,
    args_hash,
    hex_hash,
    load_deployment,
    reusable,
    save_deployment,
)

SETTLEMENT_NAME = "JPY Deposit Token (dev stand-in)"
SETTLEMENT_SYMBOL = "JPYD"
ORACLE_HEARTBEAT = 2 * 3600  # an hour closes, the feeder reports it: stale after two hours

Log = Callable[[str], None]


@dataclass
class Suite:
    """Handles on the deployed contracts (Brownie ProjectContract objects)."""

    deployment: Deployment
    settlement: Any
    registry: Any
    bond: Any
    schedule: Any
    oracle: Any


def document_name(name: str) -> bytes:
    """ERC-1643 document names are bytes32: ASCII, right-padded with zeros."""
    raw = name.encode("ascii")
    if len(raw) > 32:
        raise ValueError(f"document name {name!r} is longer than 32 bytes")
    return raw.ljust(32, b"\0")


def document_hash(path) -> bytes:
    """keccak256 of the document file's bytes: what the chain records and the page re-checks."""
    return keccak(path.read_bytes())


def deploy_suite(
    project,
    web3,
    deployer,
    terms: BondTerms,
    *,
    network_name: str,
    development: bool,
    bond_config: str = "",
    log: Log = print,
    directory=None,
    transmitter: str | None = None,
) -> Suite:
    """Deploys (or reuses) the suite on the connected chain and records it."""
    chain_id = web3.eth.chain_id
    kwargs = {} if directory is None else {"directory": directory}
    deployment = load_deployment(chain_id, **kwargs) or Deployment(chain_id=chain_id, network=network_name)
    deployment.network = network_name
    deployment.bond_config = bond_config

    # --- everything that can be checked is checked before the first transaction
    if development:
        currency_address = None
    else:
        if not terms.currency_address:
            raise DeploymentError(
                "bond config: currency_address: required on a live network "
                "(the settlement token's address; no stand-in is deployed there)"
            )
        if not web3.eth.get_code(terms.currency_address):
            raise DeploymentError(
                f"bond config: currency_address: no contract at {terms.currency_address} on chain {chain_id}"
            )
        currency_address = terms.currency_address
    documents = [(d, document_name(d.name), document_hash(d.path) if d.path else None) for d in terms.documents]
    for doc, _, digest in documents:
        if digest is None:
            raise DeploymentError(f"document {doc.name}: only repository files can be hashed, not {doc.uri}")

    # until the end, a deployment file written after a new contract says "not complete"
    deployment.complete = False

    def ensure(name: str, container, args: list):
        return ensure_deployed(web3, deployment, name, container, args, deployer, log=log, directory=directory)

    if development:
        settlement = ensure("SettlementToken", project.SettlementToken, [SETTLEMENT_NAME, SETTLEMENT_SYMBOL, deployer.address])
        currency_address = settlement.address
    else:
        settlement = None  # an existing deposit token or stablecoin; the bond's currency()
        deployment.contracts.pop("SettlementToken", None)
    registry = ensure("HolderRegistry", project.HolderRegistry, [deployer.address])
    bond = ensure(
        "GreenBond",
        project.GreenBond,
        [terms.contract_terms(currency_address), registry.address, deployer.address],
    )

    schedule = ensure(
        "CouponSchedule",
        project.CouponSchedule,
        [bond.address, deployer.address, deployer.address, terms.utc_offset_seconds, terms.call_notice_days * 86_400],
    )
    redemption_role = bond.REDEMPTION_ROLE()
    if not bond.hasRole(redemption_role, schedule.address):
        # the schedule burns redeemed free units and sets a call date; it gets no other power
        bond.grantRole(redemption_role, schedule.address, {"from": deployer})
        log(f"  granted REDEMPTION_ROLE on the bond to the CouponSchedule (it burns redeemed units)")

    oracle = ensure("ImpactOracle", project.ImpactOracle, [deployer.address, ORACLE_HEARTBEAT, bond.address])
    if development:
        from greenbond.oracle import setup as oracle_setup

        configure_oracle = oracle_setup.configure_oracle
        configure_oracle(
            oracle, deployer,
            facilities=oracle_setup.load_facilities(),
            methodology_path=oracle_setup.DEFAULT_METHODOLOGY,
            signers=[k.address for k in oracle_setup.dev_signer_keys()],
            threshold=oracle_setup.DEV_THRESHOLD,
            transmitter=transmitter or deployer.address,
            log=log,
        )
    if bond.impactOracle() != oracle.address:
        bond.setImpactOracle(oracle.address, {"from": deployer})
        log(f"  the bond reports impact from the ImpactOracle at {oracle.address}")

    for doc, name32, digest in documents:
        try:
            uri, onchain_hash, _ = bond.getDocument(name32)
        except Exception:  # GreenBondUnknownDocument
            uri, onchain_hash = None, None
        if uri == doc.uri and bytes(onchain_hash) == digest:
            continue
        bond.setDocument(name32, doc.uri, digest, {"from": deployer})
        log(f"  document {doc.name} -> {doc.uri} (keccak256 0x{digest.hex()[:16]}...)")

    deployment.complete = True
    save_deployment(deployment, **kwargs)
    return Suite(
        deployment=deployment, settlement=settlement, registry=registry, bond=bond, schedule=schedule, oracle=oracle
    )


def ensure_deployed(web3, deployment: Deployment, name: str, container, args: list, deployer, *, log: Log = print,
                    directory=None):
    """The reuse rule, for every contract the tooling deploys: the contract recorded as `name` is
    reused when its build (bytecode hash) and constructor arguments are the same as now and the
    chain still holds it (its code at the address, its deploy transaction in its block);
    otherwise `container` is deployed with `args` and recorded (the file written atomically)."""
    build = hex_hash(container.bytecode)
    rec = deployment.contracts.get(name)
    if reusable(web3, rec, build, args):
        log(f"  {name:<16} reused    {rec.address} (block {rec.block})")
        return container.at(rec.address)
    contract = container.deploy(*args, {"from": deployer})
    tx = contract.tx
    deployment.contracts[name] = ContractRecord(
        address=contract.address,
        block=tx.block_number,
        tx_hash=tx.txid,
        codehash=hex_hash(bytes(web3.eth.get_code(contract.address))),
        build_hash=build,
        args_hash=args_hash(args),
    )
    save_deployment(deployment, **({} if directory is None else {"directory": directory}))
    log(f"  {name:<16} deployed  {contract.address} (block {tx.block_number}, gas {tx.gas_used:,})")
    return contract


def describe_bond(bond, terms: BondTerms) -> list[str]:
    """Human-readable lines of the bond's terms as the chain reports them."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(terms.timezone)

    def day(ts: int) -> str:
        return dt.datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d")

    rate = bond.couponRate()
    dates = bond.couponDates()
    return [
        f"  Name              {bond.name()} ({bond.symbol()})",
        f"  ISIN              {bond.isin()}  (placeholder: the real ISIN is not in our sources)",
        f"  Issuer            {terms.issuer}",
        f"  Issue volume      {terms.currency} {bond.issueVolume():,} = {bond.maxSupply():,} units of {terms.currency} {bond.denomination():,}",
        f"  Coupon            {rate / 10_000:.3f}% a year ({rate} ppm), fixed, {bond.couponFrequency()} payments a year, {terms.day_count}",
        f"  Issue / maturity  {day(bond.issueDate())} / {day(bond.maturityDate())} ({terms.timezone})",
        f"  Coupon dates      {', '.join(day(d) for d in dates)}",
        f"  Redemption        at par",
        f"  Use of proceeds   {terms.use_of_proceeds}",
        f"  Outstanding       {bond.totalSupply():,} units",
        f"  Settlement token  {bond.currency()}",
        f"  Registry          {bond.registry()}",
    ]


__all__ = ["Suite", "deploy_suite", "describe_bond", "document_hash", "document_name", "REPO_ROOT"]
