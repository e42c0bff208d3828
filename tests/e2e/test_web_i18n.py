"""Every web page in Swedish and in English: no untranslated key, every form field with a
``<label>``, and dates in Swedish format and Stockholm time. Driven over HTTP with
``TestClient`` against a store that holds the whole seed story (no browser needed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.web.i18n import LANGUAGES, Translator, load_catalogue
from api.web.navigation import NAV
from api.web.presenters import STAGES
from api.web.rendering import ERROR_KINDS, has_untranslated
from domain.actor import Role
from domain.culling import CULL_METHODS, GENERAL_INFORMATION_CATEGORIES, POINTS
from domain.record import CopyStatus, DepartureReason, Kind, Purpose, Record
from domain.request import RequestStatus
from infrastructure.bootstrap import Runtime, bootstrap
from infrastructure.settings import Settings
from tests.factories import pnr, sha
from tests.scenario import Story, run_story

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "web" / "templates"
MARK = re.compile(r"⟦([^⟧]+)⟧")
CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')
NOT_LABELLED = ("hidden", "submit", "button", "reset", "image")


class FormFields(HTMLParser):
    """The page's form fields, its labels, its ids and its ``<html lang>``."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str | None, str | None, bool]] = []
        self.label_for: set[str] = set()
        self.ids: list[str] = []
        self.html_lang: str | None = None
        self._inside_label = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if tag == "html":
            self.html_lang = found.get("lang")
        elif tag == "label":
            self._inside_label += 1
            if found.get("for"):
                self.label_for.add(str(found["for"]))
        elif tag in ("input", "select", "textarea"):
            if tag == "input" and (found.get("type") or "text") in NOT_LABELLED:
                return
            self.fields.append((tag, found.get("id"), found.get("name"), self._inside_label > 0))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._inside_label -= 1

    def unlabelled(self) -> list[tuple[str, str | None, str | None]]:
        return [(tag, id_, name) for tag, id_, name, wrapped in self.fields
                if not wrapped and (not id_ or id_ not in self.label_for)]

    def duplicate_ids(self) -> set[str]:
        return {i for i in self.ids if self.ids.count(i) > 1}


def parse(html: str) -> FormFields:
    parser = FormFields()
    parser.feed(html)
    return parser


@dataclass
class Seeded:
    rt: Runtime
    story: Story
    app_client: TestClient
    clients: dict[str, TestClient]
    pending: UUID

    def as_(self, who: str) -> TestClient:
        if who not in self.clients:
            client = TestClient(self.app_client.app, raise_server_exceptions=True)
            csrf = CSRF.search(client.get("/login").text)
            assert csrf
            signed = client.post("/login", data={"token": self.story.staff.tokens[who],
                                                 "csrf_token": csrf.group(1)},
                                 follow_redirects=False)
            assert signed.status_code == 303, signed.text
            self.clients[who] = client
        return self.clients[who]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    rt = bootstrap(Settings(data_dir=tmp_path_factory.mktemp("i18n-store")))
    story = run_story(rt)
    custody, staff = rt.custody, story.staff
    principal = staff.principals["fryken"]
    dana, eldre = story.records["Dana Fors"], story.records["Eldre Ström"]
    pending = custody.make_request(principal, dana, "utvecklingssamtal").id
    granted = custody.make_request(principal, eldre, "överlämning").id
    custody.decide_request(staff.custodians["fryken"], granted, granted=True, reason="rektor")
    lent = custody.make_request(principal, dana, "åtgärdsprogram").id
    custody.decide_request(staff.custodians["fryken"], lent, granted=True, reason="rektor")
    custody.hand_out(staff.custodians["fryken"], lent)
    app = create_app(runtime=rt)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield Seeded(rt, story, client, {}, pending)
    rt.close()


