"""greenbond.deploy (plain web3, as `greenbond deploy` and scripts/deploy.py run it): validate
first, record every contract, reuse only what the chain holds."""

import json
from dataclasses import replace

import pytest
from brownie import accounts, web3

from greenbond.chain import tx as chain_tx
from greenbond.chain.tx import Signer
from greenbond.deploy import deploy_suite, document_hash, document_name
from greenbond.deployments import DeploymentError, load_deployment



def read(contract, name, *args):
    return getattr(contract.functions, name)(*args).call()


@pytest.fixture
def deploy(hitachi_terms, tmp_path):
    lines = []

    def _deploy(terms=hitachi_terms, development=True):
        lines.clear()
        return deploy_suite(
            web3, Signer(accounts[0].address), terms,
            network_name="test", development=development,
            log=lines.append, directory=tmp_path,
        )

    _deploy.lines = lines
    _deploy.dir = tmp_path
    return _deploy


@pytest.mark.compat  # the Ganache compatibility suite (make test-ganache)
def test_deploys_records_and_registers_documents(deploy, hitachi_terms):
    suite = deploy()
    dep = load_deployment(web3.eth.chain_id, directory=deploy.dir)
    assert dep.complete
    assert set(dep.contracts) == {"SettlementToken", "HolderRegistry", "GreenBond", "CouponSchedule", "ImpactOracle",
                                  "CarbonCredits"}
    rec = dep.contracts["GreenBond"]
    assert rec.address == suite.bond.address
    assert web3.eth.get_transaction(rec.tx_hash)["blockNumber"] == rec.block
    assert read(suite.bond, "currency") == suite.settlement.address
    assert read(suite.bond, "registry") == suite.registry.address
    assert read(suite.schedule, "bond") == suite.bond.address
    assert read(suite.bond, "hasRole", read(suite.bond, "REDEMPTION_ROLE"), suite.schedule.address)
    for role in ("AGENT_ROLE", "MINTER_ROLE", "BURNER_ROLE", "FREEZER_ROLE", "FORCED_TRANSFER_ROLE", "RECOVERY_ROLE"):
        assert not read(suite.bond, "hasRole", read(suite.bond, role), suite.schedule.address)  # only redemption
    assert read(suite.schedule, "utcOffset") == 9 * 3600
    assert read(suite.schedule, "couponCount") == 10
    assert read(suite.bond, "impactOracle") == suite.oracle.address
    assert read(suite.oracle, "facilityCount") == 2
    assert read(suite.oracle, "methodologyCount") == 1
    signers, threshold = read(suite.oracle, "signerSet", read(suite.oracle, "signerSetVersion"))
    assert (len(signers), threshold) == (3, 2)
    assert read(suite.oracle, "hasRole", read(suite.oracle, "TRANSMITTER_ROLE"), accounts[0].address)
    # the credits: issued from this oracle, gated by this registry, verified by account 7 (not the issuer)
    assert read(suite.credits, "oracle") == suite.oracle.address
    assert read(suite.credits, "registry") == suite.registry.address
    verifier = read(suite.credits, "VERIFIER_ROLE")
    assert read(suite.credits, "hasRole", verifier, accounts[7].address)
    assert not read(suite.credits, "hasRole", verifier, accounts[0].address)
    assert read(suite.credits, "hasRole", read(suite.credits, "ISSUER_ROLE"), accounts[0].address)
    for doc in hitachi_terms.documents:
        uri, digest, _ = read(suite.bond, "getDocument", document_name(doc.name))
        assert uri == doc.uri
        assert bytes(digest) == document_hash(doc.path)


@pytest.mark.compat  # the Ganache compatibility suite (make test-ganache)
def test_second_run_reuses_everything(deploy):
    first = deploy()
    block = web3.eth.block_number
    second = deploy()
    assert web3.eth.block_number == block  # not one transaction sent
    assert second.bond.address == first.bond.address
    assert all("reused" in line for line in deploy.lines)


def test_changed_terms_redeploy_only_the_bond(deploy, hitachi_terms):
    first = deploy()
    second = deploy(replace(hitachi_terms, name="Another Green Bond"))
    assert second.registry.address == first.registry.address
    assert second.settlement.address == first.settlement.address
    assert second.bond.address != first.bond.address
    assert read(second.bond, "name") == "Another Green Bond"


def test_record_without_code_on_chain_is_redeployed(deploy):
    first = deploy()
    path = deploy.dir / f"{web3.eth.chain_id}.json"
    raw = json.loads(path.read_text())
    raw["contracts"]["HolderRegistry"]["address"] = accounts[7].address  # no code there
    path.write_text(json.dumps(raw))
    second = deploy()
    assert second.registry.address not in (accounts[7].address, first.registry.address)
    assert second.bond.address != first.bond.address  # its constructor names the registry


@pytest.mark.compat  # the Ganache compatibility suite (make test-ganache)
def test_interrupted_run_resumes(deploy, monkeypatch):
    real_deploy = chain_tx.deploy_contract

    def crash_at_the_bond(w3, name, *args, **kwargs):
        if name == "GreenBond":
            raise RuntimeError("node went away")
        return real_deploy(w3, name, *args, **kwargs)

    monkeypatch.setattr("greenbond.deploy.deploy_contract", crash_at_the_bond)
    with pytest.raises(RuntimeError):
        deploy()
    dep = load_deployment(web3.eth.chain_id, directory=deploy.dir)
    assert not dep.complete
    assert set(dep.contracts) == {"SettlementToken", "HolderRegistry"}
    monkeypatch.setattr("greenbond.deploy.deploy_contract", real_deploy)
    suite = deploy()
    assert suite.registry.address == dep.contracts["HolderRegistry"].address
    assert load_deployment(web3.eth.chain_id, directory=deploy.dir).complete


@pytest.mark.compat  # the Ganache compatibility suite (make test-ganache)
def test_live_network_needs_a_settlement_token_before_any_transaction(deploy, hitachi_terms):
    block = web3.eth.block_number
    with pytest.raises(DeploymentError, match="currency_address: required"):
        deploy(development=False)
    with pytest.raises(DeploymentError, match="no contract at"):
        deploy(replace(hitachi_terms, currency_address=accounts[8].address), development=False)
    assert web3.eth.block_number == block


def test_live_network_uses_the_given_settlement_token(deploy, hitachi_terms, settlement):
    suite = deploy(replace(hitachi_terms, currency_address=settlement.address), development=False)
    assert read(suite.bond, "currency") == settlement.address
    assert "SettlementToken" not in load_deployment(web3.eth.chain_id, directory=deploy.dir).contracts
