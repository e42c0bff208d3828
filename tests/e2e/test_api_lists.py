"""Every list pages by cursor, and the records search finds what was captured, on SQLite
and PostgreSQL, through HTTP with real tokens."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import Api, make_staff
from tests.factories import pnr, sha

_numbers = itertools.count(1)


def new_pnr() -> str:
    i = next(_numbers)
    return pnr(2000 + (i // 336) % 10, 1 + (i // 28) % 12, 1 + i % 28, i % 1000)


def capture(api: Api, name: str, school: str = "holmes", personnummer: str | None = None
            ) -> str:
    body = {"kind": "student_documentation", "personnummer": personnummer or new_pnr(),
            "name": name, "school_id": school, "class": "9B",
            "documents": [{"title": f"IUP {name}", "category": "iup",
                           "sha256": sha(name + secrets.token_hex(4)), "pages": 3}]}
    return str(api.post("archivist", "/api/v1/records", body, expect=201).json()["id"])


def general(api: Api, title: str = "Veckobrev", school: str = "holmes") -> str:
    return str(api.post("archivist", "/api/v1/records", {
        "kind": "general_information", "category": "newsletter", "title": title,
        "school_id": school, "sha256": sha(title + secrets.token_hex(4))},
        expect=201).json()["id"])


def print_copy(api: Api, record_id: str, purpose: str) -> str:
    body = {"purpose": purpose, **({"school_id": "holmes"} if purpose == "school" else {})}
    return str(api.post("archivist", f"/api/v1/records/{record_id}/copies", body,
                        expect=201).json()["id"])


def cull_general(api: Api, record_id: str) -> None:
    api.post("archivist", f"/api/v1/records/{record_id}/cull",
             {"decision": "BU 2017/503 § 88", "point": 1, "method": "deletion"}, expect=200)


def refused_request(api: Api, record_id: str) -> None:
    """A teacher not assigned asks: refused, and logged as a request."""
    api.post("other_teacher", "/api/v1/requests", {"record_id": record_id, "purpose": "x"},
             expect=403)


class Lists:
    """Each list: who reads it, its path, an item's id, and a write that adds to it."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.students: list[str] = []

    def add_student(self) -> None:
        record_id = capture(self.api, f"Elev {secrets.token_hex(3)}")
        self.students.append(record_id)
        print_copy(self.api, record_id, "archive")
        print_copy(self.api, record_id, "school")

    def cases(self) -> dict[str, tuple[str, str, str, Callable[[], None]]]:
        api = self.api
        return {
            "records": ("archivist", "/api/v1/records", "id", self.add_student),
            "schools": ("admin", "/api/v1/schools", "id", lambda: api.post(
                "admin", "/api/v1/schools", {"id": f"s{secrets.token_hex(4)}", "name": "Ny"},
                expect=201)),
            "actors": ("admin", "/api/v1/actors", "id", lambda: api.post(
                "admin", "/api/v1/actors", {"name": f"Ny {secrets.token_hex(3)}",
                                            "role": "auditor"}, expect=201)),
            "requests": ("auditor", "/api/v1/requests", "id",
                         lambda: refused_request(api, self.students[0])),
            "culls": ("auditor", "/api/v1/culls", "certificate_id",
                      lambda: cull_general(api, general(api))),
            "shelf-list": ("auditor", "/api/v1/archive/shelf-list", "copy_id",
                           self.add_student),
            "holdings": ("auditor", "/api/v1/schools/holmes/holdings", "copy_id",
                         self.add_student),
        }


@pytest.fixture
def lists(api: Api) -> Lists:
    make_staff(api)
    lists = Lists(api)
    for _ in range(4):
        lists.add_student()
    for _ in range(2):
        cull_general(api, general(api))
    general(api, "Statistik")
    for _ in range(3):
        refused_request(api, lists.students[0])
    return lists


def everything(api: Api, who: str, path: str, key: str) -> list[str]:
    return [item[key] for item in api.get(who, path, limit=1000).json()["items"]]


