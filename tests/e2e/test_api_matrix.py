"""Who may do what, over HTTP: every role against every endpoint of the API, on SQLite and
PostgreSQL; then 401, cross-unit 403, 404, 409 and 422, each refusal changing nothing.

The expectations are one table (``MATRIX``), derived from ``application/policy.py``,
``application/service.py``, ``application/queries.py`` and ``application/migration.py`` and
checked against ``docs/http-api.md`` and the duties ``docs/domain.md`` allocates::

    admin: schools, staff, assignments. archivist: capture, archive copies, verification,
    culls, the agreement. custodian of a school unit: that unit's school copies (delivery,
    transfer, cull at rollover) and the requests for them; the archive's custodian: the
    archive copies and their requests. principal: requests for students of their school
    unit. teacher/mentor: requests only for students they are assigned to at the moment of
    the request. auditor: reads everything, changes nothing.

Where the code allows what the issue does not, the table holds the issue's answer marked
``!`` and the cell is a strict xfail whose reason names the code (``DISPUTED``): the suite
stays green, the disagreement stays visible, and fixing the policy turns it into a failure
that asks for the ``!`` to be removed.

The cells share one store per backend (the ``runtime`` fixture, at module scope here); each
cell first builds the records it needs, so no cell depends on another.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from application.policy import Principal
from infrastructure.bootstrap import Runtime, bootstrap
from infrastructure.settings import Settings
from tests.conftest import new_schema
from tests.e2e.conftest import Api, make_staff
from tests.factories import pnr, sha

PROBLEM_JSON = "application/problem+json"
T = TypeVar("T")

# -- the matrix ------------------------------------------------------------------------------

ROLES: tuple[str, ...] = (
    "admin",                # admin
    "archivist",            # arch
    "archive_custodian",    # acust: the archive's custodian
    "custodian_holmes",     # custA: custodian of school unit A (holmes)
    "custodian_kvistberg",  # custB: custodian of school unit B (kvistberg)
    "principal_holmes",     # princ: principal of school unit A
    "teacher",              # teach: teacher assigned to the student
    "other_teacher",        # tchX:  teacher of the same unit, not assigned
    "mentor",               # mentr: mentor assigned to the student
    "auditor",              # audit
)

# Every record a cell builds belongs to school unit A (holmes); its copies are there or in
# the archive. A number is the status expected; 403 is always a problem+json refusal.
# "403!" = the issue says 403 but the code allows it: see DISPUTED (strict xfail); none is
# left at present.
MATRIX = """
endpoint                          admin arch  acust custA custB princ teach tchX  mentr audit
register a school unit            201   403   403   403   403   403   403   403   403   403
register a staff member           201   403   403   403   403   403   403   403   403   403
assign staff to a student         201   403   403   403   403   403   403   403   403   403
end an assignment                 204   403   403   403   403   403   403   403   403   403
capture student documentation     403   201   403   403   403   403   403   403   403   403
capture general information       403   201   403   403   403   403   403   403   403   403
read a record                     200   200   200   200   403   403   403   403   403   200
find records by personnummer      200   200   200   200   200   403   403   403   403   200
read a record's history           200   200   200   200   403   403   403   403   403   200
protect a student's identity      403   200   403   403   403   403   403   403   403   403
lift a protection                 403   204   403   403   403   403   403   403   403   403
renumber a student                403   200   403   403   403   403   403   403   403   403
read a student's access log       403   200   403   403   403   403   403   403   403   200
produce a register extract        403   200   403   403   403   403   403   403   403   403
print an archive copy             403   201   403   403   403   403   403   403   403   403
print a school copy               403   201   403   403   403   403   403   403   403   403
file the archive copy             403   200   403   403   403   403   403   403   403   403
verify the archive copy           403   200   403   403   403   403   403   403   403   403
deliver a school copy             403   403   403   200   403   403   403   403   403   403
transfer a school copy            403   403   403   200   403   403   403   403   403   403
receive a transferred copy        403   403   403   403   200   403   403   403   403   403
cull a school copy                403   403   403   200   403   403   403   403   403   403
cull general information          403   200   403   403   403   403   403   403   403   403
enter into IST-lärande            403   200   403   200   403   403   403   403   403   403
record a departure                403   200   403   200   403   403   403   403   403   403
request a document                403   403   403   403   403   201   201   403   201   403
decide a school-copy request      403   403   403   200   403   403   403   403   403   403
decide an archive-copy request    403   403   200   403   403   403   403   403   403   403
hand out a granted request        403   403   403   200   403   403   403   403   403   403
take back a handed-out document   403   403   403   200   403   403   403   403   403   403
read the request log              200   200   200   200   200   200   200   200   200   200
read the shelf list               200   200   200   403   403   403   403   403   403   200
read a school unit's holdings     200   200   403   200   403   200   403   403   403   200
read the culling register         200   200   200   200   200   403   403   403   403   200
read a culling certificate        200   200   200   200   200   403   403   403   403   200
read the agreement's readiness    200   200   200   200   200   403   403   403   403   200
terminate the agreement           403   200   403   403   403   403   403   403   403   403
close a school year               403   200   403   403   403   403   403   403   403   403
read the checkpoint               200   200   200   200   200   200   200   200   200   200
read an inclusion proof           200   200   200   200   200   403   403   403   403   200
read a consistency proof          200   200   200   200   200   403   403   403   403   200
read the public keys              200   200   200   200   200   200   200   200   200   200
export the store                  200   200   403   403   403   403   403   403   403   200
read the culling decisions        200   200   200   200   200   200   403   403   403   200
register a culling decision       201   201   403   403   403   403   403   403   403   403
propose a culling list            403   201   403   201   403   201   403   403   403   403
read a culling list               200   200   200   200   200   200   403   403   403   200
approve a culling list            403   403   403   403   403   200   403   403   403   403
destroy an item on a culling list 403   403   403   200   403   403   403   403   403   403
withdraw an item                  403   200   403   200   403   200   403   403   403   403
"""

DISPUTED: dict[str, str] = {}


@dataclass(frozen=True)
class Cell:
    endpoint: str
    role: str
    status: int
    disputed: bool


def parse_matrix(text: str) -> list[Cell]:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    cells = []
    for line in lines[1:]:
        parts = line.rsplit(maxsplit=len(ROLES))
        name, marks = parts[0].strip(), parts[1:]
        if len(marks) != len(ROLES):
            raise ValueError(f"matrix row {name!r} has {len(marks)} cells, not {len(ROLES)}")
        for role, mark in zip(ROLES, marks, strict=True):
            cells.append(Cell(name, role, int(mark.rstrip("!")), mark.endswith("!")))
    return cells


CELLS = parse_matrix(MATRIX)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def cell_params(select: Callable[[Cell], bool]) -> list[Any]:
    params = []
    for c in CELLS:
        if not select(c):
            continue
        marks = ([pytest.mark.xfail(strict=True, reason=DISPUTED[c.endpoint])]
                 if c.disputed else [])
        params.append(pytest.param(c.endpoint, c.role, c.status, marks=marks,
                                   id=f"{slug(c.endpoint)}--{c.role}"))
    return params


# -- the store: one per backend for the whole module ------------------------------------------


def store_settings(backend: str, data_dir: Path, request: pytest.FixtureRequest) -> Settings:
    if backend == "sqlite":
        return Settings(data_dir=data_dir)
    url = request.getfixturevalue("pg_url")
    return Settings(data_dir=data_dir, database_url=url, database_schema=new_schema(url))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def settings(backend: str, tmp_path_factory: pytest.TempPathFactory,
             request: pytest.FixtureRequest) -> Settings:
    return store_settings(backend, tmp_path_factory.mktemp("matrix"), request)


@pytest.fixture(scope="module")
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = bootstrap(settings)
    yield rt
    rt.close()


@dataclass
class Student:
    personnummer: str
    record_id: str
    archive_copy: str | None = None
    school_copy: str | None = None


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: Any = None
    params: dict[str, str] | None = None
    world: World | None = None
    """Another store, for a cell that needs a store of its own (the agreement)."""


@dataclass
class World:
    """A store with the seed's staff, and factories for the records a cell needs."""

    runtime: Runtime
    api: Api
    spawn: Callable[[], World]
    close: Callable[[], None] = lambda: None
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    years: Iterator[int] = field(default_factory=lambda: itertools.count(2000))
    """School years to close, one per cell, all before any departure a cell records."""
    cache: dict[str, Any] = field(default_factory=dict)

    counted: list[int] = field(default_factory=lambda: [0, 0])
    """[last seq looked at, custody events up to it]."""

    def events(self) -> int:
        """Custody events stored so far; the access log's entries (every read of
        personal data is logged, refused ones too) are not changes of custody."""
        recorder = self.runtime.custody.recorder
        last = recorder.max_notification_id() or 0
        seen, count = self.counted
        while seen < last:
            batch = recorder.select_notifications(seen + 1, 1000, stop=last)
            if not batch:
                break
            count += sum(not n.topic.startswith("custody:AccessLog") for n in batch)
            seen = batch[-1].id
        self.counted[:] = [seen, count]
        return count

    def send(self, role: str, call: Call) -> httpx.Response:
        response: httpx.Response = self.api.client.request(
            call.method, call.path, json=call.json, params=call.params,
            headers=self.api.as_(role))
        return response

    def new_personnummer(self) -> str:
        n = next(self.numbers)
        born = dt.date(2003, 1, 1) + dt.timedelta(days=n // 500)
        return pnr(born.year, born.month, born.day, 100 + n % 500)

    def new_code(self, prefix: str) -> str:
        return f"{prefix}-{next(self.numbers)}"

    def student_body(self, personnummer: str, school: str = "holmes") -> dict[str, Any]:
        return {"kind": "student_documentation", "personnummer": personnummer,
                "name": "Elev Exempel", "school_id": school, "class": "8A",
                "documents": [{"title": "IUP", "category": "iup", "sha256": sha(personnummer),
                               "pages": 2}]}

    def general_body(self) -> dict[str, Any]:
        return {"kind": "general_information", "category": "newsletter",
                "title": "Veckobrev", "school_id": "holmes",
                "sha256": sha(self.new_code("news"))}

    def capture(self, school: str = "holmes") -> Student:
        personnummer = self.new_personnummer()
        created = self.api.post("archivist", "/api/v1/records",
                                self.student_body(personnummer, school), expect=201)
        return Student(personnummer, created.json()["id"])

    def capture_general(self) -> str:
        return str(self.api.post("archivist", "/api/v1/records", self.general_body(),
                                 expect=201).json()["id"])

    def copies(self, s: Student) -> str:
        return f"/api/v1/records/{s.record_id}/copies"

    def print_archive_copy(self, s: Student) -> Student:
        s.archive_copy = self.api.post("archivist", self.copies(s), {"purpose": "archive"},
                                       expect=201).json()["id"]
        return s

    def file_archive_copy(self, s: Student) -> Student:
        self.api.post("archivist", f"{self.copies(s)}/{s.archive_copy}/archival",
                      {"box": "A-1", "shelf": "1"}, expect=200)
        return s

    def verify_archive_copy(self, s: Student) -> Student:
        self.api.post("archivist", f"{self.copies(s)}/{s.archive_copy}/verification",
                      {"outcome": "ok"}, expect=200)
        return s

    def print_school_copy(self, s: Student, school: str = "holmes") -> Student:
        s.school_copy = self.api.post("archivist", self.copies(s),
                                      {"purpose": "school", "school_id": school},
                                      expect=201).json()["id"]
        return s

    def deliver_school_copy(self, s: Student, school: str = "holmes") -> Student:
        self.api.post(f"custodian_{school}", f"{self.copies(s)}/{s.school_copy}/delivery",
                      {"school_id": school}, expect=200)
        return s

    def assign(self, who: str, s: Student) -> None:
        self.api.post("admin", f"/api/v1/actors/{self.api.ids[who]}/assignments",
                      {"personnummer": s.personnummer}, expect=201)

    def servable(self, *, school_copy: bool = True) -> Student:
        """A holmes student whose documents can be handed out, with teacher and mentor
        assigned: the school copy at holmes, or (without one) the verified archive copy."""
        s = self.verify_archive_copy(self.file_archive_copy(self.print_archive_copy(
            self.capture())))
        if school_copy:
            self.deliver_school_copy(self.print_school_copy(s))
        self.assign("teacher", s)
        self.assign("mentor", s)
        return s

    def at_school(self) -> Student:
        return self.deliver_school_copy(self.print_school_copy(self.capture()))

    def request(self, s: Student, until: str = "pending") -> str:
        request_id = str(self.api.post("teacher", "/api/v1/requests",
                                       {"record_id": s.record_id, "purpose": "samtal"},
                                       expect=201).json()["id"])
        custodian = "custodian_holmes" if s.school_copy else "archive_custodian"
        if until in ("granted", "handed_out"):
            self.api.post(custodian, f"/api/v1/requests/{request_id}/decision",
                          {"granted": True, "reason": "assigned"}, expect=200)
        if until == "handed_out":
            self.api.post(custodian, f"/api/v1/requests/{request_id}/handout", expect=200)
        return request_id

    def shared(self, key: str, make: Callable[[], T]) -> T:
        """Read-only fixtures are built once per store."""
        if key not in self.cache:
            self.cache[key] = make()
        return cast(T, self.cache[key])

    def finished(self) -> Student:
        """A holmes student who finished compulsory school, the school copy still there."""
        s = self.at_school()
        self.api.post("archivist", f"/api/v1/students/{s.personnummer}/departure",
                      {"reason": "finished_compulsory_school", "date": "2018-06-15"},
                      expect=200)
        return s

    def proposed_list(self, s: Student) -> str:
        """The archivist proposes culling the student's school copy."""
        return str(self.api.post("archivist", "/api/v1/culling-lists", {
            "decision": "BU 2017/503 § 88", "point": 4,
            "items": [{"record_id": s.record_id, "copy_id": s.school_copy}]},
            expect=201).json()["id"])

    def approved_list(self, s: Student) -> str:
        """... and the principal of holmes approves it: the copy may be destroyed."""
        list_id = self.proposed_list(s)
        self.api.post("principal_holmes", f"/api/v1/culling-lists/{list_id}/approval",
                      {"approved": True}, expect=200)
        return list_id

    def culled_school_copy(self) -> str:
        s = self.finished()
        self.approved_list(s)
        cull = self.api.post("custodian_holmes", f"{self.copies(s)}/{s.school_copy}/cull",
                             CULL_BODY, expect=200)
        return str(cull.json()["certificate_id"])


CULL_BODY = {"decision": "BU 2017/503 § 88", "point": 4, "method": "shredding",
             "witness": "Greta Granskare"}


def open_world(runtime: Runtime, stack: ExitStack, spawn: Callable[[], World]) -> World:
    admin_id, admin = runtime.custody.register_actor(Principal.system(), "Ada Admin", "admin",
                                                     None)
    client = stack.enter_context(TestClient(create_app(runtime=runtime),
                                            raise_server_exceptions=False))
    api = Api(client, {"admin": admin}, {"admin": str(admin_id)})
    make_staff(api)
    return World(runtime, api, spawn)


@pytest.fixture(scope="module")
def world(runtime: Runtime, backend: str, tmp_path_factory: pytest.TempPathFactory,
          request: pytest.FixtureRequest) -> Iterator[World]:
    def spawn() -> World:
        """A store of its own, closed by whoever asked for it (``World.close``)."""
        stack = ExitStack()
        rt = bootstrap(store_settings(backend, tmp_path_factory.mktemp("spawned"), request))
        stack.callback(rt.close)
        spawned = open_world(rt, stack, spawn)
        spawned.close = stack.close
        return spawned

    with ExitStack() as stack:
        yield open_world(runtime, stack, spawn)


@contextmanager
def target_of(world: World, call: Call) -> Iterator[World]:
    """The store a call goes to: the module's, or one the cell opened for itself."""
    if call.world is None:
        yield world
        return
    try:
        yield call.world
    finally:
        call.world.close()


# -- what each endpoint needs: (world) -> the call, the same for every role --------------------

ENDPOINTS: dict[str, Callable[[World], Call]] = {}


def endpoint(name: str) -> Callable[[Callable[[World], Call]], Callable[[World], Call]]:
    def register(prepare: Callable[[World], Call]) -> Callable[[World], Call]:
        ENDPOINTS[name] = prepare
        return prepare
    return register


@endpoint("register a school unit")
def _register_school(w: World) -> Call:
    return Call("POST", "/api/v1/schools", {"id": w.new_code("unit"), "name": "Nya skolan"})


@endpoint("register a staff member")
def _register_actor(w: World) -> Call:
    return Call("POST", "/api/v1/actors",
                {"name": "Nils Ny", "role": "teacher", "school_id": "holmes"})


@endpoint("assign staff to a student")
def _assign(w: World) -> Call:
    s = w.capture()
    return Call("POST", f"/api/v1/actors/{w.api.ids['teacher']}/assignments",
                {"personnummer": s.personnummer})


@endpoint("end an assignment")
def _end_assignment(w: World) -> Call:
    s = w.capture()
    w.assign("teacher", s)
    return Call("DELETE", f"/api/v1/actors/{w.api.ids['teacher']}/assignments/{s.personnummer}")


@endpoint("capture student documentation")
def _capture_student(w: World) -> Call:
    return Call("POST", "/api/v1/records", w.student_body(w.new_personnummer()))


@endpoint("capture general information")
def _capture_general(w: World) -> Call:
    return Call("POST", "/api/v1/records", w.general_body())


def readable_student(w: World) -> Student:
    """A holmes student with a school copy at holmes, built once and only read."""
    return w.shared("readable", w.at_school)


@endpoint("read a record")
def _read_record(w: World) -> Call:
    return Call("GET", f"/api/v1/records/{readable_student(w).record_id}")


@endpoint("find records by personnummer")
def _find_records(w: World) -> Call:
    return Call("GET", "/api/v1/records",
                params={"personnummer": readable_student(w).personnummer})


@endpoint("read a record's history")
def _history(w: World) -> Call:
    return Call("GET", f"/api/v1/records/{readable_student(w).record_id}/history")


@endpoint("protect a student's identity")
def _protect(w: World) -> Call:
    return Call("POST", f"/api/v1/students/{w.capture().personnummer}/protection",
                {"reason": "skyddad folkbokföring"})


@endpoint("lift a protection")
def _lift_protection(w: World) -> Call:
    s = w.capture()
    w.api.post("archivist", f"/api/v1/students/{s.personnummer}/protection", {}, expect=200)
    return Call("DELETE", f"/api/v1/students/{s.personnummer}/protection")


@endpoint("renumber a student")
def _renumber(w: World) -> Call:
    return Call("POST", f"/api/v1/students/{w.capture().personnummer}/renumbering",
                {"new_personnummer": w.new_personnummer()})


@endpoint("read a student's access log")
def _access_log(w: World) -> Call:
    return Call("GET", f"/api/v1/students/{readable_student(w).personnummer}/access-log")


@endpoint("produce a register extract")
def _extract(w: World) -> Call:
    return Call("GET", f"/api/v1/students/{readable_student(w).personnummer}/extract")


@endpoint("print an archive copy")
def _print_archive(w: World) -> Call:
    return Call("POST", w.copies(w.capture()), {"purpose": "archive"})


@endpoint("print a school copy")
def _print_school(w: World) -> Call:
    return Call("POST", w.copies(w.capture()), {"purpose": "school", "school_id": "holmes"})


@endpoint("file the archive copy")
def _archival(w: World) -> Call:
    s = w.print_archive_copy(w.capture())
    return Call("POST", f"{w.copies(s)}/{s.archive_copy}/archival", {"box": "A-2"})


@endpoint("verify the archive copy")
def _verification(w: World) -> Call:
    s = w.file_archive_copy(w.print_archive_copy(w.capture()))
    return Call("POST", f"{w.copies(s)}/{s.archive_copy}/verification", {"outcome": "ok"})


@endpoint("deliver a school copy")
def _delivery(w: World) -> Call:
    s = w.print_school_copy(w.capture())
    return Call("POST", f"{w.copies(s)}/{s.school_copy}/delivery", {"school_id": "holmes"})


@endpoint("transfer a school copy")
def _transfer(w: World) -> Call:
    s = w.at_school()
    return Call("POST", f"{w.copies(s)}/{s.school_copy}/transfer",
                {"to_school_id": "kvistberg"})


@endpoint("receive a transferred copy")
def _receipt(w: World) -> Call:
    s = w.at_school()
    w.api.post("custodian_holmes", f"{w.copies(s)}/{s.school_copy}/transfer",
               {"to_school_id": "kvistberg"}, expect=200)
    return Call("POST", f"{w.copies(s)}/{s.school_copy}/receipt")


@endpoint("cull a school copy")
def _cull_copy(w: World) -> Call:
    s = w.finished()
    w.approved_list(s)
    return Call("POST", f"{w.copies(s)}/{s.school_copy}/cull", CULL_BODY)


@endpoint("read the culling decisions")
def _decisions(w: World) -> Call:
    return Call("GET", "/api/v1/culling-decisions")


@endpoint("register a culling decision")
def _register_decision(w: World) -> Call:
    return Call("POST", "/api/v1/culling-decisions", {
        "id": f"UN {uuid4().hex[:8]} § 1", "body": "Utbildningsnämnden", "date": "2019-03-20",
        "points": [{"point": 1, "text": "Skolexemplar gallras när eleven flyttat.",
                    "allows": "school_copy_after_moving_away"}]})


@endpoint("propose a culling list")
def _propose(w: World) -> Call:
    s = w.finished()
    return Call("POST", "/api/v1/culling-lists", {
        "decision": "BU 2017/503 § 88", "point": 4,
        "items": [{"record_id": s.record_id, "copy_id": s.school_copy}]})


@endpoint("read a culling list")
def _read_list(w: World) -> Call:
    list_id = w.shared("list", lambda: w.proposed_list(w.finished()))
    return Call("GET", f"/api/v1/culling-lists/{list_id}")


@endpoint("approve a culling list")
def _approve(w: World) -> Call:
    return Call("POST", f"/api/v1/culling-lists/{w.proposed_list(w.finished())}/approval",
                {"approved": True})


@endpoint("destroy an item on a culling list")
def _destroy(w: World) -> Call:
    s = w.finished()
    return Call("POST", f"/api/v1/culling-lists/{w.approved_list(s)}/items/{s.school_copy}"
                "/destruction", {"method": "shredding", "date": "2018-08-20",
                                 "witness": "Greta Granskare"})


@endpoint("withdraw an item")
def _withdraw(w: World) -> Call:
    s = w.finished()
    return Call("POST", f"/api/v1/culling-lists/{w.proposed_list(s)}/items/{s.school_copy}"
                "/withdrawal", {"reason": "går om"})


@endpoint("cull general information")
def _cull_record(w: World) -> Call:
    return Call("POST", f"/api/v1/records/{w.capture_general()}/cull",
                {"decision": "BU 2017/503 § 88", "point": 1, "method": "deletion"})


@endpoint("enter into IST-lärande")
def _ist_entry(w: World) -> Call:
    return Call("POST", f"/api/v1/records/{w.capture().record_id}/ist-entry", {"note": "klart"})


@endpoint("record a departure")
def _departure(w: World) -> Call:
    return Call("POST", f"/api/v1/students/{w.capture().personnummer}/departure",
                {"reason": "moved_away", "date": "2018-06-12"})


@endpoint("request a document")
def _make_request(w: World) -> Call:
    return Call("POST", "/api/v1/requests",
                {"record_id": w.servable().record_id, "purpose": "utvecklingssamtal"})


@endpoint("decide a school-copy request")
def _decide_school(w: World) -> Call:
    return Call("POST", f"/api/v1/requests/{w.request(w.servable())}/decision",
                {"granted": True, "reason": "assigned teacher"})


@endpoint("decide an archive-copy request")
def _decide_archive(w: World) -> Call:
    return Call("POST", f"/api/v1/requests/{w.request(w.servable(school_copy=False))}/decision",
                {"granted": True, "reason": "assigned teacher"})


@endpoint("hand out a granted request")
def _hand_out(w: World) -> Call:
    return Call("POST", f"/api/v1/requests/{w.request(w.servable(), 'granted')}/handout")


@endpoint("take back a handed-out document")
def _take_back(w: World) -> Call:
    return Call("POST", f"/api/v1/requests/{w.request(w.servable(), 'handed_out')}/return")


@endpoint("read the request log")
def _request_log(w: World) -> Call:
    return Call("GET", "/api/v1/requests")


@endpoint("read the shelf list")
def _shelf_list(w: World) -> Call:
    return Call("GET", "/api/v1/archive/shelf-list")


@endpoint("read a school unit's holdings")
def _holdings(w: World) -> Call:
    return Call("GET", "/api/v1/schools/holmes/holdings")


@endpoint("read the culling register")
def _culls(w: World) -> Call:
    return Call("GET", "/api/v1/culls")


@endpoint("read a culling certificate")
def _certificate(w: World) -> Call:
    return Call("GET", f"/api/v1/culls/{w.shared('certificate', w.culled_school_copy)}")


@endpoint("read the agreement's readiness")
def _readiness(w: World) -> Call:
    return Call("GET", "/api/v1/agreement")


@endpoint("terminate the agreement")
def _terminate(w: World) -> Call:
    ready = w.spawn()  # a store of its own, where every captured student is verified
    ready.verify_archive_copy(ready.file_archive_copy(ready.print_archive_copy(ready.capture())))
    return Call("POST", "/api/v1/agreement/termination", world=ready)


@endpoint("close a school year")
def _close_year(w: World) -> Call:
    return Call("POST", f"/api/v1/school-years/{next(w.years)}/closing")


@endpoint("read the checkpoint")
def _checkpoint(w: World) -> Call:
    return Call("GET", "/api/v1/log/checkpoint")


@endpoint("read an inclusion proof")
def _inclusion(w: World) -> Call:
    w.runtime.log.seal()
    return Call("GET", "/api/v1/log/entries/1/inclusion")


@endpoint("read a consistency proof")
def _consistency(w: World) -> Call:
    size = w.runtime.log.seal() or w.runtime.log.size()
    return Call("GET", "/api/v1/log/consistency", params={"first": "1", "second": str(size)})


@endpoint("read the public keys")
def _keys(w: World) -> Call:
    return Call("GET", "/api/v1/keys")


@endpoint("export the store")
def _export(w: World) -> Call:
    return Call("GET", "/api/v1/export")


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"] and body["title"] and body["detail"]
    return body


def is_request(c: Cell) -> bool:
    return c.endpoint == "request a document"


class TestTheMatrix:
    def test_names_every_endpoint_once_and_every_role(self) -> None:
        rows = [c.endpoint for c in CELLS if c.role == ROLES[0]]
        assert sorted(rows) == sorted(ENDPOINTS)
        assert len(rows) == len(set(rows))
        assert set(DISPUTED) == {c.endpoint for c in CELLS if c.disputed}

    def test_the_auditor_changes_nothing(self) -> None:
        """The auditor reads everything; no command of the matrix is open to them."""
        auditor = {c.endpoint: c.status for c in CELLS if c.role == "auditor"}
        writes = [name for name, status in auditor.items() if status in (201, 204)]
        assert writes == []
        assert {auditor[name] for name in auditor if name.startswith("read")} == {200}


class TestEveryRoleAgainstEveryEndpoint:
    @pytest.mark.parametrize(("endpoint", "role", "status"), cell_params(lambda c: c.status < 400))
    def test_an_allowed_role_gets_the_success_status(self, world: World, endpoint: str,
                                                     role: str, status: int) -> None:
        call = ENDPOINTS[endpoint](world)
        with target_of(world, call) as target:
            before = target.events()
            response = target.send(role, call)
            assert response.status_code == status, response.text
            if call.method == "GET":
                assert target.events() == before, "a read stored an event"
            else:
                assert target.events() > before, "a command stored nothing"

    @pytest.mark.parametrize(("endpoint", "role", "status"),
                             cell_params(lambda c: c.status == 403 and not is_request(c)))
    def test_a_forbidden_role_gets_403_and_nothing_changes(self, world: World, endpoint: str,
                                                           role: str, status: int) -> None:
        call = ENDPOINTS[endpoint](world)
        with target_of(world, call) as target:
            before = target.events()
            body = assert_problem(target.send(role, call), 403)
            assert body["type"].endswith("/not-authorised")
            assert target.events() == before

    @pytest.mark.parametrize(("endpoint", "role", "status"),
                             cell_params(lambda c: c.status == 403 and is_request(c)))
    def test_a_forbidden_document_request_gets_403_and_is_logged_once(
        self, world: World, endpoint: str, role: str, status: int
    ) -> None:
        call = ENDPOINTS[endpoint](world)
        before = world.events()
        body = assert_problem(world.send(role, call), 403)
        assert world.events() == before + 1
        logged = world.api.get("auditor", "/api/v1/requests",
                               actor_id=world.api.ids[role]).json()["items"]
        rows = [r for r in logged if r["id"] == body["request_id"]]
        assert [(r["status"], r["record_id"]) for r in rows] == [
            ("refused", call.json["record_id"])]


# -- authentication ---------------------------------------------------------------------------

DUMMY_PATH_VALUES = {"personnummer": pnr(2004, 3, 15, 123), "school_id": "holmes",
                     "year": "2018", "seq": "1"}


def every_operation(world: World) -> list[tuple[str, str]]:
    """Every operation the app publishes (its OpenAPI schema), with dummy path values."""
    operations: list[tuple[str, str]] = []
    for path, methods in world.api.client.get("/openapi.json").json()["paths"].items():
        if path == "/healthz":
            continue
        concrete = re.sub(r"\{(\w+)\}",
                          lambda m: DUMMY_PATH_VALUES.get(m.group(1), str(uuid4())), path)
        operations.extend((method.upper(), concrete) for method in methods)
    return operations


def without_401(world: World, headers: dict[str, str]) -> list[str]:
    wrong = []
    for method, path in every_operation(world):
        response = world.api.client.request(method, path, headers=headers,
                                             json={} if method == "POST" else None)
        if response.status_code != 401 or not response.headers.get(
                "content-type", "").startswith(PROBLEM_JSON):
            wrong.append(f"{method} {path} -> {response.status_code}")
        elif response.headers.get("www-authenticate") != "Bearer":
            wrong.append(f"{method} {path} -> 401 without WWW-Authenticate: Bearer")
    return wrong


class TestAuthentication:
    def test_every_call_without_a_token_is_401_and_changes_nothing(self, world: World) -> None:
        before = world.events()
        assert without_401(world, {}) == []
        assert world.events() == before

    def test_every_call_with_an_unknown_token_is_401(self, world: World) -> None:
        before = world.events()
        assert without_401(world, {"Authorization": "Bearer not-a-token-anyone-was-given"}) == []
        assert world.events() == before

    def test_every_call_with_a_revoked_token_is_401(self, world: World) -> None:
        created = world.api.post("admin", "/api/v1/actors",
                                 {"name": "Lämnat Arkivarie", "role": "archivist"}, expect=201)
        token = created.json()["token"]
        world.runtime.custody.revoke_token(Principal.system(), UUID(created.json()["id"]),
                                           "left")
        before = world.events()
        assert without_401(world, {"Authorization": f"Bearer {token}"}) == []
        assert world.events() == before

    def test_health_needs_no_token(self, world: World) -> None:
        response = world.api.client.get("/healthz")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "ok"


# -- a custodian of one unit and another unit's copies ----------------------------------------


def other_units_copy(w: World, action: str) -> tuple[Student, Call]:
    """A holmes school copy in the state the action needs, and the action on it."""
    s = w.at_school()
    base = f"{w.copies(s)}/{s.school_copy}"
    if action == "deliver":
        s = w.print_school_copy(w.capture())
        return s, Call("POST", f"{w.copies(s)}/{s.school_copy}/delivery",
                       {"school_id": "holmes"})
    if action == "transfer":
        return s, Call("POST", f"{base}/transfer", {"to_school_id": "fryken"})
    if action == "cull":
        w.api.post("archivist", f"/api/v1/students/{s.personnummer}/departure",
                   {"reason": "finished_compulsory_school", "date": "2018-06-15"}, expect=200)
        w.approved_list(s)
        return s, Call("POST", f"{base}/cull", CULL_BODY)
    if action == "decide":
        w.assign("teacher", s)
        return s, Call("POST", f"/api/v1/requests/{w.request(s)}/decision",
                       {"granted": True, "reason": "ok"})
    raise ValueError(action)


class TestACustodianOfOneUnitCannotActOnAnothersCopies:
    @pytest.mark.parametrize("action", ["deliver", "transfer", "cull", "decide"])
    def test_the_custodian_of_school_b_is_refused_on_school_a_s_copy(
        self, world: World, action: str
    ) -> None:
        s, call = other_units_copy(world, action)
        before_record = world.api.get("archivist", f"/api/v1/records/{s.record_id}").json()
        before = world.events()
        body = assert_problem(world.send("custodian_kvistberg", call), 403)
        assert "holmes" in body["detail"]
        assert world.events() == before
        after_record = world.api.get("archivist", f"/api/v1/records/{s.record_id}").json()
        assert after_record["copies"] == before_record["copies"]

    def test_once_the_copy_moved_to_school_b_its_former_custodian_is_refused(
        self, world: World
    ) -> None:
        s = world.at_school()
        base = f"{world.copies(s)}/{s.school_copy}"
        world.api.post("custodian_holmes", f"{base}/transfer", {"to_school_id": "kvistberg"},
                       expect=200)
        world.api.post("custodian_kvistberg", f"{base}/receipt", expect=200)
        before = world.events()
        assert_problem(world.send("custodian_holmes", Call(
            "POST", f"{base}/transfer", {"to_school_id": "fryken"})), 403)
        assert_problem(world.send("custodian_holmes", Call(
            "GET", f"/api/v1/records/{s.record_id}")), 403)
        assert world.events() == before

    def test_the_custodian_of_school_b_does_not_see_school_a_s_holdings(
        self, world: World
    ) -> None:
        assert_problem(world.send("custodian_kvistberg",
                                  Call("GET", "/api/v1/schools/holmes/holdings")), 403)


# -- no existence oracle ---------------------------------------------------------------------


class TestStaffWhoMayNotReadRecordsCannotProbeWhichStudentsAreInCustody:
    """A teacher gets 403 for a captured student; for one never captured anything but 403
    (an empty list, a 404) tells them which personnummer the archive holds."""

    def test_search_for_a_captured_student_is_403(self, world: World) -> None:
        s = readable_student(world)
        assert_problem(world.send("other_teacher", Call(
            "GET", "/api/v1/records", params={"personnummer": s.personnummer})), 403)

    def test_search_for_a_student_never_captured_is_403_too(self, world: World) -> None:
        assert_problem(world.send("other_teacher", Call(
            "GET", "/api/v1/records", params={"personnummer": world.new_personnummer()})), 403)

    def test_a_departure_for_a_student_never_captured_is_403_too(self, world: World) -> None:
        assert_problem(world.send("other_teacher", Call(
            "POST", f"/api/v1/students/{world.new_personnummer()}/departure",
            {"reason": "moved_away", "date": "2018-06-12"})), 403)


# -- requests are authorised at the moment they are made --------------------------------------


class TestRequestsAreAuthorisedAtTheMomentOfTheRequest:
    def test_a_teacher_whose_assignment_ended_is_refused_and_the_refusal_is_logged(
        self, world: World
    ) -> None:
        s = world.servable()
        world.api.client.delete(
            f"/api/v1/actors/{world.api.ids['teacher']}/assignments/{s.personnummer}",
            headers=world.api.as_("admin")).raise_for_status()
        before = world.events()
        body = assert_problem(world.send("teacher", Call(
            "POST", "/api/v1/requests", {"record_id": s.record_id, "purpose": "samtal"})), 403)
        assert "not assigned" in body["detail"]
        assert world.events() == before + 1
        log = world.api.get("teacher", "/api/v1/requests").json()["items"]
        assert [r["status"] for r in log if r["id"] == body["request_id"]] == ["refused"]

    def test_a_principal_of_another_unit_is_refused(self, world: World) -> None:
        created = world.api.post("admin", "/api/v1/actors", {
            "name": "Rektor Kvist", "role": "principal", "school_id": "kvistberg"}, expect=201)
        world.api.tokens["principal_kvistberg"] = created.json()["token"]
        s = world.servable()
        before = world.events()
        body = assert_problem(world.send("principal_kvistberg", Call(
            "POST", "/api/v1/requests", {"record_id": s.record_id, "purpose": "samtal"})), 403)
        assert "principal's school unit" in body["detail"]
        assert world.events() == before + 1

    def test_the_request_goes_to_the_custodian_holding_the_copy(self, world: World) -> None:
        s = world.servable()
        request_id = world.request(s)
        row = world.api.get("auditor", f"/api/v1/requests/{request_id}").json()
        assert row["school_id"] == "holmes"
        assert row["copy_id"] == s.school_copy


# -- unknown ids, illegal transitions, malformed input: (world) -> (who, call, ...) ------------

Case = tuple[str, Call]
UNKNOWN: dict[str, Callable[[World], Case]] = {}
ILLEGAL: dict[str, Callable[[World], Case]] = {}
MALFORMED: dict[str, Callable[[World], tuple[str, Call, str]]] = {}


def case(table: dict[str, Any], name: str) -> Callable[[Any], Any]:
    def register(prepare: Any) -> Any:
        table[name] = prepare
        return prepare
    return register


NOBODY = "0b0e7a4e-2f5c-4d8e-9a51-0c6f1e7d2b11"
FINISHED = {"reason": "finished_compulsory_school", "date": "2018-06-15"}


@case(UNKNOWN, "record")
def _no_record(w: World) -> Case:
    return "archivist", Call("GET", f"/api/v1/records/{NOBODY}")


@case(UNKNOWN, "record's history")
def _no_history(w: World) -> Case:
    return "archivist", Call("GET", f"/api/v1/records/{NOBODY}/history")


@case(UNKNOWN, "record to print a copy of")
def _no_record_to_print(w: World) -> Case:
    return "archivist", Call("POST", f"/api/v1/records/{NOBODY}/copies", {"purpose": "archive"})


@case(UNKNOWN, "copy of a known record")
def _no_copy(w: World) -> Case:
    return "archivist", Call("POST", f"{w.copies(readable_student(w))}/{NOBODY}/archival",
                             {"box": "A-1"})


@case(UNKNOWN, "request to decide")
def _no_request(w: World) -> Case:
    return "custodian_holmes", Call("POST", f"/api/v1/requests/{NOBODY}/decision",
                                    {"granted": True, "reason": "ok"})


@case(UNKNOWN, "request to hand out")
def _no_request_to_hand_out(w: World) -> Case:
    return "custodian_holmes", Call("POST", f"/api/v1/requests/{NOBODY}/handout")


@case(UNKNOWN, "culling certificate")
def _no_certificate(w: World) -> Case:
    return "auditor", Call("GET", f"/api/v1/culls/{NOBODY}")


@case(UNKNOWN, "school unit")
def _no_school(w: World) -> Case:
    return "auditor", Call("GET", "/api/v1/schools/nowhere/holdings")


@case(UNKNOWN, "student never captured")
def _no_student(w: World) -> Case:
    return "archivist", Call("POST", f"/api/v1/students/{w.new_personnummer()}/departure",
                             {"reason": "moved_away", "date": "2018-06-12"})


@case(UNKNOWN, "staff member")
def _no_actor(w: World) -> Case:
    return "admin", Call("POST", f"/api/v1/actors/{NOBODY}/assignments",
                         {"personnummer": w.new_personnummer()})


@case(UNKNOWN, "log entry")
def _no_log_entry(w: World) -> Case:
    return "auditor", Call("GET", "/api/v1/log/entries/999999999/inclusion")


@case(ILLEGAL, "capture the same student twice")
def _capture_twice(w: World) -> Case:
    s = w.capture()
    return "archivist", Call("POST", "/api/v1/records", w.student_body(s.personnummer))


@case(ILLEGAL, "print a second archive copy")
def _second_archive_copy(w: World) -> Case:
    s = w.print_archive_copy(w.capture())
    return "archivist", Call("POST", w.copies(s), {"purpose": "archive"})


@case(ILLEGAL, "file a school copy in the archive")
def _file_school_copy(w: World) -> Case:
    s = w.print_school_copy(w.capture())
    return "archivist", Call("POST", f"{w.copies(s)}/{s.school_copy}/archival", {"box": "A-1"})


@case(ILLEGAL, "verify an archive copy before it is filed")
def _verify_unfiled(w: World) -> Case:
    s = w.print_archive_copy(w.capture())
    return "archivist", Call("POST", f"{w.copies(s)}/{s.archive_copy}/verification",
                             {"outcome": "ok"})


@case(ILLEGAL, "deliver a copy twice")
def _deliver_twice(w: World) -> Case:
    s = w.at_school()
    return "custodian_holmes", Call("POST", f"{w.copies(s)}/{s.school_copy}/delivery",
                                    {"school_id": "holmes"})


@case(ILLEGAL, "transfer a copy on loan")
def _transfer_on_loan(w: World) -> Case:
    s = w.servable()
    w.request(s, "handed_out")
    return "custodian_holmes", Call("POST", f"{w.copies(s)}/{s.school_copy}/transfer",
                                    {"to_school_id": "kvistberg"})


@case(ILLEGAL, "cull the archive copy of student documentation")
def _cull_archive_copy(w: World) -> Case:
    s = w.verify_archive_copy(w.file_archive_copy(w.print_archive_copy(w.capture())))
    w.api.post("archivist", f"/api/v1/students/{s.personnummer}/departure", FINISHED,
               expect=200)
    return "archivist", Call("POST", f"{w.copies(s)}/{s.archive_copy}/cull", CULL_BODY)


@case(ILLEGAL, "cull a school copy before the student finished compulsory school")
def _cull_too_early(w: World) -> Case:
    s = w.at_school()
    return "custodian_holmes", Call("POST", f"{w.copies(s)}/{s.school_copy}/cull", CULL_BODY)


@case(ILLEGAL, "cull general information twice")
def _cull_twice(w: World) -> Case:
    record_id = w.capture_general()
    body = {"decision": "BU 2017/503 § 88", "point": 1, "method": "deletion"}
    w.api.post("archivist", f"/api/v1/records/{record_id}/cull", body, expect=200)
    return "archivist", Call("POST", f"/api/v1/records/{record_id}/cull", body)


@case(ILLEGAL, "hand out a request not granted")
def _hand_out_pending(w: World) -> Case:
    return "custodian_holmes", Call("POST",
                                    f"/api/v1/requests/{w.request(w.servable())}/handout")


@case(ILLEGAL, "take back a request not handed out")
def _take_back_granted(w: World) -> Case:
    request_id = w.request(w.servable(), "granted")
    return "custodian_holmes", Call("POST", f"/api/v1/requests/{request_id}/return")


@case(ILLEGAL, "decide a request twice")
def _decide_twice(w: World) -> Case:
    request_id = w.request(w.servable(), "granted")
    return "custodian_holmes", Call("POST", f"/api/v1/requests/{request_id}/decision",
                                    {"granted": False, "reason": "changed my mind"})


@case(ILLEGAL, "request a document no copy of which can be handed out")
def _request_without_copy(w: World) -> Case:
    s = w.capture()
    w.assign("teacher", s)
    return "teacher", Call("POST", "/api/v1/requests",
                           {"record_id": s.record_id, "purpose": "samtal"})


@case(ILLEGAL, "record a departure after the student finished school")
def _depart_twice(w: World) -> Case:
    s = w.capture()
    path = f"/api/v1/students/{s.personnummer}/departure"
    w.api.post("archivist", path, FINISHED, expect=200)
    return "archivist", Call("POST", path, FINISHED)


@case(ILLEGAL, "terminate the agreement before every archive copy is verified")
def _terminate_too_early(w: World) -> Case:
    w.capture()
    return "archivist", Call("POST", "/api/v1/agreement/termination")


GOOD = pnr(2004, 3, 15, 123)
CHECK = int(GOOD[-1])
WRONG_CHECK = GOOD[:-1] + str((CHECK + 1) % 10)


@case(MALFORMED, "capture with a wrong check digit")
def _capture_bad_pnr(w: World) -> tuple[str, Call, str]:
    return "archivist", Call("POST", "/api/v1/records", w.student_body(WRONG_CHECK)), \
        "personnummer"


@case(MALFORMED, "assignment with a wrong check digit")
def _assign_bad_pnr(w: World) -> tuple[str, Call, str]:
    return "admin", Call("POST", f"/api/v1/actors/{w.api.ids['teacher']}/assignments",
                         {"personnummer": WRONG_CHECK}), "personnummer"


@case(MALFORMED, "departure with a wrong check digit")
def _depart_bad_pnr(w: World) -> tuple[str, Call, str]:
    return "archivist", Call("POST", f"/api/v1/students/{WRONG_CHECK}/departure",
                             {"reason": "moved_away", "date": "2018-06-12"}), "personnummer"


@case(MALFORMED, "search with a wrong check digit")
def _search_bad_pnr(w: World) -> tuple[str, Call, str]:
    return "archivist", Call("GET", "/api/v1/records", params={"personnummer": WRONG_CHECK}), \
        "personnummer"


@case(MALFORMED, "capture for an unregistered school unit")
def _capture_nowhere(w: World) -> tuple[str, Call, str]:
    return "archivist", Call("POST", "/api/v1/records",
                             w.student_body(w.new_personnummer(), "nowhere")), "school_id"


@case(MALFORMED, "capture with a bad document hash")
def _capture_bad_hash(w: World) -> tuple[str, Call, str]:
    body = w.student_body(w.new_personnummer())
    body["documents"][0]["sha256"] = "not-a-hash"
    return "archivist", Call("POST", "/api/v1/records", body), "documents.0.sha256"


@case(MALFORMED, "staff member with an unknown role")
def _bad_role(w: World) -> tuple[str, Call, str]:
    return "admin", Call("POST", "/api/v1/actors", {"name": "X", "role": "janitor"}), "role"


@case(MALFORMED, "a record id that is not a UUID")
def _bad_record_id(w: World) -> tuple[str, Call, str]:
    return "archivist", Call("GET", "/api/v1/records/not-a-uuid"), "record_id"


@case(MALFORMED, "a request without a purpose")
def _no_purpose(w: World) -> tuple[str, Call, str]:
    return "teacher", Call("POST", "/api/v1/requests",
                           {"record_id": readable_student(w).record_id}), "purpose"


@case(MALFORMED, "a request for a record id that is not a UUID")
def _request_bad_id(w: World) -> tuple[str, Call, str]:
    return "teacher", Call("POST", "/api/v1/requests",
                           {"record_id": "nope", "purpose": "samtal"}), "record_id"


@case(MALFORMED, "a departure with a date that is not a date")
def _bad_date(w: World) -> tuple[str, Call, str]:
    return "archivist", Call("POST",
                             f"/api/v1/students/{readable_student(w).personnummer}/departure",
                             {"reason": "moved_away", "date": "15/6/2018"}), "date"


@case(MALFORMED, "history as of a time that is not a time")
def _bad_as_of(w: World) -> tuple[str, Call, str]:
    return "archivist", Call("GET", f"/api/v1/records/{readable_student(w).record_id}/history",
                             params={"as_of": "yesterday"}), "as_of"


@case(MALFORMED, "a school copy without its school unit")
def _school_copy_nowhere(w: World) -> tuple[str, Call, str]:
    return "archivist", Call("POST", w.copies(w.capture()), {"purpose": "school"}), "school_id"


# Found by fuzzing: these reached SQL as they were and failed there with a 500 (a NUL byte
# in a PostgreSQL text parameter; an integer beyond SQLite's and PostgreSQL's BIGINT).


@case(MALFORMED, "holdings of a school id with a NUL byte")
def _school_id_with_nul(w: World) -> tuple[str, Call, str]:
    return "auditor", Call("GET", "/api/v1/schools/hol%00mes/holdings"), "school_id"


@case(MALFORMED, "the request log filtered by a status that does not exist")
def _unknown_status(w: World) -> tuple[str, Call, str]:
    return "auditor", Call("GET", "/api/v1/requests", params={"status": "lost\x00"}), "status"


@case(MALFORMED, "the request log filtered by a school id with a NUL byte")
def _filter_school_with_nul(w: World) -> tuple[str, Call, str]:
    return "auditor", Call("GET", "/api/v1/requests", params={"school_id": "a\x00"}), \
        "school_id"


@case(MALFORMED, "an inclusion proof for a seq beyond any BIGINT")
def _huge_seq(w: World) -> tuple[str, Call, str]:
    return "auditor", Call("GET", f"/api/v1/log/entries/{2**64}/inclusion"), "seq"


@case(MALFORMED, "an inclusion proof for a tree size beyond any BIGINT")
def _huge_tree(w: World) -> tuple[str, Call, str]:
    return "auditor", Call("GET", "/api/v1/log/entries/1/inclusion",
                           params={"tree_size": str(2**64)}), "tree_size"


class TestUnknownIds:
    @pytest.mark.parametrize("what", list(UNKNOWN))
    def test_an_unknown_id_is_404_and_changes_nothing(self, world: World, what: str) -> None:
        who, call = UNKNOWN[what](world)
        before = world.events()
        assert_problem(world.send(who, call), 404)
        assert world.events() == before


class TestIllegalTransitions:
    @pytest.mark.parametrize("what", list(ILLEGAL))
    def test_an_illegal_transition_is_409_and_changes_nothing(self, world: World,
                                                             what: str) -> None:
        who, call = ILLEGAL[what](world)
        before = world.events()
        assert_problem(world.send(who, call), 409)
        assert world.events() == before

    def test_a_second_capture_names_the_existing_record(self, world: World) -> None:
        s = world.capture()
        body = assert_problem(world.send("archivist", Call(
            "POST", "/api/v1/records", world.student_body(s.personnummer))), 409)
        assert body["id"] == s.record_id

    def test_a_refused_termination_lists_what_is_missing(self, world: World) -> None:
        s = world.capture()
        body = assert_problem(world.send("archivist", Call(
            "POST", "/api/v1/agreement/termination")), 409)
        assert s.record_id in {m["record_id"] for m in body["missing"]}


class TestMalformedInput:
    @pytest.mark.parametrize("what", list(MALFORMED))
    def test_malformed_input_is_422_naming_the_field_and_changes_nothing(
        self, world: World, what: str
    ) -> None:
        who, call, field_name = MALFORMED[what](world)
        before = world.events()
        body = assert_problem(world.send(who, call), 422)
        assert field_name in [e["field"] for e in body["errors"]], body
        assert world.events() == before

    @pytest.mark.parametrize("what", [m for m in MALFORMED if "check digit" in m])
    def test_a_wrong_check_digit_is_reported_with_the_expected_digit(
        self, world: World, what: str
    ) -> None:
        who, call, _ = MALFORMED[what](world)
        body = assert_problem(world.send(who, call), 422)
        assert f"check digit should be {CHECK}" in body["detail"]
        assert WRONG_CHECK not in body["detail"], "the whole personnummer leaked into the error"
