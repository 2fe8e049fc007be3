"""Meter readings from an MQTT broker (meter gateways publish, we subscribe), with paho-mqtt.

Topics: `<prefix>/<meter_id>`, prefix 'greenbond/meters' by default; we subscribe to
`<prefix>/+`. Payload: one UTF-8 JSON object per message with the fields of records.py:

    {"interval_start": "2024-01-05T09:30:00+09:00", "wh": 41250}
    {"interval_start": "2024-01-05T09:30:00+09:00", "register": 12345678, "coefficient": 1, "unit_code": "0x02"}

`meter_id` comes from the topic; a payload may repeat it, and then it must match. `flags` is
optional. A message that is not JSON, not an object, or fails a field becomes a QuarantineEntry
with source 'mqtt:<topic>' and the payload kept as raw (undecodable bytes as repr).

`decode_message` is the pure part; `MqttMeterSource` runs the client: messages arrive on
paho's network thread, go through a queue, and are handed out in arrival order. The session is
persistent and each message is acknowledged only when the caller has kept it (the feeder: in its
SQLite inbox), so nothing published while the feeder is away or in flight when it dies is lost.
QoS 1 by default: a gateway's re-sent message is a duplicate that VEE counts and drops.
"""

from __future__ import annotations

import json
import queue
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping

from greenbond.meters.model import MeterSpec, QuarantineEntry, RawReading
from greenbond.meters.records import parse_record
from greenbond.meters.registers import RegisterSample, RegisterTracker

DEFAULT_PREFIX = "greenbond/meters"
DEFAULT_CLIENT_ID = "greenbond-feeder"   # stable: the broker keeps this client's session while it is away


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


class MessageDecoder:
    """Messages -> readings, in order: `decode_message`, with register samples turned into
    intervals (a register meter's interval needs its previous sample, so one decoder must see a
    meter's messages in the order they were sent)."""

    def __init__(self, meters: Mapping[str, MeterSpec], prefix: str = DEFAULT_PREFIX):
        self.meters, self.prefix = meters, prefix
        self._tracker = RegisterTracker({m: s.max_interval_wh for m, s in meters.items()})

    def items(self, messages: Iterable[tuple[str, bytes]]) -> Iterator[RawReading | QuarantineEntry]:
        for topic, payload in messages:
            item = decode_message(topic, payload, self.meters, self.prefix)
            yield from (self._tracker.feed(item) if isinstance(item, RegisterSample) else (item,))

    def interval_start(self, topic: str, payload: bytes) -> int | None:
        """Unix seconds of the interval a message is about; None for a message that holds no
        reading (it becomes a quarantine entry)."""
        item = decode_message(topic, payload, self.meters, self.prefix)
        return None if isinstance(item, QuarantineEntry) else int(item.interval_start.timestamp())


@dataclass(frozen=True)
class Message:
    """One MQTT message as received, to be acknowledged with `MqttMeterSource.ack` once kept."""
    topic: str
    payload: bytes
    mid: int
    qos: int


