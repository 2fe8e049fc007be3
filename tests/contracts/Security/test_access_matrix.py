"""Access-control matrix: every state-changing function of the seven contracts, called from every role.

The functions are enumerated from each contract's ABI (every function that is not view or pure),
so a new function without a row in MATRIX fails `test_matrix_covers_every_function`.

Each cell is checked with an eth_call from that role's account against one deployment in which
every role is held by a different account (as greenbond.deploy grants them: the issuer also holds
every agent role on the bond, REGISTRAR_ROLE on the registry and ALLOTTER_ROLE on the offering):

    Y  allowed: the call succeeds or reverts for a business rule (wrong state, nothing owed, ...)
    .  denied: it reverts with AccessControlUnauthorizedAccount, or the contract's own caller
       check (DENY_ERRORS: BondDvP's agent, buyer and seller checks, GreenBond's applicant and
       registry checks)

Roles (columns):
    admin     the issuer: DEFAULT_ADMIN_ROLE everywhere (plus the grants above)
    agent     every agent role on the bond (AGENT_ROLE: approves transfers and DvP trades, cancels
              trades; MINTER, BURNER, FREEZER, FORCED_TRANSFER and RECOVERY roles)
    registrar REGISTRAR_ROLE on the holder registry
    payer     PAYING_AGENT_ROLE on the coupon schedule; VERIFIER_ROLE on the carbon credits (an
              account apart from the issuer, who holds ISSUER_ROLE; the agent holds AGENT_ROLE)
    transm    TRANSMITTER_ROLE on the impact oracle
    allot     ALLOTTER_ROLE on the offering
    holder    a registered holder with units: the seller of DvP trade 0 and the applicant of
              transfer application 0
    outsider  no role, never registered

LOCKER_ROLE is held only by the BondDvP contract, so lockUnits/unlockUnits/transferLocked deny
every person; REDEMPTION_ROLE only by the CouponSchedule, so redeemUnits/setCallDate deny every
person; the Offering holds only MINTER_ROLE. The DvP's accept is open to anyone but the seller (trade 0 is offered to anyone).
"""

import pytest
import datetime as dt

from brownie import ZERO_ADDRESS, BondDvP, CarbonCredits, CouponSchedule, ImpactOracle, Offering, chain
from brownie.exceptions import VirtualMachineError

from greenbond.impact.methodology import fiscal_year
from greenbond.oracle.setup import methodology_args

DAY = 86_400
HOUR = 3_600
ROLES = ["admin", "agent", "registrar", "payer", "transm", "allot", "holder", "outsider"]

