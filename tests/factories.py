"""Test data in one place: valid synthetic personnummer, schools, staff, captures."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.policy import Principal
from application.service import Custody, DocumentIn, StudentCapture
from domain.personnummer import synthetic

SCHOOLS = {
    "holmes": "Holmesskolan",
    "kvistberg": "Kvistbergsskolan",
    "fryken": "Frykenskolorna",
}


def pnr(year: int, month: int, day: int, number: int, *, coordination: bool = False) -> str:
    return synthetic(dt.date(year, month, day), number, coordination=coordination).formatted()


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def student(personnummer: str, name: str = "Alva Andersson", school: str = "holmes",
            documents: int = 2) -> StudentCapture:
    return StudentCapture(
        personnummer=personnummer,
        name=name,
        school_id=school,
        class_name="7A",
        documents=[
            DocumentIn(f"IUP {name} {i}", "iup", sha(f"{personnummer}/{i}"), 2 + i)
            for i in range(documents)
        ],
    )


@dataclass
class Staff:
    """Everyone the seed story needs, authenticated through their real tokens."""

    admin: Principal
    archivist: Principal
    archive_custodian: Principal
    custodians: dict[str, Principal]
    principals: dict[str, Principal]
    teacher: Principal
    teacher_id: UUID
    other_teacher: Principal
    auditor: Principal
    tokens: dict[str, str]


def seed_staff(custody: Custody) -> Staff:
    system = Principal.system()
    for code, name in SCHOOLS.items():
        custody.register_school(system, code, name)
    tokens: dict[str, str] = {}

    def make(key: str, name: str, role: str, school: str | None) -> Principal:
        _, token = custody.register_actor(system, name, role, school)
        tokens[key] = token
        return custody.authenticate(token)

    admin = make("admin", "Ada Admin", "admin", None)
    archivist = make("archivist", "Arne Arkivarie", "archivist", None)
    archive_custodian = make("archive_custodian", "Asta Arkivet", "custodian", None)
    custodians = {c: make(f"custodian_{c}", f"Cecilia {c}", "custodian", c) for c in SCHOOLS}
    principals = {c: make(f"principal_{c}", f"Rektor {c}", "principal", c) for c in SCHOOLS}
    teacher = make("teacher", "Tove Lärare", "teacher", "holmes")
    other_teacher = make("other_teacher", "Olle Lärare", "teacher", "holmes")
    auditor = make("auditor", "Greta Granskare", "auditor", None)
    return Staff(admin, archivist, archive_custodian, custodians, principals, teacher,
                 UUID(teacher.id), other_teacher, auditor, tokens)


def cull_through_list(rt: Any, staff: Staff, record_id: UUID, copy_id: UUID, school: str,
                      *, witness: str = "Greta Granskare") -> UUID:
    """A school copy culled as it happens on paper: the archivist proposes, the school's
    principal approves, the school's custodian destroys it. The certificate id."""
    from application.culling import Culling, Destruction, ItemIn
    from domain.culling import DECISION_ID, POINT_SCHOOL_COPY_AT_ROLLOVER

    culling = Culling(rt.custody, rt.queries)
    listed = culling.propose(staff.archivist, decision=DECISION_ID,
                             point=POINT_SCHOOL_COPY_AT_ROLLOVER,
                             items=[ItemIn(record_id, copy_id)], note=None)
    list_id = UUID(listed["id"])
    culling.decide(staff.principals[school], list_id, approved=True, reason="kontrollerad")
    return culling.destroy(staff.custodians[school], list_id, copy_id, Destruction(
        "shredding", rt.custody.today().isoformat(), witness)).certificate_id
class ManualClock:
    """A clock the test moves by hand: expiry and time-outs without sleeping."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.at = start or dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)
