"""A scripted migration of several schools through the application layer, shared by the
projection, log and bundle tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

import pytest

from domain.errors import NotAuthorisedError
from infrastructure.bootstrap import Runtime
from tests.factories import Staff, cull_through_list, pnr, seed_staff, sha, student

PEOPLE = [
    (pnr(1999, 8, 30, 456), "Bo Ek", "holmes"),
    (pnr(2004, 3, 15, 123), "Anna Holm", "holmes"),
    (pnr(2003, 11, 2, 789, coordination=True), "Cai Dahl", "kvistberg"),
    (pnr(2005, 1, 9, 321), "Dana Fors", "fryken"),
    (pnr(1912, 12, 12, 121), "Eldre Ström", "fryken"),
]


@dataclass
class Story:
    staff: Staff
    records: dict[str, UUID] = field(default_factory=dict)
    archive_copies: dict[str, UUID] = field(default_factory=dict)
    school_copies: dict[str, UUID] = field(default_factory=dict)
    general: UUID | None = None
    certificates: list[UUID] = field(default_factory=list)
    refused_request: str | None = None


def run_story(rt: Runtime) -> Story:
    c = rt.custody
    staff = seed_staff(c)
    story = Story(staff)
    arch = staff.archivist
    for personnummer, name, school in PEOPLE:
        record_id = c.capture_student(arch, student(personnummer, name, school))
        story.records[name] = record_id
        copy_id = c.print_copy(arch, record_id, "archive", None)
        c.archive_copy(arch, record_id, copy_id, box=f"B-{school}", shelf="1")
        c.verify_copy(arch, record_id, copy_id, outcome="ok", note=None)
        story.archive_copies[name] = copy_id
        school_copy = c.print_copy(arch, record_id, "school", school)
        c.deliver_copy(staff.custodians[school], record_id, school_copy, school)
        story.school_copies[name] = school_copy
    story.general = c.capture_general(arch, category="newsletter", title="Veckobrev v. 12",
                                      school_id="holmes", sha256=sha("news"))
    anna = story.records["Anna Holm"]
    anna_pnr = PEOPLE[1][0]
    c.assign(staff.admin, staff.teacher_id, anna_pnr)
    request = c.make_request(staff.teacher, anna, "utvecklingssamtal")
    c.decide_request(staff.custodians["holmes"], request.id, granted=True, reason="mentor")
    c.hand_out(staff.custodians["holmes"], request.id)
    c.take_back(staff.custodians["holmes"], request.id)
    with pytest.raises(NotAuthorisedError) as refused:
        c.make_request(staff.other_teacher, anna, "nyfiken")
    story.refused_request = refused.value.logged_request_id
    c.record_departure(staff.custodians["holmes"], anna_pnr,
                       reason="moved_within_municipality", to_school_id="kvistberg",
                       date="2018-06-10")
    c.transfer_copy(staff.custodians["holmes"], anna, story.school_copies["Anna Holm"],
                    "kvistberg")
    bo = story.records["Bo Ek"]
    c.record_departure(staff.custodians["holmes"], PEOPLE[0][0],
                       reason="finished_compulsory_school", to_school_id=None,
                       date="2018-06-15")
    story.certificates.append(cull_through_list(rt, staff, bo, story.school_copies["Bo Ek"],
                                                "holmes", witness="Greta"))
    story.certificates.append(c.cull_record(
        arch, story.general, decision="BU 2017/503 § 88", point=1,
        method="deletion").certificate_id)
    c.enter_into_ist(staff.custodians["fryken"], story.records["Dana Fors"], "klart")
    return story
