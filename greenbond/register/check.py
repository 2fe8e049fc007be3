"""The register's consistency checks: the holdings rebuilt from Transfer events against what the
chain itself says (balanceOf and totalSupply at the register's block, balanceOfAt at record
dates, the units each coupon payment names).

Each check is a pure function of plain data (the chain reads are done in build.py): it raises a
RegisterError naming every disagreeing holder, so that a register that does not agree with the
chain is never written, or returns the sentence the register lists under "how it was checked".
"""

from __future__ import annotations

import datetime as dt

from greenbond.register.errors import RegisterError


def mismatches(expected: dict[str, int], actual: dict[str, int]) -> list[str]:
    """Sentences naming each wallet whose rebuilt units (`expected`) differ from the chain's."""
    out = []
    for wallet in sorted(set(expected) | set(actual), key=str.lower):
        a, b = expected.get(wallet, 0), actual.get(wallet, 0)
        if a != b:
            out.append(f"holder {wallet}: rebuilt {a} units, the chain says {b}")
    return out


def check_balances(rebuilt: dict[str, int], balances: dict[str, int], block: int) -> None:
    """The rebuilt units of every wallet the events name agree with balanceOf at `block`."""
    wrong = mismatches(rebuilt, balances)
    if wrong:
        raise RegisterError(
            f"the rebuilt register disagrees with balanceOf at block {block}: " + "; ".join(wrong)
            + ". Nothing was written."
        )


def check_supply(rebuilt: dict[str, int], minted: int, supply: int, block: int) -> None:
    """totalSupply at `block` equals both the units rebuilt per wallet and minted less burnt."""
    if supply != minted or supply != sum(rebuilt.values()):
        raise RegisterError(
            f"the rebuilt register holds {sum(rebuilt.values())} units (minted less burnt: {minted}), "
            f"but totalSupply at block {block} is {supply}. Nothing was written."
        )


def balances_agreement(*, historical: bool, target_block: int, checked_block: int, wallets: int, supply: int) -> str:
    """What check_balances and check_supply established: at the register's own block (a
    historical call), or, when the node keeps no state there, at `checked_block` (the latest)."""
    if historical:
        return (
            f"Every one of the {wallets} wallets that ever held units agrees with balanceOf at block {target_block} "
            f"(a historical call), and the total agrees with totalSupply ({supply} units)."
        )
    return (
        f"The same events rebuilt to block {checked_block} agree with balanceOf there for every one of the "
        f"{wallets} wallets that ever held units, and with totalSupply ({supply} units); "
        f"the register at block {target_block} is that history cut at block {target_block}."
    )


def check_record_date(rebuilt: dict[str, int], at_record: dict[str, int], date: dt.date, timestamp: int) -> str:
    """The register at a record date agrees with balanceOfAt(holder, that record date)."""
    wrong = mismatches(rebuilt, at_record)
    if wrong:
        raise RegisterError(
            f"the rebuilt register disagrees with balanceOfAt at record date {date.isoformat()}: "
            + "; ".join(wrong) + ". Nothing was written."
        )
    return (
        f"{date.isoformat()} is a record date: every holder's units also agree with balanceOfAt(holder, {timestamp}), "
        "the balance the bond fixed for that record date."
    )


def check_coupon_units(number: int, rebuilt: dict[str, int], at_record: dict[str, int]) -> None:
    """Units rebuilt at the record date of coupon #`number` agree with balanceOfAt there."""
    wrong = mismatches(rebuilt, at_record)
    if wrong:
        raise RegisterError(
            f"units at the record date of coupon #{number} disagree with balanceOfAt: " + "; ".join(wrong)
            + ". Nothing was written."
        )


def check_paid_units(wallet: str, number: int, paid_units: int, units: int) -> None:
    """A coupon payment event names the units the holder held at the coupon's record date."""
    if paid_units != units:
        raise RegisterError(
            f"holder {wallet} was paid coupon #{number} for {paid_units} units but held {units} at its record date"
        )


def coupon_units_agreement(numbers: list[int], pairs: int) -> str:
    """What check_coupon_units established for the coupons numbered `numbers` (1-based)."""
    one = len(numbers) == 1
    return (
        f"Units at the record {'date' if one else 'dates'} of coupon"
        f"{'' if one else 's'} {', '.join('#' + str(n) for n in numbers)} were rebuilt "
        f"from the same events and agree with balanceOfAt for all {pairs} wallet and record date pairs."
    )
