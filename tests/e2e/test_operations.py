"""Health, metrics and CSV exports as an operator and an archivist use them."""

from __future__ import annotations

import csv
import io

from tests.e2e.conftest import Api, make_staff
from tests.e2e.test_api_story import archive_and_verify, capture
from tests.factories import pnr


class TestOperations:
    def test_health_reports_database_and_projection_lag(self, api: Api, backend: str) -> None:
        body = api.client.get("/healthz").json()
        assert body["status"] == "ok" and body["database"] == "ok"
        assert set(body["projection"]) == {"position", "lag", "follower", "error"}
        expected = "LISTEN/NOTIFY" if backend == "postgres" else "polling"
        assert expected in body["projection"]["follower"]

    def test_metrics_in_prometheus_text(self, api: Api) -> None:
        make_staff(api)
        assert api.client.get("/metrics").status_code == 401
        assert api.get("teacher", "/metrics", expect=403)
        text = api.get("auditor", "/metrics").text
        assert "custody_events_appended_total" in text
        assert "# TYPE custody_http_request_duration_seconds histogram" in text
        assert 'route="/api/v1/actors",status="201"' in text

    def test_every_response_carries_a_request_id(self, api: Api) -> None:
        response = api.client.get("/healthz", headers={"X-Request-ID": "abc123"})
        assert response.headers["X-Request-ID"] == "abc123"
        assert len(api.client.get("/healthz").headers["X-Request-ID"]) == 32


class TestCsvExports:
    def test_shelf_list_csv_in_personnummer_order(self, api: Api) -> None:
        make_staff(api)
        late, early = pnr(2006, 1, 1, 1), pnr(1998, 5, 5, 5)
        for personnummer, name in ((late, "Sen Född"), (early, "Tidig Född")):
            archive_and_verify(api, capture(api, personnummer, name))
        response = api.get("archivist", "/api/v1/archive/shelf-list.csv")
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert [r["personnummer"] for r in rows] == [early, late]
        assert rows[0]["box"] == "A-001" and rows[0]["verified"] == "True"


class TestWebSessionOnTheApi:
    def test_a_cookie_session_changes_nothing_without_its_csrf_header(self, api: Api) -> None:
        from api.web.session import csrf_token_for

        runtime = api.client.app.state.runtime  # type: ignore[attr-defined]
        token = runtime.credentials.start_session(
            runtime.custody.authenticate(api.tokens["admin"]))
        api.client.cookies.set("custody_session", token)
        try:
            assert api.client.get("/api/v1/schools").status_code == 200
            refused = api.client.post("/api/v1/schools", json={"id": "x1", "name": "X"})
            assert refused.status_code == 403
            accepted = api.client.post("/api/v1/schools", json={"id": "x1", "name": "X"},
                                       headers={"X-CSRF-Token": csrf_token_for(token)})
            assert accepted.status_code == 201, accepted.text
        finally:
            api.client.cookies.clear()
