"""The culling decision (gallringsbeslut) BU 2017/503 § 88 and what each point allows.

A cull must name the decision and the point that allows it; the domain checks the
condition of that point before it records the cull.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import CullNotLawfulError

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


@dataclass(frozen=True, slots=True)
class LegalBasis:
    decision: str
    point: int

    @classmethod
    def check(cls, decision: str, point: int, *, required_point: int) -> LegalBasis:
        """The basis named in a cull command, checked against what the item needs."""
        normalised = " ".join(decision.replace("§", " § ").split())
        if normalised != DECISION_ID:
            raise CullNotLawfulError(
                f"decision {decision!r} is not a culling decision this archive knows; "
                f"the only one is {DECISION_ID!r}"
            )
        if point not in POINTS:
            raise CullNotLawfulError(f"decision {DECISION_ID} has no point {point}")
        if point != required_point:
            raise CullNotLawfulError(
                f"point {point} of {DECISION_ID} does not allow this cull; "
                f"point {required_point} does: {POINTS[required_point]}"
            )
        return cls(DECISION_ID, point)


def check_method(method: str) -> str:
    if method not in CULL_METHODS:
        raise CullNotLawfulError(
            f"method {method!r} is not an approved way of destroying records; "
            f"use one of {sorted(CULL_METHODS)}"
        )
    return method