# (who, path template, expected status). Paths name story items in braces.
PAGES = [
    (None, "/login", 200),
    ("archivist", "/oversikt", 200),
    ("principal_holmes", "/oversikt", 200),
    ("archivist", "/elev", 200),
    ("archivist", "/post/{anna}", 200),
    ("archivist", "/post/{bo}", 200),
    ("archivist", "/post/{general}", 200),
    ("archivist", "/logg/1?post={anna}", 200),
    ("archivist", "/bestallningar", 200),
    ("auditor", "/bestallningar?status=refused", 200),
    ("archivist", "/arkiv/hyllforteckning", 200),
    ("archivist", "/arkiv/hyllforteckning/etiketter", 200),
    ("archivist", "/gallring", 200),
    ("archivist", "/gallring/{certificate_copy}", 200),
    ("archivist", "/gallring/{certificate_general}", 200),
    ("archivist", "/inventering", 200),
    ("archivist", "/gallringslistor", 200),
    ("archivist", "/gallringslistor?status=executed", 200),
    ("archivist", "/gallringslistor/ny", 200),
    ("archivist", "/gallringslistor/{culling_list}", 200),
    ("principal_holmes", "/gallringslistor/{culling_list}", 200),
    ("custodian_holmes", "/gallringslistor/{culling_list}/protokoll", 200),
    ("archivist", "/gallringsbeslut", 200),
    ("custodian_fryken", "/gallringsbeslut", 200),
    ("teacher", "/gallringslistor", 403),
    ("auditor", "/granskning", 200),
    ("teacher", "/bestall", 200),
    ("custodian_fryken", "/inkorg", 200),
    ("custodian_kvistberg", "/inkorg", 200),
    ("archive_custodian", "/inkorg", 200),
    ("archivist", "/inkorg", 200),
    ("archivist", "/logout", 200),
    ("teacher", "/post/{anna}", 403),
    ("archivist", "/post/{unknown}", 404),
    ("archivist", "/post/not-a-uuid", 404),
    ("teacher", "/granskning", 403),
    ("archivist", "/post/{anna}/atkomstlogg", 200),
    ("auditor", "/post/{anna}/atkomstlogg", 200),
    ("custodian_fryken", "/post/{anna}/atkomstlogg", 403),
    ("archivist", "/arkiv/leveranser", 200),
    ("archive_custodian", "/arkiv/leveranser", 200),
    ("archivist", "/arkiv/forteckning", 200),
    ("teacher", "/arkiv/forteckning", 403),
]


def expand(path: str, seeded: Seeded) -> str:
    story = seeded.story
    return path.format(
        anna=story.records["Anna Holm"], bo=story.records["Bo Ek"], general=story.general,
        certificate_copy=story.certificates[0], certificate_general=story.certificates[1],
        culling_list=(seeded.rt.queries.views.get("culls", str(story.certificates[0]))
                      or {}).get("culling_list_id"),
        unknown=uuid4())


def assert_page_is_complete(html: str, lang: str) -> None:
    assert not has_untranslated(html), f"untranslated keys: {sorted(set(MARK.findall(html)))}"
    page = parse(html)
    assert page.html_lang == lang
    assert page.unlabelled() == [], "form fields without a <label>"
    assert not page.duplicate_ids(), f"duplicate ids: {page.duplicate_ids()}"


def page_id(page: tuple[str | None, str, int]) -> str:
    who, path, status = page
    return f"{who or 'anonymous'}:{path}:{status}"


class TestEveryPageIsTranslatedAndLabelled:
    @pytest.mark.parametrize("lang", LANGUAGES)
    @pytest.mark.parametrize("page", PAGES, ids=page_id)
    def test_page_renders_fully_translated_with_labelled_fields(
        self, seeded: Seeded, page: tuple[str | None, str, int], lang: str
    ) -> None:
        who, path, status = page
        client = seeded.as_(who) if who else TestClient(seeded.app_client.app)
        client.cookies.set("custody_lang", lang)
        response = client.get(expand(path, seeded))
        assert response.status_code == status, response.text[:500]
        assert_page_is_complete(response.text, lang)

    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_form_results_and_errors_are_translated_and_labelled(
        self, seeded: Seeded, lang: str
    ) -> None:
        """Pages that only a POST shows: field errors, refusals, results."""
        story = seeded.story
        anna_pnr = "20040315-1236"
        posts: list[tuple[str | None, str, dict[str, str], int]] = [
            (None, "/login", {"token": "wrong"}, 401),
            ("teacher", "/bestall", {"personnummer": "", "purpose": ""}, 422),
            ("teacher", "/bestall", {"personnummer": "20040315-1237", "purpose": "x"}, 422),
            ("teacher", "/bestall", {"personnummer": pnr(2001, 1, 1, 111), "purpose": "x"}, 404),
            ("other_teacher", "/bestall", {"personnummer": anna_pnr, "purpose": "x"}, 403),
            ("archivist", "/elev", {"personnummer": "19991399-0000"}, 422),
            ("archivist", "/elev", {"personnummer": pnr(2001, 1, 1, 111)}, 404),
            ("custodian_fryken", f"/inkorg/{seeded.pending}/beslut",
             {"decision": "grant", "reason": ""}, 422),
            ("auditor", "/granskning", {}, 200),
        ]
        for who, path, data, status in posts:
            client = seeded.as_(who) if who else TestClient(seeded.app_client.app)
            client.cookies.set("custody_lang", lang)
            form_page = "/login" if who is None else (
                "/inkorg" if path.startswith("/inkorg") else path)
            csrf = CSRF.search(client.get(form_page).text)
            assert csrf, form_page
            response = client.post(path, data={**data, "csrf_token": csrf.group(1)},
                                   follow_redirects=False)
            assert response.status_code == status, (path, response.text[:300])
            assert_page_is_complete(response.text, lang)
        assert story.refused_request

    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_inventory_result_with_a_bad_row_is_translated(
        self, seeded: Seeded, lang: str
    ) -> None:
        pytest.importorskip("application.importing", reason="the importer is not there yet")
        client = seeded.as_("archivist")
        client.cookies.set("custody_lang", lang)
        csrf = CSRF.search(client.get("/inventering").text)
        assert csrf
        bad = pnr(2007, 7, 7, 707)[:-1] + "0"
        text = ("kind,personnummer,name,school_id,class,title,category,sha256,pages\n"
                f"student_documentation,{bad},Ulla Ulf,holmes,6A,IUP,iup,{sha(lang)},2\n")
        response = client.post("/inventering", data={"csrf_token": csrf.group(1)},
                               files={"file": ("inventering.csv", text.encode(), "text/csv")})
        assert response.status_code == 422
        assert_page_is_complete(response.text, lang)
        assert re.search(r'<th scope="row" class="num">.*?2</th>', response.text)

    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_csrf_refusal_page_is_translated(self, seeded: Seeded, lang: str) -> None:
        client = seeded.as_("teacher")
        client.cookies.set("custody_lang", lang)
        response = client.post("/bestall", data={"personnummer": "x", "purpose": "y"})
        assert response.status_code == 403
        assert_page_is_complete(response.text, lang)


