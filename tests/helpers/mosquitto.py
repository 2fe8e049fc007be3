"""A real Mosquitto broker (Debian's `mosquitto`) for tests: started on a free port with a config
the test writes (listeners, TLS files, a password file), stopped after it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from greenbond.chain.localnode import free_port
from greenbond.meters.gateway import LocalBroker, mosquitto_exe  # noqa: F401 (mosquitto_exe re-exported for the tests)


class Mosquitto(LocalBroker):
    """`Mosquitto(folder, extra_config)`: a broker for one test on a free port, nothing kept after
    it stops; `extra_config` lines follow the listener line (TLS files, `allow_anonymous false`,
    `password_file ...`)."""

    def __init__(self, folder: Path, extra_config: str = "allow_anonymous true\n", port: int | None = None):
        super().__init__(folder, port or free_port(), extra_config, persistence=False)


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
