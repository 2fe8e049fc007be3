"""The whole system under one random schedule: bond, registry, coupon schedule and impact oracle.

The suite is deployed the way production deploys it (greenbond.deploy.deploy_suite: the schedule
holds AGENT_ROLE on the bond to burn redeemed units, the bond names the oracle, the oracle has the
default facilities, methodology v1 and the 2-of-3 dev signer set). The bond is short (three
monthly coupons, issued at the next JST midnight) so a run crosses record dates, payment dates and
maturity. Each step is one of: a holder transfer, an issue, a forced transfer, a freeze, a pause,
a registry change, time passing, funding or paying a coupon, funding or taking the redemption, and
signed hourly reports for the two facilities (batches, corrections, replays). An independent
Python model predicts every outcome (success or the exact custom error) and every amount.

After every step, read in one JSON-RPC batch:
* supply equals the sum of the balances and the model; at every passed record date too;
* the schedule holds what it owes: its settlement balance equals the coupons funded and not paid
  plus the principal funded and not redeemed, and once the redemption is funded that principal
  covers every outstanding unit at par;
* nobody is paid a coupon twice, and every holder received exactly the model's amount;
* no stored report is overwritten (each reads as first read, but for the supersededBy link);
* the facility and bond totals equal the sums over the reports in force, recomputed here from
  the signed figures (J = Wh x 9760, mg = Wh x 462), not through greenbond.impact.

`make fuzz` runs it with GREENBOND_FUZZ_FACTOR=10 times the examples CI runs.
"""

import datetime as dt
import os
import sys
from pathlib import Path

import brownie
import pytest
from brownie import chain, network, project, web3
from brownie.test import strategy
from hypothesis import HealthCheck

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ImpactOracle"))
from oracle_kit import Reverted, batch_read, tdiv  # noqa: E402

from greenbond.config import load_terms  # noqa: E402
from greenbond.deploy import deploy_suite  # noqa: E402
from greenbond.impact.methodology import fiscal_year  # noqa: E402
from greenbond.oracle.setup import DEV_THRESHOLD, dev_signer_keys  # noqa: E402
from greenbond.oracle.signing import HourlyReport, sign_report  # noqa: E402
from greenbond.schedule_bench import bench_bond_toml  # noqa: E402

FUZZ_FACTOR = max(1, int(os.environ.get("GREENBOND_FUZZ_FACTOR", "1")))

DAY, HOUR = 86_400, 3_600
JST = dt.timezone(dt.timedelta(hours=9))
PAR = 1_000_000
UNITS = 1_000                   # issue volume in units
MONTHS = 3                      # three monthly coupons; maturity on the third
START = [120, 80, 40, 0]        # units issued to the four holders before the run
GUARD = 120                     # never act within this margin before a date (nor 2 s after)
BUILDING, SOLAR = 1, 2
MAX_WH = {BUILDING: 3_000_000, SOLAR: 500_000}   # config/facilities/default.toml max_kw x 1 h
PEF, GRAMS = 9_760, 462         # methodology v1: J per Wh, mg per Wh
OK = "OK"
TALLY: dict = {}                # outcomes over all runs, printed at the end (pytest -s)


@pytest.fixture(scope="module")
def system(accounts, tmp_path_factory):
    """The suite deployed by deploy_suite into a deployments folder of its own."""
    chain.mine()
    issue = (dt.datetime.fromtimestamp(chain.time() + DAY, JST)).date()
    config = tmp_path_factory.mktemp("system") / "bond.toml"
    config.write_text(bench_bond_toml(issue, months=MONTHS, units=UNITS), encoding="utf-8")
    terms = load_terms(config)
    issuer = accounts[0]
    suite = deploy_suite(project.get_loaded_projects()[0], web3, issuer, terms, network_name=network.show_active(),
                         development=True, log=lambda _m: None, directory=tmp_path_factory.mktemp("deployments"))
    bond, registry, schedule, token, oracle = suite.bond, suite.registry, suite.schedule, suite.settlement, suite.oracle
    holders = [accounts[i] for i in (3, 4, 5, 6)]
    for n, h in enumerate(holders, start=1):
        registry.registerHolder(h, "0x" + f"{n:064x}", 392, chain.time() + 3650 * DAY, "0x01", {"from": issuer})
    token.mint(issuer, 10**15, {"from": issuer})
    token.approve(schedule, 2**256 - 1, {"from": issuer})
    # issue date: the schedule's first period starts there
    chain.sleep(max(0, bond.issueDate() + 2 - chain.time()))
    chain.mine()
    bond.batchMint(holders[:3], START[:3], {"from": issuer})
    return suite, issuer, holders


