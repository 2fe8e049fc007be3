"""The feeder's live path from meter gateways loses nothing, against a real Mosquitto.

- The inbox (store level): a message kept once however often it arrives; pruned only when its
  hour is stored, keeping each topic's newest message.
- The broker session (no chain): messages published while the subscriber is away arrive when it
  connects again; messages received but not acknowledged are delivered again.
- The feeder as an OS process on a local Anvil, readings published as a gateway would (the
  simulator's, one message per meter and half hour): stopped while readings are published, then
  killed with SIGKILL at each point of its MQTT path (received, kept, acknowledged: failpoints),
  and restarted each time. At the end every reading is stored once and every hour is on chain
  exactly once, equal to an independent recomputation from the simulator.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from feeder_chain import HOUR, FeederProcess, check_exactly_once, day, module_chain, wait_for
from greenbond.feeder.store import FeederStore
from greenbond.meters.mqtt_source import MqttMeterSource, publish_readings
from tests.helpers.mosquitto import Mosquitto, make_password_file, make_test_pki, mosquitto_exe

pytestmark = pytest.mark.skipif(mosquitto_exe() is None, reason="mosquitto is not installed")

SEED = 5
PREFIX = "greenbond/meters/"


def gateway_messages(start: int, end: int) -> list[tuple[str, bytes]]:
    """The simulator's readings of [start, end) as a gateway publishes them."""
    from greenbond.impact.facilities import load_facilities
    from greenbond.meters.gateway import gateway_messages as messages

    return messages(load_facilities(), start, end, SEED)


@pytest.fixture()
def broker(tmp_path):
    b = Mosquitto(tmp_path)
    yield b
    b.stop()


# ------------------------------------------------------------------ the inbox


def test_inbox_keeps_a_message_once_and_prunes_only_stored_hours(tmp_path):
    with FeederStore(tmp_path / "f.sqlite") as store:
        a = (PREFIX + "M-A", b'{"x": 1}', 1_000)
        b = (PREFIX + "M-A", b'{"x": 2}', 4_600)
        c = (PREFIX + "M-B", b'{"x": 3}', 1_000)
        bad = (PREFIX + "M-B", b"{oops", None)
        kept, again = store.inbox_add([a, b, c, bad])
        assert again == 0 and [t for _, t, _ in kept] == [a[0], b[0], c[0], bad[0]]
        kept2, again2 = store.inbox_add([a, c])        # the broker delivers them again
        assert kept2 == [] and again2 == 2
        assert len(store.inbox()) == 4
        # no facility has a stored hour: only the message with no reading may go, and it is M-B's newest
        assert store.inbox_prune(kept[-1][0], [1, 2]) == 0
        # hours stored up to 3600 for both facilities: a's hour (1,000) is stored, but a is not
        # M-A's newest (b is): a goes; c is M-B's oldest with a reading before 3600: goes; b stays
        _store_hours(tmp_path / "f.sqlite", {1: 3_600, 2: 3_600})
        assert store.inbox_prune(kept[-1][0], [1, 2]) == 2
        assert [p for _, _, p in store.inbox()] == [b[1], bad[1]]
        assert store.inbox_prune(kept[0][0], [1, 2]) == 0      # nothing after `upto_id` is touched


def _store_hours(db: Path, latest: dict[int, int]) -> None:
    """Stored hours (figures all zero) at `latest[facility]`: what the pruning looks at."""
    con = sqlite3.connect(db)
    try:
        for fid, start in latest.items():
            con.execute("INSERT INTO hours VALUES (?, ?, 0, 0, 0, 0, 0, 0, 0, 0, 0, x'00', 1, 2024, 0)", (fid, start))
        con.commit()
    finally:
        con.close()


# ------------------------------------------------------------------ the broker session


def test_the_session_keeps_what_arrives_while_away_and_redelivers_what_was_not_acknowledged(broker):
    from greenbond.impact.facilities import all_meter_specs, load_facilities

    meters = all_meter_specs(load_facilities())
    messages = gateway_messages(day(0), day(0) + HOUR)

    def receive_all(source, n):
        got = []
        wait_for(lambda: got.extend(source.receive(1000, 0.2)) or len(got) >= n, 20, f"{n} messages")
        return got

    MqttMeterSource("127.0.0.1", broker.port, meters, client_id="t-session").start().close()   # the session exists
    publish_readings("127.0.0.1", broker.port, messages)                                     # while it is away
    s = MqttMeterSource("127.0.0.1", broker.port, meters, client_id="t-session").start()
    first = receive_all(s, len(messages))
    assert [(m.topic, m.payload) for m in first] == messages
    s.close()                                                                                 # nothing acknowledged
    s = MqttMeterSource("127.0.0.1", broker.port, meters, client_id="t-session").start()
    again = receive_all(s, len(messages))
    assert sorted((m.topic, m.payload) for m in again) == sorted(messages)
    s.ack(again)
    s.close()
    s = MqttMeterSource("127.0.0.1", broker.port, meters, client_id="t-session").start()
    assert s.receive(1000, 1.0) == []                                                         # acknowledged: gone
    s.close()


