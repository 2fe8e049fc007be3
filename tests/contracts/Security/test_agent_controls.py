"""The agent's controls hold across every contract: one test per finding of the cross-contract review.

Each test first replays the original attack (a holder, or a stolen key, using *another* contract to
get around a freeze, a forced transfer, a recovery or a burn) and then shows the control holding.
The suite is wired as greenbond.deploy wires it: the schedule holds only REDEMPTION_ROLE on the
bond, the Offering only MINTER_ROLE, the DvP only LOCKER_ROLE; `agent` holds every agent role.

Bond (top-level conftest): 12 coupons 30 days apart, record date a day before each; alice holds 100
units (investor 1), bob 50 (investor 2), carol is registered with none (investor 3); dave is made a
second wallet of alice's investor where a test needs one.
"""

import pytest
from brownie import ZERO_ADDRESS, BondDvP, CouponSchedule, Offering, chain

DAY = 86_400
HOUR = 3_600
PAR = 1_000_000
MAX = 2**256 - 1
MAX_OFFER = 30 * DAY
MAX_UINT64 = 2**64 - 1
CASH = 10**15


def ints(values):
    return tuple(int(v) for v in values)


@pytest.fixture(scope="module")
def payer(accounts):
    return accounts[8]


@pytest.fixture(scope="module")
def suite(bond, holders, settlement, admin, payer):
    """The schedule and the DvP of `bond`, with the roles greenbond.deploy grants; everyone funded."""
    schedule = CouponSchedule.deploy(bond, admin, payer, 9 * HOUR, 30 * DAY, {"from": admin})
    bond.grantRole(bond.REDEMPTION_ROLE(), schedule, {"from": admin})
    dvp = BondDvP.deploy(bond, MAX_OFFER, {"from": admin})
    bond.grantRole(bond.LOCKER_ROLE(), dvp, {"from": admin})
    settlement.mint(payer, CASH, {"from": admin})
    settlement.approve(schedule, MAX, {"from": payer})
    for who in holders:
        settlement.mint(who, CASH, {"from": admin})
        settlement.approve(dvp, MAX, {"from": who})
    return schedule, dvp


def at_maturity_funded(goto, schedule, payer):
    goto(schedule.redemptionDate() + 1)
    schedule.fundRedemption({"from": payer})


# ------------------------------------------------------------------ 1. DvP offers and the agent


def test_frozen_or_paused_holder_cannot_lock(bond, suite, admin, agent, alice, bob, revert_with):
    """The attack: a frozen wallet offered its whole balance, never to be accepted. Now refused."""
    _, dvp = suite
    bond.setAddressFrozen(alice, True, {"from": agent})
    with revert_with("GreenBondLockRefused", alice, "SENDER_FROZEN"):
        dvp.offer(bob, 100, PAR, chain.time() + DAY, {"from": alice})
    bond.setAddressFrozen(alice, False, {"from": agent})
    bond.pause({"from": admin})
    with revert_with("GreenBondLockRefused", alice, "PAUSED"):
        dvp.offer(bob, 100, PAR, chain.time() + DAY, {"from": alice})


def test_offer_expiry_is_bounded(bond, suite, alice, bob, revert_with):
    """The attack used an expiry of 2^64-1 (never expiring): offers now expire within the maximum."""
    _, dvp = suite
    assert dvp.maxOfferDuration() == MAX_OFFER
    with revert_with("DvPBadOffer", "expiry"):
        dvp.offer(bob, 100, PAR, MAX_UINT64, {"from": alice})
    with revert_with("DvPBadOffer", "expiry"):
        dvp.offer(bob, 100, PAR, chain.time() + MAX_OFFER + 60, {"from": alice})
    dvp.offer(bob, 100, PAR, chain.time() + MAX_OFFER - 60, {"from": alice})


