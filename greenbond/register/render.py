"""The register as text: a CSV (one row per holder, cells a spreadsheet would run as a formula
defused) and a standalone HTML document from the Jinja2 template templates/register.html.j2.

The template is rendered with autoescape on: every value (a holder's name, address, the bond's
name, a payment reference, a check's sentence) is escaped by Jinja, so the only markup in the page
is what the template itself writes.
"""

from __future__ import annotations

import csv
import functools
import io

import jinja2

from greenbond.register.build import NO_KEY_NOTE, UNPAID, Register

CSV_COLUMNS = (
    "wallet",
    "investor_id",
    "name",
    "postal_address",
    "email",
    "tax_category",
    "units",
    "face_amount",
    "acquisition_dates",
    "coupons_paid",
    "coupons_unpaid",
)
HTML_TEMPLATE = "register.html.j2"

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: str) -> str:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def render_csv(reg: Register) -> str:
    buf = io.StringIO()
    if not reg.personal_details:
        buf.write("# " + (reg.key_note or NO_KEY_NOTE).replace("\n", " ") + "\n")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in reg.rows:
        writer.writerow(
            [
                r.wallet,
                r.investor_id,
                _csv_text(r.name),
                _csv_text(r.postal_address),
                _csv_text(r.email),
                r.tax_category,
                r.units,
                r.face_amount,
                r.acquisition_text,
                r.coupons_text(reg.currency, paid=True),
                r.coupons_text(reg.currency, paid=False),
            ]
        )
    return buf.getvalue()


def _grouped(value: int) -> str:
    """1234567 -> '1,234,567'."""
    return f"{value:,}"


@functools.cache
def _environment() -> jinja2.Environment:
    """The template environment, made on first use: autoescape on for every template (the file
    ends in .j2, which select_autoescape would not recognise), a missing name an error."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("greenbond.register", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["grouped"] = _grouped
    return env


def render_html(reg: Register) -> str:
    coupon_rows = sorted(
        ((r, c) for r in reg.rows for c in r.coupons), key=lambda rc: (rc[1].index, rc[0].wallet.lower())
    )
    return _environment().get_template(HTML_TEMPLATE).render(
        reg=reg, coupon_rows=coupon_rows, no_key_note=NO_KEY_NOTE, unpaid=UNPAID,
    )
