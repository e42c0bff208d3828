"""The data the benchmarks capture: synthetic students and the staff who capture them.

The benchmarks' own copy, so that ``bench/`` never imports the test suite (the two may
change apart); the captures have the same shape as the tests' factories.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from api.demo import SCHOOLS
from application.policy import Principal
from application.service import Custody, DocumentIn, StudentCapture


def student(personnummer: str, name: str = "Alva Andersson", school: str = "holmes",
            documents: int = 2) -> StudentCapture:
    """A capture of one student with ``documents`` documents (distinct sha256 each)."""
    return StudentCapture(
        personnummer=personnummer,
        name=name,
        school_id=school,
        class_name="7A",
        documents=[
            DocumentIn(f"IUP {name} {i}", "iup",
                       hashlib.sha256(f"{personnummer}/{i}".encode()).hexdigest(), 2 + i)
            for i in range(documents)
        ],
    )


@dataclass(frozen=True)
class Staff:
    admin: Principal
    archivist: Principal
    auditor: Principal


def seed_staff(custody: Custody) -> Staff:
    """The seed's school units, and an admin, an archivist and an auditor authenticated
    by their real tokens."""
    system = Principal.system()
    for code, name in SCHOOLS.items():
        custody.register_school(system, code, name)

    def make(name: str, role: str) -> Principal:
        _, token = custody.register_actor(system, name, role, None)
        return custody.authenticate(token)

    return Staff(admin=make("Ada Admin", "admin"), archivist=make("Arne Arkivarie", "archivist"),
                 auditor=make("Greta Granskare", "auditor"))