@pytest.mark.parametrize("action", ["forcedTransfer", "burn", "freezePartialTokens", "recoveryAddress"])
def test_locked_units_never_stop_the_agent(bond, suite, register, agent, alice, bob, carol, dave, action, revert_with):
    """alice (a stolen key) offers her whole balance to bob, who never accepts. Every agent action
    on all of it still succeeds: the action releases the lock first (LocksReleased, naming the
    agent), and the trade can then only be cancelled, never settled."""
    _, dvp = suite
    dvp.offer(bob, 100, PAR, chain.time() + MAX_OFFER - 60, {"from": alice})
    assert bond.escrowedOf(alice) == 100
    if action == "forcedTransfer":
        tx = bond.forcedTransfer(alice, carol, 100, {"from": agent})
        assert bond.balanceOf(carol) == 100
        assert tx.events["ForcedTransfer"]["agent"] == agent
    elif action == "burn":
        tx = bond.burn(alice, 100, {"from": agent})
        assert bond.balanceOf(alice) == 0
    elif action == "freezePartialTokens":
        tx = bond.freezePartialTokens(alice, 100, {"from": agent})
        assert bond.getFrozenTokens(alice) == 100
    else:
        register(dave, 1)  # alice's new wallet, same investor
        tx = bond.recoveryAddress(alice, dave, {"from": agent})
        assert bond.balanceOf(dave) == 100 and bond.successorOf(alice) == dave
    released = tx.events["LocksReleased"]
    assert (released["holder"], released["amount"], released["agent"]) == (alice, 100, agent)
    assert bond.escrowedOf(alice) == 0
    # the trade cannot settle on units it no longer has locked; cancelling it disturbs nothing
    with revert_with("DvPLockReleased", 0):
        dvp.accept(0, {"from": bob})
    dvp.cancel(0, {"from": alice})
    assert bond.escrowedOf(alice) == 0


def test_agent_cancels_any_trade(bond, suite, admin, agent, alice, bob, carol, settlement):
    """The attack: the agent could neither cancel nor reject an open trade. Now it cancels open and
    pending trades alike, with its own event naming it; a buyer who paid is refunded."""
    _, dvp = suite
    dvp.offer(bob, 10, 10 * PAR, chain.time() + DAY, {"from": alice})
    tx = dvp.cancel(0, {"from": agent})
    assert tx.events["TradeCancelledByAgent"]["agent"] == agent and "OfferCancelled" not in tx.events
    assert bond.escrowedOf(alice) == 0
    bond.setTransferApprovalRequired(True, {"from": admin})
    dvp.offer(carol, 10, 10 * PAR, chain.time() + DAY, {"from": alice})
    before = settlement.balanceOf(carol)
    dvp.accept(1, {"from": carol})
    tx = dvp.cancel(1, {"from": agent})
    assert tx.events["TradeCancelledByAgent"]["id"] == 1
    assert settlement.balanceOf(carol) == before and settlement.balanceOf(dvp) == 0


def test_locks_of_a_later_generation_survive_an_old_cancel(bond, suite, agent, alice, bob, carol):
    """After a release, cancelling the old trade must not unlock a newer trade's units."""
    _, dvp = suite
    dvp.offer(bob, 60, PAR, chain.time() + DAY, {"from": alice})
    bond.forcedTransfer(alice, carol, 50, {"from": agent})          # needs locked units: releases
    dvp.offer(bob, 50, PAR, chain.time() + DAY, {"from": alice})   # a new lock, next generation
    dvp.cancel(0, {"from": alice})                                 # the void trade: nothing moves
    assert bond.escrowedOf(alice) == 50
    dvp.accept(1, {"from": bob})
    assert bond.balanceOf(bob) == 100 and bond.escrowedOf(alice) == 0


def test_pending_application_released_by_agent(bond, holders, admin, agent, alice, bob, carol, revert_with):
    """A transfer application's escrow is released the same way; the application reads as released."""
    bond.setTransferApprovalRequired(True, {"from": admin})
    bond.applyForTransfer(bob, 100, b"", {"from": alice})
    bond.forcedTransfer(alice, carol, 100, {"from": agent})
    assert bond.transferApplication(0)["status"] == 4
    with revert_with("GreenBondApplicationNotPending", 0, 4):
        bond.approveTransfer(0, {"from": agent})


