"""Every CSV export neutralises formula cells; Swedish exports use ``;``, a BOM, Swedish
headers and ja/nej. A store seeded with hostile values, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io

import pytest

from api.csv_export import neutralise
from tests.e2e.conftest import Api, make_staff
from tests.e2e.test_api_lists import capture, cull_general, general, print_copy
from tests.e2e.test_api_story import school_copy

HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"klicka\")", "+46 701", "-2+3", "@SUM(A1)",
           "\tTabbad", "\rRetur"]
FORMULA = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def hostile(api: Api) -> Api:
    make_staff(api)
    for i, value in enumerate(HOSTILE):
        record_id = capture(api, f"{value} Elev{i}")
        copy_id = print_copy(api, record_id, "archive")
        api.post("archivist", f"/api/v1/records/{record_id}/copies/{copy_id}/archival",
                 {"box": value, "shelf": value}, expect=200)
        api.post("archivist", f"/api/v1/records/{record_id}/copies/{copy_id}/verification",
                 {"outcome": "ok"}, expect=200)
        school_copy(api, record_id)
        api.post("admin", f"/api/v1/actors/{api.ids['teacher']}/assignments",
                 {"personnummer": api.get("archivist", f"/api/v1/records/{record_id}").json()[
                     "student"]["personnummer"]}, expect=201)
        api.post("teacher", "/api/v1/requests", {"record_id": record_id, "purpose": value},
                 expect=201)
        cull_general(api, general(api, value))
    return api


EXPORTS = [
    ("auditor", "/api/v1/archive/shelf-list.csv", {}),
    ("auditor", "/api/v1/archive/shelf-list", {"format": "csv"}),
    ("auditor", "/api/v1/schools/holmes/holdings.csv", {}),
    ("auditor", "/api/v1/schools/holmes/holdings", {"format": "csv"}),
    ("auditor", "/api/v1/requests.csv", {}),
    ("auditor", "/api/v1/requests", {"format": "csv"}),
    ("auditor", "/api/v1/culls", {"format": "csv"}),
    ("auditor", "/api/v1/agreement.csv", {}),
]


def export(api: Api, who: str, path: str, params: dict[str, str], language: str) -> str:
    response = api.client.get(path, params=params or None,
                              headers={**api.as_(who), "Accept-Language": language})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["cache-control"] == "no-store"
    assert response.content.startswith(b"\xef\xbb\xbf")  # the UTF-8 BOM
    return response.content.decode("utf-8-sig")


class TestEveryCsvExport:
    def test_no_cell_of_any_export_can_run_as_a_formula(self, hostile: Api) -> None:
        for who, path, params in EXPORTS:
            for language, delimiter in (("sv-SE,sv;q=0.9", ";"), ("en", ",")):
                text = export(hostile, who, path, params, language)
                rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
                assert len(rows) > 1 or path.endswith("agreement.csv"), path
                cells = [cell for row in rows for cell in row]
                bad = [c for c in cells if c.startswith(FORMULA)]
                assert bad == [], f"{path} {language}: {bad}"

    def test_the_hostile_values_are_kept_readable_behind_a_quote(self, hostile: Api) -> None:
        text = export(hostile, "auditor", "/api/v1/requests.csv", {}, "en")
        purposes = [row["purpose"] for row in csv.DictReader(io.StringIO(text, newline=""))]
        # (the service strips surrounding whitespace from what it stores: tab and CR are
        # covered by the writer's own test below)
        assert sorted(purposes) == sorted(neutralise(v.strip(), swedish=False) for v in HOSTILE)

    def test_a_swedish_export_round_trips_with_semicolons_and_swedish_headers(
        self, hostile: Api
    ) -> None:
        # The archivist: the auditor's lists carry references, not names.
        text = export(hostile, "archivist", "/api/v1/archive/shelf-list", {"format": "csv"},
                      "sv")
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
        header, body = rows[0], rows[1:]
        assert header[:7] == ["personnummer", "namn", "referens", "kartong", "hylla",
                              "status", "kontrollerad"]
        assert len(body) == len(HOSTILE)
        assert all(len(row) == len(header) for row in body)
        assert {row[6] for row in body} == {"ja"}
        names = {row[1] for row in body}
        assert {neutralise(f"{v} Elev{i}".strip(), swedish=True)
                for i, v in enumerate(HOSTILE)} == names

    def test_an_english_export_uses_commas_and_english_headers(self, hostile: Api) -> None:
        text = export(hostile, "auditor", "/api/v1/archive/shelf-list.csv", {}, "en-GB")
        header = next(csv.reader(io.StringIO(text, newline="")))
        assert header[:4] == ["personnummer", "name", "reference", "box"]


class TestNeutralise:
    @pytest.mark.parametrize("value", HOSTILE)
    def test_a_formula_start_gets_a_leading_quote(self, value: str) -> None:
        assert neutralise(value, swedish=False) == "'" + value

    def test_numbers_and_plain_text_are_unchanged(self) -> None:
        assert neutralise(-3, swedish=True) == "-3"
        assert neutralise("Holmesskolan", swedish=True) == "Holmesskolan"
        assert neutralise(None, swedish=True) == ""

    def test_booleans_are_ja_and_nej_in_swedish(self) -> None:
        assert [neutralise(b, swedish=True) for b in (True, False)] == ["ja", "nej"]
        assert [neutralise(b, swedish=False) for b in (True, False)] == ["True", "False"]