class TestTranslationTables:
    def test_swedish_and_english_tables_have_the_same_keys(self) -> None:
        swedish, english = load_catalogue("sv"), load_catalogue("en")
        assert set(swedish) - set(english) == set()
        assert set(english) - set(swedish) == set()

    def test_every_literal_key_in_the_templates_is_in_both_tables(self) -> None:
        used = set()
        for template in TEMPLATES.glob("*.html"):
            # Whole literal keys only: t('a.b') or t('a.b', x=...), not t('a.' ~ code).
            used |= set(re.findall(r"""\bt\(\s*'([a-z_][\w.]*\w)'\s*[,)]""", template.read_text()))
        assert used, "no keys found: the pattern is out of date"
        for lang in LANGUAGES:
            assert used - set(load_catalogue(lang)) == set(), lang

    def test_every_code_the_pages_translate_has_a_text_in_both_tables(self) -> None:
        """Keys built from data (roles, statuses, event types) exist for every value."""
        needed = {f"role.{r.value}" for r in Role}
        needed |= {f"nav.{item.key}" for item in NAV}
        needed |= {f"copy.status.{s.value}" for s in CopyStatus}
        needed |= {f"copy.purpose.{p.value}" for p in Purpose}
        needed |= {f"request.status.{s.value}" for s in RequestStatus}
        needed |= {f"kind.{k.value}" for k in Kind}
        needed |= {f"departure.{d.value}" for d in DepartureReason}
        needed |= {f"method.{m}" for m in CULL_METHODS}
        needed |= {f"category.{c}" for c in GENERAL_INFORMATION_CATEGORIES}
        needed |= {f"culling.point.{p}" for p in POINTS}
        needed |= {f"stage.{s}" for s in ("captured", *STAGES)}
        needed |= {f"event.{name}.title" for name, value in vars(Record).items()
                   if isinstance(value, type) and issubclass(value, Record.Event)
                   and value is not Record.Event}
        needed |= {f"error.{kind}.{part}" for kind in ERROR_KINDS
                   for part in ("title", "text")}
        for lang in LANGUAGES:
            assert needed - set(load_catalogue(lang)) == set(), lang

    def test_label_check_finds_fields_and_reports_an_unlabelled_one(self, seeded: Seeded) -> None:
        inbox = parse(seeded.as_("custodian_fryken").get("/inkorg").text)
        assert [tag for tag, *_ in inbox.fields] == ["textarea"]
        bare = parse('<label for="a">A</label><input id="a"><input id="b" name="b">'
                     '<label>C <select name="c"></select></label><input type="hidden">')
        assert bare.unlabelled() == [("input", "b", "b")]

    def test_a_missing_key_is_marked_so_it_cannot_pass_unnoticed(self) -> None:
        t = Translator("sv", {"known": "Känd"})
        assert t("known") == "Känd"
        assert has_untranslated(t("nav.nonexistent"))
        assert t.missing == ["nav.nonexistent"]


class TestDatesAndNumbers:
    def test_swedish_times_are_in_stockholm_time_as_year_month_day_hour_minute(self) -> None:
        t = Translator("sv", {})
        assert t.datetime("2018-06-15T12:03:00+00:00") == "2018-06-15 14:03"  # CEST
        assert t.datetime("2018-01-15T12:03:00+00:00") == "2018-01-15 13:03"  # CET

    def test_english_times_are_also_in_stockholm_time(self) -> None:
        t = Translator("en", {})
        assert t.datetime("2018-06-15T12:03:00+00:00") == "15 Jun 2018, 14:03"

    def test_swedish_numbers_group_thousands_with_a_space(self) -> None:
        assert Translator("sv", {}).number(12345) == "12\u202f345"
        assert Translator("en", {}).number(12345) == "12,345"
