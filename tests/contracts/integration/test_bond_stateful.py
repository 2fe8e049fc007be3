"""Stateful property test: random sequences of bond operations checked against a Python model.

Every rule predicts the outcome of its call from the model (success, or the exact custom error)
and checks the contract agrees; holder transfers are also checked against canTransfer. The
invariants compare balances, locks and every passed record date with the model after each step.
"""

import os

from hypothesis import HealthCheck

import brownie
import pytest
from brownie import chain
from brownie.test import strategy

# `make fuzz` sets GREENBOND_FUZZ_FACTOR=10: max_examples below times that; unset = the CI numbers.
FUZZ_FACTOR = max(1, int(os.environ.get("GREENBOND_FUZZ_FACTOR", "1")))

DAY = 86_400
HOUR = 3_600
SPACING = 4 * HOUR         # a coupon every four hours, its record date an hour before
COUPONS = 100
TICK = 50 * 60             # chain time added before every step: a run crosses a record date every ~5 steps
OK = "OK"
PENDING, APPROVED, CANCELLED, RELEASED = 1, 2, 3, 4
INVESTOR = {0: 1, 1: 2, 2: 3, 3: 1, 4: 2}  # wallet index -> investor (5, the outsider, never registers)


class StateMachine:
    """Model of the bond: balances, partial and address freezes, escrow, applications, registry."""

    st_wallet = strategy("uint8", max_value=5)
    st_other = strategy("uint8", max_value=5)
    st_amount = strategy("uint8", max_value=60)
    st_small = strategy("uint8", max_value=40)
    st_index = strategy("uint8", max_value=15)
    st_caller = strategy("uint8", max_value=2)
    st_flag = strategy("bool")
    st_switch = strategy("uint8", max_value=2)
    st_sleep = strategy("uint32", min_value=HOUR, max_value=10 * HOUR)

    def __init__(cls, bond, registry, registrar, admin, agent, wallets, initial, error_msg, reason):
        cls.bond = bond
        cls.registry = registry
        cls.registrar = registrar
        cls.admin = admin
        cls.agent = agent
        cls.wallets = wallets
        cls.initial = initial
        cls.error_msg = staticmethod(error_msg)
        cls.code = staticmethod(reason)
        cls.dates = list(bond.recordDates())
        cls.maturity = bond.maturityDate()

    def setup(self):
        self.bal = dict(self.initial)
        self.frozen_tokens = {w: 0 for w in self.wallets}
        self.frozen = {w: False for w in self.wallets}
        self.escrow = {w: 0 for w in self.wallets}
        self.gen = {w: 0 for w in self.wallets}     # lock generation: moves on when an agent releases escrow
        self.successor = {}                          # recovered (lost) wallet -> its new wallet
        self.apps = []  # [from, to, amount, status, generation]
        self.investor = {w: INVESTOR.get(i) for i, w in enumerate(self.wallets)}
        self.paused = False
        self.transferable = True
        self.approval = False
        self.history = [(0, dict(self.bal))]  # (block timestamp, balances after that movement)
        self.last_seen = dict(self.bal)

    def check_invariants(self, settings):
        # hypothesis picks rule_sleep too rarely to cross record dates in short runs: after the
        # invariants of every step the chain clock also moves on a little (chain time only)
        super().check_invariants(settings)
        chain.sleep(TICK)

    # ------------------------------------------------------------------ model helpers

    def _eligible(self, w):
        return self.investor[w] is not None

    def _reason(self, frm, to, amount, via=False):
        if self.paused:
            return "PAUSED"
        if not self.transferable:
            return "NOT_TRANSFERABLE"
        if self.approval and not via:
            return "APPROVAL_REQUIRED"
        if self.frozen[frm]:
            return "SENDER_FROZEN"
        if self.frozen[to]:
            return "RECEIVER_RECOVERED" if to in self.successor else "RECEIVER_FROZEN"
        if not self._eligible(to):
            return "RECEIVER_NOT_ELIGIBLE"
        if self.bal[frm] < amount:
            return "INSUFFICIENT_BALANCE"
        if self.bal[frm] - self.frozen_tokens[frm] - self.escrow[frm] < amount:
            return "TOKENS_LOCKED"
        return OK

    def _call(self, expected, fn, *args):
        """Sends the transaction; `expected` is None for success or the exact revert message."""
        if expected is None:
            tx = fn(*args)
            return tx
        with brownie.reverts(expected):
            fn(*args)
        return None

    def _moved(self, tx):
        self.history.append((tx.timestamp, dict(self.bal)))

    def _move(self, frm, to, amount):
        self.bal[frm] -= amount
        self.bal[to] += amount

    def _release(self, w):
        """An agent action releases every escrow of `w`: its pending applications read as released."""
        if self.escrow[w]:
            self.escrow[w] = 0
            self.gen[w] += 1

    def _status(self, i):
        frm, _, _, status, gen = self.apps[i]
        return RELEASED if status == PENDING and gen != self.gen[frm] else status

    def _make_movable(self, w, amount):
        """Agent actions reach every unit: release the escrow if the unescrowed units fall short,
        then unfreeze what the free balance lacks."""
        if amount > self.bal[w] - self.escrow[w]:
            self._release(w)
        free = self.bal[w] - self.escrow[w] - self.frozen_tokens[w]
        if amount > free:
            self.frozen_tokens[w] -= amount - free

    # ------------------------------------------------------------------ rules

    def rule_transfer(self, st_wallet, st_other, st_amount, st_flag):
        """A holder transfer (or transferFrom when st_flag): canTransfer, the model and the outcome agree."""
        frm, to = self.wallets[st_wallet], self.wallets[st_other]
        expected = self._reason(frm, to, st_amount)
        allowed, code = self.bond.canTransfer(frm, to, st_amount)
        assert code == self.code(expected)
        assert allowed == (expected == OK)
        if st_flag:
            self.bond.approve(self.agent, st_amount, {"from": frm})
            call = (self.bond.transferFrom, frm, to, st_amount, {"from": self.agent})
        else:
            call = (self.bond.transfer, to, st_amount, {"from": frm})
        message = None if allowed else self.error_msg("GreenBondTransferNotAllowed", frm, to, st_amount, expected)
        tx = self._call(message, *call)
        if tx:
            self._move(frm, to, st_amount)
            self._moved(tx)

    def rule_mint(self, st_wallet, st_amount):
        """Agent issues units."""
        to = self.wallets[st_wallet]
        available = 10_000 - sum(self.bal.values())
        amount = st_amount * 80  # large enough to reach the issue volume now and then
        if abs(chain.time() - self.maturity) < 60:
            return  # too close to call: the block could fall either side of maturity
        if chain.time() >= self.maturity:
            expected = self.error_msg("GreenBondMatured", self.maturity)
        elif to in self.successor:
            expected = self.error_msg("GreenBondWalletRecovered", to, self.successor[to])
        elif self.frozen[to]:
            expected = self.error_msg("GreenBondWalletFrozen", to)
        elif not self._eligible(to):
            expected = self.error_msg("GreenBondNotEligible", to)
        elif amount > available:
            expected = self.error_msg("GreenBondIssueVolumeExceeded", amount, available)
        elif self.paused:
            expected = self.error_msg("EnforcedPause")
        else:
            expected = None
        tx = self._call(expected, self.bond.mint, to, amount, {"from": self.agent})
        if tx:
            self.bal[to] += amount
            self._moved(tx)

    def rule_burn(self, st_wallet, st_amount):
        """Agent cancels units, releasing escrow and unfreezing as needed."""
        w = self.wallets[st_wallet]
        if st_amount > self.bal[w]:
            expected = self.error_msg("GreenBondInsufficientUnlocked", w, self.bal[w], st_amount)
        elif self.paused:
            expected = self.error_msg("EnforcedPause")
        else:
            expected = None
        tx = self._call(expected, self.bond.burn, w, st_amount, {"from": self.agent})
        if tx:
            self._make_movable(w, st_amount)
            self.bal[w] -= st_amount
            self._moved(tx)

    def rule_apply(self, st_wallet, st_other, st_amount):
        """A holder applies for an approved transfer; the units are escrowed."""
        frm, to = self.wallets[st_wallet], self.wallets[st_other]
        if not self.approval:
            expected = self.error_msg("GreenBondApprovalNotRequired")
        else:
            reason = self._reason(frm, to, st_amount, via=True)
            expected = None if reason == OK else self.error_msg(
                "GreenBondTransferNotAllowed", frm, to, st_amount, reason
            )
        tx = self._call(expected, self.bond.applyForTransfer, to, st_amount, "0x", {"from": frm})
        if tx:
            assert tx.return_value == len(self.apps)
            self.apps.append([frm, to, st_amount, PENDING, self.gen[frm]])
            self.escrow[frm] += st_amount

    def rule_approve(self, st_index):
        """The agent approves an application: rules re-checked, units move."""
        i = st_index % (len(self.apps) + 1)  # sometimes one past the end
        if i == len(self.apps):
            expected = self.error_msg("GreenBondUnknownApplication", i)
        elif self._status(i) != PENDING:
            expected = self.error_msg("GreenBondApplicationNotPending", i, self._status(i))
        else:
            frm, to, amount, _, _ = self.apps[i]
            self.escrow[frm] -= amount
            reason = self._reason(frm, to, amount, via=True)
            self.escrow[frm] += amount
            expected = None if reason == OK else self.error_msg(
                "GreenBondTransferNotAllowed", frm, to, amount, reason
            )
        tx = self._call(expected, self.bond.approveTransfer, i, {"from": self.agent})
        if tx:
            frm, to, amount, _, _ = self.apps[i]
            self.apps[i][3] = APPROVED
            self.escrow[frm] -= amount
            self._move(frm, to, amount)
            self._moved(tx)

    def rule_cancel(self, st_index, st_caller):
        """The applicant, an agent or (refused) someone else cancels an application."""
        if not self.apps:
            return
        i = st_index % len(self.apps)
        frm = self.apps[i][0]
        caller = [frm, self.agent, self.wallets[5]][st_caller]
        if self._status(i) != PENDING:
            expected = self.error_msg("GreenBondApplicationNotPending", i, self._status(i))
        elif st_caller == 2 and caller != frm:
            expected = self.error_msg("GreenBondNotApplicantOrAgent", i, caller)
        else:
            expected = None
        tx = self._call(expected, self.bond.cancelTransfer, i, {"from": caller})
        if tx:
            self.apps[i][3] = CANCELLED
            self.escrow[frm] -= self.apps[i][2]

    def rule_freeze_partial(self, st_wallet, st_small):
        """The agent freezes part of a balance (never more than the unfrozen units; escrow released
        if it stands in the way)."""
        w = self.wallets[st_wallet]
        unfrozen = self.bal[w] - self.frozen_tokens[w]
        expected = None if st_small <= unfrozen else self.error_msg(
            "GreenBondInsufficientUnlocked", w, unfrozen, st_small
        )
        if self._call(expected, self.bond.freezePartialTokens, w, st_small, {"from": self.agent}):
            if st_small > unfrozen - self.escrow[w]:
                self._release(w)
            self.frozen_tokens[w] += st_small

    def rule_unfreeze_partial(self, st_wallet, st_small):
        """The agent releases part of a frozen balance."""
        w = self.wallets[st_wallet]
        ft = self.frozen_tokens[w]
        expected = None if st_small <= ft else self.error_msg("GreenBondInsufficientFrozen", w, ft, st_small)
        if self._call(expected, self.bond.unfreezePartialTokens, w, st_small, {"from": self.agent}):
            self.frozen_tokens[w] -= st_small

    def rule_freeze_address(self, st_wallet, st_flag):
        """The agent freezes or unfreezes a wallet."""
        w = self.wallets[st_wallet]
        if w in self.successor and not st_flag:
            expected = self.error_msg("GreenBondWalletRecovered", w, self.successor[w])
        else:
            expected = None
        if self._call(expected, self.bond.setAddressFrozen, w, st_flag, {"from": self.agent}):
            self.frozen[w] = st_flag

    def rule_forced_transfer(self, st_wallet, st_other, st_amount):
        """The agent moves units to an eligible wallet, releasing escrow and unfreezing as needed."""
        frm, to = self.wallets[st_wallet], self.wallets[st_other]
        if frm == to:
            expected = self.error_msg("GreenBondSelfTransfer", frm)
        elif to in self.successor:
            expected = self.error_msg("GreenBondWalletRecovered", to, self.successor[to])
        elif not self._eligible(to):
            expected = self.error_msg("GreenBondNotEligible", to)
        elif st_amount > self.bal[frm]:
            expected = self.error_msg("GreenBondInsufficientUnlocked", frm, self.bal[frm], st_amount)
        elif self.paused:
            expected = self.error_msg("EnforcedPause")
        else:
            expected = None
        tx = self._call(expected, self.bond.forcedTransfer, frm, to, st_amount, {"from": self.agent})
        if tx:
            self._make_movable(frm, st_amount)
            self._move(frm, to, st_amount)
            self._moved(tx)

    def rule_recovery(self, st_wallet, st_other):
        """The agent moves a lost wallet's units, partial freeze and frozen flag to the investor's other wallet."""
        lost, new = self.wallets[st_wallet], self.wallets[st_other]
        inv = self.investor[lost]
        if inv is None or lost == new or self.investor[new] != inv:
            expected = self.error_msg("GreenBondNotSameInvestor", lost, new)
        elif lost in self.successor:
            expected = self.error_msg("GreenBondWalletRecovered", lost, self.successor[lost])
        elif new in self.successor:
            expected = self.error_msg("GreenBondWalletRecovered", new, self.successor[new])
        elif self.frozen[new]:
            expected = self.error_msg("GreenBondWalletFrozen", new)
        elif self.paused and self.bal[lost]:
            expected = self.error_msg("EnforcedPause")
        else:
            expected = None
        tx = self._call(expected, self.bond.recoveryAddress, lost, new, {"from": self.agent})
        if tx:
            self._release(lost)
            self.successor[lost] = new
            was_frozen, self.frozen[lost] = self.frozen[lost], True   # a lost wallet is frozen for good
            self.frozen_tokens[new] += self.frozen_tokens[lost]
            self.frozen_tokens[lost] = 0
            self.frozen[new] = self.frozen[new] or was_frozen
            self._move(lost, new, self.bal[lost])
            self._moved(tx)

    def rule_registry(self, st_wallet):
        """The registrar removes a registered wallet, or registers it again to its investor."""
        w = self.wallets[st_wallet]
        if st_wallet == 5:
            return  # the outsider stays unregistered
        if self._eligible(w):
            self.registry.removeHolder(w, {"from": self.registrar})
            self.investor[w] = None
        else:
            inv = INVESTOR[st_wallet]
            self.registry.registerHolder(
                w, "0x" + f"{inv:064x}", 392, chain.time() + 3650 * DAY, "0x01", {"from": self.registrar}
            )
            self.investor[w] = inv

    def rule_switch(self, st_switch, st_flag):
        """The issuer pauses or unpauses, or switches transfers or approval on or off."""
        if st_switch == 0:
            if st_flag != self.paused:
                (self.bond.pause if st_flag else self.bond.unpause)({"from": self.admin})
                self.paused = st_flag
        elif st_switch == 1:
            self.bond.setTransferable(st_flag, {"from": self.admin})
            self.transferable = st_flag
        else:
            self.bond.setTransferApprovalRequired(st_flag, {"from": self.admin})
            self.approval = st_flag

    def rule_sleep(self, st_sleep):
        """Chain time passes, possibly across record dates."""
        chain.sleep(st_sleep)
        chain.mine()

    def rule_sleep_and_transfer(self, st_sleep, st_wallet, st_other, st_amount):
        """Time passes, then a holder transfers (movements right after record dates)."""
        chain.sleep(st_sleep)
        self.rule_transfer(st_wallet, st_other, st_amount, False)

    # ------------------------------------------------------------------ invariants

    def invariant_balances(self):
        """Balances match the model and sum to totalSupply."""
        chain_bal = {w: self.bond.balanceOf(w) for w in self.wallets}
        assert chain_bal == self.bal
        assert self.bond.totalSupply() == sum(chain_bal.values())

    def invariant_locks(self):
        """Frozen and escrowed units match the model and never exceed the balance."""
        for w in self.wallets:
            frozen_tokens, escrowed = self.bond.getFrozenTokens(w), self.bond.escrowedOf(w)
            assert (frozen_tokens, escrowed) == (self.frozen_tokens[w], self.escrow[w])
            assert frozen_tokens + escrowed <= self.bal[w]  # self.bal is checked against balanceOf
            assert self.bond.isFrozen(w) == self.frozen[w]

    def invariant_unregistered_gain_nothing(self):
        """A wallet that is not registered never gains units."""
        for w in self.wallets:
            if not self.registry.isEligible(w):
                assert not self._eligible(w)
                assert self.bal[w] <= self.last_seen[w]
        assert self.bal[self.wallets[5]] == 0
        self.last_seen = dict(self.bal)

    def invariant_record_dates(self):
        """balanceOfAt and totalSupplyAt at every passed record date match the model's history."""
        now = chain[-1].timestamp
        for date in self.dates:
            if date > now:
                break
            at = [b for t, b in self.history if t < date][-1]
            for w in self.wallets:
                assert self.bond.balanceOfAt(w, date) == at[w]
            assert self.bond.totalSupplyAt(date) == sum(at.values())