def test_redemption_releases_locks(goto, bond, suite, payer, alice, bob):
    """A holder's open offer at maturity does not stop its redemption."""
    schedule, dvp = suite
    dvp.offer(bob, 100, PAR, chain.time() + MAX_OFFER - 60, {"from": alice})
    at_maturity_funded(goto, schedule, payer)
    tx = schedule.redeemFor([alice], {"from": payer})
    assert tx.events["Redeemed"]["units"] == 100 and bond.balanceOf(alice) == 0
    assert tx.events["LocksReleased"]["holder"] == alice


# ------------------------------------------------------------------ 2. frozen units are never paid


def test_self_redemption_never_pays_frozen_units(goto, bond, suite, payer, agent, alice, settlement, revert_with):
    """The attack: 60 of alice's 100 units frozen, redeem() burnt all 100 and paid them. Now she is
    paid for her 40 free units; the 60 stay, their principal waits in the schedule (visible per
    holder) until the agent unfreezes them."""
    schedule, _ = suite
    bond.freezePartialTokens(alice, 60, {"from": agent})
    at_maturity_funded(goto, schedule, payer)
    before = settlement.balanceOf(alice)
    tx = schedule.redeem({"from": alice})
    assert tx.return_value == 40 * PAR and settlement.balanceOf(alice) - before == 40 * PAR
    assert bond.balanceOf(alice) == 60 and bond.getFrozenTokens(alice) == 60
    assert ints(schedule.redeemableOf(alice)) == (0, 60 * PAR)
    assert schedule.principalHeld() == bond.totalSupply() * PAR == (60 + 50) * PAR
    with revert_with("ScheduleNothingToRedeem", alice):
        schedule.redeem({"from": alice})
    bond.unfreezePartialTokens(alice, 60, {"from": agent})
    assert schedule.redeem({"from": alice}).return_value == 60 * PAR


def test_frozen_wallet_is_paid_nothing(goto, bond, suite, payer, agent, alice, bob, revert_with):
    """A whole-wallet freeze blocks every payment: claims, the agent's push (skipped, with an
    event; the coupon stays held) and redemption."""
    schedule, _ = suite
    goto(schedule.couponDate(0))
    schedule.fundCoupon(0, {"from": payer})
    bond.setAddressFrozen(alice, True, {"from": agent})
    with revert_with("ScheduleHolderFrozen", alice):
        schedule.claimCoupon(0, {"from": alice})
    tx = schedule.distributeCoupon(0, [alice, bob], {"from": payer})
    assert [e["holder"] for e in tx.events["CouponPaid"]] == [bob]
    assert tx.events["CouponSkipped"]["holder"] == alice and not schedule.isPaid(alice, 0)
    assert schedule.couponHeld(0) == schedule.couponOf(alice, 0)
    at_maturity_funded(goto, schedule, payer)
    with revert_with("ScheduleHolderFrozen", alice):
        schedule.redeem({"from": alice})
    assert ints(schedule.redeemableOf(alice)) == (0, 100 * PAR)


# ------------------------------------------------------------------ 3. recovery carries entitlements


