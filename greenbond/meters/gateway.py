"""A stand-in meter gateway for the demo: publishes the simulator's readings over MQTT the way a
gateway at the building would (JSON on `greenbond/meters/<meter_id>`, QoS 1), each half hour once
the chain's clock has closed it; and a local Mosquitto broker to publish to (Debian's `mosquitto`)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable

from greenbond.meters.mqtt_source import DEFAULT_PREFIX, publish_readings

INTERVAL_S = 1800


def gateway_messages(facilities, start: int, end: int, seed: int = 0) -> list[tuple[str, bytes]]:
    """The simulator's readings of [start, end) as MQTT messages."""
    from greenbond.meters.model import from_unix
    from greenbond.meters.simulator import simulate

    out = []
    for r in simulate(facilities, from_unix(start), from_unix(end), seed=seed):
        body = {"interval_start": r.interval_start.isoformat(), "wh": r.wh}
        if r.flags:
            body["flags"] = r.flags
        out.append((f"{DEFAULT_PREFIX}/{r.meter_id}", json.dumps(body).encode()))
    return out


def run_gateway(port: int, facilities, chain_now: Callable[[], int], start: int, stop: threading.Event,
                every_s: float = 30, seed: int = 0, on_publish: Callable[[int, int], None] | None = None) -> None:
    """Every `every_s` seconds, publishes the intervals in [cursor, the chain's clock) to the broker on
    127.0.0.1:`port`, from `start` on; until `stop`."""
    cursor = start - start % INTERVAL_S
    while not stop.wait(every_s):
        try:
            now = chain_now()
            end = now - now % INTERVAL_S
            if end > cursor:
                publish_readings("127.0.0.1", port, gateway_messages(facilities, cursor, end, seed))
                if on_publish is not None:
                    on_publish(cursor, end)
                cursor = end
        except Exception:  # noqa: BLE001 - a gateway retries on its next round, as a real one would
            continue


def mosquitto_exe(name: str = "mosquitto") -> str | None:
    """Debian's mosquitto (or mosquitto_passwd): on PATH or in the sbin folders."""
    return shutil.which(name) or next(
        (p for d in ("/usr/sbin", "/usr/bin", "/usr/local/sbin") if Path(p := f"{d}/{name}").exists()), None)


class LocalBroker:
    """Mosquitto on 127.0.0.1:`port`, its config written to `folder`: `extra_config` lines after the
    listener (default: anonymous clients allowed), and with `persistence` its sessions and queued
    messages kept in `folder` across restarts. Run as root, it stays root (it would switch to the
    `mosquitto` user and could not write its folder or read key files there)."""

    def __init__(self, folder: Path, port: int, extra_config: str = "allow_anonymous true\n",
                 persistence: bool = True):
        exe = mosquitto_exe()
        if exe is None:
            raise RuntimeError("mosquitto is not installed (sudo apt-get install mosquitto)")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.port, self.folder = port, folder
        self.conf = folder / f"mosquitto-{port}.conf"
        keep = (f"persistence true\npersistence_location {folder}/\nmax_queued_messages 100000\n" if persistence
                else "persistence false\n")
        user = "user root\n" if os.geteuid() == 0 else ""
        self.conf.write_text(f"listener {port} 127.0.0.1\n{extra_config}{user}{keep}", encoding="utf-8")
        self.log_path = folder / f"mosquitto-{port}.log"
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([exe, "-c", str(self.conf)], stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"mosquitto did not start on port {port}: {self.output()}")
                time.sleep(0.05)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()
