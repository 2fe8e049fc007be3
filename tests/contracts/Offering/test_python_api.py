"""greenbond.offering (the demo's Python API) and `python -m greenbond offering|dvp` on the test
chain: deploy_offering/deploy_dvp record and reuse, run_offering runs an oversubscribed offering
end to end (moving the dev chain's clock itself), open_dvp_offer/accept_dvp_offer trade, and the
CLI prints sentences and exits 1 on a user error."""

import json
import re

import pytest
from brownie import chain, web3

from greenbond import offering as off
from greenbond.chain.tx import Signer
from greenbond.cli import main as cli
from greenbond.deployments import ContractRecord, Deployment, hex_hash, load_deployment, save_deployment

DAY = 86_400
PAR = 1_000_000


@pytest.fixture
def deployments(tmp_path, bond):
    """A deployments directory naming the conftest bond, as deploy_suite would have left it."""
    tx = bond.tx
    dep = Deployment(chain_id=web3.eth.chain_id, network="test", contracts={"GreenBond": ContractRecord(
        address=bond.address, block=tx.block_number, tx_hash=tx.txid,
        codehash=hex_hash(bytes(web3.eth.get_code(bond.address))), build_hash="0x", args_hash="0x")})
    save_deployment(dep, tmp_path)
    return tmp_path


def w3(contract):
    """The web3 handle greenbond.offering takes, on a Brownie contract's address."""
    return web3.eth.contract(address=contract.address, abi=contract.abi)


def node_now() -> int:
    """The node's clock: transactions sent over web3 mine blocks Brownie's chain.time() does not see."""
    return web3.eth.get_block("latest")["timestamp"]


def _sync_clock():
    """run_offering moves the node's clock with evm_increaseTime; tell Brownie (fn_isolation reverts both)."""
    ahead = web3.eth.get_block("latest")["timestamp"] - chain.time()
    if ahead > 0:
        chain.sleep(ahead)


def test_deploy_offering_records_and_reuses(deployments, bond, admin, issuer_wallet):
    now = chain.time()
    terms = off.default_terms(bond, issuer_wallet.address, open_time=now + DAY, close_time=now + 2 * DAY,
                              settlement_date=now + 3 * DAY, units_offered=600)
    assert terms.price_per_unit == PAR and terms.max_units == 600 and terms.min_units == 1
    logs = []
    o = off.deploy_offering(web3, w3(bond), terms, Signer(admin.address), log=logs.append, directory=deployments)
    assert bond.hasRole(bond.MINTER_ROLE(), o.address)
    for role in ("AGENT_ROLE", "BURNER_ROLE", "FREEZER_ROLE", "FORCED_TRANSFER_ROLE", "RECOVERY_ROLE", "REDEMPTION_ROLE"):
        assert not bond.hasRole(getattr(bond, role)(), o.address)   # the Offering can only mint
    rec = load_deployment(web3.eth.chain_id, deployments).contracts["Offering"]
    assert rec.address == o.address
    again = off.deploy_offering(web3, w3(bond), terms, Signer(admin.address), log=logs.append, directory=deployments)
    assert again.address == o.address and "reused" in logs[-1]
    d = off.deploy_dvp(web3, w3(bond), Signer(admin.address), log=logs.append, directory=deployments)
    assert bond.hasRole(bond.LOCKER_ROLE(), d.address)
    assert off.deploy_dvp(web3, w3(bond), Signer(admin.address), log=logs.append, directory=deployments).address == d.address
    with pytest.raises(off.OfferingError, match="close after it opens"):
        off.deploy_offering(web3, w3(bond), off.OfferingTerms(now + 2, now + 1, now + 3, 1, 1, 1, 1, admin.address),
                            Signer(admin.address), directory=deployments)


def test_run_offering_and_trade(deployments, bond, settlement, registry, register, admin, issuer_wallet, alice, bob, carol, dave):
    for n, w in enumerate((alice, bob, carol, dave), start=1):
        if not registry.isEligible(w):
            register(w, n)
    now = chain.time()
    terms = off.default_terms(bond, issuer_wallet.address, open_time=now + DAY, close_time=now + 2 * DAY,
                              settlement_date=now + 3 * DAY, units_offered=500, max_units=400)
    off.deploy_offering(web3, w3(bond), terms, Signer(admin.address), log=lambda m: None, directory=deployments)
    investors = [(alice.address, 333), (bob.address, 333), (carol.address, 334)]
    summary = off.run_offering(web3, None, investors, batch=2, log=lambda m: None, directory=deployments)
    _sync_clock()
    assert summary.state == "Settled" and summary.pro_rata
    assert [r["allotted"] for r in summary.investors] == [166, 166, 167]
    assert [r["paid"] for r in summary.investors] == [166 * PAR, 166 * PAR, 167 * PAR]
    assert [r["refunded"] for r in summary.investors] == [167 * PAR, 167 * PAR, 167 * PAR]
    assert summary.units_issued == 499 and summary.cash_raised == 499 * PAR
    assert set(summary.gas) == {"subscribe", "allot", "settle"}
    assert settlement.balanceOf(issuer_wallet) == 499 * PAR
    assert [bond.balanceOf(w) for w in (alice, bob, carol)] == [166, 166, 167]
    # resumable: a second run does nothing more
    again = off.run_offering(web3, None, investors, log=lambda m: None, directory=deployments)
    assert again.units_issued == 499 and again.gas == {}

    off.deploy_dvp(web3, w3(bond), Signer(admin.address), log=lambda m: None, directory=deployments)
    tid = off.open_dvp_offer(web3, None, alice.address, "any", 66, 70 * PAR, node_now() + DAY, directory=deployments)
    assert tid == 0 and bond.escrowedOf(alice) == 66
    settlement.mint(dave, 70 * PAR, {"from": admin})
    off.accept_dvp_offer(web3, None, dave.address, tid, directory=deployments)
    assert bond.balanceOf(dave) == 66 and bond.balanceOf(alice) == 100
    h = off.handles(web3, directory=deployments)
    assert off.list_trades(web3, h.dvp)[0]["status"] == "Settled"
    with pytest.raises(off.OfferingError, match="is offered to someone else|has only"):
        off.open_dvp_offer(web3, None, alice.address, bob.address, 1_000, 1, node_now() + DAY, directory=deployments)