def test_recovery_carries_unpaid_coupons(goto, bond, suite, register, payer, agent, alice, bob, dave, settlement,
                                         revert_with, reason):
    """The attack: alice's wallet is recovered to dave after the record date; the coupon stayed
    owed to the lost wallet, claimable with the lost key. Now it goes to dave, and the lost wallet
    never receives anything again."""
    schedule, _ = suite
    register(dave, 1)
    goto(schedule.recordDate(0) + 1)
    bond.recoveryAddress(alice, dave, {"from": agent})
    goto(schedule.couponDate(0))
    schedule.fundCoupon(0, {"from": payer})
    owed = schedule.couponOf(alice, 0)
    assert owed == 100 * schedule.couponPerUnit(0)
    with revert_with("ScheduleWalletRecovered", alice, dave):
        schedule.claimCoupon(0, {"from": alice})
    with revert_with("ScheduleWalletRecovered", alice, dave):
        schedule.claimCouponOf(0, alice, {"from": bob})
    before = settlement.balanceOf(dave)
    tx = schedule.claimCouponOf(0, alice, {"from": dave})
    assert settlement.balanceOf(dave) - before == owed
    assert tx.events["CouponPaid"]["payee"] == dave and tx.events["CouponPaid"]["holder"] == alice
    # the lost wallet can never receive units (so never principal) again
    assert bond.canTransfer(bob, alice, 1) == (False, reason("RECEIVER_RECOVERED"))
    with revert_with("GreenBondWalletRecovered", alice, dave):
        bond.mint(alice, 1, {"from": agent})
    with revert_with("GreenBondWalletRecovered", alice, dave):
        bond.forcedTransfer(bob, alice, 1, {"from": agent})
    with revert_with("GreenBondWalletRecovered", alice, dave):
        bond.recoveryAddress(dave, alice, {"from": agent})


def test_push_after_recovery_goes_to_the_new_wallet(goto, bond, suite, register, payer, agent, alice, dave, settlement):
    """The paying agent's push of the lost wallet's coupon pays the new wallet, even when the lost
    wallet was frozen; nothing to the lost wallet."""
    schedule, _ = suite
    register(dave, 1)
    goto(schedule.recordDate(0) + 1)
    bond.setAddressFrozen(alice, True, {"from": agent})
    bond.recoveryAddress(alice, dave, {"from": agent})     # the freeze moves to dave
    bond.setAddressFrozen(dave, False, {"from": agent})
    goto(schedule.couponDate(0))
    schedule.fundCoupon(0, {"from": payer})
    lost_before = settlement.balanceOf(alice)
    tx = schedule.distributeCoupon(0, [alice], {"from": payer})
    assert tx.events["CouponPaid"]["payee"] == dave
    assert settlement.balanceOf(alice) == lost_before


# ------------------------------------------------------------------ 4. batch redemption


def test_batch_redemption_skips_and_reports(goto, bond, suite, register, payer, agent, alice, bob, carol, dave):
    """The attack: one holder's escrow made redeemFor's whole batch revert. Now every holder it can
    is redeemed; the frozen ones are skipped with a reason, their principal kept."""
    schedule, dvp = suite
    bond.mint(carol, 30, {"from": agent})
    register(dave, 4)
    bond.mint(dave, 20, {"from": agent})
    dvp.offer(carol, 100, PAR, chain.time() + MAX_OFFER - 60, {"from": alice})   # escrowed
    bond.setAddressFrozen(bob, True, {"from": agent})                             # frozen wallet
    bond.freezePartialTokens(carol, 30, {"from": agent})                          # all units frozen
    at_maturity_funded(goto, schedule, payer)
    tx = schedule.redeemFor([alice, bob, carol, dave], {"from": payer})
    assert [(e["holder"], e["units"]) for e in tx.events["Redeemed"]] == [(alice, 100), (dave, 20)]
    skipped = [(e["holder"], bytes(e["reason"]).rstrip(b"\0").decode()) for e in tx.events["RedemptionSkipped"]]
    assert skipped == [(bob, "FROZEN"), (carol, "UNITS_FROZEN")]
    assert schedule.principalHeld() == (50 + 30) * PAR == bond.totalSupply() * PAR


# ------------------------------------------------------------------ 5. offering cash


def _offering(goto, bond, settlement, admin, issuer, investors, deadline_after=30 * DAY):
    now = chain.time()
    terms = (now + HOUR, now + DAY, now + 2 * DAY, now + 2 * DAY + deadline_after, PAR, 1, 10_000, 500,
             issuer.address, ZERO_ADDRESS)
    o = Offering.deploy(bond, terms, admin, {"from": admin})
    bond.grantRole(bond.MINTER_ROLE(), o, {"from": admin})
    for who in investors:
        settlement.mint(who, CASH, {"from": admin})
        settlement.approve(o, MAX, {"from": who})
    goto(now + HOUR)
    return o, terms


