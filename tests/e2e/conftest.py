"""HTTP fixtures: the real app over the real stores, driven with real tokens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from application.policy import Principal
from infrastructure.bootstrap import Runtime


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]
    ids: dict[str, str]

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def post(self, who: str, path: str, json: Any = None, expect: int | None = None) -> Any:
        response = self.client.post(path, json=json, headers=self.as_(who))
        if expect is not None:
            assert response.status_code == expect, response.text
        return response

    def get(self, who: str, path: str, expect: int | None = 200, **params: Any) -> Any:
        response = self.client.get(path, headers=self.as_(who), params=params or None)
        if expect is not None:
            assert response.status_code == expect, response.text
        return response


@pytest.fixture
def api(runtime: Runtime) -> Iterator[Api]:
    _, admin_token = runtime.custody.register_actor(Principal.system(), "Ada Admin", "admin",
                                                    None)
    app = create_app(runtime=runtime)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, {"admin": admin_token}, {})


def make_staff(api: Api) -> None:
    """The seed's three school units and everyone who works with the records."""
    for code, name in (("holmes", "Holmesskolan"), ("kvistberg", "Kvistbergsskolan"),
                       ("fryken", "Frykenskolorna")):
        api.post("admin", "/api/v1/schools", {"id": code, "name": name}, expect=201)
    people = [
        ("archivist", "Arne Arkivarie", "archivist", None),
        ("archive_custodian", "Asta Arkivet", "custodian", None),
        ("custodian_holmes", "Cilla Holmes", "custodian", "holmes"),
        ("custodian_kvistberg", "Kalle Kvistberg", "custodian", "kvistberg"),
        ("custodian_fryken", "Frida Fryken", "custodian", "fryken"),
        ("principal_holmes", "Rektor Holm", "principal", "holmes"),
        ("teacher", "Tove Lärare", "teacher", "holmes"),
        ("other_teacher", "Olle Lärare", "teacher", "holmes"),
        ("mentor", "Maja Mentor", "mentor", "holmes"),
        ("auditor", "Greta Granskare", "auditor", None),
    ]
    for key, name, role, school in people:
        body = api.post("admin", "/api/v1/actors",
                        {"name": name, "role": role, "school_id": school}, expect=201).json()
        api.tokens[key] = body["token"]
        api.ids[key] = body["id"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, one per test module (no browser download:
    ``scripts/install-browser.sh`` installs the system package)."""
    from tests.e2e.test_web import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM}; run "
                    "scripts/install-browser.sh (apt-get install chromium) to run browser tests")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="the Python playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