def _cli(capsys, *argv):
    code = cli(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli(deployments, bond, settlement, registry, register, admin, alice, bob, outsider, capsys, accounts):
    for n, w in ((1, alice), (2, bob)):
        if not registry.isEligible(w):
            register(w, n)
    rpc = ["--rpc", web3.provider.endpoint_uri, "--deployments-dir", str(deployments)]
    now = chain.time()
    code, out, err = _cli(capsys, "offering", "open", *rpc, "--open", str(now + 3600), "--close", "+2d",
                          "--settle", str(now + 3 * DAY), "--units", "300", "--max", "200", "--deadline", "+10d")
    assert code == 0, err
    assert "300 units at 1,000,000" in out and "refundable if unsettled from" in out
    assert json.loads(_cli(capsys, "offering", "status", *rpc, "--json")[1])["terms"]["settlement_deadline"] == now + 13 * DAY
    code, out, err = _cli(capsys, "offering", "status", *rpc)
    assert code == 0 and "state Pending" in out
    code, out, err = _cli(capsys, "offering", "subscribe", *rpc, "--account", "3", "--units", "5")
    assert code == 1 and err.startswith("error: the offering is Pending, which does not allow this")
    chain.sleep(3600)
    chain.mine()
    idx = {w.address: i for i, w in enumerate(accounts)}
    code, out, err = _cli(capsys, "offering", "subscribe", *rpc, "--account", str(idx[alice.address]), "--units", "150", "--fund")
    assert code == 0, err
    code, out, err = _cli(capsys, "offering", "subscribe", *rpc, "--account", str(idx[alice.address]), "--units", "51")
    assert code == 1 and "between 1 and 200 units per investor; this one would total 201" in err
    code, out, err = _cli(capsys, "offering", "subscribe", *rpc, "--account", str(idx[outsider.address]), "--units", "1", "--fund")
    assert code == 1 and "is not an eligible holder" in err
    code, out, err = _cli(capsys, "offering", "allot", *rpc)
    assert code == 1 and "the offering is Open" in err
    chain.sleep(2 * DAY)
    chain.mine()
    code, out, err = _cli(capsys, "offering", "allot", *rpc, "--account", "1")
    assert code == 1 and "lacks the role" in err
    assert _cli(capsys, "offering", "allot", *rpc)[0] == 0
    code, out, err = _cli(capsys, "offering", "settle", *rpc)
    assert code == 1 and "too early" in err
    chain.sleep(DAY)
    chain.mine()
    code, out, err = _cli(capsys, "offering", "settle", *rpc, "--batch", "1")
    assert code == 0 and "state Settled" in out, err
    assert bond.balanceOf(alice) == 150
    code, out, err = _cli(capsys, "offering", "status", *rpc, "--json")
    assert json.loads(out)["units_settled"] == 150

    code, out, err = _cli(capsys, "dvp", "offer", *rpc, "--account", str(idx[alice.address]), "--to", bob.address,
                          "--units", "10", "--price", "9000000", "--expiry", "+1d")
    assert code == 0 and re.search(r"BondDvP +deployed", out) and "\ntrade 0: 10 units offered" in out, err
    code, out, err = _cli(capsys, "dvp", "accept", *rpc, "--account", str(idx[outsider.address]), "--id", "0")
    assert code == 1 and "is offered to someone else" in err
    settlement.mint(bob, 9_000_000, {"from": admin})
    code, out, err = _cli(capsys, "dvp", "accept", *rpc, "--account", str(idx[bob.address]), "--id", "0")
    assert code == 0 and "Settled" in out, err
    code, out, err = _cli(capsys, "dvp", "list", *rpc)
    assert "Settled" in out and "10 units for 9,000,000" in out
    code, out, err = _cli(capsys, "dvp", "accept", *rpc, "--account", str(idx[bob.address]), "--id", "5")
    assert code == 1 and "there is no trade 5" in err
    assert bond.balanceOf(bob) == 10 and bond.balanceOf(alice) == 140