MATRIX = """
contract        function                      admin agent registrar payer transm allot holder outsider
GreenBond       addRecordDate                   Y     .      .        .     .      .     .      .
GreenBond       applyForTransfer                Y     Y      Y        Y     Y      Y     Y      Y
GreenBond       approve                         Y     Y      Y        Y     Y      Y     Y      Y
GreenBond       approveTransfer                 Y     Y      .        .     .      .     .      .
GreenBond       batchMint                       Y     Y      .        .     .      .     .      .
GreenBond       burn                            Y     Y      .        .     .      .     .      .
GreenBond       clearEligibility                .     .      .        .     .      .     .      .
GreenBond       cancelTransfer                  Y     Y      .        .     .      .     Y      .
GreenBond       forcedTransfer                  Y     Y      .        .     .      .     .      .
GreenBond       freezePartialTokens             Y     Y      .        .     .      .     .      .
GreenBond       grantRole                       Y     .      .        .     .      .     .      .
GreenBond       lockUnits                       .     .      .        .     .      .     .      .
GreenBond       mint                            Y     Y      .        .     .      .     .      .
GreenBond       pause                           Y     .      .        .     .      .     .      .
GreenBond       recoveryAddress                 Y     Y      .        .     .      .     .      .
GreenBond       redeemUnits                     .     .      .        .     .      .     .      .
GreenBond       removeDocument                  Y     .      .        .     .      .     .      .
GreenBond       renounceRole                    Y     Y      Y        Y     Y      Y     Y      Y
GreenBond       revokeRole                      Y     .      .        .     .      .     .      .
GreenBond       setAddressFrozen                Y     Y      .        .     .      .     .      .
GreenBond       setCallDate                     .     .      .        .     .      .     .      .
GreenBond       setDocument                     Y     .      .        .     .      .     .      .
GreenBond       setImpactOracle                 Y     .      .        .     .      .     .      .
GreenBond       setTransferApprovalRequired     Y     .      .        .     .      .     .      .
GreenBond       setTransferable                 Y     .      .        .     .      .     .      .
GreenBond       transfer                        Y     Y      Y        Y     Y      Y     Y      Y
GreenBond       transferFrom                    Y     Y      Y        Y     Y      Y     Y      Y
GreenBond       transferLocked                  .     .      .        .     .      .     .      .
GreenBond       unfreezePartialTokens           Y     Y      .        .     .      .     .      .
GreenBond       unlockUnits                     .     .      .        .     .      .     .      .
GreenBond       unpause                         Y     .      .        .     .      .     .      .
HolderRegistry  addCachingToken                 Y     .      .        .     .      .     .      .
HolderRegistry  grantRole                       Y     .      .        .     .      .     .      .
HolderRegistry  registerHolder                  Y     .      Y        .     .      .     .      .
HolderRegistry  removeHolder                    Y     .      Y        .     .      .     .      .
HolderRegistry  renounceRole                    Y     Y      Y        Y     Y      Y     Y      Y
HolderRegistry  revokeRole                      Y     .      .        .     .      .     .      .
HolderRegistry  updateHolder                    Y     .      Y        .     .      .     .      .
CouponSchedule  callBond                        Y     .      .        .     .      .     .      .
CouponSchedule  claimAll                        Y     Y      Y        Y     Y      Y     Y      Y
CouponSchedule  claimCoupon                     Y     Y      Y        Y     Y      Y     Y      Y
CouponSchedule  claimCouponOf                   Y     Y      Y        Y     Y      Y     Y      Y
CouponSchedule  distributeCoupon                .     .      .        Y     .      .     .      .
CouponSchedule  flagLate                        Y     Y      Y        Y     Y      Y     Y      Y
CouponSchedule  fundCoupon                      .     .      .        Y     .      .     .      .
CouponSchedule  fundRedemption                  .     .      .        Y     .      .     .      .
CouponSchedule  grantRole                       Y     .      .        .     .      .     .      .
CouponSchedule  reclaimUnclaimed                .     .      .        Y     .      .     .      .
CouponSchedule  recordOffchainPayment           .     .      .        Y     .      .     .      .
CouponSchedule  redeem                          Y     Y      Y        Y     Y      Y     Y      Y
CouponSchedule  redeemFor                       .     .      .        Y     .      .     .      .
CouponSchedule  renounceRole                    Y     Y      Y        Y     Y      Y     Y      Y
CouponSchedule  returnSurplusPrincipal          .     .      .        Y     .      .     .      .
CouponSchedule  revokeRole                      Y     .      .        .     .      .     .      .
ImpactOracle    addFacility                     Y     .      .        .     .      .     .      .
ImpactOracle    addMethodology                  Y     .      .        .     .      .     .      .
ImpactOracle    grantRole                       Y     .      .        .     .      .     .      .
ImpactOracle    renounceRole                    Y     Y      Y        Y     Y      Y     Y      Y
ImpactOracle    revokeRole                      Y     .      .        .     .      .     .      .
ImpactOracle    setAllocation                   Y     .      .        .     .      .     .      .
ImpactOracle    setHeartbeat                    Y     .      .        .     .      .     .      .
ImpactOracle    setSigners                      Y     .      .        .     .      .     .      .
ImpactOracle    submitReports                   .     .      .        .     Y      .     .      .
ImpactOracle    updateFacility                  Y     .      .        .     .      .     .      .
Offering        allot                           Y     .      .        .     .      Y     .      .
Offering        cancelOffering                  Y     .      .        .     .      Y     .      .
Offering        cancelSubscription              Y     Y      Y        Y     Y      Y     Y      Y
Offering        grantRole                       Y     .      .        .     .      .     .      .
Offering        refund                          Y     Y      Y        Y     Y      Y     Y      Y
Offering        renounceRole                    Y     Y      Y        Y     Y      Y     Y      Y
Offering        revokeRole                      Y     .      .        .     .      .     .      .
Offering        settle                          Y     Y      Y        Y     Y      Y     Y      Y
Offering        settleUnderwriter               Y     Y      Y        Y     Y      Y     Y      Y
Offering        subscribe                       Y     Y      Y        Y     Y      Y     Y      Y
Offering        withdrawRefund                  Y     Y      Y        Y     Y      Y     Y      Y
BondDvP         accept                          Y     Y      Y        Y     Y      Y     .      Y
BondDvP         approve                         Y     Y      .        .     .      .     .      .
BondDvP         cancel                          Y     Y      .        .     .      .     Y      .
BondDvP         expire                          Y     Y      Y        Y     Y      Y     Y      Y
BondDvP         offer                           Y     Y      Y        Y     Y      Y     Y      Y
BondDvP         reject                          Y     Y      .        .     .      .     .      .
CarbonCredits   addReports                      Y     .      .        .     .      .     .      .
CarbonCredits   approveBatch                    .     .      .        Y     .      .     .      .
CarbonCredits   cancelBatch                     Y     .      .        Y     .      .     .      .
CarbonCredits   forcedTransfer                  Y     Y      .        .     .      .     .      .
CarbonCredits   grantRole                       Y     .      .        .     .      .     .      .
CarbonCredits   issueBatch                      Y     .      .        .     .      .     .      .
CarbonCredits   pause                           Y     Y      .        .     .      .     .      .
CarbonCredits   proposeBatch                    Y     .      .        .     .      .     .      .
CarbonCredits   renounceRole                    Y     Y      Y        Y     Y      Y     Y      Y
CarbonCredits   resolveHold                     .     .      .        Y     .      .     .      .
CarbonCredits   retire                          Y     Y      Y        Y     Y      Y     Y      Y
CarbonCredits   reviewCorrections               Y     Y      Y        Y     Y      Y     Y      Y
CarbonCredits   revokeRole                      Y     .      .        .     .      .     .      .
CarbonCredits   safeBatchTransferFrom           Y     Y      Y        Y     Y      Y     Y      Y
CarbonCredits   safeTransferFrom                Y     Y      Y        Y     Y      Y     Y      Y
CarbonCredits   sealBatch                       Y     .      .        .     .      .     .      .
CarbonCredits   setAddressFrozen                Y     Y      .        .     .      .     .      .
CarbonCredits   setApprovalForAll               Y     Y      Y        Y     Y      Y     Y      Y
CarbonCredits   setExternalRef                  Y     .      .        .     .      .     .      .
CarbonCredits   unpause                         Y     Y      .        .     .      .     .      .
"""

