"""My holding: one wallet's units, face value and registration, each coupon and what became of
it (received, paid off chain, claimable, not yet due, ...), the redemption due, and its
pro-rata outlook beside the bond's figures (the next coupon, its part of the bond's impact)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from eth_utils import is_checksum_address, keccak, to_checksum_address

from greenbond.chain import CallFailed, ChainError, call, call_many, rpc
from greenbond.chain.logs import read_in_ranges
from greenbond.pageview.impact import ImpactView
from greenbond.pageview.overview import COUPON_STATES, BondOverview
from greenbond.pageview.reports import _word_int
from greenbond.pageview.session import PageError, PageSettings, guarded, local_date, session
from greenbond.pageview.share import mul_div_toward_zero


PAYMENTS = ("none", "on chain", "off chain")
COUPON_PAID_TOPIC = "0x" + keccak(text="CouponPaid(uint256,address,uint256,uint256,address,address)").hex()


def parse_address(text: str) -> str:
    """A wallet address from user input, checksummed; PageError with a sentence otherwise."""
    import re

    value = (text or "").strip()
    if not value:
        raise PageError("Enter a wallet address (0x followed by 40 hexadecimal digits).")
    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", value):
        raise PageError(f"{value!r} is not a wallet address: an address is 0x followed by 40 hexadecimal digits.")
    digits = value[2:]
    if not (digits.islower() or digits.isupper() or digits.isdigit()) and not is_checksum_address(value):
        raise PageError(f"{value} has a wrong checksum (the mix of capital letters): check for a typing mistake.")
    return to_checksum_address(value)


@dataclass
class HolderCoupon:
    number: int
    payment_date: dt.date
    units_at_record: int
    amount: int
    payment: str                  # none / on chain / off chain
    coupon_status: str
    state: str                    # received, paid off chain, claimable, not yet due, not funded, nothing owed, ...


@dataclass
class Holding:
    address: str
    units: int
    face_value: int
    eligible: bool
    registered: bool
    investor_id: str
    currency: str
    coupons: list[HolderCoupon]
    received_on_chain: int        # from CouponPaid events to this holder
    paid_off_chain: int
    claimable: int
    redemption_amount: int        # units x redemption per unit
    redemption_date: dt.date
    frozen: bool

    @property
    def claimable_coupons(self) -> list[HolderCoupon]:
        return [c for c in self.coupons if c.state == "claimable"]


@guarded
def holding(settings: PageSettings, address_text: str, now: int | None = None) -> Holding:
    address = parse_address(address_text)
    s = session(settings.rpc_url, settings.deployments_dir)
    bond, reg, sched, tz = s.suite.bond, s.suite.registry, s.suite.schedule, s.tz
    units, face, eligible, iid, ncoupons, per_unit_redeem, rdate, frozen, latest = call_many(s.w3, [
        call(bond, "balanceOf", address), call(bond, "principalOf", address), call(reg, "isEligible", address),
        call(reg, "investorOf", address), call(sched, "couponCount"), call(sched, "redemptionPerUnit"),
        call(sched, "redemptionDate"), call(bond, "isFrozen", address), rpc("eth_blockNumber"),
    ])
    latest = int(latest, 16)
    items = []
    for i in range(ncoupons):
        items += [call(sched, "couponDate", i), call(sched, "couponOf", address, i), call(sched, "couponPerUnit", i),
                  call(sched, "paymentOf", address, i), call(sched, "couponStatus", i)]
    res = call_many(s.w3, items, block=latest)
    topics = [COUPON_PAID_TOPIC, None, "0x" + "00" * 12 + address[2:].lower()]

    def fetch(start: int, end: int) -> list:
        resp = s.w3.provider.make_request("eth_getLogs", [{
            "address": sched.address, "fromBlock": hex(start), "toBlock": hex(end), "topics": topics}])
        if resp.get("error"):
            raise ValueError(resp["error"])
        return resp["result"]

    # one request when the node takes the whole span; halved ranges when it limits them
    first = s.suite.start_block()
    try:
        paid_logs = [l for part in read_in_ranges(fetch, first, latest, chunk=max(1, latest - first + 1))
                     for l in part]
    except ChainError as exc:
        raise PageError(f"The node refused the coupon payment logs: {exc}.") from None
    received: dict[int, int] = {}
    for l in paid_logs:
        received[int(l["topics"][1], 16)] = received.get(int(l["topics"][1], 16), 0) + _word_int(l["data"], 1)
    now = int(time.time()) if now is None else now
    coupons, claimable, offchain = [], 0, 0
    for i in range(ncoupons):
        date, owed, per_unit, payment, status = res[5 * i: 5 * i + 5]
        owed = 0 if isinstance(owed, CallFailed) else owed
        units_at = owed // per_unit if per_unit else 0
        st = COUPON_STATES[status]
        if payment == 1:
            state = "received"
        elif payment == 2:
            state, offchain = "paid off chain", offchain + owed
        elif owed == 0:
            state = "nothing owed" if date <= now or st != "scheduled" else "not yet due"
        elif st == "paying":
            state, claimable = "claimable", claimable + owed
        elif st == "funded":
            state = "funded, not yet due"
        elif st == "late":
            state = "late: not funded"
        else:
            state = "not yet due"
        coupons.append(HolderCoupon(i + 1, local_date(date, tz), units_at, received.get(i, owed), PAYMENTS[payment], st, state))
    has_history = any(c.state in ("received", "paid off chain", "claimable") for c in coupons)
    if units == 0 and not has_history and not eligible:
        raise PageError(f"{address} is not a holder of this bond: it holds no units, has no coupons and is not registered.")
    registered = int.from_bytes(bytes(iid), "big") != 0
    return Holding(
        address=address, units=units, face_value=face, eligible=eligible, registered=registered,
        investor_id="0x" + bytes(iid).hex() if registered else "", currency=s.terms.currency, coupons=coupons,
        received_on_chain=sum(received.values()), paid_off_chain=offchain, claimable=claimable,
        redemption_amount=units * per_unit_redeem, redemption_date=local_date(rdate, tz), frozen=frozen,
    )


@dataclass(frozen=True)
class HoldingOutlook:
    """What a holding means beside the bond's figures: the next coupon it would receive if still
    held at that coupon's record date, and its pro-rata part of the bond's attributable impact."""

    next_coupon_date: dt.date | None
    next_record_date: dt.date | None
    next_coupon_amount: int          # units now x per unit of the next coupon; 0 when none is left
    units: int
    outstanding_units: int
    energy_reduction_j: int          # units / outstanding x the bond's share since issuance, toward zero
    co2_avoided_mg: int
    last24_energy_j: int
    last24_co2_mg: int

    @property
    def share_ppm(self) -> int:
        return self.units * 1_000_000 // self.outstanding_units if self.outstanding_units else 0


def holding_outlook(h: Holding, bond: BondOverview, impact: ImpactView) -> HoldingOutlook:
    """Pro rata to the units held NOW (units / units outstanding): the page says so. A holding's
    part of a past hour would need its units at that hour; this figure is an attribution of the
    bond's totals to today's holders, not a record of who held when."""
    upcoming = [c for c in bond.coupons if bond.next_coupon and c.payment_date >= bond.next_coupon]
    nxt = upcoming[0] if upcoming else None
    out = bond.outstanding_units

    def part(value: int) -> int:
        return mul_div_toward_zero(value, h.units, out) if out else 0

    return HoldingOutlook(
        next_coupon_date=nxt.payment_date if nxt else None, next_record_date=nxt.record_date if nxt else None,
        next_coupon_amount=h.units * nxt.per_unit if nxt else 0, units=h.units, outstanding_units=out,
        energy_reduction_j=part(impact.energy_reduction_j), co2_avoided_mg=part(impact.co2_avoided_mg),
        last24_energy_j=part(impact.last24_energy_j), last24_co2_mg=part(impact.last24_co2_mg),
    )