def test_offering_cash_refundable_after_a_failed_mint(goto, bond, holders, settlement, admin, agent, accounts, alice, bob,
                                                      revert_with):
    """The attack: once any investor settled, an investor whose mint kept reverting (issue volume
    used up) could get the cash back by no route. Now: after the settlement deadline the offering
    lapses and the unsettled investor is refunded in full."""
    o, terms = _offering(goto, bond, settlement, admin, accounts[8], [alice, bob])
    o.subscribe(200, {"from": alice})
    o.subscribe(300, {"from": bob})
    goto(terms[1])
    o.allot({"from": admin})
    goto(terms[2])
    o.settle([alice], {"from": admin})
    bond.mint(alice, bond.maxSupply() - bond.totalSupply(), {"from": agent})   # the volume is used up
    with revert_with("GreenBondIssueVolumeExceeded", 300, 0):
        o.settle([bob], {"from": admin})
    with revert_with("OfferingWrongState", 3):
        o.cancelOffering({"from": admin})
    with revert_with("OfferingWrongState", 3):
        o.withdrawRefund({"from": bob})
    goto(terms[3])
    assert o.state() == 6  # Lapsed
    before = settlement.balanceOf(bob)
    o.withdrawRefund({"from": bob})
    assert settlement.balanceOf(bob) - before == 300 * PAR and settlement.balanceOf(o) == 0
    with revert_with("OfferingWrongState", 4):   # everyone settled or refunded: Settled
        o.settle([bob], {"from": admin})


def test_offering_never_allotted_is_refundable(goto, bond, holders, settlement, admin, accounts, alice, revert_with):
    """allot had no deadline: an allotter who never allots kept the cash. Now it lapses."""
    o, terms = _offering(goto, bond, settlement, admin, accounts[8], [alice])
    o.subscribe(200, {"from": alice})
    goto(terms[3])
    assert o.state() == 6
    with revert_with("OfferingWrongState", 6):
        o.allot({"from": admin})
    o.refund([alice], {"from": accounts[9]})
    assert settlement.balanceOf(o) == 0


def test_offering_refunds_frozen_investor(goto, bond, holders, settlement, admin, agent, accounts, alice):
    """A frozen investor's mint would be refused: settle refunds them instead of reverting."""
    o, terms = _offering(goto, bond, settlement, admin, accounts[8], [alice])
    o.subscribe(200, {"from": alice})
    goto(terms[1])
    o.allot({"from": admin})
    bond.setAddressFrozen(alice, True, {"from": agent})
    goto(terms[2])
    tx = o.settle([alice], {"from": admin})
    assert tx.events["RefundedIneligible"]["refund"] == 200 * PAR and settlement.balanceOf(o) == 0


# ------------------------------------------------------------------ 6. principal surplus


def test_surplus_principal_returned(bond, suite, payer, agent, alice, settlement, revert_with):
    """The attack: units burnt after funding left principal stranded, and redemptionFunded() read
    false. Now the surplus (only the surplus) goes back to the paying agent."""
    schedule, _ = suite
    schedule.fundRedemption({"from": payer})
    bond.burn(alice, 10, {"from": agent})
    assert schedule.redemptionFunded()
    before = settlement.balanceOf(payer)
    tx = schedule.returnSurplusPrincipal({"from": payer})
    assert tx.events["PrincipalSurplusReturned"]["amount"] == 10 * PAR == settlement.balanceOf(payer) - before
    assert schedule.principalHeld() == bond.totalSupply() * PAR == settlement.balanceOf(schedule)
    with revert_with("ScheduleNoSurplus", 140 * PAR, 140 * PAR):
        schedule.returnSurplusPrincipal({"from": payer})