# Reverts that mean "this caller may not": OpenZeppelin's role check and the contracts' own
# caller checks. Anything else (success or a business-rule revert) counts as allowed.
DENY_ERRORS = (
    "AccessControlUnauthorizedAccount",
    "DvPNotAgent",
    "DvPNotBuyer",
    "DvPNotSeller",
    "GreenBondNotApplicantOrAgent",
    "GreenBondNotRegistry",
)


def _parse(table):
    rows = [line.split() for line in table.strip().splitlines()]
    header, body = rows[0], rows[1:]
    assert header[2:] == ROLES, header
    out = {}
    for row in body:
        assert len(row) == 2 + len(ROLES), row
        assert all(c in "Y." for c in row[2:]), row
        assert (row[0], row[1]) not in out, f"duplicate row {row[:2]}"
        out[(row[0], row[1])] = dict(zip(ROLES, (c == "Y" for c in row[2:])))
    return out


EXPECTED = _parse(MATRIX)
CONTRACTS = ["GreenBond", "HolderRegistry", "CouponSchedule", "ImpactOracle", "Offering", "BondDvP", "CarbonCredits"]


def b32(text):
    return text.encode().ljust(32, b"\0")


@pytest.fixture(scope="module")
def people(accounts, admin, agent, registrar, alice, bob, carol, outsider):
    """Every role on its own account (accounts 6-8 are free in the top-level conftest)."""
    return {
        "admin": admin, "agent": agent, "registrar": registrar, "payer": accounts[6],
        "transm": accounts[7], "allot": accounts[8], "holder": alice, "outsider": outsider,
    }


