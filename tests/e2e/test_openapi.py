"""The OpenAPI document is a contract an integrator can generate a typed client from: every
operation described, every answer typed, every error status documented as problem+json,
and the documentation pages served without internet."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infrastructure.settings import Settings
from tests.e2e.conftest import Api, make_staff
from tests.e2e.test_api_lists import capture

ROOT = Path(__file__).resolve().parents[2]
UNTYPED = ({}, {"type": "object"}, {"type": "object", "additionalProperties": True})


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    schema: dict[str, Any] = create_app(Settings(data_dir=Path("unused"))).openapi()
    return schema


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in document["paths"].items()
            for method, op in item.items()]


class TestTheDocument:
    def test_every_operation_has_a_description(self, document: dict[str, Any]) -> None:
        missing = [f"{m.upper()} {p}" for p, m, op in operations(document)
                   if not op.get("description")]
        assert missing == []

    def test_every_json_answer_has_a_declared_shape(self, document: dict[str, Any]) -> None:
        untyped = []
        for path, method, op in operations(document):
            for status, response in op["responses"].items():
                if not status.startswith("2") or path == "/api/v1/export":
                    continue  # the export bundle is a file with its own format
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if schema is not None and schema in UNTYPED:
                    untyped.append(f"{method.upper()} {path} {status}")
        assert untyped == []

    def test_every_error_status_is_documented_as_problem_json(
        self, document: dict[str, Any]
    ) -> None:
        for path, method, op in operations(document):
            if path == "/healthz":
                continue
            responses = op["responses"]
            expected = {"500", "503", "401", "403"}
            if "{" in path:
                expected.add("404")
            if method == "post":
                expected |= {"404", "409", "413", "422"}
            assert expected <= set(responses), f"{method} {path}: {sorted(responses)}"
            for status in expected:
                content = responses[status]["content"]
                assert list(content) == ["application/problem+json"], (path, status)
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"}

    def test_every_post_documents_the_idempotency_key(self, document: dict[str, Any]) -> None:
        for path, method, op in operations(document):
            if method == "post":
                names = [p["name"] for p in op.get("parameters", [])]
                assert "Idempotency-Key" in names, path

    def test_every_list_answers_a_page(self, document: dict[str, Any]) -> None:
        schemas = document["components"]["schemas"]
        for path in ("/api/v1/records", "/api/v1/requests", "/api/v1/culls",
                     "/api/v1/archive/shelf-list", "/api/v1/schools/{school_id}/holdings",
                     "/api/v1/actors", "/api/v1/schools", "/api/v1/archive/deliveries"):
            op = document["paths"][path]["get"]
            ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
            page = schemas[ref.rsplit("/", 1)[1]]
            assert set(page["properties"]) == {"items", "next_cursor"}, path
            params = {p["name"]: p for p in op["parameters"]}
            assert params["limit"]["schema"]["maximum"] == 1000, path
            assert params["limit"]["schema"]["default"] == 100, path
            assert "cursor" in params, path


class TestAGeneratedClient:
    def test_generated_models_type_check_and_read_real_answers(
        self, api: Api, document: dict[str, Any], tmp_path: Path
    ) -> None:
        schema_file = tmp_path / "openapi.json"
        schema_file.write_text(json.dumps(document))
        models = tmp_path / "custody_client.py"
        subprocess.run([sys.executable, "-m", "datamodel_code_generator",
                        "--input", str(schema_file), "--input-file-type", "openapi",
                        "--output", str(models), "--output-model-type", "pydantic_v2.BaseModel",
                        "--target-python-version", "3.11", "--use-annotated",
                        "--disable-timestamp"], check=True, timeout=300, cwd=tmp_path)
        usage = tmp_path / "integrator.py"
        usage.write_text(
            "from custody_client import PageRecordPublic, PageShelfRow, Problem\n\n\n"
            "def first_id(page: PageRecordPublic) -> str:\n"
            "    return page.items[0].id\n\n\n"
            "def next_page(page: PageShelfRow) -> str | None:\n"
            "    return page.next_cursor\n\n\n"
            "def status_of(problem: Problem) -> int:\n"
            "    return problem.status\n")
        checked = subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--ignore-missing-imports",
             "--no-incremental", "--cache-dir", str(tmp_path / ".mypy"), str(models),
             str(usage)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
        assert checked.returncode == 0, checked.stdout + checked.stderr

        make_staff(api)
        capture(api, "Anna Holm")
        sys.path.insert(0, str(tmp_path))
        try:
            import custody_client as client  # type: ignore[import-not-found]
        finally:
            sys.path.remove(str(tmp_path))
        page = client.PageRecordPublic.model_validate(
            api.get("archivist", "/api/v1/records").json())
        assert page.items[0].student.name == "Anna Holm"
        problem = client.Problem.model_validate(
            api.client.get("/api/v1/records").json())
        assert problem.status == 401


class TestTheDocumentationPages:
    @pytest.mark.parametrize("page", ["/docs", "/redoc"])
    def test_served_with_the_services_own_assets(self, page: str) -> None:
        app = create_app(Settings(data_dir=Path("unused")))
        client = TestClient(app)
        html = client.get(page).text
        external = re.findall(r"""(?:src|href)=["']?(https?://[^"' >]+)""", html)
        assert external == []
        local = re.findall(r"""["'](/docs/assets/[^"']+)["']""", html)
        assert local
        for asset in local:
            response = client.get(asset)
            assert response.status_code == 200 and len(response.content) > 1000, asset
