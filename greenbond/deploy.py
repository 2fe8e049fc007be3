"""Deploys the bond suite over plain web3 from the build artifacts: settlement token (dev chains
only), registry, bond, coupon schedule, impact oracle, carbon credits; `greenbond deploy --rpc URL` and
`scripts/deploy.py` (Brownie) both call `deploy_suite`.

Everything is validated before the first transaction: the config (greenbond.config), the
settlement token on a live network (it must be a contract), the documents' files. Each
contract is recorded in `deployments/<chainId>.json` as soon as it exists, and a recorded
contract is reused only when the chain still holds its code, at its block, from the same build
and constructor arguments. So a run that stops half-way resumes where it stopped, and a fresh
dev chain gets a fresh deployment, never a duplicate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from eth_utils import keccak
from web3 import Web3

from greenbond.chain import BUILD_DIR, Suite, load_abi
from greenbond.chain.tx import Signer, deploy_contract, load_build, transact
from greenbond.config import BondTerms, REPO_ROOT
from greenbond.deployments import (
    DEPLOYMENTS_DIR,
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
# On a dev chain the carbon credits' verifier is this unlocked account of the node (the issuer is
# account 0, the demo's investors 1-5): an account apart, as the credits contract requires.
DEV_VERIFIER_ACCOUNT = 7
ZERO_ADDRESS = "0x" + "00" * 20

Log = Callable[[str], None]


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
    w3: Web3,
    signer: Signer,
    terms: BondTerms,
    *,
    network_name: str,
    development: bool,
    bond_config: str = "",
    log: Log = print,
    directory: Path | None = None,
    transmitter: str | None = None,
    verifier: str | None = None,
    build_dir: Path = BUILD_DIR,
) -> Suite:
    """Deploys (or reuses) the suite on the connected chain from `signer` (who holds every role
    afterwards), records it, and returns web3 handles on it."""
    directory = Path(directory or DEPLOYMENTS_DIR)
    chain_id = w3.eth.chain_id
    deployment = load_deployment(chain_id, directory) or Deployment(chain_id=chain_id, network=network_name)
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
        if not w3.eth.get_code(terms.currency_address):
            raise DeploymentError(
                f"bond config: currency_address: no contract at {terms.currency_address} on chain {chain_id}"
            )
        currency_address = terms.currency_address
    documents = [(d, document_name(d.name), document_hash(d.path) if d.path else None) for d in terms.documents]
    for doc, _, digest in documents:
        if digest is None:
            raise DeploymentError(f"document {doc.name}: only repository files can be hashed, not {doc.uri}")

    # until the end, a deployment file written after a new contract says "not complete"
    me = signer.address
    if verifier is not None and (not Web3.is_address(verifier) or Web3.to_checksum_address(verifier) == me):
        raise DeploymentError(f"--verifier {verifier}: must be an address other than the deployer's "
                              "(the deployer issues the carbon credits; their verifier is someone else)")
    deployment.complete = False

    def ensure(name: str, args: list):
        return ensure_deployed(w3, deployment, name, name, args, signer, log=log, directory=directory,
                               build_dir=build_dir)

    def send(fn) -> dict:
        return transact(w3, fn, signer)

    if development:
        settlement = ensure("SettlementToken", [SETTLEMENT_NAME, SETTLEMENT_SYMBOL, me])
        currency_address = settlement.address
    else:
        # an existing deposit token or stablecoin: the bond's currency()
        settlement = w3.eth.contract(address=Web3.to_checksum_address(currency_address), abi=load_abi("SettlementToken"))
        deployment.contracts.pop("SettlementToken", None)
    registry = ensure("HolderRegistry", [me])
    bond = ensure("GreenBond", [terms.contract_terms(currency_address), registry.address, me])
    if bond.address not in registry.functions.cachingTokens().call():
        # the registry tells the bond of every update and removal, so the bond may keep each
        # receiver's expiry instead of asking the registry on every transfer
        send(registry.functions.addCachingToken(bond.address))
        log("  the HolderRegistry tells the GreenBond of every holder update and removal (it caches eligibility)")
    schedule = ensure(
        "CouponSchedule",
        [bond.address, me, me, terms.utc_offset_seconds, terms.call_notice_days * 86_400],
    )
    redemption_role = bond.functions.REDEMPTION_ROLE().call()
    if not bond.functions.hasRole(redemption_role, schedule.address).call():
        # the schedule burns redeemed free units and sets a call date; it gets no other power
        send(bond.functions.grantRole(redemption_role, schedule.address))
        log("  granted REDEMPTION_ROLE on the bond to the CouponSchedule (it burns redeemed units)")

    oracle = ensure("ImpactOracle", [me, ORACLE_HEARTBEAT, bond.address])
    if development:
        from greenbond.oracle import setup as oracle_setup

        oracle_setup.configure_oracle(
            w3, oracle, signer,
            facilities=oracle_setup.load_facilities(),
            methodology_path=oracle_setup.DEFAULT_METHODOLOGY,
            signers=[k.address for k in oracle_setup.dev_signer_keys()],
            threshold=oracle_setup.DEV_THRESHOLD,
            transmitter=transmitter or me,
            log=log,
        )
    if bond.functions.impactOracle().call() != oracle.address:
        send(bond.functions.setImpactOracle(oracle.address))
        log(f"  the bond reports impact from the ImpactOracle at {oracle.address}")

    ct = terms.credits
    credits = ensure("CarbonCredits", [me, oracle.address, registry.address if ct.gated else ZERO_ADDRESS,
                                       ct.min_coverage_ppm, ct.uri])
    if verifier is None and development:
        verifier = w3.eth.accounts[DEV_VERIFIER_ACCOUNT]
    if verifier is not None:
        verifier = Web3.to_checksum_address(verifier)
        verifier_role = credits.functions.VERIFIER_ROLE().call()
        if not credits.functions.hasRole(verifier_role, verifier).call():
            send(credits.functions.grantRole(verifier_role, verifier))
            log(f"  granted VERIFIER_ROLE on the CarbonCredits to {verifier} (it approves batches; never the issuer)")

    for doc, name32, digest in documents:
        try:
            uri, onchain_hash, _ = bond.functions.getDocument(name32).call()
        except Exception:  # noqa: BLE001 - GreenBondUnknownDocument
            uri, onchain_hash = None, None
        if uri == doc.uri and bytes(onchain_hash) == digest:
            continue
        send(bond.functions.setDocument(name32, doc.uri, digest))
        log(f"  document {doc.name} -> {doc.uri} (keccak256 0x{digest.hex()[:16]}...)")

    deployment.complete = True
    save_deployment(deployment, directory)
    return Suite(w3=w3, deployment=deployment, settlement=settlement, registry=registry, bond=bond,
                 schedule=schedule, oracle=oracle, credits=credits)


def ensure_deployed(w3: Web3, deployment: Deployment, name: str, contract_name: str, args: list, signer: Signer, *,
                    log: Log = print, directory: Path | None = None, build_dir: Path = BUILD_DIR):
    """The reuse rule, for every contract the tooling deploys: the contract recorded as `name` is
    reused when its build (bytecode hash) and constructor arguments are the same as now and the
    chain still holds it (its code at the address, its deploy transaction in its block);
    otherwise `contract_name` is deployed from the build with `args` and recorded (the file
    written atomically). Returns a web3 contract."""
    build = load_build(contract_name, build_dir)
    build_hash = hex_hash(build["bytecode"])
    rec = deployment.contracts.get(name)
    if reusable(w3, rec, build_hash, args):
        log(f"  {name:<16} reused    {rec.address} (block {rec.block})")
        return w3.eth.contract(address=Web3.to_checksum_address(rec.address), abi=build["abi"])
    contract, receipt = deploy_contract(w3, contract_name, args, signer, build_dir=build_dir)
    deployment.contracts[name] = ContractRecord(
        address=contract.address,
        block=receipt["blockNumber"],
        tx_hash="0x" + bytes(receipt["transactionHash"]).hex().removeprefix("0x"),
        codehash=hex_hash(bytes(w3.eth.get_code(contract.address))),
        build_hash=build_hash,
        args_hash=args_hash(args),
    )
    save_deployment(deployment, Path(directory or DEPLOYMENTS_DIR))
    log(f"  {name:<16} deployed  {contract.address} (block {receipt['blockNumber']}, gas {receipt['gasUsed']:,})")
    return contract


def describe_bond(bond, terms: BondTerms) -> list[str]:
    """Human-readable lines of the bond's terms as the chain reports them (`bond`: a web3 contract)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(terms.timezone)

    def day(ts: int) -> str:
        return dt.datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d")

    def get(name: str):
        return getattr(bond.functions, name)().call()

    rate = get("couponRate")
    dates = get("couponDates")
    return [
        f"  Name              {get('name')} ({get('symbol')})",
        f"  ISIN              {get('isin')}  (placeholder: the real ISIN is not in our sources)",
        f"  Issuer            {terms.issuer}",
        f"  Issue volume      {terms.currency} {get('issueVolume'):,} = {get('maxSupply'):,} units of {terms.currency} {get('denomination'):,}",
        f"  Coupon            {rate / 10_000:.3f}% a year ({rate} ppm), fixed, {get('couponFrequency')} payments a year, {terms.day_count}",
        f"  Issue / maturity  {day(get('issueDate'))} / {day(get('maturityDate'))} ({terms.timezone})",
        f"  Coupon dates      {', '.join(day(d) for d in dates)}",
        f"  Redemption        at par",
        f"  Use of proceeds   {terms.use_of_proceeds}",
        f"  Outstanding       {get('totalSupply'):,} units",
        f"  Settlement token  {get('currency')}",
        f"  Registry          {get('registry')}",
    ]


__all__ = ["Suite", "deploy_suite", "describe_bond", "document_hash", "document_name", "ensure_deployed", "REPO_ROOT"]