@pytest.fixture(scope="module")
def world(bond, holders, registry, settlement, people, admin, alice, bob, carol):
    """The six contracts wired as on a real deployment, with a pending transfer application (0)
    from the holder, an open DvP trade (0) offered by the holder to anyone, and a DvP trade (1)
    of bob's accepted by carol and waiting for the agent's approval."""
    p = people
    schedule = CouponSchedule.deploy(bond, admin, p["payer"], 9 * HOUR, 30 * DAY, {"from": admin})
    bond.grantRole(bond.REDEMPTION_ROLE(), schedule, {"from": admin})

    oracle = ImpactOracle.deploy(admin, 7_200, bond, {"from": admin})
    start = (chain.time() // HOUR - 48) * HOUR
    oracle.addFacility(0, "Kyoso-to", "docs/documents/facility-kyoso-to.md", b"\x11" * 32, 3_000_000, start,
                       {"from": admin})
    oracle.setAllocation(1, bond, 10**10, 10**10, start, {"from": admin})
    oracle.addMethodology(*methodology_args(), {"from": admin})
    signers = [a.address for a in (bob, carol, people["outsider"])]
    oracle.setSigners(signers, 2, {"from": admin})
    oracle.grantRole(oracle.TRANSMITTER_ROLE(), p["transm"], {"from": admin})

    now = chain.time()
    terms = (now + DAY, now + 3 * DAY, now + 5 * DAY, now + 35 * DAY, 1_000_000, 1, 1_000, 600, carol.address,
             ZERO_ADDRESS)
    offering = Offering.deploy(bond, terms, admin, {"from": admin})
    offering.grantRole(offering.ALLOTTER_ROLE(), p["allot"], {"from": admin})
    bond.grantRole(bond.MINTER_ROLE(), offering, {"from": admin})

    dvp = BondDvP.deploy(bond, 30 * DAY, {"from": admin})
    bond.grantRole(bond.LOCKER_ROLE(), dvp, {"from": admin})
    for who in (alice, bob, carol):
        settlement.mint(who, 10**12, {"from": admin})
        settlement.approve(dvp, 2**256 - 1, {"from": who})
    dvp.offer(ZERO_ADDRESS, 10, 5_000_000, chain.time() + 10 * DAY, {"from": alice})   # trade 0: open
    dvp.offer(carol, 5, 2_000_000, chain.time() + 10 * DAY, {"from": bob})             # trade 1
    bond.setTransferApprovalRequired(True, {"from": admin})
    dvp.accept(1, {"from": carol})                                                     # pending approval
    bond.applyForTransfer(bob, 5, b"", {"from": alice})                                # application 0
    bond.setTransferApprovalRequired(False, {"from": admin})
    assert dvp.trade(1)[5] == 2  # Status.PendingApproval

    # the credits as deployed: gated by the registry; the issuer (admin) also holds ISSUER_ROLE and
    # AGENT_ROLE; the verifier is the payer's account here; a draft batch (1) over the first hour
    credits = CarbonCredits.deploy(admin, oracle, registry, 900_000, "", {"from": admin})
    credits.grantRole(credits.VERIFIER_ROLE(), p["payer"], {"from": admin})
    credits.grantRole(credits.AGENT_ROLE(), p["agent"], {"from": admin})
    fy = fiscal_year(dt.datetime.fromtimestamp(start, dt.timezone.utc))
    credits.proposeBatch(1, start, start + HOUR, 1, fy, "", {"from": admin})

    return {"GreenBond": bond, "HolderRegistry": registry, "CouponSchedule": schedule,
            "ImpactOracle": oracle, "Offering": offering, "BondDvP": dvp, "CarbonCredits": credits, "start": start,
            "signers": signers}


def arguments(w, p, alice, bob, carol):
    """Valid-looking arguments for each (contract, function): a function of the caller."""
    bond, registry, oracle = w["GreenBond"], w["HolderRegistry"], w["ImpactOracle"]
    now = chain.time()
    agent_role = bond.AGENT_ROLE()
    newcomer = "0x000000000000000000000000000000000000dEaD"
    report = (1, w["start"], 900_000, 1_000_000, 4, 0, b"\x03" * 32, 1, 2024, 1, 0)

    def same(*args):
        return lambda who: args

    def roles(contract, role):
        return {
            "grantRole": same(role, carol),
            "revokeRole": same(role, p["agent"] if contract == "GreenBond" else carol),
            "renounceRole": lambda who: (role, who),
        }

    return {
        "GreenBond": {
            "addRecordDate": same(now + 10 * DAY),
            "applyForTransfer": same(bob, 1, b""),
            "approve": same(bob, 1),
            "approveTransfer": same(0),
            "batchMint": same([carol], [1]),
            "burn": same(alice, 1),
            "clearEligibility": same(alice),
            "cancelTransfer": same(0),
            "forcedTransfer": same(alice, bob, 1),
            "freezePartialTokens": same(alice, 1),
            "lockUnits": same(alice, 1),
            "mint": same(carol, 1),
            "pause": same(),
            "recoveryAddress": same(alice, carol),
            "redeemUnits": same(alice, 1),
            "setCallDate": same(now + 10 * DAY),
            "removeDocument": same(b32("prospectus")),
            "setAddressFrozen": same(alice, True),
            "setDocument": same(b32("prospectus"), "docs/prospectus.md", b"\x01" * 32),
            "setImpactOracle": same(oracle),
            "setTransferApprovalRequired": same(True),
            "setTransferable": same(False),
            "transfer": same(bob, 1),
            "transferFrom": same(alice, bob, 1),
            "transferLocked": same(alice, bob, 1, 0),
            "unfreezePartialTokens": same(alice, 1),
            "unlockUnits": same(alice, 1, 0),
            "unpause": same(),
            **roles("GreenBond", agent_role),
        },
        "HolderRegistry": {
            "registerHolder": same(newcomer, "0x" + "99" * 32, 392, now + 365 * DAY, b"\x09" * 48),
            "updateHolder": same(alice, "0x" + f"{1:064x}", 392, now + 365 * DAY, b"\x01" * 48),
            "removeHolder": same(carol),
            "addCachingToken": same(w["Offering"].address),
            **roles("HolderRegistry", registry.REGISTRAR_ROLE()),
        },
        "CouponSchedule": {
            "callBond": same(now + 60 * DAY),
            "claimAll": same(),
            "claimCoupon": same(0),
            "claimCouponOf": same(0, alice),
            "reclaimUnclaimed": same(0),
            "returnSurplusPrincipal": same(),
            "distributeCoupon": same(0, [alice]),
            "flagLate": same(0),
            "fundCoupon": same(0),
            "fundRedemption": same(),
            "recordOffchainPayment": same(0, [alice], b"\x01" * 32),
            "redeem": same(),
            "redeemFor": same([alice]),
            **roles("CouponSchedule", w["CouponSchedule"].PAYING_AGENT_ROLE()),
        },
        "ImpactOracle": {
            "addFacility": same(1, "Demo solar", "docs/documents/facility-solar-demo.md", b"\x22" * 32, 500_000,
                                w["start"]),
            "addMethodology": same(*methodology_args()),
            "setAllocation": same(1, w["GreenBond"].address, 10**9, 10**10, w["start"] + 24 * HOUR),
            "setHeartbeat": same(3_600),
            "setSigners": same(w["signers"], 2),
            "submitReports": same([report], [[(b"\x01" * 32, b"\x02" * 32)] * 2]),
            "updateFacility": same(1, "docs/documents/facility-kyoso-to.md", b"\x11" * 32, 3_000_000, True),
            **roles("ImpactOracle", oracle.TRANSMITTER_ROLE()),
        },
        "Offering": {
            "allot": same(),
            "cancelOffering": same(),
            "cancelSubscription": same(),
            "refund": same([alice]),
            "settle": same([alice]),
            "settleUnderwriter": same(),
            "subscribe": same(10),
            "withdrawRefund": same(),
            **roles("Offering", w["Offering"].ALLOTTER_ROLE()),
        },
        "CarbonCredits": {
            "addReports": same(1, [0]),
            "approveBatch": same(1, b"\x01" * 32),
            "cancelBatch": same(1, b"\x01" * 32),
            "forcedTransfer": same(alice, bob, 1, 1),
            "issueBatch": same(1, alice),
            "pause": same(),
            "proposeBatch": same(1, w["start"] + HOUR, w["start"] + 2 * HOUR, 1, 2024, ""),
            "resolveHold": same(1, b"\x01" * 32),
            "retire": same(1, 1, "Beneficiary", "offset", 0, 1),
            "reviewCorrections": same(1, [0]),
            "safeBatchTransferFrom": lambda who: (who, bob, [1], [1], b""),
            "safeTransferFrom": lambda who: (who, bob, 1, 1, b""),
            "sealBatch": same(1),
            "setAddressFrozen": same(alice, True),
            "setApprovalForAll": same(bob, True),
            "setExternalRef": same(1, "J-Credit"),
            "unpause": same(),
            **roles("CarbonCredits", w["CarbonCredits"].VERIFIER_ROLE()),
        },
        "BondDvP": {
            "accept": same(0),
            "approve": same(1),
            "cancel": same(0),
            "expire": same(0),
            "offer": same(bob, 1, 1_000_000, now + DAY),
            "reject": same(1),
        },
    }


def state_changing(contract):
    return sorted(
        f["name"] for f in contract.abi
        if f["type"] == "function" and f["stateMutability"] not in ("view", "pure")
    )


def outcome(contract, name, args, who):
    """'allow' or 'deny' (with the revert message) of an eth_call from `who`."""
    try:
        getattr(contract, name).call(*args, {"from": who})
    except VirtualMachineError as e:
        message = str(e.revert_msg or "")
        if message.split(":")[0].strip() in DENY_ERRORS:
            return "deny", message
        return "allow", message or repr(e)
    return "allow", "ok"


def test_matrix_covers_every_function(world):
    """A function added to a contract's ABI without a row here fails; so does a stale row."""
    for name in CONTRACTS:
        in_abi = state_changing(world[name])
        assert len(in_abi) == len(set(in_abi)), f"{name}: overloaded functions need signature keys"
        in_matrix = sorted(f for c, f in EXPECTED if c == name)
        assert in_abi == in_matrix, (
            f"{name}: no row for {sorted(set(in_abi) - set(in_matrix))}, "
            f"stale rows {sorted(set(in_matrix) - set(in_abi))}"
        )


@pytest.mark.parametrize("key", sorted(EXPECTED), ids=lambda k: f"{k[0]}.{k[1]}")
def test_access_matrix(key, world, people, alice, bob, carol):
    contract_name, fn = key
    contract = world[contract_name]
    make_args = arguments(world, people, alice, bob, carol)[contract_name][fn]
    wrong = []
    for role in ROLES:
        who = people[role]
        got, message = outcome(contract, fn, make_args(who), who)
        want = "allow" if EXPECTED[key][role] else "deny"
        if got != want:
            wrong.append(f"{role}: expected {want}, got {got} ({message})")
    assert not wrong, f"{contract_name}.{fn}:\n  " + "\n  ".join(wrong)


def test_denied_calls_change_nothing(world, people):
    """A denied call really reverts as a transaction, too (not only in eth_call): an outsider's
    mint, pause and submitReports leave supply, pause flag and reports as they were."""
    bond, oracle = world["GreenBond"], world["ImpactOracle"]
    outsider = people["outsider"]
    supply = bond.totalSupply()
    for call in (
        lambda: bond.mint(outsider, 1, {"from": outsider}),
        lambda: bond.pause({"from": outsider}),
        lambda: oracle.setHeartbeat(1, {"from": outsider}),
    ):
        with pytest.raises(VirtualMachineError) as e:
            call()
        assert str(e.value.revert_msg).startswith("AccessControlUnauthorizedAccount")
    assert bond.totalSupply() == supply
    assert not bond.paused()