# ------------------------------------------------------------------ the feeder


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    yield from module_chain(tmp_path_factory, "feeder-mqtt")


@pytest.fixture()
def feeders():
    """FeederProcess objects a test starts: killed at its end, whatever happened."""
    started = []
    yield started
    for p in started:
        if p.proc.poll() is None:
            p.kill9()


def run_args(chain, db, broker, *extra):
    return ["run", "--rpc", chain.url, "--db", str(db), "--deployments", str(chain.deployments),
            "--source", f"mqtt://127.0.0.1:{broker.port}", "--mqtt-client-id", "feeder-under-test",
            "--poll", "0.2", "--no-progress", *extra]


def test_tls_and_login_a_wrong_password_or_an_untrusted_broker_is_one_line(chain, tmp_path, feeders):
    """A broker with TLS (a CA made now) and a password file: the feeder connects with the CA and
    the password from GREENBOND_MQTT_PASSWORD; a wrong password, and a broker whose certificate
    another CA signed, stop it with one line each."""
    pki, other = make_test_pki(tmp_path, "broker"), make_test_pki(tmp_path, "other")
    passwd = make_password_file(tmp_path, "feeder", "s3cret-pass")
    broker = Mosquitto(tmp_path, f"cafile {pki['ca']}\ncertfile {pki['cert']}\nkeyfile {pki['key']}\n"
                                 f"allow_anonymous false\npassword_file {passwd}\n")
    try:
        db = tmp_path / "tls.sqlite"
        tls = ["--mqtt-username", "feeder", "--mqtt-ca", str(pki["ca"])]

        def refused(name, extra, password):
            p = FeederProcess(run_args(chain, db, broker, *extra), tmp_path / f"{name}.log",
                              env={"GREENBOND_MQTT_PASSWORD": password})
            feeders.append(p)
            assert p.wait(60) == 1
            lines = [line for line in p.errors().splitlines() if line.startswith("error:")]
            assert len(lines) == 1, p.errors()[-2000:]
            return lines[0]

        line = refused("wrong-password", tls, "not-the-password")
        assert line == f"error: MQTT broker 127.0.0.1:{broker.port} refused the connection: Not authorized"
        line = refused("untrusted", ["--mqtt-username", "feeder", "--mqtt-ca", str(other["ca"])], "s3cret-pass")
        assert line.startswith(f"error: MQTT broker 127.0.0.1:{broker.port}: TLS failed (CERTIFICATE_VERIFY_FAILED)")
        # the right CA and password: subscribed, and a reading published over TLS is kept
        p = FeederProcess(run_args(chain, db, broker, *tls), tmp_path / "tls-ok.log",
                          env={"GREENBOND_MQTT_PASSWORD": "s3cret-pass"})
        feeders.append(p)
        p.wait_event("mqtt_subscribed", 60)
        publish_readings("127.0.0.1", broker.port, gateway_messages(day(1), day(1) + 1800), username="feeder",
                         password="s3cret-pass", ca_file=str(pki["ca"]))
        def kept():
            with FeederStore(db, readonly=True) as store:
                return len(store.inbox()) == 3

        wait_for(kept, 30, "the readings kept")
        p.proc.terminate()
        assert p.wait() == 0, p.errors()[-2000:]
        assert "s3cret-pass" not in p.errors() + (tmp_path / "tls-ok.log").read_text()
    finally:
        broker.stop()


def readings_stored_once(db: Path) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        cols = {r[1] for r in con.execute("PRAGMA table_info(readings)")}
        meter = "meter_id" if "meter_id" in cols else "meter"
        interval = "interval_start" if "interval_start" in cols else "ts"
        dupes = con.execute(f"SELECT {meter}, {interval}, COUNT(*) FROM readings GROUP BY {meter}, {interval} "
                            "HAVING COUNT(*) > 1").fetchall()
        assert not dupes, f"readings stored more than once: {dupes[:5]}"
        return con.execute("SELECT COUNT(*) FROM readings").fetchone()[0]
    finally:
        con.close()


