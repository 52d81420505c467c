"""docker-compose.yml: it parses, has the production services, and sets only real NETMGR_* settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from netmgr.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def _is_setting(env_name: str) -> bool:
    """True when NETMGR_A__B names field b of section a (case-insensitive, as pydantic-settings reads it)."""
    parts = env_name.removeprefix("NETMGR_").lower().split("__")
    model: type[BaseModel] = Settings
    for i, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return False
        annotation = field.annotation
        if i < len(parts) - 1:
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return False
            model = annotation
    return True


def _netmgr_env_names(data: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for service in data["services"].values():
        env = service.get("environment") or {}
        keys = env.keys() if isinstance(env, dict) else [e.split("=", 1)[0] for e in env]
        names.update(k for k in keys if k.startswith("NETMGR_"))
    example = ROOT / "deploy" / "netmgr.env.example"
    for line in example.read_text().splitlines():
        if line.startswith("NETMGR_"):
            names.add(line.split("=", 1)[0])
    return names


def test_compose_has_every_production_service_with_healthchecks() -> None:
    services = _compose()["services"]
    for name in ("api", "worker", "beat", "postgres", "redis", "influxdb", "grafana"):
        assert name in services, f"docker-compose.yml lacks service {name}"
    for name in ("api", "worker", "postgres", "redis", "influxdb", "grafana"):
        assert "healthcheck" in services[name], f"service {name} has no healthcheck"
    assert services["influxdb"]["image"].startswith("influxdb:2")


def test_polling_runs_in_its_own_scalable_worker_service() -> None:
    services = _compose()["services"]
    poll, other = services["worker-poll"], services["worker"]
    queues = {name: s["command"][s["command"].index("--queues") + 1].split(",") for name, s in
              (("worker-poll", poll), ("worker", other))}
    assert queues["worker-poll"] == ["poll"] and "poll" not in queues["worker"]
    assert "healthcheck" in poll and poll["deploy"]["replicas"] >= 2
    # Scaling (`--scale worker-poll=N`) needs replicas that differ only by their container: no fixed name or port.
    assert "container_name" not in poll and "ports" not in poll
    assert "poll@%h" in poll["command"]


def test_every_netmgr_variable_in_compose_is_a_real_setting() -> None:
    names = _netmgr_env_names(_compose())
    assert "NETMGR_DATABASE_URL" in names and "NETMGR_INFLUX__TOKEN" in names
    unknown = sorted(n for n in names if not _is_setting(n))
    assert unknown == [], f"not settings: {unknown}"


def test_setting_check_rejects_a_misspelt_variable() -> None:
    assert not _is_setting("NETMGR_DATABSE_URL")
    assert not _is_setting("NETMGR_INFLUX__TOKN")
    assert _is_setting("NETMGR_CELERY__BROKER_URL")


def test_grafana_datasource_is_provisioned_for_influxdb() -> None:
    ds = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/influxdb.yaml").read_text())
    source = ds["datasources"][0]
    assert source["type"] == "influxdb" and source["url"] == "http://influxdb:8086"


def test_the_image_installs_the_hashed_runtime_lock_and_nothing_unlocked() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    installs = [line for line in dockerfile.splitlines() if "pip install" in line]
    assert installs, "deploy/Dockerfile installs nothing"
    assert any("--require-hashes" in line and "requirements/runtime.txt" in line for line in installs)
    for line in installs:
        assert "--no-deps" in line, f"an install that resolves versions outside the lock: {line.strip()}"


def test_every_file_the_compose_file_mounts_exists() -> None:
    missing = []
    for name, service in _compose()["services"].items():
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith((".", "/")) and not (ROOT / source).exists():
                missing.append(f"{name}: {source}")
    assert missing == [], f"docker-compose.yml mounts what is not in the repository: {missing}"