class TestEveryListPagesByCursor:
    def test_following_cursors_yields_every_item_once_while_writes_go_on(
        self, api: Api, lists: Lists
    ) -> None:
        for name, (who, path, key, write) in lists.cases().items():
            for limit in range(1, 8):
                before = everything(api, who, path, key)
                seen: list[str] = []
                cursor: str | None = None
                writes = 0
                while True:
                    params: dict[str, Any] = {"limit": limit}
                    if cursor:
                        params["cursor"] = cursor
                    page = api.get(who, path, **params).json()
                    assert len(page["items"]) <= limit, name
                    seen += [item[key] for item in page["items"]]
                    cursor = page["next_cursor"]
                    if cursor is None:
                        break
                    if writes < 2:  # new items, sorting anywhere (bounded: those sorting
                        write()     # after the cursor would otherwise never let it end)
                        writes += 1
                assert len(seen) == len(set(seen)), f"{name}, limit {limit}: an item twice"
                assert set(before) <= set(seen), f"{name}, limit {limit}: an item missed"

    def test_a_limit_outside_1_to_1000_is_422(self, api: Api, lists: Lists) -> None:
        for who, path, _, _ in lists.cases().values():
            for limit in (0, 1001):
                response = api.get(who, path, expect=422, limit=limit)
                assert response.headers["content-type"] == "application/problem+json"
                assert response.json()["errors"][0]["field"] == "limit"

    def test_a_cursor_the_service_did_not_make_is_422(self, api: Api, lists: Lists) -> None:
        for who, path, _, _ in lists.cases().values():
            body = api.get(who, path, expect=422, cursor="bm90LWEtY3Vyc29y").json()
            assert body["errors"][0]["field"] == "cursor"

    def test_the_default_page_is_100_items(self, api: Api, lists: Lists) -> None:
        for _ in range(101 - len(everything(api, "admin", "/api/v1/schools", "id"))):
            api.post("admin", "/api/v1/schools",
                     {"id": f"s{secrets.token_hex(4)}", "name": "Ny"}, expect=201)
        page = api.get("admin", "/api/v1/schools").json()
        assert len(page["items"]) == 100 and page["next_cursor"] is not None
        rest = api.get("admin", "/api/v1/schools", cursor=page["next_cursor"]).json()
        assert len(rest["items"]) == 1 and rest["next_cursor"] is None


class TestRecordsSearch:
    @pytest.fixture
    def found(self, api: Api) -> dict[str, str]:
        make_staff(api)
        self.asa_pnr = new_pnr()
        ids = {
            "asa": capture(api, "Åsa-Lena Öberg", personnummer=self.asa_pnr),
            "anna_holm": capture(api, "Anna Holm"),
            "anna_berg": capture(api, "Anna  Berg", school="kvistberg"),
            "news": general(api, "Veckobrev v. 12"),
            "stats": general(api, "Statistik", school="kvistberg"),
        }
        cull_general(api, ids["stats"])
        return ids

    def search(self, api: Api, who: str = "archivist", **params: Any) -> set[str]:
        return {r["id"] for r in api.get(who, "/api/v1/records", **params).json()["items"]}

    def test_a_name_matches_whatever_the_case_accents_and_punctuation(
        self, api: Api, found: dict[str, str]
    ) -> None:
        assert self.search(api, q="anna") == {found["anna_holm"], found["anna_berg"]}
        assert self.search(api, q="ANNA, holm") == {found["anna_holm"]}
        assert self.search(api, q="asa lena") == {found["asa"]}
        assert self.search(api, q="Öberg") == {found["asa"]}
        assert self.search(api, q="Anna Öberg") == set()
        assert self.search(api, q="nobody") == set()

    def test_a_personnummer_matches_in_any_notation(self, api: Api,
                                                    found: dict[str, str]) -> None:
        twelve = self.asa_pnr.replace("-", "")
        for notation in (self.asa_pnr, twelve, twelve[2:], self.asa_pnr[2:]):
            assert self.search(api, q=notation) == {found["asa"]}, notation

    def test_general_information_is_found_by_kind_status_and_school(
        self, api: Api, found: dict[str, str]
    ) -> None:
        assert self.search(api, kind="general_information") == {found["news"], found["stats"]}
        assert self.search(api, kind="general_information", status="culled") == {
            found["stats"]}
        assert self.search(api, school_id="kvistberg") == {found["anna_berg"], found["stats"]}
        assert self.search(api, q="anna", school_id="holmes") == {found["anna_holm"]}

    def test_a_custodian_finds_only_their_own_units_records(
        self, api: Api, found: dict[str, str]
    ) -> None:
        assert self.search(api, "custodian_kvistberg", q="anna") == {found["anna_berg"]}

    def test_a_teacher_may_not_search(self, api: Api, found: dict[str, str]) -> None:
        api.get("teacher", "/api/v1/records", expect=403, q="anna")

    def test_the_name_index_holds_no_name_in_plain_text(
        self, api: Api, found: dict[str, str]
    ) -> None:
        runtime = api.client.app.state.runtime  # type: ignore[attr-defined]
        with runtime.views.db.reading() as cur:
            cur.execute("SELECT key, doc FROM custody_views WHERE view = 'name_index'")
            rows = cur.fetchall()
        assert rows
        text = " ".join(f"{k} {d}" for k, d in rows).lower()
        for token in ("anna", "holm", "berg", "asa", "oberg", "åsa", "öberg"):
            assert token not in text
