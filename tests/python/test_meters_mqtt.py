"""MQTT source against a real Mosquitto broker that the test starts on a free port."""

import json

import pytest

from greenbond.meters.model import MeterSpec, QuarantineEntry, RawReading, jst
from greenbond.meters.mqtt_source import MqttMeterSource, decode_message, publish_readings
from tests.helpers.mosquitto import Mosquitto, mosquitto_exe

METERS = {"KYOSO-MAIN-A": MeterSpec(1, 3000), "KYOSO-MAIN-B": MeterSpec(1, 3000)}
T = "greenbond/meters/"


def test_decode_message_pure():
    r = decode_message(T + "KYOSO-MAIN-A", b'{"interval_start": "2024-01-05T09:30:00+09:00", "wh": 41250}', METERS)
    assert r == RawReading(1, "KYOSO-MAIN-A", jst(2024, 1, 5, 9, 30), 41250, 0, "mqtt:" + T + "KYOSO-MAIN-A",
                           '{"interval_start": "2024-01-05T09:30:00+09:00", "wh": 41250}')
    cases = {
        (T + "KYOSO-MAIN-A", b"{not json"): "bad JSON",
        (T + "KYOSO-MAIN-A", b"[1, 2]"): "not a JSON object",
        (T + "KYOSO-MAIN-A", b"\xff\xfe"): "not UTF-8",
        (T + "KYOSO-MAIN-A", b'{"interval_start": "2024-01-05T09:30:00+09:00", "wh": "lots"}'): "wh:",
        (T + "KYOSO-MAIN-A", b'{"interval_start": "2024-01-05T09:30:00+09:00", "wh": 1.5}'): "wh:",
        (T + "KYOSO-MAIN-A", b'{"interval_start": "2024-01-05T09:30:00+09:00", "wh": true}'): "wh:",
        (T + "KYOSO-MAIN-A", b'{"wh": 5}'): "interval_start: missing",
        (T + "KYOSO-MAIN-A", b'{"meter_id": "KYOSO-MAIN-B", "interval_start": "2024-01-05T09:30:00+09:00", "wh": 5}'): "differs",
        (T + "a/b", b'{"interval_start": "2024-01-05T09:30:00+09:00", "wh": 5}'): "is not greenbond/meters/<meter_id>",
    }
    for (topic, payload), fragment in cases.items():
        q = decode_message(topic, payload, METERS)
        assert isinstance(q, QuarantineEntry) and q.reason == "parse_error", (payload, q)
        assert fragment in q.detail, (payload, q.detail)
        assert q.source == "mqtt:" + topic
    q = decode_message(T + "OTHER", b'{"interval_start": "2024-01-05T09:30:00+09:00", "wh": 5}', METERS)
    assert q.reason == "unknown_meter"


@pytest.fixture()
def broker(tmp_path):
    if mosquitto_exe() is None:
        pytest.skip("mosquitto is not installed (apt-get install -y mosquitto): no MQTT broker to test against")
    b = Mosquitto(tmp_path)
    try:
        yield b.port
    finally:
        b.stop()


def test_subscribe_against_real_broker(broker):
    messages = [
        (T + "KYOSO-MAIN-A", json.dumps({"interval_start": "2024-01-05T09:30:00+09:00", "wh": 41250}).encode()),
        (T + "KYOSO-MAIN-B", json.dumps({"interval_start": "2024-01-05T09:00:00+09:00", "register": 12345678,
                                         "coefficient": 1, "unit_code": "0x02"}).encode()),
        (T + "KYOSO-MAIN-B", json.dumps({"interval_start": "2024-01-05T09:30:00+09:00", "register": 12349678,
                                         "coefficient": 1, "unit_code": 2}).encode()),
        (T + "KYOSO-MAIN-A", b"{oops"),
        (T + "KYOSO-MAIN-A", json.dumps({"interval_start": "2024-01-05T10:00:00+09:00", "wh": -3}).encode()),
    ]
    with MqttMeterSource("127.0.0.1", broker, METERS, client_id="test-sub") as source:
        publish_readings("127.0.0.1", broker, messages)
        items = list(source.items(idle_timeout=2.0, max_items=5))
    assert [type(i).__name__ for i in items] == ["RawReading", "QuarantineEntry", "RawReading", "QuarantineEntry", "RawReading"]
    a, baseline, b, bad, negative = items
    assert a.meter_id == "KYOSO-MAIN-A" and a.wh == 41250 and a.interval_start == jst(2024, 1, 5, 9, 30)
    assert baseline.reason == "register_baseline"
    assert b.wh == 40_000 and b.meter_id == "KYOSO-MAIN-B"
    assert bad.reason == "parse_error" and bad.raw == "{oops" and "bad JSON" in bad.detail
    assert negative.wh == -3          # VEE quarantines it as 'negative'
