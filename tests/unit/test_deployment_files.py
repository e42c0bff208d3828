"""docker-compose.yml is checked against the Compose specification's JSON schema (no
Docker engine runs here), and the Dockerfile's pieces exist."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("check-jsonschema") or str(Path(sys.executable).parent /
                                                    "check-jsonschema")
    return subprocess.run([exe, "--builtin-schema", "vendor.compose-spec", str(path)],
                          capture_output=True, text=True, timeout=60)


def test_compose_file_follows_the_compose_specification() -> None:
    result = check_compose(ROOT / "docker-compose.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_compose_file(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text((ROOT / "docker-compose.yml").read_text().replace(
        "    restart: unless-stopped\n", "    restart: [1, 2]\n", 1))
    assert check_compose(broken).returncode != 0


def test_dockerfile_copies_every_layer_and_serves_the_app() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for layer in ("domain", "application", "infrastructure", "api"):
        assert f"COPY {layer} ./{layer}" in dockerfile
    assert '"custody", "serve"' in dockerfile


# -- several instances behind a proxy (docs/operations.md, "Several instances") -----------

def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def app_services(services: dict[str, Any]) -> dict[str, Any]:
    """The long-running service instances: built from the repository, not one-shot."""
    return {name: s for name, s in services.items()
            if s.get("build") and s.get("restart") != "no"}


def test_two_instances_share_one_database_and_the_keys() -> None:
    services = compose()["services"]
    apps = app_services(services)
    assert len(apps) == 2, sorted(apps)
    urls = {s["environment"]["CUSTODY_DATABASE_URL"] for s in apps.values()}
    assert len(urls) == 1 and next(iter(urls)).startswith("postgresql://")
    assert all("custody-keys:/data" in s["volumes"] for s in apps.values())
    for service in apps.values():
        assert "/healthz" in " ".join(service["healthcheck"]["test"])
        assert "ports" not in service  # reached through the proxy only


def test_the_keys_are_made_once_before_either_instance_starts() -> None:
    services = compose()["services"]
    init = [name for name, s in services.items() if s.get("command") == ["custody", "init"]]
    assert len(init) == 1
    for service in app_services(services).values():
        assert service["depends_on"][init[0]]["condition"] == "service_completed_successfully"


def test_the_proxy_config_is_in_the_repository_and_points_at_both_instances() -> None:
    services = compose()["services"]
    proxy = services["proxy"]
    assert str(proxy["image"]).startswith(("nginx", "caddy"))
    mounted = [v.split(":")[0] for v in proxy["volumes"]]
    config = ROOT / mounted[0]
    assert config.is_file(), config
    text = config.read_text()
    for name in app_services(services):
        assert re.search(rf"^\s*server\s+{re.escape(name)}:8000\b", text, re.M), name
        assert proxy["depends_on"][name]["condition"] == "service_healthy"
    assert "proxy_pass http://custody;" in text
    retry = re.findall(r"^\s*proxy_next_upstream\s+([^;]*);", text, re.M)
    assert retry and "non_idempotent" not in retry[0]  # a write is never sent twice
    assert "/healthz" in " ".join(proxy["healthcheck"]["test"])
    assert proxy["ports"] == ["127.0.0.1:8000:80"]


def test_docker_compose_itself_accepts_the_file() -> None:
    docker = shutil.which("docker")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True,
                           timeout=30) if docker else None
    if probe is None or probe.returncode != 0:
        pytest.skip("docker compose is not installed here")
    result = subprocess.run([docker or "docker", "compose", "-f",
                             str(ROOT / "docker-compose.yml"), "config", "--format", "json"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert {"db", "proxy"} <= set(services) and len(app_services(services)) == 2
