"""Meter readings from an MQTT broker (meter gateways publish, we subscribe), with paho-mqtt.

Topics: `<prefix>/<meter_id>`, prefix 'greenbond/meters' by default; we subscribe to
`<prefix>/+`. Payload: one UTF-8 JSON object per message with the fields of records.py:

    {"interval_start": "2024-01-05T09:30:00+09:00", "wh": 41250}
    {"interval_start": "2024-01-05T09:30:00+09:00", "register": 12345678, "coefficient": 1, "unit_code": "0x02"}

`meter_id` comes from the topic; a payload may repeat it, and then it must match. `flags` is
optional. A message that is not JSON, not an object, or fails a field becomes a QuarantineEntry
with source 'mqtt:<topic>' and the payload kept as raw (undecodable bytes as repr).

`decode_message` is the pure part; `MqttMeterSource` runs the client: messages arrive on
paho's network thread, go through a queue, and the iterator yields them in arrival order.
QoS 1 by default: a gateway's re-sent message is a duplicate that VEE counts and drops.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Iterator, Mapping

from greenbond.meters.model import MeterSpec, QuarantineEntry, RawReading
from greenbond.meters.records import parse_record
from greenbond.meters.registers import RegisterSample, RegisterTracker

DEFAULT_PREFIX = "greenbond/meters"


def decode_message(
    topic: str, payload: bytes, meters: Mapping[str, MeterSpec], prefix: str = DEFAULT_PREFIX
) -> RawReading | RegisterSample | QuarantineEntry:
    """One MQTT message -> a RawReading, a RegisterSample or a QuarantineEntry (never raises)."""
    where = f"mqtt:{topic}"
    meter_from_topic = topic[len(prefix) + 1:] if topic.startswith(prefix + "/") else ""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return QuarantineEntry(meter_from_topic, None, repr(payload), "parse_error", "payload is not UTF-8", where)
    if not meter_from_topic or "/" in meter_from_topic:
        return QuarantineEntry(meter_from_topic, None, text, "parse_error",
                               f"topic {topic!r} is not {prefix}/<meter_id>", where)
    try:
        obj = json.loads(text)
    except ValueError as exc:
        return QuarantineEntry(meter_from_topic, None, text, "parse_error", f"bad JSON: {exc}", where)
    if not isinstance(obj, dict):
        return QuarantineEntry(meter_from_topic, None, text, "parse_error", "payload is not a JSON object", where)
    if "meter_id" in obj and obj["meter_id"] != meter_from_topic:
        return QuarantineEntry(meter_from_topic, None, text, "parse_error",
                               f"meter_id {obj['meter_id']!r} differs from the topic's {meter_from_topic!r}", where)
    fields = dict(obj, meter_id=meter_from_topic)
    return parse_record(fields, meters, where, text)


class MqttMeterSource:
    """Subscribes to `<prefix>/+` and yields RawReading / QuarantineEntry objects.

    Use as a context manager:
        with MqttMeterSource("127.0.0.1", 1883, meters) as source:
            for item in source.items(idle_timeout=5):
                ...
    `items` ends after `idle_timeout` seconds without a message, after `max_items` items, or
    when `stop()` is called from another thread.
    """

    def __init__(self, host: str, port: int, meters: Mapping[str, MeterSpec], *,
                 prefix: str = DEFAULT_PREFIX, qos: int = 1, client_id: str = "greenbond-meters"):
        import paho.mqtt.client as mqtt

        self.host, self.port, self.meters, self.prefix, self.qos = host, port, meters, prefix, qos
        self._queue: queue.Queue = queue.Queue()
        self._subscribed = threading.Event()
        self._stopped = threading.Event()
        self._tracker = RegisterTracker({m: s.max_interval_wh for m, s in meters.items()})
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    # paho callbacks (network thread)
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._queue.put(ConnectionError(f"MQTT connect refused: {reason_code}"))
            return
        client.subscribe(f"{self.prefix}/+", qos=self.qos)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        self._subscribed.set()

    def _on_message(self, client, userdata, message) -> None:
        self._queue.put((message.topic, bytes(message.payload)))

    def start(self, timeout: float = 10.0) -> "MqttMeterSource":
        """Connects, subscribes and waits for the broker's SUBACK (ConnectionError after timeout)."""
        self._client.connect(self.host, self.port, keepalive=30)
        self._client.loop_start()
        if not self._subscribed.wait(timeout):
            self.close()
            raise ConnectionError(f"no subscription to {self.prefix}/+ on {self.host}:{self.port} within {timeout}s")
        return self

    def stop(self) -> None:
        """Makes `items` return after the messages already queued."""
        self._stopped.set()

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> "MqttMeterSource":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def items(self, idle_timeout: float | None = None, max_items: int | None = None
              ) -> Iterator[RawReading | QuarantineEntry]:
        """The stream of decoded messages (register samples already converted to intervals)."""
        count = 0
        while max_items is None or count < max_items:
            if self._stopped.is_set() and self._queue.empty():
                return
            try:
                got = self._queue.get(timeout=idle_timeout if idle_timeout is not None else 0.5)
            except queue.Empty:
                if idle_timeout is not None:
                    return
                continue
            if isinstance(got, Exception):
                raise got
            topic, payload = got
            item = decode_message(topic, payload, self.meters, self.prefix)
            outs = self._tracker.feed(item) if isinstance(item, RegisterSample) else (item,)
            for out in outs:
                count += 1
                yield out


def publish_readings(host: str, port: int, messages: list[tuple[str, bytes]], qos: int = 1,
                     timeout: float = 10.0) -> None:
    """Publishes (topic, payload) pairs and waits until each is acknowledged: a test and demo
    helper standing in for a meter gateway."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"gateway-{time.monotonic_ns()}")
    client.connect(host, port, keepalive=30)
    client.loop_start()
    try:
        for topic, payload in messages:
            info = client.publish(topic, payload, qos=qos)
            info.wait_for_publish(timeout)
    finally:
        client.disconnect()
        client.loop_stop()
