"""Stateful property test of the oracle against an independent Python model.

Random submissions (single and batched, forward or filling earlier gaps, random Wh, random signer
subsets including too few, duplicates and outsiders), corrections (valid and not), replays,
allocation versions of two bonds (valid and backdated), signer set changes, facilities switched
off and on, and time passing. The model predicts, for every submission, either the exact custom
error or the stored figures; the invariants then hold after every step:
  - the totals of each facility equal the sum over non-superseded reports, computed in Python
    (J, mg, and MJ / g truncated toward zero); each bond's totals are, per allocation period of
    each facility, the period's sums times the bond's allocation in force, truncated toward zero;
  - every hour is reported once: the coverage counts and the reported-hours bitmap are the
    model's hours, and the estimated hours those whose report in force has quality bit 0;
  - no stored report is ever overwritten: each report reads as it was first read, but for the
    supersededBy link a correction sets, and as the model predicts it;
  - lastPeriodEnd (the end of the latest reported hour) only moves forward;
  - a rejected submission changed nothing (the full state still equals the model, which a
    rejection leaves untouched, and the feed's round did not move).
"""

import copy
import importlib.util
import os
from pathlib import Path

import brownie.test
import pytest
from brownie import chain, network
from hypothesis import strategies as st

from oracle_kit import (
    BOND, OTHER_BOND, BUILDING_COST, BUILDING, BUILDING_MAX_WH, HEARTBEAT, HOUR, MODEL_ID, SOLAR, SOLAR_MAX_WH, THRESHOLD, Reverted, batch_read, tdiv,
)

# `make fuzz` sets GREENBOND_FUZZ_FACTOR=10: max_examples below times that; unset = the CI numbers.
FUZZ_FACTOR = max(1, int(os.environ.get("GREENBOND_FUZZ_FACTOR", "1")))


