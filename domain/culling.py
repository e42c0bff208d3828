"""Culling decisions (gallringsbeslut) as data: the register (informationshanteringsplan).

A municipality holds many culling decisions; each names its points and what each point
allows, from a fixed set of :class:`Condition` values the domain knows how to check. A
cull names a registered decision and point; the condition of that point is checked when
the destruction is confirmed (:func:`check_condition`), never before.

BU 2017/503 § 88 (Barn- och utbildningsnämnden, 2017-12-14) is the seed decision,
registered on first start (:data:`SEED_DECISION`). Its constants below are kept for the
code that names it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import BaseAggregate

from domain.errors import CullNotLawfulError, InvalidInputError
from domain.events import CustodyCreated, CustodyEvent
from domain.school import NAMESPACE

DECISION_ID = "BU 2017/503 § 88"
"""Barn- och utbildningsnämnden, 2017-12-14, § 88, Dnr BU 2017/503."""

GENERAL_INFORMATION_CATEGORIES = frozenset(
    {"newsletter", "blog_post", "statistics", "compilation", "other"}
)

POINTS: dict[int, str] = {
    1: "General information in Unikum (compilations, statistics, newsletters, blog posts and "
    "other general information sent from the school to guardians) may be culled at the switch.",
    2: "The information about each student is preserved on paper, in personnummer order.",
    3: "What each student needs for future schooling is entered into IST-lärande.",
    4: "At each new school year the information about students who left is handed over to the "
    "new school unit, or culled if the student has finished compulsory school.",
}

POINT_GENERAL_INFORMATION = 1
POINT_SCHOOL_COPY_AT_ROLLOVER = 4

CULL_METHODS = frozenset({"shredding", "incineration", "secure_disposal_bin", "deletion"})


class Condition(StrEnum):
    """What a point of a decision allows: a condition the domain knows how to check."""

    NOTHING = "nothing"
    """The point preserves or arranges something; it allows no cull."""
    GENERAL_INFORMATION = "general_information"
    """General information (not student documentation) may be deleted."""
    SCHOOL_COPY_AFTER_FINISHING = "school_copy_after_finishing"
    """A school copy, once its student finished compulsory school and that date passed."""
    SCHOOL_COPY_AFTER_MOVING_AWAY = "school_copy_after_moving_away"
    """A school copy, once its student moved away from the municipality and that date passed."""


def parse_condition(value: str, field: str = "allows") -> Condition:
    try:
        return Condition(value)
    except ValueError:
        raise InvalidInputError(
            f"{value!r} is not a condition this service can check; use one of "
            + ", ".join(c.value for c in Condition), field=field) from None


def normalise_decision_id(text: str) -> str:
    """``BU 2017/503 §88`` and ``BU  2017/503 § 88`` name the same decision."""
    return " ".join(text.replace("§", " § ").split())


def decision_aggregate_id(decision: str) -> UUID:
    return uuid5(NAMESPACE, f"culling-decision:{normalise_decision_id(decision).casefold()}")


@dataclass(frozen=True, slots=True)
class DecisionPoint:
    point: int
    text: str
    allows: Condition

    def as_dict(self) -> dict[str, Any]:
        return {"point": self.point, "text": self.text, "allows": self.allows.value}


@dataclass(frozen=True, slots=True)
class LegalBasis:
    """A registered decision and point, and the condition that point allows."""

    decision: str
    point: int
    text: str
    allows: Condition


SEED_BODY = "Barn- och utbildningsnämnden"
SEED_DATE = "2017-12-14"
SEED_POINTS = (
    DecisionPoint(1, POINTS[1], Condition.GENERAL_INFORMATION),
    DecisionPoint(2, POINTS[2], Condition.NOTHING),
    DecisionPoint(3, POINTS[3], Condition.NOTHING),
    DecisionPoint(4, POINTS[4], Condition.SCHOOL_COPY_AFTER_FINISHING),
)


class CullingDecision(BaseAggregate[UUID]):
    """One culling decision in the register, with its points. Registered once, never
    edited: a changed decision is a new decision with its own id."""

    TOPIC = "custody:CullingDecision"

    def __init__(self) -> None:
        """State is set by the events' ``apply``; the creation event calls this first."""

    class Event(CustodyEvent):
        pass

    class Registered(Event, CustodyCreated):
        TOPIC = "custody:CullingDecision.Registered"
        decision: str
        body: str
        date: str
        points: list[dict[str, Any]]

        def apply(self, decision: CullingDecision) -> None:
            decision.decision = self.decision
            decision.body = self.body
            decision.date = self.date
            decision.points = {
                int(p["point"]): DecisionPoint(int(p["point"]), str(p["text"]),
                                               Condition(p["allows"]))
                for p in self.points
            }

    decision: str
    body: str
    date: str
    points: dict[int, DecisionPoint]

    @classmethod
    def register(cls, decision: str, *, body: str, date: str,
                 points: Sequence[DecisionPoint], actor: str) -> CullingDecision:
        name = normalise_decision_id(decision)
        if not name:
            raise InvalidInputError("the decision needs an id (e.g. its diary number and §)",
                                    field="id")
        if not body.strip():
            raise InvalidInputError("name the body that made the decision", field="body")
        try:
            dt.date.fromisoformat(date)
        except ValueError:
            raise InvalidInputError("date must be YYYY-MM-DD", field="date") from None
        if not points:
            raise InvalidInputError("a decision has at least one point", field="points")
        numbers = [p.point for p in points]
        if len(set(numbers)) != len(numbers):
            raise InvalidInputError("each point is numbered once", field="points")
        for index, p in enumerate(points):
            if p.point < 1:
                raise InvalidInputError("points are numbered from 1",
                                        field=f"points[{index}].point")
            if not p.text.strip():
                raise InvalidInputError("say what the point decides",
                                        field=f"points[{index}].text")
        return cls._create(
            cls.Registered, id=decision_aggregate_id(name), decision=name, body=body.strip(),
            date=date, points=[p.as_dict() for p in sorted(points, key=lambda p: p.point)],
            actor=actor,
        )

    def basis(self, point: int) -> LegalBasis:
        """The basis a cull names; 422 when the point does not exist, 409 when it allows
        no cull at all."""
        found = self.points.get(point)
        if found is None:
            raise UnknownCullingBasisError(
                f"decision {self.decision} has no point {point}; it has "
                + ", ".join(str(p) for p in sorted(self.points)), field="point")
        if found.allows is Condition.NOTHING:
            raise CullNotLawfulError(
                f"point {point} of {self.decision} allows no cull: {found.text}")
        return LegalBasis(self.decision, point, found.text, found.allows)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.decision, "body": self.body, "date": self.date,
                "points": [p.as_dict() for _, p in sorted(self.points.items())]}


class UnknownCullingBasisError(InvalidInputError):
    """A cull names a decision or point that is not in the register (422)."""

    title = "Not a registered culling decision and point"
    code = "unknown_culling_basis"


def seed_decision(actor: str) -> CullingDecision:
    return CullingDecision.register(DECISION_ID, body=SEED_BODY, date=SEED_DATE,
                                    points=SEED_POINTS, actor=actor)


def check_method(method: str) -> str:
    if method not in CULL_METHODS:
        raise CullNotLawfulError(
            f"method {method!r} is not an approved way of destroying records; "
            f"use one of {sorted(CULL_METHODS)}"
        )
    return method


def check_departure_passed(date: dt.date, today: dt.date, what: str) -> None:
    if date > today:
        raise CullNotLawfulError(
            f"the student {what} on {date.isoformat()}, which has not passed yet "
            f"(today is {today.isoformat()}); nothing is culled before that date")

