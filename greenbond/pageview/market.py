"""The market: the primary offering's outcome and the live secondary (DvP) offers, each only
where its contract is deployed on the chain."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from greenbond.pageview.session import PageSettings, guarded, local_time, session


@dataclass(frozen=True)
class MarketView:
    """The primary offering's outcome and the live secondary (DvP) offers, or None for each when
    the contract is not deployed on this chain."""

    offering: dict | None      # greenbond.offering.offering_status(...) + cash raised
    trades: list[dict] | None  # live DvP trades (open or waiting for approval)


@guarded
def market_view(settings: PageSettings) -> MarketView:
    from greenbond.offering import handles, list_trades, offering_status

    s = session(settings.rpc_url, settings.deployments_dir)
    h = handles(s.w3, s.suite)
    offering = None
    if h.offering is not None:
        offering = offering_status(s.w3, h.offering)
        offering["cash_raised"] = h.offering.functions.cashRaised().call()
        offering["units_settled"] = h.offering.functions.unitsSettled().call()
    trades = list_trades(s.w3, h.dvp, only_live=True) if h.dvp is not None else None
    for tr in trades or []:
        tr["expires"] = local_time(tr["expiry"], ZoneInfo(s.terms.timezone))
    return MarketView(offering=offering, trades=trades)