def test_the_feeder_loses_nothing_while_stopped_or_killed_at_any_point(chain, broker, tmp_path, feeders):
    """After a start the first hours close once readings 5 hours later arrived (CLOSE_LAG_S); then
    each hour closes as soon as it is complete (a live feed). Hours received and not yet closed
    are held in memory: what a stop or a crash used to lose."""
    db = tmp_path / "feeder.sqlite"
    hours = [gateway_messages(day(0) + h * HOUR, day(0) + (h + 1) * HOUR) for h in range(12)]
    runs = feeders

    def start(name, env=None):
        p = FeederProcess(run_args(chain, db, broker), tmp_path / f"{name}.log", env=env)
        runs.append(p)
        p.wait_event("mqtt_subscribed", 60)
        return p

    # 1. running: hours 0-5 arrive; hour 0 closes and is reported, hours 1-5 are held open
    p = start("run1")
    publish_readings("127.0.0.1", broker.port, [m for h in hours[:6] for m in h])
    p.wait_event("confirmed", 120)
    p.proc.terminate()
    assert p.wait() == 0, p.errors()[-3000:]
    # 2. stopped: hour 6 is published; the broker keeps it for the feeder's session
    publish_readings("127.0.0.1", broker.port, hours[6])
    # 3. killed with SIGKILL at each point of the MQTT path, hours 7 and 8 published meanwhile
    for point, more in (("mqtt_received", []), ("mqtt_kept", hours[7]), ("mqtt_acked", hours[8])):
        p = start(f"kill-{point}", env={"GREENBOND_FEEDER_FAILPOINT": point})
        publish_readings("127.0.0.1", broker.port, more)
        p.wait_event("failpoint", 60)
        p.kill9()
    # 4. a last run: hours 9-11 arrive: hours up to 6 close by the lag, then 7-11 as they are complete
    p = start("last")
    publish_readings("127.0.0.1", broker.port, [m for h in hours[9:] for m in h])
    end = day(0) + 12 * HOUR

    def all_reported():
        return len({(e["facilityId"], e["periodStart"]) for e in chain.accepted()
                    if day(0) <= e["periodStart"] < end}) >= 24

    wait_for(all_reported, 180, "hours 0-11 of both facilities on chain")
    p.proc.terminate()
    assert p.wait() == 0, p.errors()[-3000:]
    assert check_exactly_once(chain, day(0), end, SEED) == 24
    assert readings_stored_once(db) == sum(len(h) for h in hours)
    events = [e for r in runs for e in r.events()]
    assert [e["point"] for e in events if e.get("event") == "failpoint"] == ["mqtt_received", "mqtt_kept", "mqtt_acked"]
    assert any(e.get("event") == "mqtt_duplicates" for e in events)   # kept, unacknowledged: delivered again


def test_the_demo_gateway_publishes_each_half_hour_the_chain_closes(broker):
    """`make demo --meters mqtt`'s stand-in gateway: the simulator's readings of every half hour
    before the chain's clock, once, in order, as the clock moves."""
    import threading

    from greenbond.impact.facilities import all_meter_specs, load_facilities
    from greenbond.meters.gateway import run_gateway

    facilities = load_facilities()
    clock, stop, published = [day(0) + HOUR + 600], threading.Event(), []
    source = MqttMeterSource("127.0.0.1", broker.port, all_meter_specs(facilities), client_id="t-gateway").start()
    gateway = threading.Thread(target=run_gateway, args=(broker.port, facilities, lambda: clock[0], day(0), stop),
                               kwargs={"every_s": 0.05, "seed": SEED, "on_publish": lambda a, b: published.append((a, b))})
    gateway.start()
    try:
        got = []

        def received(n):
            got.extend(source.receive(100, 0.1))
            return len(got) >= n

        wait_for(lambda: received(6), 30, "the first hour's readings")
        clock[0] += 1800                                   # the chain's clock closes 01:00-01:30
        wait_for(lambda: received(9), 30, "the next half hour's readings")
        assert [(m.topic, m.payload) for m in got] == gateway_messages(day(0), day(0) + HOUR + 1800)
        assert published == [(day(0), day(0) + HOUR), (day(0) + HOUR, day(0) + HOUR + 1800)]
    finally:
        stop.set()
        gateway.join(10)
        source.close()
