"""Linking teachers and mentors to their pupils (the admin), one pupil or a whole class
at once, so that their orders are granted; and ending a link.

| URL | for | purpose |
| --- | --- | --- |
| ``GET /personal/kopplingar`` | admin | teachers and mentors, each with their pupils |
| ``POST /personal/kopplingar`` | admin | link one teacher or mentor to personnummer or a class |
| ``POST /personal/kopplingar/{actor}/{record}/slut`` | admin | end one link |

Each link is the same use case as ``POST /api/v1/actors/{id}/assignments``. A class is
found among the captured students (school unit and class as captured from Unikum).

May import the application and the domain.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.deps import get_runtime
from api.web.deps import CSRF, WebUser, personnummer_error
from api.web.rendering import WebRoute, redirect, render, translator
from application.policy import Principal, require_set_up
from application.student_search import find_students, student_labels
from domain.actor import Role
from domain.errors import DomainError, InvalidInputError

router = APIRouter(include_in_schema=False, route_class=WebRoute)
LINKED = (Role.TEACHER.value, Role.MENTOR.value)


def _page(request: Request, principal: Principal, *, errors: dict[str, str] | None = None,
          values: dict[str, str] | None = None, status: int = 200) -> Response:
    require_set_up(principal, doing="assign staff to students")
    queries = get_runtime(request).queries
    staff = [a for a in queries.actors() if a["role"] in LINKED and not a.get("revoked")]
    rows = [{"record_id": r} for a in staff for r in a.get("assignments", [])]
    done = request.query_params.get("klart")
    return render(request, "assignments.html", principal=principal, staff=staff,
                  students=student_labels(queries, principal, rows),
                  schools=queries.schools(), errors=errors or {}, values=values or {},
                  done=done if done in ("assigned", "unassigned") else None,
                  count=request.query_params.get("antal"), status=status,
                  canonical="/personal/kopplingar", title_key="assign.title")


@router.get("/personal/kopplingar")
def assignments(request: Request, principal: WebUser) -> Response:
    return _page(request, principal)


@router.post("/personal/kopplingar", dependencies=CSRF)
def assign(request: Request, principal: WebUser, actor_id: Annotated[str, Form()] = "",
           personnummer: Annotated[str, Form()] = "", school_id: Annotated[str, Form()] = "",
           class_name: Annotated[str, Form()] = "") -> Response:
    require_set_up(principal, doing="assign staff to students")
    rt = get_runtime(request)
    t = translator(request)
    values = {"actor_id": actor_id, "personnummer": personnummer, "school_id": school_id,
              "class_name": class_name}
    numbers = [n for n in re.split(r"[\s,;]+", personnummer) if n]
    errors: dict[str, str] = {}
    try:
        actor = UUID(actor_id)
    except ValueError:
        errors["actor_id"] = t("work.errors.actor")
    if not numbers and not class_name.strip():
        errors["personnummer"] = t("work.errors.personnummer_list")
    if errors:
        return _page(request, principal, errors=errors, values=values, status=422)
    if class_name.strip():
        numbers += [h.personnummer for h in find_students(
            rt.queries, principal, school_id=school_id or None, class_name=class_name)]
    count = 0
    for number in dict.fromkeys(numbers):
        try:
            rt.custody.assign(principal, actor, number)
        except InvalidInputError as error:
            errors["personnummer"] = f"{number}: {personnummer_error(t, error)}"
        except DomainError as error:
            errors["personnummer"] = f"{number}: {t.message(error).text}"
        else:
            count += 1
        if errors:
            return _page(request, principal, errors=errors, values=values,
                         status=422 if count == 0 else 207)
    return redirect(f"/personal/kopplingar?klart=assigned&antal={count}")


@router.post("/personal/kopplingar/{actor_id}/{record_id}/slut", dependencies=CSRF)
def end_assignment(request: Request, actor_id: UUID, record_id: UUID,
                   principal: WebUser) -> Response:
    require_set_up(principal, doing="end assignments")
    rt = get_runtime(request)
    label: Any = student_labels(rt.queries, principal, [{"record_id": str(record_id)}])
    hit = label.get(str(record_id))
    if hit is None:
        return _page(request, principal, status=404)
    rt.custody.end_assignment(principal, actor_id, hit.personnummer)
    return redirect("/personal/kopplingar?klart=unassigned")