class MqttMeterSource:
    """Subscribes to `<prefix>/+` with a persistent session and acknowledges each message only
    when the caller says it is kept.

    The session is the broker's promise to keep what arrives while the feeder is away: a stable
    client id, `clean_session=False` (MQTT 3.1.1) and QoS 1 subscriptions, so messages published
    while the feeder is stopped are delivered when it connects again, and a message received but
    not acknowledged (the feeder died before keeping it) is delivered again. paho's automatic
    acknowledgement is off (`manual_ack`): `receive` hands out messages, `ack` acknowledges them.
    `items` is the simple form (tests, tools): it acknowledges each message once its readings have
    been taken from the iterator.

    TLS (`ca_file`, optional `cert_file`/`key_file` for a client certificate) and a username and
    password are passed to paho; a refused login or an untrusted certificate is a one-line
    ConnectionError from `start`.
    """

    def __init__(self, host: str, port: int, meters: Mapping[str, MeterSpec], *,
                 prefix: str = DEFAULT_PREFIX, qos: int = 1, client_id: str = DEFAULT_CLIENT_ID,
                 clean_session: bool = False, username: str | None = None, password: str | None = None,
                 ca_file: str | None = None, cert_file: str | None = None, key_file: str | None = None):
        import paho.mqtt.client as mqtt

        self.host, self.port, self.meters, self.prefix, self.qos = host, port, meters, prefix, qos
        self._queue: queue.Queue = queue.Queue()
        self._subscribed = threading.Event()
        self._failed: list[Exception] = []
        self._stopped = threading.Event()
        self._decoder = MessageDecoder(meters, prefix)
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                   clean_session=clean_session, protocol=mqtt.MQTTv311, manual_ack=True)
        if username is not None:
            self._client.username_pw_set(username, password)
        if ca_file is not None or cert_file is not None:
            self._client.tls_set(ca_certs=ca_file, certfile=cert_file, keyfile=key_file)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    @property
    def where(self) -> str:
        return f"MQTT broker {self.host}:{self.port}"

    # paho callbacks (network thread)
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._failed.append(ConnectionError(f"{self.where} refused the connection: {reason_code}"))
            self._subscribed.set()
            return
        client.subscribe(f"{self.prefix}/+", qos=self.qos)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        self._subscribed.set()

    def _on_message(self, client, userdata, message) -> None:
        self._queue.put(Message(message.topic, bytes(message.payload), message.mid, message.qos))

    def start(self, timeout: float = 10.0) -> "MqttMeterSource":
        """Connects, subscribes and waits for the broker's SUBACK; a one-line ConnectionError if the
        broker cannot be reached, refuses the login, is not trusted, or does not answer in time."""
        try:
            self._client.connect(self.host, self.port, keepalive=30)
        except ssl.SSLError as exc:
            raise ConnectionError(f"{self.where}: TLS failed ({exc.reason or exc}): is --mqtt-ca the CA that "
                                  "signed the broker's certificate?") from None
        except OSError as exc:
            raise ConnectionError(f"{self.where} cannot be reached ({exc.strerror or exc})") from None
        self._client.loop_start()
        if not self._subscribed.wait(timeout) or self._failed:
            self.close()
            if self._failed:
                raise self._failed[0]
            raise ConnectionError(f"no subscription to {self.prefix}/+ on {self.where} within {timeout}s")
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

    def receive(self, max_messages: int, timeout: float) -> list[Message]:
        """The messages that arrived, in arrival order: waits up to `timeout` seconds for the
        first, then takes what is queued, at most `max_messages`. None is acknowledged yet."""
        try:
            first = self._queue.get(timeout=timeout)
        except queue.Empty:
            return []
        out = [first]
        while len(out) < max_messages:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return out

    def ack(self, messages: Iterable[Message]) -> None:
        """Tells the broker these messages are kept: it will not deliver them again."""
        for m in messages:
            if m.qos > 0:
                self._client.ack(m.mid, m.qos)

    def items(self, idle_timeout: float | None = None, max_items: int | None = None
              ) -> Iterator[RawReading | QuarantineEntry]:
        """The stream of decoded messages (register samples already converted to intervals); a
        message is acknowledged once its readings have been taken."""
        count = 0
        while max_items is None or count < max_items:
            if self._stopped.is_set() and self._queue.empty():
                return
            got = self.receive(1, idle_timeout if idle_timeout is not None else 0.5)
            if not got:
                if idle_timeout is not None:
                    return
                continue
            for out in self._decoder.items([(got[0].topic, got[0].payload)]):
                count += 1
                yield out
            self.ack(got)


def publish_readings(host: str, port: int, messages: list[tuple[str, bytes]], qos: int = 1,
                     timeout: float = 10.0, *, username: str | None = None, password: str | None = None,
                     ca_file: str | None = None) -> None:
    """Publishes (topic, payload) pairs and waits until each is acknowledged: a test and demo
    helper standing in for a meter gateway."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"gateway-{time.monotonic_ns()}")
    if username is not None:
        client.username_pw_set(username, password)
    if ca_file is not None:
        client.tls_set(ca_certs=ca_file)
    client.connect(host, port, keepalive=30)
    client.loop_start()
    try:
        for topic, payload in messages:
            info = client.publish(topic, payload, qos=qos)
            info.wait_for_publish(timeout)
    finally:
        client.disconnect()
        client.loop_stop()
