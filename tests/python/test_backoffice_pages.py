"""The issuer back office (backoffice/) with streamlit.testing.v1.AppTest against a demo-like
chain (tests.helpers.pageview_fixture: a private Anvil on a free port, the suite deployed, five
investors registered with details sealed to a fresh issuer key, coupons paid to the present).

Every page refuses to show anything without a login; a wrong password is refused; after login
the register shows the investors' names and the audit log holds an `open_personal_details`
entry; an account whose address lacks its role on chain is refused; an agent registers a holder
whose sealed details open with the issuer key.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher, Type
from streamlit.testing.v1 import AppTest
from web3 import Web3

from greenbond.backoffice.audit import AuditLog
from greenbond.backoffice.auth import AuthStore
from greenbond.backoffice.views import DEV_AGENT_KEY
from tests.helpers.pageview_fixture import INVESTORS, DemoLikeChain, personal_details

BACKOFFICE = Path(__file__).resolve().parents[2] / "backoffice"
PAGES = ["1_Register.py", "2_Offering_and_DvP.py", "3_Holders.py", "4_Documents.py", "5_Audit_log.py"]
TIMEOUT = 120
PASSWORD = "a long and secret passphrase"
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    chain = DemoLikeChain.build(tmp_path_factory.mktemp("backoffice-chain"))
    try:
        yield chain
    finally:
        chain.stop()


@pytest.fixture()
def env(demo, tmp_path, monkeypatch):
    accounts = tmp_path / "backoffice" / "accounts.json"
    store = AuthStore(accounts, hasher=FAST)
    issuer = demo.accounts[0]                                   # the deployer holds every role on the demo chain
    store.add("agent1", PASSWORD, "agent", issuer)
    store.add("issuer1", PASSWORD, "issuer", issuer)
    store.add("outsider", PASSWORD, "agent", demo.accounts[8])   # no role on chain
    key_file = tmp_path / "agent.key"
    key_file.write_text(DEV_AGENT_KEY + "\n")
    key_file.chmod(0o600)
    monkeypatch.setenv("GREENBOND_RPC_URL", demo.anvil.url)
    monkeypatch.setenv("GREENBOND_DEPLOYMENTS", str(demo.deployments_dir))
    monkeypatch.setenv("GREENBOND_ISSUER_KEY", str(demo.issuer_key))
    monkeypatch.setenv("GREENBOND_BACKOFFICE_ACCOUNTS", str(accounts))
    monkeypatch.setenv("GREENBOND_AGENT_KEY", str(key_file))
    return demo, AuditLog(accounts.with_name("audit.jsonl"))


def texts(at: AppTest) -> str:
    parts = [e.value for kind in (at.error, at.warning, at.info, at.success, at.markdown, at.caption) for e in kind]
    return "\n".join(str(p) for p in parts)


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def login(user: str, password: str = PASSWORD) -> AppTest:
    at = run(AppTest.from_file(str(BACKOFFICE / "Home.py"), default_timeout=TIMEOUT))
    at.text_input[0].input(user)
    at.text_input[1].input(password)
    at.button[0].click()
    return run(at)


def open_page(at: AppTest, name: str) -> AppTest:
    at.switch_page(f"pages/{name}")
    return run(at)


@pytest.fixture()
def key_reads(monkeypatch) -> list[str]:
    """Every read of an issuer key file in this process (AppTest runs the scripts in-process)."""
    import greenbond.holders as holders

    reads: list[str] = []
    real = holders._read_key_file

    def spy(path, kinds):
        reads.append(str(path))
        return real(path, kinds)

    monkeypatch.setattr(holders, "_read_key_file", spy)
    return reads


@pytest.mark.parametrize("name", PAGES)
def test_pages_refuse_without_login(env, key_reads, name):
    at = run(AppTest.from_file(str(BACKOFFICE / "pages" / name), default_timeout=TIMEOUT))
    assert "log in on the Home page first" in texts(at)
    assert not at.dataframe and not at.metric
    assert not any(n in texts(at) for _, _, n, _ in INVESTORS)
    assert "open_personal_details" not in env[1].actions()
    assert key_reads == []                                      # the issuer key is not even opened


def test_wrong_password_refused(env, key_reads):
    at = login("agent1", "not the password at all")
    assert [e.value for e in at.error] == ["Wrong user name or password."]
    at = open_page(at, "1_Register.py")
    assert "log in on the Home page first" in texts(at) and not at.dataframe
    assert env[1].actions() == ["login_failed"]
    assert key_reads == []


def test_home_after_login_names_the_role_and_the_chain_confirms_it(env):
    at = login("agent1")
    body = texts(at)
    assert "Logged in as **agent1**, acting as **agent** (REGISTRAR_ROLE of HolderRegistry)" in body
    assert f"{env[0].accounts[0]} holds REGISTRAR_ROLE of HolderRegistry on chain." in body


def test_register_with_personal_details_after_login_is_audited(env, key_reads):
    demo, audit = env
    at = login("issuer1")
    assert key_reads == []                                      # logging in does not open it either
    at = open_page(at, "1_Register.py")
    assert key_reads == [str(demo.issuer_key)]                  # the register does, after login
    assert not at.error, [e.value for e in at.error]
    table = at.dataframe[0].value
    assert set(table["name"]) == {n for _, _, n, _ in INVESTORS}
    assert "Sakura Life Insurance Co. (fictitious)" in set(table["name"])
    assert set(table["tax category"]) == {"corporation"}
    assert set(zip(table["postal address"], table["email"])) == {personal_details(i) for i, *_ in INVESTORS}
    metric = {m.label: m.value for m in at.metric}
    assert metric["Holders"] == "5"
    assert metric["Units"] == f"{demo.contract('GreenBond').functions.totalSupply().call():,}"
    opened = [e for e in audit.entries() if e.action == "open_personal_details"]
    assert len(opened) == 1 and opened[0].user == "issuer1" and opened[0].details["holders"] == 5
    log = audit.path.read_text()
    secrets = [n for _, _, n, _ in INVESTORS] + [s for i, *_ in INVESTORS for s in personal_details(i)]
    assert not any(s in log for s in secrets)


def test_register_without_details_is_not_an_opening(env):
    at = open_page(login("issuer1"), "1_Register.py")
    at.checkbox[1].uncheck()
    run(at)
    assert set(at.dataframe[0].value["name"]) == {""}
    assert [e.action for e in env[1].entries()].count("open_personal_details") == 1   # the first render only


def test_account_without_its_role_on_chain_is_refused(env):
    at = login("outsider")
    assert "does NOT hold REGISTRAR_ROLE" in texts(at)
    at = open_page(at, "1_Register.py")
    assert "does not hold REGISTRAR_ROLE of HolderRegistry" in " ".join(e.value for e in at.error)
    assert not at.dataframe and "open_personal_details" not in env[1].actions()


def test_agent_registers_a_holder_with_sealed_details(env):
    from greenbond.holders import load_issuer_private_key, unseal

    demo, audit = env
    wallet = demo.accounts[7]
    at = open_page(login("agent1"), "3_Holders.py")
    at.text_input[0].input(wallet)
    at.text_input[1].input("CUST-0099")
    at.text_input[2].input("Aoi Tanaka (fictitious)")
    at.text_area[0].input("9-9 Kita-ku, Sapporo")
    at.text_input[3].input("aoi@example.jp")
    at.button[0].click()
    run(at)
    assert not at.error, [e.value for e in at.error]
    assert "Registered " + wallet in " ".join(s.value for s in at.success)
    registry = demo.contract("HolderRegistry")
    assert registry.functions.isEligible(wallet).call()
    # the sealed details are in the registration's event; the record keeps their keccak256
    event = registry.events.HolderRegistered.get_logs(from_block=0, argument_filters={"wallet": wallet})[-1]
    blob = bytes(event["args"]["encryptedInfo"])
    assert registry.functions.holderOf(wallet).call()[5] == Web3.keccak(blob)
    details = unseal(blob, load_issuer_private_key(demo.issuer_key))
    assert (details.name, details.address, details.email) == ("Aoi Tanaka (fictitious)", "9-9 Kita-ku, Sapporo",
                                                              "aoi@example.jp")
    entry = [e for e in audit.entries() if e.action == "register_holder"][-1]
    assert entry.user == "agent1" and entry.details["wallet"] == wallet
    assert "Aoi" not in audit.path.read_text()
    # the same wallet again: a sentence, no second transaction
    at.button[0].click()
    run(at)
    assert "registered already" in " ".join(e.value for e in at.error)


def test_issuer_cannot_register_holders(env):
    at = open_page(login("issuer1"), "3_Holders.py")
    assert "the agent's task" in texts(at) and not at.text_input


def test_offering_documents_and_audit_pages(env):
    at = login("agent1")
    offering = open_page(at, "2_Offering_and_DvP.py")
    assert not offering.error, [e.value for e in offering.error]
    assert "Secondary market (DvP)" in "\n".join(s.value for s in offering.subheader)
    docs = open_page(at, "4_Documents.py")
    assert not docs.error, [e.value for e in docs.error]
    log = open_page(at, "5_Audit_log.py")
    actions = list(log.dataframe[0].value["action"])
    assert actions[0] == "login" and "view_audit_log" in env[1].actions()
