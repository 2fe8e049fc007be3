"""Meter data: readings (model), cumulative registers, sources (simulator, CSV, MQTT) and VEE.

Units everywhere: energy in integer watt-hours (Wh) over one 30-minute interval; instants as
timezone-aware UTC datetimes (or unix seconds where stated); Japan Standard Time (UTC+9, no
daylight saving time) only for calendars (days, months, fiscal years, hour-of-day profiles).
"""
