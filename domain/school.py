"""School units (skolenheter) and the archive, where copies can be."""

from __future__ import annotations

import re
from uuid import UUID, uuid5

from eventsourcing.domain import BaseAggregate

from domain.errors import InvalidInputError
from domain.events import CustodyCreated, CustodyEvent

NAMESPACE = UUID("6f1c2a9e-3b7d-4c55-9a0e-5d1f0b7e2c41")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")

ARCHIVE = "archive"
"""The location id of the municipal archive (kommunarkivet)."""


def school_unit_id(code: str) -> UUID:
    return uuid5(NAMESPACE, f"school-unit:{code}")


def check_school_code(code: str) -> str:
    if not _CODE.match(code):
        raise InvalidInputError(
            f"school unit id {code!r} must be 1-40 lower-case letters, digits, '-' or '_'",
            field="id",
        )
    if code == ARCHIVE:
        raise InvalidInputError("'archive' is reserved for the municipal archive", field="id")
    return code


class SchoolUnit(BaseAggregate[UUID]):
    TOPIC = "custody:SchoolUnit"

    def __init__(self) -> None:
        """State is set by the events' ``apply``; the creation event calls this first."""

    class Event(CustodyEvent):
        pass

    class Registered(Event, CustodyCreated):
        TOPIC = "custody:SchoolUnit.Registered"
        code: str
        name: str

        def apply(self, school: SchoolUnit) -> None:
            school.code = self.code
            school.name = self.name

    code: str
    name: str

    @classmethod
    def register(cls, code: str, name: str, *, actor: str) -> SchoolUnit:
        check_school_code(code)
        name = name.strip()
        if not name:
            raise InvalidInputError("a school unit needs a name", field="name")
        return cls._create(
            cls.Registered, id=school_unit_id(code), code=code, name=name, actor=actor
        )
