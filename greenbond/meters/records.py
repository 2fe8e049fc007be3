"""One record (a CSV row or an MQTT JSON object) -> RawReading, RegisterSample or QuarantineEntry.

Shared by csv_source and mqtt_source so that both accept exactly the same fields:
    meter_id        required, configured meter id (printable ASCII, <= 32 bytes)
    interval_start  required, ISO 8601 with an offset, at :00 or :30 (2024-01-05T09:30:00+09:00)
    wh              integer Wh over the interval                         } one of the two
    register, coefficient, unit_code  cumulative register at the END of  } forms
                    the interval (unit_code as 0x02 or 2)                 }
    flags           optional: integer 0..3 (bit 0 estimated, bit 1 edited) or 'E'
Parsing never raises: every problem becomes a QuarantineEntry naming the field.
"""

from __future__ import annotations

from typing import Any, Mapping

from greenbond.meters.model import (
    INTERVAL_S,
    MeterDataError,
    MeterSpec,
    QuarantineEntry,
    RawReading,
    READING_FLAGS_MASK,
    check_meter_id,
    parse_instant,
)
from greenbond.meters.registers import RegisterError, RegisterSample, check_register


class _Bad(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and value.strip() == "")


def parse_int(name: str, value: Any, *, base_prefix: bool = False) -> int:
    """An integer field: an int (not a bool, not a float) or a string of decimal digits
    (with base_prefix, also '0x..' hex). Raises _Bad('parse_error') naming the field."""
    if isinstance(value, bool) or isinstance(value, float):
        raise _Bad("parse_error", f"{name}: {value!r} is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if base_prefix and text.lower().startswith("0x"):
                return int(text, 16)
            if text.lstrip("-").isdigit():
                return int(text, 10)
        except ValueError:
            pass
    raise _Bad("parse_error", f"{name}: {value!r} is not an integer")


def parse_flags(value: Any) -> int:
    if not _present(value):
        return 0
    if isinstance(value, str) and value.strip().upper() == "E":
        return 1
    flags = parse_int("flags", value)
    if flags < 0 or flags & ~READING_FLAGS_MASK:
        raise _Bad("parse_error", f"flags: {flags} (only bits 0 and 1 exist)")
    return flags


def parse_record(
    fields: Mapping[str, Any], meters: Mapping[str, MeterSpec], source: str, raw: str
) -> RawReading | RegisterSample | QuarantineEntry:
    """Parses one record (see module doc). `source` locates it ('csv:f.csv:12'), `raw` is the
    payload as received, kept in quarantine entries."""
    meter_id = fields.get("meter_id")
    meter_label = meter_id if isinstance(meter_id, str) else ""
    interval_start = None
    try:
        if not _present(meter_id) or not isinstance(meter_id, str):
            raise _Bad("parse_error", "meter_id: missing")
        meter_id = meter_id.strip()
        meter_label = meter_id
        try:
            check_meter_id(meter_id)
        except MeterDataError as exc:
            raise _Bad("parse_error", f"meter_id: {exc}") from None
        text = fields.get("interval_start")
        if not _present(text) or not isinstance(text, str):
            raise _Bad("parse_error", "interval_start: missing")
        try:
            interval_start = parse_instant(text)
        except (ValueError, MeterDataError) as exc:
            raise _Bad("parse_error", f"interval_start: {exc}") from None
        if int(interval_start.timestamp()) % INTERVAL_S or interval_start.microsecond:
            raise _Bad("misaligned", f"interval_start {text} is not at :00 or :30")
        spec = meters.get(meter_id)
        if spec is None:
            raise _Bad("unknown_meter", f"meter {meter_id!r} is not configured")
        flags = parse_flags(fields.get("flags"))
        has_wh = _present(fields.get("wh"))
        reg_fields = [_present(fields.get(k)) for k in ("register", "coefficient", "unit_code")]
        if has_wh and any(reg_fields):
            raise _Bad("parse_error", "give either wh or register+coefficient+unit_code, not both")
        if has_wh:
            wh = parse_int("wh", fields["wh"])
            return RawReading(spec.facility_id, meter_id, interval_start, wh, flags, source, raw)
        if not all(reg_fields):
            missing = [k for k, ok in zip(("register", "coefficient", "unit_code"), reg_fields) if not ok]
            if not any(reg_fields):
                raise _Bad("parse_error", "wh: missing (or register+coefficient+unit_code)")
            raise _Bad("parse_error", f"{', '.join(missing)}: missing (register form)")
        register = parse_int("register", fields["register"])
        coefficient = parse_int("coefficient", fields["coefficient"])
        unit_code = parse_int("unit_code", fields["unit_code"], base_prefix=True)
        try:
            check_register(register, coefficient, unit_code)
        except RegisterError as exc:
            raise _Bad("parse_error", str(exc)) from None
        return RegisterSample(spec.facility_id, meter_id, interval_start, register, coefficient, unit_code, source, raw)
    except _Bad as bad:
        return QuarantineEntry(meter_label, interval_start, raw, bad.reason, bad.detail, source)
