"""A real Mosquitto broker (Debian's `mosquitto`) for tests: started on a free port with a config
the test writes (listeners, TLS files, a password file), stopped after it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from greenbond.chain.localnode import free_port


def mosquitto_exe(name: str = "mosquitto") -> str | None:
    return shutil.which(name) or next(
        (p for d in ("/usr/sbin", "/usr/bin", "/usr/local/sbin") if Path(p := f"{d}/{name}").exists()), None)


class Mosquitto:
    """`Mosquitto(folder, extra_config)`: one listener on 127.0.0.1:`port`; `extra_config` lines
    follow the listener line (TLS files, `allow_anonymous false`, `password_file ...`)."""

    def __init__(self, folder: Path, extra_config: str = "allow_anonymous true\n", port: int | None = None):
        exe = mosquitto_exe()
        if exe is None:
            raise RuntimeError("mosquitto is not installed (apt-get install -y mosquitto)")
        self.port = port or free_port()
        self.conf = Path(folder) / f"mosquitto-{self.port}.conf"
        # run as root (CI), mosquitto would switch to the `mosquitto` user and could not read the
        # test's key and password files in the test's private folder: it stays root instead
        user = "user root\n" if os.geteuid() == 0 else ""
        self.conf.write_text(f"listener {self.port} 127.0.0.1\n{extra_config}{user}persistence false\n",
                             encoding="utf-8")
        self.proc = subprocess.Popen([exe, "-c", str(self.conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"mosquitto did not start: {self.output()}")
                time.sleep(0.05)

    def output(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        return self.proc.stdout.read().decode(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def make_test_pki(folder: Path, name: str = "test") -> dict[str, Path]:
    """A CA made now and a server certificate it signs for 127.0.0.1 (openssl): {ca, cert, key}."""
    folder = Path(folder)
    ca_key, ca, key, csr, cert, ext = (folder / f"{name}-{x}" for x in ("ca.key", "ca.crt", "server.key", "server.csr",
                                                                         "server.crt", "ext.cnf"))
    ext.write_text("subjectAltName=IP:127.0.0.1\n", encoding="utf-8")
    for cmd in (
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
         "-subj", f"/CN=greenbond {name} CA"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert, "-days", "2",
         "-extfile", ext],
    ):
        subprocess.run(["openssl", *map(str, cmd)], check=True, capture_output=True)
    return {"ca": ca, "cert": cert, "key": key}


def make_password_file(folder: Path, user: str, password: str) -> Path:
    path = Path(folder) / "mosquitto.passwd"
    subprocess.run([mosquitto_exe("mosquitto_passwd"), "-b", "-c", str(path), user, password], check=True,
                   capture_output=True)
    return path
