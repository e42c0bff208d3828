"""docker-compose.yml is checked against the Compose specification's JSON schema (no
Docker engine runs here), and the Dockerfile's pieces exist."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

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