# ------------------------------------------------------------------ 7. a call ends issuance


def test_call_date_ends_issuance(goto, bond, suite, admin, payer, agent, alice, bob, revert_with):
    """The attack: after callBond the bond still minted, and bondStatus() said Redeemed with units
    outstanding. Now the call date is the bond's end for issuance too."""
    schedule, _ = suite
    call_date = schedule.couponDate(2)
    schedule.callBond(call_date, {"from": admin})
    assert bond.redemptionDate() == call_date
    bond.mint(alice, 1, {"from": agent})   # before the call date: still issues
    goto(call_date)
    with revert_with("GreenBondMatured", call_date):
        bond.mint(alice, 1, {"from": agent})
    schedule.fundRedemption({"from": payer})
    schedule.redeemFor([alice, bob], {"from": payer})
    assert schedule.bondStatus() == 2 and bond.totalSupply() == 0
    with revert_with("GreenBondMatured", call_date):
        bond.mint(alice, 1, {"from": agent})
    assert schedule.bondStatus() == 2


# ------------------------------------------------------------------ 8. the small ones


def test_mint_and_recovery_to_a_frozen_wallet_refused(bond, holders, register, agent, alice, carol, dave, revert_with):
    bond.setAddressFrozen(carol, True, {"from": agent})
    with revert_with("GreenBondWalletFrozen", carol):
        bond.mint(carol, 1, {"from": agent})
    register(dave, 1)
    bond.setAddressFrozen(dave, True, {"from": agent})
    with revert_with("GreenBondWalletFrozen", dave):
        bond.recoveryAddress(alice, dave, {"from": agent})


def test_contracts_hold_only_the_rights_they_use(bond, suite, admin, revert_with):
    """The schedule can only redeem (from the redemption date) and set a call date; the DvP only
    lock; neither mints, burns, freezes, forces or recovers."""
    schedule, dvp = suite
    powers = ("AGENT_ROLE", "MINTER_ROLE", "BURNER_ROLE", "FREEZER_ROLE", "FORCED_TRANSFER_ROLE", "RECOVERY_ROLE")
    for contract, own in ((schedule, "REDEMPTION_ROLE"), (dvp, "LOCKER_ROLE")):
        assert bond.hasRole(getattr(bond, own)(), contract)
        for role in powers:
            assert not bond.hasRole(getattr(bond, role)(), contract), (contract, role)
    with revert_with("GreenBondNotRedeemable", bond.maturityDate()):
        bond.redeemUnits.call(bond.address, 1, {"from": schedule.address})


def test_unclaimed_coupons_have_an_end(goto, bond, suite, payer, alice, bob, settlement, revert_with):
    """A coupon can be claimed for COUPON_CLAIM_PERIOD (five years) after its payment date; then the
    paying agent reclaims what is left, with an event, and no claim is paid any more."""
    schedule, _ = suite
    period = schedule.COUPON_CLAIM_PERIOD()
    assert period == 1_826 * DAY
    goto(schedule.couponDate(0))
    schedule.fundCoupon(0, {"from": payer})
    schedule.claimCoupon(0, {"from": bob})
    end = schedule.couponDate(0) + period
    with revert_with("ScheduleClaimPeriodNotOver", 0, end):
        schedule.reclaimUnclaimed(0, {"from": payer})
    goto(end)
    with revert_with("ScheduleClaimPeriodOver", 0, end):
        schedule.claimCoupon(0, {"from": alice})
    held = schedule.couponHeld(0)
    assert held == schedule.couponOf(alice, 0)
    before = settlement.balanceOf(payer)
    tx = schedule.reclaimUnclaimed(0, {"from": payer})
    assert tx.events["UnclaimedCouponReclaimed"]["amount"] == held == settlement.balanceOf(payer) - before
    assert schedule.couponHeld(0) == 0
    with revert_with("ScheduleNothingToReclaim", 0):
        schedule.reclaimUnclaimed(0, {"from": payer})
