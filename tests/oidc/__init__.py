"""A real OpenID provider for the sign-in tests: npm's certified ``oidc-provider`` on the
machine's Node, started on a loopback port (``provider.mjs`` beside this file).

The first run installs the package into a cache directory (``CUSTODY_TEST_OIDC_CACHE``,
default ``~/.cache/records-custody-oidc``) with ``npm install``; later runs reuse it. The
tests are skipped, saying why, only when ``node`` or ``npm`` is missing.

The provider signs with an RSA key made here, so a test can also mint tokens "from the
provider" that the provider itself would never issue (expired, wrong audience, …).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from authlib.jose import JsonWebKey

HERE = Path(__file__).parent
ACCOUNTS = {
    "rut": {"name": "Rut Rektor", "roles": ["BUN-Rektor"], "school_unit": "holmes"},
    "arne": {"name": "Arne Arkivarie", "roles": "archivist"},
    "kalle": {"name": "Kalle Kock", "roles": ["Kök"]},
}
ROLE_MAP = "BUN-Rektor=principal,BUN-Arkiv=archivist"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class OidcProvider:
    issuer: str
    client_id: str
    client_secret: str
    private_jwks: dict[str, Any]
    service_port: int
    """The port the service under test must listen on (its redirect URI is registered)."""

    @property
    def service_base(self) -> str:
        return f"http://127.0.0.1:{self.service_port}"


def installed_cache() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node and npm are needed to run the OpenID provider (oidc-provider) for "
                    "the sign-in tests; install Node 20")
    cache = Path(os.environ.get("CUSTODY_TEST_OIDC_CACHE",
                                Path.home() / ".cache" / "records-custody-oidc"))
    cache.mkdir(parents=True, exist_ok=True)
    manifest = (HERE / "package.json").read_text()
    stale = not (cache / "node_modules" / "oidc-provider").is_dir() or (
        not (cache / "package.json").exists() or (cache / "package.json").read_text() != manifest)
    shutil.copy(HERE / "provider.mjs", cache / "provider.mjs")
    if stale:
        (cache / "package.json").write_text(manifest)
        done = subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=cache,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"npm install of oidc-provider failed:\n{done.stderr}")
    return cache


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    cache = installed_cache()
    key = JsonWebKey.generate_key("RSA", 2048, is_private=True)
    private = {**key.as_dict(is_private=True), "kid": "test-key-1", "alg": "RS256",
               "use": "sig"}
    port, service_port = free_port(), free_port()
    client_id, secret = "records-custody", secrets.token_urlsafe(24)
    env = {**os.environ, "OIDC_PORT": str(port), "OIDC_JWKS": json.dumps({"keys": [private]}),
           "OIDC_ACCOUNTS": json.dumps(ACCOUNTS),
           "OIDC_CLIENT": json.dumps({
               "client_id": client_id, "client_secret": secret,
               "redirect_uris": [f"http://127.0.0.1:{service_port}/login/oidc/callback",
                                 "http://testserver/login/oidc/callback"]})}
    process = subprocess.Popen(["node", "provider.mjs"], cwd=cache, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        assert process.stdout is not None
        line = process.stdout.readline()
        while "listening" not in line:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the OpenID provider did not start: {line}"
                                   f"{process.stdout.read() if process.poll() else ''}")
            line = process.stdout.readline()
        yield OidcProvider(f"http://127.0.0.1:{port}", client_id, secret,
                           {"keys": [private]}, service_port)
    finally:
        process.terminate()
        process.wait(timeout=10)