class SystemMachine:
    """See the module docstring."""

    st_holder = strategy("uint8", max_value=3)
    st_other = strategy("uint8", max_value=4)          # 4: the outsider (never registered)
    st_amount = strategy("uint8", min_value=1, max_value=60)
    st_coupon = strategy("uint8", max_value=MONTHS - 1)
    st_batch = strategy("uint8[]", max_value=3, max_length=4)
    st_flag = strategy("bool")
    st_sleep = strategy("uint32", min_value=HOUR, max_value=12 * DAY)
    st_small = strategy("uint16", max_value=7_200)
    st_facility = strategy("uint8", min_value=1, max_value=2)
    st_hours = strategy("uint8", min_value=1, max_value=3)
    st_gap = strategy("uint8", max_value=2)
    st_frac = strategy("uint16", max_value=1_040)     # per mille of the bound; > 1000 is out of bounds
    st_pick = strategy("uint32")
    st_phase = strategy("uint8", max_value=7)
    st_transfers = strategy("uint8[2][]", max_value=3, max_length=3)

    def __init__(cls, suite, issuer, holders, outsider, revert_with):
        cls.bond, cls.registry, cls.s = suite.bond, suite.registry, suite.schedule
        cls.token, cls.oracle = suite.settlement, suite.oracle
        cls.issuer = issuer
        cls.holders = list(holders)
        cls.wallets = cls.holders + [outsider]
        cls.revert_with = staticmethod(revert_with)
        n = cls.s.couponCount()
        cls.records = [cls.s.recordDate(i) for i in range(n)]
        cls.dates = [cls.s.couponDate(i) for i in range(n)]
        cls.per_unit = [cls.s.couponPerUnit(i) for i in range(n)]
        cls.maturity = cls.s.redemptionDate()
        cls.boundaries = sorted(set(cls.records + cls.dates + [cls.maturity]))
        cls.keys = dev_signer_keys()
        cls.chain_id = web3.eth.chain_id
        cls.start_end = {f: cls.oracle.lastPeriodEnd(f) for f in (BUILDING, SOLAR)}
        cls.issuer_start = cls.token.balanceOf(issuer)
        assert cls.bond.impactOracle() == cls.oracle.address

    def setup(self):
        self.bal = {w: 0 for w in self.wallets}
        for h, units in zip(self.holders, START):
            self.bal[h] = units
        self.eligible = {w: w in self.holders for w in self.wallets}
        self.frozen = {w: False for w in self.wallets}
        self.paused = False
        self.rec = [None] * len(self.records)           # balances at each record date, once passed
        self.funded = [False] * len(self.records)
        self.held = [0] * len(self.records)
        self.paid = [set() for _ in self.records]
        self.received = {w: 0 for w in self.wallets}
        self.principal = 0                               # principal funded and not yet redeemed
        self.red_funded = False
        self.issuer_net = 0                              # pulled from the issuer (paying agent)
        self.reports = {BUILDING: [], SOLAR: []}         # per report: fields, supersededBy, first read
        self.last_end = dict(self.start_end)
        self.accepted = []                               # (reports, signatures) for replays
        self.now = chain.time()
        self._settle()

    # ---------------------------------------------------------------- time and the model

    def _settle(self):
        """Steps out of the margin around a date; record-date balances once a record date passed."""
        now = chain.time()
        for b in self.boundaries:
            if b - GUARD <= now < b + 2:
                chain.sleep(b + 2 - now)
                now = b + 2
        self.now = now
        for i, r in enumerate(self.records):
            if self.rec[i] is None and r <= now:
                self.rec[i] = dict(self.bal)

    def _same_side(self, tx):
        for b in self.boundaries:
            assert (self.now < b) == (tx.timestamp < b), "a date fell between prediction and mining"

    def _units(self, i, w):
        return self.rec[i][w] if self.rec[i] is not None else 0

    def _call(self, expected, fn, *args):
        """Sends; `expected` is None for success or (error name, args...) for the exact revert."""
        name = f"{fn._name}: " + (expected[0] if expected else "ok")
        TALLY[name] = TALLY.get(name, 0) + 1
        if expected is None:
            tx = fn(*args)
            self._same_side(tx)
            return tx
        with self.revert_with(*expected):
            fn(*args)
        return None

    def _transfer_reason(self, frm, to, amount):
        if self.paused:
            return "PAUSED"
        if self.frozen[frm]:
            return "SENDER_FROZEN"
        if self.frozen[to]:
            return "RECEIVER_FROZEN"
        if not self.eligible[to]:
            return "RECEIVER_NOT_ELIGIBLE"
        if self.bal[frm] < amount:
            return "INSUFFICIENT_BALANCE"
        return OK

    def _paid_events(self, tx):
        for ev in tx.events["CouponPaid"] if "CouponPaid" in tx.events else []:
            i, h = ev["index"], ev["holder"]
            assert h not in self.paid[i], f"coupon {i} paid twice to {h}"
            expected = self._units(i, h) * self.per_unit[i]
            assert ev["amount"] == expected and expected > 0
            self.paid[i].add(h)
            self.held[i] -= expected
            self.received[h] += expected

    # ---------------------------------------------------------------- bond rules

    def rule_transfer(self, st_holder, st_other, st_amount):
        """A holder sells units (to another holder, or to the unregistered outsider)."""
        self._settle()
        frm, to = self.holders[st_holder], self.wallets[st_other]
        why = self._transfer_reason(frm, to, st_amount)
        expected = None if why == OK else ("GreenBondTransferNotAllowed", frm, to, st_amount, why)
        if self._call(expected, self.bond.transfer, to, st_amount, {"from": frm}):
            self.bal[frm] -= st_amount
            self.bal[to] += st_amount

    def rule_issue(self, st_holder, st_amount):
        """The agent issues more units (up to the issue volume; never after maturity)."""
        self._settle()
        to, amount = self.holders[st_holder], st_amount * 5
        available = UNITS - sum(self.bal.values())
        if self.now >= self.maturity:
            expected = ("GreenBondMatured", self.maturity)
        elif not self.eligible[to]:
            expected = ("GreenBondNotEligible", to)
        elif amount > available:
            expected = ("GreenBondIssueVolumeExceeded", amount, available)
        elif self.paused:
            expected = ("EnforcedPause",)
        else:
            expected = None
        if self._call(expected, self.bond.mint, to, amount, {"from": self.issuer}):
            self.bal[to] += amount

    def rule_forced_transfer(self, st_holder, st_other, st_amount):
        """The agent moves units between wallets (court order, error correction)."""
        self._settle()
        frm, to = self.holders[st_holder], self.wallets[st_other]
        if frm == to:
            expected = ("GreenBondSelfTransfer", frm)
        elif not self.eligible[to]:
            expected = ("GreenBondNotEligible", to)
        elif st_amount > self.bal[frm]:
            expected = ("GreenBondInsufficientUnlocked", frm, self.bal[frm], st_amount)
        elif self.paused:
            expected = ("EnforcedPause",)
        else:
            expected = None
        if self._call(expected, self.bond.forcedTransfer, frm, to, st_amount, {"from": self.issuer}):
            self.bal[frm] -= st_amount
            self.bal[to] += st_amount

    def rule_freeze(self, st_holder, st_flag):
        """The agent freezes or unfreezes a wallet (frozen wallets can neither trade nor collect)."""
        self._settle()
        w = self.holders[st_holder]
        self.bond.setAddressFrozen(w, st_flag, {"from": self.issuer})
        self.frozen[w] = st_flag

    def rule_pause(self, st_flag):
        """The issuer pauses or unpauses the bond (the oracle keeps reporting either way)."""
        self._settle()
        if st_flag != self.paused:
            (self.bond.pause if st_flag else self.bond.unpause)({"from": self.issuer})
            self.paused = st_flag

    def rule_registry(self, st_holder):
        """The registrar removes a holder from the registry, or registers it again."""
        self._settle()
        w = self.holders[st_holder]
        if self.eligible[w]:
            self.registry.removeHolder(w, {"from": self.issuer})
        else:
            self.registry.registerHolder(w, "0x" + f"{st_holder + 1:064x}", 392, chain.time() + 3650 * DAY, "0x01",
                                         {"from": self.issuer})
        self.eligible[w] = not self.eligible[w]

    # ---------------------------------------------------------------- time

    def initialize_phase(self, st_phase, st_transfers, st_flag):
        """Each run starts in a random phase of the bond's life (before, between or after its
        dates: the simplest draw is just after the second record date), some units having moved
        first, and, unless `st_flag`, every coupon whose record date passed funded."""
        for a, b in st_transfers:
            self.rule_transfer(a, b, 7)
        phase = (st_phase + 3) % (len(self.boundaries) + 1)
        if phase:
            target = self.boundaries[phase - 1] + 2
            if chain.time() < target:
                chain.sleep(target - chain.time())
                chain.mine()
        self._settle()
        if not st_flag:
            for i, r in enumerate(self.records):
                if r < self.now:
                    self.rule_fund_coupon(i)

    def rule_sleep(self, st_sleep):
        """Time passes, across record dates, payment dates and maturity."""
        chain.sleep(st_sleep)
        chain.mine()
        self._settle()

    def _jump(self, ts):
        """Time moves to just after `ts` if it is still ahead (keeps runs short)."""
        if chain.time() < ts + 2:
            chain.sleep(ts + 2 - chain.time())
            chain.mine()
        self._settle()

    def rule_next_date(self, st_small):
        """Time jumps to just after the next record date, payment date or maturity."""
        later = [b for b in self.boundaries if b > chain.time()]
        if later:
            chain.sleep(later[0] + 2 + st_small - chain.time())
            chain.mine()
        self._settle()

    # ---------------------------------------------------------------- schedule rules

    def rule_fund_coupon(self, st_coupon):
        """The paying agent funds a coupon: units at the record date x the coupon per unit."""
        self._settle()
        i = st_coupon
        if self.funded[i]:
            expected = ("ScheduleAlreadyFunded", i)
        elif self.now < self.records[i]:
            expected = ("ScheduleRecordDateNotReached", i, self.records[i])
        else:
            expected = None
        tx = self._call(expected, self.s.fundCoupon, i, {"from": self.issuer})
        if tx:
            amount = sum(self.rec[i].values()) * self.per_unit[i]
            assert tx.events["CouponFunded"]["amount"] == amount
            self.funded[i], self.held[i] = True, amount
            self.issuer_net += amount

    def rule_claim(self, st_holder, st_coupon, st_flag):
        """A holder claims a coupon (unless `st_flag`, once its payment date has come)."""
        self._jump(self.dates[st_coupon]) if not st_flag else self._settle()
        h, i = self.holders[st_holder], st_coupon
        if self.frozen[h]:
            expected = ("ScheduleHolderFrozen", h)
        elif self.now < self.dates[i]:
            expected = ("SchedulePaymentDateNotReached", i, self.dates[i])
        elif not self.funded[i]:
            expected = ("ScheduleNotFunded", i)
        elif h in self.paid[i]:
            expected = ("ScheduleAlreadyPaid", i, h)
        elif self._units(i, h) == 0:
            expected = ("ScheduleNothingOwed", i, h)
        else:
            expected = None
        tx = self._call(expected, self.s.claimCoupon, i, {"from": h})
        if tx:
            assert tx.return_value == self._units(i, h) * self.per_unit[i]
            self._paid_events(tx)

    def rule_distribute(self, st_coupon, st_batch, st_flag):
        """The paying agent pushes a coupon to a batch of holders (repeats and frozen ones
        included; unless `st_flag`, once its payment date has come)."""
        self._jump(self.dates[st_coupon]) if not st_flag else self._settle()
        i = st_coupon
        batch = [self.holders[k] for k in st_batch]
        if self.now < self.dates[i]:
            expected = ("SchedulePaymentDateNotReached", i, self.dates[i])
        elif not self.funded[i]:
            expected = ("ScheduleNotFunded", i)
        else:
            expected = None
        tx = self._call(expected, self.s.distributeCoupon, i, batch, {"from": self.issuer})
        if tx:
            owed = []
            for h in batch:
                if h not in self.paid[i] and h not in owed and self._units(i, h):
                    owed.append(h)
            got = [ev["holder"] for ev in tx.events["CouponPaid"]] if "CouponPaid" in tx.events else []
            assert got == owed
            self._paid_events(tx)

    def rule_fund_redemption(self):
        """The paying agent funds the principal of every outstanding unit (again after new issues)."""
        self._settle()
        owed = sum(self.bal.values()) * PAR
        if self.red_funded and self.principal >= owed:
            expected = ("ScheduleRedemptionAlreadyFunded",)
        else:
            expected = None
        tx = self._call(expected, self.s.fundRedemption, {"from": self.issuer})
        if tx:
            assert tx.events["RedemptionFunded"]["amount"] == owed - self.principal
            self.issuer_net += owed - self.principal
            self.principal, self.red_funded = owed, True

    def rule_redeem(self, st_holder, st_flag):
        """A holder redeems every unit at par, at or after maturity (unless `st_flag`, time
        first moves to maturity); the schedule burns them."""
        self._jump(self.maturity) if not st_flag else self._settle()
        h = self.holders[st_holder]
        short = sum(self.bal.values()) * PAR - self.principal
        if self.frozen[h]:
            expected = ("ScheduleHolderFrozen", h)
        elif self.now < self.maturity:
            expected = ("ScheduleNotMatured", self.maturity)
        elif not self.red_funded:
            expected = ("ScheduleRedemptionNotFunded",)
        elif short > 0:
            expected = ("ScheduleRedemptionUnderfunded", short)
        elif self.bal[h] == 0:
            expected = ("ScheduleNothingToRedeem", h)
        elif self.paused:
            expected = ("EnforcedPause",)
        else:
            expected = None
        tx = self._call(expected, self.s.redeem, {"from": h})
        if tx:
            amount = self.bal[h] * PAR
            assert tx.return_value == amount
            self.bal[h] = 0
            self.principal -= amount
            self.received[h] += amount

    # ---------------------------------------------------------------- oracle rules

    def _report(self, facility, start, frac, supersedes=0):
        cap = MAX_WH[facility]
        actual = cap * frac // 1000
        benchmark = 0 if facility == SOLAR else min(cap, cap * (1000 - frac % 1000) // 1000 + actual // 2)
        return HourlyReport(facility, start, actual, benchmark, 2 + frac % 5, frac % 3,
                            (frac * 7919 + start).to_bytes(32, "big"), 1,
                            fiscal_year(dt.datetime.fromtimestamp(start, dt.timezone.utc)),
                            self.oracle.signerSetVersion(), supersedes)

    def _sign(self, r, keys):
        return [sign_report(r, k.key, self.chain_id, self.oracle.address) for k in keys]

    def _check(self, reports, r, last_end):
        f = r.facilityId
        if r.supersedes == 0 and r.periodStart < last_end[f]:
            return ("OracleStaleReport", f, r.periodStart, last_end[f])
        if r.supersedes:
            stored = reports[f]
            if (r.supersedes > len(stored) or stored[r.supersedes - 1]["by"]
                    or stored[r.supersedes - 1]["fields"][0] != r.periodStart):
                return ("OracleBadCorrection", f, r.supersedes)
        if r.actualWh > MAX_WH[f]:
            return ("OracleOutOfBounds", "actualWh", r.actualWh, MAX_WH[f])
        assert r.periodStart + HOUR <= self.now - GUARD, "the rules only send closed hours"
        return None

    def _submit(self, reports, sigs):
        """Sends reports predicted in order against a copy of the model; stores them on success."""
        import copy

        self._settle()
        model, last_end = copy.deepcopy(self.reports), dict(self.last_end)
        expected = None
        for r in reports:
            expected = self._check(model, r, last_end)
            if expected:
                break
            red = (r.benchmarkWh - r.actualWh) if r.facilityId == BUILDING else r.actualWh
            fields = (r.periodStart, r.actualWh, r.benchmarkWh, r.readingCount, r.qualityFlags, red * PEF,
                      red * GRAMS, 1, r.factorYear, r.signerSetVersion, r.supersedes, "0x" + r.readingsRoot.hex())
            model[r.facilityId].append({"fields": fields, "by": 0, "first": None})
            if r.supersedes:
                model[r.facilityId][r.supersedes - 1]["by"] = len(model[r.facilityId])
            else:
                last_end[r.facilityId] = r.periodStart + HOUR
        args = ([r.as_tuple() for r in reports], sigs, {"from": self.issuer})
        if self._call(expected, self.oracle.submitReports, *args):
            self.reports, self.last_end = model, last_end
            self.accepted.append((reports, sigs))
            return True
        return False

    def rule_report_hours(self, st_facility, st_hours, st_gap, st_frac):
        """The transmitter sends the next hours of a facility (maybe after a gap), 2-of-3 signed."""
        self._settle()
        closed_end = (self.now - GUARD) // HOUR * HOUR   # hours ending by then are closed when mined
        # recent hours (a run spans months of chain time), never one that is not closed yet
        start = max(self.last_end[st_facility] + st_gap * HOUR, closed_end - 6 * HOUR)
        st_hours = min(st_hours, (closed_end - start) // HOUR)
        if st_hours <= 0:
            return
        reports = [self._report(st_facility, start + k * HOUR, (st_frac + 211 * k) % 1041) for k in range(st_hours)]
        self._submit(reports, [self._sign(r, self.keys[:DEV_THRESHOLD]) for r in reports])

    def rule_correct(self, st_facility, st_pick, st_frac):
        """A correction of an earlier report of a facility (or of one already corrected: refused)."""
        stored = self.reports[st_facility]
        if not stored:
            return
        k = st_pick % len(stored)
        r = self._report(st_facility, stored[k]["fields"][0], st_frac, supersedes=k + 1)
        self._submit([r], [self._sign(r, self.keys[1:1 + DEV_THRESHOLD])])

    def rule_replay(self, st_pick):
        """An accepted submission sent again with its signatures: never accepted twice."""
        if self.accepted:
            reports, sigs = self.accepted[st_pick % len(self.accepted)]
            assert not self._submit(reports, sigs)

    def rule_too_few_signatures(self, st_facility):
        """One signature where two are needed: refused, nothing stored."""
        self._settle()
        r = self._report(st_facility, max(self.last_end[st_facility], (self.now - GUARD) // HOUR * HOUR - HOUR), 500)
        if r.periodStart + HOUR > self.now - GUARD:
            return
        with self.revert_with("OracleTooFewSignatures", 1, DEV_THRESHOLD):
            self.oracle.submitReports([r.as_tuple()], [self._sign(r, self.keys[:1])], {"from": self.issuer})

    def rule_hour_not_closed(self, st_facility):
        """An hour that has not ended yet: refused whatever the signatures."""
        self._settle()
        r = self._report(st_facility, max(self.last_end[st_facility], (self.now // HOUR + 1) * HOUR), 500)
        try:
            self.oracle.submitReports([r.as_tuple()], [self._sign(r, self.keys[:DEV_THRESHOLD])], {"from": self.issuer})
        except brownie.exceptions.VirtualMachineError as exc:
            assert str(exc.revert_msg).startswith(f"OraclePeriodNotClosed: {r.periodStart}, "), exc.revert_msg
        else:
            raise AssertionError("a report for an hour not yet closed was accepted")

    # ---------------------------------------------------------------- invariants

    def invariant_system(self):
        """Everything, from one batch of reads (see the module docstring)."""
        b, s, t, o = self.bond, self.s, self.token, self.oracle
        # views read at the latest block: a record date the clock passed may lie after it
        latest = web3.eth.get_block("latest")["timestamp"]
        passed = [i for i, r in enumerate(self.records) if self.rec[i] is not None and r <= latest]
        calls = [(b, "totalSupply", ())]
        calls += [(b, "balanceOf", (w,)) for w in self.wallets]
        for i in passed:
            calls += [(b, "totalSupplyAt", (self.records[i],))]
            calls += [(b, "balanceOfAt", (w, self.records[i])) for w in self.wallets]
        calls += [(s, "couponHeld", (i,)) for i in range(len(self.records))]
        calls += [(s, "principalHeld", ()), (s, "redemptionFunded", ()), (t, "balanceOf", (s.address,)),
                  (t, "balanceOf", (self.issuer.address,))]
        calls += [(t, "balanceOf", (w,)) for w in self.wallets]
        calls += [(o, "lastPeriodEnd", (f,)) for f in (BUILDING, SOLAR)]
        calls += [(o, "reportCount", (f,)) for f in (BUILDING, SOLAR)]
        calls += [(o, "report", (f, k)) for f in (BUILDING, SOLAR) for k in range(len(self.reports[f]))]
        calls += [(o, "facilityTotals", (f,)) for f in (BUILDING, SOLAR)] + [(o, "bondTotals", ())]
        values = batch_read(o, calls)
        assert not [v for v in values if isinstance(v, Reverted)]
        got = iter(values)

        # supply equals the sum of balances, now and at every passed record date
        supply = next(got)
        balances = {w: next(got) for w in self.wallets}
        assert balances == self.bal
        assert supply == sum(balances.values()) <= UNITS
        for i in passed:
            at_supply = next(got)
            at = {w: next(got) for w in self.wallets}
            assert at == self.rec[i], f"record date {i}"
            assert at_supply == sum(at.values())

        # the schedule holds exactly what it owes; funded principal covers every unit
        held = [next(got) for _ in self.records]
        principal, red_funded, schedule_cash, issuer_cash = next(got), next(got), next(got), next(got)
        assert held == self.held
        assert principal == self.principal <= supply * PAR
        assert red_funded == (self.red_funded and principal == supply * PAR)
        assert schedule_cash == sum(held) + principal
        for i in (i for i in range(len(self.records)) if self.rec[i] is not None):
            owed = sum(self.rec[i].values()) * self.per_unit[i]
            paid = sum(self._units(i, h) * self.per_unit[i] for h in self.paid[i])
            assert paid <= owed and (not self.funded[i] or self.held[i] == owed - paid)
        assert self.issuer_start - issuer_cash == self.issuer_net
        # no double payment: each holder received exactly the model's coupons and principal
        assert {w: next(got) for w in self.wallets} == self.received

        # the oracle: forward only, nothing overwritten, totals are sums of the reports in force
        ends = {f: next(got) for f in (BUILDING, SOLAR)}
        assert ends == self.last_end
        assert [next(got) for _ in (BUILDING, SOLAR)] == [len(self.reports[f]) for f in (BUILDING, SOLAR)]
        for f in (BUILDING, SOLAR):
            for k, e in enumerate(self.reports[f]):
                stored = next(got)
                fields = stored[:11] + stored[12:]
                assert fields == e["fields"], (f, k)
                assert stored[11] == e["by"], (f, k)
                e["first"] = e["first"] or fields
                assert fields == e["first"], (f, k)
        all_j = all_mg = 0
        for f in (BUILDING, SOLAR):
            live = [e["fields"] for e in self.reports[f] if not e["by"]]
            j, mg = sum(x[5] for x in live), sum(x[6] for x in live)
            all_j, all_mg = all_j + j, all_mg + mg
            assert next(got) == (tdiv(j, 10**6), tdiv(mg, 1000), j, mg), f
        assert next(got) == (tdiv(all_j, 10**6), tdiv(all_mg, 1000), all_j, all_mg)

    def teardown(self):
        """Every holder holds and received what the model says; the issuer paid what was pulled."""
        for w in self.wallets:
            assert self.token.balanceOf(w) == self.received[w]
        assert self.issuer_start - self.token.balanceOf(self.issuer) == self.issuer_net


def test_system_stateful(system, accounts, state_machine, revert_with):
    suite, issuer, holders = system
    # Ganache takes several times as long a transaction as Anvil: a smaller budget there
    examples = 40 if network.show_active() == "development" else 15
    settings = {"max_examples": examples * FUZZ_FACTOR, "stateful_step_count": 40,
                "suppress_health_check": [HealthCheck.data_too_large]}
    per_unit = PAR * 5_980 // (1_000_000 * 12)   # monthly, regular periods: 498 yen a unit
    assert [suite.schedule.couponPerUnit(i) for i in range(MONTHS)] == [per_unit] * MONTHS
    TALLY.clear()
    state_machine(SystemMachine, suite, issuer, holders, accounts[9], revert_with, settings=settings)
    print("\noutcomes:", dict(sorted(TALLY.items())))