def _brownie_state_machine():
    """Brownie's `state_machine`, from its pure-Python source.

    eth-brownie 1.22.2 ships brownie/test/stateful as a mypyc-compiled module whose
    `state_machine` fails on every machine ("TypeError: brownie.test.stateful._BrownieStateMachine
    object expected; got ...BrownieStateMachine"): the compiled base class rejects the subclass it
    generates. The wheel also ships the same module's .py source; loaded under another name it
    runs as written (snapshot, chain.revert before each run, setup, rule_/invariant_ methods)."""
    if getattr(brownie.test.stateful, "__file__", "").endswith(".py"):
        return brownie.test.stateful.state_machine
    source = Path(brownie.test.__file__).with_name("stateful.py")
    spec = importlib.util.spec_from_file_location("_brownie_stateful_source", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.state_machine


state_machine = _brownie_state_machine()

MAX = {BUILDING: BUILDING_MAX_WH, SOLAR: SOLAR_MAX_WH}
PEF = {1: 9760, 2: 8640}
GRAMS = {(1, 2024): 462, (1, 2026): 462, (2, 2024): 450, (2, 2025): 431}
# Ganache takes ~0.25 s a transaction against ~0.02 s on Anvil: a smaller budget there.
SETTINGS = {"development": {"max_examples": 25 * FUZZ_FACTOR, "stateful_step_count": 25},
            "ganache-cli": {"max_examples": 15 * FUZZ_FACTOR, "stateful_step_count": 20}}
TALLY: dict = {}   # outcomes over all runs, printed at the end (pytest -s)
MODES = ["valid", "valid", "valid", "valid", "few", "dup", "outsider", "random"]


def reduction(facility, actual, benchmark):
    return benchmark - actual if facility == BUILDING else actual


class OracleMachine:
    """Drives the oracle with random submissions and checks it against a Python model."""

    st_facility = st.sampled_from([BUILDING, SOLAR])
    st_gap = st.integers(min_value=0, max_value=3)
    st_frac = st.integers(min_value=0, max_value=1040)          # per mille of the bound; > 1000 is out of bounds
    st_method = st.sampled_from(sorted(GRAMS))
    st_sign = st.tuples(st.sampled_from(MODES), st.permutations(range(7)), st.integers(min_value=0, max_value=6))
    st_pick = st.integers(min_value=0, max_value=10**6)
    st_size = st.integers(min_value=2, max_value=3)
    st_bool = st.booleans()
    st_seconds = st.integers(min_value=1, max_value=3 * 86_400)
    st_members = st.lists(st.integers(min_value=0, max_value=6), min_size=0, max_size=8)
    st_threshold = st.integers(min_value=0, max_value=9)
    st_bond = st.sampled_from([BOND, OTHER_BOND])
    st_alloc = st.tuples(st.integers(min_value=0, max_value=7), st.integers(min_value=1, max_value=7))
    st_shift = st.integers(min_value=-2, max_value=4)

    def __init__(cls, kit, oracle, admin, revert_with, error_msg):
        cls.kit = kit
        cls.oracle = oracle
        cls.admin = admin
        cls.revert_with = staticmethod(revert_with)
        cls.error_message = staticmethod(error_msg)
        cls.pool = list(kit.signers) + list(kit.outsiders)   # 7 keys: 4 signers, 3 outsiders
        cls.tally = TALLY

    def setup(self):
        self.m = {
            "reports": {BUILDING: [], SOLAR: []},   # dicts: fields (StoredReport without supersededBy), by, first
            "last_end": {BUILDING: self.kit.start, SOLAR: self.kit.start},
            "hours": {BUILDING: set(), SOLAR: set()},
            # allocation versions per (facility, bond) and period starts per facility, as the
            # fixture set them: BOND finances the whole building from the start
            "alloc": {(BUILDING, BOND): [(self.kit.start, BUILDING_COST, BUILDING_COST)]},
            "pstarts": {BUILDING: [self.kit.start], SOLAR: [self.kit.start]},
            "active": {BUILDING: True, SOLAR: True},
            "sets": {1: ([k.address for k in self.kit.signers], THRESHOLD)},
            "version": 1,
            "round": None,
        }
        self.accepted = []        # (reports, key lists) of accepted submissions, for replays
        self.seen_end = dict(self.m["last_end"])

    # ------------------------------------------------------------ model

    def keys_for(self, sign, version=None):
        """Pool keys chosen by a (mode, permutation, extra) draw against signer set `version`."""
        mode, perm, extra = sign
        addrs, k = self.m["sets"][version or self.m["version"]]
        members = [self.pool[i] for i in perm if self.pool[i].address in addrs]
        others = [self.pool[i] for i in perm if self.pool[i].address not in addrs]
        if mode == "valid":
            return members[: k + extra % (len(members) - k + 1)]
        if mode == "few":
            return members[: k - 1]
        if mode == "dup":
            chosen = members[:k]
            chosen.insert(extra % (len(chosen) + 1), chosen[extra % len(chosen)])
            return chosen
        if mode == "outsider" and others:
            chosen = members[:k]
            chosen.insert(extra % (k + 1), others[0])
            return chosen
        return [self.pool[perm[(i * (extra + 1)) % 7]] for i in range(extra % 6)]

    def check(self, m, r, keys):
        """The custom error ImpactOracle raises for report `r` in model state `m`, or None."""
        f = r.facilityId
        if r.signerSetVersion != m["version"]:
            return ("OracleWrongSignerSet", r.signerSetVersion, m["version"])
        if not m["active"][f]:
            return ("OracleFacilityInactive", f)
        if r.periodStart < self.kit.start:
            return ("OraclePeriodBeforeStart", r.periodStart, self.kit.start)
        reports = m["reports"][f]
        if r.supersedes == 0:
            if r.periodStart in m["hours"][f]:
                return ("OracleHourAlreadyReported", f, r.periodStart)
        elif (r.supersedes > len(reports) or reports[r.supersedes - 1]["by"]
              or reports[r.supersedes - 1]["fields"][0] != r.periodStart):
            return ("OracleBadCorrection", f, r.supersedes)
        if r.actualWh > MAX[f]:
            return ("OracleOutOfBounds", "actualWh", r.actualWh, MAX[f])
        if r.benchmarkWh > MAX[f]:
            return ("OracleOutOfBounds", "benchmarkWh", r.benchmarkWh, MAX[f])
        if f == SOLAR and r.benchmarkWh != 0:
            return ("OracleOutOfBounds", "benchmarkWh", r.benchmarkWh, 0)
        addrs, k = m["sets"][r.signerSetVersion]
        if len(keys) < k:
            return ("OracleTooFewSignatures", len(keys), k)
        seen = set()
        for key in keys:
            if key.address not in addrs:
                return ("OracleNotASigner", key.address)
            if key.address in seen:
                return ("OracleDuplicateSigner", key.address)
            seen.add(key.address)
        return None

    def store(self, m, r):
        f = r.facilityId
        red = reduction(f, r.actualWh, r.benchmarkWh)
        method = r.methodologyVersion
        reports = m["reports"][f]
        fields = (r.periodStart, r.actualWh, r.benchmarkWh, r.readingCount, r.qualityFlags, red * PEF[method],
                  red * GRAMS[(method, r.factorYear)], method, r.factorYear, r.signerSetVersion, r.supersedes,
                  "0x" + r.readingsRoot.hex())
        reports.append({"fields": fields, "by": 0, "first": None})
        if r.supersedes:
            reports[r.supersedes - 1]["by"] = len(reports)
        else:
            m["last_end"][f] = max(m["last_end"][f], r.periodStart + HOUR)
            m["hours"][f].add(r.periodStart)

    def send(self, reports, key_lists):
        """Submits; asserts the predicted error or stores what the model predicts."""
        m = copy.deepcopy(self.m)
        error = None if reports else ("OracleInvalidInput", "reports")
        for r, keys in zip(reports, key_lists):
            error = self.check(m, r, keys)
            if error:
                break
            self.store(m, r)
        sigs = [self.kit.sign(r, keys) for r, keys in zip(reports, key_lists)]
        if error:
            with self.revert_with(*error):
                self.kit.submit(*reports, sigs=sigs)
            self.tally[error[0]] = self.tally.get(error[0], 0) + 1
            return False
        tx = self.kit.submit(*reports, sigs=sigs)
        rid = m["round"][0] + 1 if m["round"] else 1
        m["round"] = (rid, max(r.periodStart for r in reports), tx.timestamp, rid)
        self.m = m
        self.accepted.append((reports, key_lists))
        self.tally["accepted"] = self.tally.get("accepted", 0) + 1
        self.tally["corrections"] = self.tally.get("corrections", 0) + sum(1 for r in reports if r.supersedes)
        return True

    @staticmethod
    def bond(m, bond):
        """The rule: per allocation period of each facility, its sums times the bond's version
        in force at the period's start (the last with effectiveFrom <= it), truncated toward zero."""
        j = mg = 0
        for f in (BUILDING, SOLAR):
            starts = m["pstarts"][f]
            versions = m["alloc"].get((f, bond), [])
            live = [e["fields"] for e in m["reports"][f] if not e["by"]]
            for p, start in enumerate(starts):
                end = starts[p + 1] if p + 1 < len(starts) else 2**64
                applying = [v for v in versions if v[0] <= start]
                if not applying:
                    continue
                _, allocated, cost = applying[-1]
                hours = [x for x in live if start <= x[0] < end]
                j += tdiv(sum(x[5] for x in hours) * allocated, cost)
                mg += tdiv(sum(x[6] for x in hours) * allocated, cost)
        return j, mg

    @staticmethod
    def totals(m, f):
        live = [e["fields"] for e in m["reports"][f] if not e["by"]]
        return sum(x[5] for x in live), sum(x[6] for x in live)

    def new_report(self, facility, hour_start, frac, bench_frac, method, flags=0, supersedes=0, version=None):
        cap = MAX[facility]
        actual = cap * frac // 1000
        if facility == SOLAR:
            benchmark = 0 if bench_frac <= 1000 else bench_frac   # sometimes a forbidden non-zero benchmark
        else:
            benchmark = cap * bench_frac // 1000
        return self.kit.report(facility, period_start=hour_start, actual=actual, benchmark=benchmark,
                               readings=1 + frac % 8, flags=flags, root=(frac * 7919 + bench_frac + 1).to_bytes(32, "big"),
                               methodology=method[0], year=method[1], signer_set=version or self.m["version"],
                               supersedes=supersedes)

    # ------------------------------------------------------------ rules

    def rule_submit(self, st_facility, st_gap, st_method, st_sign, a="st_frac", b="st_frac"):
        """One report for a forward hour (gap of 0-3 hours), random figures and signer subset."""
        start = self.m["last_end"][st_facility] + st_gap * HOUR
        r = self.new_report(st_facility, start, a, b, st_method, flags=st_gap)
        self.send([r], [self.keys_for(st_sign)])

    def rule_submit_batch(self, st_size, st_pick, st_method, st_bool, a="st_frac", b="st_frac"):
        """Several hours in one transaction over both facilities, each forward of the previous one;
        with st_bool one report is backward or out of bounds, and the whole batch must revert."""
        ends = dict(self.m["last_end"])
        reports = []
        for i in range(st_size):
            f = BUILDING if (st_pick >> i) & 1 else SOLAR
            reports.append(self.new_report(f, ends[f], (a + 97 * i) % 1001, b if f == BUILDING else 0, st_method))
            ends[f] += HOUR
        if st_bool:
            bad = st_pick % st_size
            r = reports[bad]
            if st_pick % 3 == 0:
                r = self.kit.report(r.facilityId, period_start=r.periodStart - HOUR, signer_set=self.m["version"])
            else:
                r = self.kit.report(r.facilityId, period_start=r.periodStart, actual=MAX[r.facilityId] + 1,
                                    signer_set=self.m["version"])
            reports[bad] = r
        keys = self.m["sets"][self.m["version"]]
        chosen = [k for k in self.pool if k.address in keys[0]][: keys[1]]
        self.send(reports, [chosen] * len(reports))

    def rule_fill_gap(self, st_facility, st_pick, st_method, st_bool, a="st_frac", b="st_frac"):
        """A late hour: one missing before the latest reported hour (accepted once), or with
        st_bool one already reported (refused)."""
        f = st_facility
        reported = sorted(self.m["hours"][f])
        missing = [h for h in range(self.kit.start, self.m["last_end"][f], HOUR) if h not in self.m["hours"][f]]
        pool = reported if st_bool or not missing else missing
        if not pool:
            return
        r = self.new_report(f, pool[st_pick % len(pool)], a, b, st_method, flags=st_pick % 2)
        chosen = self.keys_for(("valid", tuple(range(7)), 0))
        self.send([r], [chosen])

    def rule_allocate(self, st_facility, st_bond, st_alloc, st_shift):
        """An allocation version from an hour near the earliest allowed one (backdated when
        st_shift < 0: refused, nothing changes)."""
        f = st_facility
        earliest = max(self.m["last_end"][f], self.m["pstarts"][f][-1])
        effective = earliest + st_shift * HOUR
        allocated, cost = st_alloc[0] * 10**9, st_alloc[1] * 10**9
        if allocated > cost:
            with self.revert_with("OracleBadAllocation", allocated, cost):
                self.oracle.setAllocation(f, st_bond, allocated, cost, effective, {"from": self.admin})
            return
        if effective < earliest:
            with self.revert_with("OracleAllocationBackdated", f, effective, earliest):
                self.oracle.setAllocation(f, st_bond, allocated, cost, effective, {"from": self.admin})
            self.tally["backdated"] = self.tally.get("backdated", 0) + 1
            return
        self.oracle.setAllocation(f, st_bond, allocated, cost, effective, {"from": self.admin})
        self.m["alloc"].setdefault((f, st_bond), []).append((effective, allocated, cost))
        if effective > self.m["pstarts"][f][-1]:
            self.m["pstarts"][f].append(effective)
        self.tally["allocations"] = self.tally.get("allocations", 0) + 1

    def rule_correct(self, st_facility, st_pick, st_method, st_sign, st_bool, a="st_frac", b="st_frac"):
        """A correction of a random earlier report (or of none, or naming another hour)."""
        reports = self.m["reports"][st_facility]
        index = st_pick % (len(reports) + 1)             # == len: no such report
        if index < len(reports):
            hour = reports[index]["fields"][0]
        else:
            hour = self.kit.start
        if st_bool and st_pick % 2:
            hour += HOUR * (1 + st_pick % 3)             # another hour than the target's
        r = self.new_report(st_facility, hour, a, b, st_method, flags=1, supersedes=index + 1)
        self.send([r], [self.keys_for(st_sign)])

    def rule_correct_latest_valid(self, st_facility, st_method, a="st_frac"):
        """A correction of the newest not-yet-superseded report, signed by the quorum."""
        live = [i for i, e in enumerate(self.m["reports"][st_facility]) if not e["by"]]
        if not live:
            return
        index = live[-1]
        hour = self.m["reports"][st_facility][index]["fields"][0]
        r = self.new_report(st_facility, hour, a, max(0, 1000 - a), st_method, flags=2, supersedes=index + 1)
        self.send([r], [self.keys_for(("valid", tuple(range(7)), 0))])

    def rule_replay(self, st_pick):
        """An accepted submission sent again, with the same signatures: never accepted twice."""
        if not self.accepted:
            return
        reports, key_lists = self.accepted[st_pick % len(self.accepted)]
        assert not self.send(reports, key_lists)

    def rule_old_signer_set(self, st_facility, st_sign, st_method):
        """A report naming an earlier signer set version, signed by that set: rejected."""
        version = self.m["version"]
        if version == 1:
            return
        old = 1 + st_sign[2] % (version - 1)
        r = self.new_report(st_facility, self.m["last_end"][st_facility], 500, 800, st_method, version=old)
        keys = self.keys_for(("valid", st_sign[1], st_sign[2]), version=old)
        assert not self.send([r], [keys])

    def rule_set_signers(self, st_members, st_threshold):
        """A new signer set from the key pool (sometimes invalid: the version must not move)."""
        addrs = [self.pool[i].address for i in st_members]
        if len(set(addrs)) != len(addrs) or st_threshold == 0 or st_threshold > len(addrs):
            with self.revert_with("OracleBadSignerSet"):
                self.oracle.setSigners(addrs, st_threshold, {"from": self.admin})
            return
        self.oracle.setSigners(addrs, st_threshold, {"from": self.admin})
        self.m["version"] += 1
        self.m["sets"][self.m["version"]] = (addrs, st_threshold)

    def rule_facility_switched_off(self, st_facility, st_method, st_sign, st_bool):
        """The issuer switches a facility off: its reports are rejected until it is back on
        (now, or with st_bool and one draw in seven, in a later step)."""
        self.oracle.updateFacility(st_facility, "u", b"\0" * 32, MAX[st_facility], False, {"from": self.admin})
        self.m["active"][st_facility] = False
        r = self.new_report(st_facility, self.m["last_end"][st_facility], 500, 700, st_method)
        assert not self.send([r], [self.keys_for(st_sign)])
        if not (st_bool and st_sign[2] == 0):
            self.rule_facility_switched_on(st_facility)

    def rule_facility_switched_on(self, st_facility):
        """The issuer switches a facility (back) on."""
        self.oracle.updateFacility(st_facility, "u", b"\0" * 32, MAX[st_facility], True, {"from": self.admin})
        self.m["active"][st_facility] = True

    def rule_time_passes(self, st_seconds):
        """Chain time moves on."""
        chain.sleep(st_seconds)
        chain.mine()

    # ------------------------------------------------------------ invariants
    # Each invariant reads what it needs in one JSON-RPC batch (oracle_kit.batch_read).

    def invariant_reports_never_overwritten(self):
        """Each report reads as first read (but for supersededBy) and as the model predicts."""
        calls = [("reportCount", (f,)) for f in (BUILDING, SOLAR)]
        calls += [("report", (f, i)) for f in (BUILDING, SOLAR) for i in range(len(self.m["reports"][f]))]
        got = iter(batch_read(self.oracle, calls))
        assert [next(got) for _ in (BUILDING, SOLAR)] == [len(self.m["reports"][f]) for f in (BUILDING, SOLAR)]
        for f in (BUILDING, SOLAR):
            for i, e in enumerate(self.m["reports"][f]):
                stored = next(got)
                fields = stored[:11] + stored[12:]
                assert fields == e["fields"], (f, i)
                assert stored[11] == e["by"], (f, i)
                if e["first"] is None:
                    e["first"] = fields
                assert fields == e["first"], (f, i)

    def invariant_totals(self):
        """Facility totals equal the sums over non-superseded reports; each bond's totals the
        allocated shares of them."""
        got = batch_read(self.oracle, [("facilityTotals", (BUILDING,)), ("facilityTotals", (SOLAR,)),
                                       ("bondTotals", (BOND,)), ("bondTotals", (OTHER_BOND,))])
        for f, totals in zip((BUILDING, SOLAR), got):
            j, mg = self.totals(self.m, f)
            assert totals == (tdiv(j, 10**6), tdiv(mg, 1000), j, mg), f
        for bond, totals in zip((BOND, OTHER_BOND), got[2:]):
            j, mg = self.bond(self.m, bond)
            assert totals == (tdiv(j, 10**6), tdiv(mg, 1000), j, mg), bond

    def invariant_hours_once(self):
        """Coverage and the bitmap (the words holding reported hours, and word 0) are exactly the
        model's hours."""
        words = sorted({0} | {(h - self.kit.start) // HOUR // 256 for f in (BUILDING, SOLAR) for h in self.m["hours"][f]})
        calls = [("coverage", (f,)) for f in (BUILDING, SOLAR)]
        calls += [("reportedHoursWord", (f, w)) for f in (BUILDING, SOLAR) for w in words]
        got = iter(batch_read(self.oracle, calls))
        for f in (BUILDING, SOLAR):
            reported, _, estimated = next(got)
            live = [e["fields"] for e in self.m["reports"][f] if not e["by"]]
            assert reported == len(self.m["hours"][f]) == len(live), f
            assert estimated == sum(1 for x in live if x[4] & 1), f
        for f in (BUILDING, SOLAR):
            for w in words:
                want = sum(1 << (h - self.kit.start) // HOUR % 256 for h in self.m["hours"][f]
                           if (h - self.kit.start) // HOUR // 256 == w)
                assert next(got) == want, (f, w)

    def invariant_last_period_end_forward(self):
        """lastPeriodEnd equals the model and never moves backward."""
        got = batch_read(self.oracle, [("lastPeriodEnd", (f,)) for f in (BUILDING, SOLAR)])
        for f, end in zip((BUILDING, SOLAR), got):
            assert end == self.m["last_end"][f]
            assert end >= self.seen_end[f]
            self.seen_end[f] = end

    def invariant_feed_and_staleness(self):
        """The feed's round moves only with accepted submissions; staleness follows chain time."""
        rnd, now, *stale = batch_read(
            self.oracle, [("latestRoundData", ()), "block"] + [("staleness", (f,)) for f in (BUILDING, SOLAR)])
        if self.m["round"] is None:
            assert isinstance(rnd, Reverted) and rnd.message == self.error_message("OracleInvalidInput", "roundId")
        else:
            rid, started, updated, answered = self.m["round"]
            assert rnd == (rid, tdiv(self.bond(self.m, BOND)[1], 1000), started, updated, answered)
        for f, got in zip((BUILDING, SOLAR), stale):
            age = max(0, now - self.m["last_end"][f])
            assert got == (age, age > HEARTBEAT), f


@pytest.mark.long
def test_stateful(kit, oracle, admin, revert_with, error_msg):
    oracle.addMethodology(MODEL_ID, 2, 8640, "v2", b"\0" * 32,
                          [(2024, 450, True, "final FY2024"), (2025, 431, False, "provisional FY2025")], {"from": admin})
    TALLY.clear()
    settings = SETTINGS.get(network.show_active(), SETTINGS["ganache-cli"])
    state_machine(OracleMachine, kit, oracle, admin, revert_with, error_msg, settings=settings)
    print("\noutcomes:", dict(sorted(TALLY.items())))
