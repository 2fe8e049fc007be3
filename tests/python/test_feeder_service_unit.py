"""The example systemd unit and its environment file (deploy/systemd/) are usable as shipped: the
unit's command line is one `greenbond` accepts, it reads its secrets from the environment file
(none on the command line), and the environment file sets every variable the unit uses."""

import re
import shlex

from greenbond.cli import build_parser
from greenbond.config import REPO_ROOT

UNIT = REPO_ROOT / "deploy" / "systemd" / "greenbond-feeder.service"
ENV = REPO_ROOT / "deploy" / "systemd" / "greenbond-feeder.env.example"


def unit_values(key: str) -> list[str]:
    text = UNIT.read_text(encoding="utf-8").replace("\\\n", " ")
    return [m.group(1).strip() for m in re.finditer(rf"^{key}=(.*)$", text, re.M)]


def env_file() -> dict:
    out = {}
    for line in ENV.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def test_the_unit_runs_a_command_greenbond_accepts():
    (exec_start,) = unit_values("ExecStart")
    env = env_file()
    used = set(re.findall(r"\$\{(\w+)\}", exec_start))
    assert used <= set(env), used - set(env)
    argv = shlex.split(re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], exec_start))
    assert argv[0].endswith("/greenbond")
    args = build_parser().parse_args(argv[1:])
    assert args.feeder_cmd == "run" and args.source.startswith("mqtt://") and args.metrics_port == 9464
    assert args.log_format == "json" and args.mqtt_client_id and args.mqtt_ca
    assert "password" not in exec_start.lower() and "key" not in exec_start.lower().replace("keystore", "")
    assert unit_values("EnvironmentFile") == ["/etc/greenbond/feeder.env"]


def test_the_environment_file_holds_the_secrets_the_feeder_reads():
    env = env_file()
    for name in ("GREENBOND_RPC_URL", "GREENBOND_DEPLOYMENTS", "GREENBOND_MQTT_PASSWORD",
                 "GREENBOND_SIGNER_KEYSTORES", "GREENBOND_TRANSMITTER_KEYSTORE", "GREENBOND_KEYSTORE_PASSWORD"):
        assert name in env, name
    from greenbond.feeder import keys

    assert {keys.ENV_SIGNER_KEYSTORES, keys.ENV_TRANSMITTER_KEYSTORE, keys.ENV_KEYSTORE_PASSWORD} <= set(env)
