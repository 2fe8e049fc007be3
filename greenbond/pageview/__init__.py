"""The investor page's data layer: everything the Streamlit pages in app/ (and the back office's
read-only views) show, read from the chain (and the operator's published readings,
greenbond/published.py: Verify never reads the feeder's private database) and returned as plain
dataclasses and DataFrames. The pages only parse input, call the functions here and render; they
never compute money or impact. Used as `from greenbond import pageview as pv`: every name below
is re-exported here.

By module:
- `session`: settings from the server's environment, PageError, the counted connection, the
  session kept per node (contract handles, the bond's terms, log caches), `guarded`, local time;
- `reports`: the oracle's report logs decoded by hand, the reports in force, roll-ups;
- `share`: the bond's share of its facilities' impact, coverage and gaps (pure arithmetic);
- `overview`: the bond's overview (home page) and its documents;
- `impact`: the Impact page and its hourly CSV;
- `verify`: Verify a reading (published or uploaded readings against the chain);
- `holding`: My holding;
- `market`: the primary offering and the DvP offers.

Reads are few and batched, through the chain layer (greenbond.chain): contract views go out as
JSON-RPC batches of eth_call (`call_many`: one HTTP request for a whole table); event logs are
read once, in block ranges, and cached incrementally per session (`LogCache`), re-read from the
start if the chain was reset under them; every JSON-RPC call of the page's connection is
counted (`rpc_stats`) so a page can say, and the benchmark can report, how many calls a render made.

The bond's impact is its share of each facility it finances (ImpactOracle allocations:
allocated proceeds / financed cost per allocation period), never a sum of facilities: the
since-issuance figures are the oracle's bondTotals(bond) and attributedTotals(facility, bond);
the last-24-hours figure applies the same rule to the window's reports (`attributed_share`).
Coverage (hours reported of hours elapsed, estimated hours, the missing hours as gaps) comes from
coverage, bondCoverage and reportedHoursWord.

Errors the user can meet (node down, no deployment on the chain, a malformed or unknown address,
no readings for an hour) are PageError with a sentence for a person.
"""

from greenbond.chain import rpc_delta, rpc_stats
from greenbond.config import REPO_ROOT
from greenbond.pageview.credits import BatchRow, CreditsView, credits_view
from greenbond.pageview.holding import (COUPON_PAID_TOPIC, PAYMENTS, HolderCoupon, Holding, HoldingOutlook, holding,
                                        holding_outlook, parse_address)
from greenbond.pageview.impact import (CSV_COLUMNS, QUALITY_NAMES, FacilityImpact, FactorRow, Freshness, ImpactView,
                                       MethodologyRow, impact_csv, impact_view, quality_text, report_figures)
from greenbond.pageview.market import MarketView, market_view
from greenbond.pageview.overview import (BOND_STATES, COUPON_STATES, DAY_COUNT_NAMES, KINDS, BondOverview, CouponRow,
                                         DocumentRow, FacilityRow, _document_row, bond_overview, document_bytes,
                                         document_path, documents_dir, format_yen)
from greenbond.pageview.reports import (ALLOCATION_RECORDED_TOPIC, DAY, GRID_FACTOR_TOPIC, HOUR,
                                        REPORT_ACCEPTED_TOPIC, AllocationLog, ReportLog, ReportTable, _frame,
                                        _rollups, decode_allocation_recorded, decode_report_accepted,
                                        effective_reports, short_name)
from greenbond.pageview.session import (DEFAULT_PUBLISHED_DIR, PageError, PageSettings, Session, connect,
                                        forget_sessions, guarded, local_date, local_time, session, settings_from_env)
from greenbond.pageview.share import (Allocation, Coverage, Gap, allocation_in_force, allocation_period_starts,
                                      allocation_text, attributed_share, financed_by, gaps_from_words,
                                      mul_div_toward_zero, reported_in_words)
from greenbond.pageview.verify import (HourOption, ReadingCheck, ReadingSource, SignerCheck, VerifyResult,
                                       facility_names, parse_day_file, published_bytes, published_readings,
                                       recover_compact, report_hours, verify_report, verify_uploaded)

__all__ = [
    "ALLOCATION_RECORDED_TOPIC", "Allocation", "AllocationLog", "BOND_STATES", "BatchRow", "CreditsView",
    "credits_view", "BondOverview", "COUPON_PAID_TOPIC",
    "COUPON_STATES", "CSV_COLUMNS", "Coverage", "CouponRow", "DAY", "DAY_COUNT_NAMES", "DEFAULT_PUBLISHED_DIR",
    "DocumentRow", "FacilityImpact", "FacilityRow", "FactorRow", "Freshness", "GRID_FACTOR_TOPIC", "Gap", "HOUR",
    "HolderCoupon", "Holding", "HoldingOutlook", "HourOption", "ImpactView", "KINDS", "MarketView", "MethodologyRow",
    "PAYMENTS", "PageError", "PageSettings", "QUALITY_NAMES", "REPORT_ACCEPTED_TOPIC", "REPO_ROOT", "ReadingCheck",
    "ReadingSource", "ReportLog", "ReportTable", "Session", "SignerCheck", "VerifyResult", "allocation_in_force",
    "allocation_period_starts", "allocation_text", "attributed_share", "bond_overview", "connect",
    "decode_allocation_recorded", "decode_report_accepted", "document_bytes", "document_path", "documents_dir",
    "effective_reports", "facility_names", "financed_by", "forget_sessions", "format_yen", "gaps_from_words",
    "guarded", "holding", "holding_outlook", "impact_csv", "impact_view", "local_date", "local_time", "market_view",
    "mul_div_toward_zero", "parse_address", "parse_day_file", "published_bytes", "published_readings",
    "quality_text", "recover_compact", "report_figures", "report_hours", "reported_in_words", "rpc_delta",
    "rpc_stats", "session", "settings_from_env", "short_name", "verify_report", "verify_uploaded",
]