@pytest.mark.long
def test_bond_stateful(GreenBond, terms, registry, registrar, register, admin, agent, accounts, state_machine,
                       error_msg, reason):
    start = chain.time()
    dates = [start + SPACING * (i + 1) for i in range(COUPONS)]
    t = list(terms)
    t[10], t[11], t[12], t[13] = start, dates[-1], HOUR, dates
    bond = GreenBond.deploy(tuple(t), registry, admin, {"from": admin})
    for role in ("AGENT_ROLE", "MINTER_ROLE", "BURNER_ROLE", "FREEZER_ROLE", "FORCED_TRANSFER_ROLE", "RECOVERY_ROLE"):
        bond.grantRole(getattr(bond, role)(), agent, {"from": admin})
    wallets = [accounts[i] for i in (3, 4, 5, 6, 7, 9)]  # alice, bob, carol, dave, erin, outsider
    for i, w in enumerate(wallets[:5]):
        register(w, INVESTOR[i])
    bond.mint(wallets[0], 100, {"from": agent})
    bond.mint(wallets[1], 50, {"from": agent})
    initial = {w: bond.balanceOf(w) for w in wallets}
    # every step checks forty-odd views: 15 runs of up to 25 steps (brownie-config) keep this to a
    # couple of minutes on Anvil and on Ganache. Each rule draws several values, so hypothesis's
    # data_too_large health check (about generation efficiency, not about the bond) fired once on
    # Ganache; it is suppressed, every invariant still runs after every step.
    state_machine(
        StateMachine, bond, registry, registrar, admin, agent, wallets, initial, error_msg, reason,
        settings={"max_examples": 15 * FUZZ_FACTOR, "suppress_health_check": [HealthCheck.data_too_large]},
    )
